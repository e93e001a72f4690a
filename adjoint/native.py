"""Native modules: generated code built ahead of time into a Python extension (numba.pycc), which a
later process loads in about a millisecond, without starting Numba.

Loading Numba-compiled code from Numba's own cache in a new process costs about 0.3-0.5 s however
small the function: Numba fills its typing tables and imports its NumPy support (SciPy's BLAS
among it) first. So once Numba has compiled a derivative for some argument kinds, a process of its
own (`python -c "from adjoint import jit; jit.build_native(...)"`, at low priority, one at a time
per cache folder) builds the same code with `numba.pycc` into the cache folder, and later processes
call that extension instead.

A native module is used only for exactly the argument kinds it was built for (dtype, number of
dimensions, layout, writeability of each array; the type of each number), and only for generated
code that binds no functions (custom rules): the code in it is the generated text, compiled by
the same Numba. Its file is named by a digest of the generated module's name (a digest of its
text, the adjoint version and the runtime helpers), those kinds, the NumPy and Python versions,
this machine and Numba's settings in the environment, so nothing built for something else is ever
loaded. A build that fails leaves `<name>.failed` (the reason) in the cache folder and is not tried
again.

ADJOINT_NATIVE=0 turns building and loading off, and so does NUMBA_DISABLE_JIT=1.
"""

import hashlib
import importlib.machinery
import importlib.util
import os
import pickle
import platform
import subprocess
import sys
import time

import numpy as np

from . import emit

STALE_LOCK_S = 600  # a build lock older than this is left from a build that died


def enabled():
    """Whether to build and load native modules: not with ADJOINT_NATIVE=0, nor where Numba is told
    to run Python (NUMBA_DISABLE_JIT=1)."""
    return os.environ.get("ADJOINT_NATIVE", "1") != "0" and os.environ.get("NUMBA_DISABLE_JIT", "0") in ("", "0")


def name(module, kinds):
    """The extension's module name for the generated `module` and argument `kinds` (text), on this
    machine, these versions and Numba's settings (NUMBA_BOUNDSCHECK, NUMBA_OPT, ...)."""
    settings = sorted((k, v) for k, v in os.environ.items() if k.startswith("NUMBA_") and k != "NUMBA_CACHE_DIR")
    where = f"{kinds}\n{np.__version__}\n{sys.version}\n{platform.machine()}\n{platform.node()}\n{settings}"
    return f"native_{module[len('adjoint_'):]}_{hashlib.sha256(where.encode()).hexdigest()[:16]}"


def _path(native, suffix=None):
    return os.path.join(emit.cache_dir(), native + (suffix or importlib.machinery.EXTENSION_SUFFIXES[0]))


_LOADED = {}
_BUILDS = []  # build processes this process started


def load(native, entry):
    """The function `entry` of the native module, or None when it is not built (yet)."""
    fn = _LOADED.get(native)
    if fn is None:
        path = _path(native)
        if not os.path.exists(path):
            return None
        loader = importlib.machinery.ExtensionFileLoader(native, path)
        module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(native, path, loader=loader))
        loader.exec_module(module)
        fn = _LOADED[native] = getattr(module, entry)
    return fn


def request(native, module, generated_path, entry, argtypes, wait=False):
    """Start building the native module in a process of its own, unless it is built, failed
    before, or another build runs in this cache folder (a later process asks again). `argtypes` are
    the Numba types of the arguments. With `wait`, wait for the build (tests)."""
    if os.path.exists(_path(native)) or os.path.exists(_path(native, ".failed")) or not _lock():
        return None
    try:
        spec = _path(native, ".spec")
        with open(spec, "wb") as f:
            pickle.dump({"native": native, "module": module, "path": generated_path, "entry": entry, "argtypes": argtypes,
                         "out": _path(native), "failed": _path(native, ".failed"),
                         "lock": _path("native", ".building")}, f)
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # (adjoint may not be installed)
        path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
        build = subprocess.Popen([sys.executable, "-c", "import sys; from adjoint import jit; jit.build_native(sys.argv[1])",
                                  spec], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True, env=dict(os.environ, PYTHONPATH=path))
    except Exception:
        _unlock()
        raise
    _BUILDS[:] = [b for b in _BUILDS if b.poll() is None] + [build]  # (reaped when done, not warned about)
    if wait:
        build.wait()
    return build


def _lock():
    """Take the cache folder's build lock (a file made only if missing); False when a build holds it."""
    path = _path("native", ".building")
    for _ in range(2):
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return True
        except FileExistsError:
            try:
                if time.time() - os.path.getmtime(path) < STALE_LOCK_S:
                    return False
                os.remove(path)
            except OSError:
                return False
        except OSError:
            return False
    return False


def _unlock():
    try:
        os.remove(_path("native", ".building"))
    except OSError:
        pass
