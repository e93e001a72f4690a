"""Names whose arrays are never written after they hold them (analysis.aliasing.frozen): which names
are, that the reverse sweep then reads their elements again instead of taping each one, and that
the derivatives agree with the oracles, including programs that only look like the pattern."""

import ast

import numpy as np
import pytest
from frozen_programs import CASES, GIVEN_BACK, stencil_2d
from oracles import failures

import adjoint
from adjoint.analysis.aliasing import frozen
from adjoint.pipeline import compile_derivative
from adjoint.rules.table import TABLE

JIT = {"stencil_2d", "slices_1d", "early_exit", "summed_inside"}  # (a Numba compile each)


def _kinds(fn, args):
    import inspect
    return tuple((p, np.ndim(a)) for p, a in zip(inspect.signature(fn).parameters, args))


@pytest.mark.parametrize("case", sorted(CASES))
def test_which_names_are_frozen(case):
    fn, make, wrt, names = CASES[case]
    args = make(np.random.default_rng(0))
    nf = compile_derivative(fn, ("u0",) if "u0" in fn.__code__.co_varnames else ("x0",), kinds=_kinds(fn, args)).nf
    assert set(frozen(nf.body, TABLE, nf.kinds)) == names


@pytest.mark.parametrize("case", sorted(CASES))
def test_oracles(case):
    fn, make, wrt, _ = CASES[case]
    assert failures(fn, make(np.random.default_rng(1)), wrt=wrt, jit=case in JIT) == []


def test_elements_read_again_not_taped():
    """The stencil's five reads of the old grid are read again from it in the reverse sweep: its
    tape holds the grids, one reference a step, and no number."""
    args = (np.random.default_rng(2).uniform(size=(6, 5)), 0.1, 4)
    text = adjoint.source(stencil_2d, *args, wrt=(0, 1))
    tree = ast.parse(text)
    appends = {ast.unparse(n.func.value) for n in ast.walk(tree) if isinstance(n, ast.Call)
               and isinstance(n.func, ast.Attribute) and n.func.attr == "append"}
    assert appends == {"u_tape"}
    assert "_tape_top" not in text  # (no number tape)
    copies = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func).endswith(".copy")]
    assert len(copies) == 2  # u0.copy() and the step's copy: the grids on the tape are not copied again


@pytest.mark.parametrize("case", sorted(GIVEN_BACK))
def test_a_call_that_gives_its_argument_back_is_no_new_buffer(case):
    """np.real of a real array is that array: writing into the result writes into u, which the
    definitions in rules/defined.py must show (they made a new array, and the value was wrong; so did
    np.rot90(u, 4), now a view, rot90_step in CASES); np.nan_to_num(copy=False) writes into its
    argument, and is refused."""
    fn, args = GIVEN_BACK[case]
    with pytest.raises(adjoint.AdjointError, match="shares its memory|writes into its argument"):
        adjoint.grad(fn, wrt=(0, 1), jit=False)(*args)
