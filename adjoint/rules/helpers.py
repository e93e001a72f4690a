"""What the compiler knows of each call that generated code makes (the runtime helpers of
adjoint/runtime.py, each of which says its facts where it is defined, with `@facts(...)`, and the
NumPy calls the transforms write), one record per call: the passes read these facts here, not from
lists of their own.

- shape_only: positions of the arguments it reads only for their shape and type (reverse.py: such
  an argument needs no value on a tape)
- linear_in_g: linear in its first argument, an adjoint, so a zero adjoint gives zero (reverse.py)
- fresh: its result shares no memory with its arguments (simplify.py: it may be written into)
- new_buffer: its result is always a new, writeable array (simplify.py: accumulate into it in place)
- sums_to_shape: it sums its first argument to a shape (simplify.py, strength.py)
- in_place: it writes into its first argument (simplify.py, fusion.py: a write, not a read)

`draws` says which calls draw random numbers (np.random.normal(...), rng.normal(...)): each run
another value, and a generator's state advanced, so such a call is neither dropped when its value is
unused (simplify.py) nor taken as the same on every run of a loop (reverse_writes.py).
"""

import ast
import functools
import math
import re
from dataclasses import dataclass

import numpy as np

from .. import runtime
from ..ir.queries import dotted


@dataclass(frozen=True)
class Facts:
    shape_only: frozenset = frozenset()
    linear_in_g: bool = False
    fresh: bool = False
    new_buffer: bool = False
    sums_to_shape: bool = False
    in_place: bool = False


# the NumPy calls the transforms write; each runtime helper's facts are on it (@runtime.facts)
_NUMPY = {
    "np.transpose": Facts(linear_in_g=True),
    "np.zeros": Facts(new_buffer=True),
    "np.ones": Facts(new_buffer=True),
    "np.full": Facts(new_buffer=True),
    "np.outer": Facts(new_buffer=True),
    "np.dot": Facts(new_buffer=True),
}
FACTS = {name: Facts(**getattr(runtime, name).facts) for name in runtime.EXPORTED
         if hasattr(getattr(runtime, name), "facts")} | _NUMPY


@functools.cache
def _drawing():
    """The spellings of the calls that draw: table.py's `makes` rules spelled `np.random.*` or `.name`."""
    from .table import TABLE

    return frozenset(r.spelling for r in TABLE.by_key.values()
                     if r.makes and r.spelling.startswith((".", "np.random.")))


def draws(call):
    """Whether `call` (a syntax node) draws random numbers: np.random's functions and the sampling
    methods of a generator."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return False
    path = dotted(call.func) or ""
    if path.startswith(("np.", "math.")):
        return path in _drawing()
    return "." + call.func.attr in _drawing()


# NumPy's functions that generated code calls and that apply entry by entry (ufuncs), and the runtime
# helpers that do: NumPy and Numba give a number for numbers, and the result's shape is the arguments' broadcast
ENTRYWISE = frozenset(f"np.{f}" for f in (
    "exp", "expm1", "exp2", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "square", "abs", "absolute", "negative",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    "maximum", "minimum", "fmax", "fmin", "logaddexp", "logaddexp2", "hypot", "arctan2", "copysign", "sign",
    "divide", "true_divide", "multiply", "add", "subtract", "power", "deg2rad", "rad2deg")) | {"times"}


def having(fact):
    """The names of the calls that have `fact` (a field of Facts)."""
    return {name for name, facts in FACTS.items() if getattr(facts, fact)}


SHAPE_ONLY = {name: set(facts.shape_only) for name, facts in FACTS.items() if facts.shape_only}


_MODULES = {"np": np, "np.linalg": np.linalg, "math": math}
_OWN = {f"{prefix}.{k}": v for prefix, module in _MODULES.items() for k, v in vars(module).items()}  # (at import)


def replaced(text):
    """The first `np.x`, `np.linalg.x` or `math.x` that generated code `text` calls and that is no longer
    what it was when adjoint was imported (another function was assigned to it: the code would call
    that one), else None."""
    for path in sorted(set(re.findall(r"\b(?:np\.linalg|np|math)\.\w+", text))):
        module, _, attr = path.rpartition(".")
        if path in _OWN and getattr(_MODULES[module], attr, None) is not _OWN[path]:
            return path
    return None
