"""The public API: thin layers over one core, `Derivative`, which holds a generated module, its
Python callable and (lazily) its Numba callable."""

import functools
import inspect
import numbers
import time
import warnings
import weakref

import numpy as np

from . import emit
from .custom import CustomVJP
from .errors import AdjointError, ArgumentError
from .pipeline import compile_reverse

_SIGNATURES = weakref.WeakKeyDictionary()  # function -> (its defaults, its signature)


def signature_of(fn):
    """fn's signature, computed again only when its defaults are replaced (every call binds with it)."""
    target = fn.fn if isinstance(fn, CustomVJP) else fn
    if inspect.ismethod(target) or not callable(target) or not hasattr(target, "__code__"):
        from .frontend import read
        read(target)  # raises the AdjointError that explains what adjoint can differentiate
    defaults, known = (target.__defaults__, target.__kwdefaults__), _SIGNATURES.get(target)
    if known is None or known[0][0] is not defaults[0] or known[0][1] is not defaults[1]:
        known = _SIGNATURES[target] = defaults, inspect.signature(target)
    return known[1]


def wrt_names(fn, wrt):
    """(parameter names, whether the caller asked for a tuple) for a wrt of ints, strs or a tuple."""
    params = list(signature_of(fn).parameters)
    as_tuple = isinstance(wrt, (tuple, list))
    names = []
    for w in (wrt if as_tuple else (wrt,)):
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise ArgumentError(f"wrt must be a position, a parameter name or a tuple of them, not {w!r}")
        if isinstance(w, int):
            if not -len(params) <= w < len(params):
                raise ArgumentError(f"wrt={w}: {_name(fn)} has {len(params)} parameters ({', '.join(params)})")
            w = params[w]
        elif w not in params:
            raise ArgumentError(f"wrt={w!r}: {_name(fn)} has no parameter `{w}` (it has {', '.join(params)})")
        names.append(w)
    if len(set(names)) != len(names):
        raise ArgumentError(f"wrt names a parameter twice: {names}")
    return tuple(names), as_tuple


def _name(fn):
    return getattr(fn, "__qualname__", repr(fn))


_CACHE = {}


def derivative(fn, wrt, jit=None, optimize=True, kinds=()):
    """The Derivative of fn for wrt, made once per (function, wrt, jit, optimize, parameter kinds)."""
    key = (fn, wrt, jit, optimize, kinds)
    if key not in _CACHE:
        _CACHE[key] = Derivative(fn, wrt, jit, optimize, kinds)
    return _CACHE[key]


def bind(fn, wrt, args, kwargs):
    """(positional values of every parameter, their kinds), checking the wrt inputs.

    The kinds are (name, number of dimensions) pairs, 0 for a number, for the arguments that are
    numbers or NumPy arrays: the generated code is specialised to them.
    """
    try:
        bound = signature_of(fn).bind(*args, **kwargs)
    except TypeError as e:
        raise ArgumentError(f"{_name(fn)}(): {e}") from None
    bound.apply_defaults()
    for w in wrt:
        bound.arguments[w] = _check_input(w, bound.arguments[w], fn)
    kinds = tuple((k, 0) if isinstance(v, (numbers.Number, np.number)) else (k, v.ndim)
                  for k, v in bound.arguments.items() if isinstance(v, (numbers.Number, np.number, np.ndarray)))
    return list(bound.arguments.values()), kinds


