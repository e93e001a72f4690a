"""Programs nobody tuned (issue 19): adjoint's gradient of benchmarks/untuned_programs.py, against
the function's own primal, with the first gradient of a fresh process and its compile time.

    python -m benchmarks.untuned                      # full sizes
    python -m benchmarks.untuned --size tiny          # a quick end-to-end run
    python -m benchmarks.untuned -k kalman --repeats 5 --json untuned.json

Per program (all in one process, single-threaded: the thread variables are set before NumPy loads):

    primal       the faster of the function as it stands in Python/NumPy and `numba.njit` of it
                 (when Numba cannot compile it, the table says so and the Python time counts)
    grad None    `adjoint.value_and_grad(fn, wrt=..., jit=None)` settled: after its first call and
                 after any compile it started on a thread has ended and the path is chosen
    grad True    the same with jit=True
    ratio        grad (jit=None) / primal; the issue's target is 5 or less
    first s      the first gradient of a new process with new, empty adjoint and Numba cache folders
                 (ADJOINT_NATIVE=0), for jit=None and jit=True; `import adjoint` and making the
                 arguments are not counted
    compile s    that first call minus the settled call of the same jit (under jit=None, code with
                 loops runs its first call as Python while Numba compiles on a thread: then this
                 is the first call's cost, and "None compiled at s" is when the compiled code was
                 ready, counted from the start of that first call)
    check        the gradient of the settled jit=None and jit=True paths against central differences,
                 every entry, at the tiny size (and, at full size, a random directional derivative)

The settled calls and the primal calls go round in turn, `--repeats` rounds, as in benchmarks/run.py,
each timed call right after an untimed one of the same tool (run.interleaved's `warm`); times are medians.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import functools
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

import adjoint
from adjoint.arguments import bind_call, wrt_names
from adjoint.backend.dispatch import State, derivative

from . import untuned_programs
from .cases import SIZES
from .run import interleaved

TARGET = 5.0  # the bound on gradient time / primal time
SETTLE_S = 600.0  # longest wait for a background compile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FIRST_CALL = r"""
import json, sys, time, warnings
import adjoint
from adjoint.arguments import wrt_names
from adjoint.backend.dispatch import last_run
from benchmarks import untuned_programs
program = {p.name: p for p in untuned_programs.PROGRAMS}[sys.argv[1]]
args = program.make(sys.argv[2])
jit = {"True": True, "None": None}[sys.argv[3]]
vg = adjoint.value_and_grad(program.fn, wrt=program.wrt, jit=jit)
with warnings.catch_warnings(record=True):
    warnings.simplefilter("always")
    t0 = time.perf_counter()
    vg(*args)
    first = time.perf_counter() - t0
d = last_run(program.fn, wrt_names(program.fn, program.wrt)[0], jit)
status = d.jit_status if d is not None else "?"
for job in list(getattr(d, "_jobs", {}).values()):  # jit=None, loops: Numba compiles on a thread
    job.done.wait()
print(json.dumps({"first_s": first, "jit_status": status, "compiled_after_s": time.perf_counter() - t0}), flush=True)
"""


# ---------------------------------------------------------------------------------------------
# the paths of one program

def derivative_of(program, args, jit):
    """The dispatcher's Derivative that value_and_grad(program.fn, wrt, jit) runs for these arguments."""
    names, _ = wrt_names(program.fn, program.wrt)
    call = bind_call(program.fn, names, args, {})
    return derivative(call.fn, call.wrt, jit, True, call.kinds, trees=call.trees, returns="one")


def settle(vg, program, args, jit, limit_s=SETTLE_S):
    """Call vg until its path is chosen for good: the first call, then, while a compile runs on a
    thread (jit=None, code with loops) wait for it and call again, and call again while the
    straight-line code is still to be timed. Returns (first call's seconds, the Derivative)."""
    t0 = time.perf_counter()
    vg(*args)
    first = time.perf_counter() - t0
    d = derivative_of(program, args, jit)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        jobs = list(getattr(d, "_jobs", {}).values())
        for job in jobs:
            job.done.wait(max(0.0, deadline - time.monotonic()))
        if d.state in (State.NUMBA, State.PYTHON) and not getattr(d, "_jobs", {}):
            break
        vg(*args)
    return first, d


