"""Native modules: generated code built ahead of time into a Python extension (numba.pycc), which a
later process loads in about a millisecond, without starting Numba.

Loading Numba-compiled code from Numba's own cache in a new process costs about 0.3-0.5 s however
small the function: Numba fills its typing tables and imports its NumPy support (SciPy's BLAS
among it) first. So once Numba has compiled a derivative for some argument kinds, a process of its
own (`python -I -c "...; from adjoint.backend import jit; jit.build_native()"`, at low priority, one at a
time per cache folder) builds the same code with `numba.pycc` into the cache folder, and later processes
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
import importlib.metadata
import importlib.util
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import time

try:
    import fcntl
except ImportError:  # (Windows: no native builds)
    fcntl = None

import numpy as np

from . import cache


def enabled():
    """Whether to build and load native modules: not with ADJOINT_NATIVE=0, where Numba is told to
    run Python (NUMBA_DISABLE_JIT=1), in a frozen application (whose sys.executable is no Python), or
    without a cache folder."""
    return os.environ.get("ADJOINT_NATIVE", "1") != "0" and os.environ.get("NUMBA_DISABLE_JIT", "0") in ("", "0") \
        and not getattr(sys, "frozen", False) and cache.folder() is not None


def name(module, kinds):
    """The extension's module name for the generated `module` and argument `kinds` (text), on this
    machine (its CPU: the code uses the instructions of the CPU it was built on), these versions and
    Numba's settings in the environment (NUMBA_BOUNDSCHECK, NUMBA_OPT, ...)."""
    where = f"{kinds}\n{_machine()}"
    return f"native_{module[len('adjoint_'):]}_{hashlib.sha256(where.encode()).hexdigest()[:16]}"


_NOT_CODEGEN = {"NUMBA_CACHE_DIR", "NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER"}
_MACHINE = []


def _machine():
    """This machine's CPU, the versions a native module depends on, and Numba's settings in the
    environment, which Numba reads once, when it is imported (all computed once a process: a name is
    made on each call while Numba compiles on a thread)."""
    if not _MACHINE:
        cpu = platform.processor()
        try:
            with open("/proc/cpuinfo") as f:
                first = f.read(1 << 16).split("\n\n", 1)[0].splitlines()  # (the first processor's entry)
            cpu = [ln for ln in first if ln.split(":")[0].strip() in ("vendor_id", "model name", "flags")]
        except OSError:
            pass
        versions = [importlib.metadata.version(p) for p in ("numba", "llvmlite")]
        settings = sorted((k, v) for k, v in os.environ.items() if k.startswith("NUMBA_") and k not in _NOT_CODEGEN)
        _MACHINE.append(repr((cpu, platform.machine(), platform.node(), sys.version, np.__version__, versions,
                              settings)))
    return _MACHINE[0]


def _path(where, native, suffix=None):
    return os.path.join(where, native + (suffix or importlib.machinery.EXTENSION_SUFFIXES[0]))


_LOADED = {}
_BUILDS = []  # build processes this process started


def load(native, entry):
    """The function `entry` of the native module, or None when there is no cache folder, it is not
    built (yet), is not a file of the user's own that only the user can write, or does not load. One
    that does not load is removed and built again once; when that one does not load either, it is
    marked failed."""
    fn = _LOADED.get(native)
    if fn is None:
        where = cache.folder()
        path = where and _path(where, native)
        if not path or not os.path.lexists(path):
            return None
        damaged = _path(where, native, ".damaged")
        try:
            if not cache.owned(path):
                raise ImportError(f"{path} is not a file of the user's own that only the user can write")
            loader = importlib.machinery.ExtensionFileLoader(native, path)
            module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(native, path, loader=loader))
            loader.exec_module(module)
            fn = _LOADED[native] = getattr(module, entry)
        except (ImportError, OSError, AttributeError) as e:
            if os.path.lexists(damaged):
                failed(_path(where, native, ".failed"), f"{path} did not load, twice: {e!r}\n")
            else:
                failed(damaged, f"{path} did not load: {e!r}\n")
            cache.remove(path)
            return None
        cache.touch(path)
        cache.remove(damaged)  # (it loads: a later damage may be built again once more)
    return fn


