"""Jacobians, Hessians, Hessian-vector products and grad of grad, against central differences.

Hessians come from forward mode over the generated adjoint (tapes and helpers included), so the
functions here exercise what an adjoint contains: broadcasting sums, reductions, matrix products,
float and array tapes of loops, element writes, a data-dependent while loop.
"""

import math

import numpy as np
import pytest

import adjoint
from adjoint import ArgumentError, SourceError

JITS = pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def logistic_loss(w, X, y):
    margins = y * (X @ w)
    return np.mean(np.logaddexp(0.0, -margins)) + 0.5e-2 * np.dot(w, w)


def mlp_loss(W1, b1, W2, X, Y):
    hidden = np.tanh(X @ W1 + b1)
    return np.mean((hidden @ W2 - Y) ** 2)


def damped_oscillator(p, n):
    """A loop kernel: explicit Euler steps of a damped oscillator, the state in an array."""
    y = np.array([1.0, 0.0])
    dt = 0.05
    energy = 0.0
    for _ in range(n):
        v = y[1]
        a = -p[0] * y[0] - p[1] * v + 0.1 * math.sin(y[0])
        y[0] = y[0] + dt * v
        y[1] = v + dt * a
        energy = energy + y[0] * y[0] + 0.5 * v * v
    return energy


def halvings(x, s):
    """A while loop whose trip count depends on the input."""
    t = x * s
    total = 0.0
    while t > 1.0:
        total = total + math.log(t) * s
        t = t * 0.6
    return total + t * t


def spread_stats(x):
    return np.var(x) + np.std(x[1:]) * np.max(x) + np.sum(np.cumsum(x) ** 2)


def vector_field(x, a):
    """A vector output built with element writes in a loop."""
    y = np.zeros(3)
    for i in range(x.shape[0]):
        y[i % 3] += math.sin(x[i]) * a
    y[2] = y[2] * y[0]
    return y


def reshaping(x, A):
    """The adjoint calls reshape_like, undiff, untrace, concat_part, stack_part, outer_left/right,
    unsum_to (a matrix summed over one axis)."""
    y = np.concatenate((x, x * x))
    z = np.stack((x, np.sin(x)))
    P = np.outer(x, y[:3])
    rows = np.sum(A * A * x, axis=1)
    return np.sum(np.diff(y) ** 2) + np.trace(A * P) + np.sum(z.reshape(-1) ** 3) + np.sum(np.cumsum(x) * x) \
        + np.sum(rows ** 2)


def gather_scatter(x):
    """The adjoint calls add_at (a repeated integer index) and saved (a slice written over)."""
    idx = np.array([0, 2, 2, 1])
    g = x[idx] ** 2
    buf = x[:3] * x[1:4]
    buf[1:] = buf[1:] * buf[:2] + g[:2]
    return np.sum(buf * buf) + np.sum(g * x[idx])


def row_loop(x):
    """A loop over the rows of a matrix: its adjoint keeps the rows' shapes on a shape tape, whose entries
    (tuples) the Hessian once flattened forever (RecursionError)."""
    s = 0.0
    for i in range(2):
        d = x[i] * 2.0
        s = s + np.sum(d * d * x[i + 1])
    return s


def powers_and_norms(x, y):
    """The adjoint calls pow_base and log_base (a power with a varying exponent) and norm_slope (a
    norm, hypot)."""
    return np.sum(x ** y) + np.linalg.norm(x) * np.hypot(x[0], y[1])


def sinc_wave(x):
    """The adjoint calls sinc_slope, whose tangent calls sinc_curve; x holds 0, where both take their limits."""
    return np.sum(np.sinc(x) * x) + np.sinc(x[1])


def row_reductions(A):
    """The adjoint calls mean_axis, max_axis and min_axis (one axis of a matrix, as Numba runs it)."""
    return np.sum(np.mean(A * A, axis=1) * np.max(np.sin(A), axis=0)[:2]) + np.sum(np.min(A, axis=1) ** 3)


def axis_statistics(A):
    """The adjoint calls var_axis, std_axis and sort_axis (one axis of a matrix, as Numba runs them) and
    untake_along."""
    return (np.sum(np.var(A, axis=1) ** 2) + np.sum(np.std(A, axis=0, ddof=1) * A[0]) + np.sum(np.sort(A, axis=0)[0] ** 3)
            + np.sum(np.take_along_axis(A, np.argsort(A, axis=1, kind="stable"), axis=1)[:, -1] ** 3))


