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
import importlib.metadata
import importlib.util
import json
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
    """Whether to build and load native modules: not with ADJOINT_NATIVE=0, where Numba is told to
    run Python (NUMBA_DISABLE_JIT=1), or in a frozen application (whose sys.executable is no Python)."""
    return os.environ.get("ADJOINT_NATIVE", "1") != "0" and os.environ.get("NUMBA_DISABLE_JIT", "0") in ("", "0") \
        and not getattr(sys, "frozen", False)


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


def _path(native, suffix=None):
    return os.path.join(emit.cache_dir(), native + (suffix or importlib.machinery.EXTENSION_SUFFIXES[0]))


_LOADED = {}
_BUILDS = []  # build processes this process started


def load(native, entry):
    """The function `entry` of the native module, or None when it is not built (yet), or does not
    load (then it is removed, and marked failed)."""
    fn = _LOADED.get(native)
    if fn is None:
        path = _path(native)
        if not os.path.exists(path):
            return None
        try:
            loader = importlib.machinery.ExtensionFileLoader(native, path)
            module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(native, path, loader=loader))
            loader.exec_module(module)
            fn = _LOADED[native] = getattr(module, entry)
        except (ImportError, OSError, AttributeError) as e:
            failed(_path(native, ".failed"), f"{path} did not load: {e!r}\n")
            try:
                os.remove(path)
            except OSError:
                pass
            return None
    return fn


def failed(path, reason):
    """Say at `path` why a native module was not built or did not load, so that it is not tried again."""
    try:
        with open(path, "w") as f:
            f.write(f"{reason}\n(delete this file to let adjoint try again)\n")
    except OSError:
        pass


# the build process: at low priority from the start, importing what this process imports (its sys.path)
_BUILD = "\n".join(["import json, os, sys", "if hasattr(os, 'nice'):", "    os.nice(10)",
                    "sys.path[:] = json.loads(sys.argv[2])", "from adjoint import jit", "jit.build_native(sys.argv[1])"])
UNAVAILABLE_S = 86400  # how long a folder-wide "no compiler, or no numba.pycc" stops further builds


def request(native, module, generated_path, entry, argtypes, wait=False):
    """Start building the native module in a process of its own, unless it is built, failed
    before, building cannot work here, or another build runs in this cache folder (a later process
    asks again). `argtypes` are the Numba types of the arguments. With `wait`, wait for the build
    (tests). Never raises: a native module only spares later processes a wait."""
    if not _wanted(native) or not _lock():
        return None
    if not _wanted(native):  # (built while we took the lock)
        unlock(os.getpid())
        return None
    try:
        spec = _path(native, ".spec")
        with open(spec, "wb") as f:
            pickle.dump({"native": native, "module": module, "path": generated_path, "entry": entry, "argtypes": argtypes,
                         "out": _path(native), "failed": _path(native, ".failed"), "asker": os.getpid(),
                         "unavailable": _path("native", ".unavailable")}, f)
        path = json.dumps([p for p in sys.path if isinstance(p, str)])  # (import finds only those)
        build = subprocess.Popen([sys.executable, "-c", _BUILD, spec, path], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    except (OSError, pickle.PicklingError, ValueError):
        unlock(os.getpid())
        return None
    _own_lock(os.getpid(), build.pid)
    _BUILDS[:] = [b for b in _BUILDS if b.poll() is None] + [build]  # (reaped once done)
    if wait:
        build.wait()
    return build


def _wanted(native):
    try:
        unavailable = time.time() - os.path.getmtime(_path("native", ".unavailable")) < UNAVAILABLE_S
    except OSError:
        unavailable = False
    return not (unavailable or os.path.exists(_path(native)) or os.path.exists(_path(native, ".failed")))


def _lock_path():
    return _path("native", ".building")


def _lock():
    """Take the cache folder's build lock, a file made only if missing that holds the builder's
    process id; False when a live build holds it. A lock whose process is gone (or, where that
    cannot be told, older than STALE_LOCK_S) is taken over."""
    path = _lock_path()
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if not _stale(path):
                return False
            try:
                os.remove(path)
            except OSError:
                return False
            continue
        except OSError:
            return False
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True
    return False


def _stale(path):
    for build in _BUILDS:
        build.poll()  # (a build of ours that ended is reaped, so its process id is gone)
    try:
        with open(path) as f:
            pid = int(f.read() or 0)
        if pid and os.name == "posix":
            os.kill(pid, 0)
            return False
        return time.time() - os.path.getmtime(path) > STALE_LOCK_S
    except ProcessLookupError:
        return True
    except (OSError, ValueError):
        return False


def _own_lock(pid, new_pid):
    """Hand the lock from process `pid` to `new_pid` (the build)."""
    try:
        with open(_lock_path(), "r+") as f:
            if f.read() == str(pid):
                f.seek(0)
                f.write(str(new_pid))
                f.truncate()
    except OSError:
        pass


def unlock(*pids):
    """Free the lock, if one of these processes holds it."""
    try:
        with open(_lock_path()) as f:
            if f.read() not in {str(p) for p in pids}:
                return
        os.remove(_lock_path())
    except OSError:
        pass
