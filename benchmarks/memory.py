"""Long loops, stored whole, checkpointed and under a memory budget (issue 20): each gradient's time and
the memory it adds to its process, for the tape stored whole, `checkpoint=True` (segments of √n) and
`memory=64MB` and `memory=1GB`, and whether each agrees with the stored one to the bit.

    python -m benchmarks.memory                 # 10^7 and 10^8 steps (a few GB for the largest stored run)
    python -m benchmarks.memory --size tiny     # a quick end-to-end run
    python -m benchmarks.memory -k while --jit false

Each gradient runs in a process of its own, after a first call at 10 steps that compiles it: "MB"
is the growth of that process's peak resident memory during the measured call (what the tapes and
snapshots took; the arguments and the compiled code are there before it), "ms" its time. A size
whose stored run would not fit in `--limit` GB is measured checkpointed only.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

from .kernels import logistic_map, make_ode_rk4, ode_rk4


def damped_spring(x0, v0, k, c, t_end, dt):
    """A while loop whose trip count (t_end / dt) the data decide: a spring with quadratic damping."""
    x, v, t = x0, v0, 0.0
    energy = 0.0
    while t < t_end:
        a = -k * x - c * v * abs(v)
        v = v + dt * a
        x = x + dt * v
        energy = energy + dt * (x * x + v * v)
        t = t + dt
    return energy + x


def _case(name, n):
    """(function, arguments at n steps, wrt) of a kernel."""
    if name == "logistic_map":
        return logistic_map, (2.9, 0.3, n), (0, 1)
    if name == "ode_rk4":
        params, y0, _, dt = make_ode_rk4("full")
        return ode_rk4, (params, y0, n, dt), (0, 1)
    return damped_spring, (1.0, 0.0, 2.0, 0.1, n * 1e-4, 1e-4), (0, 1, 2, 3)


BYTES_A_STEP = {"logistic_map": 8, "ode_rk4": 16, "while": 48}  # (what a stored run tapes, about)
SIZES = {"full": [("logistic_map", 10**7), ("logistic_map", 10**8), ("logistic_map", 10**9), ("ode_rk4", 10**7),
                  ("while", 10**7)],
         "tiny": [("logistic_map", 10**4), ("ode_rk4", 10**4), ("while", 10**4)]}


SCHEMES = ("stored", "checkpoint=True", "memory=64MB", "memory=1GB")


def options(scheme):
    """value_and_grad's keyword arguments for a scheme of SCHEMES."""
    if scheme == "checkpoint=True":
        return {"checkpoint": True}
    return {"memory": scheme.split("=")[1]} if scheme.startswith("memory=") else {}


def measure(name, n, scheme, jit):
    """Run in the child process: the gradient's time, memory growth and value."""
    import resource
    import time

    import adjoint
    fn, args, wrt = _case(name, n)
    g = adjoint.value_and_grad(fn, wrt=wrt, jit=jit, **options(scheme))
    g(*_case(name, 10)[1])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    value, grads = g(*args)
    seconds = time.perf_counter() - t0
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return {"ms": seconds * 1e3, "MB": grown / 1024, "value": float(value),
            "grads": [np.asarray(x).tolist() for x in grads]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("-k", default="", help="only the kernels whose name holds this")
    p.add_argument("--jit", choices=("true", "false"), default="true")
    p.add_argument("--limit", type=float, default=4.0, help="GB a stored run may take (default 4)")
    p.add_argument("--schemes", default=",".join(SCHEMES), help=f"comma-separated, of {', '.join(SCHEMES)}")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    opts = p.parse_args(argv)
    jit = opts.jit == "true"
    if opts.child:
        name, n, scheme = opts.child
        print(json.dumps(measure(name, int(n), scheme, jit)))
        return
    env = dict(os.environ, ADJOINT_QUIET="1", ADJOINT_NATIVE="0")
    print(f"jit={jit}; MB: growth of the process's peak memory during the call; ratio: time against stored; "
          "same bits: value and gradient against stored\n")
    print("| kernel | steps | scheme | ms | MB | time ratio | same bits |")
    print("|---|---:|---|---:|---:|---:|---|")
    for name, n in SIZES[opts.size]:
        if opts.k not in name:
            continue
        stored = None
        for scheme in opts.schemes.split(","):
            if scheme == "stored" and n * BYTES_A_STEP[name] > opts.limit * 2**30:
                print(f"| {name} | {n:.0e} | stored | - ({n * BYTES_A_STEP[name] / 2**30:.1f} GB of tape) | | | |")
                continue
            out = subprocess.run([sys.executable, "-m", "benchmarks.memory", "--jit", opts.jit, "--child", name,
                                  str(n), scheme], capture_output=True, text=True, env=env)
            if out.returncode:
                print(f"| {name} | {n:.0e} | {scheme} | failed: {out.stderr.strip().splitlines()[-1][:90]} | | | |")
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            stored = row if scheme == "stored" else stored
            ratio = "-" if stored is None else f"{row['ms'] / stored['ms']:.2f}"
            same = "-" if stored is None else str(row["value"] == stored["value"] and row["grads"] == stored["grads"])
            print(f"| {name} | {n:.0e} | {scheme} | {row['ms']:.3g} | {row['MB']:.0f} | {ratio} | {same} |", flush=True)


if __name__ == "__main__":
    main()
