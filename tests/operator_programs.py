"""Functions that tests/test_torch.py and tests/test_jax.py make into framework operators (module
level: adjoint reads their source, and operators pickle by reference)."""

import numpy as np


def mul(a, b):
    return a * b


def recurrence(x, w, steps):
    h = np.zeros(x.shape[1])
    out = np.empty((steps, x.shape[1]))
    for t in range(steps):
        h = np.tanh(w * h + x[t])
        out[t] = h
    return out


def spring_chain(q, k):
    energy = 0.0
    for i in range(q.shape[0] - 1):
        d = q[i + 1] - q[i] - 1.0
        energy += 0.5 * k[i] * d * d
    return energy


def newton_sqrt(a):
    x = a + 1.0
    for _ in range(20):
        x = 0.5 * (x + a / x)
    return x


def until_small(x):
    y = x * 1.0
    n = 0
    while np.max(np.abs(y)) > 0.1 and n < 50:
        y = 0.7 * y + 0.01 * np.sin(y)
        n += 1
    return y


def buffer_writes(x):
    out = np.zeros(x.shape[0] + 1)
    for i in range(x.shape[0]):
        out[i + 1] = out[i] * 0.5 + x[i] ** 2
    return out


def two_outputs(a, b):
    return a * b, np.sum(a ** 2) + b[0]


def matrix_step(A, v):
    for _ in range(3):
        v = np.tanh(A @ v)
    return v


def scaled(x, scale, clip):
    y = x * scale
    if clip:
        y = np.clip(y, -1.0, 1.0)
    return np.sum(y ** 2)


def logsumexp_rows(x):
    m = np.max(x, axis=1, keepdims=True)
    return np.log(np.sum(np.exp(x - m), axis=1)) + m[:, 0]


def rk4(y0, rate):
    y = y0 * 1.0
    dt = 0.05
    for _ in range(40):
        k1 = -rate * y
        k2 = -rate * (y + 0.5 * dt * k1)
        k3 = -rate * (y + 0.5 * dt * k2)
        k4 = -rate * (y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


# (function, the arguments: "array" shapes with a seed, or constants; positive arrays where the function needs them)
CASES = [
    (mul, [(4,), (4,)]),
    (recurrence, [(6, 3), (), 4]),
    (spring_chain, [(5,), ("positive", 4)]),
    (newton_sqrt, [("positive", 3)]),
    (until_small, [(4,)]),
    (buffer_writes, [(5,)]),
    (two_outputs, [(3,), (3,)]),
    (matrix_step, [(3, 3), (3,)]),
    (scaled, [(4,), 0.7, True]),
    (logsumexp_rows, [(3, 4)]),
    (rk4, [(3,), ("positive", 3)]),
]


def arguments(spec, seed=0):
    """NumPy arguments for a CASES entry: a tuple is an array's shape (\"positive\" first: in [0.5, 1.5)), a
    number a constant (a float stays a float, differentiated)."""
    rng = np.random.default_rng(seed)
    out = []
    for s in spec:
        if isinstance(s, tuple) and s[:1] == ("positive",):
            out.append(rng.random(s[1:]) + 0.5)
        elif isinstance(s, tuple):
            out.append(rng.standard_normal(s))
        else:
            out.append(s)
    return out


def scaler(c):
    """Functions of one name and qualified name, each its own operator (found by a review: one's
    registration served the other)."""
    def scaled_by(x):
        return c * x
    return scaled_by


def branches_on_true(x, flag):
    return x * 2.0 if flag is True else x * 3.0


def split(spec, convert):
    """(a case's arrays converted, a function `call(op, *values)` calling op with them in their places and
    the case's other arguments)."""
    given = arguments(spec)
    arrays = [k for k, a in enumerate(given) if isinstance(a, np.ndarray)]

    def call(op, *values):
        args = list(given)
        for k, v in zip(arrays, values):
            args[k] = v
        return op(*args)
    return [convert(given[k]) for k in arrays], call


def float32_case(spec):
    """(a case's arguments, the positions of its arrays, their gradients in float64 for the loss
    sum_k (k + 1.5) * sum(output k): what a float32 operator's gradients must come near)."""
    from adjoint.operator import Operator  # (this module is also imported where adjoint's operators are not)
    args = arguments(spec)
    arrays = tuple(k for k, a in enumerate(args) if isinstance(a, np.ndarray))
    return args, arrays, lambda fn: Operator(fn, jit=False).backward(args, arrays, weights(fn(*args)))


def weights(out):
    """The cotangents of float32_case's loss for the outputs `out` (a tuple of them, or one)."""
    return [np.full(np.shape(o), k + 1.5) for k, o in enumerate(out if isinstance(out, tuple) else (out,))]


def solved(A, b):
    """A solve: stand-in arrays of 0.5 everywhere would be singular (found by a hunt)."""
    return np.linalg.solve(A, b)


def branch_shape(x, t):
    """An output whose shape depends on a float's value (found by a hunt: its stand-in gave another)."""
    if t > 1.0:
        return x[:2] * t
    return x * t


def nested(x):
    return (x, (x * 2.0, x * 3.0))


def pair_diff(x):
    """Indexes entries 0-2: a stand-in of an unknown size must have them (found by a hunt)."""
    return x[0] - x[1] * x[2]
