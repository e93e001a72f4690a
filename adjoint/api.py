"""The public API: thin layers over one core, `Derivative`, which holds a generated module, its
Python callable and (lazily) its Numba callable."""

import ast
import functools
import inspect
import numbers
import threading
import time
import warnings
import weakref

import numpy as np

from . import frontend
from .backend import background, cache, emit, native
from .custom import CustomVJP
from .errors import AdjointError, ArgumentError
from .pipeline import compile_derivative
from .rules.table import TABLE

# Under jit=None, straight-line code whose first call as Python spends this long per statement (or
# more) does its work inside NumPy's kernels: Numba would save microseconds of interpretation a
# statement, after compiling for seconds, and its array code is seldom faster on large arrays.
NUMPY_BOUND = 50e-6

# Under jit=None, code with loops whose first call as Python took less than this many seconds
# (while Numba compiled it) runs as Python again in a later process while Numba loads it from its
# cache: starting Numba (importing it, its NumPy support and SciPy's BLAS) takes about half a second.
QUICK_PYTHON = 0.2

_SIGNATURES = weakref.WeakKeyDictionary()  # function -> ((its defaults and code), its signature)
_LAST_RUN = {}  # (function, wrt names, jit) -> the Derivative that ran last (for jit_status)


def signature_of(fn):
    """fn's signature, computed again only when its defaults are replaced (every call binds with it)."""
    target = fn.fn if isinstance(fn, CustomVJP) else fn
    if inspect.ismethod(target) or not callable(target) or not hasattr(target, "__code__") or \
            target.__code__.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        from .frontend import check_subset, read
        check_subset(read(target))  # raises the AdjointError that explains what adjoint can differentiate
    # (its code too: replacing __code__, as IPython's autoreload does, may rename the parameters)
    defaults, known = (target.__defaults__, target.__kwdefaults__, target.__code__), _SIGNATURES.get(target)
    if known is None or any(a is not b for a, b in zip(known[0], defaults)):
        # its own parameters, not those of a function it says it wraps (functools.wraps): a call binds by them
        known = _SIGNATURES[target] = defaults, inspect.signature(target, follow_wrapped=False)
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


def derivative(fn, wrt, jit=None, optimize=True, kinds=(), mode="reverse"):
    """The Derivative of fn for wrt, made once per (function, wrt, jit, optimize, parameter kinds, mode)
    and state of the rule table (a rule given again by defvjp makes a new one), and made again when a
    module-level name it read has been given another value (a constant, a helper function) or the
    code of the function or of a function it inlined was replaced (`f.__code__ = ...`, as IPython's
    autoreload does)."""
    key = (fn, wrt, jit, optimize, kinds, mode, TABLE.version)
    d = _CACHE.get(key)
    if d is None or not d.current():
        d = _CACHE[key] = Derivative(fn, wrt, jit, optimize, kinds, mode)
    return d


def bind(fn, wrt, args, kwargs):
    """(positional values of every parameter, their kinds), checking the arguments.

    The kinds are (name, number of dimensions) pairs, 0 for a number, for the arguments that are
    numbers or NumPy arrays: the generated code is specialised to them. The values are what the
    generated code runs on: float16 and float32 arrays and NumPy scalars as float64 copies.
    """
    call = _bind(fn, wrt, args, kwargs)
    return call.values, call.kinds


class _Call:
    """A call's arguments bound: `values` (every parameter, positionally, as the generated code takes
    them), `kinds`, `inputs` (the wrt arguments as the caller gave them, whose types the gradients
    take) and `given` (every parameter as the caller gave it; `values` itself when no argument was
    converted)."""

    __slots__ = ("values", "kinds", "inputs", "given")

    def __init__(self, values, kinds, inputs, given):
        self.values, self.kinds, self.inputs, self.given = values, kinds, inputs, given

    @property
    def converted(self):
        return self.given is not self.values


def _bind(fn, wrt, args, kwargs):
    names = _all_positional(fn, args, kwargs)
    if names is not None:  # the common call, bound without inspect (a gradient in an optimiser's loop)
        arguments = dict(zip(names, args))
    else:
        try:
            bound = signature_of(fn).bind(*args, **kwargs)
        except TypeError as e:
            raise ArgumentError(f"{_name(fn)}(): {e}") from None
        bound.apply_defaults()
        arguments = bound.arguments
    inputs = [arguments[w] for w in wrt]
    values, kinds = [], []
    converted = None  # id of an argument converted -> its float64 copy (the same array passed twice stays one)
    for k, v in arguments.items():
        t = type(v)
        if k in wrt:
            if not (t is float or t is np.ndarray and v.dtype.kind == "f" and v.dtype.itemsize == 8
                    and v.flags.c_contiguous):
                if converted is None:
                    converted = {}
                v = _check_input(k, v, fn, converted)
                t = type(v)
        elif t is np.ndarray:
            if v.dtype.kind == "f" and v.dtype.itemsize < 8 or not v.flags.c_contiguous:
                if converted is None:
                    converted = {}
                v = _float64(v, converted)
        elif t is not float and t is not int:
            if isinstance(v, np.ndarray):
                raise _subclass_error(k, v, fn)
            if isinstance(v, (np.float16, np.float32)):
                if converted is None:
                    converted = {}
                converted[id(v)] = v
                v, t = float(v), float
            elif t is list or t is tuple or t is dict:
                _refuse_subclasses_in(k, v, fn)
        values.append(v)
        if t is float:
            kinds.append((k, 0))
        elif t is np.ndarray:
            if v.ndim:  # (a 0-d array is an array, which a subscript can write into: not a number)
                kinds.append((k, v.ndim))
        else:
            d = _kind(v)
            if d is not None:
                kinds.append((k, d))
    given = list(arguments.values()) if converted else values
    return _Call(values, tuple(kinds), inputs, given)


