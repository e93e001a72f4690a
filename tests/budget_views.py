"""A program whose loop leaves a transposed view (a hunt: its value given back at the loop's end as a
C-ordered copy multiplied an ulp differently), for tests/test_memory_budget.py."""

import numpy as np


def view_left(A0, v, n):
    A = A0.copy()
    for k in range(n):
        B = A.T
        A[0, :] = np.tanh(B @ v)
    return np.sum(A * A)
