"""Straight-line elementwise code over vectors fused into one loop under Numba (optimize/elementwise.py):
the loop's text, its guard, and programs through the three oracles (the loop runs only on the compiled
path, which the third oracle holds against Python's NumPy statements)."""

import math
import time

import numpy as np
import pytest
from oracles import failures

import adjoint
from adjoint import runtime


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def logistic(w, y):
    m = y * w
    return np.mean(np.logaddexp(0.0, -m)) + 0.5 * np.dot(w, w)


def chain_cut_by_max(x, y):
    a = np.sin(x) * y
    b = np.exp(-a) / (1.0 + x * x)
    return np.sum(b * a) + np.max(b) * np.sum(a)


def rebound(x):
    y = x * 2.0
    y = y + np.sin(y)
    z = y * y
    return np.sum(z) + y[0] * z[-1]


def overlapping_slices(x):
    return np.sum(np.cos(x[2:]) * x[:-2]) + np.sum(x[1:-1] ** 3) + np.dot(x[1:], x[:-1])


def powers(x, p):
    return np.sum(np.abs(x) ** p + x ** 3)


def scaled(x, a):
    return np.sum(a * x ** 2 + np.exp(a) * x) / a


def vector_out(x):
    return np.sin(x) * x + 1.0


def loop_then_vectors(x, data):
    out = np.empty(data.shape[0])
    s = 0.0
    for k in range(data.shape[0]):
        s = s + x[k % x.shape[0]]
        out[k] = s
    return np.mean((out - data) ** 2)


def sum_of_written(x):
    y = np.zeros(x.shape[0] + 1)
    y[1:] = x * x
    return np.sum(np.tanh(y) * 3.0) + np.sum(y[:-1] * x)


def mixed(x, k, s):
    return np.sum(x * k + s * x ** 2) + np.mean(np.sqrt(x * x + 1.0))


def vectors_in_a_loop(x, w):
    """Runs in a loop body whose values are taped (appended, then put back), a vector rebound after a
    statement that reads it, sums of the loop's vectors into a number read after."""
    h = x
    s = 0.0
    for k in range(3):
        a = np.tanh(h * w[k]) + 0.5 * h
        b = a * a - h
        s = s + np.sum(b * w[k]) * (k + 1.0)
        h = a - 0.1 * b
    return s + np.sum(h * h)


def int_count(x, d):
    """A sum of an int array (2**53 + 1: a float64 would lose the 1), beside a fused run: found by a hunt."""
    a = x * x
    b = np.sin(a)
    k = np.sum(d)
    return np.sum(b) + (k - 2**53) * x[0]


def int_array_after(x, d):
    a = np.sqrt(x * x + d)
    b = np.log(a) / (d + 1)
    return np.sum(a * b)


def mask_count(x, m):
    a = x * m
    b = np.exp(a) * x
    k = np.sum(m)
    return np.sum(b * b) / k + x[k - 1]


