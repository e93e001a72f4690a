"""Random programs (tests/random_programs.py) judged by three oracles, and the shrunk failures
they found (tests/random_regressions.py).

For every program (its primal runs cleanly, by construction):

1. central differences: `adjoint.numerical_jacobian` against `adjoint.grad` (scalar result) or
   `adjoint.vjp` with a random cotangent u (array result), and against `adjoint.jvp` with a random
   tangent v per input. A derivative must agree with the differences of one of several steps
   (max error <= 1e-5 * max(1, max |numerical|)); when none does and the differences of two steps
   disagree with each other (the program is not smooth enough there), this oracle is skipped
   (outcome "skipped"). When only this oracle objects and the two modes agree with each other, the
   program is judged again with the arguments moved by up to 1e-3: if all oracles pass there, the
   point was a kink (a sum landing on np.clip's bound to the last bit), outcome "skipped";
2. forward against reverse: <u, J v> from the forward mode equals <J^T u, v> from the reverse
   mode, to 1e-10 of the sum of the absolute products (no step size: this judges programs that
   central differences cannot);
3. `jit=True` against `jit=False`: the same gradient to 1e-10 relative, on programs made only of
   what Numba compiles (`random_programs.program(..., numba=True)`; Numba takes seconds to minutes
   to compile a generated adjoint, so this runs on a few small programs by default).

Also checked: the value each mode returns equals the primal's, differentiating leaves the
caller's arrays unchanged, and a gradient has its argument's type and shape. An exception that is
not an `adjoint.AdjointError` is a crash (a failure); an AdjointError is a refusal (a skip), and
test_few_refusals fails when more than MAX_REFUSED of the programs are refused.

Runs:

    pytest tests/test_random.py        # DEFAULT_LOOPS "loops" programs, one "rules" program per rule
                                       # of adjoint's table, DEFAULT_JIT small programs with jit=True
    ADJOINT_FUZZ=2000 ADJOINT_FUZZ_JIT=0.02 pytest tests/test_random.py   # N programs of each family,
                                       # that fraction of them with jit=True
    python tests/test_random.py --count 20000 --jobs 2 --jit-fraction 0.02 --out /tmp/fuzz.jsonl
    python tests/test_random.py --show 17 [--family rules] [--jit]    # a program, its arguments, wrt
    python tests/test_random.py --shrink 17 [--family rules] [--jit]  # a failing program, shrunk

The script runs outside pytest in parallel processes, writes one JSON line per program (outcome in
ok, refused, skipped, wrong, crash; the oracle; the message), prints counts by outcome, the most
common refusals and the distinct failures, and with --shrink-failures shrinks one program of each.
Shrunk failures go into tests/random_regressions.py (test_regression runs them by default).
"""

import argparse
import collections
import hashlib
import importlib.util
import json
import os
import re
import signal
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import asdict, dataclass

if __name__ == "__main__":  # before adjoint is imported: a cache of our own, no native builds
    os.environ.setdefault("ADJOINT_CACHE_DIR", tempfile.mkdtemp(prefix="adjoint-random-"))
    os.environ["ADJOINT_NATIVE"] = "0"
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import pytest
import random_programs as rp
from random_regressions import CASES as REGRESSIONS

import adjoint
from adjoint.errors import AdjointError

DEFAULT_LOOPS = 45  # "loops" programs in the default run (one "rules" program per rule besides)
DEFAULT_JIT = 1  # and this many small "loops" programs with the jit oracle (each compile costs seconds)
JIT_LINES = 14
MAX_REFUSED = 0.1  # of 60 programs (the long runs refuse 3.9% of 3,000: view writes NumPy would read as it writes)
STEPS = (1e-6, 1e-5, 1e-7, 1e-4)  # central-difference steps: a gradient must agree with one of them
TOLERANCE = 1e-5  # oracle 1: max error relative to max(1, max |numerical|)
EXACT = 1e-10  # oracles 2 and 3
FLOOR = 1e-13  # and what rounding leaves of a derivative that cancels to zero, per unit of |u|, |v| and |f|
SETTLE = 1e-3  # central differences settle when steps 1e-5 and 1e-7 agree this well
COARSE = (1e-2, 3e-3)  # steps that judge a derivative whose output rounds the usual steps away