class Derivative:
    """The adjoint of one function for one wrt: its generated source and how to run it."""

    def __init__(self, fn, wrt, jit=None, optimize=True, kinds=()):
        if jit not in (None, True, False):
            raise ArgumentError(f"jit must be None, True or False, not {jit!r}")
        self.fn, self.wrt, self.jit = fn, wrt, jit
        self.generated = compile_reverse(fn, wrt, optimize, kinds)
        self._python = None
        self._numba = None
        self._compiled = set()
        self.jit_status = "not run yet"

    @property
    def text(self):
        return self.generated.text

    def python(self):
        if self._python is None:
            g = self.generated
            module = emit.load(g.module, g.path, g.externals)
            self._python = getattr(module, g.entry)
        return self._python

    def numba(self):
        if self._numba is None:
            from . import jit  # the only module that imports Numba
            g = self.generated
            module = emit.load(g.module, g.path, jit.jit_externals(g.externals), suffix="_jit")
            self._numba = jit.compile_function(getattr(module, g.entry))
        return self._numba

    def __call__(self, args, g):
        """(output, gradients) for positional `args` (already bound) and the output's cotangent g."""
        if self.jit is False:
            self.jit_status = "python (jit=False)"
            return self.python()(*args, g)
        if self.jit_status.startswith("python"):
            return self.python()(*args, g)
        from . import jit
        sig = jit.signature(list(args) + [g])
        if sig not in self._compiled:
            try:
                jit.compile_for(self.numba(), sig)
            except Exception as e:  # noqa: BLE001 -- whatever Numba raised while compiling
                error = jit.explain(e, self.generated.path)
                if self.jit is True:
                    raise error from None
                warnings.warn(f"adjoint: running the adjoint of {_name(self.fn)} as Python, since {error}",
                              stacklevel=4)
                self.jit_status = "python (numba could not compile it)"
                return self.python()(*args, g)
            self._compiled.add(sig)
            if self.jit or self.jit_status == "not run yet":
                self.jit_status = "numba" if self.jit else "numba (first call, compiled)"
            return self.numba()(*args, g)
        if self.jit_status == "numba (first call, compiled)":
            return self.choose(args, g)
        return self.numba()(*args, g)

    def choose(self, args, g):
        """Under jit=None: code with loops stays on Numba; straight-line array code is timed on each
        path (the faster of two calls, after a warm-up call of the Python one) and keeps the faster:
        NumPy's own kernels often beat Numba's array expressions on large arrays."""
        if self.generated.has_loops:
            self.jit_status = "numba (the code has loops)"
            return self.numba()(*args, g)
        python, compiled = self.python(), self.numba()
        python(*args, g)  # warm: the first call pays for loading and first touches of memory
        t_numba, result = _fastest(compiled, args, g)
        t_python, _ = _fastest(python, args, g)
        faster = "python" if t_python < 0.8 * t_numba else "numba"
        self.jit_status = f"{faster} (faster: numba {t_numba * 1e3:.3g} ms, python {t_python * 1e3:.3g} ms a call)"
        return result


def _fastest(fn, args, g, calls=2):
    """(the shortest time of a few calls, the result of the last)."""
    best = float("inf")
    for _ in range(calls):
        t0 = time.perf_counter()
        result = fn(*args, g)
        best = min(best, time.perf_counter() - t0)
    return best, result