def remainder(x, y):
    return np.sum((x % y) * x + x * x) + np.sum((x // y) * x)


def divided(x, y):
    return np.sum(x / y - y / (x * x + 1.0))


def tanh_layer(h, g):  # (an MLP's hidden layer's adjoint, as the reverse sweep writes it)
    a = g * (1.0 - h * h)
    return np.sum(a * np.tanh(h)) + np.mean(a * g)


def matrix_mean(x, w):
    z = np.exp(-x * w) + x / (1.0 + w * w)
    return np.mean(z * z) - np.sum(np.log1p(x * x) * w)


def matrix_then_rows(x, w):
    z = np.sin(x * w) * x
    r = np.sum(z * z, axis=1)  # (a sum over an axis: not in the loop)
    return np.sum(r * r) + np.sum(z)


X = np.array([0.3, -1.2, 0.8, 1.5, -0.4, 0.9, 0.2])
Y = np.array([1.1, 0.5, -0.7, 2.0, 0.3, -1.4, 0.6])

PROGRAMS = [
    (rosenbrock, (X,), 0),
    (logistic, (X, np.sign(Y)), 0),
    (chain_cut_by_max, (X, Y), (0, 1)),
    (rebound, (X,), 0),
    (overlapping_slices, (X,), 0),
    (powers, (X, 2.5), (0, 1)),
    (scaled, (X, 0.7), (0, 1)),
    (vector_out, (X,), 0),
    (loop_then_vectors, (X, Y), 0),
    (sum_of_written, (X,), 0),
    (mixed, (X, np.arange(7), 1.3), (0, 2)),  # an int vector: the guard takes NumPy's statements
    (mixed, (X, np.arange(7, dtype=np.float32), 1.3), (0, 2)),
    (divided, (X, Y), (0, 1)),
    (vectors_in_a_loop, (X, np.stack([Y, 0.5 * Y, -Y])), (0, 1)),
    (int_count, (X[:3], np.array([2**53, 1, 0])), 0),
    (int_array_after, (X, np.arange(1, 8)), 0),
    (mask_count, (X[:4], np.array([True, False, True, True])), 0),
    (scaled, (np.array([0.4]), 0.7), (0, 1)),
    (rosenbrock, (np.array([0.5, 1.5]),), 0),
    (tanh_layer, (np.tanh(np.outer(X, Y[:3])), np.outer(Y, X[:3])), (0, 1)),
    (matrix_mean, (np.outer(X, Y[:4]), np.outer(Y, X[:4]) + 0.1), (0, 1)),
    (matrix_mean, (np.outer(X, Y[:4]).T, np.outer(Y, X[:4]).T), (0, 1)),  # (transposes: strided entries)
    (matrix_mean, (np.outer(X, Y[:4]), Y[:4]), (0, 1)),  # a row broadcast: another rank, not fused
    (matrix_mean, (np.outer(X, Y[:4]), np.outer(Y, X[:1])), (0, 1)),  # a column broadcast: the guard says no
    (matrix_then_rows, (np.outer(X, Y[:4]), np.outer(Y, X[:4])), (0, 1)),
    (matrix_mean, (np.outer(X, Y[:4]), np.arange(28.0).reshape(7, 4).astype(np.float32)), 0),
]


@pytest.mark.parametrize("fn,args,wrt", PROGRAMS, ids=lambda v: getattr(v, "__name__", None) or "")
def test_oracles(fn, args, wrt):
    assert failures(fn, args, wrt) == []


@pytest.mark.parametrize("fn", [rosenbrock, logistic, rebound, overlapping_slices, scaled, vector_out,
                                loop_then_vectors, sum_of_written, divided, vectors_in_a_loop, tanh_layer,
                                matrix_mean, matrix_then_rows])
def test_runs_are_fused(fn):
    args, wrt = next((a, w) for f, a, w in PROGRAMS if f is fn)
    assert "if compiled and floats(" in adjoint.source(fn, *args, wrt=wrt)


def test_matrices_run_two_loops_and_check_both_lengths():
    text = adjoint.source(tanh_layer, np.ones((3, 2)), np.ones((3, 2)), wrt=(0, 1))
    assert "(h.shape[0] == g.shape[0]) and (h.shape[1] == g.shape[1])" in text, text
    assert "for j in range(m):" in text and "h[i, j]" in text and "np.empty((n, m))" in text, text
    assert "np.divide(mean, n * m)" in text, text


def test_broadcast_against_one_entry_takes_numpy_statements():
    """A vector of length 1 against one of length 4: the lengths differ, the loop is not taken."""
    def f(x, s):
        return np.sum(np.tanh(x * s) + s ** 2 * x)

    x, s = np.array([0.1, 0.5, -0.3, 0.8]), np.array([0.7])
    assert "if compiled and floats(" in adjoint.source(f, x, s)
    assert failures(f, (x, s), (0, 1)) == []


def test_remainders_by_zero_give_numpy_nans_under_numba():
    """`%` and `//` are not made loop arithmetic: Numba's raise ZeroDivisionError at 0 (found by a hunt)."""
    x, y = np.array([0.3, -1.2, 0.8]), np.array([1.0, 0.0, 2.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        python = adjoint.value_and_grad(remainder, jit=False)(x, y)
        compiled = adjoint.value_and_grad(remainder, jit=True)(x, y)
    np.testing.assert_array_equal(compiled[0], python[0])
    np.testing.assert_array_equal(compiled[1], python[1])


def test_empty_vectors():
    x = np.array([0.5, -0.2, 0.1])

    def f(x):
        return np.sum(np.sin(x[5:]) * x[5:]) + np.mean(x * x)

    assert failures(f, (x,), 0) == []


def test_division_by_zero_gives_numpy_infinities_under_numba():
    def f(x, y):
        return np.sum(x / y * x)

    x, y = np.array([1.0, 2.0]), np.array([0.0, 1.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        python = adjoint.value_and_grad(f, jit=False)(x, y)
        compiled = adjoint.value_and_grad(f, jit=True)(x, y)
    assert np.isinf(compiled[0]) and np.isinf(python[0])
    np.testing.assert_array_equal(compiled[1], python[1])


def test_golden_loop():
    def f(x, y):
        return np.sum(np.exp(x) * y)

    text = adjoint.source(f, X, Y)
    body = text[text.index("    if compiled"):text.index("    return")]
    line = f.__code__.co_firstlineno + 1
    assert body == f"""\
    if compiled and floats(x, y, out_bar) and (x.shape[0] == y.shape[0]):
        n = x.shape[0]
        out = 0.0
        x_bar = np.empty(n)
        for i in range(n):
            # return np.sum(np.exp(x) * y)  (test_elementwise.py:{line})
            exp_i = np.exp(x[i])
            mul_i = exp_i * y[i]
            out += mul_i
            # reverse sweep
            # adjoint of: return np.sum(np.exp(x) * y)  (test_elementwise.py:{line})
            x_bar_i = out_bar * y[i] * exp_i
            x_bar[i] = x_bar_i
    else:
        # return np.sum(np.exp(x) * y)  (test_elementwise.py:{line})
        exp = np.exp(x)
        mul = exp * y
        out = np.sum(mul)
        # reverse sweep
        # adjoint of: return np.sum(np.exp(x) * y)  (test_elementwise.py:{line})
        mul_bar = np.full(mul.shape, out_bar)
        x_bar = summed_to(mul_bar * y, exp.shape) * exp
""", body


def test_guards():
    assert runtime.floats(np.ones(2), 1.0, np.float64(2.0)) and not runtime.floats(np.ones(2, np.float32))
    assert not runtime.floats(np.arange(2)) and not runtime.floats(1) and not runtime.floats([1.0])
    assert runtime.reals(1, 2.0, True, np.int32(3)) and not runtime.reals(1j) and not runtime.reals(np.ones(1))
    import numba

    from adjoint.backend import jit  # noqa: F401 -- registers the guards' Numba forms

    @numba.njit
    def both(a, s):
        return runtime.floats(a, s), runtime.reals(s)

    assert both(np.ones(2), 1.0) == (True, True)
    assert both(np.ones(2, np.float32), 1) == (False, True)


def test_jit_none_compiles_fused_code_and_keeps_the_faster_path():
    def fused_only(x):
        return np.sum(np.sin(x) * np.exp(-x) + x * x)

    f = adjoint.differentiate(fused_only)
    x = np.linspace(0.0, 1.0, 200_000)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        g = f.grad(x)
        if f.jit_status.startswith(("numba (faster", "python (faster")):
            break
        time.sleep(0.05)
    assert f.jit_status.startswith(("numba (faster", "python (faster")), f.jit_status
    np.testing.assert_allclose(g, (np.cos(x) + np.sin(x) * -1.0) * np.exp(-x) + 2 * x, rtol=1e-12, atol=1e-14)
    assert math.isfinite(float(np.sum(g)))