def numba_primal(fn, args):
    """(numba.njit(fn), None) once it compiled for args, else (None, why not)."""
    try:
        import numba

        jitted = numba.njit(fn)
        jitted(*args)
        return jitted, None
    except Exception as e:  # noqa: BLE001 -- Numba's typing errors are many
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(e))  # (Numba colours its messages)
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        why = next((ln for ln in lines if "No implementation" in ln or "Unknown attribute" in ln
                    or "Use of unsupported" in ln or "Untyped global" in ln or "not supported" in ln), None)
        return None, f"{type(e).__name__}: {(why or (lines[0] if lines else ''))[:150]}"


def first_call(program, size, jit, timeout=600):
    """The first gradient of a new process with new, empty cache folders: {"first_s", "jit_status"}
    or {"error"}."""
    with tempfile.TemporaryDirectory() as adjoint_cache, tempfile.TemporaryDirectory() as numba_cache:
        env = dict(os.environ, ADJOINT_CACHE_DIR=adjoint_cache, NUMBA_CACHE_DIR=numba_cache, ADJOINT_NATIVE="0")
        try:
            done = subprocess.run([sys.executable, "-c", FIRST_CALL, program.name, size, str(jit)], env=env,
                                  capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"error": f"over {timeout} s"}
        if done.returncode != 0:
            return {"error": (done.stderr.strip().splitlines() or ["?"])[-1][:150]}
        return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# checks

def _wrt_values(program, args):
    return [args[i] for i in program.wrt]


def _with(args, position, value):
    out = list(args)
    out[position] = value
    return tuple(out)