def _check_input(name, value, fn):
    if isinstance(value, bool) or isinstance(value, (numbers.Integral, np.integer)):
        raise ArgumentError(f"wrt names `{name}` of {_name(fn)}, which is an int ({value!r}): only float "
                            f"inputs have a gradient; pass float({name}) or leave `{name}` out of wrt")
    if isinstance(value, (numbers.Real, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray):
        if not np.issubdtype(value.dtype, np.floating):
            raise ArgumentError(f"wrt names `{name}` of {_name(fn)}, an array of {value.dtype}: only float "
                                f"arrays have a gradient; pass {name}.astype(float)")
        return value
    raise ArgumentError(f"wrt names `{name}` of {_name(fn)}, a {type(value).__name__}: adjoint differentiates "
                        "floats and float NumPy arrays (pass np.asarray(...))")


def _grads(values, as_tuple):
    grads = tuple(float(v) if isinstance(v, (float, np.floating)) else v for v in values)
    return grads if as_tuple else grads[0]


def _scalar(out, fn):
    if not isinstance(out, (numbers.Number, np.number, np.ndarray)):
        raise ArgumentError(f"grad needs {_name(fn)} to return a float, but it returned a {type(out).__name__}")
    if np.ndim(out) != 0:
        raise ArgumentError(f"grad needs {_name(fn)} to return a scalar, but it returned an array of shape "
                            f"{np.shape(out)}; use adjoint.vjp for array outputs")
    return float(out) if isinstance(out, (float, np.floating, np.ndarray)) else out


def value_and_grad(fn, wrt=0, jit=None):
    """A function returning (f(*args), gradient of f with respect to wrt)."""
    names, as_tuple = wrt_names(fn, wrt)

    @functools.wraps(fn)
    def value_and_grad_fn(*args, **kwargs):
        values, kinds = bind(fn, names, args, kwargs)
        out, *grads = derivative(fn, names, jit, True, kinds)(values, 1.0)
        return _scalar(out, fn), _grads(grads, as_tuple)

    return value_and_grad_fn


def grad(fn, wrt=0, jit=None):
    """A function returning the gradient of the scalar function fn with respect to wrt."""
    vg = value_and_grad(fn, wrt, jit)

    @functools.wraps(fn)
    def grad_fn(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    return grad_fn


def vjp(fn, *args, wrt=0, jit=None, **kwargs):
    """(fn(*args), pullback) where pullback(cotangent) gives the vector-Jacobian product(s)."""
    names, as_tuple = wrt_names(fn, wrt)
    values, kinds = bind(fn, names, args, kwargs)
    d = derivative(fn, names, jit, True, kinds)
    out = fn(*[np.copy(v) if isinstance(v, np.ndarray) else v for v in values])  # fn may write into them

    def pullback(cotangent):
        if np.shape(cotangent) != np.shape(out):
            raise ArgumentError(f"the cotangent has shape {np.shape(cotangent)}, the output {np.shape(out)}")
        ct = float(cotangent) if np.ndim(cotangent) == 0 else np.asarray(cotangent, dtype=np.float64)
        _, *grads = d(values, ct)
        return _grads(grads, as_tuple)

    return out, pullback


def source(fn, mode="reverse", wrt=0, optimize=True):
    """The generated code, as text."""
    if mode != "reverse":
        raise AdjointError(f"mode={mode!r}: this version of adjoint generates reverse mode only")
    names, _ = wrt_names(fn, wrt)
    return derivative(fn, names, None, optimize).text


class Differentiated:
    """A function with its derivatives attached: `f(x)` runs it unchanged, `f.grad(x)` differentiates it."""

    def __init__(self, fn, wrt=0, jit=None):
        functools.update_wrapper(self, fn)
        self.fn, self.wrt, self.jit = fn, wrt, jit
        wrt_names(fn, wrt)  # a bad wrt fails at decoration time

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def grad(self, *args, **kwargs):
        return grad(self.fn, self.wrt, self.jit)(*args, **kwargs)

    def value_and_grad(self, *args, **kwargs):
        return value_and_grad(self.fn, self.wrt, self.jit)(*args, **kwargs)

    def vjp(self, *args, **kwargs):
        return vjp(self.fn, *args, wrt=self.wrt, jit=self.jit, **kwargs)

    def source(self, mode="reverse"):
        return source(self.fn, mode, self.wrt)

    @property
    def jit_status(self):
        """Which path the last derivative ran on: numba, or python and why."""
        names, _ = wrt_names(self.fn, self.wrt)
        runs = [d for (f, w, j, *_), d in _CACHE.items() if f is self.fn and w == names and j == self.jit]
        return runs[-1].jit_status if runs else "not run yet"

    def __repr__(self):
        return f"<adjoint.differentiate {_name(self.fn)} wrt={self.wrt!r} jit={self.jit!r}: {self.jit_status}>"


def differentiate(fn=None, *, wrt=0, jit=None):
    """Decorator: `@differentiate` or `@differentiate(wrt=("x", "y"), jit=False)`."""
    if fn is None:
        return lambda f: Differentiated(f, wrt, jit)
    return Differentiated(fn, wrt, jit)
