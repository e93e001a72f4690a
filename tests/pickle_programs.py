"""Functions whose derivative functions tests/test_pickle.py sends to other processes (module level:
they pickle by reference)."""

import numpy as np

import adjoint


def loss(w, x):
    total = 0.0
    for i in range(x.shape[0]):
        total += np.tanh(w * x[i]) ** 2
    return total


@adjoint.differentiate(wrt=("w",))
def decorated(w, x):
    return np.sum(np.sin(w * x))


def two_inputs(x, y):
    return x * y ** 2
