"""The thin call path (adjoint/thin.py): a gradient called again with arguments like an earlier call's
skips binding and lookup, and gives what the whole way gives whatever changed between the calls:
the arguments' dtype, layout, rank or structure, a module-level name, a module-level array's flags,
the function's code, a custom rule."""

import numpy as np
import pytest

import adjoint
import adjoint.api
from adjoint.backend.dispatch import last_run

JITS = [False, True]

SCALE = 2.0
TABLE = np.array([1.0, 2.0, 3.0])


def scaled(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        s += SCALE * np.sin(x[i]) * y
    return s


def weighted(x):
    return np.sum(TABLE * x * x)


def loss(p, x):
    return np.sum(np.tanh(p["w"] * x + p["b"]) ** 2) + p["c"] * p["c"]


def with_aux(x):
    y = x * x
    return np.sum(y), {"largest": np.max(y)}


def counted(monkeypatch):
    """The number of calls that went the whole way (bound their arguments), as a list's length."""
    calls, bind = [], adjoint.api.bind_call

    def counting(*args, **kwargs):
        calls.append(1)
        return bind(*args, **kwargs)
    monkeypatch.setattr(adjoint.api, "bind_call", counting)
    return calls


@pytest.mark.parametrize("jit", JITS)
def test_a_like_call_takes_the_thin_path_and_gives_the_same(monkeypatch, jit):
    calls = counted(monkeypatch)
    g = adjoint.grad(scaled, wrt=(0, 1), jit=jit)
    x = np.linspace(0.1, 1.0, 5)
    expected = (2.0 * np.cos(x) * 0.5, 2.0 * np.sum(np.sin(x)))
    for k in range(4):
        gx, gy = g(x, 0.5)
        np.testing.assert_allclose(gx, expected[0], rtol=1e-14)
        assert type(gy) is float and gy == pytest.approx(expected[1], rel=1e-14)
    assert len(calls) <= 2  # (jit=True: a first call, then the thin path from the second on)
    assert last_run(scaled, ("x", "y"), jit).jit_status.startswith("numba" if jit else "python")


@pytest.mark.parametrize("jit", JITS)
def test_a_module_level_name_given_another_value_between_calls(jit):
    global SCALE
    g = adjoint.grad(scaled, jit=jit)
    x = np.linspace(0.1, 1.0, 5)
    g(x, 0.5)
    g(x, 0.5)
    try:
        SCALE = 3.0
        np.testing.assert_allclose(g(x, 0.5), 3.0 * np.cos(x) * 0.5, rtol=1e-14)
    finally:
        SCALE = 2.0
    np.testing.assert_allclose(g(x, 0.5), 2.0 * np.cos(x) * 0.5, rtol=1e-14)


@pytest.mark.parametrize("jit", JITS)
def test_arguments_of_other_kinds_between_like_calls(jit):
    g = adjoint.grad(scaled, jit=jit)
    x = np.linspace(0.1, 1.0, 6)
    for _ in range(2):
        np.testing.assert_allclose(g(x, 0.5), np.cos(x), rtol=1e-14)
    x32 = x.astype(np.float32)  # converted: the gradient comes back float32
    assert g(x32, 0.5).dtype == np.float32
    strided = np.linspace(0.1, 1.0, 12)[::2]  # not contiguous
    for _ in range(2):
        np.testing.assert_allclose(g(strided, 0.5), np.cos(strided), rtol=1e-14)
    frozen = x.copy()
    frozen.flags.writeable = False
    np.testing.assert_allclose(g(frozen, 0.5), np.cos(x), rtol=1e-14)
    np.testing.assert_allclose(g(x, 2), 2.0 * 2.0 * np.cos(x), rtol=1e-14)  # (an int y: other code)
    np.testing.assert_allclose(g(x, True), 2.0 * np.cos(x), rtol=1e-14)
    with pytest.raises(adjoint.AdjointError, match="subclass"):
        g(np.asmatrix(x), 0.5)
    with pytest.raises(adjoint.AdjointError):
        adjoint.grad(scaled, wrt=1, jit=jit)(x, 2)  # (an int has no gradient, however like the calls before)


@pytest.mark.parametrize("jit", JITS)
def test_a_dict_of_parameters(jit):
    g = adjoint.grad(loss, jit=jit)
    x = np.linspace(-1.0, 1.0, 4)

    def expected(p):
        t = np.tanh(p["w"] * x + p["b"])
        d = 2.0 * t * (1.0 - t * t)
        return {"w": d * x, "b": d, "c": 2.0 * p["c"]}

    p = {"w": np.full(4, 0.5), "b": np.zeros(4), "c": 0.25}
    for _ in range(3):
        got = g(p, x)
        assert list(got) == ["w", "b", "c"] and type(got["c"]) is float
        for k in got:
            np.testing.assert_allclose(got[k], expected(p)[k], rtol=1e-13)
    reordered = {"c": 1.5, "b": np.ones(4), "w": np.full(4, 2.0)}  # other key order: other code
    for _ in range(2):
        got = g(reordered, x)
        assert list(got) == ["c", "b", "w"]
        for k in got:
            np.testing.assert_allclose(got[k], expected(reordered)[k], rtol=1e-13)
    with pytest.raises(adjoint.AdjointError):
        g({"w": np.full(4, 0.5), "b": np.zeros(4), "c": 1}, x)  # (an int leaf in wrt)


@pytest.mark.parametrize("jit", JITS)
def test_has_aux_on_the_thin_path(jit):
    vg = adjoint.value_and_grad(with_aux, jit=jit, has_aux=True)
    x = np.array([1.0, -3.0, 2.0])
    for _ in range(3):
        (value, aux), grad = vg(x)
        assert value == 14.0 and aux == {"largest": 9.0}
        np.testing.assert_array_equal(grad, 2.0 * x)


@pytest.mark.parametrize("jit", JITS)
def test_a_module_level_array_made_read_only_between_calls(jit):
    g = adjoint.grad(weighted, jit=jit)
    x = np.ones(3)
    for _ in range(2):
        np.testing.assert_array_equal(g(x), 2.0 * TABLE * x)
    TABLE.flags.writeable = False
    try:
        for _ in range(2):
            np.testing.assert_array_equal(g(x), 2.0 * TABLE * x)
    finally:
        TABLE.flags.writeable = True
    TABLE[0] = 5.0  # (changed in place: read at each call)
    try:
        np.testing.assert_array_equal(g(x), 2.0 * TABLE * x)
    finally:
        TABLE[0] = 1.0


@pytest.mark.parametrize("jit", JITS)
def test_code_replaced_between_calls(jit):
    def f(x):
        return x * x

    def cube(x):
        return x * x * x

    g = adjoint.grad(f, jit=jit)
    assert g(3.0) == g(3.0) == 6.0
    f.__code__ = cube.__code__
    assert g(3.0) == g(3.0) == 27.0


@pytest.mark.parametrize("jit", JITS)
def test_a_custom_rule_given_again_between_calls(jit):
    @adjoint.custom_vjp
    def twice(x):
        return 2.0 * x

    twice.defvjp(lambda x: (2.0 * x, None), lambda res, g: (2.0 * g,))

    def f(x):
        return twice(x) + x

    g = adjoint.grad(f, jit=jit)
    assert g(1.0) == g(1.0) == 3.0
    twice.defvjp(lambda x: (2.0 * x, None), lambda res, g: (5.0 * g,))  # (a wrong rule, told apart)
    assert g(1.0) == g(1.0) == 6.0


# found by a helper's hunt


def test_code_replaced_by_code_with_a_default_parameter():
    """The function's code replaced by code with a parameter more, which the call leaves to its default:
    the thin path took the one value given for the two the code takes (a TypeError)."""
    def f(x):
        return np.sum(x * x)

    def with_default(x, k=3.0):
        return np.sum(k * x * x)

    g, x = adjoint.grad(f, jit=True), np.array([1.0, 2.0])
    np.testing.assert_array_equal(g(x), 2.0 * x)
    f.__code__, f.__defaults__ = with_default.__code__, (3.0,)
    for _ in range(3):
        np.testing.assert_array_equal(g(x), 6.0 * x)


def test_a_module_level_array_given_another_dtype_in_place(monkeypatch):
    """A module-level array's dtype changed on the same object: its kinds are the compiled code's, so the
    call goes the whole way (a native module built for float64 would read int64 bits as floats)."""
    calls = counted(monkeypatch)
    g, x = adjoint.grad(weighted, jit=True), np.ones(3)
    g(x)
    g(x)
    assert len(calls) == 1
    try:
        TABLE.dtype = np.int64
        g(x)
    finally:
        TABLE.dtype = np.float64
    assert len(calls) == 2


def test_a_differentiate_object_given_other_options():
    @adjoint.differentiate
    def f(x, y):
        return np.sum(x * x) * y

    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(f.grad(x, 3.0), 6.0 * x)
    f.wrt = 1
    assert f.grad(x, 3.0) == 5.0
    f.wrt = [0, 1]
    gx, gy = f.grad(x, 3.0)
    assert gy == 5.0


def helper_with_keyword(x, *, k=2.0):
    return x * k


def calls_helper_with_keyword(x):
    return np.sum(helper_with_keyword(x))


@pytest.mark.parametrize("jit", JITS)
def test_a_keyword_only_default_changed_between_calls(jit):
    """(Before the thin path too: __kwdefaults__ was not watched, so even a new grad gave the old value.)"""
    g, x = adjoint.grad(calls_helper_with_keyword, jit=jit), np.array([1.0, 2.0])
    np.testing.assert_array_equal(g(x), [2.0, 2.0])
    try:
        helper_with_keyword.__kwdefaults__["k"] = 5.0  # (in place)
        np.testing.assert_array_equal(g(x), [5.0, 5.0])
        helper_with_keyword.__kwdefaults__ = {"k": 7.0}
        np.testing.assert_array_equal(g(x), [7.0, 7.0])
    finally:
        helper_with_keyword.__kwdefaults__ = {"k": 2.0}


@pytest.mark.parametrize("jit", JITS)
def test_parameters_left_to_their_defaults(monkeypatch, jit):
    def f(x, k=2.0, n=3):
        return np.sum(k * x ** n)

    calls = counted(monkeypatch)
    g, x = adjoint.grad(f, jit=jit), np.array([1.0, 2.0])
    for _ in range(3):
        np.testing.assert_array_equal(g(x), 6.0 * x ** 2)
    np.testing.assert_array_equal(g(x, 1.0), 3.0 * x ** 2)
    np.testing.assert_array_equal(g(x, 1.0, 2), 2.0 * x)
    f.__defaults__ = (5.0, 3)
    np.testing.assert_array_equal(g(x), 15.0 * x ** 2)
    assert len(calls) <= 6 if jit else 4