# ----------------------------------------------------------------------------------------------
# Running one program through the oracles
# ----------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    outcome: str  # ok, refused, skipped, wrong, crash
    oracle: str = ""  # which check failed (or which mode refused)
    message: str = ""
    detail: str = ""  # expected against got, a traceback

    where: str = ""  # a crash: the innermost frame in adjoint's code

    def signature(self):
        """What a shrunk program must keep failing with: the outcome, the oracle, and for a crash the
        exception's type and where adjoint raised it, for a refusal its message without names."""
        if self.outcome == "crash":
            return self.outcome, self.oracle, self.message.split(":")[0], self.where
        if self.outcome == "refused":
            return self.outcome, self.oracle, re.sub(r"`[^`]*`", "`_`", self.message)
        return self.outcome, self.oracle


_RANK = {"ok": 0, "skipped": 1, "refused": 2, "wrong": 3, "crash": 4}
_DIRECTORY = None


def module_directory():
    global _DIRECTORY
    if _DIRECTORY is None:
        _DIRECTORY = tempfile.mkdtemp(prefix="adjoint-random-programs-")
    return _DIRECTORY


def load_function(source, name):
    """The function `name` of a module with this source, written into a file (adjoint reads source)."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    module_name = f"rp_{name}_{digest}"
    path = os.path.join(module_directory(), module_name + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return getattr(module, name)


def check_program(p, jit=False):
    return check(load_function(p.source(), p.name), p.args, p.wrt, jit, seed=p.seed)


def program(seed, family, jit=False):
    """The program to check: with the jit oracle, one made only of what Numba compiles (when the
    family has one: a rules program whose rule Numba refuses has not)."""
    if jit:
        try:
            return rp.program(seed, family, numba=True)
        except RuntimeError:
            pass
    return rp.program(seed, family)


def _copies(args):
    return tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in args)


def _first_line(e):
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def _refusal(e):
    """A refusal's message without the file and line (so that messages count together); for
    Numba, the generated line it refused."""
    lines = str(e).splitlines() or [type(e).__name__]
    line = lines[0]
    parts = line.split(": ", 1)
    if len(parts) == 2 and parts[0].count(":") >= 2:
        line = parts[1]
    if isinstance(e, adjoint.JitError) and len(lines) > 2 and lines[1].endswith(":"):
        line = line.split(":")[0] + ": " + lines[2].strip()
    return f"{type(e).__name__}: {line}"


def _crash(oracle, e):
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f"{os.sep}adjoint{os.sep}" in f.filename]
    where = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno} {frames[-1].name}" if frames else ""
    return Outcome("crash", oracle, _first_line(e), traceback.format_exc(limit=-8), where)


def _fmt(a):
    return np.array2string(np.asarray(a, dtype=float), precision=10, threshold=60)


def _inner(a, b):
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)))


def _norm1(a):
    return float(np.sum(np.abs(np.asarray(a, dtype=float))))


def _abs_inner(a, b):
    return float(np.sum(np.abs(np.asarray(a, dtype=float)) * np.abs(np.asarray(b, dtype=float))))


class _Quiet:
    """No warnings, no floating-point errors raised (what a derivative computes is judged by value)."""

    def __enter__(self):
        self.w = warnings.catch_warnings()
        self.w.__enter__()
        warnings.simplefilter("ignore")
        self.e = np.errstate(all="ignore")
        self.e.__enter__()

    def __exit__(self, *exc):
        self.e.__exit__(*exc)
        self.w.__exit__(*exc)


def reverse(f, args, wrt, u, scalar, jit):
    """(value, gradients) from adjoint's reverse mode; checks the caller's arrays stay unchanged."""
    call = _copies(args)
    if scalar:
        value, grads = adjoint.value_and_grad(f, wrt=wrt, jit=jit)(*call)
    else:
        value, pullback = adjoint.vjp(f, *call, wrt=wrt, jit=jit)
        grads = pullback(u)
    changed = [k for k, (a, b) in enumerate(zip(call, args)) if isinstance(a, np.ndarray) and not np.array_equal(a, b)]
    return value, tuple(grads), changed


def check(f, args, wrt, jit=False, seed=0):
    """Run the oracles on f at args; the worst Outcome."""
    with _Quiet():
        return _check(f, tuple(args), tuple(wrt), jit, seed)


def _check(f, args, wrt, jit, seed, moved=False):
    rng = np.random.default_rng(seed)
    out = f(*_copies(args))
    scalar = np.ndim(out) == 0
    u = 1.0 if scalar else rng.standard_normal(np.shape(out))
    inputs = [args[k] for k in wrt]
    v = tuple(float(rng.standard_normal()) if np.ndim(x) == 0 else rng.standard_normal(np.shape(x)) for x in inputs)
    results = []
    try:
        value, grads, changed = reverse(f, args, wrt, u, scalar, False)
    except AdjointError as e:
        results.append(Outcome("refused", "reverse", _refusal(e)))
        grads = None
    except Exception as e:  # noqa: BLE001 -- any other exception is a crash: a bug
        return _crash("reverse", e)
    if grads is not None:
        results += _check_reverse(out, value, grads, changed, inputs, wrt)
    try:
        call = _copies(args)
        fout, tangent = adjoint.jvp(f, call, v, wrt=wrt, jit=False)
        if any(isinstance(a, np.ndarray) and not np.array_equal(a, b) for a, b in zip(call, args)):
            results.append(Outcome("wrong", "arguments (forward)", "the forward mode changed the caller's arrays"))
    except AdjointError as e:
        results.append(Outcome("refused", "forward", _refusal(e)))
        tangent = None
    except Exception as e:  # noqa: BLE001
        return _crash("forward", e)
    if tangent is not None:
        results += _check_forward(out, fout, tangent)
    if grads is not None and tangent is not None:
        results += _check_duality(u, tangent, grads, v, out)
    if grads is not None or tangent is not None:
        results += _check_numerical(f, args, wrt, out, u, grads, v, tangent)
    if jit and grads is not None:
        results += _check_jit(f, args, wrt, u, scalar, out, grads)
    worst = _worst(results)
    wrong = [o for o in results if o.outcome == "wrong"]
    if not moved and wrong and grads is not None and tangent is not None \
            and all(o.oracle.startswith("central differences") for o in wrong):
        # both modes agree with each other and only the differences object: a kink at this very point
        # (an argument whose sum lands on np.clip's bound to the last bit)? judged again a step away
        again = _check(f, _moved(args, wrt, np.random.default_rng(seed + 1)), wrt, jit, seed, moved=True)
        if again.outcome in ("ok", "skipped"):
            return Outcome("skipped", worst.oracle, "a kink: forward and reverse agree here, and all three oracles "
                           f"1e-3 away ({worst.message})", worst.detail)
    return worst


def _moved(args, wrt, rng):
    """The arguments with each float in wrt moved by up to 1e-3."""
    def move(a):
        if isinstance(a, np.ndarray):
            return np.array(a + rng.uniform(-1e-3, 1e-3, a.shape), dtype=a.dtype)
        return type(a)(a + rng.uniform(-1e-3, 1e-3))
    return tuple(move(a) if k in wrt else a for k, a in enumerate(args))


def _worst(results):
    """The worst outcome; when several checks are wrong, the first, naming the others too."""
    worst = max(results, key=lambda o: _RANK[o.outcome], default=Outcome("ok"))
    wrong = [o for o in results if o.outcome == "wrong"]
    if worst.outcome == "wrong" and len(wrong) > 1:
        return Outcome("wrong", " + ".join(o.oracle for o in wrong), "; ".join(o.message for o in wrong),
                       "\n".join(o.detail for o in wrong))
    return worst


def _close(a, b, rel):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    return bool(np.all(np.abs(a - b) <= rel * scale + 1e-15)) or bool(np.array_equal(a, b))


def _check_reverse(out, value, grads, changed, inputs, wrt):
    found = []
    if not _close(value, out, 1e-12):
        found.append(Outcome("wrong", "value", "the reverse mode's value is not the primal's",
                             f"primal {_fmt(out)}\nadjoint {_fmt(value)}"))
    if changed:
        found.append(Outcome("wrong", "arguments", f"differentiating changed the caller's argument(s) {changed}"))
    for k, x, g in zip(wrt, inputs, grads):
        if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
            bad = type(g) is not float
        else:
            bad = not isinstance(g, np.ndarray) or g.shape != np.shape(x) or g.dtype != np.float64
        if bad:
            found.append(Outcome("wrong", "gradient type", f"the gradient of argument {k} is a "
                                 f"{type(g).__name__} of shape {np.shape(g)}; the argument is a "
                                 f"{type(x).__name__} of shape {np.shape(x)}"))
    return found


def _check_forward(out, fout, tangent):
    found = []
    if not _close(fout, out, 1e-12):
        found.append(Outcome("wrong", "value (forward)", "the forward mode's value is not the primal's",
                             f"primal {_fmt(out)}\nforward {_fmt(fout)}"))
    if np.shape(tangent) != np.shape(out):
        found.append(Outcome("wrong", "tangent type", f"the tangent has shape {np.shape(tangent)}, the "
                             f"output {np.shape(out)}"))
    return found


def _check_duality(u, tangent, grads, v, out):
    """Forward against reverse. Where the derivative cancels to (nearly) zero, each mode keeps the
    rounding of its own order of summing the contributions, which scale with the output's size (f
    of size 50 whose derivative cancels to 1e-13 in one mode and 0 in the other): FLOOR per unit
    of the output's largest entry, at least 1."""
    lhs = _inner(u, tangent)
    rhs = sum(_inner(g, w) for g, w in zip(grads, v))
    scale = _abs_inner(u, tangent) + sum(_abs_inner(g, w) for g, w in zip(grads, v))
    size = max(1.0, float(np.max(np.abs(out)))) if np.size(out) and np.all(np.isfinite(out)) else 1.0
    allowed = EXACT * scale + FLOOR * size * _norm1(u) * sum(_norm1(w) for w in v)
    if abs(lhs - rhs) <= allowed or lhs == rhs:
        return []
    if not (np.isfinite(lhs) and np.isfinite(rhs)) and not np.isfinite(scale):
        return [Outcome("skipped", "forward vs reverse", "not finite")]
    return [Outcome("wrong", "forward vs reverse", "<u, J v> (forward) != <J^T u, v> (reverse)",
                    f"forward <u, J v> = {lhs!r}\nreverse <J^T u, v> = {rhs!r}\n"
                    f"difference {abs(lhs - rhs):.3g}, allowed {allowed:.3g}")]


