"""The numerical checker: adjoint's derivatives against central differences.

`numerical_jacobian` differentiates any function numerically. `check_grad` compares adjoint's
vector-Jacobian product with the numerical Jacobian, argument by argument, and returns a report
that is truthy when every argument agrees. The project's own tests use exactly this code.
"""

import functools
from dataclasses import dataclass

import numpy as np

from .api import jvp, vjp
from .arguments import bind_call, name_of, plain, wrt_names
from .errors import ArgumentError


GARBLED = 0.5  # (central differences at two steps this far apart, relative to their size, measure no derivative:
# a chaotic map, a jump; nearer, as for a fast oscillation's curvature at the larger step, they still judge)
MODES_RTOL = 1e-9  # (<u, J v> and <J^T u, v>: two sums of products of one derivative, apart by roundings only)
EPS, OTHER_EPS = 1e-6, 1e-4  # (relative steps: the check's, and a second one where the check fails, which for a
# smooth function agrees with the first to about 1e-8 of the largest entry)


def numerical_jacobian(fn, *args, wrt=0, eps=EPS, **kwargs):
    """d fn / d args[wrt] by central differences: an array of shape out.shape + arg.shape per wrt entry.

    The arguments are checked as adjoint's derivatives check them (float inputs, no ndarray
    subclass), and the function is evaluated in float64 (float32 arguments as float64 copies, as the
    generated code runs): central differences in float32 would be noise."""
    fn = plain(fn)
    names, as_tuple = wrt_names(fn, wrt)
    call = bind_call(fn, names, args, kwargs)
    return call.regroup(_jacobians(call, eps), as_tuple)


def _jacobians(call, eps=EPS):
    """The numerical Jacobian for each wrt leaf of a bound call (arguments.Call)."""
    values = call.values
    out = _evaluate(call, values)  # (a function that fails for these arguments is said to, once)
    jacobians = []
    for name in call.wrt:
        i = call.params.index(name)
        x = values[i]
        scalar = not isinstance(x, np.ndarray)  # (a 0-d array stays an array)
        base = np.array(x, dtype=np.float64)
        columns = []
        for idx in np.ndindex(base.shape):
            h = eps * max(1.0, abs(float(base[idx])))
            up, dn = base.copy(), base.copy()
            up[idx] += h
            dn[idx] -= h
            f_up = _evaluate(call, _replaced(values, i, float(up) if scalar else up))
            f_dn = _evaluate(call, _replaced(values, i, float(dn) if scalar else dn))
            columns.append((f_up - f_dn) / (2 * h))
        jac = np.stack(columns, axis=-1).reshape(out.shape + base.shape) if columns else np.zeros(out.shape + base.shape)
        jacobians.append(jac)
    return jacobians


def _replaced(values, i, value):
    out = list(values)
    out[i] = value
    return out


def _evaluate(call, values):
    """The function of a bound call at the values of its parameters (arrays copied: it may write into
    its arguments), as a float64 array; an ArgumentError when it fails for them or returns what has
    no derivative (text, complex, None)."""
    fn = call.fn
    try:
        out = call.run(values)
    except Exception as e:  # noqa: BLE001 -- the user's function, failing for the arguments it was given
        raise ArgumentError(f"{name_of(fn)} raised {type(e).__name__} for the arguments given: {e}") from e
    if isinstance(out, (complex, np.complexfloating)) or isinstance(out, np.ndarray) and out.dtype.kind == "c":
        raise ArgumentError(f"{name_of(fn)} returned complex numbers ({out!r:.60}): adjoint differentiates real "
                            "functions; check their real and imaginary parts (np.real, np.imag) instead")
    try:
        result = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        result = None
    if result is None or out is None or isinstance(out, (str, bytes, dict)):
        raise ArgumentError(f"{name_of(fn)} returned a {type(out).__name__} ({out!r:.60}): numerical_jacobian "
                            "differentiates functions that return floats or float arrays")
    return result


@dataclass(frozen=True)
class Row:
    name: str
    shape: tuple
    max_abs: float
    max_rel: float
    ok: bool
    judged: bool = True  # False: central differences at two steps disagree with each other as much as they are large
    modes: float = None  # where not judged: |<u, J v> - <J^T u, v>|, relative, from forward and reverse mode

    @property
    def result(self):
        return "ok" if self.ok else "MISMATCH" if self.judged else "UNJUDGED"

    @property
    def modes_agree(self):
        return self.modes is not None and self.modes <= MODES_RTOL


@dataclass(frozen=True)
class Report:
    rows: tuple
    rtol: float

    @property
    def ok(self):
        """Every argument agrees with central differences (where those cannot judge, it is not verified:
        forward and reverse mode agreeing there checks adjoint's two transforms, not the rules they share)."""
        return all(r.ok for r in self.rows)

    def __bool__(self):
        return self.ok

    def __str__(self):
        width = max([12] + [len(r.name) for r in self.rows])
        head = f"{'argument':<{width}} {'shape':<14} {'max abs err':>12} {'max rel err':>12}  result"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(f"{r.name:<{width}} {str(r.shape):<14} {r.max_abs:>12.2e} {r.max_rel:>12.2e}  {r.result}")
        for r in self.rows:
            if not r.ok and not r.judged:
                lines.append(f"central differences cannot judge {r.name}: at steps {EPS:g} and {OTHER_EPS:g} they "
                             "disagree with each other as much as they are large (the function is too sensitive here "
                             "for them, or not smooth); " +
                             ("there is no forward-mode derivative to compare with" if r.modes is None else
                              f"forward and reverse mode {'agree' if r.modes_agree else 'DISAGREE'} there "
                              f"(<u, J v> - <J^T u, v> is {r.modes:.1e} of their size), which checks adjoint's two "
                              "transforms against each other, not the rules they share"))
        verdict = "agree" if self.ok else "DISAGREE" if any(r.judged and not r.ok for r in self.rows) else \
            "NOT VERIFIED: try another point, where central differences can judge"
        lines.append(f"{verdict} (tolerance {self.rtol:g}, relative to the largest entry)")
        return "\n".join(lines)


