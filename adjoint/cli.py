"""The command line: `adjoint dump`, `check`, `demo` and `cache` (also `python -m adjoint`)."""

import argparse
import atexit
import importlib.util
import os
import shutil
import sys
import tempfile
import time

import numpy as np

from . import api, check, explain
from .arguments import checkpointing
from .backend import cache, native
from .errors import AdjointError


def load_function(spec, beside=True):
    """The function named by 'path/to/file.py:func'. With `beside`, the file's folder goes on
    sys.path first, as when Python runs a script (so that the file imports its neighbours)."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path.endswith(".py"):
        raise AdjointError(f"{spec!r}: name a function as path/to/file.py:func")
    if not os.path.exists(path):
        raise AdjointError(f"{path}: no such file")
    path = os.path.abspath(path)
    if beside:
        sys.path.insert(0, os.path.dirname(path))
    modname = os.path.splitext(os.path.basename(path))[0]
    mod_spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules[modname] = module
    mod_spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if fn is None:
        raise AdjointError(f"{path} has no function `{name}`")
    return getattr(fn, "fn", fn) if isinstance(fn, api.Differentiated) else fn


def parse_wrt(text):
    if not text:
        return 0
    parts = tuple(int(p) if p.strip().lstrip("-").isdigit() else p.strip() for p in text.split(","))
    return parts if len(parts) > 1 else parts[0]


def highlight(text, stream):
    """Python syntax colours on a terminal (pygments), the plain text otherwise."""
    if not stream.isatty() or os.environ.get("NO_COLOR"):
        return text
    from pygments import highlight as pyg_highlight
    from pygments.formatters import TerminalFormatter
    from pygments.lexers import PythonLexer

    return pyg_highlight(text, PythonLexer(), TerminalFormatter())


def cmd_dump(opts):
    fn = load_function(opts.target)
    if opts.tape and opts.mode != "reverse":
        raise AdjointError("--tape reports on the adjoint's tapes: use it with --mode reverse")
    args = parse_args(opts.args) if opts.args else ()  # (the code for their kinds, as grad runs it)
    schedule = checkpointing(opts.checkpoint, opts.memory) if opts.mode == "reverse" else False
    generated = api.generated(fn, args, opts.mode, parse_wrt(opts.wrt), not opts.no_optimize, schedule)
    sys.stdout.write(highlight(generated.text, sys.stdout))
    if opts.tape:
        sys.stdout.write("\n" + explain.tape_report(generated))
    return 0


def parse_args(expr):
    """The arguments that a Python expression (with np available) gives, as a tuple."""
    try:
        args = eval(expr, {"np": np, "numpy": np})  # noqa: S307 -- the user's own expression
    except Exception as e:  # noqa: BLE001 -- whatever the user's expression raised
        raise AdjointError(f"--args {expr!r}: {type(e).__name__}: {e}\n"
                           'hint: give a Python expression of the arguments, e.g. "np.ones(3), 2.0"') from None
    return args if isinstance(args, tuple) else (args,)


def cmd_check(opts):
    fn = load_function(opts.target)
    report = check.check_grad(fn, *parse_args(opts.args), wrt=parse_wrt(opts.wrt), mode=opts.mode)
    print(report)
    return 0 if report else 1


DEMO = '''import numpy as np


def rosenbrock(x):
    """The Rosenbrock function, a classic test of optimisers."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
