"""Rules and runtime helpers at the edges of their domains, each held against the three oracles
(tests/oracles.py): central differences where they give a finite answer, reverse against forward,
and the compiled path against the Python path.

Each group names the mechanism that was wrong; every test here failed on the code before its fix
(a wrong number, nan where the derivative is finite, or a bare exception from generated code or a
runtime helper). Where the derivative is infinite (sqrt at 0), the test asks for inf on both paths
and in both modes, not an exception.
"""

import math
import warnings
from math import inf

import numpy as np
import pytest
from oracles import failures

import adjoint
from adjoint import runtime

RNG = np.random.default_rng(20240611)


def _normal(*shape):
    return RNG.standard_normal(shape)


def _quiet(fn, *args, **kwargs):
    """fn(*args) without NumPy's warnings about dividing by zero (an honest inf warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def _grads(f, args, wrt, jit):
    return _quiet(adjoint.grad(f, wrt=wrt, jit=jit), *args)


def _tangent(f, args, wrt, tangents, jit):
    return _quiet(adjoint.jvp, f, args, tangents, wrt=wrt, jit=jit)[1]


# --- np.dot batches unlike @ (its adjoint was matmul's: wrong numbers for a b of 3 or more dimensions) --


def dot(a, b):
    return np.dot(a, b)


def dot_method(a, b):
    return a.dot(b)


def dot_squared(a, b):
    return np.sum(np.dot(a, b) ** 2)


def matmul(a, b):
    return a @ b


def np_matmul(a, b):
    return np.matmul(a, b)


# every combination of numbers of dimensions on each side, N-d included (np.dot(a, b)[i, j, k, m] =
# sum(a[i, j, :] * b[k, :, m])); (5, 3) . (5, 3, 4) gave numbers 1.4 off with no error
DOT_SHAPES = [((), ()), ((), (4,)), ((4,), ()), ((), (2, 3, 4)), ((2, 3, 4), ()), ((4,), (4,)), ((3, 4), (4,)),
              ((4,), (4, 2)), ((3, 4), (4, 2)), ((2, 3, 4), (4,)), ((4,), (2, 4, 5)), ((2, 3, 4), (4, 5)),
              ((3, 4), (2, 4, 5)), ((5, 3), (5, 3, 4)), ((2, 3), (2, 3, 2)), ((2, 3, 4), (2, 4, 5)),
              ((2, 2, 3, 4), (3, 4, 2)), ((2, 3), (4, 2, 3, 5))]


def _operand(shape):
    return float(RNG.standard_normal()) if shape == () else _normal(*shape)


@pytest.mark.parametrize("sa, sb", DOT_SHAPES, ids=[f"{a}.{b}" for a, b in DOT_SHAPES])
def test_dot_adjoint_batches_as_np_dot(sa, sb):
    a, b = _operand(sa), _operand(sb)
    assert failures(dot, (a, b), (0, 1), jit=False) == []
    if sa != ():
        assert failures(dot_method, (a, b), (0, 1), jit=False) == []


def test_dot_with_3d_b_gives_np_dots_numbers():
    """The reported case, against the adjoint written out with einsum."""
    a, b = _normal(5, 3), _normal(5, 3, 4)
    g = _normal(5, 5, 4)  # np.dot(a, b)[i, k, m] = sum_j a[i, j] * b[k, j, m]
    _, pullback = adjoint.vjp(dot, a, b, wrt=(0, 1), jit=False)
    a_bar, b_bar = pullback(g)
    np.testing.assert_allclose(a_bar, np.einsum("ikm,kjm->ij", g, b), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b_bar, np.einsum("ikm,ij->kjm", g, a), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sa, sb", [((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)), ((4,), (4,))])
def test_dot_compiled_for_vectors_and_matrices(sa, sb):
    a, b = _operand(sa), _operand(sb)
    assert failures(dot_squared, (a, b), (0, 1), jit=True) == []


def test_dot_of_3d_operands_under_numba_is_refused_clearly():
    """Numba's np.dot takes vectors and matrices only: jit=True refuses, jit=None runs Python."""
    a, b = _normal(3, 4), _normal(2, 4, 5)
    with pytest.raises(adjoint.AdjointError):
        adjoint.grad(dot_squared, wrt=(0, 1), jit=True)(a, b)
    with pytest.warns(UserWarning, match="as Python"):
        ga, gb = adjoint.grad(dot_squared, wrt=(0, 1), jit=None)(a, b)
    expected = adjoint.grad(dot_squared, wrt=(0, 1), jit=False)(a, b)
    np.testing.assert_allclose(ga, expected[0], rtol=1e-12)
    np.testing.assert_allclose(gb, expected[1], rtol=1e-12)