def _numerical(f, args, wrt, eps, cache):
    if eps not in cache:
        cache[eps] = adjoint.numerical_jacobian(f, *_copies(args), wrt=wrt, eps=eps)
    return cache[eps]


def _error(got, want):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got.shape != want.shape:
        return np.inf
    scale = max(1.0, np.max(np.abs(want), initial=0.0))
    return float(np.max(np.abs(got - want), initial=0.0)) / scale


def _check_numerical(f, args, wrt, out, u, grads, v, tangent):
    """Oracle 1, for the reverse mode (Jᵀu) and the forward mode (J v)."""
    cache = {}
    nd = np.ndim(out)
    found = []
    try:
        for mode, got, want in (("reverse", grads, _vjp_of), ("forward", tangent, _jvp_of)):
            if got is None:
                continue
            errors = {}
            for eps in STEPS:
                J = _numerical(f, args, wrt, eps, cache)
                errors[eps] = (want(J, u, v, nd), _error_all(got, want(J, u, v, nd)))
                if errors[eps][1] <= TOLERANCE:
                    break
            else:
                a, b = _numerical(f, args, wrt, 1e-5, cache), _numerical(f, args, wrt, 1e-7, cache)
                settled = all(_error(x, y) <= SETTLE for x, y in zip(want(a, u, v, nd), want(b, u, v, nd)))
                if not settled:
                    found.append(Outcome("skipped", "central differences", "central differences do not settle"))
                    continue
                if _rounded_away(f, args, wrt, cache, got, lambda J: want(J, u, v, nd)):
                    found.append(Outcome("skipped", "central differences", "the output rounds away every step below "
                                         "1e-4 (an intermediate too large to resolve them), and central "
                                         f"differences at steps {COARSE} agree with the {mode} mode to 10%"))
                    continue
                expected = errors[STEPS[0]][0]
                detail = "\n".join(f"wrt[{i}]: expected {_fmt(e)}\n        got      {_fmt(g)}"
                                   for i, (e, g) in enumerate(zip(expected, _as_list(got, mode))))
                found.append(Outcome("wrong", "central differences" + (" (forward)" if mode == "forward" else ""),
                                     f"the {mode} mode disagrees with central differences (max error "
                                     f"{min(e for _, e in errors.values()):.3g})", detail))
    except Exception as e:  # noqa: BLE001 -- the primal failed at a perturbed point: no verdict
        found.append(Outcome("skipped", "central differences", f"central differences failed: {_first_line(e)}"))
    return found


