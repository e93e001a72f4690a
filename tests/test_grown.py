"""Lists grown in loops of run-time length and containers carried from one run of a loop to the next
(tests/grown_programs.py) through the three oracles; what Python's lists do that an array of rows
cannot, refused clearly."""

import numpy as np
import pytest
from grown_programs import PROGRAMS
from oracles import failures

import adjoint

JIT = {"recurrent_states", "states_until_settled"}  # (each Numba compile costs seconds)


@pytest.mark.parametrize("fn, make, wrt", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_oracles(fn, make, wrt):
    assert failures(fn, make(np.random.default_rng(7)), wrt, jit=fn.__name__ in JIT) == []


@pytest.mark.parametrize("steps", [0, 1, 5])
def test_values_are_python_values_for_every_length(steps):
    from grown_programs import euler_trajectory, kept_where_positive
    x = np.array([0.3, -0.8])
    value, _ = adjoint.value_and_grad(euler_trajectory, jit=False)(x, 1.3, steps)
    assert value == pytest.approx(euler_trajectory(x, 1.3, steps), rel=1e-14)
    z = np.linspace(-1.0, 1.0, steps)
    value, _ = adjoint.value_and_grad(kept_where_positive, jit=False)(z, 0.7)
    assert value == pytest.approx(kept_where_positive(z, 0.7), rel=1e-14)


@pytest.mark.parametrize("horizon", [0.0, 0.3, 9.0])
def test_rows_that_grow_hold_every_item(horizon):
    from grown_programs import adaptive_steps
    value, _ = adjoint.value_and_grad(adaptive_steps, wrt=(0, 1), jit=False)(0.7, 1.3, horizon)
    assert value == pytest.approx(adaptive_steps(0.7, 1.3, horizon), rel=1e-14)


def test_an_item_past_the_end_raises_as_python_does():
    def f(x):
        out = []
        for v in x:
            out.append(v * 2.0)
        return out[-1] + out[2]
    with pytest.raises(AssertionError, match="list index out of range"):
        adjoint.grad(f, jit=False)(np.ones(2))
    assert adjoint.grad(f, jit=False)(np.ones(3)) == pytest.approx([0.0, 0.0, 4.0])


def test_items_of_different_shapes_raise():
    def f(x, n):
        out = []
        for i in range(n):
            out.append(x[:i + 1])
        return np.sum(np.stack(out))
    with pytest.raises(AssertionError, match="different shapes"):
        adjoint.grad(f, jit=False)(np.ones(3), 2)


def _appended_then_changed(x):
    out = []
    h = np.zeros(3)
    for v in x:
        h += v
        out.append(h)
    return np.sum(np.stack(out))


def _appended_then_written(x):
    out = []
    for v in x:
        h = x * v
        out.append(h)
        alias = h
        alias[0] = 1.0
    return np.sum(np.stack(out))


def _list_added(x):
    out = []
    for v in x:
        out.append(v)
    return sum(out + [1.0])


def _list_as_truth(x):
    out = []
    for v in x:
        if v > 2.0:
            out.append(v)
    return out[0] if out else np.sum(x)


def _read_before_append(x):
    out = []
    for i in range(len(x)):
        if i > 0:
            x = x + out[-1]
        out.append(x[i])
    return np.sum(x)


def _one_dict_in_two_places(x, n):
    s = {"p": {"v": x}}
    s["q"] = s["p"]
    for _ in range(n):
        s["p"]["v"] = s["p"]["v"] * 1.5
    return np.sum(s["q"]["v"])


def _callers_array_updated_in_a_loop(p, n):
    for _ in range(n):
        p["w"] -= 0.1 * np.sin(p["w"])
    return np.sum(p["w"] ** 2)


def _item_updated_then_appended(x, n):
    d = [np.sin(x)]
    out = []
    for _ in range(n):
        d[0] *= 1.5
        out.append(d[0])
    return np.sum(np.stack(out))


def _slice_used_as_a_list(x, n):
    out = []
    for v in x:
        out.append(v * 2.0)
    return np.mean(out[1:] * 2)


def _scale_in_place(p, n):
    for _ in range(n):
        p["w"] = p["w"] * 2.0


def _helper_writes_the_callers_dict_in_a_loop(x, n):
    p = {"w": x}
    _scale_in_place(p, n)
    return np.sum(p["w"])


def _appended_by_a_closure(x, n):
    out = []

    def fill():
        for v in x:
            out.append(v * 2.0)
    fill()
    return sum(out)


def _state_kept_by_another_name(x, n):
    s = {"u": x}
    first = s
    for _ in range(n):
        s = {"u": 2.0 * s["u"]}
    return np.sum(first["u"] + s["u"])


def _state_changes_structure(x, n):
    s = {"u": x}
    for _ in range(n):
        s = {"u": s["u"], "v": x}
    return np.sum(s["u"])


@pytest.mark.parametrize("fn, message", [
    (_appended_then_changed, "appended to `out` and changed in place"),
    (_appended_then_written, "appended to `out` and changed in place"),
    (_list_added, "used here as only a list can be"),
    (_list_as_truth, "used here as only a list can be"),
    (_read_before_append, "read in its loop before the loop first appends"),
], ids=lambda v: getattr(v, "__name__", "")[1:])
def test_what_a_list_of_rows_cannot_be_is_refused(fn, message):
    with pytest.raises(adjoint.SourceError, match=message):
        adjoint.grad(fn, jit=False)(np.arange(1.0, 4.0))


def test_updating_the_callers_array_in_a_loop_is_refused():
    with pytest.raises(adjoint.SourceError, match="would change the caller's argument"):
        adjoint.grad(_callers_array_updated_in_a_loop, jit=False)({"w": np.arange(1.0, 4.0)}, 2)


def test_an_empty_list_of_arrays_stops_where_python_would_give_no_array():
    def f(x, n):
        out = []
        for i in range(n):
            out.append(x * i)
        return np.sum(np.sum(np.array(out), axis=0) + 1.0)
    with pytest.raises(AssertionError, match="empty list of arrays"):
        adjoint.grad(f, jit=False)(np.ones(3), 0)


@pytest.mark.parametrize("fn, message", [
    (_state_kept_by_another_name, "while `first` still holds"),
    (_state_changes_structure, "containers of different structures"),
    (_one_dict_in_two_places, "holds one dict, list or tuple in two places"),
    (_helper_writes_the_callers_dict_in_a_loop, "cannot be changed inside if/for/while"),
    (_item_updated_then_appended, "appended to `out` and changed in place"),
    (_slice_used_as_a_list, "used here as only a list can be"),
    (_appended_by_a_closure, "held by another name or container"),
])
def test_a_carried_container_keeps_its_structure_and_its_holders(fn, message):
    with pytest.raises(adjoint.SourceError, match=message):
        adjoint.grad(fn, jit=False)(np.arange(1.0, 4.0), 2)