def stacked_inverses(S):
    """A stack of matrices inverted and multiplied (inv_stacked, matmul_stacked: loops over the stack under Numba)."""
    return np.sum(np.linalg.inv(S) @ S[::-1] ** 2)


def inverse_squares(A):
    """inv's adjoint transposes with mT (a helper whose forward rule is linear)."""
    return np.sum(np.linalg.inv(A) ** 2)


def reordered(x, A):
    """The adjoints of np.sort, np.roll, np.repeat, np.take, np.diag, np.diagonal, np.transpose with axes
    and np.split (their helpers' forward rules are linear in g)."""
    a, b = np.split(x, 2)
    return (np.sum(np.sort(x) ** 3) + np.sum(np.roll(x, 1) * x ** 2) + np.sum(np.repeat(x, 2) ** 3)
            + np.sum(np.take(x, [0, 1, 1]) ** 3) + np.sum(np.diag(x) * A[:4, :4]) + np.sum(np.diagonal(A, 1) ** 3)
            + np.sum(np.transpose(A[None, :, :] * x[:, None, None], (2, 0, 1)) ** 3) + np.sum(a * b ** 2))


def while_loop_states(x):
    """The adjoint calls leading: a list grown in a while loop, whose rows are enlarged as it fills."""
    states = []
    k = 0
    while k < 20:
        x = np.sin(x) * 1.1
        states.append(x)
        k += 1
    return np.sum(np.stack(states) ** 2)


NUMBA_HESSIANS = {"rosenbrock", "mlp_loss", "damped_oscillator", "while_loop_states"}


def _rng():
    return np.random.default_rng(11)


CASES = [
    (rosenbrock, lambda r: (r.uniform(-1.0, 1.5, 6),), 0),
    (logistic_loss, lambda r: (0.3 * r.standard_normal(4), r.standard_normal((12, 4)),
                               np.sign(r.standard_normal(12))), 0),
    (mlp_loss, lambda r: (0.5 * r.standard_normal((3, 4)), 0.1 * r.standard_normal(4), 0.5 * r.standard_normal((4, 2)),
                          r.standard_normal((5, 3)), r.standard_normal((5, 2))), (0, 1, 2)),
    (damped_oscillator, lambda r: (np.array([2.0, 0.3]), 30), 0),
    (halvings, lambda r: (7.3, 1.1), (0, 1)),
    (spread_stats, lambda r: (r.standard_normal(5),), 0),
    (reshaping, lambda r: (r.standard_normal(3), r.standard_normal((3, 3))), (0, 1)),
    (gather_scatter, lambda r: (r.standard_normal(5),), 0),
    (row_loop, lambda r: (r.standard_normal((3, 2)),), 0),
    (powers_and_norms, lambda r: (r.uniform(0.5, 1.5, 3), r.standard_normal(3)), (0, 1)),
    (sinc_wave, lambda r: (np.array([0.0, 0.4, -1.3, 2e-5]),), 0),
    (row_reductions, lambda r: (r.standard_normal((2, 3)),), 0),
    (while_loop_states, lambda r: (r.standard_normal(2),), 0),
    (axis_statistics, lambda r: (r.standard_normal((3, 4)),), 0),
    (inverse_squares, lambda r: (r.standard_normal((3, 3)) + 3.0 * np.eye(3),), 0),
    (stacked_inverses, lambda r: (r.standard_normal((2, 3, 3)) + 3.0 * np.eye(3),), 0),
    (reordered, lambda r: (r.standard_normal(4), r.standard_normal((4, 5))), (0, 1)),
]


def test_every_helper_rule_is_differentiated_here():
    """Each runtime helper with a forward-mode rule appears, differentiated, in some Hessian above."""
    from adjoint.arguments import bind, wrt_names
    from adjoint.backend.dispatch import derivative
    from adjoint.rules.table import TABLE

    texts = [adjoint.source(fn, mode="hvp", wrt=wrt) for fn, _, wrt in CASES]  # any kinds: the general helpers
    for fn, make, wrt in CASES:  # as hessian runs it, specialised to the arguments' kinds
        names = wrt_names(fn, wrt)[0]
        texts.append(derivative(fn, names, False, True, bind(fn, names, make(_rng()), {})[1], "hvp").text)
    bodies = "".join(t[t.index("\ndef "):] for t in texts)
    helpers = {r.spelling for r in TABLE.by_key.values() if r.carries and r.tangent is not None}  # (the others
    # have no second derivative yet and refuse it: see below)
    helpers -= {"untile", "unpad"}  # (reached where a written definition does not apply, Python only: a run-time
    # reps or widths; their forward rules are linear like the others')
    helpers -= {"prod_axis"}  # (its Hessian reaches unprod, which has no forward rule yet: refused)
    missing = sorted(h for h in helpers if f"{h}(" not in bodies)
    assert not missing, f"helpers no Hessian here differentiates: {missing}"