def _rounded_away(f, args, wrt, cache, got, want):
    """Whether central differences see no change at all at the steps of STEPS below 1e-4 (the output the
    same to the last bit, as when an intermediate of 1e12 rounds a step of 1e-5 away), while at the coarse steps
    COARSE they agree with `got` to 10%: a derivative that central differences cannot resolve, not a
    wrong one. (A piecewise-constant function is flat there too, but its differences at coarse steps
    are jumps, which do not agree with a nonzero derivative at both.)"""
    if any(np.any(np.asarray(j) != 0) for eps in STEPS if eps < 1e-4 for j in _numerical(f, args, wrt, eps, cache)):
        return False
    return all(_error_all(got, want(_numerical(f, args, wrt, eps, cache))) <= 0.1 for eps in COARSE)


def _as_list(got, mode):
    return list(got) if mode == "reverse" else [got]


def _vjp_of(J, u, v, nd):
    return [np.tensordot(u, j, axes=nd) if nd else j for j in J]


def _jvp_of(J, u, v, nd):
    return [sum(np.tensordot(j, w, axes=np.ndim(w)) if np.ndim(w) else j * w for j, w in zip(J, v))]


def _error_all(got, want):
    got = list(got) if isinstance(got, tuple) else [got]
    return max((_error(g, w) for g, w in zip(got, want)), default=0.0)


