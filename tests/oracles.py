"""The three oracles every derivative is held against, for the project's own tests.

- central differences: the vector-Jacobian product against `adjoint.numerical_jacobian` contracted
  with the same cotangent (a few step sizes; one must agree);
- reverse against forward: <u, J v> from `adjoint.jvp` equals <J^T u, v> from `adjoint.vjp` for
  random u and v, to ~1e-10 of the size of the terms (no step size: it judges programs that
  central differences cannot);
- the compiled path against the Python path: `jit=True` gives what `jit=False` gives.

`failures(f, args, wrt)` runs them and returns what disagreed (an empty list when all agree); an
exception that is not an AdjointError propagates, and an AdjointError is returned as a refusal.
"""

import numpy as np

import adjoint

STEPS = (1e-6, 1e-5, 1e-7)
CD_TOL = 1e-5  # of the largest entry of the numerical product (at least 1), as the corpus
DOT_TOL = 1e-10  # of the sum of the terms' magnitudes
JIT_TOL = 1e-10  # (also the value each path gives against the function's own)


def _random_like(value, rng):
    if _container(value):
        return _map(lambda leaf: leaf if leaf is None or isinstance(leaf, str) else _random_like(leaf, rng), value)
    shape = np.shape(value)
    return rng.standard_normal(shape) if shape else float(rng.standard_normal())


def _copies(args):
    return tuple(_map(lambda a: np.copy(a) if isinstance(a, np.ndarray) else a, a) for a in args)


def _container(value):
    return isinstance(value, (dict, list, tuple))


def _map(fn, value):
    """fn of each leaf of a container (dict, list, tuple, NamedTuple), in its structure."""
    if isinstance(value, dict):
        return {k: _map(fn, v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_map(fn, v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_map(fn, v) for v in value)
    return fn(value)


def _leaves(values):
    """The leaves of a list of values, containers taken apart, in order (None and strs left out)."""
    out = []
    _map(lambda leaf: out.append(leaf) if leaf is not None and not isinstance(leaf, str) else None, list(values))
    return out


def failures(f, args, wrt=0, jit=True, forward=True, seed=0):
    """What disagrees among the oracles for f at args (a list of strings; empty when all agree).

    `jit=False` leaves out the compiled path (each Numba compile costs a second or so);
    `forward=False` leaves out forward mode, for programs it refuses on purpose."""
    wrt = wrt if isinstance(wrt, tuple) else (wrt,)
    rng = np.random.default_rng(seed)
    out = f(*_copies(args))
    u = _random_like(out, rng)
    found = []
    grads = _vjp(f, args, wrt, u, False)
    if isinstance(grads, str):
        return [grads]
    inputs = _leaves([args[w] for w in wrt])
    grads = _leaves(grads)
    if len(grads) != len(inputs):
        return [f"{len(grads)} gradients for {len(inputs)} inputs"]
    for x, g in zip(inputs, grads):
        if np.shape(g) != np.shape(x) or (isinstance(x, float) and not isinstance(g, float)):
            found.append(f"a gradient of shape {np.shape(g)} ({type(g).__name__}) for an input of shape "
                         f"{np.shape(x)} ({type(x).__name__})")
    found += _central_differences(f, args, wrt, u, grads)
    if forward:
        found += _reverse_against_forward(f, args, wrt, u, grads, rng)
    if jit:
        compiled = _vjp(f, args, wrt, u, True)
        if isinstance(compiled, str):
            found.append(compiled)
        else:
            for k, (a, b) in enumerate(zip(grads, _leaves(compiled))):
                if not np.allclose(a, b, rtol=JIT_TOL, atol=JIT_TOL):
                    found.append(f"jit=True gives {b!r} for input {k}, jit=False {a!r}")
    return found


def _vjp(f, args, wrt, u, jit):
    before = _copies(args)
    try:
        out, pullback = adjoint.vjp(f, *args, wrt=wrt, jit=jit)
        grads = pullback(u)
    except adjoint.AdjointError as e:
        return f"refused (jit={jit}): {e}"
    for a, b in zip(_leaves(args), _leaves(before)):
        if isinstance(a, np.ndarray) and not np.array_equal(a, b, equal_nan=True):
            return f"differentiating (jit={jit}) changed an argument"
    expected = _leaves([f(*_copies(args))])
    if np.ndim(expected[0]) == 0 and len(expected) == 1:  # (vjp's value is the function's own; this one the adjoint's)
        try:
            out = adjoint.value_and_grad(f, wrt=wrt, jit=jit)(*_copies(args))[0]
        except adjoint.AdjointError:
            pass
    for a, b in zip(_leaves([out]), expected):
        if np.shape(a) != np.shape(b) or not np.allclose(a, b, rtol=JIT_TOL, atol=JIT_TOL, equal_nan=True):
            return f"the value (jit={jit}) is {a!r}, the function's {b!r}"
    return grads


def _central_differences(f, args, wrt, u, grads):
    ndim = np.ndim(f(*_copies(args)))
    worst = None
    for eps in STEPS:
        jacobians = _leaves(adjoint.numerical_jacobian(f, *_copies(args), wrt=wrt, eps=eps))
        products = [np.tensordot(u, J, axes=ndim) if ndim else u * np.asarray(J) for J in jacobians]
        errors = [np.max(np.abs(np.asarray(g) - p), initial=0.0) / max(1.0, np.max(np.abs(p), initial=0.0))
                  for g, p in zip(grads, products)]
        if max(errors, default=0.0) <= CD_TOL:
            return []
        if worst is None:
            worst = (eps, errors, products)
    eps, errors, products = worst
    return [f"central differences (eps={eps}) disagree for input {k}: adjoint {np.asarray(g)!r}, "
            f"numerical {p!r}" for k, (g, p, e) in enumerate(zip(grads, products, errors)) if e > CD_TOL]


def _reverse_against_forward(f, args, wrt, u, grads, rng):
    vs = tuple(_random_like(args[w], rng) for w in wrt)
    try:
        _, t = adjoint.jvp(f, _copies(args), vs, wrt=wrt, jit=False)
    except adjoint.AdjointError as e:
        return [f"forward mode refused: {e}"]
    left = np.asarray(u) * np.asarray(t)
    right = [np.asarray(g) * np.asarray(v) for g, v in zip(grads, _leaves(vs))]
    scale = np.sum(np.abs(left)) + sum(np.sum(np.abs(r)) for r in right)
    lhs, rhs = float(np.sum(left)), float(sum(np.sum(r) for r in right))
    if abs(lhs - rhs) > DOT_TOL * max(scale, 1e-300):
        return [f"reverse against forward: <u, J v> = {lhs!r} (jvp), <J^T u, v> = {rhs!r} (vjp)"]
    return []
