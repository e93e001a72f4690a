"""Loop fusion (adjoint/optimize/fusion.py): a loop whose iterations only add into a total gets its adjoint
inside the loop. Each program is checked against central differences on both paths, and whether
it was fused (one loop in the generated code instead of a forward and a reverse one) is pinned,
for the loops that must fuse and for those whose iterations depend on each other and must not."""

import math

import numpy as np
import pytest

import adjoint
from adjoint.arguments import bind
from explain_programs import settle as settle_sum  # (a while loop inside a loop that fuses: its trip count,
# pushed and popped in the same iteration, needs no tape)
from adjoint.backend.dispatch import derivative


def pair_energy(pos, q):
    n = pos.shape[0]
    e = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            d = pos[i] - pos[j]
            e = e + q[i] * q[j] / math.sqrt(d * d + 0.1)
    return e


def least_squares(w, X, y):
    loss = 0.0
    for k in range(X.shape[0]):
        pred = w[0] + w[1] * X[k] + w[2] * X[k] * X[k]
        r = pred - y[k]
        if r > 1.0:
            loss = loss + 2.0 * r - 1.0  # Huber-like: linear beyond 1
        else:
            loss = loss + r * r
    return 2.5 * loss + 1.0


def buffer_per_iteration(x):
    total = 0.0
    for i in range(x.shape[0] - 2):
        window = np.zeros(3)
        window[0] = x[i]
        window[1] = x[i + 1] * window[0]
        window[2] = x[i + 2] * window[1]
        total = total + np.sum(window * window)
    return total


def inner_recurrence(a, n):
    """Each outer iteration runs a recurrence of its own (tapes inside), the outer one only adds."""
    total = 0.0
    for i in range(a.shape[0]):
        s = a[i]
        for _ in range(n):
            s = s * 0.9 + math.sin(s)
        total = total + s
    return total


def two_loops(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] ** 3
    t = 0.0
    for i in range(x.shape[0]):
        t = t + math.cos(x[i]) * s
    return t


def independent_sums(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] ** 3
    t = 0.0
    for i in range(x.shape[0]):
        t = t + math.cos(x[i])
    return s + 2.0 * t


# must not fuse: the iterations depend on each other (or, for two_loops' first loop, its adjoint
# needs what the second loop's adjoint adds up; independent_sums' first loop could, but the
# adjoint of the second, fused first, also adds into x_bar, and fusion does not reorder that yet)

def carried_state(r, x):
    s = 0.0
    for _ in range(8):
        x = r * x * (1.0 - x)
        s = s + x
    return s


def total_used_nonlinearly(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * x[i]
    return s * s


def running_product(x):
    p = 1.0
    for i in range(x.shape[0]):
        p = p * x[i]
    return p


R = np.random.default_rng(5)
CASES = [  # (function, arguments, wrt, loops in the generated code: one per fused pair, two otherwise)
    (pair_energy, (R.standard_normal(6), R.uniform(0.5, 1.5, 6)), ("pos", "q"), 1),
    (least_squares, (R.standard_normal(3), R.standard_normal(9), R.standard_normal(9)), ("w",), 1),
    (buffer_per_iteration, (R.standard_normal(7),), ("x",), 1),
    (inner_recurrence, (R.standard_normal(4), 5), ("a",), 1),
    (independent_sums, (R.standard_normal(5),), ("x",), 3),  # the first adds into x_bar after the second
    (two_loops, (R.standard_normal(5),), ("x",), 3),
    (carried_state, (2.9, 0.3), ("r", "x"), 2),
    (total_used_nonlinearly, (R.standard_normal(5),), ("x",), 2),
    (running_product, (R.uniform(0.5, 1.5, 5),), ("x",), 2),
    (settle_sum, (0.3, 5), ("x",), 1),
]
IDS = [c[0].__name__ for c in CASES]


def _top_level_loops(fn, args, wrt):
    _, kinds = bind(fn, wrt, args, {})
    body = derivative(fn, wrt, False, True, kinds).generated.fdef.body
    return sum(1 for s in body if type(s).__name__ in ("For", "While"))


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("fn, args, wrt, loops", CASES, ids=IDS)
def test_gradient_matches_central_differences(fn, args, wrt, loops, jit):
    report = adjoint.check_grad(fn, *args, wrt=wrt, jit=jit)
    assert report, f"\n{report}"


@pytest.mark.parametrize("fn, args, wrt, loops", CASES, ids=IDS)
def test_fused_exactly_when_the_iterations_only_add_up(fn, args, wrt, loops):
    assert _top_level_loops(fn, args, wrt) == loops


def test_the_value_is_the_function_value():
    args = CASES[0][1]
    value, _ = adjoint.value_and_grad(pair_energy, wrt=(0, 1), jit=False)(*args)
    assert value == pytest.approx(pair_energy(*args), rel=1e-13)


def test_a_push_popped_back_in_the_same_iteration_is_no_tape():
    _, kinds = bind(settle_sum, ("x",), (0.3, 5), {})
    assert "tape" not in derivative(settle_sum, ("x",), False, True, kinds).text


def test_round_trips_are_dropped_only_when_the_name_and_the_tape_are_untouched_between():
    import ast

    from adjoint.optimize.fusion import without_round_trips

    def dropped(code):
        return [ast.unparse(s) for s in without_round_trips(ast.parse(code).body, {"T"})]
    assert dropped("T.append(v)\na = v * 2.0\nw = T.pop()") == ["a = v * 2.0", "w = v"]
    assert dropped("T.append(v)\nv = v + 1.0\nv = T.pop()") == ["T.append(v)", "v = v + 1.0", "v = T.pop()"]
    assert dropped("T.append(v)\nT.append(u)\nw = T.pop()\nz = T.pop()") == ["T.append(v)", "w = u",
                                                                               "z = T.pop()"]
    assert dropped("T.append(v)\nfor i in range(3):\n    T.append(i)\nw = T.pop()") == [
        "T.append(v)", "for i in range(3):\n    T.append(i)", "w = T.pop()"]


def test_fused_loop_computes_nothing_twice():
    _, kinds = bind(pair_energy, ("pos", "q"), CASES[0][1], {})
    text = derivative(pair_energy, ("pos", "q"), False, True, kinds).text
    code = [line.strip() for line in text.splitlines() if not line.strip().startswith("#")]
    assert sum(line.startswith("d = ") for line in code) == 1
    assert sum("math.sqrt(" in line for line in code) == 1