def test_hessian_through_dot_with_3d_b():
    """Forward mode over the adjoint: dot_left and dot_right have tangents of their own."""
    B = _normal(2, 4, 3)
    a = _normal(3, 4)

    H = adjoint.hessian(dot_squared_a, jit=False)(a, B)
    numeric = adjoint.numerical_jacobian(lambda x: adjoint.grad(dot_squared_a, jit=False)(x, B), a)
    np.testing.assert_allclose(H, numeric, rtol=1e-5, atol=1e-6)


def dot_squared_a(a, B):
    return np.sum(np.dot(a, B) ** 2)


MATMUL_SHAPES = [((2, 3, 4), (4,)), ((4,), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)),
                 ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((1, 3, 4), (2, 4, 2))]


@pytest.mark.parametrize("sa, sb", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_batches_and_broadcasts(sa, sb):
    a, b = _normal(*sa), _normal(*sb)
    assert failures(matmul, (a, b), (0, 1), jit=False) == []
    assert failures(np_matmul, (a, b), (0, 1), jit=False) == []


# --- empty operands of @, np.dot and np.outer (`cannot reshape array of size 0`) -------------------


def csr_matvec(data, indices, indptr, x):
    n = indptr.shape[0] - 1
    y = np.zeros(n)
    for i in range(n):
        vals = data[indptr[i]:indptr[i + 1]]
        cols = indices[indptr[i]:indptr[i + 1]]
        y[i] = vals @ x[cols]
    return np.sum(y * y)


def csr_dot(data, indices, indptr, x):
    n = indptr.shape[0] - 1
    y = np.zeros(n)
    for i in range(n):
        vals = data[indptr[i]:indptr[i + 1]]
        cols = indices[indptr[i]:indptr[i + 1]]
        y[i] = np.dot(vals, x[cols])
    return np.sum(y * y)


CSR = (np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 2, 1, 2]), np.array([0, 2, 2, 4]), np.array([0.5, -1.0, 2.0]))


@pytest.mark.parametrize("fn", [csr_matvec, csr_dot])
def test_sparse_matrix_vector_product_with_an_empty_row(fn):
    assert failures(fn, CSR, (0, 3), jit=True) == []


EMPTY = [((0,), (0,)), ((0, 3), (3,)), ((3, 0), (0,)), ((2, 0), (0, 3)), ((0, 2), (2, 0)), ((0,), (0, 2)),
         ((2, 3), (3, 0)), ((0, 3), (3, 2))]


def _empty_helpers():
    import numba

    def jitted(helper):
        return numba.njit(lambda g, a, b: helper(g, a, b))

    names = ("matmul_left", "matmul_right", "dot_left", "dot_right")
    return [(n, getattr(runtime, n)) for n in names] + [(n + "-jit", jitted(getattr(runtime, n))) for n in names]


@pytest.mark.parametrize("sa, sb", EMPTY, ids=[f"{a}{b}" for a, b in EMPTY])
def test_product_helpers_take_empty_operands(sa, sb):
    """Every product helper, as Python and compiled: an empty operand gives a zero (or empty) adjoint."""
    a, b = np.ones(sa), np.ones(sb)
    out = a @ b
    g = np.ones(out.shape) if np.ndim(out) else 1.0
    for name, helper in _empty_helpers():
        result = helper(g, a, b)
        shape = sa if "left" in name else sb
        assert np.shape(result) == shape, name
        assert not np.any(result), name


@pytest.mark.parametrize("sa, sb", [((0,), (3,)), ((2,), (0,)), ((0,), (0,))])
def test_outer_helpers_take_empty_operands(sa, sb):
    import numba

    a, b, g = np.ones(sa), np.ones(sb), np.ones(sa + sb)
    for helper in (runtime.outer_left, runtime.outer_right):
        compiled = numba.njit(lambda g, a, b, helper=helper: helper(g, a, b))
        for run in (helper, compiled):
            result = run(g, a, b)
            assert result.shape == (sa if helper is runtime.outer_left else sb) and not np.any(result)


