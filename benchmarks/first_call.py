"""The first gradient in a fresh process, with a cold and then a warm on-disk cache.

    python -m benchmarks.first_call              # every kernel at full size
    python -m benchmarks.first_call -k ode --size tiny --repeats 3

Each measurement is a new Python process that imports adjoint, builds the kernel's arguments and
times its first `value_and_grad(..., jit=...)` call (generating, compiling or loading from the
cache, and running), for jit=True and for the default jit=None (which leaves straight-line array
code whose first call is heavy to NumPy, uncompiled). Per kernel and jit, four processes:

    cold   new adjoint and Numba cache folders: nothing compiled before, not even the runtime
           helpers (the first gradient after installing adjoint)
    new    a new adjoint cache folder, the Numba cache of `cold`: the helpers are compiled, the
           generated code is not (a function differentiated for the first time)
    warm   both folders of `new` again (the same gradient in a later process), with native
           modules turned off (ADJOINT_NATIVE=0): the code comes from Numba's cache
    native the same, with the native module that `new` built in the background (adjoint/backend/native.py),
           which the process loads without starting Numba

Each process starts once the native builds that the ones before it started have ended, so that
none is timed while a build uses a core (a process started during a build competes with it).

With --repeats N, each column is the median of N such runs, each with new folders.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from adjoint.backend import native

CODE = r"""
import sys, time
from benchmarks import kernels
import adjoint
kernel = [k for k in kernels.KERNELS if k.name == sys.argv[1]][0]
args = kernel.make(sys.argv[2])
jit = {"True": True, "None": None}[sys.argv[3]]
t0 = time.perf_counter()
adjoint.value_and_grad(kernel.fn, wrt=kernel.wrt, jit=jit)(*args)
print(time.perf_counter() - t0)
"""


def first_call(name, size, jit, env):
    done = subprocess.run([sys.executable, "-c", CODE, name, size, str(jit)], env=env, capture_output=True, text=True,
                          check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return float(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    from . import kernels

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=("tiny", "full"), default="full")
    ap.add_argument("-k", default="")
    ap.add_argument("--repeats", type=int, default=1)
    opts = ap.parse_args(argv)
    print(f"{'':<16} {'jit=True':^35}   {'jit=None':^35}")
    print(f"{'kernel':<16}" + f"{'cold s':>8} {'new s':>8} {'warm s':>8} {'native s':>8}   " * 2)
    for kernel in kernels.KERNELS:
        if opts.k in kernel.name:
            cells = []
            for jit in (True, None):
                runs = [first_calls(kernel.name, opts.size, jit) for _ in range(opts.repeats)]
                cells.append(" ".join(f"{statistics.median(column):8.2f}" for column in zip(*runs)))
            print(f"{kernel.name:<16}" + "   ".join(cells), flush=True)
    return 0


def first_calls(name, size, jit):
    """(cold, new, warm, native) seconds of the first gradient of one kernel."""
    with tempfile.TemporaryDirectory() as numba_cache, tempfile.TemporaryDirectory() as cold_cache, \
            tempfile.TemporaryDirectory() as new_cache:
        env = dict(os.environ, ADJOINT_CACHE_DIR=cold_cache, NUMBA_CACHE_DIR=numba_cache)
        cold = first_call(name, size, jit, env)
        settle(cold_cache)
        env["ADJOINT_CACHE_DIR"] = new_cache
        new = first_call(name, size, jit, env)
        settle(new_cache)
        warm = first_call(name, size, jit, dict(env, ADJOINT_NATIVE="0"))
        return cold, new, warm, first_call(name, size, jit, env)


def settle(folder, limit_s=600):
    """Wait for the native build running in an adjoint cache folder, if any, to end."""
    deadline = time.monotonic() + limit_s
    while native.building(folder) and time.monotonic() < deadline:
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
