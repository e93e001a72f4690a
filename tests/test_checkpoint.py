"""Loops reversed by checkpointing (`checkpoint=True`, transforms/reverse.py `Reverse.checkpointed`):
the gradient is the one the adjoint that stores every iteration gives, to the bit, on both paths;
the memory the reverse sweep keeps grows as the square root of the loop's length; what cannot be
checkpointed says so."""

import inspect
import os
import tracemalloc

import numpy as np
import pytest
from checkpoint_programs import PROGRAMS, first_bound_conditionally, heat_in_place, logistic_sum
from oracles import failures

import adjoint

JITS = [False, True]


def _name(v):
    return getattr(v, "__name__", None) or ""


@pytest.mark.parametrize("jit", JITS)
@pytest.mark.parametrize("fn,args,wrt", PROGRAMS, ids=_name)
def test_the_gradient_is_the_stored_one_to_the_bit(fn, args, wrt, jit):
    stored = adjoint.value_and_grad(fn, wrt=wrt, jit=jit)(*args)
    checkpointed = adjoint.value_and_grad(fn, wrt=wrt, jit=jit, checkpoint=True)(*args)
    assert np.array_equal(stored[0], checkpointed[0])
    for a, b in zip(stored[1], checkpointed[1]):
        assert np.array_equal(a, b), (a, b)


@pytest.mark.parametrize("fn,args,wrt", [p for p in PROGRAMS[3:] if not (p[0] is logistic_sum and p[1][0] == 3.7)],
                         ids=_name)
def test_the_stored_gradient_agrees_with_the_oracles(fn, args, wrt):
    """(so that the bit-for-bit comparison above compares against a right gradient)"""
    assert failures(fn, args, wrt, jit=False) == []


def test_the_code_runs_the_loop_in_segments():
    text = adjoint.source(logistic_sum, 2.9, 0.3, 10, wrt=(0, 1))
    assert "schedule(" not in text  # (without checkpoint=True: one loop, its tape whole)
    from adjoint.pipeline import compile_derivative

    kinds = tuple((p, 0) for p in inspect.signature(logistic_sum).parameters)
    text = compile_derivative(logistic_sum, ("r", "x0"), kinds=kinds, checkpoint=True).text
    assert "segment = schedule(n_steps" in text and "x_snapshots.append(x)" in text, text
    assert "x = x_snapshots.pop()" in text and "s_snapshots" not in text, text  # (s: the reverse sweep reads it not)


def _peak(fn, *args, **options):
    g = adjoint.grad(fn, wrt=(0, 1), jit=False, **options)
    g(*args[:-1], 3)  # (compiled, and its module loaded, before measuring)
    tracemalloc.start()
    g(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_the_memory_kept_grows_as_the_square_root_of_the_loop():
    """Python's path, whose lists tracemalloc sees: 40,000 steps keep about 200 snapshots and one
    segment's tape of 200 values, against 40,000 values stored whole."""
    stored = _peak(logistic_sum, 2.9, 0.3, 40_000)
    checkpointed = _peak(logistic_sum, 2.9, 0.3, 40_000, checkpoint=True)
    assert checkpointed * 20 < stored, (checkpointed, stored)


def view_from_before(u0, c, n):
    u = u0.copy()
    head = u[:2]
    t = np.sum(head * head)
    for k in range(n):
        u[1:-1] = u[1:-1] + c * u[1:-1] * u[2:]
    return np.sum(u) + t


def test_what_cannot_be_checkpointed_says_so():
    """An array written into that another name kept from before the loop shows: its snapshot is a copy,
    which the other name would not see; a name an iteration may read from the one before that has no
    value before the loop (its snapshot at the start would be of nothing: found by a hunt)."""
    shared = r"cannot checkpoint the loop at .*test_checkpoint.py:\d+: `u`.* shares its memory"
    with pytest.raises(adjoint.AdjointError, match=shared):
        adjoint.grad(view_from_before, wrt=(0, 1), checkpoint=True)(np.ones(5), 0.1, 3)
    assert adjoint.grad(heat_in_place, wrt=(0, 1), checkpoint=True)(np.ones(5), 0.1, 3) is not None
    with pytest.raises(adjoint.AdjointError, match="`y` may be read before an iteration gives it a value"):
        adjoint.grad(first_bound_conditionally, wrt=(0, 1), checkpoint=True)(0.3, 0.6, 9)
    assert failures(view_from_before, (np.linspace(0.1, 1.0, 5), 0.1, 3), (0, 1), jit=False) == []


def test_the_tape_report_names_the_schedule(capsys):
    from adjoint import cli
    path = os.path.join(os.path.dirname(__file__), "checkpoint_programs.py")
    cli.main(["dump", f"{path}:until_small", "--wrt", "x0,a", "--args", "0.9, 0.8, 1e-3", "--checkpoint", "--tape"])
    out = capsys.readouterr().out
    assert "Checkpointed loops (checkpoint=True, memory=)\n  checkpoint_programs.py:71  while abs(x) > tol:" in out, out
    assert "one before (x)" in out and "three times (the first counts" in out and "runtime.schedule" in out, out
    cli.main(["dump", f"{path}:for_break", "--wrt", "x,a", "--args", "0.3, 1.1, 20, 2.5", "--checkpoint", "--tape"])
    out = capsys.readouterr().out  # (a for loop that may break is counted first too)
    assert "its statements run three times (the first counts its iterations)" in out, out


def test_differentiate_takes_checkpoint_and_pickles_it():
    import pickle

    import checkpoint_programs

    f = adjoint.differentiate(checkpoint_programs.logistic_sum, wrt=(0, 1), checkpoint=True)
    assert f.grad(2.9, 0.3, 50) == adjoint.grad(logistic_sum, wrt=(0, 1))(2.9, 0.3, 50)
    assert "schedule(" in f.source(2.9, 0.3, 50)
    g = pickle.loads(pickle.dumps(f))
    assert g.checkpoint is True and g.grad(2.9, 0.3, 50) == f.grad(2.9, 0.3, 50)
