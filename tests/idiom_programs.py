"""Programs in the Python people write around their numbers: comprehensions and generator
expressions, enumerate(zip(...)), reversed(range(...)), helpers that write into their arguments and
return nothing, lists appended to and stacked. Each with a way to make its arguments and its wrt."""

import operator
from typing import NamedTuple

import numpy as np


def dot_by_generator(w, x):
    return sum(w[i] * x[i] for i in range(len(x)))


def rows_by_comprehension(A, v):
    Y = np.array([np.tanh(row * v) for row in A])
    return np.sum(Y ** 2) + np.sum(np.stack([r @ v for r in A]))


def zipped_comprehensions(x, y):
    return np.sum(np.array([a * b for a, b in zip(x, y)])) + sum(i * a for i, a in enumerate(x))


def nested_generator(A):
    return sum(A[i, j] * A[j, i] for i in range(A.shape[0]) for j in range(A.shape[1]) if i != j)


def max_and_min_of_generators(x):
    return max(np.sin(v) for v in x) - min(v * v for v in x) + max(x[i] for i in range(2))


def comprehension_over_a_list(ws, x):
    hs = [np.tanh(w * x) for w in ws]
    d = {k: v * 2.0 for k, v in zip(["a", "b"], hs)}
    return np.sum(np.stack(hs)) + np.sum(d["a"] * d["b"]) + sum(np.sum(h) for h in hs)


def sgd_step_by_dict_comprehension(params, grads, lr):
    new = {k: params[k] - lr * grads[k] for k in params}
    return sum(np.sum(v ** 2) for v in new.values())


def comprehension_with_a_step(x):
    return np.sum(np.array([x[i] * x[i + 1] for i in range(0, len(x) - 1, 2)]))


def comprehension_names_are_its_own(x):
    i = 2
    s = sum(x[i] for i in range(3))
    return s * x[i]


def enumerate_zip(x, y):
    s = 0.0
    for i, (a, b) in enumerate(zip(x, y)):
        s += i * a * b
    return s


def enumerate_from(x):
    s = 0.0
    for i, a in enumerate(x, 1):
        s = s + a / i
    for j, a in enumerate(x, start=2):
        s = s + a * j
    return s


def reversed_loops(x):
    s = 0.0
    for i in reversed(range(len(x))):
        s = s * 0.5 + x[i]
    for i in reversed(range(1, len(x), 2)):
        s = s * 0.3 + x[i]
    for i in reversed(range(len(x) - 1, 0, -2)):
        s = s * 0.7 + x[i] ** 2
    for v in reversed(x):
        s = s * 0.9 + np.sin(v)
    return s


def zip_of_three(x, y, z):
    s = 0.0
    for a, b, c in zip(x, y, z):
        s += a * b * c
    return s


def _smooth(A, B):
    B[1:-1] = 0.5 * (A[2:] + A[:-2])
    B[0] = A[0]
    B[-1] = A[-1]


def _add_square(acc, x):
    acc += x * x


def helpers_that_write(x):
    a = x * 1.0
    b = np.zeros_like(x)
    for _ in range(3):
        _smooth(a, b)
        _smooth(b, a)
    acc = np.zeros_like(x)
    _add_square(acc, a)
    _add_square(acc, b)
    return np.sum(acc * x)


def rnn_appending(x, W):
    h = x
    hs = []
    for t in range(4):
        h = np.tanh(W @ h)
        hs.append(h)
    return np.sum(np.stack(hs) ** 2) + np.sum(hs[-1])


WEIGHTS = {"scale": 2.0, "shift": np.array([0.5, -0.5, 1.0])}


def reads_a_module_dict(x):
    return np.sum(WEIGHTS["scale"] * np.sin(x + WEIGHTS["shift"]))


def make_closure(ws):
    def model(x):
        return sum(np.sum(np.tanh(w * x)) for w in ws)
    return model


closure_over_a_tuple = make_closure((np.array([0.5, 1.0, 2.0]), np.array([1.5, -1.0, 0.3])))


def keyword_only(x, *, scale=2.0, power=2):
    return np.sum(scale * x ** power)


def star_args(*xs):
    return np.sum(xs[0] * xs[1]) + sum(np.sum(x) for x in xs)


def star_kwargs(x, **options):
    return np.sum(np.tanh(options["gain"] * x) + options["bias"])


def _combine(a, b, *rest, weight=1.0, **extra):
    return weight * a * b + sum(rest) + extra["offset"]


def calls_with_stars(x, y):
    pair = (x, y)
    opts = {"weight": 0.5, "offset": 1.0}
    return np.sum(_combine(*pair, x * y, y, **opts))