def _check_jit(f, args, wrt, u, scalar, out, grads):
    try:
        value, jgrads, changed = reverse(f, args, wrt, u, scalar, True)
    except AdjointError as e:
        return [Outcome("refused", "jit", _refusal(e))]
    except Exception as e:  # noqa: BLE001
        return [_crash("jit", e)]
    found = []
    if not _close(value, out, 1e-10):
        found.append(Outcome("wrong", "value (jit)", "jit=True's value is not the primal's",
                             f"primal {_fmt(out)}\njit {_fmt(value)}"))
    if changed:
        found.append(Outcome("wrong", "arguments (jit)", f"jit=True changed the caller's argument(s) {changed}"))
    scale = max([np.max(np.abs(g), initial=0.0) for g in grads] + [0.0])
    bad = [k for k, (a, b) in enumerate(zip(jgrads, grads))
           if np.shape(a) != np.shape(b) or np.max(np.abs(np.asarray(a) - np.asarray(b)), initial=0.0)
           > EXACT * scale + FLOOR * _norm1(u)]
    if bad:
        detail = "\n".join(f"wrt[{k}]: jit=False {_fmt(grads[k])}\n        jit=True  {_fmt(jgrads[k])}" for k in bad)
        found.append(Outcome("wrong", "jit", "jit=True and jit=False give different gradients", detail))
    return found


# ----------------------------------------------------------------------------------------------
# Shrinking
# ----------------------------------------------------------------------------------------------

def shrink(p, jit=False, want=None, log=None, budget=3000, judge=None):
    """The smallest program found (by dropping statements and simplifying expressions) that still
    fails with the same signature as p (`judge(program)` gives a program's signature)."""
    judge = judge or (lambda q: check_program(q, jit).signature())
    want = want or judge(p)
    tried = 0
    current = p
    progress = True
    while progress and tried < budget:
        progress = False
        for candidate in current.reductions():
            tried += 1
            if rp.valid_primal(candidate) is not None:
                continue
            try:
                got = judge(candidate)
            except Exception:  # noqa: BLE001, S112 -- (the primal itself failed in check)
                continue
            if got == want:
                current = candidate
                progress = True
                if log:
                    log(f"  shrunk to {len(current.source().splitlines())} lines ({tried} tried)")
                break
            if tried >= budget:
                break
    return current


