"""custom_vjp: user rules enter the rule table and are used directly and from inside other functions."""

import custom_programs as cp
import numpy as np
import pytest

import adjoint

JITS = pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])


@JITS
def test_multiply_example_directly(jit):
    ga, gb = adjoint.grad(cp.mul, wrt=(0, 1), jit=jit)(2.0, 3.0)
    assert (ga, gb) == (3.0, 2.0)


@JITS
def test_multiply_example_on_arrays_with_vjp(jit):
    a, b = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    out, pullback = adjoint.vjp(cp.mul, a, b, wrt=(0, 1), jit=jit)
    np.testing.assert_array_equal(out, a * b)
    ga, gb = pullback(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(ga, [3.0, 50.0])
    np.testing.assert_array_equal(gb, [1.0, 20.0])


@JITS
def test_multiply_called_inside_a_differentiated_function(jit):
    x, y = np.array([0.3, -1.2, 2.0]), np.array([1.5, 0.5, -0.7])
    assert adjoint.check_grad(cp.uses_mul, x, y, wrt=(0, 1), jit=jit)
    gx, gy = adjoint.grad(cp.uses_mul, wrt=(0, 1), jit=jit)(x, y)
    np.testing.assert_allclose(gx, y * np.sin(x) + x * y * np.cos(x))
    np.testing.assert_allclose(gy, x * np.sin(x))


@JITS
def test_the_custom_rule_is_used_not_the_source(jit):
    x = np.array([-3.0, 0.5, 2.0])
    g = adjoint.grad(cp.uses_clip, jit=jit)(x)
    np.testing.assert_array_equal(g, [3.0, 3.0, 3.0])  # the true derivative would be [0, 3, 0]


def test_generated_code_calls_fwd_and_bwd():
    text = adjoint.source(cp.uses_mul, wrt=(0, 1))
    assert "mul_fwd(x, y)" in text
    assert "mul_bwd(" in text
    assert "# bound when this module loads: mul_bwd, mul_fwd" in text


def test_changing_the_rule_changes_the_module():
    @adjoint.custom_vjp
    def f(x):
        return x * 2.0

    f.defvjp(lambda x: (x * 2.0, x), lambda res, g: (g * 2.0,))

    def use(x):
        return f(x) + x

    first = adjoint.source(use)
    assert adjoint.grad(use, jit=False)(1.0) == 3.0
    f.defvjp(lambda x: (x * 2.0, x), lambda res, g: (g * 5.0,))  # in the same process: no stale derivative
    assert adjoint.source(use) != first  # the rule's fingerprint is part of the module
    assert adjoint.grad(use, jit=False)(1.0) == 6.0


def test_defvjp_checks_signatures():
    @adjoint.custom_vjp
    def g(a, b):
        return a + b

    with pytest.raises(adjoint.AdjointError, match="same parameters"):
        g.defvjp(lambda a: (a, None), lambda res, g: (g, g))
    with pytest.raises(adjoint.AdjointError, match=r"\(residuals, g\)"):
        g.defvjp(lambda a, b: (a + b, None), lambda g: (g, g))


def test_custom_function_still_runs_as_itself():
    assert cp.mul(2.0, 4.0) == 8.0