def outer_sum(a, b):
    return np.sum(np.outer(a, b) ** 2)


def test_outer_of_a_number():
    assert failures(outer_sum, (1.5, _normal(3)), (0, 1), jit=False) == []
    assert failures(outer_sum, (_normal(3), -0.5), (0, 1), jit=False) == []


def empty_dot(a, b):
    return np.dot(a, b) * 2.0


@pytest.mark.parametrize("sa, sb", EMPTY, ids=[f"{a}{b}" for a, b in EMPTY])
def test_empty_products_in_generated_code(sa, sb):
    """The products' adjoints where nothing tells the shapes in advance (an argument of any kind)."""
    a, b = np.ones(sa), np.ones(sb)
    _, pullback = adjoint.vjp(empty_dot, a, b, wrt=(0, 1), jit=False)
    out = np.dot(a, b)
    a_bar, b_bar = pullback(np.ones(np.shape(out)) if np.ndim(out) else 1.0)
    assert a_bar.shape == sa and b_bar.shape == sb and not np.any(a_bar) and not np.any(b_bar)


# --- reductions of a number or a 0-d array (`'float' object has no attribute 'size'`) ----------------


def var_of(x):
    return np.var(x * 2.0)


def std_of(x):
    return np.std(x) + x


def cumsum_of(x):
    return np.sum(np.cumsum(x) * 3.0)


def mean_of(x):
    return np.mean(x) * x


def std_plus(x):
    return np.std(x) + np.sum(x)


def std_rows(A):
    return np.sum(np.std(A, axis=1))


def mean_of_empty(x):
    return np.sum(np.mean(x) * np.ones(2)) + np.sum(x)


@pytest.mark.parametrize("fn", [var_of, std_of, cumsum_of, mean_of])
def test_reductions_of_a_float(fn):
    assert failures(fn, (1.5,), 0, jit=False) == []


@pytest.mark.parametrize("fn", [std_of, mean_of])
def test_reductions_of_a_float_compiled(fn):
    assert failures(fn, (1.5,), 0, jit=True) == []


def test_var_of_a_float_under_numba_is_refused_clearly():
    """Numba has no np.var of a number: the primal does not compile, and jit=True says so."""
    with pytest.raises(adjoint.AdjointError):
        adjoint.grad(var_of, jit=True)(1.5)


@pytest.mark.parametrize("helper, args", [
    ("unsum", (2.0, 1.5, None)), ("unmean", (2.0, 1.5, None)), ("unvar", (2.0, 1.5, None, 0)),
    ("unstd", (2.0, 1.5, 0.0, None, 0)), ("unmax", (2.0, 1.5, 1.5, None)), ("unprod", (2.0, 1.5, None)),
    ("uncumsum", (2.0, 1.5, None)), ("uncumsum", (np.array([2.0]), 1.5, None))])
def test_reduction_helpers_take_a_number_on_both_paths(helper, args):
    import numba

    fn = getattr(runtime, helper)
    compiled = numba.njit(lambda *a: fn(*a))
    for run in (fn, compiled):
        result = run(*args)
        assert np.ndim(result) == 0 and np.isfinite(result), (helper, run)


def test_std_of_equal_entries_has_a_zero_derivative():
    """np.std where all entries are equal (or there is one): a kink like abs at 0, whose central
    differences give 0; the adjoint divided by the standard deviation, 0, and gave nan."""
    assert failures(std_plus, (np.full(4, 0.3),), 0, jit=True) == []
    assert failures(std_plus, (np.array([0.3]),), 0, jit=False) == []
    rows = _normal(3, 4)
    rows[1] = 0.7
    assert failures(std_rows, (rows,), 0, jit=False) == []


def std_and_square(x):
    return np.std(x) + x * x


def test_second_derivative_of_the_std_of_a_float():
    """The standard deviation of a number is the constant 0: its Hessian adds nothing (the tangent
    of unstd divides by the standard deviation, 0: no ZeroDivisionError, no nan)."""
    assert adjoint.hessian(std_and_square, jit=False)(1.5) == 2.0