def report(p, result, shrunk=None):
    q = shrunk or p
    return (f"{result.outcome} ({result.oracle}): {result.message}\n{result.detail}\n"
            f"--- random_programs.program({p.seed}, {p.family!r}{', numba=True' if p.numba else ''})"
            + (" shrunk" if shrunk else "") + f": {q.name}{q.describe_args()}, wrt={q.wrt} ---\n{q.source()}")


# ----------------------------------------------------------------------------------------------
# pytest
# ----------------------------------------------------------------------------------------------

def _cases():
    """(family, seed, jit) of each program the tests run."""
    count = os.environ.get("ADJOINT_FUZZ")
    if count:
        fraction = float(os.environ.get("ADJOINT_FUZZ_JIT", "0.02"))
        every = max(1, round(1 / fraction)) if fraction > 0 else None
        return [(family, seed, every is not None and seed % every == every - 1)
                for family in rp.FAMILIES for seed in range(int(count))]
    cases = [("loops", seed, False) for seed in range(DEFAULT_LOOPS)]
    cases += [("rules", seed, False) for seed in range(len(rp.rule_names()))]
    return cases + [("loops", seed, True) for seed in small_jit_seeds(DEFAULT_JIT)]


def small_jit_seeds(count, lines=JIT_LINES):
    """Seeds (from 10,000 on) of the first `count` programs for the jit oracle that have at most
    `lines` lines: Numba takes from a second to minutes to compile a generated adjoint, by its size."""
    seeds = []
    for seed in range(10_000, 10_200):
        if len(seeds) < count and len(rp.program(seed, "loops", numba=True).source().splitlines()) <= lines:
            seeds.append(seed)
    return seeds


CASES = _cases()
_OUTCOMES = {}  # (family, seed) -> outcome, for test_few_refusals (filled by this process)


@pytest.mark.parametrize("family, seed, jit", CASES, ids=[f"{f}-{s}" + ("-jit" if j else "") for f, s, j in CASES])
def test_program(family, seed, jit):
    p = program(seed, family, jit)
    result = check_program(p, jit)
    _OUTCOMES[family, seed] = result.outcome
    if result.outcome in ("wrong", "crash"):
        pytest.fail(report(p, result), pytrace=False)
    if result.outcome == "refused":
        pytest.skip(f"adjoint refuses it ({result.oracle}): {result.message}")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)]
                                               if c.xfail else []) for c in REGRESSIONS])
def test_regression(case):
    f = load_function(case.source, case.function)
    result = check(f, case.args, case.wrt, jit=case.jit)
    if result.outcome in ("wrong", "crash"):
        pytest.fail(f"{case.name}: {result.outcome} ({result.oracle}): {result.message}\n{result.detail}\n"
                    f"{case.source}", pytrace=False)
    if result.outcome == "refused":
        if case.supported:
            pytest.fail(f"{case.name}: adjoint refuses what it supports ({result.oracle}): {result.message}\n"
                        f"{case.source}", pytrace=False)
        pytest.skip(f"adjoint refuses it ({result.oracle}): {result.message}")


def test_few_refusals():
    """At most MAX_REFUSED of the programs are refused (those another worker ran are run again,
    up to 60 in all, without the jit oracle)."""
    outcomes = dict(_OUTCOMES)
    for family, seed, _ in CASES:
        if len(outcomes) >= 60:
            break
        if (family, seed) not in outcomes:
            outcomes[family, seed] = check_program(program(seed, family)).outcome
    refused = sorted(k for k, o in outcomes.items() if o == "refused")
    assert len(refused) <= MAX_REFUSED * len(outcomes), \
        f"adjoint refused {len(refused)} of {len(outcomes)} programs: {refused}"


def test_every_rule_has_a_template():
    """Every rule that user code calls is exercised by the generator (a new rule needs a template)."""
    missing = sorted(set(rp.rule_names()) - rp.covered_rules())
    assert not missing, f"no template in tests/random_programs.py exercises {missing}"


def test_programs_are_deterministic():
    for family in rp.FAMILIES:
        assert rp.program(3, family).source() == rp.program(3, family).source()


KINK = "import numpy as np\n\ndef f(x):\n    return np.clip(x[0] + x[1], -1.0, 0.6) + np.sum(x * x)\n"


