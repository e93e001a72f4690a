"""What adjoint tells a reader about the code it generates: the tape report (`adjoint dump --tape`),
and tracebacks that lead back to the user's lines."""

import dataclasses
import inspect
import os
import re
import subprocess
import sys
import textwrap
import traceback

import explain_programs as P
import numpy as np
import pytest

import adjoint
from adjoint.arguments import bind
from adjoint.backend.dispatch import derivative
from adjoint.explain import tape_report

HERE = os.path.dirname(os.path.abspath(__file__))


def user_line(fn, text):
    """The file line number of the line of fn's source that starts with `text`."""
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, line in enumerate(lines) if line.strip().startswith(text))


def heading_over(path, lineno):
    """The nearest heading (a comment naming a line of the user's file) at or above line `lineno` of a
    generated file."""
    with open(path) as f:
        lines = f.read().splitlines()
    return next(line.strip() for line in reversed(lines[:lineno]) if re.fullmatch(r"# .*  \(\S+\.py:\d+\)", line.strip()))


@pytest.mark.parametrize("fn, args, error, at", [
    (P.pick, (np.ones(3), 7), IndexError, "return y[i] * y[0]"),
    (P.capped_sum, (np.array([1.0, 5.0]), 2.0), ValueError, "raise ValueError"),
], ids=["failing-index", "raise"])
def test_a_traceback_from_generated_code_leads_to_the_users_line(fn, args, error, at, cache_dir):
    values, kinds = bind(fn, ("x",), args, {})
    d = derivative(fn, ("x",), False, True, kinds)
    with pytest.raises(error) as e:
        d(values, 1.0)
    frames = [f for f in traceback.extract_tb(e.value.__traceback__) if f.filename == d.generated.path]
    assert frames and os.path.dirname(frames[-1].filename) == cache_dir, "no frame in the cached module"
    heading = heading_over(frames[-1].filename, frames[-1].lineno)
    assert heading.startswith(f"# {at}")  # (the forward sweep's heading is the line itself)
    assert heading.endswith(f"(explain_programs.py:{user_line(fn, at)})")


def report(fn, args, wrt=("x",)):
    _, kinds = bind(fn, wrt, args, {})
    return tape_report(derivative(fn, wrt, False, True, kinds).generated)


REPORT = """\
Tape report: running_product, reverse mode with respect to x
============================================================

The generated function runs running_product forwards, then back through it (the reverse sweep) to
collect the derivatives. Going back, it needs values that the forward run has overwritten since: the
forward run pushes those onto tapes (arrays for numbers, lists for the rest) as it writes them, and
the reverse sweep pops them in reverse order. Names are those of the generated code, which splits
each of your lines into single operations (the normal form); file:line points to your line.

Values on a tape
  p_tape: p, a number (normal-form name p)
    written at explain_programs.py:21  p = 1.0
      pushed once
    written at explain_programs.py:25  p = p * x[i]
      pushed on every iteration of the loop at explain_programs.py:24  for i in range(x.shape[0]):
    needed by the adjoint of explain_programs.py:25

Array elements saved before a write over them (and put back after its adjoint)
  none

Loop trip counts (a loop that may stop early runs back as many times as it ran)
  none

Written again but not taped
  explain_programs.py:24  for i in range(x.shape[0]):
    a loop index, which the reverse loop sets again: i
  explain_programs.py:25  p = p * x[i]
    computed again by the reverse sweep, from values it has: x_i
    the reverse sweep does not read it: mul
  explain_programs.py:26  q = p / scale
    the reverse sweep does not read it: q

Dropped from the forward sweep by the simplifier
  explain_programs.py:23  unused = np.cos(x[0])
    neither the result nor the reverse sweep needs it: x0, unused

No derivative (inactive: the adjoint has no code for them)
  no derivative reaches them from x: n, scale, i
  their derivative does not reach the result: unused
"""


def test_dump_tape_prints_the_report_after_the_code_the_same_in_every_process():
    target = f"{os.path.join(HERE, 'explain_programs.py')}:running_product"
    runs = [subprocess.run([sys.executable, "-m", "adjoint", "dump", target, "--tape", "--args", "np.ones(3), 2.0"],
                           capture_output=True, text=True, cwd=os.path.dirname(HERE)) for _ in range(2)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout  # each process hashes strings differently
    code, rest = runs[0].stdout.split("\nTape report:")
    assert code.rstrip().endswith("return (out, x_bar)") and "\x1b[" not in runs[0].stdout
    assert "Tape report:" + rest == REPORT


def test_a_while_loops_trip_count_is_named_with_its_line_and_the_loop_around_it():
    text = report(P.settle_chain, (3.0, 4))
    loop, outer = user_line(P.settle_chain, "while y > 1.0:"), user_line(P.settle_chain, "for k in range(n):")
    assert textwrap.dedent(f"""\
        Loop trip counts (a loop that may stop early runs back as many times as it ran)
          explain_programs.py:{loop}  while y > 1.0:
            counted in trips
            pushed on trips_tape on every iteration of the loop at explain_programs.py:{outer}  for k in range(n):
        """) in text
    text = report(P.settle, (3.0, 4))  # (the loops fused: each iteration's adjoint reads the count it made)
    loop = user_line(P.settle, "while y > 1.0:")
    assert f"explain_programs.py:{loop}  while y > 1.0:\n    counted in trips\n\n" in text
    # (each iteration's reverse sweep runs inside it, fused: y needs no tape, and the report, which
    # listed the one the tape plan placed before a later pass removed it, no longer does)
    assert "y_tape" not in text and "y_tape" not in adjoint.source(P.settle, 3.0, 4)
    top = report(P.halve_until_small, (5.0,))
    assert f"explain_programs.py:{user_line(P.halve_until_small, 'while x > 1.0:')}  while x > 1.0:\n" \
           "    counted in trips\n\n" in top  # not inside a loop: one count, no tape


def test_an_element_write_is_named_with_its_array_line_and_loop():
    text = report(P.smooth_in_place, (np.arange(4.0),))
    write, loop = user_line(P.smooth_in_place, "y[i] ="), user_line(P.smooth_in_place, "for i in")
    assert textwrap.dedent(f"""\
        Array elements saved before a write over them (and put back after its adjoint)
          y_saved1: y[i], an element of y, an array (normal-form name y)
            written at explain_programs.py:{write}  y[i] = 0.5 * (y[i] + y[i - 1])
              saved on every iteration of the loop at explain_programs.py:{loop}  for i in range(1, y.shape[0]):
        """) in text


def test_the_report_of_code_read_back_from_the_cache():
    """A later process reads the text from the cache and has no stages: the report makes them again,
    with the normal form their tape plan names (found by a helper: a KeyError on element saves)."""
    _, kinds = bind(P.smooth_in_place, ("x",), (np.arange(4.0),), {})
    generated = derivative(P.smooth_in_place, ("x",), False, True, kinds).generated
    fresh = tape_report(generated)
    cached = dataclasses.replace(generated, stages=None, nf=generated.redo().nf)  # (as the cache gives it)
    assert tape_report(cached) == fresh and "y_saved1: y[i]" in fresh