def test_mean_of_an_empty_array():
    g = _quiet(adjoint.grad(mean_of_empty, jit=False), np.zeros(0))
    assert g.shape == (0,)
    g = _quiet(runtime.unmean, 1.0, np.zeros((0, 3)), None)
    assert g.shape == (0, 3)


# --- a ** b where b == 0 or a == 0 -------------------------------------------------------------------


def power(a, b):
    return a ** b


def np_power(a, b):
    return np.power(a, b)


def math_pow(a, b):
    return math.pow(a, b)


def to_the_zero(x):
    return x ** 0.0 + x


def square(x):
    return x ** 2


def root(x):
    return x ** 0.5


def inverse(x):
    return x ** -1


def two_to_the(x):
    return 2.0 ** x


def zero_to_the(y):
    return 0.0 ** y


def power_sum(a, b):
    return np.sum(a ** b)


def strided_power_sum(a, b):
    return np.sum(a[::2] ** b)


def cube_root_sum(x):
    return np.sum(x ** (1.0 / 3.0))


# (a, b, wrt): the derivative is finite and central differences give it
POW_POINTS = [(0.0, 0.0, 0), (0.0, 2.0, (0, 1)), (0.0, 1.0, (0, 1)), (0.0, 3.0, (0, 1)), (2.0, 0.0, (0, 1)),
              (-2.0, 3.0, 0), (-2.0, 2.0, 0), (-1.5, 0.0, 0), (1.5, 0.7, (0, 1)), (0.5, -2.0, (0, 1))]


@pytest.mark.parametrize("fn", [power, np_power, math_pow])
@pytest.mark.parametrize("a, b, wrt", POW_POINTS, ids=[f"{a}**{b}" for a, b, _ in POW_POINTS])
def test_power_at_zero_base_or_exponent(fn, a, b, wrt):
    assert failures(fn, (a, b), wrt, jit=False) == []


@pytest.mark.parametrize("fn", [power, math_pow])
def test_power_at_zero_compiled(fn):
    assert failures(fn, (0.0, 0.0), 0, jit=True) == []
    assert failures(fn, (0.0, 2.0), (0, 1), jit=True) == []


@pytest.mark.parametrize("fn, x", [(to_the_zero, 0.0), (square, 0.0), (square, -1.5), (two_to_the, 0.0),
                                   (two_to_the, -1.5), (zero_to_the, 2.0), (zero_to_the, 0.5), (inverse, -0.5)])
def test_power_with_a_constant(fn, x):
    assert failures(fn, (x,), 0, jit=True) == []


def test_power_of_arrays_at_zeros():
    a = np.array([0.0, -2.0, 1.5, 0.0, 0.0])
    b = np.array([0.0, 3.0, 0.5, 2.0, 1.0])
    assert failures(power_sum, (a, b), 0, jit=True) == []
    ok = a >= 0  # d/db of a negative base has no real value (nan, as central differences give)
    assert failures(power_sum, (a[ok], b[ok]), (0, 1), jit=True) == []
    assert failures(power_sum, (a, 0.0), 0, jit=True) == []
    assert failures(power_sum, (a, 2.0), 0, jit=True) == []
    assert failures(power_sum, (0.0, np.array([0.5, 2.0, 3.0])), (0, 1), jit=True) == []
    assert failures(strided_power_sum, (np.array([0.0, 5.0, 1.5, 5.0, 0.0]), 0.0), 0, jit=True) == []
    assert failures(strided_power_sum, (np.array([0.0, 5.0, 1.5, 5.0, 2.0]), 3.0), (0, 1), jit=True) == []


@pytest.mark.parametrize("jit", [False, True])
def test_infinite_derivatives_of_powers_are_inf(jit):
    """x ** 0.5 at 0 (and x ** -1 for an array, whose value is inf there too): an honest inf, sign
    included, on both paths and in both modes, not ZeroDivisionError."""
    assert _grads(root, (0.0,), 0, jit) == inf
    assert _tangent(root, (0.0,), 0, 1.0, jit) == inf
    assert _grads(power, (0.0, 0.5), 0, jit) == inf
    g = _quiet(adjoint.grad(power_sum, jit=jit), np.array([0.0, 4.0]), 0.5)
    assert g[0] == inf and g[1] == 0.25
    g = _quiet(adjoint.grad(power_sum, jit=jit), np.array([0.0, -0.0, 2.0]), -1.0)
    assert g[0] == -inf and g[1] == -inf and g[2] == -0.25