'''


def cmd_demo(opts):
    path = cache.path("demo_rosenbrock.py")  # (a file: adjoint reads a function's source from it)
    if path is None or cache.read(path) != DEMO.encode() and not cache.write(path, DEMO):
        folder = tempfile.mkdtemp(prefix="adjoint-demo-")  # (no cache folder to write it into)
        atexit.register(shutil.rmtree, folder, True)
        path = os.path.join(folder, "demo_rosenbrock.py")
        with open(path, "w") as f:
            f.write(DEMO)
    fn = load_function(f"{path}:rosenbrock", beside=False)  # (nothing of the cache folder is importable)
    out = sys.stdout
    print("The function (a plain NumPy function):\n")
    out.write(highlight(DEMO, out))
    print("\nIts adjoint, as adjoint generates it (adjoint.source(rosenbrock)):\n")
    out.write(highlight(api.source(fn), out))
    x = np.random.default_rng(0).uniform(-1.0, 1.0, 8)
    print("\nChecked against central differences at a random x of size 8 (adjoint.check_grad):\n")
    report = check.check_grad(fn, x)
    print(report)
    n = opts.n
    x = np.random.default_rng(1).uniform(-1.0, 1.0, n)
    g = api.grad(fn, jit=True)
    t0 = time.perf_counter()
    g(x)
    first = time.perf_counter() - t0
    native = "native" in api.differentiate(fn, jit=True).jit_status
    how = "loaded its native module" if native else "compiled with Numba (or loaded it from Numba's cache)"
    print(f"\nTiming at n = {n:,} (median of 5; the first call {how} in {first:.2f} s):\n")
    rows = [("primal, NumPy", lambda: fn(x)), ("gradient, adjoint jit=True", lambda: g(x)),
            ("gradient, adjoint jit=False", lambda: api.grad(fn, jit=False)(x))]
    base = None
    for label, call in rows:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
        med = float(np.median(times))
        base = base or med
        print(f"  {label:<30} {med * 1e3:9.2f} ms   {med / base:5.2f}x the primal")
    return 0 if report else 1


def cmd_cache(opts):
    if opts.action == "clear":
        if cache.folder():
            native.clear_leftovers(cache.folder())
        print(f"removed {cache.clear()} files from {cache.folder() or 'no cache folder'}")
    else:
        for name, value in cache.info().items():
            print(f"{name + ':':<28} {value}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="adjoint", description="Source-to-source automatic differentiation "
                                 "for Python and NumPy, compiled with Numba.")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("dump", help="print the generated derivative code of FILE.py:FUNC")
    p.add_argument("target", metavar="FILE.py:FUNC")
    p.add_argument("--mode", choices=api.MODES, default="reverse",
                   help="reverse: the adjoint; forward: the tangent code; hvp: forward mode over the adjoint")
    p.add_argument("--wrt", default="", help="comma-separated parameter names or positions (default: the first)")
    p.add_argument("--no-optimize", action="store_true", help="show the code before simplification")
    p.add_argument("--args", default="", help='example arguments, e.g. "np.ones(3), 2.0" (evaluated as Python): '
                   "show the code specialised to their kinds (numbers or arrays of some rank), as grad runs it")
    p.add_argument("--tape", action="store_true", help="then report what the reverse sweep keeps on its tape and "
                   "why, what it does not keep, the names with no derivative, and what the simplifier dropped")
    p.add_argument("--checkpoint", action="store_true", help="the adjoint with its top-level loops checkpointed "
                   "(grad(f, checkpoint=True))")
    p.add_argument("--memory", help='the adjoint with its top-level loops under a memory budget, e.g. "64MB" '
                   "(grad(f, memory=...); default: the environment's ADJOINT_MEMORY)")
    p.set_defaults(run=cmd_dump)
    p = sub.add_parser("check", help="compare the adjoint of FILE.py:FUNC with central differences")
    p.add_argument("target", metavar="FILE.py:FUNC")
    p.add_argument("--args", required=True, help='a Python expression giving the arguments, e.g. "np.ones(3), 2.0" '
                   "(evaluated as Python, with np: trust it as you trust FILE.py)")
    p.add_argument("--wrt", default="")
    p.add_argument("--mode", choices=("reverse", "forward"), default="reverse",
                   help="check the adjoint (vector-Jacobian products) or the tangent code (Jacobian-vector products)")
    p.set_defaults(run=cmd_check)
    p = sub.add_parser("demo", help="differentiate a built-in example, check it and time it")
    p.add_argument("-n", type=int, default=1_000_000, help="problem size for the timing (default 10^6)")
    p.set_defaults(run=cmd_demo)
    p = sub.add_parser("cache", help="report on the cache folder (info) or remove what adjoint keeps in it (clear)")
    p.add_argument("action", choices=("info", "clear"))
    p.set_defaults(run=cmd_cache)
    opts = ap.parse_args(argv)
    try:
        return opts.run(opts)
    except AdjointError as e:
        print(f"adjoint: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
