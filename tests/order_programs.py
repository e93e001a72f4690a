"""Programs with loops nested in loops, for tests/test_order.py: whose adjoint's inner loops can run
forward (`turns`), and whose must keep their descending order (`keeps`)."""

import math

import numpy as np


def stencil_2d(u0, kappa, n_steps):
    n = u0.shape[0]
    u = u0.copy()
    for step in range(n_steps):
        u_new = u.copy()
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                lap = u[i + 1, j] + u[i - 1, j] + u[i, j + 1] + u[i, j - 1] - 4 * u[i, j]
                u_new[i, j] = u[i, j] + kappa * 0.1 * lap
        u = u_new
    return np.sum(u ** 2)


def conv_rows(x, w):
    n, m = x.shape
    out = np.zeros((n, m - 2))
    for i in range(n):
        for j in range(m - 2):
            out[i, j] = w[0] * x[i, j] + w[1] * x[i, j + 1] + w[2] * math.tanh(x[i, j + 2])
    return np.sum(out * out)


def matvec_steps(A, x, n_steps):
    """y[i] is written again in each inner iteration: its values go on a tape, read in order."""
    n = x.shape[0]
    for step in range(n_steps):
        y = np.zeros(n)
        for i in range(n):
            for k in range(n):
                y[i] += A[i, k] * x[k]
        x = np.sin(y)
    return np.sum(x)


def prefix_in_rows(x):
    """Each row a running product: the inner loop reads what the iteration before it wrote."""
    a = x.copy()
    for i in range(a.shape[0]):
        for j in range(1, a.shape[1]):
            a[i, j] = a[i, j - 1] * math.cos(a[i, j])
    return np.sum(a)


def negative_indices(x, c):
    """The inner loop's index runs below 0: out[k] for k = -1 and k = 2 is one element (found by a hunt)."""
    out = np.zeros(3)
    for i in range(3):
        for k in range(i - 3, i + 1):
            out[k] = x[k] * c + x[i] * (k + 4.0)
    return np.sum(out ** 2)


def ellipsis_first(c):
    """b[..., j] and b[1, j] put j on different axes (found by a hunt; None, np.newaxis the same)."""
    b = np.zeros((2, 3, 4))
    for s in range(2):
        for j in range(3):
            b[..., j] = c * (j + 1.0)
            b[1, j] = c * c * (j + 2.0)
            b[None, 0, j] = b[None, 0, j] * c
    return np.sum(b * b)


def turns_args():
    rng = np.random.default_rng(3)
    u0 = rng.uniform(0, 1, (6, 6))
    return {
        "stencil_2d": (stencil_2d, (u0, 0.7, 3), (0, 1)),
        "conv_rows": (conv_rows, (rng.standard_normal((4, 7)), rng.standard_normal(3)), (0, 1)),
    }


def keeps_args():
    rng = np.random.default_rng(4)
    return {
        "matvec_steps": (matvec_steps, (rng.standard_normal((4, 4)) * 0.5, rng.standard_normal(4), 3), (0, 1)),
        "prefix_in_rows": (prefix_in_rows, (rng.standard_normal((3, 5)),), (0,)),
        "negative_indices": (negative_indices, (np.array([0.3, -1.2, 0.8]), 0.5), (0, 1)),
        "ellipsis_first": (ellipsis_first, (0.7,), (0,)),
    }
