"""Programs whose arguments are containers (dicts, lists, tuples, NamedTuples, nested), as people
write models and simulations: each with a way to make its arguments and the wrt it differentiates."""

from typing import NamedTuple

import numpy as np


def mlp_loss(params, x, y):
    h = np.tanh(x @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    z = z - np.max(z)
    logp = z - np.log(np.sum(np.exp(z)))
    return -np.sum(logp * y) / x.shape[0]


def deep_tanh(weights, x):
    h = x
    for W in weights:
        h = np.tanh(W @ h)
    return np.sum(h * h)


def unpacked_pair(pair, x):
    a, b = pair
    return np.sum(np.sin(a * x) + b * x * x)


def nested_model(model, x):
    enc = model["enc"]
    h = np.tanh(enc["W"] @ x)
    b0, b1 = model["dec"]
    return np.sum(h * b0) + b1 * np.sum(h)


class Oscillator(NamedTuple):
    omega: float
    damping: float
    x0: np.ndarray


def damped_steps(p, n):
    x, v = p.x0, 0.0 * p.x0
    for _ in range(n):
        a = -p.omega * p.omega * x - p.damping * v
        v = v + 0.01 * a
        x = x + 0.01 * v
    return np.sum(x * x)


def _layer(p, h):
    return np.tanh(p["W"] @ h + p["b"])


def layers_through_a_helper(net, x):
    h = _layer(net[0], x)
    h = _layer(net[1], h)
    return np.sum(h)


def l2_over_items(params, lam):
    total = 0.0
    for name, value in params.items():
        total = total + lam * np.sum(value ** 2)
    return total


def polynomial_coefficients(coeffs, x):
    s = 0.0 * x
    for i, c in enumerate(coeffs):
        s = s + c * x ** i
    return np.sum(s)


def _split(x):
    return {"head": x[:2], "tail": x[2:]}


def returned_dict(x):
    parts = _split(x)
    parts["tail"] = parts["tail"] * 3.0
    return np.sum(parts["head"] ** 2) + np.sum(np.cos(parts["tail"]))


def config_and_weights(p, x):
    h = p["W"] @ x
    if p["activation"] == "tanh":
        h = np.tanh(h)
    return np.sum(h) * p["scale"]


def zipped_lists(ws, bs, x):
    out = 0.0
    for w, b in zip(ws, bs):
        out = out + np.sum(np.sin(w * x + b))
    return out


def numbers_in_lists(a, b):
    v = np.array([a, b, a * b])
    s = sum([a, a * a, 2.0])
    m = max([a, b, 1.0])
    return np.sum(v ** 2) + s + np.sum([b, 1, a]) * m


def arrays_in_lists(x, y):
    M = np.array([x, y * 2.0])
    return np.sum(M[0] * M[1]) + np.sum(np.sum([x, y], axis=0)) + sum([x, y])[0]


def nested_rows(x, y):
    M = np.array([[2 * x, x + 1], [y, x * y]])
    return np.sum(M @ M) + np.sum(np.array([[y, 1.0]]))


def list_index(x):
    e = 1
    idx = [e, e + 2]
    return np.sum(x[idx] ** 2)


def writes_into_a_leaf(p, x):
    W = p["W"].copy()
    p["b"][0] = 0.0
    return np.sum(W @ x + p["b"])


def _rng():
    return np.random.default_rng(5)


def _mlp_args(rng):
    params = {"W1": rng.normal(size=(3, 4)) * 0.5, "b1": rng.normal(size=4) * 0.1,
              "W2": rng.normal(size=(4, 2)) * 0.5, "b2": rng.normal(size=2) * 0.1}
    x = rng.normal(size=(5, 3))
    y = np.eye(2)[rng.integers(0, 2, size=5)]
    return params, x, y


# (function, make arguments, wrt)
PROGRAMS = [
    (mlp_loss, _mlp_args, (0,)),
    (deep_tanh, lambda r: ([r.normal(size=(3, 4)), r.normal(size=(2, 3))], r.normal(size=4)), (0, 1)),
    (unpacked_pair, lambda r: ((r.normal(size=3), 0.7), r.normal(size=3)), (0, 1)),
    (nested_model, lambda r: ({"enc": {"W": r.normal(size=(3, 4))}, "dec": (r.normal(size=3), 0.3)},
                              r.normal(size=4)), (0, 1)),
    (damped_steps, lambda r: (Oscillator(1.3, 0.2, r.normal(size=3)), 20), (0,)),
    (layers_through_a_helper, lambda r: ([{"W": r.normal(size=(3, 2)), "b": r.normal(size=3)},
                                          {"W": r.normal(size=(2, 3)), "b": r.normal(size=2)}],
                                         r.normal(size=2)), (0, 1)),
    (l2_over_items, lambda r: ({"a": r.normal(size=3), "b": 0.5, "c": r.normal(size=(2, 2))}, 0.1), (0, 1)),
    (polynomial_coefficients, lambda r: ([0.5, -1.0, 0.25, 0.1], r.normal(size=3)), (0, 1)),
    (returned_dict, lambda r: (r.normal(size=5),), (0,)),
    (config_and_weights, lambda r: ({"W": r.normal(size=(2, 3)), "activation": "tanh", "scale": 1.5},
                                    r.normal(size=3)), (0, 1)),
    (zipped_lists, lambda r: ([r.normal(size=3), r.normal(size=3)], (0.5, -0.2), r.normal(size=3)), (0, 1, 2)),
    (numbers_in_lists, lambda r: (0.7, -1.3), (0, 1)),
    (arrays_in_lists, lambda r: (r.normal(size=3), r.normal(size=3)), (0, 1)),
    (list_index, lambda r: (r.normal(size=4),), (0,)),
    (nested_rows, lambda r: (0.4, -1.2), (0, 1)),
    (writes_into_a_leaf, lambda r: ({"W": r.normal(size=(2, 3)), "b": r.normal(size=2)}, r.normal(size=3)), (0, 1)),
]


def loss_and_accuracy(params, x, y):
    z = x @ params["W"] + params["b"]
    m = np.max(z, axis=1, keepdims=True)
    e = np.exp(z - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    loss = -np.sum(y * np.log(p)) / x.shape[0]
    accuracy = np.mean(np.argmax(p, axis=1) == np.argmax(y, axis=1))
    return loss, {"accuracy": accuracy, "probabilities": p, "n": x.shape[0]}


def reductions_keeping_dims(z):
    a = np.sum(z / np.sum(z * z, keepdims=True))
    b = np.sum(np.var(z, axis=0, keepdims=True) * z) + np.sum(np.std(z, axis=-1, keepdims=True))
    c = np.sum(np.prod(z, 1, keepdims=True) - z.max(axis=0, keepdims=True) + z.mean(axis=1, keepdims=True) * z)
    return a + b + c + np.sum(np.min(z, axis=0, keepdims=True) * z.sum(axis=1, keepdims=True))


def two_outputs(x, y):
    a = np.sin(x) * y
    for i in range(2):
        a = a + x * i
    b = np.sum(x * x) + y
    return a, b


def moments(x):
    return np.mean(x), np.mean(x * x)


class Forces(NamedTuple):
    energy: float
    forces: np.ndarray


def report(x, k):
    """A dict of outputs, nested, with a str among them (no derivative: it is no leaf)."""
    return {"loss": k * np.sum(x ** 2), "slope": 2.0 * k * x, "model": "quadratic", "parts": (x[0], [np.sin(x)])}


def spring_forces(x, k):
    return Forces(0.5 * k * np.sum(x ** 2), -k * x)
