"""The Python people write around their numbers (tests/idiom_programs.py) through the three oracles,
and what is still refused, refused clearly."""

from typing import NamedTuple

import numpy as np
import pytest
from idiom_programs import PROGRAMS
from oracles import failures

import adjoint


# the programs whose compiled path is checked too (each Numba compile costs seconds)
JIT = {"dot_by_generator", "heat_ping_pong", "rnn_appending"}


@pytest.mark.parametrize("fn, make, wrt", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_oracles(fn, make, wrt):
    assert failures(fn, make(np.random.default_rng(5)), wrt, jit=fn.__name__ in JIT) == []


def test_a_generator_of_the_closure_draws_once_a_call_and_the_gradient_uses_that_draw():
    gen, twin = np.random.default_rng(7), np.random.default_rng(7)

    def f(x):
        return np.sum(x * gen.standard_normal(x.shape[0]))

    x = np.arange(1.0, 5.0)
    for _ in range(2):  # (the next call, the next draw)
        value, grad = adjoint.value_and_grad(f, jit=False)(x)
        drawn = twin.standard_normal(4)
        np.testing.assert_array_equal(grad, drawn)
        assert value == np.sum(x * drawn)


def test_what_runs_a_function_twice_refuses_draws_from_a_generator_outside_it():
    """vjp's value and pullback, a Jacobian's rows, a Hessian's columns are separate runs: with a generator
    of the closure (or np.random's own) each run draws others, so they would be of different programs."""
    gen = np.random.default_rng(7)

    def f(x):
        return np.sum(x * gen.standard_normal(x.shape[0]))

    def g(x):
        return np.sum(x * np.random.normal(size=3))

    def unread(x):  # (a draw nothing reads changes nothing: vjp runs it as often as it likes)
        skipped = gen.standard_normal(2)
        return x * 2.0

    _, pullback = adjoint.vjp(unread, np.ones(3), jit=False)
    np.testing.assert_array_equal(pullback(np.ones(3)), 2.0)
    for fn in (f, g):
        with pytest.raises(adjoint.AdjointError, match="draws other random numbers"):
            adjoint.vjp(fn, np.ones(3), jit=False)
        with pytest.raises(adjoint.AdjointError, match="draws other random numbers"):
            adjoint.jacobian(fn, jit=False)(np.ones(3))
        with pytest.raises(adjoint.AdjointError, match="draws other random numbers"):
            adjoint.hessian(fn, jit=False)(np.ones(3))


def test_a_differentiated_value_into_a_generator_is_refused():
    gen = np.random.default_rng(7)

    def f(x):
        return np.sum(gen.normal(x, 1.0))

    with pytest.raises(adjoint.AdjointError, match="makes an array from its arguments"):
        adjoint.grad(f, jit=False)(np.ones(3))


def test_reversed_ranges_count_as_python_does():
    from idiom_programs import reversed_loops
    for n in range(0, 6):
        x = np.arange(1.0, n + 1.0)
        value, _ = adjoint.value_and_grad(reversed_loops, jit=False)(x)
        assert value == reversed_loops(x)


def test_an_adjoint_differentiate_function_is_differentiated_by_every_entry():
    from idiom_programs import dot_by_generator
    f = adjoint.differentiate(dot_by_generator, wrt=(0, 1), jit=False)
    w, x = np.arange(1.0, 4.0), np.arange(2.0, 5.0)
    gw, gx = adjoint.grad(f, wrt=(0, 1), jit=False)(w, x)
    np.testing.assert_allclose(gw, x)
    np.testing.assert_allclose(adjoint.numerical_jacobian(f, w, x, wrt=0), x, rtol=1e-6)
    assert adjoint.check_grad(f, w, x, wrt=(0, 1), jit=False)


@pytest.mark.parametrize("args", [(None,), (np.array([0.5, 2.0]),)])
def test_is_none_of_a_value_known_only_at_run_time_is_tested_then(args):
    from idiom_programs import none_set_later_in_the_loop, none_tested_at_run_time
    x = np.array([0.3, -0.7])
    value, g = adjoint.value_and_grad(none_tested_at_run_time, jit=False)(x, *args)
    assert value == pytest.approx(none_tested_at_run_time(x, *args))
    np.testing.assert_allclose(g, 2 * x if args[0] is None else args[0])
    value, g = adjoint.value_and_grad(none_set_later_in_the_loop, jit=False)(x, 3)
    assert value == pytest.approx(none_set_later_in_the_loop(x, 3))
    np.testing.assert_allclose(g, 2.0 + 2 * x + 1.0)  # (runs: the sum of w = 2x, of x * x, of w = x)


def _rows_swapped_by_unpacking(x):
    a = x * 1.0
    a[0], a[1] = a[1], a[0]
    return np.sum(a * np.arange(6.0).reshape(3, 2))


def _updated_while_the_loop_makes_it_another_array(x, y, n):
    x = x.copy()
    for _ in range(n):
        x += y
        x = y
    return np.sum(x * y)


class _Doubled(NamedTuple):
    a: np.ndarray
    b: float


class _MadeItsOwnWay(_Doubled):
    def __new__(cls, a, b):
        return super().__new__(cls, a * 2.0, b)


def _named_tuple_with_its_own_new(x):
    s = _MadeItsOwnWay(x, 3.0)
    return np.sum(s.a) * s.b


@pytest.mark.parametrize("fn, args, message", [
    (_rows_swapped_by_unpacking, (np.arange(6.0).reshape(3, 2),), "a value unpacked after it views"),
    (_updated_while_the_loop_makes_it_another_array, (np.ones(2), np.arange(2.0), 2), "another name's"),
    (_named_tuple_with_its_own_new, (np.ones(2),), "`__new__` of its own"),
], ids=["unpacked_views", "augmented_alias_in_a_loop", "named_tuple_new"])
def test_python_semantics_adjoint_cannot_follow_are_refused(fn, args, message):
    with pytest.raises(adjoint.SourceError, match=message):
        adjoint.grad(fn, jit=False)(*args)


def test_max_of_an_empty_generator_raises_as_python_does():
    def f(x):
        return max(v for v in x)
    with pytest.raises(ValueError, match="empty sequence"):
        adjoint.grad(f, jit=False)(np.ones(0))


def test_keyword_only_parameters_and_their_defaults():
    from idiom_programs import keyword_only
    x = np.random.default_rng(1).normal(size=3)
    np.testing.assert_allclose(adjoint.grad(keyword_only, jit=False)(x), 4.0 * x)
    np.testing.assert_allclose(adjoint.grad(keyword_only, jit=False)(x, scale=3.0, power=3), 9.0 * x ** 2)
    assert adjoint.grad(keyword_only, wrt="scale", jit=False)(x, scale=3.0) == pytest.approx(np.sum(x ** 2))


def test_star_kwargs_are_a_dict_argument():
    from idiom_programs import star_kwargs
    x = np.random.default_rng(2).normal(size=3)
    g = adjoint.grad(star_kwargs, wrt=("x", "options"), jit=False)(x, gain=1.5, bias=np.ones(3))
    np.testing.assert_allclose(g[0], 1.5 * (1 - np.tanh(1.5 * x) ** 2))
    assert list(g[1]) == ["gain", "bias"] and np.allclose(g[1]["bias"], 1.0)


def test_functools_partial():
    import functools

    from idiom_programs import keyword_only
    x = np.random.default_rng(3).normal(size=3)
    scaled = functools.partial(keyword_only, scale=5.0)
    np.testing.assert_allclose(adjoint.grad(scaled, jit=False)(x), 10.0 * x)
    first_fixed = functools.partial(adjoint_free_product, 2.0)
    assert adjoint.grad(first_fixed, jit=False)(3.0) == 2.0
    assert adjoint.check_grad(scaled, x, jit=False)


def adjoint_free_product(a, b):
    return a * b


def test_star_args_are_a_tuple_argument():
    from idiom_programs import star_args
    a, b = np.random.default_rng(4).normal(size=(2, 3))
    g = adjoint.grad(star_args, jit=False)(a, b, 0.5)
    assert type(g) is tuple and len(g) == 3 and type(g[2]) is float
    np.testing.assert_allclose(g[0], b + 1.0)
    np.testing.assert_allclose(g[1], a + 1.0)
    assert g[2] == 1.0
    assert adjoint.check_grad(star_args, a, b, 0.5, jit=False)
    assert adjoint.check_grad(star_args, a, b, 0.5, jit=False, mode="forward")


def test_a_copy_of_a_buffer_that_a_swap_passes_on_is_refused():
    """z = u, then u, v = v, u: from the next run on, z holds v's array, which the first line writes
    into before z is read (a wrong gradient before this was refused)."""
    def f(x):
        u, v, z, s = x * 1.0, x * 2.0, x * 3.0, 0.0
        for t in range(3):
            v[0] = x[t] * x[t]
            s = s + np.sum(z * x)
            z = u
            u, v = v, u
        return s
    with pytest.raises(adjoint.SourceError, match="also changes `z` from the loop's second run on"):
        adjoint.grad(f)(np.array([0.3, 0.5, 0.7]))


def test_a_view_of_a_buffer_that_a_swap_passes_on_is_refused():
    def f(x):
        u, v, s = x.copy(), np.zeros_like(x), 0.0
        for t in range(3):
            w = u[1:]
            u, v = v, u
            v[0] = x[t] * 2.0  # v is the array w views
            s = s + np.sum(w * w)
        return s
    with pytest.raises(adjoint.SourceError, match="would also change `w`"):
        adjoint.grad(f)(np.array([0.3, 0.5, 0.7]))


def test_a_view_of_an_array_written_into_itself_is_refused():
    """`b[:, j] = b[1]`: NumPy reads row 1 while it writes column j, element by element (b[2, 2] gets the
    b[1, 2] the write just changed); the normal form read the row first (a wrong gradient before:
    loops 200918 of a long run)."""
    def f(T):
        for j in range(3):
            b = T[j] * 1.0
            b[:, j] = b[1]
        return np.sum(b * b)

    def g(T):
        b = T * 1.0
        b[:, 2] = b[1].copy()  # what the hint says: the row as it was
        b[0, :2] = b[2, 1:]  # a view that shares no element with what is written
        return np.sum(b * b)

    T = np.random.default_rng(6).normal(size=(3, 3, 3))
    with pytest.raises(adjoint.SourceError, match="is a view of `b` itself"):
        adjoint.grad(f)(T)
    assert failures(g, (T[0],), 0) == []


def test_a_view_of_an_array_written_where_numpy_reads_it_whole_first():
    """NumPy copies an overlapping value first when the destination has two or more axes, and moves it
    as memmove does along one axis with a step of 1: the same as reading it first, which the normal
    form does; those writes are taken, the crossing ones and those through index arrays refused."""
    def f(x, A):
        a = x * 1.0
        a[1:] = a[:-1] * 1.0
        b = x * 2.0
        b[1:] = b[:-1]
        B = A * 1.0
        B[1:] = B[:-1]
        C = A * 2.0
        C[1:, 0] = C[:-1, 0]
        return np.sum(a * b) + np.sum(B * C)

    r = np.random.default_rng(7)
    assert failures(f, (r.normal(size=5), r.normal(size=(3, 3))), (0, 1), jit=False) == []


def test_a_view_written_through_an_index_array_into_its_own_array_is_refused():
    """`b[mask] = b[3::-1]`: NumPy reads entries it already wrote ([3, 2, 2, 2, 3] from arange(5), not
    [3, 2, 2, 1, 0]); a wrong gradient before (loops 500031 of a random run)."""
    def f(x):
        b = x * 1.0
        b[np.array([True, True, False, True, True])] = b[3::-1]
        return np.sum(b * b * x)
    with pytest.raises(adjoint.SourceError, match="is a view of `b` itself"):
        adjoint.grad(f)(np.array([0.111, -0.296, -0.212, -0.162, 0.202]))