def test_a_kink_is_skipped_and_a_wrong_derivative_is_not(monkeypatch):
    """0.4 + 0.2 lands above np.clip's bound 0.6 by one bit: the derivative there is 0, central
    differences see half the slope. Moved 1e-3 away, all oracles agree: skipped. A derivative that
    disagrees with central differences everywhere stays wrong."""
    f = load_function(KINK, "f")
    assert check(f, (np.array([0.4, 0.2]),), (0,)).outcome == "skipped"
    assert check(f, (np.array([0.1, 0.2]),), (0,)).outcome == "ok"
    real = adjoint.numerical_jacobian
    monkeypatch.setattr(adjoint, "numerical_jacobian", lambda *a, **k: [1.1 * j for j in real(*a, **k)])
    assert check(f, (np.array([0.1, 0.2]),), (0,)).outcome == "wrong"


HUGE = ("import numpy as np\n\ndef f(x):\n    return np.sum(np.sin(4.8e12 + 4.0 * x))\n\n"
        "def g(x):\n    return np.sum(np.floor(x))\n")


def test_an_output_that_rounds_every_step_away_is_skipped_and_a_step_function_is_not(monkeypatch):
    """4.8e12 + 4 x rounds a step of 1e-5 in x away (its spacing there is 1e-3): central differences
    see a flat function, and at steps 1e-2 and 3e-3 agree with 4 cos(...): skipped. np.floor is flat
    too, but a nonzero derivative of it is not taken for one central differences cannot resolve."""
    x = np.array([0.3, -0.2, 0.1])
    f, g = load_function(HUGE, "f"), load_function(HUGE, "g")
    assert check(f, (x,), (0,)).outcome == "skipped"
    as_is = lambda J: list(J)  # noqa: E731
    assert _rounded_away(f, (x,), (0,), {}, (4.0 * np.cos(4.8e12 + 4.0 * x),), as_is)
    assert not _rounded_away(f, (x,), (0,), {}, (4.8 * np.cos(4.8e12 + 4.0 * x),), as_is)  # (20% off)
    assert not _rounded_away(g, (x,), (0,), {}, (np.ones(3),), as_is)  # (a nonzero derivative of np.floor)


def test_rounding_of_a_cancelled_derivative_scales_with_the_output():
    """loops 131130 (shrunk): a derivative that cancels to zero came out 0.0 forward and 9.4e-13
    reverse, for an output of size ~50; the same gap for an output of size 1, or a gap of a
    derivative's own size, is still wrong."""
    u, v = 1.0, [np.array([0.3, -0.2, 0.5, 1.1, -0.9])]
    grads = [np.array([0.0, 0.0, 0.0, 0.0, -9.4e-13 / -0.9])]
    assert _check_duality(u, 0.0, grads, v, 48.0) == []
    assert _check_duality(u, 0.0, grads, v, 1.0)[0].outcome == "wrong"
    assert _check_duality(u, 0.0, [np.array([0.0, 0.0, 0.0, 0.0, 1e-6])], v, 48.0)[0].outcome == "wrong"


def test_shrinker_keeps_the_failure():
    """The shrinker drops what a failure does not need (a stand-in failure: any program that calls
    np.tanh in a loop)."""
    p = next(q for q in map(rp.program, range(100)) if "np.tanh(" in q.source() and "for " in q.source())

    def judge(q):
        text = q.source()
        return ("crash", "stand-in", "") if "np.tanh(" in text and "for " in text else ("ok", "", "")

    small = shrink(p, judge=judge)
    assert judge(small)[0] == "crash"
    assert len(small.source().splitlines()) < len(p.source().splitlines())
    assert len(small.source()) <= 600, small.source()


# ----------------------------------------------------------------------------------------------
# The script: long runs in parallel processes
# ----------------------------------------------------------------------------------------------

class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Timeout()


def run_one(task):
    """One program through the oracles, as a JSON-able dict (in a worker process)."""
    family, seed, jit, timeout = task
    t0 = time.perf_counter()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(timeout)
    notes = ()
    try:
        p = program(seed, family, jit)
        notes = p.notes
        result = check_program(p, jit)
    except _Timeout:
        result = Outcome("crash", "timeout", f"timeout: more than {timeout} s")
    except Exception as e:  # noqa: BLE001 -- a bug of the generator or of the harness
        result = Outcome("crash", "harness", _first_line(e), traceback.format_exc())
    finally:
        signal.alarm(0)
    return dict(family=family, seed=seed, jit=jit, seconds=round(time.perf_counter() - t0, 3),
                notes=list(notes), **asdict(result))