def failed(path, reason):
    """Say at `path` why a native module was not built or did not load, so that it is not tried again."""
    cache.write(path, f"{reason}\n(delete this file to let adjoint try again)\n")


# the build process: isolated (-I: no current folder or PYTHON* variables on its import path), at low
# priority from the start, importing what this process imports (its sys.path, sent as an argument)
_BUILD = "\n".join(["import json, os, sys", "if hasattr(os, 'nice'):", "    os.nice(10)",
                    "sys.path[:] = json.loads(sys.argv[1])", "from adjoint.backend import jit", "jit.build_native()"])
UNAVAILABLE_S = 86400  # how long a folder-wide "no compiler, or no numba.pycc" stops further builds


def request(native, module, generated_path, entry, argtypes, wait=False):
    """Start building the native module in a process of its own, unless it is built, failed
    before, building cannot work here, or another build runs in this cache folder (a later process
    asks again). `argtypes` are the Numba types of the arguments. With `wait`, wait for the build
    (tests). Never raises: a native module only spares later processes a wait.

    The build holds the folder's lock, an exclusive flock on `native.building` taken here and
    inherited by the build process: it is released when the build ends, however it ends (kill -9
    too), so no lock is ever stale."""
    where = cache.folder()
    if where is None or fcntl is None or not _wanted(where, native):
        return None
    lock = _lock(where)
    if lock is None:
        return None
    try:
        if not _wanted(where, native):  # (built while we took the lock)
            return None
        # what to build goes on the build's stdin: no file a symlink could redirect
        spec = pickle.dumps({"native": native, "module": module, "path": generated_path, "entry": entry,
                             "argtypes": argtypes, "out": _path(where, native),
                             "failed": _path(where, native, ".failed"),
                             "unavailable": _path(where, "native", ".unavailable")})
        path = json.dumps([os.path.abspath(p) if p == "" else p for p in sys.path if isinstance(p, str)])
        build = subprocess.Popen([sys.executable, "-I", "-c", _BUILD, path], stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                 pass_fds=(lock,), cwd=where)
        with build.stdin:
            build.stdin.write(spec)
    except (OSError, pickle.PicklingError, ValueError):
        return None
    finally:
        os.close(lock)  # (the build holds it now, if one started)
    _BUILDS[:] = [b for b in _BUILDS if b.poll() is None] + [build]  # (reaped once done)
    if wait:
        build.wait()
    return build


def _wanted(where, native):
    try:
        unavailable = time.time() - os.path.getmtime(_path(where, "native", ".unavailable")) < UNAVAILABLE_S
    except OSError:
        unavailable = False
    return not (unavailable or os.path.lexists(_path(where, native))
                or os.path.lexists(_path(where, native, ".failed")))


def _lock(where):
    """A descriptor holding the exclusive flock of the folder's `native.building`, or None when a
    build holds it (or the file cannot be made)."""
    try:
        fd = os.open(os.path.join(where, "native.building"), os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def building(where):
    """Whether a build runs in the folder `where` now."""
    fd = _lock(where)
    if fd is None:
        return True
    os.close(fd)
    return False


def remove_leftovers(where):
    """Remove the folders of builds killed before they ended. Only a process that holds the lock
    (a build) calls it, or one that holds it for the call (`adjoint cache clear`)."""
    for e in os.scandir(where):
        if e.name.startswith("native-build-") and e.is_dir(follow_symlinks=False):
            shutil.rmtree(e.path, ignore_errors=True)


def clear_leftovers(where):
    """Remove the folders of killed builds, unless a build runs now."""
    if not os.path.lexists(os.path.join(where, "native.building")):  # (no build ever ran here)
        remove_leftovers(where)
        return
    fd = _lock(where)
    if fd is not None:
        try:
            remove_leftovers(where)
        finally:
            os.close(fd)