def _float64(array, converted):
    """A C-contiguous copy of an array, in float64 if it held smaller floats (one per array, however often
    it is passed): Numba's reshape refuses other layouts when the code runs, and float32 code is fragile."""
    copy = converted.get(id(array))
    if copy is None:
        dtype = np.float64 if array.dtype.kind == "f" else array.dtype
        copy = converted[id(array)] = array.astype(dtype, order="C")
    return copy


def _subclass_error(name, value, fn):
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    return ArgumentError(
        f"`{name}` of {_name(fn)} is a {kind}, a subclass of numpy.ndarray: adjoint differentiates plain "
        f"arrays (a subclass may change what operators mean: np.matrix's `*` is a matrix product, a masked "
        f"array skips entries); pass np.asarray({name})")


def _refuse_subclasses_in(name, value, fn, depth=0):
    """Refuse an ndarray subclass inside a list, tuple or dict argument."""
    for v in (value.values() if type(value) is dict else value):
        if isinstance(v, np.ndarray):
            if type(v) is not np.ndarray:
                raise _subclass_error(f"{name}[...]", v, fn)
        elif depth < 4 and type(v) in (list, tuple, dict):
            _refuse_subclasses_in(name, v, fn, depth + 1)


def _refuse_subclasses_read(fn, externals):
    """Refuse a module-level ndarray subclass that the function reads."""
    for name, v in externals.items():
        if isinstance(v, np.ndarray) and type(v) is not np.ndarray:
            kind = f"{type(v).__module__}.{type(v).__qualname__}"
            raise ArgumentError(
                f"{_name(fn)} reads the module-level `{name}`, a {kind}, a subclass of numpy.ndarray: adjoint "
                f"differentiates with plain arrays (np.matrix's `*` is a matrix product, a masked array skips "
                f"entries); make it a plain array, `{name} = np.asarray({name})`")


def _all_positional(fn, args, kwargs):
    """fn's parameter names when args give every one of them by position, else None."""
    target = fn.fn if isinstance(fn, CustomVJP) else fn
    code = getattr(target, "__code__", None)
    if kwargs or code is None or code.co_argcount != len(args) or code.co_kwonlyargcount \
            or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return None
    return code.co_varnames[:len(args)]


def _kind(value):
    """The number of dimensions of a number (0) or NumPy array, else None."""
    if type(value) is float:
        return 0
    if isinstance(value, np.ndarray):
        return value.ndim or None  # (a 0-d array is not a number: see bind)
    if isinstance(value, (numbers.Number, np.number)):
        return 0
    return None


