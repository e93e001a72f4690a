"""adjoint against plain Python, Numba, a hand-written Numba adjoint and, when installed, JAX, PyTorch
and HIPS autograd, on the kernels of benchmarks/kernels.py.

    python -m benchmarks                       # full sizes, every tool that is installed
    python -m benchmarks --size tiny           # the CI smoke run
    python -m benchmarks -k ode --repeats 9 --json results.json --png results.png

Every tool runs in this one process, single-threaded (the thread variables are set before NumPy
loads). Kernel by kernel, each tool makes its first call ("first": compile included), then the
repeats go round the tools in turn, so that ratios within one run compare like with like even on a
shared, noisy machine. Times are medians over the repeats. A tool whose single call would take
over a minute is skipped, and the table says so.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
             "XLA_FLAGS", "TF_NUM_INTRAOP_THREADS"):
    os.environ.setdefault(_var, "1" if _var != "XLA_FLAGS" else
                          "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import adjoint  # noqa: E402
from adjoint.arguments import bind, wrt_names
from adjoint.backend.dispatch import derivative  # noqa: E402

from . import handwritten, kernels, peers  # noqa: E402

MINUTE = 60.0


def interleaved(calls, repeats, budget=MINUTE, warm=False):
    """tool -> {"first_s", "median_s"} (or {"error"}) for calls {tool: call}: each tool's first call
    (compile included), then `repeats` rounds that call every tool once in turn, so that a slow
    spell of the machine falls on all of them alike. A tool whose first call took long runs fewer
    rounds (at most `budget` seconds in all). With `warm`, each timed call comes right after an
    untimed call of the same tool (benchmarks/untuned.py: a call of tens of microseconds that follows
    tens of milliseconds of interpreted Python runs up to twice as slow from cold caches, so the order
    of the tools in a round would show in their times)."""
    out, rounds = {}, {}
    for tool, call in calls.items():
        try:
            t0 = time.perf_counter()
            call()
            first = time.perf_counter() - t0
        except Exception as e:  # noqa: BLE001 -- a tool that fails is reported, not fatal
            out[tool] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"}
            continue
        out[tool] = {"first_s": first}
        rounds[tool] = max(1, min(repeats, int(budget / max((2 if warm else 1) * first, 1e-9))))
    times = {tool: [] for tool in rounds}
    for r in range(repeats):
        for tool in rounds:
            if r < rounds[tool]:
                if warm:
                    calls[tool]()
                t0 = time.perf_counter()
                calls[tool]()
                times[tool].append(time.perf_counter() - t0)
    for tool, ts in times.items():
        out[tool]["median_s"] = float(np.median(ts))
    return out


def adjoint_tape_bytes(kernel, args):
    """Bytes the generated adjoint keeps on its tapes at the end of the forward sweep (Python path)."""
    names, _ = wrt_names(kernel.fn, kernel.wrt)
    values, kinds = bind(kernel.fn, names, args, {})
    d = derivative(kernel.fn, names, False, True, kinds)
    text = d.text
    lists = re.findall(r"^    (\w+) = \[(?:0\.0|\(\([0-9, ]*\), 0\))?\]$", text, re.M)  # see place_tape
    stacks = re.findall(r"^    (\w+) = np\.zeros\(\d+\)\n    (\w+) = 1$", text, re.M)  # see adjoint/optimize/stacks.py
    if not lists and not stacks:
        return 0
    recorded = []
    # a stack of numbers counts the entries in use (as a list does), not the room it has to grow
    in_use = ", ".join(f"{t}[:{top}]" for t, top in stacks)
    probe = f"    __record__([{', '.join(lists)}], [{in_use}])\n    # reverse sweep"
    namespace = {"__record__": lambda lists, stacks: recorded.append(
        sum(_nbytes(v) for t in lists for v in t[:]) + sum(s.nbytes for s in stacks))}
    exec(compile(text.replace("    # reverse sweep", probe, 1), "<tape probe>", "exec"), namespace)
    namespace[d.generated.entry](*values, 1.0, *d.arrays)
    return recorded[0]


def _nbytes(value):
    """An array's bytes; 8 per number, and per number in a tuple (a shape tape's (shape, count))."""
    if isinstance(value, tuple):
        return sum(_nbytes(v) for v in value)
    return value.nbytes if isinstance(value, np.ndarray) else 8


def run_kernel(kernel, size, repeats, tools):
    args = kernel.make(size)
    row = {"kernel": kernel.name, "kind": kernel.kind, "size": size, "tools": {}}
    out = row["tools"]

    calls = {}

    def record(tool, call, skip=None):
        if tools and tool not in tools:
            return
        if skip:
            out[tool] = {"skipped": skip}
            return
        calls[tool] = call

    record("numpy primal", lambda: kernel.fn(*args))

    record("numba primal", lambda: _numba_primal(kernel)(*args))
    grad_jit = adjoint.value_and_grad(kernel.fn, wrt=kernel.wrt, jit=True)
    record("adjoint jit=True", lambda: grad_jit(*args))
    grad_auto = adjoint.value_and_grad(kernel.fn, wrt=kernel.wrt, jit=None)
    record("adjoint jit=None", lambda: grad_auto(*args))
    grad_py = adjoint.value_and_grad(kernel.fn, wrt=kernel.wrt, jit=False)
    record("adjoint jit=False", lambda: grad_py(*args))
    hand = getattr(handwritten, f"{kernel.name}_value_and_grad", None)
    if hand is not None:
        record("hand-written numba", lambda: hand(*args))
    for tool, make in peers.PEERS.items():
        if tools and tool not in tools:
            continue
        prepared = make(kernel, args)
        if isinstance(prepared, str):
            record(tool, None, prepared)
        else:
            record(tool, prepared)
    out.update(interleaved(calls, repeats))
    try:
        row["tape_bytes"] = {"adjoint": adjoint_tape_bytes(kernel, args)}
        if kernel.name in handwritten.TAPE_BYTES:
            row["tape_bytes"]["hand-written"] = handwritten.TAPE_BYTES[kernel.name](*args)
    except Exception as e:  # noqa: BLE001
        row["tape_bytes"] = {"error": str(e)[:120]}
    names, _ = wrt_names(kernel.fn, kernel.wrt)
    row["jit_status"] = derivative(kernel.fn, names, None, True, bind(kernel.fn, names, args, {})[1]).jit_status
    return row


_NUMBA = {}


def _numba_primal(kernel):
    import numba

    if kernel.name not in _NUMBA:
        _NUMBA[kernel.name] = numba.njit(kernel.fn)
    return _NUMBA[kernel.name]


def _ms(entry):
    if entry is None:
        return "-"
    if "skipped" in entry:
        return "skipped"
    if "error" in entry:
        return "error"
    return f"{entry['median_s'] * 1e3:.3g}"


def table(rows):
    tools = []
    for r in rows:
        for t in r["tools"]:
            if t not in tools:
                tools.append(t)
    head = ["kernel"] + [f"{t} ms" for t in tools] + ["grad/primal", "vs hand", "first grad s", "tape kB (adj/hand)"]
    # grad/primal and vs hand use adjoint's own choice (jit=None); the primal is Numba's for loop
    # kernels and NumPy's for vectorised ones
    lines = [head]
    for r in rows:
        t = r["tools"]
        base = t.get("numba primal") if r["kind"] == "loop" else t.get("numpy primal")
        adj = t.get("adjoint jit=None") or t.get("adjoint jit=True")
        hand = t.get("hand-written numba")
        ok = lambda e: e is not None and "median_s" in e  # noqa: E731
        ratio = f"{adj['median_s'] / base['median_s']:.2f}" if ok(adj) and ok(base) else "-"
        vs_hand = f"{adj['median_s'] / hand['median_s']:.2f}" if ok(adj) and ok(hand) else "-"
        first = f"{adj['first_s']:.2f}" if ok(adj) else "-"
        tape = r.get("tape_bytes", {})
        tape_text = "/".join(f"{tape[k] / 1e3:.4g}" if k in tape else "-" for k in ("adjoint", "hand-written"))
        lines.append([r["kernel"]] + [_ms(t.get(tool)) for tool in tools] + [ratio, vs_hand, first, tape_text])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    text = ["  ".join(str(c).rjust(w) for c, w in zip(line, widths)) for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {r['kernel']}: {tool}: {e.get('skipped') or e.get('error')}" for r in rows
             for tool, e in r["tools"].items() if "skipped" in e or "error" in e]
    return "\n".join(text + (["", "not timed:"] + notes if notes else []))


def chart(rows, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    tools = sorted({t for r in rows for t, e in r["tools"].items() if "median_s" in e})
    fig, ax = plt.subplots(figsize=(10, 5))
    width = 0.8 / max(1, len(tools))
    for i, tool in enumerate(tools):
        ys = [r["tools"].get(tool, {}).get("median_s", np.nan) * 1e3 for r in rows]
        ax.bar(np.arange(len(rows)) + i * width, ys, width, label=tool)
    ax.set_xticks(np.arange(len(rows)) + 0.4 - width / 2)
    ax.set_xticklabels([r["kernel"] for r in rows], rotation=20)
    ax.set_yscale("log")
    ax.set_ylabel("ms (median)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=("tiny", "full"), default="full")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("-k", default="", help="only kernels whose name contains this")
    ap.add_argument("--tools", default="", help="comma-separated tool names to run (default: all)")
    ap.add_argument("--json", default="benchmarks/results/results.json")
    ap.add_argument("--png", default="benchmarks/results/results.png")
    opts = ap.parse_args(argv)
    os.environ["ADJOINT_NATIVE"] = "0"  # no native build (adjoint/backend/native.py) takes a core from the timed calls
    tools = {t.strip() for t in opts.tools.split(",") if t.strip()}
    handwritten.check_all("tiny")  # the hand-written adjoints agree with central differences
    rows = []
    for kernel in kernels.KERNELS:
        if opts.k in kernel.name:
            rows.append(run_kernel(kernel, opts.size, opts.repeats, tools))
            print(f"  {kernel.name}: done", file=sys.stderr)
    print(table(rows))
    print("\njit=None chose: " + "; ".join(f"{r['kernel']}: {r['jit_status']}" for r in rows))
    meta = {"python": sys.version.split()[0], "numpy": np.__version__, "platform": platform.platform(),
            "adjoint": adjoint.__version__, "threads": 1, "peers": peers.versions()}
    os.makedirs(os.path.dirname(opts.json) or ".", exist_ok=True)
    with open(opts.json, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=2)
    print(f"\nwrote {opts.json}" + (f" and {opts.png}" if chart(rows, opts.png) else " (no matplotlib: no chart)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