def _fresh(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def central_differences(program, args):
    """The gradient by central differences, entry by entry, one per wrt argument."""
    grads = []
    for position in program.wrt:
        x = args[position]
        if np.ndim(x) == 0:
            h = 1e-6 * max(1.0, abs(x))
            grads.append((program.fn(*_with(_fresh(args), position, x + h))
                          - program.fn(*_with(_fresh(args), position, x - h))) / (2 * h))
            continue
        g = np.zeros(x.shape)
        for idx in np.ndindex(x.shape):
            h = 1e-6 * max(1.0, abs(x[idx]))
            up, down = x.copy(), x.copy()
            up[idx] += h
            down[idx] -= h
            g[idx] = (program.fn(*_with(_fresh(args), position, up))
                      - program.fn(*_with(_fresh(args), position, down))) / (2 * h)
        grads.append(g)
    return grads


def compare(got, want):
    """The largest error relative to the largest entry (at least 1), over all wrt arguments."""
    worst = 0.0
    for g, w in zip(got, want):
        if np.shape(g) != np.shape(w) or not np.all(np.isfinite(g)):
            return float("inf")
        scale = max(1.0, float(np.max(np.abs(w))) if np.size(w) else 1.0)
        worst = max(worst, float(np.max(np.abs(np.asarray(g) - w))) / scale if np.size(w) else 0.0)
    return worst


def directional(program, args, grads, seed=0):
    """|g.v - (f(x + h v) - f(x - h v)) / 2h| relative to the larger of the two (at least 1), for one
    random direction v over all wrt arguments."""
    rng = np.random.default_rng(seed)
    vs = [rng.standard_normal(np.shape(x)) if np.ndim(x) else float(rng.standard_normal())
          for x in _wrt_values(program, args)]
    scale = max(max(1.0, float(np.max(np.abs(x)))) for x in _wrt_values(program, args))
    h = 1e-6 * scale
    up, down = _fresh(args), _fresh(args)
    for position, v in zip(program.wrt, vs):
        up = _with(up, position, args[position] + h * v)
        down = _with(down, position, args[position] - h * v)
    numeric = (program.fn(*up) - program.fn(*down)) / (2 * h)
    exact = sum(float(np.sum(np.asarray(g) * v)) for g, v in zip(grads, vs))
    return abs(numeric - exact) / max(1.0, abs(numeric), abs(exact))


def _as_list(grads, program):
    return list(grads) if isinstance(grads, tuple) else [grads]  # (a tuple wrt gives a tuple)


def check(program, size, paths, full_args):
    """{"tiny": {path: max rel err}, "value": {path: rel err of the value}, "directional": ...}: the
    settled paths' gradients at tiny size against central differences; the value each returns; at
    full size a directional derivative."""
    out = {"tiny": {}, "value": {}, "directional": {}}
    tiny = program.make("tiny")
    want = central_differences(program, tiny)
    for name, vg in paths.items():
        try:
            value, grads = vg(*_fresh(tiny))
            out["tiny"][name] = compare(_as_list(grads, program), want)
            exact = program.fn(*_fresh(tiny))
            out["value"][name] = abs(value - exact) / max(1.0, abs(exact))
            if size != "tiny":
                value, grads = vg(*_fresh(full_args))
                out["directional"][name] = directional(program, full_args, _as_list(grads, program))
        except Exception as e:  # noqa: BLE001
            out["tiny"][name] = f"{type(e).__name__}: {str(e)[:120]}"
    return out


def verdict(checks, tol=1e-5, dir_tol=1e-4):
    bad = []
    for name, err in checks["tiny"].items():
        if isinstance(err, str) or not err <= tol:
            bad.append(f"{name}: {err if isinstance(err, str) else f'{err:.1e}'}")
    for name, err in checks["directional"].items():
        if not err <= dir_tol:
            bad.append(f"{name} directional: {err:.1e}")
    for name, err in checks["value"].items():
        if not err <= 1e-10:
            bad.append(f"{name} value: {err:.1e}")
    return "agrees" if not bad else "DISAGREES (" + "; ".join(bad) + ")"


# ---------------------------------------------------------------------------------------------
# one program

def run_program(program, size, repeats, cold):
    args = program.make(size)
    row = {"program": program.name, "kind": program.kind, "size": size, "wrt": list(program.wrt), "tools": {}}
    jitted, why = numba_primal(program.fn, args)
    if why:
        row["numba_primal_error"] = why
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths, settled = {}, {}
        for jit in (None, True):
            name = f"adjoint jit={jit}"
            vg = adjoint.value_and_grad(program.fn, wrt=program.wrt, jit=jit)
            try:
                first, d = settle(vg, program, _fresh(args), jit)
            except Exception as e:  # noqa: BLE001 -- a refusal or a compile error is reported
                row["tools"][name] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:150] if str(e) else ''}"}
                continue
            paths[name] = vg
            settled[name] = {"in_process_first_s": first, "jit_status": d.jit_status}
        calls = {"python primal": lambda: program.fn(*args)}
        if jitted is not None:
            calls["numba primal"] = lambda: jitted(*args)
        for name, vg in paths.items():
            calls[name] = functools.partial(vg, *args)
        row["tools"].update(interleaved(calls, repeats, warm=True))
        for name, info in settled.items():
            row["tools"][name].update(info)
        row["checks"] = check(program, size, paths, args)
    row["warnings"] = sorted({str(w.message)[:300] for w in caught})
    row["verdict"] = verdict(row["checks"])
    if cold:
        row["first_call"] = {str(jit): first_call(program, size, jit) for jit in (None, True)}
    return row


# ---------------------------------------------------------------------------------------------
# the table

def _median(row, tool):
    entry = row["tools"].get(tool)
    return entry.get("median_s") if entry else None


def primal_s(row):
    times = [t for t in (_median(row, "python primal"), _median(row, "numba primal")) if t is not None]
    return min(times) if times else None


def _fmt_ms(s):
    return "-" if s is None else f"{s * 1e3:.3g}"


def _fmt_s(s):
    return "-" if s is None else f"{s:.2f}"