class Derivative:
    """The adjoint (or tangent) of one function for one wrt: its generated source and how to run it.

    Called with the bound arguments and the seeds the generated function takes after them: the
    output's cotangent in reverse mode, one tangent per wrt input in forward mode."""

    def __init__(self, fn, wrt, jit=None, optimize=True, kinds=(), mode="reverse"):
        if jit not in (None, True, False):
            raise ArgumentError(f"jit must be None, True or False, not {jit!r}")
        self.fn, self.wrt, self.jit = fn, wrt, jit
        self.generated = compile_derivative(fn, wrt, mode, optimize, kinds)
        # the functions whose text it was made from, with the code each ran then
        self.codes = frontend.functions_read(fn, self.generated.nf.bindings)
        _refuse_subclasses_read(fn, self.generated.externals)
        self.arrays = tuple(self.generated.externals[n] for n in self.generated.arrays)
        self._python = None
        self._dispatcher = None
        self._numba = None
        self._compiled = {}  # kind key -> the compiled callable (Numba's dispatcher or a native module)
        self._jobs = {}  # kind key -> background.Compilation running
        self.jit_status = "not run yet"

    @property
    def text(self):
        return self.generated.text

    def current(self):
        """Whether the functions it was made from run the code they ran then, and each name it read
        still refers to the object it did."""
        for f, code in self.codes:
            if f.__code__ is not code:
                return False
        return frontend.still_bound(self.generated.nf.bindings)

    def python(self):
        if self._python is None:
            g = self.generated
            module = emit.load(g.module, g.path, g.text, g.externals)
            self._python = _passing(getattr(module, g.entry), self.arrays)
        return self._python

    def numba(self):
        self.dispatcher()
        return self._numba

    def dispatcher(self):
        with _NUMBA_LOCK:  # (a compile on another thread may ask first)
            if self._dispatcher is None:
                from .backend import jit  # the only module that imports Numba
                g = self.generated
                emit.restore(g.path, g.text)  # (Numba's cache is keyed by the file, which may have gone since)
                module = emit.load(g.module, g.path, g.text, jit.jit_externals(g.externals), suffix="_jit")
                self._dispatcher = jit.compile_function(getattr(module, g.entry))
                self._numba = _passing(self._dispatcher, self.arrays)
        return self._dispatcher

    def compile(self, args, seeds):
        """Compile the Numba dispatcher for the arguments' types now (or load it from the cache)."""
        from .backend import jit
        jit.compile_for(self.dispatcher(), jit.signature([*args, *seeds, *self.arrays]))

    def __call__(self, args, *seeds):
        """(output, derivatives) for positional `args` (already bound) and the seeds."""
        _LAST_RUN[(self.fn, self.wrt, self.jit)] = self
        if self.jit is False:
            self.jit_status = "python (jit=False)"
            return self.python()(*args, *seeds)
        if self.jit_status.startswith("python") and not self._jobs:
            return self.python()(*args, *seeds)
        if self.jit is None and self.jit_status == "not run yet" and not self.generated.has_loops:
            python, n = self.python(), self.statements()
            spent, result = _fastest(python, [*args, *seeds], calls=1)
            if spent >= n * NUMPY_BOUND:  # the first call may pay for loading and first touches: again
                spent, result = _fastest(python, [*args, *seeds], calls=1)
            if spent >= n * NUMPY_BOUND:
                self.jit_status = (f"python (not compiled: {spent * 1e3:.3g} ms in {n} statements of straight-line "
                                   "array code is NumPy's own work, which Numba would not do faster)")
                return result
        key = self.kinds(args, seeds)
        compiled = self._compiled.get(key) or self.load_native(key)
        if compiled is None:
            mark = emit.compiled_mark(self.generated.module, repr(key))
            if self.jit is None and self.generated.has_loops and (key in self._jobs or _worth_racing(mark)):
                return self.python_while_compiling(key, mark, args, seeds)
            try:
                self.compile(args, seeds)
            except Exception as e:  # noqa: BLE001 -- whatever Numba raised while compiling
                from .backend import jit
                if self.jit is True:
                    raise jit.explain(e, self.generated.path) from None
                return self.python_instead(e, args, seeds)
            self._compiled[key] = self.numba()
            _mark(mark)
            self.build_native(key, args, seeds)
            if self.jit or self.jit_status == "not run yet":
                self.jit_status = "numba" if self.jit else "numba (first call, compiled)"
            return self.numba()(*args, *seeds)
        if self.jit_status == "numba (first call, compiled)":
            return self.choose(compiled, args, seeds)
        return compiled(*args, *seeds)

    def kinds(self, args, seeds):
        """The key of a call's argument kinds: what Numba's type of each value it passes depends on,
        cheaper than Numba's typeof on every call; with the module-level arrays, which may change in place."""
        return tuple(_kind_key(a) for a in (*args, *seeds, *self.arrays))

    def native_name(self, key):
        """The name of the native module for arguments of these kinds (adjoint/native.py), or None
        when there is none to be had: building is off, the code binds functions, or an argument is
        not an array or a number, or the code runs from memory."""
        if not native.enabled() or any(not isinstance(v, np.ndarray) for v in self.generated.externals.values()) \
                or emit.in_memory(self.generated.path):
            return None
        if not all(isinstance(k, tuple) and isinstance(k[0], np.dtype) or k in (float, int, bool)
                   or isinstance(k, type) and issubclass(k, (np.number, np.bool_)) for k in key):
            return None  # (an ndarray subclass, a list, a tuple, an int beyond int64: Numba's dispatcher decides)
        return native.name(self.generated.module, repr(key))

    def load_native(self, key):
        """The native module's function for arguments of these kinds, if it is built (then it is what
        runs them from now on), else None."""
        name = self.native_name(key)
        fn = name and native.load(name, self.generated.entry)
        if not fn:
            return None
        if self.jit or self.generated.has_loops:
            self.jit_status = "numba (a native module built ahead of time)"
        elif self.jit_status == "not run yet":  # (straight-line code: timed against Python next)
            self.jit_status = "numba (first call, compiled)"
        self._compiled[key] = _passing(fn, self.arrays)
        return self._compiled[key]

    def build_native(self, key, args, seeds, wait=False):
        """Once Numba compiled the code for these arguments: build its native module in a process
        of its own, for later processes (adjoint/native.py). Returns that process, if one started."""
        name = self.native_name(key)
        if name is None:
            return None
        from .backend import jit
        return native.request(name, self.generated.module, self.generated.path, self.generated.entry,
                              jit.signature([*args, *seeds, *self.arrays]), wait)

    def python_while_compiling(self, key, mark, args, seeds):
        """Under jit=None, code with loops that Numba's cache does not hold yet (no `mark`), or whose
        Python path was quick (the mark says how quick): Numba is started and compiles, or loads
        from its cache, on a thread of its own (adjoint/background.py) while calls run as Python; a
        call still running when it is done goes on compiled. The mark records how long the first
        Python call took, for the next process to choose."""
        with _JOBS_LOCK:  # one compile per signature, whichever thread calls first
            job = self._jobs.get(key)
            if job is None:
                python_s = []  # seconds of each Python call that ended before the compile did

                def compile():
                    self.compile(args, seeds)
                    _mark(mark, python_s[0] if python_s else None)
                    self.build_native(key, args, seeds)
                job = self._jobs[key] = background.Compilation(compile, self.generated.path)
                job.python_s = python_s
        if job.done.is_set() and job.error is not None:
            self._jobs.pop(key, None)
            return self.python_instead(job.error, args, seeds)
        self.jit_status = "python (numba is compiling it on another thread)"

        def python():
            t0 = time.perf_counter()
            result = self.python()(*args, *seeds)
            job.python_s.append(time.perf_counter() - t0)
            return result
        result = job.race(python, lambda: self.numba()(*args, *seeds))
        if job.done.is_set() and job.error is None:
            self._compiled[key] = self.numba()
            self._jobs.pop(key, None)
            self.jit_status = "numba (the code has loops; compiled while the first calls ran as Python)"
        return result

    def python_instead(self, error, args, seeds):
        """Under jit=None, when Numba could not compile the code: say why, once, and run it as Python."""
        from .backend import jit
        warnings.warn(f"adjoint: running the derivative of {_name(self.fn)} as Python, since "
                      f"{jit.explain(error, self.generated.path)}", stacklevel=5)
        self.jit_status = "python (numba could not compile it)"
        return self.python()(*args, *seeds)

    def statements(self):
        fdef = next(n for n in ast.parse(self.generated.text).body if isinstance(n, ast.FunctionDef))
        return sum(isinstance(n, ast.stmt) for n in ast.walk(fdef))

    def choose(self, compiled, args, seeds):
        """Under jit=None: code with loops stays on Numba; straight-line array code is timed on each
        path (the faster of two calls, after a warm-up call of the Python one) and keeps the faster:
        NumPy's own kernels often beat Numba's array expressions on large arrays."""
        if self.generated.has_loops:
            self.jit_status = "numba (the code has loops)"
            return compiled(*args, *seeds)
        python = self.python()
        python(*args, *seeds)  # warm: the first call pays for loading and first touches of memory
        t_numba, result = _fastest(compiled, [*args, *seeds])
        t_python, _ = _fastest(python, [*args, *seeds])
        faster = "python" if t_python < 0.8 * t_numba else "numba"
        self.jit_status = f"{faster} (faster: numba {t_numba * 1e3:.3g} ms, python {t_python * 1e3:.3g} ms a call)"
        return result