def _text(fn, args, wrt=("x",), mode="reverse"):
    from adjoint.arguments import bind
    from adjoint.backend.dispatch import derivative

    return derivative(fn, wrt, False, True, bind(fn, wrt, args, {})[1], mode).text


def test_constant_exponents_keep_their_plain_adjoint():
    """pow_base(x, c) is x for a constant c >= 1 (or an array x): the adjoint reads as before."""
    text = _text(square, (1.5,))
    assert "pow_base" not in text and "out_bar * 2 * x" in text
    assert "pow_base" not in _text(cube_root_sum, (np.ones(3),))
    assert "pow_base(x, 0.5)" in _text(root, (1.5,))  # (a number: 0.0 ** -0.5 would raise)


def power_of_both(x, y):
    return x ** y


def _hessian_by_differences(fn, args):
    """d grad / d args by central differences of adjoint's gradient, for number arguments."""
    wrt = tuple(range(len(args)))
    grad = adjoint.grad(fn, wrt=wrt, jit=False)  # (a tuple of gradients, also for one argument)
    rows = []
    for k in wrt:
        h = 1e-6 * max(1.0, abs(args[k]))
        up, down = list(args), list(args)
        up[k] += h
        down[k] -= h
        rows.append((np.array(grad(*up)) - np.array(grad(*down))) / (2 * h))
    return np.array(rows).T


@pytest.mark.parametrize("fn, args", [(root, (1.7,)), (inverse, (0.8,)), (power_of_both, (1.3, 0.7)),
                                      (power_of_both, (2.0, 0.0)),
                                      (to_the_zero, (0.9,)), (to_the_zero, (0.0,)), (two_to_the, (0.4,))])
def test_second_derivatives_of_powers(fn, args):
    """Hessians run forward mode over the adjoint, through pow_base and log_base."""
    wrt = tuple(range(len(args))) if len(args) > 1 else 0
    H = adjoint.hessian(fn, wrt=wrt, jit=False)(*args)
    H = np.array([[H]] if len(args) == 1 else H, dtype=float)
    np.testing.assert_allclose(H, _hessian_by_differences(fn, args), rtol=1e-5, atol=1e-6)


# --- module-level infinities and NaNs (emitted as the bare names `inf` and `nan`) --------------------

BIG = float("inf")
NEG = -math.inf
MISSING = float("nan")
NP_NAN = np.nan
LIMITS = (-math.inf, math.inf)


def capped(x):
    return min(x, inf) * 2.0 + min(x, BIG)


def floored(x):
    return max(x, NEG) * 3.0


def checked(x):
    y = x * 2.0
    if y != MISSING:
        y = y + 1.0
    return y


def np_checked(x):
    y = x * 2.0
    if NP_NAN == NP_NAN:  # noqa: PLR0124 -- False: a NaN read as a global
        y = y + 10.0
    return y * y


def in_limits(x):
    return np.sum(np.clip(x, LIMITS[0], LIMITS[1]) ** 2)


def inline_inf(x):
    return np.sum(np.minimum(x, np.inf) * 2.0)


@pytest.mark.parametrize("fn, arg", [(capped, 1.5), (floored, 1.5), (checked, 1.5), (np_checked, 0.5),
                                     (in_limits, np.array([0.5, -2.0])), (inline_inf, np.array([0.5, -2.0]))])
def test_module_level_infinities_and_nans(fn, arg):
    assert failures(fn, (arg,), 0, jit=True) == []


# --- divisions in adjoints at points where the primal is fine: inf or the derivative, never an exception --


def math_sqrt(x):
    return math.sqrt(x)


def np_sqrt(x):
    return np.sqrt(x)


def np_log(x):
    return np.log(x)


def math_asin(x):
    return math.asin(x)


def np_divide(a, b):
    return np.divide(a, b)


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("fn, x", [(math_sqrt, 0.0), (np_sqrt, 0.0), (np_log, 0.0), (math_asin, 1.0)])
def test_infinite_derivatives_are_inf_not_an_exception(fn, x, jit):
    assert _grads(fn, (x,), 0, jit) == inf
    assert _tangent(fn, (x,), 0, 1.0, jit) == inf


