"""What arguments adjoint takes, and what it refuses with an ArgumentError (never a wrong number and
never a bare exception): ndarray subclasses anywhere, non-float and complex inputs, complex outputs;
float32 and float16 inputs get gradients of their own dtype; the checker and the CLI refuse bad
argument kinds with a message."""

import numpy as np
import pytest

import adjoint
from adjoint import cli

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning",  # (np.matrix)
                                       "ignore:adjoint. running the derivative:UserWarning")

JITS = [False, True]

M = np.matrix([[1.0, 2.0], [3.0, 4.0]])


def total(x):
    return np.sum(x * x)


def scaled(x, m):
    return np.sum(m * x)


def times_two(x):
    return x * 2.0


def rotated(x):
    return x * 1j


def phase(x):
    return np.sum(np.exp(1j * x))


def modulus(x):
    return np.sum(np.abs(x * (1.0 + 2.0j)))  # (a real output, through complex numbers)


def poly(x, a):
    return np.sum(a * x ** 3)


def picked(x, i):
    return x[i] * 2.0


def listed(x, ms):
    return np.sum(ms[0] * x)


def reads_module_matrix(x):
    return np.sum(M * x)


class Tagged(np.ndarray):
    pass


# --- ndarray subclasses ------------------------------------------------------------------------

SUBCLASSES = [np.matrix([[1.0, 2.0], [3.0, 4.0]]), np.ma.array([1.0, 2.0], mask=[False, True]),
              np.arange(3.0).view(Tagged)]


@pytest.mark.parametrize("jit", JITS)
@pytest.mark.parametrize("x", SUBCLASSES, ids=["matrix", "masked", "subclass"])
def test_an_ndarray_subclass_input_is_refused(x, jit):
    for call in (lambda: adjoint.grad(total, jit=jit)(x), lambda: adjoint.vjp(total, x, jit=jit),
                 lambda: adjoint.jvp(total, (x,), np.ones(x.shape), jit=jit),
                 lambda: adjoint.hessian(total, jit=jit)(x), lambda: adjoint.jacobian(total, jit=jit)(x),
                 lambda: adjoint.check_grad(total, x, jit=jit), lambda: adjoint.numerical_jacobian(total, x)):
        with pytest.raises(adjoint.ArgumentError, match=r"subclass of numpy.ndarray.*np.asarray\(x\)"):
            call()