def _fd_hessian(fn, args, names):
    """H[i][j] by central differences of adjoint's gradient (which tests/test_programs.py checks)."""
    g = adjoint.grad(fn, wrt=names, jit=False)
    H = []
    for i in range(len(names)):
        row = []
        for j, name in enumerate(names):
            k = list(fn.__code__.co_varnames).index(name)
            x = np.asarray(args[k], dtype=np.float64)
            cols = []
            for idx in np.ndindex(x.shape):
                h = 1e-5 * max(1.0, abs(float(x[idx])))
                up, dn = x.copy(), x.copy()
                up[idx] += h
                dn[idx] -= h
                a_up, a_dn = list(args), list(args)
                a_up[k], a_dn[k] = (up, dn) if x.ndim else (float(up), float(dn))
                cols.append((np.asarray(g(*a_up)[i]) - np.asarray(g(*a_dn)[i])) / (2 * h))
            xi = np.asarray(args[list(fn.__code__.co_varnames).index(names[i])])
            row.append(np.stack(cols, axis=-1).reshape(xi.shape + x.shape))
        H.append(row)
    return H


@JITS
@pytest.mark.parametrize("fn, make, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_hessian_matches_differences_of_the_gradient(fn, make, wrt, jit):
    if jit and fn.__name__ not in NUMBA_HESSIANS:
        pytest.skip("a Hessian under Numba costs seconds: a few programs check that path (the helpers compile in "
                    "the rules' jit rows, and the Hessians' text is the same)")
    args = make(_rng())
    names = (wrt,) if isinstance(wrt, int) else wrt
    names = tuple(fn.__code__.co_varnames[k] for k in names)
    H = adjoint.hessian(fn, wrt=wrt, jit=jit)(*args)
    H = [[H]] if isinstance(wrt, int) else H
    want = _fd_hessian(fn, args, names)
    for i in range(len(names)):
        for j in range(len(names)):
            got = np.asarray(H[i][j])
            assert got.shape == want[i][j].shape
            scale = max(1.0, float(np.max(np.abs(want[i][j]))))
            assert np.max(np.abs(got - want[i][j])) / scale < 1e-5, (names[i], names[j])
    if isinstance(wrt, int) and np.ndim(args[wrt]) == 1:
        assert np.allclose(H[0][0], np.transpose(H[0][0]), atol=1e-8)  # a Hessian is symmetric


@JITS
def test_hvp_is_the_hessian_times_the_vector(jit):
    x = _rng().uniform(-1.0, 1.5, 6)
    v = _rng().standard_normal(6)
    g, hv = adjoint.hvp(rosenbrock, (x,), v, jit=jit)
    assert np.allclose(g, adjoint.grad(rosenbrock)(x))
    assert np.allclose(hv, adjoint.hessian(rosenbrock)(x) @ v)


@JITS
def test_jacobian_chooses_forward_for_few_inputs_and_reverse_for_few_outputs(jit):
    x = _rng().standard_normal(2)
    jac = adjoint.jacobian(vector_field, wrt=(0, 1), jit=jit)
    got = jac(x, 0.7)
    assert jac.mode.startswith("forward (3 input entries <= 3 output entries)")
    for a, b in zip(got, adjoint.numerical_jacobian(vector_field, x, 0.7, wrt=(0, 1))):
        assert np.allclose(a, b, atol=1e-7)
    x = _rng().standard_normal(7)
    jac = adjoint.jacobian(vector_field, wrt=0, jit=jit)
    got = jac(x, 0.7)
    assert jac.mode.startswith("reverse (3 output entries < 7 input entries)")
    assert got.shape == (3, 7) and np.allclose(got, adjoint.numerical_jacobian(vector_field, x, 0.7), atol=1e-7)


def ode_endpoint(p, y0, n):
    """The state after n midpoint steps of a predator-prey model: a vector output, element writes."""
    y = y0.copy()
    k = np.zeros(2)
    dt = 0.02
    for _ in range(n):
        k[0] = p[0] * y[0] - p[1] * y[0] * y[1]
        k[1] = p[1] * y[0] * y[1] - p[0] * y[1]
        mid = y + 0.5 * dt * k
        y[0] = y[0] + dt * (p[0] * mid[0] - p[1] * mid[0] * mid[1])
        y[1] = y[1] + dt * (p[1] * mid[0] * mid[1] - p[0] * mid[1])
    return y


def running_max_profile(x):
    """Forward mode's choice (as many outputs as inputs): a while loop and branches inside a for loop."""
    out = np.empty(x.shape[0])
    best = x[0]
    for i in range(x.shape[0]):
        if x[i] > best:
            best = x[i]
        v = best * x[i]
        while v > 2.0:
            v = v * 0.5
        out[i] = v
    return out


JACOBIANS = [
    (ode_endpoint, lambda r: (np.array([1.1, 0.4]), np.array([1.0, 0.5]), 40), (0, 1), "reverse"),
    (running_max_profile, lambda r: (r.uniform(0.5, 3.0, 6),), 0, "forward"),
    (vector_field, lambda r: (r.standard_normal(2), 0.7), (0, 1), "forward"),
]


@JITS
@pytest.mark.parametrize("fn, make, wrt, mode", JACOBIANS, ids=[c[0].__name__ for c in JACOBIANS])
def test_jacobian_matches_the_numerical_jacobian(fn, make, wrt, mode, jit):
    args = make(_rng())
    before = [np.copy(a) for a in args]
    jac = adjoint.jacobian(fn, wrt=wrt, jit=jit)
    got = jac(*args)
    assert jac.mode.startswith(mode)
    want = adjoint.numerical_jacobian(fn, *args, wrt=wrt)
    for g, w in zip(got if isinstance(wrt, tuple) else (got,), want if isinstance(wrt, tuple) else (want,)):
        assert np.shape(g) == np.shape(w) and np.allclose(g, w, rtol=1e-6, atol=1e-7)
    assert all(np.array_equal(a, b) for a, b in zip(args, before))


def test_jacobian_of_a_scalar_function_is_its_gradient():
    x = _rng().uniform(-1.0, 1.5, 5)
    assert np.allclose(adjoint.jacobian(rosenbrock)(x), adjoint.grad(rosenbrock)(x))


@JITS
def test_grad_of_grad(jit):
    d2 = adjoint.grad(adjoint.grad(halvings, wrt=0), wrt=(0, 1), jit=jit)(7.3, 1.1)
    H = adjoint.hessian(halvings, wrt=(0, 1), jit=False)(7.3, 1.1)
    assert d2 == pytest.approx((H[0][0], H[0][1]), rel=1e-12)
    assert type(d2[0]) is float


def test_jacobian_of_grad_is_the_hessian():
    x = _rng().uniform(-1.0, 1.5, 5)
    assert np.allclose(adjoint.jacobian(adjoint.grad(rosenbrock))(x), adjoint.hessian(rosenbrock)(x))


def test_grad_of_a_vector_gradient_is_refused():
    with pytest.raises(ArgumentError, match="grad of grad\\(rosenbrock\\) needs a scalar.*shape \\(5,\\).*hessian"):
        adjoint.grad(adjoint.grad(rosenbrock))(np.ones(5))


def test_hessian_needs_a_scalar_function():
    with pytest.raises(ArgumentError, match="scalar"):
        adjoint.hessian(vector_field)(np.ones(3), 1.0)


def prod_of_squares(x):
    return np.prod(x * x)


def test_a_missing_second_derivative_is_an_error_not_a_guess():
    with pytest.raises(SourceError, match="`unprod` has no forward-mode rule"):
        adjoint.hessian(prod_of_squares, jit=False)(np.ones(3))


def test_hvp_source_is_forward_mode_over_the_adjoint():
    text = adjoint.source(damped_oscillator, mode="hvp")
    assert text.startswith('"""Hessian-vector product (forward mode over the adjoint) of damped_oscillator')
    assert "def damped_oscillator_vjp_jvp(p, n, out_bar, p_dot):" in text
    assert "_tape_dot.append(" in text  # the adjoint's tapes carry tangents too


def _branch_of_copies(x):
    y = x * 2.0
    if x > 0.0:
        y = y + 1.0
    return y * x


def _loop_of_copies(x):
    y = x * 2.0
    for i in range(3):
        y = y + 1.0
    return y * x


@JITS
def test_blocks_left_empty_by_taking_copies_out_go(jit):
    """The adjoint of `y = y + 1.0` in a branch or loop is copies only; in hvp code, which has no
    headings to hold a block open, taking them out emptied the block (an IndentationError)."""
    for fn in (_branch_of_copies, _loop_of_copies):
        assert adjoint.hessian(fn, jit=jit)(1.3) == 4.0
        assert "pass" not in adjoint.source(fn, 1.3, mode="hvp")