@pytest.mark.parametrize("jit", [False, True])
def test_derivatives_of_a_division_by_zero(jit):
    ga, gb = _grads(np_divide, (1.0, 0.0), (0, 1), jit)
    assert ga == inf and gb == -inf


# --- norms at 0: a cone's tip, like abs at 0 (nan before; 0 is what central differences give) ------


def norm(x):
    return np.linalg.norm(x)


def norm_plus(x):
    return np.linalg.norm(x) * 3.0 + np.sum(x)


def hypot(x, y):
    return np.sum(np.hypot(x, y))


def math_hypot(x, y):
    return math.hypot(x, y) + x


@pytest.mark.parametrize("fn, args, wrt", [
    (norm_plus, (np.zeros(3),), 0), (norm_plus, (np.zeros((2, 2)),), 0), (norm, (np.zeros(0),), 0),
    (hypot, (np.zeros(3), np.array([0.0, 1.0, -2.0])), (0, 1)), (math_hypot, (0.0, 0.0), (0, 1))])
def test_norms_at_zero(fn, args, wrt):
    assert failures(fn, args, wrt, jit=True) == []


def test_second_derivatives_of_a_norm():
    x = np.array([0.3, -1.2, 0.5])
    H = adjoint.hessian(norm, jit=False)(x)
    r = np.linalg.norm(x)
    np.testing.assert_allclose(H, (np.eye(3) - np.outer(x, x) / r ** 2) / r, rtol=1e-10)


# --- ties of max and min, and clip at its bounds: the derivative is shared, as central differences ---


def maximum(a, b):
    return np.sum(np.maximum(a, b) ** 2)


def minimum(a, b):
    return np.sum(np.minimum(a, b) ** 2)


def builtin_max(a, b):
    return max(a, b) * 3.0


def builtin_min(a, b):
    return min(a, b) * 3.0


def clip(a, lo, hi):
    return np.sum(np.clip(a, lo, hi) * np.array([1.0, 2.0, 3.0]))


TIED = (np.array([1.0, 2.0, -1.0]), np.array([1.0, 3.0, -1.0]))


@pytest.mark.parametrize("fn, args, wrt", [(maximum, TIED, (0, 1)), (minimum, TIED, (0, 1)),
                                           (builtin_max, (1.0, 1.0), (0, 1)), (builtin_min, (-2.0, -2.0), (0, 1)),
                                           (clip, (np.array([-0.5, 0.0, 0.5]), -0.5, 0.5), (0, 1, 2))])
def test_ties_share_the_derivative(fn, args, wrt):
    assert failures(fn, args, wrt, jit=True) == []


# --- reductions with negative and tuple axes, and 0-d arrays ----------------------------------------------


def var_axes(x):
    return np.sum(np.var(x, axis=(0, -1)))


def std_last(x):
    return np.sum(np.std(x, axis=-1))


def max_axes(x):
    return np.sum(np.max(x, axis=(0, 2)) ** 2)


def prod_last(x):
    return np.sum(np.prod(x, axis=-1))


def cumsum_last(x):
    return np.sum(np.cumsum(x, axis=-1) ** 2)


def mean_axes(x):
    return np.sum(np.mean(x, axis=(-1, 0)) ** 2)


@pytest.mark.parametrize("fn", [var_axes, std_last, max_axes, prod_last, cumsum_last, mean_axes])
def test_reductions_over_negative_and_tuple_axes(fn):
    x = np.sin(np.arange(24.0) * 1.3).reshape(2, 3, 4)
    assert failures(fn, (x,), 0, jit=False) == []


@pytest.mark.parametrize("fn", [var_of, std_of, cumsum_of, mean_of])
def test_reductions_of_a_0d_array(fn):
    g = adjoint.grad(fn, jit=False)(np.array(1.5))
    numeric = adjoint.numerical_jacobian(fn, np.array(1.5))
    assert np.allclose(g, numeric, atol=1e-6)


def _sinc_sum(x):
    return np.sum(np.sinc(x) * x)


def _sinc_scalar(x):
    return np.sinc(x) * 3.0