def _passing(fn, arrays):
    """fn, given the module-level arrays it reads after the arguments of each call."""
    if not arrays:
        return fn
    return lambda *args: fn(*args, *arrays)


def _mark(path, python_s=None):
    """Say with a file at path that Numba's cache holds the code, and, when known, how many seconds
    the first call as Python took; if there is a cache folder (a mark only spares later processes a wait)."""
    if path is not None and cache.folder() is not None:
        cache.write(path, "" if python_s is None else f"{python_s!r}\n")


def _worth_racing(mark):
    """Whether to run Python while Numba compiles or loads: when its cache does not hold the code
    (no mark), or when an earlier first Python call took less than QUICK_PYTHON seconds."""
    text = mark and cache.read(mark)
    if text is None:
        return True
    try:
        return float(text.decode().strip()) < QUICK_PYTHON
    except ValueError:  # (a mark with no time)
        return False


_JOBS_LOCK = threading.Lock()
_NUMBA_LOCK = threading.Lock()


def _kind_key(value):
    """What Numba's type of a value depends on, for arrays and the plain values adjoint passes (an
    int by its size too: Numba types one from 2**63 up as uint64)."""
    if isinstance(value, np.ndarray):
        f = value.flags
        key = value.dtype, value.ndim, f.c_contiguous, f.f_contiguous, f.writeable, f.aligned
        return key if type(value) is np.ndarray else (type(value),) + key
    if type(value) is int and not -2**63 <= value < 2**63:
        return int, "beyond int64"
    if isinstance(value, list):
        return list, _kind_key(value[0]) if value else None
    if isinstance(value, tuple):
        return tuple, tuple(_kind_key(v) for v in value)
    return type(value)


def _fastest(fn, args, calls=2):
    """(the shortest time of a few calls, the result of the last)."""
    best = float("inf")
    for _ in range(calls):
        t0 = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, result


