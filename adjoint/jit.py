"""Everything that touches Numba: registering the runtime helpers and compiling generated code.

This is the only module that imports Numba.
"""

import re
import types

import numba
from numba.core.errors import NumbaError
from numba.extending import register_jitable

from . import runtime
from .errors import JitError

for _helper in runtime.HELPERS:
    register_jitable(_helper)

COMPILE_ERRORS = (NumbaError,)


def compile_function(fn):
    """A Numba dispatcher for the generated function `fn` (compiled on first call, cached on disk)."""
    return numba.njit(cache=True)(fn)


def jit_externals(externals):
    """Externals ready for nopython code: plain Python functions become Numba dispatchers."""
    return {k: numba.njit(v) if isinstance(v, types.FunctionType) else v for k, v in externals.items()}


def explain(error, path):
    """A JitError naming the generated line that Numba refused."""
    text = str(error)
    hits = re.findall(r'File "([^"]+)", line (\d+)', text)
    line = next((int(n) for f, n in reversed(hits) if f.endswith(path.rsplit("/", 1)[-1])), None)
    reason = next((ln.strip() for ln in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines() if ln.strip()), "")
    where = ""
    if line is not None:
        with open(path) as f:
            src = f.read().splitlines()
        where = f"\n{path}:{line}:\n    {src[line - 1].strip()}"
    return JitError(f"Numba could not compile the generated code: {reason}{where}\n"
                    "hint: pass jit=False (or jit=None to fall back by itself) to run it as Python")
