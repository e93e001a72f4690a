"""The project's own corpus of differentiable programs, each with a way to make its arguments.

Every program is checked against central differences on both paths (tests/test_programs.py), and
its generated module goes through the round trip (parse, run under CPython, compile under Numba).
"""

import math
from math import exp as math_exp

import numpy as np
from numpy import tanh as np_tanh

GAIN = 1.5
sin_alias = np.sin


def gaussian_log_likelihood(x, mu, log_sigma):
    sigma = np.exp(log_sigma)
    z = (x - mu) / sigma
    return -0.5 * np.sum(z * z) - x.shape[0] * log_sigma


def names_resolved_every_way(x):
    return np.sum(np_tanh(x) + sin_alias(x) + numpy_cos(x)) + math_exp(float(np.sum(x)) * 0.1)


numpy_cos = np.cos


def huber(r, delta):
    a = np.abs(r)
    quad = 0.5 * r * r
    lin = delta * (a - 0.5 * delta)
    return np.sum(np.where(a <= delta, quad, lin))


def polynomial_horner(c, x):
    return ((c[3] * x + c[2]) * x + c[1]) * x + c[0]


def normalize_rows(A):
    norms = np.sqrt(np.sum(A * A, axis=1))
    B = A / norms[:, None]
    return np.sum(B[:, 0] * np.arange(A.shape[0]))


def quadratic_form(A, x):
    return x @ (A @ x) + np.dot(x, x) * GAIN


def pairwise_distances(X):
    D = X[:, None, :] - X[None, :, :]
    return np.sum(np.sqrt(np.sum(D * D, axis=2) + 1.0))


def stable_sigmoid_bce(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def scalar_chain(a, b):
    c = math.atan2(a, b) * math.hypot(a, b)
    d = math.log1p(a * a) - math.expm1(-b)
    e = max(c, d) + min(a, b) + abs(a - b)
    return e ** 1.5 + math.pow(b, a)


def shapes_and_stacks(x):
    M = x.reshape((2, 3))
    rows = np.stack((M[0], M[1] * 2.0), axis=1)
    flat = np.concatenate((rows.ravel(), M[:, 1]))
    return np.sum(flat * np.cumsum(flat)) + np.trace(M[:, :2]) + np.prod(M[0] + 2.0)


def statistics(x):
    return np.var(x) * np.std(x) + np.max(x) * np.min(x) + np.mean(x ** 2)


def outer_product_energy(u, v):
    M = np.outer(u, v)
    return np.sum(np.clip(M, -0.5, 0.5) ** 2) + np.linalg.norm(u) * np.linalg.norm(v)


def rebind_many_times(x):
    y = x
    y = y * 2.0
    y = np.sin(y) + y
    y = y[::-1] * x
    return np.sum(y)


def augmented_on_fresh(x, s):
    y = x * 1.0
    y *= s
    y += x
    y -= 0.5
    y /= 2.0
    y **= 2
    return np.sum(y)


def vector_out(x, A):
    return np.tanh(A @ x) * x[0]


def differences(x):
    return np.sum(np.diff(x) ** 2) + np.sum(np.square(x) * np.reciprocal(1.0 + x * x))


def _vec(n, low=-1.0, high=1.0):
    return lambda r: (r.uniform(low, high, n),)


# (function, make arguments, wrt, kind: "grad" for a scalar result, "vjp" for an array result)
PROGRAMS = [
    (gaussian_log_likelihood, lambda r: (r.standard_normal(6), 0.3, -0.2), (0, 1, 2), "grad"),
    (names_resolved_every_way, _vec(4), (0,), "grad"),
    (huber, lambda r: (np.array([-2.0, -0.3, 0.1, 0.4, 1.7]), 0.8), (0, 1), "grad"),
    (polynomial_horner, lambda r: (r.standard_normal(4), 0.7), (0, 1), "grad"),
    (normalize_rows, lambda r: (r.uniform(0.5, 1.5, (3, 4)),), (0,), "grad"),
    (quadratic_form, lambda r: (r.standard_normal((4, 4)), r.standard_normal(4)), (0, 1), "grad"),
    (pairwise_distances, lambda r: (r.standard_normal((4, 2)),), (0,), "grad"),
    (stable_sigmoid_bce, lambda r: (r.standard_normal(3), r.standard_normal((10, 3)), r.integers(0, 2, 10) * 1.0),
     (0,), "grad"),
    (scalar_chain, lambda r: (r.uniform(0.5, 1.0), r.uniform(1.2, 2.0)), (0, 1), "grad"),
    (shapes_and_stacks, _vec(6), (0,), "grad"),
    (statistics, lambda r: (r.permutation(np.linspace(-1.0, 2.0, 7)),), (0,), "grad"),
    (outer_product_energy, lambda r: (r.uniform(-1, 1, 3), r.uniform(-1, 1, 4)), (0, 1), "grad"),
    (rebind_many_times, _vec(5), (0,), "grad"),
    (augmented_on_fresh, lambda r: (r.standard_normal(4), 1.3), (0, 1), "grad"),
    (vector_out, lambda r: (r.standard_normal(3), r.standard_normal((2, 3))), (0, 1), "vjp"),
    (differences, _vec(6), (0,), "grad"),
]
