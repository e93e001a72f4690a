"""Forward mode: jvp of the project's programs against central differences on both paths, the exact
tangent source of small functions, and what forward mode refuses."""

import textwrap

import custom_programs as cp
import golden_programs as g
import numpy as np
import programs_control as pc
import pytest
from programs import PROGRAMS

import adjoint
from adjoint import ArgumentError, SourceError
from adjoint.arguments import bind
from adjoint.backend.dispatch import derivative

# Under Numba: the control-flow, mutation and call programs (the array programs' tangent code uses the
# same rules, which test_rules.py compiles one by one, and the corpus runs in CI with --mode both).
ROWS = [pytest.param(fn, make(np.random.default_rng(7)), wrt, False, id=f"{fn.__name__}-python")
        for fn, make, wrt, _ in PROGRAMS] + [
    pytest.param(fn, make(), wrt, jit, id=f"{pid}-{'numba' if jit else 'python'}")
    for pid, fn, make, wrt in pc.PROGRAMS for jit in (False, True)]


def _copies(args):
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]


@pytest.mark.parametrize("fn, args, wrt, jit", ROWS)
def test_jvp_matches_central_differences(fn, args, wrt, jit):
    args = _copies(args)
    before = _copies(args)
    report = adjoint.check_grad(fn, *args, wrt=wrt, jit=jit, mode="forward")
    assert report, f"\n{report}"
    for a, b in zip(args, before):
        assert not isinstance(b, np.ndarray) or np.array_equal(a, b), "differentiating changed an argument"


def test_jvp_returns_the_output_and_a_tangent_of_its_type():
    x = np.linspace(0.1, 1.0, 4)
    out, t = adjoint.jvp(g.vector_sum_of_squares, (x,), np.ones(4), jit=False)
    assert type(out) is float and type(t) is float
    assert out == pytest.approx(np.sum(x ** 2)) and t == pytest.approx(np.sum(2 * x))
    out, t = adjoint.jvp(g.sine_of_product, (0.3, 2.0), (1.0, 0.0), wrt=(0, 1), jit=False)
    assert t == pytest.approx(2.0 * np.cos(0.6))


def test_tangent_arrays_are_left_as_they_were():
    x, t = np.linspace(0.1, 1.0, 5), np.ones(5)
    adjoint.jvp(g.fill, (x,), t, jit=False)
    assert np.array_equal(t, np.ones(5))


GOLDEN = [
    (g.sine_of_product, (0.3, 0.4), ("x", "y"), """
        def sine_of_product_jvp(x, y, x_dot, y_dot):
            # tangent of: return math.sin(x * y)  (golden_programs.py:13)
            mul = x * y
            mul_dot = x_dot * y + y_dot * x
            out = math.sin(mul)
            out_dot = mul_dot * math.cos(mul)
            return (out, out_dot)
    """),
    (g.matvec, (np.ones((2, 3)), np.ones(3)), ("A", "x"), """
        def matvec_jvp(A, x, A_dot, x_dot):
            # tangent of: return np.sum(A @ x)  (golden_programs.py:43)
            matmul = A @ x
            matmul_dot = A_dot @ x + A @ x_dot
            out = np.sum(matmul)
            out_dot = np.sum(matmul_dot)
            return (out, out_dot)
    """),
    (g.broadcast_add, (np.ones((2, 3)), np.ones(3)), ("A",), """
        def broadcast_add_jvp(A, b, A_dot):
            # tangent of: return np.sum(np.tanh(A + b))  (golden_programs.py:39)
            add = A + b
            add_dot = spread(A_dot, add)
            tanh = np.tanh(add)
            tanh_dot = add_dot * (1.0 - tanh * tanh)
            out = np.sum(tanh)
            out_dot = np.sum(tanh_dot)
            return (out, out_dot)
    """),
    (g.halve_until_small, (3.0,), ("x",), """
        def halve_until_small_jvp(x, x_dot):
            # tangent of: while x > 1.0:  (golden_programs.py:69)
            cond = x > 1.0
            while cond:
                # tangent of: x = x * 0.5  (golden_programs.py:70)
                mul = x * 0.5
                mul_dot = x_dot * 0.5
                x = mul
                x_dot = mul_dot
                # tangent of: while x > 1.0:  (golden_programs.py:69)
                cond = x > 1.0
            # tangent of: return x  (golden_programs.py:71)
            return (x, x_dot)
    """),
    (g.fill, (np.ones(3),), ("x",), """
        def fill_jvp(x, x_dot):
            # tangent of: y = np.zeros(x.shape[0])  (golden_programs.py:83)
            x_shape0 = x.shape[0]
            y = np.zeros(x_shape0)
            y_dot = np.zeros(y.shape)
            # tangent of: for i in range(x.shape[0]):  (golden_programs.py:84)
            stop = x.shape[0]
            for i in range(stop):
                # tangent of: y[i] = x[i] * x[i]  (golden_programs.py:85)
                x_i = x[i]
                x_i_dot = x_dot[i]
                mul = x_i * x_i
                mul_dot = x_i_dot * x_i + x_i_dot * x_i
                y[i] = mul
                y_dot[i] = mul_dot
            # tangent of: return np.sum(y)  (golden_programs.py:86)
            out = np.sum(y)
            out_dot = np.sum(y_dot)
            return (out, out_dot)
    """),
]


@pytest.mark.parametrize("fn, args, wrt, expected", GOLDEN, ids=[row[0].__name__ for row in GOLDEN])
def test_tangent_source(fn, args, wrt, expected):
    _, kinds = bind(fn, wrt, args, {})
    text = derivative(fn, wrt, False, True, kinds, "forward").text
    assert text[text.index("def "):] == textwrap.dedent(expected).lstrip("\n")


def test_source_in_forward_mode_names_the_mode():
    text = adjoint.source(g.square, mode="forward")
    assert text.startswith('"""Tangent (forward mode) of square') and "def square_jvp(x, x_dot):" in text


def test_custom_vjp_has_no_forward_mode():
    with pytest.raises(SourceError, match="custom_vjp rule, which gives reverse mode only"):
        adjoint.jvp(cp.uses_mul, (1.0, 2.0), 1.0, jit=False)


@pytest.mark.parametrize("tangents, match", [
    (np.ones(3), "the tangent of `x` has shape \\(3,\\), `x` has \\(4,\\)"),
    ((np.ones(4),), "has shape"),
])
def test_bad_tangents_are_refused(tangents, match):
    with pytest.raises(ArgumentError, match=match):
        adjoint.jvp(g.vector_sum_of_squares, (np.ones(4),), tangents, jit=False)


def test_tangents_must_match_a_tuple_wrt():
    with pytest.raises(ArgumentError, match="tuple of 2 tangents"):
        adjoint.jvp(g.sine_of_product, (0.3, 0.4), 1.0, wrt=(0, 1), jit=False)


def test_bad_mode_is_refused():
    with pytest.raises(ArgumentError, match="mode='sideways'"):
        adjoint.source(g.square, mode="sideways")


def test_command_line_dumps_and_checks_forward_mode():
    import os
    import subprocess
    import sys

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    target = os.path.join(here, "examples", "read_generated_code.py") + ":running_product"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "adjoint", *args], capture_output=True, text=True, cwd=here)

    dumped = run("dump", target, "--mode", "forward")
    assert dumped.returncode == 0 and "def running_product_jvp(x, x_dot):" in dumped.stdout
    checked = run("check", target, "--mode", "forward", "--args", "np.array([0.5, 2.0, -1.5])")
    assert checked.returncode == 0 and "agree" in checked.stdout
