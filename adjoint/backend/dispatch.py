"""The dispatcher: `derivative` makes (once) the Derivative of a function for a wrt and argument
kinds, and a Derivative runs its generated code on one of three paths, Python, Numba's dispatcher or
a native module built ahead of time, choosing by `jit`, by whether the code has loops, by timing,
and by what Numba's cache already holds. `Derivative.state` is where it stands; `jit_status` says it
in words."""

import ast
import enum
import itertools
import os
import threading
import time
import warnings

import numpy as np

from ..arguments import name_of, refuse_subclasses_read
from ..errors import AdjointError, ArgumentError
from ..frontend.names import functions_read, watcher
from .. import progress
from ..pipeline import compile_derivative
from ..rules.helpers import replaced
from ..rules.table import TABLE
from . import background, cache, emit, native

# Under jit=None, straight-line code whose first call as Python spends this long per statement (or
# more) does its work inside NumPy's kernels: Numba would save microseconds of interpretation a
# statement, after compiling for seconds, and its array code is seldom faster on large arrays.
NUMPY_BOUND = 50e-6


# Under jit=None, code with loops whose first call as Python took less than this many seconds
# (while Numba compiled it) runs as Python again in a later process while Numba loads it from its
# cache: starting Numba (importing it, its NumPy support and SciPy's BLAS) takes about half a second.
QUICK_PYTHON = 0.2


_CACHE = {}  # (function, wrt, jit, optimize, kinds, mode, rule table version) -> its Derivative
_CALLS = itertools.count(1)  # numbers each call of a Derivative, so that the last one run is known


class State(enum.Enum):
    """Where a Derivative stands, which decides the path of its next call."""
    NOT_RUN = "not run yet"
    PYTHON = "python"  # runs as Python (jit=False; Numba failed; Python was faster)
    COMPILING = "python while compiling"  # runs as Python while Numba compiles on a thread
    TO_TIME = "numba, to be timed"  # jit=None, straight-line: compiled on its first call, timed on its second
    NUMBA = "numba"  # runs compiled: Numba's dispatcher, or a native module


def last_run(fn, wrt, jit):
    """The Derivative of fn for wrt (names) and jit that ran last, of any argument kinds and mode, or None."""
    runs = [d for key, d in list(_CACHE.items()) if key[0] is fn and key[2] == jit and d.last_call
            and set(wrt) <= set(key[1]) | {p for p, _ in key[8]}]  # (a container's leaves: the key's trees)
    return max(runs, key=lambda d: d.last_call, default=None)


def derivative(fn, wrt, jit=None, optimize=True, kinds=(), mode="reverse", trees=(), returns="one", checkpoint=False):
    """The Derivative of fn for wrt, made once per (function, wrt, jit, optimize, parameter kinds, mode)
    and state of the rule table (a rule given again by defvjp makes a new one), and made again when a
    module-level name it read has been given another value (a constant, a helper function) or the
    code of the function or of a function it inlined was replaced (`f.__code__ = ...`, as IPython's
    autoreload does). `trees` gives the structure of each container argument (see trees.py); `returns` what fn returns:
    "one" value, "aux" (value, auxiliary outputs: the code returns the latter after the value) or a
    "tuple" of outputs (one cotangent, or tangent, per item); `checkpoint`, whether its top-level
    loops are reversed by checkpointing (pipeline.compile_derivative)."""
    key = (fn, wrt, jit, optimize, kinds, mode, TABLE.version, returns, trees, checkpoint)
    d = _CACHE.get(key)
    if d is None or not d.current():
        d = _CACHE[key] = Derivative(fn, wrt, jit, optimize, kinds, mode, trees, returns, checkpoint)
    return d


