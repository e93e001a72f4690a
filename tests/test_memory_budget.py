"""A memory budget for the tapes (`memory=`, ADJOINT_MEMORY; transforms/reverse.py `Reverse.checkpointed`,
runtime.schedule): the gradient is the stored one to the bit whether the loop's tape fits or the loop is
checkpointed; the memory kept stays within the budget; a budget nothing fits is refused before the loop
runs on, naming the loop; the budget's spelling, its environment default, pickling and the report."""

import os
import pickle

import numpy as np
import pytest
from checkpoint_programs import PROGRAMS, logistic_sum, rk4
from test_checkpoint import _peak

import adjoint
from adjoint import cli
from adjoint.arguments import checkpointing
from adjoint.errors import MemoryBudgetError
from adjoint.runtime import schedule, segment_length

HERE = os.path.dirname(__file__)


def _name(v):
    return getattr(v, "__name__", None) or ""


def _same(a, b):
    return np.array_equal(a[0], b[0]) and all(np.array_equal(x, y) for x, y in zip(a[1], b[1]))


@pytest.mark.parametrize("budget", [2 ** 30, 6000])
@pytest.mark.parametrize("fn,args,wrt", PROGRAMS, ids=_name)
def test_the_gradient_is_the_stored_one_to_the_bit(fn, args, wrt, budget):
    stored = adjoint.value_and_grad(fn, wrt=wrt, jit=False)(*args)
    try:
        budgeted = adjoint.value_and_grad(fn, wrt=wrt, jit=False, memory=budget)(*args)
    except MemoryBudgetError:
        assert budget < 2 ** 30  # (a small budget may fit nothing: the arrays' loops)
        return
    assert _same(stored, budgeted)


@pytest.mark.parametrize("fn,args,wrt", [PROGRAMS[3], PROGRAMS[5], PROGRAMS[12]], ids=_name)
def test_the_compiled_path_gives_the_same_bits(fn, args, wrt):
    stored = adjoint.value_and_grad(fn, wrt=wrt, jit=True)(*args)
    assert _same(stored, adjoint.value_and_grad(fn, wrt=wrt, jit=True, memory=6000)(*args))


def test_the_schedule_keeps_the_tape_whole_when_it_fits_and_else_needs_least_memory():
    assert schedule(1002, 16, 16, 0, 10 ** 6, "f.py:1") == 1000  # (1002 steps of 16 bytes fit: one segment)
    assert schedule(1002, 16, 16, 0, -1, "f.py:1") == segment_length(1000)  # (checkpoint=True: √n)
    length = schedule(10 ** 6 + 2, 100, 400, 0, 10 ** 6, "f.py:1")
    assert length == 2000  # √(n × snapshot / step): 2000 steps of tape, 500 snapshots
    assert schedule(2, 10 ** 9, 10 ** 9, 0, 1, "f.py:1") == 1  # (two iterations: the measured ones, already run)
    with pytest.raises(MemoryBudgetError, match=r"f.py:7: the gradient of this loop's 1000002 iterations does not "
                                                r"fit in the memory budget of 97.7 KB, even checkpointed"):
        schedule(10 ** 6 + 2, 100, 400, 0, 100_000, "f.py:7")
    with pytest.raises(MemoryBudgetError):  # (the tape in use before the loop counts)
        schedule(1002, 16, 16, 10 ** 6 - 100, 10 ** 6, "f.py:1")


def test_the_memory_kept_stays_within_the_budget():
    """Python's path, whose lists tracemalloc sees: 40,000 steps of the logistic map, and a loop whose first
    iteration keeps almost nothing (the first MEASURED iterations measure a step: the most one keeps)."""
    from budget_views import first_is_cheap
    args = (2.9, 0.3, 40_000)
    stored = _peak(logistic_sum, *args)
    assert _peak(logistic_sum, *args, memory="1GB") < 1.5 * stored  # (it fits: kept whole, as without a budget)
    assert _peak(logistic_sum, *args, memory="64KB") < 64 * 1024 < stored / 4
    stored = _peak(first_is_cheap, 0.3, 0.7, 3000)
    assert _peak(first_is_cheap, 0.3, 0.7, 3000, memory="1MB") < 2 ** 20 < stored / 10


def test_a_budget_nothing_fits_is_refused_naming_the_loop():
    for jit in (False, True):
        with pytest.raises(adjoint.AdjointError, match=r"checkpoint_programs.py:22: the gradient of this loop's "
                                                       r"300 iterations does not fit .*\nhint: raise memory="):
            adjoint.grad(rk4, wrt=(0, 1), jit=jit, memory=64)(*PROGRAMS[5][1])