def test_sinc_derivative_at_and_near_zero_is_finite_and_right():
    """np.sinc's derivative (cos(pi x) - sinc(x)) / x is 0/0 at 0 and cancels near it: sinc_slope
    gives 0 at 0 and the series near it, on both paths, for arrays and floats."""
    x = np.array([0.0, 1e-9, -3e-5, 2e-4, 0.4, -1.3])
    exact = np.sinc(x) + x * np.array([0.0] + [(math.cos(math.pi * v) - math.sin(math.pi * v) / (math.pi * v)) / v
                                               for v in x[1:]])
    exact[1] = 1.0 + 1e-9 * (-math.pi ** 2 / 3 * 1e-9)  # (the closed form cancels to nothing at 1e-9)
    for jit in (False, True):
        assert np.allclose(adjoint.grad(_sinc_sum, jit=jit)(x), exact, rtol=1e-9, atol=1e-15)
        assert adjoint.grad(_sinc_scalar, jit=jit)(0.0) == 0.0
        assert np.isclose(adjoint.grad(_sinc_scalar, jit=jit)(1e-7), 3.0 * -math.pi ** 2 / 3 * 1e-7, rtol=1e-9)
    assert failures(_sinc_sum, (x,)) == []



# --- linear algebra where a derivative does not exist: a ValueError, never noise ---------------------

def eigenvalue_sum(a):
    return np.sum(np.linalg.eigvalsh(a))


def eigenvalues_weighed(a):
    return np.sum(np.linalg.eigvalsh(a) * np.arange(3.0))


def eigenvectors_used(a):
    return np.sum(np.abs(np.linalg.eigh(a)[1]) * np.arange(3.0))


def nuclear(a):
    return np.sum(np.linalg.svd(a, compute_uv=False))


def largest_singular_value(a):
    return np.linalg.svd(a, compute_uv=False)[0]


def qr_used(a):
    q, r = np.linalg.qr(a)
    return np.sum(q * q * 0.5) + np.sum(r)


def least_squares(a, b):
    return np.sum(np.linalg.lstsq(a, b, rcond=-1)[0] ** 2)


def _repeated_spectrum():
    """Q diag(1, 1, 2) Q^T: an eigenvalue that repeats, which LAPACK computes a few roundings apart."""
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))[0]
    return q @ np.diag([1.0, 1.0, 2.0]) @ q.T


@pytest.mark.parametrize("jit", [False, True])
def test_repeated_eigenvalues_weighed_alike_have_a_derivative(jit):
    a = _repeated_spectrum()
    assert np.allclose(adjoint.grad(eigenvalue_sum, jit=jit)(a), np.eye(3))  # (the trace's)
    assert np.allclose(adjoint.grad(nuclear, jit=jit)(2.0 * np.eye(3)), np.eye(3))


@pytest.mark.parametrize("fn, match", [(eigenvalues_weighed, "weighs them differently"),
                                       (eigenvectors_used, "eigenvectors have no derivative"),
                                       (largest_singular_value, "weighs them differently")])
@pytest.mark.parametrize("jit", [False, True])
def test_repeated_eigenvalues_weighed_differently_are_refused(fn, match, jit):
    a = _repeated_spectrum() if fn is not largest_singular_value else np.diag([2.0, 2.0, 1.0])
    with pytest.raises(ValueError, match=match):
        adjoint.grad(fn, jit=jit)(a)


def test_repeated_eigenvalues_have_no_tangent():
    with pytest.raises(ValueError, match="forward mode"):
        adjoint.jvp(eigenvalue_sum, (_repeated_spectrum(),), np.ones((3, 3)), jit=False)


def test_rank_deficient_qr_and_lstsq_are_refused():
    """On the Python path (the checks are runtime helpers, the same under Numba, whose compile of these
    two costs the suite 20 s)."""
    a = np.random.default_rng(1).standard_normal((5, 4))
    a[:, 3] = a[:, 0] + 2.0 * a[:, 1]  # (R's last pivot comes out about 1e-15, not 0)
    with pytest.raises(ValueError, match="full rank"):
        adjoint.grad(qr_used, jit=False)(a)
    with pytest.raises(ValueError, match="full rank"):
        adjoint.grad(least_squares, wrt=(0, 1), jit=False)(a, np.ones(5))


def spread_kept(x, y):
    return np.sum((np.var(x, axis=(0, 1), keepdims=True) + y)[0]) + np.sum(np.std(x, ddof=1, keepdims=True))