def table(rows):
    head = ["program", "kind", "python ms", "numba ms", "grad None ms", "grad True ms", "ratio None",
            "ratio True", "first s None/True", "compile s None/True", "None compiled at s", "check"]
    lines = [head]
    for r in rows:
        primal = primal_s(r)
        grads = {jit: _median(r, f"adjoint jit={jit}") for jit in ("None", "True")}
        ratios = {jit: (f"{g / primal:.1f}" + ("" if g / primal <= TARGET else " !")) if g and primal else "-"
                  for jit, g in grads.items()}
        firsts, compiles = [], []
        for jit in ("None", "True"):
            fc = r.get("first_call", {}).get(jit, {})
            first = fc.get("first_s")
            firsts.append(_fmt_s(first) if "error" not in fc else "error")
            compiles.append(_fmt_s(max(0.0, first - grads[jit])) if first is not None and grads[jit] else "-")
        none = r.get("first_call", {}).get("None", {})
        compiled_at = _fmt_s(none["compiled_after_s"]) if "compiling" in none.get("jit_status", "") else "-"
        lines.append([r["program"], r["kind"], _fmt_ms(_median(r, "python primal")),
                      _fmt_ms(_median(r, "numba primal")) if "numba_primal_error" not in r else "no njit",
                      _fmt_ms(grads["None"]), _fmt_ms(grads["True"]), ratios["None"], ratios["True"],
                      "/".join(firsts), "/".join(compiles), compiled_at, r["verdict"].split(" (")[0]])
    md = ["| " + " | ".join(lines[0]) + " |", "|" + "|".join("---" for _ in head) + "|"]
    md += ["| " + " | ".join(str(c) for c in line) + " |" for line in lines[1:]]
    notes = []
    for r in rows:
        if "numba_primal_error" in r:
            notes.append(f"- {r['program']}: numba.njit cannot compile it ({r['numba_primal_error']}); the "
                         "primal is the Python time")
        for tool, e in r["tools"].items():
            if "error" in e:
                notes.append(f"- {r['program']}: {tool}: {e['error']}")
            elif "jit_status" in e:
                notes.append(f"- {r['program']}: {tool} settled on: {e['jit_status']}")
        for jit, fc in r.get("first_call", {}).items():
            if "error" in fc:
                notes.append(f"- {r['program']}: first call jit={jit}: {fc['error']}")
            else:
                notes.append(f"- {r['program']}: first call jit={jit} ran: {fc['jit_status']}")
        if r["verdict"] != "agrees":
            notes.append(f"- {r['program']}: gradient {r['verdict']}")
        for w in r.get("warnings", []):
            notes.append(f"- {r['program']}: warning: {w}")
    return "\n".join(md + ([""] + notes if notes else []))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=SIZES, default="full")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("-k", default="", help="only programs whose name contains this")
    ap.add_argument("--no-first-call", action="store_true", help="skip the fresh processes with cold caches")
    ap.add_argument("--json", default="", help="also write the rows to this file")
    opts = ap.parse_args(argv)
    os.environ["ADJOINT_NATIVE"] = "0"  # no native build takes a core from the timed calls
    rows = []
    for program in untuned_programs.PROGRAMS:
        if opts.k in program.name:
            t0 = time.perf_counter()
            rows.append(run_program(program, opts.size, opts.repeats, not opts.no_first_call))
            print(f"  {program.name}: done in {time.perf_counter() - t0:.1f} s, {rows[-1]['verdict']}",
                  file=sys.stderr, flush=True)
    print(f"\nsize {opts.size}, medians of {opts.repeats}; ratio = adjoint's settled gradient / the faster primal "
          f"(target <= {TARGET:g}, ! above); first s: a new process with cold caches; compile s: first minus settled\n")
    print(table(rows))
    if opts.json:
        meta = {"python": sys.version.split()[0], "numpy": np.__version__, "platform": platform.platform(),
                "adjoint": adjoint.__version__, "threads": 1}
        os.makedirs(os.path.dirname(opts.json) or ".", exist_ok=True)
        with open(opts.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=2, default=str)
        print(f"\nwrote {opts.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