def heat_ping_pong(x, n):
    u = x.copy()
    v = np.zeros_like(x)
    for _ in range(n):
        v[1:-1] = u[1:-1] + 0.2 * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        v[0] = u[0]
        v[-1] = u[-1]
        u, v = v, u
    return np.sum(u ** 2) + u[1] * v[2]


def three_buffers_rotated(x):
    a = x.copy()
    b = x * 2.0
    c = np.zeros_like(x)
    for _ in range(4):
        c[:] = np.sin(a) + b
        a, b, c = b, c, a
    return np.sum(a * b) + np.sum(c)


def swap_then_write(x):
    u = x.copy()
    v = np.zeros_like(x)
    s = 0.0
    for t in range(3):
        u, v = v, u
        v[0] = x[t] * 2.0
        v[1:] = v[1:] * 0.5 + u[1:]
        s = s + np.sum(u * v)
    return s


STEPS = 3


def everyday_forms(params, x, coeffs):
    hs = []
    h = x
    for _ in range(STEPS):  # (a module-level constant: the list grows by a known count)
        h = np.tanh(params["w1"] * h)
        hs.append(h)
    (a, b), c = (params["w1"], params["bias"]), params["w2"]
    s = sum(np.sum(v * v) for v in hs)
    for name, w in params.items():
        if name.startswith("w"):
            s = s + 0.01 * np.sum(w * w)
    for i, cval in enumerate(coeffs[1:], 1):
        s = s + cval * i * np.sum(x)
    for i, r in enumerate(reversed(x)):
        s = s + i * r
    s = s + sum((v * 2.0 for v in x), 1.0)
    return s + np.sum(a * b * c)


def gram_by_nested_comprehension(A, B):
    G = np.array([[np.dot(a, b) for b in B] for a in A])
    T = np.array([[A[i, 0] * B[j, 1] for j in range(len(B))] for i in range(len(A))])
    return np.sum(G * G) + np.sum(np.sin(T))


GAINS = np.array([[0.5, -1.0, 0.3], [2.0, 0.25, -0.7]])


def methods_of_a_module_array(x):
    return np.sum(GAINS.transpose() @ np.sin(x[:2])) + GAINS.sum() * np.sum(x) + np.sum(GAINS.astype(float) @ x)


# (function, make arguments, wrt)
def softmax_by_methods(A, x):
    z = A - A.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    return np.sum(p * A.mean(axis=0)) + np.sum(x.clip(-0.5, 0.5)) + x.cumsum(axis=0)[-1]


def _weighted(a, b, weights=None, options=None):
    if weights is None:
        weights = (1.0, 1.0)
    options = options or {}
    scale = 2.0 if options.get("double", False) else 1.0
    first = 1.0 if weights is None else weights[0]
    return scale * (first * np.sum(a) + weights[1] * np.sum(b ** 2))


def defaults_of_none(a, b):
    return _weighted(a, b) + _weighted(a, b, weights=(0.5, 2.0), options={"double": True})


class Particle(NamedTuple):
    pos: np.ndarray
    vel: np.ndarray
    mass: float = 1.0


def _kick(p, dt):
    return Particle(p.pos + dt * p.vel, p.vel - dt * p.pos / p.mass, p.mass)


def named_tuple_made_and_returned(p, dt):
    for _ in range(3):
        p = _kick(p, dt)
    q = Particle(p.pos * 2.0, vel=p.vel)
    return np.sum(q.pos * q.vel) + q.mass


def updated_after_a_copy(x, n):
    x = x.copy()
    for _ in range(n):
        x += 0.1 * np.sin(x)
    return np.sum(np.concatenate([[x[0]], x, [1.0]]) ** 2)


def best_so_far(x, w):
    best = None
    for v in x * w:
        if best is None or v > best:
            best = v
    return best * 2.0




def none_tested_at_run_time(x, w=None):
    if w is None:
        return np.sum(x * x)
    return np.sum(x * w)


def none_set_later_in_the_loop(x, n):
    w, s = x * 2.0, 0.0
    for _ in range(n):
        if w is None:
            s = s + np.sum(x * x)
            w = x * 1.0
        else:
            s = s + np.sum(w)
            w = None
    return s


def _laplacian_into(src, dst, k):
    dst[:] = k * (src[:-2] - 2.0 * src[1:-1] + src[2:])


def helper_fills_a_view_of_the_callers_buffer(x, k):
    out = np.zeros_like(x)
    _laplacian_into(x, out[1:-1], k)
    inner = out[1:3]
    inner[...] = inner * 2.0 + x[:2]
    return np.sum(out ** 2) + out[0]


