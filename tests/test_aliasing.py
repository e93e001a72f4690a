"""Containers and names that share an array (tests/aliasing_programs.py): right through the three
oracles, or refused."""

import pytest
from aliasing_programs import AGREE, REFUSED, X
from oracles import failures

import adjoint


@pytest.mark.parametrize("fn, args, wrt", AGREE, ids=[a[0].__name__ for a in AGREE])
def test_agrees(fn, args, wrt):
    assert failures(fn, args, wrt, jit=False) == []  # (what they check is the normal form's)


@pytest.mark.parametrize("fn, what", REFUSED, ids=[r[0].__name__ for r in REFUSED])
def test_refused(fn, what):
    with pytest.raises(adjoint.SourceError, match=what):
        adjoint.grad(fn)(X)