def test_the_budget_is_bytes_or_text_or_the_environment(monkeypatch):
    monkeypatch.delenv("ADJOINT_MEMORY", raising=False)
    assert checkpointing(False, None) is False and checkpointing(True, None) is True
    assert checkpointing(False, "64MB") == 64 * 2 ** 20 == checkpointing(False, "64 MiB") == checkpointing(True, 2 ** 26)
    assert checkpointing(False, "1.5gb") == 3 * 2 ** 29 and checkpointing(False, 1000) == 1000
    for bad in ("64 parsecs", "MB", -1, 0, True, float("nan"), "1e9"):
        with pytest.raises(adjoint.ArgumentError, match=r"memory=.*a memory budget is a number of bytes"):
            checkpointing(False, bad)
    monkeypatch.setenv("ADJOINT_MEMORY", "2GB")
    assert checkpointing(False, None) == 2 ** 31 and checkpointing(False, "1KB") == 1024
    monkeypatch.setenv("ADJOINT_MEMORY", "lots")
    with pytest.raises(adjoint.ArgumentError, match="ADJOINT_MEMORY='lots'"):
        adjoint.grad(logistic_sum, memory=None)


def test_differentiate_takes_a_budget_and_pickles_it():
    import checkpoint_programs

    f = adjoint.differentiate(checkpoint_programs.logistic_sum, wrt=(0, 1), jit=False, memory="4KB")
    assert f.grad(2.9, 0.3, 500) == adjoint.grad(logistic_sum, wrt=(0, 1), jit=False)(2.9, 0.3, 500)
    assert "schedule(n_steps, " in f.source(2.9, 0.3, 50) and ", 4096, '" in f.source(2.9, 0.3, 50) and "checkpoint_programs.py:10')" in \
        f.source(2.9, 0.3, 50)
    g = pickle.loads(pickle.dumps(f))
    assert g.memory == "4KB" and g.grad(2.9, 0.3, 500) == f.grad(2.9, 0.3, 500)
    with pytest.raises(adjoint.ArgumentError):
        adjoint.differentiate(logistic_sum, memory="much")


def test_the_tape_report_names_the_budget(capsys):
    path = os.path.join(HERE, "checkpoint_programs.py")
    cli.main(["dump", f"{path}:logistic_sum", "--wrt", "r,x0", "--args", "2.9, 0.3, 10", "--memory", "64MB",
              "--tape"])
    out = capsys.readouterr().out
    assert "under a memory budget of 64 MB for the tapes" in out and "its statements run once, twice when" in out, out


def test_vjp_and_jacobian_take_the_budget_too():
    fn, args, wrt = PROGRAMS[5]  # (rk4: a loop of 300 steps)
    _, stored = adjoint.vjp(fn, *args, wrt=wrt, jit=False)
    _, budgeted = adjoint.vjp(fn, *args, wrt=wrt, jit=False, memory=6000)
    assert all(np.array_equal(a, b) for a, b in zip(stored(1.0), budgeted(1.0)))
    assert pickle.loads(pickle.dumps(budgeted))(1.0)[0].tolist() == budgeted(1.0)[0].tolist()
    with pytest.raises(MemoryBudgetError):
        adjoint.vjp(fn, *args, wrt=wrt, jit=False, memory=64)[1](1.0)
    jac = adjoint.jacobian(logistic_sum, wrt=(0, 1), jit=False, memory="4KB")(2.9, 0.3, 500)
    assert jac == adjoint.jacobian(logistic_sum, wrt=(0, 1), jit=False)(2.9, 0.3, 500)


def returns_inside(x, a, n):
    y = x
    for i in range(n):
        y = y * a + 0.1
        if y > 2.0:
            return y * 3.0
    return y


def test_a_loop_that_cannot_be_checkpointed_keeps_its_tape_under_a_budget(capsys):
    """checkpoint=True refuses it; under memory= it is the stored adjoint, and the report says why (a helper's
    hunt: a return inside the loop was refused under every budget, naming a name of adjoint's own)."""
    from test_checkpoint import view_from_before
    for fn, args in ((returns_inside, (0.3, 1.1, 40)), (returns_inside, (0.3, 1.1, 3)),
                     (view_from_before, (np.linspace(0.1, 1.0, 5), 0.1, 3))):
        stored = adjoint.value_and_grad(fn, wrt=(0, 1), jit=False)(*args)
        assert _same(stored, adjoint.value_and_grad(fn, wrt=(0, 1), jit=False, memory=100)(*args))
    with pytest.raises(adjoint.AdjointError, match=r"test_memory_budget.py:\d+: it returns from inside it\n"
                                                   r"hint: return after the loop"):
        adjoint.grad(returns_inside, wrt=(0, 1), checkpoint=True)(0.3, 1.1, 40)
    cli.main(["dump", f"{__file__}:returns_inside", "--wrt", "x,a", "--args", "0.3, 1.1, 4", "--memory", "1MB",
              "--tape"])
    out = " ".join(capsys.readouterr().out.split())
    assert "not checkpointed, its tape kept whole outside the memory budget of 1 MB: it returns from inside it" in out


def test_a_view_the_loop_leaves_gives_the_same_bits():
    from budget_views import view_left
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 6):
        args = (rng.standard_normal((5, 7)), rng.standard_normal(5), n)
        stored = adjoint.value_and_grad(view_left, wrt=(0, 1), jit=False)(*args)
        for options in ({"memory": 2 ** 30}, {"memory": 5000}, {"checkpoint": True}):
            assert _same(stored, adjoint.value_and_grad(view_left, wrt=(0, 1), jit=False, **options)(*args)), options
