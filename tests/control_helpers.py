"""User functions in a module of their own, called by tests/programs_control.py.

The programs reach them every way a user would: `import control_helpers`, `import control_helpers as
ch` and `from control_helpers import ...`, so the inliner has to follow each spelling.
"""

import math

import numpy as np


def smooth_abs(v, eps=1e-2):
    return math.sqrt(v * v + eps)


def weighted_norm2(x, w=1.0, shift=0.0):
    return np.sum(w * (x - shift) ** 2)


def polar(a, b):
    r = math.hypot(a, b)
    t = math.atan2(b, a)
    return r, t


def poly_eval(c, t):
    """c[0] + c[1] t + c[2] t^2 + ..., by Horner's rule: a helper with a loop (negative step)."""
    acc = 0.0
    for k in range(len(c) - 1, -1, -1):
        acc = acc * t + c[k]
    return acc


def clipped_step(v, lo=-1.0, hi=1.0):
    """A helper with branches and early returns."""
    if v < lo:
        return lo + 0.1 * (v - lo)
    if v > hi:
        return hi + 0.1 * (v - hi)
    return v
