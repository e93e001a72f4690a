"""Functions with hand-written backward rules, for tests/test_custom_vjp.py."""

import numpy as np

import adjoint


# The multiply example of PyTorch's autograd.Function, TensorFlow's custom_gradient and JAX's
# custom_vjp: the forward pass saves a and b, the backward pass returns g * b and g * a.
@adjoint.custom_vjp
def mul(a, b):
    return a * b


def mul_fwd(a, b):
    return a * b, (a, b)


def mul_bwd(res, g):
    a, b = res
    return g * b, g * a


mul.defvjp(mul_fwd, mul_bwd)


def uses_mul(x, y):
    return np.sum(mul(x, y) * np.sin(x))


# A rule that differs from the true derivative on purpose (a straight-through clip), so the test
# can tell the custom rule was used rather than the function's own source.
@adjoint.custom_vjp
def clip_straight_through(x):
    return np.clip(x, -1.0, 1.0)


def clip_fwd(x):
    return np.clip(x, -1.0, 1.0), x


def clip_bwd(res, g):
    return (g,)


clip_straight_through.defvjp(clip_fwd, clip_bwd)


def uses_clip(x):
    return np.sum(clip_straight_through(x) * 3.0)
