"""Functions that read module-level names which the tests give other values (see test_cache.py)."""

import numpy as np

SCALE = 3.0
W = np.array([1.0, 2.0])


def scaled(x, a=2.0):
    return a * x


def other_scaled(x, a=2.0):
    return 7.0 * x


def uses_helper(x):
    return np.sum(scaled(x) * x)


def uses_constant(x):
    return np.sum(SCALE * x * x)


def weighted_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + W[i] * x[i] * x[i]
    return s


def default_from_constant(x, a=SCALE):
    return a * x


def uses_default_from_constant(x):
    return np.sum(default_from_constant(x) * x)


class Config:
    @property
    def scale(self):
        return float("3.0")  # a new float object on each access


CONFIG = Config()


def uses_property(x):
    return np.sum(CONFIG.scale * x * x)