def _check_input(name, value, fn, converted):
    """A wrt argument as the generated code takes it: a float, or a float64 array (a float16 or
    float32 one as a float64 copy, noted in `converted`; its gradient is cast back to its dtype)."""
    t = type(value)
    if t is float or t is np.ndarray and value.dtype.kind == "f" and value.dtype.itemsize == 8 \
            and value.flags.c_contiguous:
        return value
    if t is np.ndarray:
        if value.dtype.kind == "f" and value.dtype.itemsize <= 8:
            return _float64(value, converted)
        if value.dtype.kind == "f":
            raise ArgumentError(f"wrt names `{name}` of {_name(fn)}, an array of {value.dtype}: adjoint computes "
                                f"in float64, which would lose the extra precision; pass {name}.astype(np.float64)")
        if value.dtype.kind == "c":
            raise ArgumentError(f"wrt names `{name}` of {_name(fn)}, an array of {value.dtype}: adjoint "
                                "differentiates real inputs; pass the real and imaginary parts as two float arrays "
                                f"({name}.real, {name}.imag)")
        raise ArgumentError(f"wrt names `{name}` of {_name(fn)}, an array of {value.dtype}: only float "
                            f"arrays have a gradient; pass {name}.astype(float)")
    if isinstance(value, np.ndarray):
        raise _subclass_error(name, value, fn)
    if isinstance(value, bool) or isinstance(value, (numbers.Integral, np.integer)):
        raise ArgumentError(f"wrt names `{name}` of {_name(fn)}, which is an int ({value!r}): only float "
                            f"inputs have a gradient; pass float({name}) or leave `{name}` out of wrt")
    if isinstance(value, np.floating):
        if value.dtype.itemsize > 8:
            raise ArgumentError(f"wrt names `{name}` of {_name(fn)}, a {type(value).__name__}: adjoint computes in "
                                f"float64, which would lose the extra precision; pass float({name})")
        if value.dtype.itemsize < 8:
            converted[id(value)] = value
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (numbers.Complex, np.complexfloating)):
        raise ArgumentError(f"wrt names `{name}` of {_name(fn)}, a complex number ({value!r}): adjoint "
                            "differentiates real inputs; pass the real and imaginary parts as two floats")
    raise ArgumentError(f"wrt names `{name}` of {_name(fn)}, a {type(value).__name__}: adjoint differentiates "
                        "floats and float NumPy arrays (pass np.asarray(...))")


def _like(value, like, what):
    """The derivative `value` in the type and dtype of `like` (the argument it belongs to: a float for
    a float, an np.float32 for an np.float32, an array of its dtype for an array); refused when
    complex, which a real input's derivative is not (the function went through complex numbers)."""
    t = type(value)
    if t is float and type(like) is float or t is np.ndarray and type(like) is np.ndarray and value.dtype is like.dtype:
        return value  # (the common calls: like is a float or a float array, so value is not complex)
    if t is np.ndarray:
        if value.dtype.kind == "c":
            raise _complex_derivative(what)
        if type(like) is np.ndarray:
            if value.dtype != like.dtype:
                value = value.astype(like.dtype)
            return value
        value = value[()] if value.ndim == 0 else value
    elif isinstance(value, (complex, np.complexfloating)):
        raise _complex_derivative(what)
    if type(like) is np.ndarray:
        return np.asarray(value, dtype=like.dtype)
    if isinstance(like, np.floating):
        return type(like)(value)
    return float(value) if isinstance(value, (float, np.floating, numbers.Real)) else value


def _complex_derivative(what):
    return AdjointError(f"{what} came out complex: the function computes with complex numbers, whose derivatives "
                        "adjoint does not take; write it with real arithmetic (the real and imaginary parts as "
                        "two floats)")


def _grads(values, inputs, as_tuple, what="the gradient"):
    if not as_tuple:
        return _like(values[0], inputs[0], what)
    return tuple([_like(v, x, what) for v, x in zip(values, inputs)])


def _scalar(out, fn):
    if type(out) is float:
        return out
    if not isinstance(out, (numbers.Number, np.number, np.ndarray)):
        raise ArgumentError(f"grad needs {_name(fn)} to return a float, but it returned a {type(out).__name__}")
    if np.iscomplexobj(out):
        raise ArgumentError(f"grad needs {_name(fn)} to return a real number, but it returned a complex one "
                            f"({out!r:.60}): differentiate its real part, its imaginary part or its abs()")
    if np.ndim(out) != 0:
        raise ArgumentError(f"grad needs {_name(fn)} to return a scalar, but it returned an array of shape "
                            f"{np.shape(out)}; use adjoint.vjp for array outputs")
    return float(out) if isinstance(out, (float, np.floating, np.ndarray)) else out


def _real_output(out, fn, what):
    """Refuse a complex output (of vjp, jvp, jacobian): its derivative is not taken."""
    if isinstance(out, (complex, np.complexfloating)) or isinstance(out, np.ndarray) and out.dtype.kind == "c":
        raise ArgumentError(f"{what} needs {_name(fn)} to return real numbers, but it returned complex ones "
                            f"({out!r:.60}): differentiate their real and imaginary parts (np.real, np.imag) instead")
    return out


def _wrt_of(fn, wrt):
    """A function giving wrt_names(fn, wrt), found again when fn's code is replaced (which may rename
    its parameters)."""
    target = fn.fn if isinstance(fn, CustomVJP) else fn
    state = [(getattr(target, "__code__", None), *wrt_names(fn, wrt))]

    def names():
        code, names, as_tuple = state[0]
        now = getattr(target, "__code__", None)
        if now is not code:
            code, names, as_tuple = state[0] = (now, *wrt_names(fn, wrt))
        return names, as_tuple

    return names


def _copies(values):
    """The values with arrays copied, for a call of the user's function (which may write into them)."""
    return [np.copy(v) if isinstance(v, np.ndarray) else v for v in values]