class Derivative:
    """The adjoint (or tangent) of one function for one wrt: its generated source and how to run it.

    Called with the bound arguments and the seeds the generated function takes after them: the
    output's cotangent in reverse mode, one tangent per wrt input in forward mode."""

    def __init__(self, fn, wrt, jit=None, optimize=True, kinds=(), mode="reverse", trees=(), returns="one",
                 checkpoint=False):
        if jit not in (None, True, False):
            raise ArgumentError(f"jit must be None, True or False, not {jit!r}")
        self.fn, self.wrt, self.jit, self.mode = fn, wrt, jit, mode
        self.generated = compile_derivative(fn, wrt, mode, optimize, kinds, trees=trees, returns=returns,
                                            checkpoint=checkpoint)
        # the functions whose text it was made from, with the code each ran then
        self.codes = functions_read(fn, self.generated.nf.bindings)
        self.current = watcher(self.codes, self.generated.nf.bindings)
        refuse_subclasses_read(fn, self.generated.externals)
        if (path := replaced(self.generated.text)) is not None:
            raise AdjointError(f"`{path}` is not the function it was when adjoint was imported (another was "
                               f"assigned to it), and {self.described()} calls it: put the original back, "
                               "or give your function a name of its own")
        self.arrays = tuple(self.generated.externals[n] for n in self.generated.arrays)
        self._python = None
        self._dispatcher = None
        self._numba = None
        self._compiled = {}  # kind key -> the compiled callable (Numba's dispatcher or a native module)
        self._jobs = {}  # kind key -> background.Compilation running
        self.state, self.reason = State.NOT_RUN, ""
        self.last_call = 0

    @property
    def jit_status(self):
        """The path of the last call, and why: "numba", "python (jit=False)", ..."""
        if self.state is State.NOT_RUN:
            return "not run yet"
        reason = {State.COMPILING: "numba is compiling it on another thread",
                  State.TO_TIME: "first call, compiled"}.get(self.state, self.reason)
        path = "numba" if self.state in (State.NUMBA, State.TO_TIME) else "python"
        return f"{path} ({reason})" if reason else path

    def now(self, state, reason=""):
        self.state, self.reason = state, reason

    @property
    def text(self):
        return self.generated.text

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
                from . import jit  # the only module that imports Numba
                g = self.generated
                emit.restore(g.path, g.text)  # (Numba's cache is keyed by the file, which may have gone since)
                module = emit.load(g.module, g.path, g.text, jit.jit_externals(g.externals), compiled=True)
                self._dispatcher = jit.compile_function(getattr(module, g.entry))
                self._numba = _passing(self._dispatcher, self.arrays)
        return self._dispatcher

    def compile(self, args, seeds):
        """Compile the Numba dispatcher for the arguments' types now (or load it from the cache); a
        compile that runs over a second says so on stderr (adjoint/progress.py)."""
        from . import jit
        with progress.announced(f"compiling {self.described()} with Numba"):
            jit.compile_for(self.dispatcher(), jit.signature([*args, *seeds, *self.arrays]))

    def described(self):
        """What the code is, for a person: "the adjoint of f (model.py:12)"."""
        fn = getattr(self.fn, "fn", self.fn)  # (a custom_vjp function's own)
        code = getattr(fn, "__code__", None)
        where = f" ({os.path.basename(code.co_filename)}:{code.co_firstlineno})" if code is not None else ""
        kind = {"reverse": "adjoint", "hvp": "Hessian-vector product"}.get(
            self.mode, "tangent code" if self.wrt else "compiled primal")
        return f"the {kind} of {name_of(self.fn)}{where}"

    def runner(self, key):
        """The callable that runs a call whose kinds have this key (`kinds`) when its path is chosen
        for good (compiled, or Python), counted as a call (see last_run); else None: the call goes
        through __call__, which chooses. The thin call path (adjoint/thin.py) asks it."""
        if self.state is State.NUMBA:
            run = self._compiled.get(key)
        elif self.state is State.PYTHON and not self._jobs:
            run = self.python()
        else:
            return None
        if run is not None:
            self.last_call = next(_CALLS)
        return run

    def __call__(self, args, *seeds):
        """(output, derivatives) for positional `args` (already bound) and the seeds."""
        self.last_call = next(_CALLS)
        if self.jit is False:
            self.now(State.PYTHON, "jit=False")
            return self.python()(*args, *seeds)
        if self.state in (State.PYTHON, State.COMPILING) and not self._jobs:
            return self.python()(*args, *seeds)
        heavy, ran = False, None
        if self.jit is None and self.state is State.NOT_RUN and not self.generated.has_loops:
            python, n = self.python(), self.statements()
            spent, result = _fastest(python, [*args, *seeds], calls=1)
            if spent >= n * NUMPY_BOUND:  # the first call may pay for loading and first touches: again
                spent, result = _fastest(python, [*args, *seeds], calls=1)
            heavy = spent >= n * NUMPY_BOUND
            ran = (spent, result) if heavy else None
        key = self.kinds(args, seeds)
        compiled = self._compiled.get(key) or self.load_native(key)
        if compiled is None:
            mark = emit.compiled_mark(self.generated.module, repr(key))
            # (code with loops, or heavy straight-line code, which may be NumPy's own work: compiled on a
            # thread while Python runs the calls, then both are timed)
            if self.jit is None and (key in self._jobs or (self.generated.has_loops or heavy) and _worth_racing(mark)):
                return self.python_while_compiling(key, mark, args, seeds, ran)
            try:
                self.compile(args, seeds)
            except Exception as e:  # noqa: BLE001 -- whatever Numba raised while compiling
                from . import jit
                if self.jit is True:
                    raise jit.explain(e, self.generated.path) from None
                return self.python_instead(e, args, seeds)
            self._compiled[key] = self.numba()
            _mark(mark)
            self.build_native(key, args, seeds)
            if self.jit or self.state is State.NOT_RUN:
                self.now(State.NUMBA if self.jit else State.TO_TIME)
            return self.numba()(*args, *seeds)
        if self.state is State.TO_TIME:
            return self.choose(compiled, args, seeds)
        return compiled(*args, *seeds)

    def kinds(self, args, seeds):
        """The key of a call's argument kinds: what Numba's type of each value it passes depends on,
        cheaper than Numba's typeof on every call; with the module-level arrays, which may change in place."""
        return tuple(kind_key(a) for a in (*args, *seeds, *self.arrays))

    def native_name(self, key):
        """The name of the native module for arguments of these kinds (adjoint/backend/native.py), or None
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
            self.now(State.NUMBA, "a native module built ahead of time")
        elif self.state is State.NOT_RUN:  # (straight-line code: timed against Python next)
            self.now(State.TO_TIME)
        self._compiled[key] = _passing(fn, self.arrays)
        return self._compiled[key]

    def build_native(self, key, args, seeds, wait=False):
        """Once Numba compiled the code for these arguments: build its native module in a process
        of its own, for later processes (adjoint/backend/native.py). Returns that process, if one started."""
        name = self.native_name(key)
        if name is None:
            return None
        from . import jit
        return native.request(name, self.generated.module, self.generated.path, self.generated.entry,
                              jit.signature([*args, *seeds, *self.arrays]), wait)

    def python_while_compiling(self, key, mark, args, seeds, ran=None):
        """Under jit=None, code with loops that Numba's cache does not hold yet (no `mark`), or whose
        Python path was quick (the mark says how quick): Numba is started and compiles, or loads
        from its cache, on a thread of its own (adjoint/backend/background.py) while calls run as Python; a
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
                job = self._jobs[key] = background.Compilation(compile, self.generated.path,
                                                               f"the Numba compile of {self.described()}")
                job.python_s = python_s
        if job.done.is_set() and job.error is not None:
            self._jobs.pop(key, None)
            return self.python_instead(job.error, args, seeds)
        self.now(State.COMPILING)
        if ran is not None:  # (the call that found the code heavy has run it already: its seconds, result)
            job.python_s.append(ran[0])
            return ran[1]

        def python():
            t0 = time.perf_counter()
            result = self.python()(*args, *seeds)
            job.python_s.append(time.perf_counter() - t0)
            return result
        result = job.race(python, lambda: self.numba()(*args, *seeds))
        if job.done.is_set() and job.error is None:
            self._compiled[key] = self.numba()
            self._jobs.pop(key, None)
            if self.generated.has_loops:
                self.now(State.NUMBA, "the code has loops; compiled while the first calls ran as Python")
            else:  # (fused elementwise loops: timed against NumPy's statements next)
                self.now(State.TO_TIME)
        return result

    def python_instead(self, error, args, seeds):
        """Under jit=None, when Numba could not compile the code: say why, once, and run it as Python."""
        from . import jit
        warnings.warn(f"adjoint: running the derivative of {name_of(self.fn)} as Python, since "
                      f"{jit.explain(error, self.generated.path)}", stacklevel=5)
        self.now(State.PYTHON, "numba could not compile it")
        return self.python()(*args, *seeds)

    def statements(self):
        fdef = next(n for n in ast.parse(self.generated.text).body if isinstance(n, ast.FunctionDef))
        return sum(isinstance(n, ast.stmt) for n in ast.walk(fdef))

    def choose(self, compiled, args, seeds):
        """Under jit=None: code with loops stays on Numba; straight-line array code is timed on each
        path (the faster of two calls, after a warm-up call of the Python one) and keeps the faster:
        NumPy's own kernels often beat Numba's array expressions on large arrays."""
        if self.generated.has_loops:
            self.now(State.NUMBA, "the code has loops")
            return compiled(*args, *seeds)
        python = self.python()
        python(*args, *seeds)  # warm: the first call pays for loading and first touches of memory
        t_numba, result = _fastest(compiled, [*args, *seeds])
        t_python, _ = _fastest(python, [*args, *seeds])
        self.now(State.PYTHON if t_python < 0.8 * t_numba else State.NUMBA,
                 f"faster: numba {t_numba * 1e3:.3g} ms, python {t_python * 1e3:.3g} ms a call")
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


def kind_key(value):
    """What Numba's type of a value depends on, for arrays and the plain values adjoint passes (an
    int by its size too: Numba types one from 2**63 up as uint64)."""
    if isinstance(value, np.ndarray):
        f = value.flags
        key = value.dtype, value.ndim, f.c_contiguous, f.f_contiguous, f.writeable, f.aligned
        return key if type(value) is np.ndarray else (type(value),) + key
    if type(value) is int and not -2**63 <= value < 2**63:
        return int, "beyond int64"
    if isinstance(value, list):
        return list, kind_key(value[0]) if value else None
    if isinstance(value, tuple):
        return tuple, tuple(kind_key(v) for v in value)
    return type(value)


def _fastest(fn, args, calls=2):
    """(the shortest time of a few calls, the result of the last)."""
    best = float("inf")
    for _ in range(calls):
        t0 = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, result
