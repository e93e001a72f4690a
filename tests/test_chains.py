"""The adjoint of a number carried from step to step of a loop, updated by one factor a step
(optimize/chains.py): the text it writes, and recurrences through the three oracles."""

import math

import numpy as np
import pytest
from oracles import failures

import adjoint


def logistic(r, x, n):
    s = 0.0
    for i in range(n):
        x = r * x * (1.0 - x)
        s = s + x
    return s


def damped(a, b, x, n):
    for i in range(n):
        x = x - 0.1 * (a * x + b * x * x * x)
    return x


def rebound_factor(a, x, n):
    """The name a factor reads is bound again within the step (t): its value there is not the one read."""
    for i in range(n):
        t = a * x
        y = x * t
        t = t + 1.0
        x = y / t - 0.5 * x
    return x


def oscillator(k, c, x, v, n):
    for i in range(n):
        acc = -k * x - c * v
        v = v + 0.05 * acc
        x = x + 0.05 * v
    return x * x + v


def shrinking(a, x):
    n = 0
    while x > 0.01 and n < 50:
        x = x * a * math.cos(x)
        n += 1
    return x


def branchy(a, x, n):
    for i in range(n):
        if x > 0.5:
            x = a * x * x
        else:
            x = x * (1.0 + a)
    return x


def differences(a, b, x, n):
    for i in range(n):
        y = x * a
        x = y - x * b - 0.5 * (y - x)
    return x


def coupled_stages(k, u, v, dt, n):
    """Each adjoint's update mixes in the other's (a midpoint step): a value that is not the start times
    a factor, given to a name that was followed, is followed no further (found by the suite's tapes)."""
    for i in range(n):
        fu, fv = _field(k, u, v)
        gu, gv = _field(k, u + 0.5 * dt * fu, v + 0.5 * dt * fv)
        u = u + dt * gu
        v = v + dt * gv
    return u * v


def _field(k, u, v):
    return k * u - u * v, u * v - v


def shared_temp(x, z, c, n):
    """A followed value given one that is not (y_bar += z_bar's share): found by a hunt (stale factor)."""
    for i in range(n):
        y = x + z
        x = y * c
        z = y + z
    return x * z


def accum_discount(s, a, w):
    """`add_bar = s_bar`, a copy of the adjoint, between two writes of the chain: found by a hunt."""
    for i in range(w.shape[0]):
        s = s + a * w[i]
        s = s * 0.9
    return s


def int_factor(x, k, n):
    """Int partials: their product, factored out, must not be an int product (Numba's int64 wraps)."""
    for i in range(n):
        x = x * 1e-20
        x = x * k
        x = x * k
    return x


def through_array(w, x):
    for i in range(w.shape[0]):
        x = math.tanh(w[i] * x) * 2.0
    return x


PROGRAMS = [
    (logistic, (2.9, 0.3, 40), (0, 1)),
    (damped, (0.7, 0.2, 1.3, 30), (0, 1, 2)),
    (rebound_factor, (0.3, 0.8, 12), (0, 1)),
    (oscillator, (2.0, 0.3, 1.0, 0.0, 25), (0, 1, 2, 3)),
    (shrinking, (0.9, 1.2), (0, 1)),
    (branchy, (0.4, 0.7, 10), (0, 1)),
    (through_array, (np.array([0.5, -1.2, 0.8, 1.1]), 0.3), (0, 1)),
    (differences, (0.9, 0.3, 1.2, 15), (0, 1, 2)),
    (coupled_stages, (1.3, 0.8, 1.1, 0.1, 4), (0, 1, 2)),
    (shared_temp, (0.5, 0.2, 0.9, 3), (0, 1, 2)),
    (accum_discount, (0.0, 1.0, np.array([1.0, 2.0, -0.5])), (0, 1, 2)),
    (int_factor, (0.7, 2**33, 1), 0),
]


@pytest.mark.parametrize("fn,args,wrt", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_oracles(fn, args, wrt):
    assert failures(fn, args, wrt) == []


def test_the_chain_is_one_product_a_step():
    text = adjoint.source(logistic, 2.9, 0.3, 40, wrt=(0, 1))
    assert "x_bar = x_bar * (-mul + sub * r)" in text, text
    assert "x_bar_step" not in text  # (the intermediate write, read by nothing, is gone)


def test_a_factor_whose_name_is_bound_again_is_not_read_late():
    text = adjoint.source(rebound_factor, 0.3, 0.8, 12, wrt=(0, 1))
    assert failures(rebound_factor, (0.3, 0.8, 12), (0, 1)) == []
    assert "def rebound_factor_vjp" in text


def test_the_pass_on_written_code_keeps_its_numbers():
    """shorter_chains on code written here (subtractions, divisions, negations, a name read between
    writes): the same numbers as before, with one write of the chain left."""
    import ast
    import textwrap

    from adjoint.optimize.chains import shorter_chains

    text = textwrap.dedent("""
        def f(x_bar, c, n):
            s = 0.0
            for i in range(n):
                t = x_bar * c
                x_bar = x_bar - t
                s = s + x_bar
                x_bar = -(x_bar / (c + 1.0)) - x_bar * c
                x_bar = x_bar * 2.0
            return x_bar, s
    """)
    fdef = ast.parse(text).body[0]
    new = shorter_chains(fdef, {"x_bar"}, {"x_bar": 0, "t": 0, "s": 0, "c": 0}, {"x_bar", "t", "s"})
    before, after = {}, {}
    exec(compile(ast.Module([fdef], []), "<before>", "exec"), before)
    exec(compile(ast.fix_missing_locations(ast.Module([new], [])), "<after>", "exec"), after)
    for c in (0.3, -1.7, 2.5):
        np.testing.assert_allclose(after["f"](1.3, c, 7), before["f"](1.3, c, 7), rtol=1e-13)
    loop = ast.unparse(new.body[1])
    assert loop.count("x_bar =") == 1 and "x_bar = x_bar * (" in loop, loop
