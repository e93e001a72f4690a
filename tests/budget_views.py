"""Programs a hunt found the memory budget wrong on, for tests/test_memory_budget.py."""

import numpy as np


def view_left(A0, v, n):
    """The loop leaves a transposed view, which came back at its end as a C-ordered copy: an ulp off."""
    A = A0.copy()
    for k in range(n):
        B = A.T
        A[0, :] = np.tanh(B @ v)
    return np.sum(A * A)


def first_is_cheap(x, a, n):
    """Its first iteration keeps almost no tape, the others an array each (a hunt: a budget measured on the
    first iteration alone was exceeded 46 times over)."""
    for i in range(n):
        if i > 0:
            v = np.full(1000, x) * a
            x = np.sum(np.sin(v)) / 1000.0 + 0.5 * x
    return x
