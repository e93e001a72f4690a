"""Reverse loops run forward (adjoint/optimize/order.py): which loops of an adjoint the pass turns, on
small adjoint-shaped functions (one case for each reason a loop must keep its order), and programs
whose inner reverse loops turn or stay held against the three oracles."""

import ast
import textwrap

import order_programs
import pytest
from oracles import failures

import adjoint
from adjoint.optimize.order import in_forward_order

KINDS = {"u_bar": 1, "g": 1, "u": 1, "w": 2, "v": 1, "a": 0, "c_bar": 0, "s": 0, "last": 0, "x": 0, "c": 0}


def ranges(src, segments=False):
    """The range of each loop of the function src (`__comment__("reverse sweep")` marks its reverse sweep)
    after the pass, outermost first."""
    fdef = ast.parse(textwrap.dedent(src)).body[0]
    if segments:
        next(n for n in ast.walk(fdef) if isinstance(n, ast.For)).segments = True
    return [ast.unparse(n.iter) for n in ast.walk(in_forward_order(fdef, KINDS)) if isinstance(n, ast.For)]


def nested(body, before="", after=""):
    """A reverse sweep with an outer loop around `for i in range(n - 1, 0, -1): body`."""
    inner = textwrap.indent(textwrap.dedent(body).strip(), " " * 16)
    return f"""
    def f_vjp(g, u, c, n):
        u_bar = np.zeros(u.shape)
        w = np.zeros((n, n))
        c_bar = 0.0
        {before}
        __comment__("reverse sweep")
        for t in range(3, -1, -1):
            for i in range(n - 1, 0, -1):
{inner}
            {after}
        return u_bar, c_bar
    """


ACCUMULATES = """
    a = g[i] * c
    u_bar[i - 1] += a
    c_bar = c_bar + a * u[i]
"""


def test_a_loop_that_only_adds_into_totals_runs_forward():
    assert ranges(nested(ACCUMULATES)) == ["range(3, -1, -1)", "range(1, n)"]


def test_totals_added_under_a_branch_and_by_augmented_assignment():
    body = """
        a = g[i] * c
        if a > 0.0:
            u_bar[i - 1] += a
            c_bar += a
        w[i, 0] = 0.0
    """
    assert ranges(nested(body))[1] == "range(1, n)"


def test_elements_of_its_own_are_read_and_written():
    body = """
        a = w[i, 2] * c
        w[i, 2] = 0.0
        u_bar[i] += a
    """
    assert ranges(nested(body))[1] == "range(1, n)"


def test_a_top_level_loop_and_a_checkpointed_segments_loop_keep_their_order():
    src = """
    def f_vjp(g, u, c, n):
        u_bar = np.zeros(u.shape)
        __comment__("reverse sweep")
        for i in range(n - 1, 0, -1):
            u_bar[i - 1] += g[i] * c
        return u_bar
    """
    assert ranges(src) == ["range(n - 1, 0, -1)"]
    assert ranges(nested(ACCUMULATES), segments=True) == ["range(3, -1, -1)", "range(n - 1, 0, -1)"]


@pytest.mark.parametrize("body, before, after", [
    ("x = x_tape.pop()\nu_bar[i] += x", "x_tape = []", ""),  # a tape: its entries are in order
    ("s = s * g[i]\nu_bar[i] += s", "s = 1.0", ""),  # a number carried from one iteration to the next
    ("w[i, 0] = w[i + 1, 0] * c", "", ""),  # an element another iteration reads
    ("a = v[i]\nu_bar[i - 1] += a", "v = u_bar", ""),  # another name for the array it adds into
    ("a = g[i]\nu_bar[i] += a", "", "last = a"),  # which iteration ran last shows after the loop
    ("if g[i] > 0.0:\n    break\nu_bar[i] += g[i]", "", ""),
    ("u_bar[i] += np.random.rand()", "", ""),
    ("i = i - 1\nu_bar[i] += g[i]", "", ""),
    ("push_shape(shapes, u.shape)\nu_bar[i] += g[i]", "shapes = [((0,), 0)]", ""),  # a helper writing in place
])
def test_loops_whose_order_shows_are_kept(body, before, after):
    assert ranges(nested(body, before, after))[1] == "range(n - 1, 0, -1)"


def test_an_alias_the_loop_does_not_read_does_not_keep_it():
    assert ranges(nested(ACCUMULATES, after="res = u_bar"))[1] == "range(1, n)"


def inner_reverse_ranges(fn, args, wrt):
    src = adjoint.source(fn, *args, wrt=wrt)
    sweep = src[src.index("# reverse sweep"):]
    lines = [line.strip() for line in sweep.splitlines() if line.strip().startswith("for ")]
    return lines[1:]  # (the top-level loop keeps its order)


@pytest.mark.parametrize("name", sorted(order_programs.turns_args()))
def test_programs_whose_inner_reverse_loops_run_forward(name):
    fn, args, wrt = order_programs.turns_args()[name]
    inner = inner_reverse_ranges(fn, args, wrt)
    assert inner and all(", -1)" not in line for line in inner), inner
    assert failures(fn, args, wrt) == []


@pytest.mark.parametrize("name", sorted(order_programs.keeps_args()))
def test_programs_whose_inner_reverse_loops_keep_their_order(name):
    fn, args, wrt = order_programs.keeps_args()[name]
    inner = inner_reverse_ranges(fn, args, wrt)
    assert inner and all(", -1)" in line for line in inner), inner
    assert failures(fn, args, wrt) == []