def vector_spread_kept(x):
    return np.sum(np.std(x, axis=0, ddof=1, keepdims=True) * x) + np.var(x, axis=(-1,), ddof=2)


def mean_kept(x, y):
    return np.sum(np.mean(x, axis=(0, 1), keepdims=True) * y) + np.sum(np.max(x, axis=(1, 0), keepdims=True))


@pytest.mark.parametrize("fn, args", [(spread_kept, (np.sin(np.arange(12.0)).reshape(3, 4), np.cos(np.arange(3.0)))),
                                      (vector_spread_kept, (np.sin(np.arange(5.0)),)),
                                      (mean_kept, (np.sin(np.arange(12.0)).reshape(3, 4), np.cos(np.arange(3.0))))])
def test_reductions_over_all_axes_keep_them(fn, args):
    """keepdims=True with axes that are all of them: an array of ones' shape (the number, before), on
    both paths (np.expand_dims of a number does not compile under Numba)."""
    wrt = tuple(range(len(args)))
    assert failures(fn, args, wrt if len(wrt) > 1 else 0, jit=True) == []


def _compiled(helper, n):
    import numba

    from adjoint.backend import jit as _  # noqa: F401 -- registers the Numba implementations
    args = ", ".join(f"a{k}" for k in range(n))
    namespace = {"helper": helper}
    exec(f"def call({args}):\n    return helper({args})\n", namespace)
    return numba.njit(namespace["call"])


def test_times_under_numba_is_times_as_python_for_every_broadcast():
    """Numba's times is the product with its nan entries put right by a loop (np.where with broadcasting
    took it seconds to compile): 0 where g is 0, whatever d is there, in every broadcast of g and d."""
    compiled = _compiled(runtime.times, 2)
    g2 = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, -1.0]])
    d1 = np.array([np.inf, 2.0, np.nan])
    d2 = np.array([[np.inf, -2.0, 3.0], [np.nan, -np.inf, 1.0]])
    g1 = np.array([0.0, 1.0, 0.0])
    for g, d in ((g2, d2), (g2, d1), (g1, d2), (d2, g1), (0.0, d2), (2.0, d2), (g2, 0.0), (g2, np.inf), (g1, 3.0)):
        expected = runtime.times(g, d)
        got = compiled(g, d)
        assert got.shape == expected.shape and np.array_equal(got, expected, equal_nan=True), (g, d, got, expected)
    assert compiled(0.0, np.inf) == 0.0 and compiled(2.0, 3.0) == 6.0


def test_unmax_over_an_axis_shares_among_ties_as_unmax():
    compiled = _compiled(runtime.unmax_axis, 4)
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 5.0], [4.0, 4.0, 1.0]])
    a3 = np.random.default_rng(0).integers(0, 3, (3, 4, 5)).astype(float)
    for x in (a, a3):
        for axis in range(-x.ndim, x.ndim):
            out = x.max(axis=axis)
            g = np.arange(1.0, out.size + 1).reshape(out.shape)
            expected = runtime.unmax(g, x, out, axis)
            np.testing.assert_allclose(runtime.unmax_axis(g, x, out, axis), expected, rtol=1e-15, atol=0)
            np.testing.assert_allclose(compiled(g, x, out, axis), expected, rtol=1e-15, atol=0)


def log_softmax_rows(W, X):
    z = X @ W
    z = z - np.max(z, axis=1, keepdims=True)
    return np.sum(z - np.log(np.sum(np.exp(z), axis=1, keepdims=True)))


def test_a_reduction_that_keeps_its_axis_keeps_its_kind():
    """np.expand_dims (a reduction's keepdims) gives the kind of its result: the code after it is written
    for matrices (sum_axis, unsum_to, unmax_axis: loops under Numba) instead of for any kind (np.sum with an
    axis, its checks and their messages, unbroadcast: a softmax's adjoint took Numba 26 s to compile, 21 s now)."""
    rng = np.random.default_rng(0)
    W, X = rng.normal(size=(4, 3)), rng.normal(size=(6, 4))
    text = adjoint.source(log_softmax_rows, W, X)
    code = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
    assert "sum_axis(" in code and "unmax_axis(" in code and "unbroadcast(" not in code and "axis=" not in code, text
    for jit in (False, True):
        assert not failures(log_softmax_rows, (W, X), jit=jit)