@pytest.mark.parametrize("jit", JITS)
def test_an_ndarray_subclass_that_is_not_differentiated_is_refused(jit):
    x = np.ones((2, 2))
    with pytest.raises(adjoint.ArgumentError, match=r"`m` of scaled is a numpy.matrix.*np.asarray\(m\)"):
        adjoint.grad(scaled, jit=jit)(x, np.matrix([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(adjoint.ArgumentError, match="MaskedArray"):
        adjoint.grad(scaled, jit=jit)(x, np.ma.array(np.ones((2, 2)), mask=np.eye(2)))
    with pytest.raises(adjoint.ArgumentError, match="numpy.matrix"):
        adjoint.grad(listed, jit=jit)(x, [np.matrix([[1.0, 2.0], [3.0, 4.0]])])
    # plain arrays: the matrix product a user meant is `@`, the element product `*`
    np.testing.assert_allclose(adjoint.grad(scaled, jit=jit)(x, np.asarray(M)), np.asarray(M))


@pytest.mark.parametrize("jit", [False, None])
def test_a_module_level_ndarray_subclass_is_refused(jit):
    with pytest.raises(adjoint.AdjointError, match=r"module-level `M`, a numpy.matrix.*np.asarray\(M\)"):
        adjoint.value_and_grad(reads_module_matrix, jit=jit)(np.ones((2, 2)))


def test_an_ndarray_subclass_seed_is_refused():
    out, pullback = adjoint.vjp(scaled, np.ones((2, 2)), np.ones((2, 2)), jit=False)
    with pytest.raises(adjoint.ArgumentError, match="subclass"):
        pullback(np.matrix(1.0))
    with pytest.raises(adjoint.ArgumentError, match="subclass"):
        adjoint.jvp(times_two, (np.ones((2, 2)),), np.matrix(np.ones((2, 2))), jit=False)


# --- complex inputs and outputs ----------------------------------------------------------------

@pytest.mark.parametrize("x", [np.array([1j, 2.0]), np.array([1.0, 2.0], dtype=np.complex64), 1j,
                               np.complex128(1 + 1j)], ids=["array", "complex64", "complex", "np.complex128"])
def test_a_complex_input_is_refused(x):
    with pytest.raises(adjoint.ArgumentError, match="real"):
        adjoint.grad(total, jit=False)(x)
    with pytest.raises(adjoint.ArgumentError, match="real"):
        adjoint.jvp(times_two, (x,), x, jit=False)


@pytest.mark.parametrize("jit", [False, None])
def test_a_complex_output_is_refused(jit):
    for call in (lambda: adjoint.grad(rotated, jit=jit)(2.0),
                 lambda: adjoint.value_and_grad(phase, jit=jit)(np.ones(3)),
                 lambda: adjoint.vjp(rotated, 2.0, jit=jit), lambda: adjoint.vjp(phase, np.ones(3), jit=jit),
                 lambda: adjoint.jvp(rotated, (2.0,), 1.0, jit=jit), lambda: adjoint.jacobian(rotated, jit=jit)(2.0)):
        with pytest.raises(adjoint.ArgumentError, match="complex"):
            call()


def test_a_complex_derivative_of_a_real_output_is_refused():
    with pytest.raises(adjoint.AdjointError, match="came out complex"):  # (a NameError before)
        adjoint.grad(modulus, jit=False)(np.ones(3))


def test_the_checker_refuses_a_complex_function():
    with pytest.raises(adjoint.ArgumentError, match="complex"):
        adjoint.numerical_jacobian(rotated, 2.0)
    with pytest.raises(adjoint.ArgumentError, match="complex"):
        adjoint.check_grad(rotated, 2.0)


# --- integer and other inputs ------------------------------------------------------------------

@pytest.mark.parametrize("jit", JITS)
def test_ints_that_are_not_differentiated_are_indices(jit):
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(adjoint.grad(picked, jit=jit)(x, 1), [0.0, 2.0, 0.0])
    np.testing.assert_allclose(adjoint.grad(picked, jit=jit)(x, np.int64(2)), [0.0, 0.0, 2.0])
    with pytest.raises(adjoint.ArgumentError, match="int"):
        adjoint.grad(total, jit=jit)(np.array([1, 2]))
    with pytest.raises(adjoint.ArgumentError, match="bool"):
        adjoint.grad(total, jit=jit)(np.array([True, False]))


def test_a_longdouble_input_is_refused_not_rounded():
    with pytest.raises(adjoint.ArgumentError, match="float64"):
        adjoint.grad(total, jit=False)(np.ones(2, dtype=np.longdouble))


# --- float32 and float16 ------------------------------------------------------------------------

@pytest.mark.parametrize("jit", JITS)
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_a_gradient_has_its_arguments_dtype(dtype, jit):
    x = np.array([0.5, -1.25, 2.0], dtype=dtype)
    a = np.array([1.0, 2.0, 3.0], dtype=dtype)
    before = x.copy()
    g = adjoint.grad(poly, jit=jit)(x, a)
    assert type(g) is np.ndarray and g.dtype == dtype
    want = 3 * a.astype(np.float64) * x.astype(np.float64) ** 2
    np.testing.assert_allclose(g, want.astype(dtype), rtol=1e-3 if dtype == np.float16 else 1e-6)
    ga, gx = adjoint.grad(poly, wrt=("a", "x"), jit=jit)(x, a)
    assert ga.dtype == dtype and gx.dtype == dtype
    np.testing.assert_array_equal(x, before)  # the caller's array is not written into


@pytest.mark.parametrize("jit", JITS)
def test_a_scalar_gradient_has_its_arguments_type(jit):
    for x, kind in [(2.0, float), (np.float32(2.0), np.float32), (np.float64(2.0), np.float64),
                    (np.float16(2.0), np.float16)]:
        value, g = adjoint.value_and_grad(times_two, jit=jit)(x)
        assert type(g) is kind and g == 2.0 and value == 4.0
    g = adjoint.grad(total, jit=jit)(np.array(2.0, dtype=np.float32))  # a 0-d array: a 0-d array
    assert type(g) is np.ndarray and g.shape == () and g.dtype == np.float32 and g == 4.0


@pytest.mark.parametrize("jit", JITS)
def test_vjp_jvp_and_hvp_keep_the_dtype(jit):
    x = np.array([0.5, -1.25, 2.0], dtype=np.float32)
    out, pullback = adjoint.vjp(times_two, x, jit=jit)
    assert out.dtype == np.float32
    g = pullback(np.ones(3, dtype=np.float32))
    assert g.dtype == np.float32 and np.all(g == 2.0)
    out, tangent = adjoint.jvp(times_two, (x,), np.ones(3, dtype=np.float32), jit=jit)
    assert out.dtype == np.float32 and tangent.dtype == np.float32
    np.testing.assert_array_equal(tangent, np.full(3, 2.0, dtype=np.float32))
    out, tangent = adjoint.jvp(total, (x,), np.ones(3), jit=jit)
    assert type(tangent) is np.float32 and tangent == pytest.approx(2 * np.sum(x.astype(np.float64)))
    g, hv = adjoint.hvp(total, (x,), np.ones(3, dtype=np.float32), jit=jit)
    assert g.dtype == np.float32 and hv.dtype == np.float32 and np.all(hv == 2.0)


def sine_times(x):
    return np.sin(x) * x


def test_the_pullback_keeps_the_point_of_vjp():
    """Writing into the arguments after vjp (an optimiser's step in place) leaves the pullback at the
    point of `out`: it once read the arrays again at each call."""
    start = np.array([0.3, -0.5, 0.9])
    x = start.copy()
    out, pullback = adjoint.vjp(sine_times, x, jit=False)
    x *= 0.0
    np.testing.assert_allclose(pullback(np.ones(3)), np.sin(start) + start * np.cos(start), rtol=1e-12)
    np.testing.assert_allclose(out, np.sin(start) * start, rtol=1e-12)


def flattened(A, B):
    return np.sum(A.reshape(-1) * np.arange(A.size)) + np.sum(np.reshape(B, (2, 6)) ** 2)


@pytest.mark.parametrize("jit", [None, True])
def test_arrays_of_any_layout(jit):
    """A transposed or strided argument runs as a C-contiguous copy (Numba's reshape raised
    NotImplementedError for it when the compiled code ran)."""
    A = np.arange(12.0).reshape(4, 3)
    gA, gB = adjoint.grad(flattened, wrt=(0, 1), jit=jit)(A.T, A[:, ::-1].T)
    assert gA.shape == (3, 4) and gB.shape == (3, 4)
    np.testing.assert_allclose(gA, np.arange(12.0).reshape(3, 4))
    np.testing.assert_allclose(gB, 2 * A[:, ::-1].T)


def test_the_same_float32_array_passed_twice_stays_one_array():
    x = np.array([1.0, 2.0], dtype=np.float32)
    g = adjoint.grad(poly, jit=False)(x, x)
    np.testing.assert_allclose(g, 3 * x.astype(np.float64) ** 3, rtol=1e-6)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_the_checker_takes_float32(mode):
    x = np.array([0.5, -1.25, 2.0], dtype=np.float32)
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    assert adjoint.check_grad(poly, x, a, wrt=(0, 1), mode=mode, jit=False)
    assert adjoint.check_grad(times_two, np.float32(1.5), mode=mode, jit=False)
    jac = adjoint.numerical_jacobian(poly, x, a)
    np.testing.assert_allclose(jac, 3 * a.astype(np.float64) * x.astype(np.float64) ** 2, rtol=1e-6)


# --- the checker and the CLI refuse bad argument kinds -------------------------------------------

BAD = ["abc", None, object()]


@pytest.mark.parametrize("bad", BAD, ids=["str", "None", "object"])
def test_the_checker_refuses_a_bad_input_kind(bad):
    with pytest.raises(adjoint.ArgumentError, match="floats and float NumPy arrays"):
        adjoint.numerical_jacobian(total, bad)
    with pytest.raises(adjoint.ArgumentError, match="floats and float NumPy arrays"):
        adjoint.check_grad(total, bad)
    with pytest.raises(adjoint.ArgumentError, match="floats and float NumPy arrays"):
        adjoint.check_grad(total, bad, mode="forward")


@pytest.mark.parametrize("bad", [{"a": 1.0}, "abc"], ids=["dict", "str"])
def test_the_checker_says_when_the_function_fails_for_its_arguments(bad):
    with pytest.raises(adjoint.ArgumentError, match="scaled raised"):
        adjoint.check_grad(scaled, np.ones(2), bad)


def test_the_checker_refuses_a_function_that_returns_no_number():
    with pytest.raises(adjoint.ArgumentError, match="returned a str"):
        adjoint.numerical_jacobian(lambda x: "text", 1.0)
    with pytest.raises(adjoint.ArgumentError, match="returned a NoneType"):
        adjoint.numerical_jacobian(lambda x: None, 1.0)
    with pytest.raises(adjoint.ArgumentError, match="positional"):
        adjoint.numerical_jacobian(total, 1.0, 2.0)


@pytest.mark.parametrize("args", ["{'a': 1.0}", "[1.0, 2.0]", "'abc'", "np.matrix([[1.0, 2.0]])", "1j",
                                  "np.ones(2), np.ones(3)", "np.ones(", "undefined_name"])
def test_cli_check_refuses_bad_arguments_with_a_message(tmp_path, capsys, args):
    path = tmp_path / "target.py"
    path.write_text("import numpy as np\n\n\ndef f(x):\n    return np.sum(x * x)\n")
    assert cli.main(["check", f"{path}:f", "--args", args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("adjoint: error: ") and "Traceback" not in err
