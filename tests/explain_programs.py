"""Programs for tests/test_explain.py. The tape report names lines of this file: append, do not insert."""

import numpy as np


def pick(x, i):
    y = x * 2.0
    return y[i] * y[0]  # an IndexError at run time when i is out of range


def capped_sum(x, cap):
    s = 0.0
    for k in range(x.shape[0]):
        if x[k] > cap:
            raise ValueError("an element is over the cap")
        s = s + x[k] * x[k]
    return s


def running_product(x, n):
    p = 1.0
    scale = 2.0 * n
    unused = np.cos(x[0])
    for i in range(x.shape[0]):
        p = p * x[i]
        q = p / scale
    return p + q


def halve_until_small(x):
    steps = 0
    while x > 1.0:
        x = x * 0.5
        steps = steps + 1
    return x * steps


def smooth_in_place(x):
    y = x.copy()
    before = np.sum(y * y)  # (its adjoint, after the loop's, reads y as it was: the elements written are saved)
    for i in range(1, y.shape[0]):
        y[i] = 0.5 * (y[i] + y[i - 1])
    return before + np.sum(y * y)


def settle(x, n):
    total = 0.0
    for k in range(n):
        y = x + k
        while y > 1.0:
            y = y * 0.5
        total = total + y * y
    return total


def settle_chain(x, n):
    """settle's loops with y carried from one iteration to the next: not fused, the trip counts taped."""
    y = x
    for k in range(n):
        y = y + k
        while y > 1.0:
            y = y * 0.5
    return y