def value_and_grad(fn, wrt=0, jit=None):
    """A function returning (f(*args), gradient of f with respect to wrt)."""
    inner = getattr(fn, "adjoint_grad", None)
    if inner is not None:
        return _value_and_grad_of_grad(inner, wrt, jit)
    names_of = _wrt_of(fn, wrt)

    @functools.wraps(fn)
    def value_and_grad_fn(*args, **kwargs):
        names, as_tuple = names_of()
        call = _bind(fn, names, args, kwargs)
        out, *grads = derivative(fn, names, jit, True, call.kinds)(call.values, 1.0)
        return _scalar(out, fn), _grads(grads, call.inputs, as_tuple)

    value_and_grad_fn.adjoint_grad = None  # not the function that wraps fn
    return value_and_grad_fn


def grad(fn, wrt=0, jit=None):
    """A function returning the gradient of the scalar function fn with respect to wrt.

    `grad` of such a function (of a float input) is the second derivative, by forward mode over
    fn's adjoint."""
    vg = value_and_grad(fn, wrt, jit)

    @functools.wraps(fn)
    def grad_fn(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    inner = getattr(fn, "adjoint_grad", None)
    grad_fn.adjoint_grad = None if inner is not None else (fn, *wrt_names(fn, wrt))
    return grad_fn


def _value_and_grad_of_grad(inner, wrt, jit):
    fn, rows, rows_tuple = inner
    cols, as_tuple = wrt_names(fn, wrt)

    @functools.wraps(fn)
    def value_and_grad_fn(*args, **kwargs):
        names = tuple(dict.fromkeys(rows + cols))
        call = _bind(fn, names, args, kwargs)
        x, = inputs_of(fn, rows, call.values)
        if rows_tuple or np.ndim(x) != 0:
            raise ArgumentError(f"grad of grad({_name(fn)}) needs a scalar: grad gives "
                                f"{'a tuple' if rows_tuple else f'an array of shape {np.shape(x)}'}; "
                                "use adjoint.hessian or adjoint.jacobian of the grad")
        H, grads = _second(fn, rows, cols, jit, call.values, call.kinds)
        given = dict(zip(names, call.inputs))
        return (float(_like(grads[0], given[rows[0]], "the gradient")),
                _grads(H[0], [given[c] for c in cols], as_tuple, "the second derivative"))

    value_and_grad_fn.adjoint_grad = None
    return value_and_grad_fn


def vjp(fn, *args, wrt=0, jit=None, **kwargs):
    """(fn(*args), pullback) where pullback(cotangent) gives the vector-Jacobian product(s)."""
    names, as_tuple = wrt_names(fn, wrt)
    call = _bind(fn, names, args, kwargs)
    d = derivative(fn, names, jit, True, call.kinds)
    out = _real_output(fn(*_copies(call.given)), fn, "vjp")  # (fn may write into its arguments)
    values = _copies(call.values)  # the point of `out`, whatever the caller writes into its arrays later

    def pullback(cotangent):
        ct = _seed("the cotangent", cotangent, "the output", out)
        _, *grads = d(values, ct)
        return _grads(grads, call.inputs, as_tuple, "the vector-Jacobian product")

    return out, pullback


def jvp(fn, primals, tangents, wrt=0, jit=None):
    """(fn(*primals), the Jacobian-vector product): forward mode, by generated tangent code.

    `tangents` holds one tangent per wrt input (a single value for an int or str wrt), each of its
    input's shape."""
    names, as_tuple = wrt_names(fn, wrt)
    call = _bind_primals(fn, names, primals)
    seeds = _seeds(fn, names, as_tuple, call.values, tangents, wrt)
    out, out_dot = derivative(fn, names, jit, True, call.kinds, "forward")(call.values, *seeds)
    _real_output(out, fn, "jvp")
    # the output and its tangent in the output's type: when arguments ran as float64 copies, that of
    # the function's own result for the arguments as given
    like = _real_output(fn(*_copies(call.given)), fn, "jvp") if call.converted else out
    if not (type(like) is np.ndarray or isinstance(like, np.floating) and like.dtype.itemsize < 8):
        like = 0.0  # (a float, as before)
    return _like(out, like, "the output"), _like(out_dot, like, "the Jacobian-vector product")


def hvp(fn, primals, tangents, wrt=0, jit=None):
    """(gradient, Hessian-vector product) of the scalar function fn at primals, by forward mode over
    fn's generated adjoint. `tangents` is as for `jvp`; both results are shaped as the gradient."""
    names, as_tuple = wrt_names(fn, wrt)
    call = _bind_primals(fn, names, primals)
    seeds = _seeds(fn, names, as_tuple, call.values, tangents, wrt)
    (out, *grads), (_, *hv) = derivative(fn, names, jit, True, call.kinds, "hvp")(call.values, 1.0, *seeds)
    _scalar(out, fn)
    return (_grads(grads, call.inputs, as_tuple),
            _grads(hv, call.inputs, as_tuple, "the Hessian-vector product"))


def hessian(fn, wrt=0, jit=None):
    """A function returning the Hessian of the scalar function fn: one Hessian-vector product (forward
    mode over the adjoint) per input entry. For an int or str wrt, an array of shape x.shape + x.shape
    (a float for a float x); for a tuple wrt, H[i][j] of shape wrt[i].shape + wrt[j].shape."""
    names_of = _wrt_of(fn, wrt)

    @functools.wraps(fn)
    def hessian_fn(*args, **kwargs):
        names, as_tuple = names_of()
        values, kinds = bind(fn, names, args, kwargs)
        H, _ = _second(fn, names, names, jit, values, kinds)
        return tuple(tuple(row) for row in H) if as_tuple else H[0][0]

    return hessian_fn


def _second(fn, rows, cols, jit, values, kinds):
    """(d/d cols of the gradient for rows, as nested lists H[i][j] of shape rows[i].shape +
    cols[j].shape; the gradient for rows, which each Hessian-vector product computes too)."""
    names = tuple(dict.fromkeys(rows + cols))
    inputs = inputs_of(fn, names, values)
    d = derivative(fn, names, jit, True, kinds, "hvp")
    H = [[None] * len(cols) for _ in rows]
    for j, col in enumerate(cols):
        shape = np.shape(inputs[names.index(col)])
        pieces = []
        for k in np.ndindex(shape):
            (out, *grads), (_, *hv) = d(values, 1.0, *unit_seeds(inputs, names.index(col), k))
            _scalar(out, fn)
            if any(np.iscomplexobj(h) for h in hv):
                raise _complex_derivative("the Hessian")
            pieces.append([np.asarray(hv[names.index(r)], dtype=np.float64) for r in rows])
        for i, row in enumerate(rows):
            block = np.stack([p[i] for p in pieces], axis=-1).reshape(np.shape(inputs[names.index(row)]) + shape)
            H[i][j] = float(block) if block.ndim == 0 else block
    return H, [grads[names.index(r)] for r in rows]


def jacobian(fn, wrt=0, jit=None):
    """A function returning the Jacobian of fn (shape out.shape + x.shape per wrt input, a tuple for a
    tuple wrt). It runs forward mode, one column per input entry, when the inputs have no more
    entries than the output, and reverse mode, one row per output entry, otherwise; after each call
    its `mode` attribute says which it chose and why. The Jacobian of a function made by
    `adjoint.grad` is a Hessian, by forward mode over the adjoint."""
    inner = getattr(fn, "adjoint_grad", None)
    if inner is not None:
        return _jacobian_of_grad(inner, wrt, jit)
    names_of = _wrt_of(fn, wrt)

    @functools.wraps(fn)
    def jacobian_fn(*args, **kwargs):
        names, as_tuple = names_of()
        values, kinds = bind(fn, names, args, kwargs)
        inputs = inputs_of(fn, names, values)
        out = _real_output(fn(*_copies(values)), fn, "jacobian")
        n_in, n_out = sum(np.size(x) for x in inputs), np.size(out)
        if n_in <= n_out:
            jacobian_fn.mode = f"forward ({n_in} input entries <= {n_out} output entries)"
            d = derivative(fn, names, jit, True, kinds, "forward")
            cols = [[] for _ in names]
            for i, x in enumerate(inputs):
                for k in np.ndindex(np.shape(x)):
                    cols[i].append(_real(d(values, *unit_seeds(inputs, i, k))[1]))
            jacs = [np.stack(c, axis=-1).reshape(np.shape(out) + np.shape(x)) for c, x in zip(cols, inputs)]
        else:
            jacobian_fn.mode = f"reverse ({n_out} output entries < {n_in} input entries)"
            d = derivative(fn, names, jit, True, kinds)
            rows = [[] for _ in names]
            for k in np.ndindex(np.shape(out)):
                for i, g in enumerate(d(values, *unit_seeds([out], 0, k))[1:]):
                    rows[i].append(_real(g))
            jacs = [np.stack(r).reshape(np.shape(out) + np.shape(x)) for r, x in zip(rows, inputs)]
        jacs = [float(j) if j.ndim == 0 else j for j in jacs]
        return tuple(jacs) if as_tuple else jacs[0]

    jacobian_fn.mode = "not run yet"
    return jacobian_fn


def _real(value):
    """A column or row of a Jacobian as a float64 array (refused when complex)."""
    if np.iscomplexobj(value):
        raise _complex_derivative("the Jacobian")
    return np.asarray(value, dtype=np.float64)


def _jacobian_of_grad(inner, wrt, jit):
    """The Jacobian of grad(f): the rows of f's Hessian for grad's inputs, the columns for wrt."""
    fn, rows, rows_tuple = inner
    cols, as_tuple = wrt_names(fn, wrt)

    @functools.wraps(fn)
    def jacobian_fn(*args, **kwargs):
        values, kinds = bind(fn, tuple(dict.fromkeys(rows + cols)), args, kwargs)
        H, _ = _second(fn, rows, cols, jit, values, kinds)
        H = [tuple(r) if as_tuple else r[0] for r in H]
        return tuple(H) if rows_tuple else H[0]

    jacobian_fn.mode = "forward over reverse (the Jacobian of a gradient)"
    return jacobian_fn


def _bind_primals(fn, names, primals):
    if not isinstance(primals, (tuple, list)):
        raise ArgumentError(f"pass the arguments of {_name(fn)} as a tuple (primals), not a {type(primals).__name__}")
    return _bind(fn, names, tuple(primals), {})


def _seeds(fn, names, as_tuple, values, tangents, wrt):
    """The tangents as the generated code takes them, checked against their inputs."""
    if not as_tuple:
        tangents = (tangents,)
    elif not isinstance(tangents, (tuple, list)) or len(tangents) != len(names):
        raise ArgumentError(f"wrt={wrt!r} asks for a tuple of {len(names)} tangents, got {tangents!r:.80}")
    return [_check_tangent(w, x, t) for w, x, t in zip(names, inputs_of(fn, names, values), tangents)]


def inputs_of(fn, names, values):
    """The values (bound positionally, as `bind` gives them) of fn's parameters `names`."""
    params = list(signature_of(fn).parameters)
    return [values[params.index(n)] for n in names]


def unit_seeds(inputs, i, k):
    """Zeros shaped as each input (0.0 for a number), with 1.0 at entry k of inputs[i]."""
    seeds = [np.zeros(np.shape(v)) if np.ndim(v) else 0.0 for v in inputs]
    if np.ndim(inputs[i]):
        seeds[i][k] = 1.0
    else:
        seeds[i] = 1.0
    return seeds


def _check_tangent(name, value, tangent):
    return _seed(f"the tangent of `{name}`", tangent, f"`{name}` has", value)


def _seed(what, seed, of, value):
    """A tangent or cotangent as the generated code takes it (a float for a number, a float64 array
    for an array), checked against the value `of` it belongs to: a plain real array or number of its
    shape."""
    if isinstance(seed, np.ndarray) and type(seed) is not np.ndarray:
        raise ArgumentError(f"{what} is a {type(seed).__module__}.{type(seed).__qualname__}, a subclass of "
                            "numpy.ndarray; pass np.asarray(...) of it")
    try:
        array = np.asarray(seed)
    except (TypeError, ValueError) as e:
        raise ArgumentError(f"{what} must be a float or a float array, not {seed!r:.60} ({e})") from None
    if array.dtype.kind == "c":
        raise ArgumentError(f"{what} is complex: adjoint takes derivatives of real functions only")
    if array.dtype.kind not in "fiub":
        raise ArgumentError(f"{what} must be a float or a float array, not {seed!r:.60}")
    if array.shape != np.shape(value):
        raise ArgumentError(f"{what} has shape {array.shape}, {of} {np.shape(value)}")
    return array.astype(np.float64) if isinstance(value, np.ndarray) else float(array)


MODES = ("reverse", "forward", "hvp")


def source(fn, *example_args, mode="reverse", wrt=0, optimize=True):
    """The generated code, as text: the adjoint (mode "reverse"), the tangent code (mode "forward"), or
    the Hessian-vector product code, forward mode over the adjoint (mode "hvp").

    With example arguments, the code for their kinds (numbers, arrays of some rank): exactly what
    grad, vjp and jvp run for arguments like them. Without, code that assumes nothing of them (its
    docstring says which kinds it assumed)."""
    return generated(fn, example_args, mode, wrt, optimize).text


def generated(fn, example_args, mode="reverse", wrt=0, optimize=True):
    """The pipeline.Generated that source (and `adjoint dump`) shows."""
    if not isinstance(mode, str) or mode not in MODES:
        raise ArgumentError(f"mode={mode!r:.60}: adjoint generates {' or '.join(map(repr, MODES))} code")
    for a in example_args:
        if isinstance(a, str) and a in MODES:
            raise ArgumentError(f"source(f, {a!r}): give the mode by keyword, source(f, mode={a!r}) (the "
                                "positional arguments are example arguments)")
    names, _ = wrt_names(fn, wrt)
    kinds = _bind(fn, names, example_args, {}).kinds if example_args else ()
    return derivative(fn, names, None, optimize, kinds, mode).generated


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

    def jvp(self, primals, tangents):
        return jvp(self.fn, primals, tangents, wrt=self.wrt, jit=self.jit)

    def source(self, *example_args, mode="reverse"):
        """The generated code (see adjoint.source); `f.source("forward")` names the mode."""
        if len(example_args) == 1 and isinstance(example_args[0], str):
            example_args, mode = (), example_args[0]
        return source(self.fn, *example_args, mode=mode, wrt=self.wrt)

    @property
    def jit_status(self):
        """Which path the last derivative ran on: numba, or python and why."""
        last = _LAST_RUN.get((self.fn, wrt_names(self.fn, self.wrt)[0], self.jit))
        return last.jit_status if last is not None else "not run yet"

    def __repr__(self):
        return f"<adjoint.differentiate {_name(self.fn)} wrt={self.wrt!r} jit={self.jit!r}: {self.jit_status}>"


def differentiate(fn=None, *, wrt=0, jit=None):
    """Decorator: `@differentiate` or `@differentiate(wrt=("x", "y"), jit=False)`."""
    if fn is None:
        return lambda f: Differentiated(f, wrt, jit)
    return Differentiated(fn, wrt, jit)
