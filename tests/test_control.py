"""Control flow, element writes and calls to user functions (tests/programs_control.py) against
central differences on both paths; the caller's arrays stay as they were; aliasing is refused.

Rows that expose a bug in adjoint are marked xfail(strict=True) with the reason, so they start
failing the run (XPASS) as soon as the bug is fixed.
"""

import inspect
import math

import numpy as np
import programs_control as pc
import pytest
from programs_control import PROGRAMS

import adjoint
from adjoint import SourceError

JITS = pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])

# id -> reason, for rows that expose a bug in adjoint (none now)
CHECK_XFAIL = {}


def _rows(xfail):
    rows = []
    for pid, fn, make, wrt in PROGRAMS:
        marks = [pytest.mark.xfail(strict=True, reason=xfail[pid])] if pid in xfail else []
        rows.append(pytest.param(fn, make, wrt, id=pid, marks=marks))
    return rows


def _snapshot(args):
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]


def _assert_unchanged(args, before):
    for k, (a, b) in enumerate(zip(args, before)):
        if isinstance(b, np.ndarray):
            assert np.array_equal(a, b), f"differentiating changed argument {k}: {b} -> {a}"


@JITS
@pytest.mark.parametrize("fn, make, wrt", _rows(CHECK_XFAIL))
def test_matches_central_differences(fn, make, wrt, jit):
    """check_grad agrees; value_and_grad (scalar results) or the pullback (array results) gives the
    primal's value and finite gradients of the arguments' shapes; neither writes the caller's arrays."""
    args = make()
    before = _snapshot(args)
    want = fn(*_snapshot(args))  # the primal on copies: it may write into its arguments
    report = adjoint.check_grad(fn, *args, wrt=wrt, jit=jit)
    _assert_unchanged(args, before)
    assert report, f"\n{report}"
    if np.ndim(want) == 0:
        value, grads = adjoint.value_and_grad(fn, wrt=wrt, jit=jit)(*args)
        assert value == pytest.approx(float(want), rel=1e-12, abs=1e-12)
    else:
        _, pullback = adjoint.vjp(fn, *args, wrt=wrt, jit=jit)
        grads = pullback(np.ones(np.shape(want)))
    _assert_unchanged(args, before)
    for k, g in zip(wrt, grads):
        assert np.shape(g) == np.shape(args[k])
        assert np.all(np.isfinite(g))


# --- writing into an argument ---------------------------------------------------------------------


def _scale_argument_on_a_copy(x, c):
    return pc.scale_argument_in_place(x.copy(), c)


@JITS
def test_grad_of_function_writing_into_its_argument(jit):
    x = np.array([0.7, -0.4, 1.1, 0.3])
    before = x.copy()
    value, (gx, gc) = adjoint.value_and_grad(pc.scale_argument_in_place, wrt=(0, 1), jit=jit)(x, 0.8)
    np.testing.assert_array_equal(x, before)  # the adjoint wrote into its own copy
    assert value == pytest.approx(pc.scale_argument_in_place(before.copy(), 0.8), rel=1e-12)
    want_x, want_c = adjoint.numerical_jacobian(_scale_argument_on_a_copy, before.copy(), 0.8, wrt=(0, 1))
    np.testing.assert_allclose(gx, want_x, rtol=1e-6, atol=1e-8)
    assert gc == pytest.approx(float(want_c), rel=1e-6)


@JITS
def test_vjp_of_function_writing_into_its_argument_leaves_it_alone(jit):
    x = np.array([0.7, -0.4, 1.1, 0.3])
    before = x.copy()
    _, pullback = adjoint.vjp(pc.scale_argument_in_place, x, 0.8, wrt=0, jit=jit)
    pullback(1.0)
    np.testing.assert_array_equal(x, before)


# --- a data-dependent trip count ------------------------------------------------------------------


def _grow_trips(a, s0):
    s, k = s0, 0
    while s < 10.0:
        s, k = s * a + 0.1, k + 1
    return k


@JITS
def test_while_gradient_follows_the_trips_taken(jit):
    inputs = [(1.6, 0.8), (1.6, 3.0)]
    trips = [_grow_trips(*p) for p in inputs]
    assert trips[0] != trips[1], trips
    g = adjoint.grad(pc.grow_until, wrt=(0, 1), jit=jit)
    for (a, s0), k in zip(inputs, trips):
        ga, gs0 = g(a, s0)
        want_a, want_s0 = adjoint.numerical_jacobian(pc.grow_until, a, s0, wrt=(0, 1))
        assert ga == pytest.approx(float(want_a), rel=1e-6)
        assert gs0 == pytest.approx(float(want_s0), rel=1e-6)
        # the closed form for exactly k trips: s_k = a^k s0 + 0.1 (a^k - 1) / (a - 1), out = k s_k
        assert gs0 == pytest.approx(k * a ** k, rel=1e-12)


@JITS
def test_newton_gradient_at_different_trip_counts(jit):
    g = adjoint.grad(pc.newton_sqrt, jit=jit)
    for a in (2.7, 350.0):  # 5 and 9 Newton steps from y = a
        assert g(a) == pytest.approx(1.5 / math.sqrt(a), rel=1e-9)


# --- aliasing: refused where a write would reach another name, accepted on copies -------------------


def alias_write(x):
    y = x
    y[0] = 1.0
    return np.sum(x * y)


def view_write_then_base_read(x):
    buf = x * 2.0
    v = buf[1:]
    v[0] = 5.0
    return np.sum(buf * x)


def alias_augmented(x):
    y = x
    y += 1.0
    return np.sum(x)


def copy_then_write(x):
    y = x.copy()
    y[0] = x[1] * 3.0
    return np.sum(x * y)


def fresh_then_inplace(x):
    y = x * 1.0
    y *= 2.0
    return np.sum(y * x)


def view_write_base_unused(x):
    buf = x * 2.0
    v = buf[1:]
    v[0] = 5.0
    return np.sum(v * x[1:])


def _line_of(fn, text):
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, line in enumerate(lines) if line.strip() == text)


@JITS
@pytest.mark.parametrize("fn, line", [(alias_write, "y[0] = 1.0"), (view_write_then_base_read, "v[0] = 5.0"),
                                      (alias_augmented, "y += 1.0")],
                         ids=["alias_write", "view_write_then_base_read", "alias_augmented"])
def test_aliasing_is_refused(fn, line, jit):
    x = np.array([0.5, -0.3, 0.8])
    before = x.copy()
    with pytest.raises(SourceError) as info:
        adjoint.grad(fn, jit=jit)(x)
    assert info.value.lineno == _line_of(fn, line)
    assert line in str(info.value)
    np.testing.assert_array_equal(x, before)


@JITS
@pytest.mark.parametrize("fn", [copy_then_write, fresh_then_inplace, view_write_base_unused],
                         ids=["copy_then_write", "fresh_then_inplace", "view_write_base_unused"])
def test_writes_into_copies_are_accepted(fn, jit):
    x = np.array([0.5, -0.3, 0.8])
    before = x.copy()
    report = adjoint.check_grad(fn, x, jit=jit)
    assert report, f"\n{report}"
    np.testing.assert_array_equal(x, before)