def operators_as_functions(x, y):
    """operator.mul and friends called as functions (as code written for functools.reduce or a table of
    operations calls them)."""
    z = operator.add(operator.mul(x, y), operator.truediv(x, 2.0))
    z = operator.sub(z, operator.neg(operator.pow(y, 2)))
    return np.sum(np.where(operator.lt(x, y), z, operator.mod(z, 1.5)))


def noise_from_seeded_generators(x, A):
    """Random draws made in the function (np.random's generators): values to the derivative."""
    rng = np.random.default_rng(3)
    legacy = np.random.RandomState(0)
    z = x + 0.1 * rng.normal(size=x.shape[0]) * legacy.randn(x.shape[0])
    return np.linalg.norm(A @ z) + np.sum(z * rng.uniform(-1.0, 1.0, size=(3, 4))[1])


def _moments(x):
    return np.mean(x), np.std(x)


def _standardized(stats, x):
    mean, spread = stats
    return (x - mean) / spread


def helper_result_passed_on_whole(x):
    """A helper's tuple given whole to another helper: f(g(x))."""
    return np.sum(_standardized(_moments(x), x) ** 3)


PROGRAMS = [
    (helper_result_passed_on_whole, lambda r: (r.normal(size=6),), (0,)),
    (noise_from_seeded_generators, lambda r: (r.normal(size=4), r.normal(size=(3, 4))), (0, 1)),
    (operators_as_functions, lambda r: (r.normal(size=5), r.uniform(0.5, 2.0, size=5)), (0, 1)),
    (dot_by_generator, lambda r: (r.normal(size=5), r.normal(size=5)), (0, 1)),
    (rows_by_comprehension, lambda r: (r.normal(size=(3, 4)), r.normal(size=4)), (0, 1)),
    (zipped_comprehensions, lambda r: (r.normal(size=5), r.normal(size=4)), (0, 1)),
    (nested_generator, lambda r: (r.normal(size=(3, 3)),), (0,)),
    (max_and_min_of_generators, lambda r: (r.normal(size=5),), (0,)),
    (comprehension_over_a_list, lambda r: ([0.5, -1.0], r.normal(size=3)), (0, 1)),
    (sgd_step_by_dict_comprehension, lambda r: ({"a": r.normal(size=3), "b": r.normal(size=(2, 2))},
                                                {"a": r.normal(size=3), "b": r.normal(size=(2, 2))}, 0.1), (0, 1, 2)),
    (comprehension_with_a_step, lambda r: (r.normal(size=6),), (0,)),
    (comprehension_names_are_its_own, lambda r: (r.normal(size=4),), (0,)),
    (enumerate_zip, lambda r: (r.normal(size=5), r.normal(size=5)), (0, 1)),
    (enumerate_from, lambda r: (r.normal(size=5),), (0,)),
    (reversed_loops, lambda r: (r.normal(size=6),), (0,)),
    (zip_of_three, lambda r: (r.normal(size=5), r.normal(size=5), r.normal(size=4)), (0, 1, 2)),
    (helpers_that_write, lambda r: (r.normal(size=6),), (0,)),
    (rnn_appending, lambda r: (r.normal(size=3), r.normal(size=(3, 3))), (0, 1)),
    (reads_a_module_dict, lambda r: (r.normal(size=3),), (0,)),
    (closure_over_a_tuple, lambda r: (r.normal(size=3),), (0,)),
    (calls_with_stars, lambda r: (r.normal(size=3), r.normal(size=3)), (0, 1)),
    (heat_ping_pong, lambda r: (r.normal(size=6), 5), (0,)),
    (three_buffers_rotated, lambda r: (r.normal(size=4),), (0,)),
    (swap_then_write, lambda r: (r.normal(size=4),), (0,)),
    (everyday_forms, lambda r: ({"w1": r.normal(size=3), "bias": r.normal(size=3), "w2": r.normal(size=3)},
                                r.normal(size=3), [0.5, 1.5, 2.0]), (0, 1, 2)),
    (gram_by_nested_comprehension, lambda r: (r.normal(size=(3, 2)), r.normal(size=(4, 2))), (0, 1)),
    (methods_of_a_module_array, lambda r: (r.normal(size=3),), (0,)),
    (softmax_by_methods, lambda r: (r.normal(size=(3, 4)), r.normal(size=4)), (0, 1)),
    (defaults_of_none, lambda r: (r.normal(size=3), r.normal(size=2)), (0, 1)),
    (named_tuple_made_and_returned, lambda r: (Particle(r.normal(size=2), r.normal(size=2), 2.0), 0.1), (0, 1)),
    (updated_after_a_copy, lambda r: (r.normal(size=3), 3), (0,)),
    (best_so_far, lambda r: (r.normal(size=4), 1.3), (0, 1)),
    (helper_fills_a_view_of_the_callers_buffer, lambda r: (r.normal(size=5), 1.3), (0, 1)),
]