def _tasks(args):
    families = args.family.split(",")
    every = max(1, round(1 / args.jit_fraction)) if args.jit_fraction > 0 else None
    for seed in range(args.start, args.start + args.count):
        for family in families:
            yield family, seed, every is not None and seed % every == every - 1, args.timeout


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="programs of each family")
    parser.add_argument("--start", type=int, default=0, help="first seed")
    parser.add_argument("--family", default="loops,rules")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--jit-fraction", type=float, default=0.02)
    parser.add_argument("--timeout", type=int, default=300, help="seconds per program")
    parser.add_argument("--out", default=None, help="JSON lines, one per program")
    parser.add_argument("--show", type=int, default=None, help="print this seed's program and stop")
    parser.add_argument("--shrink", type=int, default=None, help="shrink this seed's failing program")
    parser.add_argument("--jit", action="store_true", help="with --show, --shrink: the program for the jit oracle")
    parser.add_argument("--shrink-failures", action="store_true", help="shrink one program per distinct failure")
    args = parser.parse_args(argv)
    family = args.family.split(",")[0]
    if args.show is not None:
        p = program(args.show, family, args.jit)
        print(p.source())
        print(f"args = {p.describe_args()}\nwrt = {p.wrt}")
        return 0
    if args.shrink is not None:
        return _shrink_command(program(args.shrink, family, args.jit), args.jit)
    return _run(args)


def _shrink_command(p, jit):
    result = check_program(p, jit)
    print(f"{p.family} {p.seed}: {result.outcome} ({result.oracle}) {result.message}")
    if result.outcome in ("ok", "skipped"):
        return 0
    small = shrink(p, jit, result.signature(), log=print)
    print(report(p, check_program(small, jit), small))
    return 1


def _run(args):
    import multiprocessing
    tasks = list(_tasks(args))
    counts = collections.Counter()
    refusals = collections.Counter()
    failures = collections.defaultdict(list)  # signature -> [(family, seed, jit)]
    t0 = time.time()
    with open(args.out or os.devnull, "w") as out, \
            multiprocessing.get_context("fork").Pool(args.jobs, maxtasksperchild=100) as pool:
        for k, row in enumerate(pool.imap_unordered(run_one, tasks, chunksize=4)):
            counts[row["outcome"]] += 1
            if row["outcome"] == "refused":
                refusals[f"{row['oracle']}: {row['message'][:150]}"] += 1
            if row["outcome"] in ("wrong", "crash"):
                failures[row["outcome"], row["oracle"], row["where"] or row["message"][:80]].append(
                    (row["family"], row["seed"], row["jit"]))
                print(f"{row['outcome']}: {row['family']} {row['seed']} jit={row['jit']} ({row['oracle']}) "
                      f"{row['message'][:150]}", flush=True)
            out.write(json.dumps(row) + "\n")
            out.flush()
            if (k + 1) % 200 == 0:
                print(f"{k + 1}/{len(tasks)} in {time.time() - t0:.0f} s: {dict(counts)}", flush=True)
    total = sum(counts.values())
    print(f"\n{total} programs in {time.time() - t0:.0f} s")
    for outcome in ("ok", "skipped", "refused", "wrong", "crash"):
        print(f"  {outcome:8} {counts[outcome]:6}  {100 * counts[outcome] / max(total, 1):5.1f}%")
    print("\nmost common refusals:")
    for message, n in refusals.most_common(15):
        print(f"  {n:5}  {message}")
    print(f"\n{len(failures)} distinct failures:")
    for (outcome, oracle, message), seeds in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(seeds):4}  {outcome} ({oracle}) {message}  e.g. {seeds[:4]}")
    if args.shrink_failures:
        for (outcome, oracle, message), seeds in failures.items():
            family, seed, jit = min(seeds, key=lambda s: len(program(s[1], s[0], s[2]).source()))
            print(f"\n=== shrinking {family} {seed} ({outcome}, {oracle}: {message})", flush=True)
            _shrink_command(program(seed, family, jit), jit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