def check_grad(fn, *args, wrt=0, jit=None, rtol=1e-5, seed=0, mode="reverse", **kwargs):
    """Compare adjoint's derivative with central differences, per argument.

    Reverse mode (the default) compares the vector-Jacobian product u^T J for a random cotangent u
    (for a scalar function, the gradient); forward mode compares the Jacobian-vector product J t
    for a random tangent t of each argument in turn.
    """
    fn = plain(fn)
    names, _ = wrt_names(fn, wrt)
    call = bind_call(fn, names, args, kwargs)
    jacs = _jacobians(call)
    rng = np.random.default_rng(seed)
    by_name = dict(zip(call.params, call.values))
    inputs = [by_name[w] for w in call.wrt]
    if mode == "forward":
        with_keywords = functools.partial(fn, **kwargs) if kwargs else fn
        pairs, pairs_tangents = [], []
        for k, (x, jac) in enumerate(zip(inputs, jacs)):
            t = _random_like(rng, x)
            pairs_tangents.append(t)
            tangents = _only(call, inputs, k, t)
            got = jvp(with_keywords, args, tangents, wrt=names, jit=jit)[1]
            pairs.append((got, np.tensordot(jac, t, axes=np.ndim(t)) if np.ndim(t) else jac * t))
    else:
        out, pullback = vjp(fn, *args, wrt=names, jit=jit, **kwargs)
        u = _random_like(rng, out)
        pairs = [(g, np.tensordot(u, jac, axes=np.ndim(u)) if np.ndim(u) else u * jac)
                 for g, jac in zip(call.flat(pullback(u), True), jacs)]
    rows = []
    others = None
    for k, (name, (g, want)) in enumerate(zip(call.wrt, pairs)):
        err = np.abs(np.asarray(g, dtype=np.float64) - want)
        max_abs = float(np.max(err)) if err.size else 0.0
        scale = max(1.0, float(np.max(np.abs(want))) if np.size(want) else 1.0)
        ok = np.shape(g) == np.shape(want) and np.all(np.isfinite(g)) and max_abs / scale <= rtol
        judged = True
        if not ok and np.shape(g) == np.shape(want):  # (is it adjoint, or central differences, that is off?)
            others = others or _jacobians(call, OTHER_EPS)
            other = others[k]
            if mode == "forward":
                t = pairs_tangents[k]
                other = np.tensordot(other, t, axes=np.ndim(t)) if np.ndim(t) else other * t
            else:
                other = np.tensordot(u, other, axes=np.ndim(u)) if np.ndim(u) else u * other
            apart = np.max(np.abs(other - want), initial=0.0)  # (not judged where the two steps' results are as
            size = max(np.max(np.abs(want), initial=0.0), np.max(np.abs(other), initial=0.0))  # far apart as they
            judged = bool(apart <= rtol * scale or apart < GARBLED * size)  # are large: noise, not a derivative)
        modes = None if judged else _modes(fn, args, kwargs, names, call, k, jit, rng)
        rows.append(Row(call.paths.get(name, name), np.shape(want), max_abs, max_abs / scale, bool(ok), judged, modes))
    return Report(tuple(rows), rtol)


def _modes(fn, args, kwargs, names, call, k, jit, rng):
    """|<u, J v> - <J^T u, v>| relative to their size, for random u and v (v in the k-th wrt input
    only): reverse mode against forward mode, which no step size limits; None where forward mode
    refuses the function."""
    from .errors import AdjointError
    by_name = dict(zip(call.params, call.values))
    inputs = [by_name[w] for w in call.wrt]
    try:  # (either mode may refuse the function, or a structure of outputs this comparison does not take)
        out, pullback = vjp(fn, *args, wrt=names, jit=jit, **kwargs)
        u, v = _random_like(rng, out), _random_like(rng, inputs[k])
        transposed = call.flat(pullback(u), True)[k]
        tangents = _only(call, inputs, k, v)
        product = jvp(functools.partial(fn, **kwargs) if kwargs else fn, args, tangents, wrt=names, jit=jit)[1]
    except AdjointError:
        return None
    one, other = float(np.sum(u * np.asarray(product))), float(np.sum(np.asarray(transposed) * v))
    return abs(one - other) / max(abs(one), abs(other), np.finfo(float).tiny)


def _only(call, inputs, k, t):
    """Tangents of the wrt inputs, in the structure jvp takes: t for the k-th, zeros for the others."""
    return call.regroup([t if j == k else np.zeros_like(x) * 1.0 for j, x in enumerate(inputs)], True)


def _random_like(rng, x):
    """A standard normal float, or array of x's shape."""
    return float(rng.standard_normal()) if np.ndim(x) == 0 else rng.standard_normal(np.shape(x))
