"""The project's corpus (tests/programs.py) against central differences, on both paths, plus round trips."""

import ast

import numpy as np
import pytest
from programs import PROGRAMS

import adjoint
from adjoint.arguments import bind, wrt_names
from adjoint.backend.dispatch import derivative

IDS = [p[0].__name__ for p in PROGRAMS]


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("fn, make, wrt, kind", PROGRAMS, ids=IDS)
def test_matches_central_differences(fn, make, wrt, kind, jit):
    args = make(np.random.default_rng(7))
    before = [np.copy(a) for a in args]
    report = adjoint.check_grad(fn, *args, wrt=wrt, jit=jit)
    assert report, f"\n{report}"
    for a, b in zip(args, before):
        assert np.array_equal(a, b), "differentiating changed an argument"


@pytest.mark.parametrize("fn, make, wrt, kind", [p for p in PROGRAMS if p[3] == "grad"],
                         ids=[p[0].__name__ for p in PROGRAMS if p[3] == "grad"])
def test_grad_types_follow_arguments(fn, make, wrt, kind):
    args = make(np.random.default_rng(3))
    value, grads = adjoint.value_and_grad(fn, wrt=wrt, jit=False)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    for k, g in zip(wrt, grads):
        if isinstance(args[k], float):
            assert type(g) is float
        else:
            assert isinstance(g, np.ndarray) and g.shape == args[k].shape and g.dtype == np.float64


@pytest.mark.parametrize("fn, make, wrt, kind", PROGRAMS, ids=IDS)
def test_round_trip(fn, make, wrt, kind):
    """Every emitted module parses, runs under CPython and compiles under Numba, with equal results."""
    args = make(np.random.default_rng(11))
    names, _ = wrt_names(fn, wrt)
    values, kinds = bind(fn, names, args, {})
    d = derivative(fn, names, True, True, kinds)
    ast.parse(d.text)
    seed = np.ones(np.shape(fn(*values))) if np.ndim(fn(*values)) else 1.0
    py = d.python()(*values, seed)
    nb = d.numba()(*values, seed)
    for a, b in zip(py, nb):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(py[0], fn(*values), rtol=1e-12)


def test_same_input_gives_byte_identical_modules(cache_dir):
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, 'tests'); import adjoint, programs; "
            "print(adjoint.source(programs.shapes_and_stacks), end='')")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(runs) == 1
    import programs

    assert runs.pop() == adjoint.source(programs.shapes_and_stacks)


def test_wrt_by_name_equals_wrt_by_position():
    fn, make, _, _ = PROGRAMS[0]
    args = make(np.random.default_rng(0))
    by_pos = adjoint.grad(fn, wrt=(0, 2), jit=False)(*args)
    by_name = adjoint.grad(fn, wrt=("x", "log_sigma"), jit=False)(*args)
    for a, b in zip(by_pos, by_name):
        np.testing.assert_array_equal(a, b)
    single = adjoint.grad(fn, wrt="mu", jit=False)(*args)
    assert isinstance(single, float)
    one_tuple = adjoint.grad(fn, wrt=("mu",), jit=False)(*args)
    assert isinstance(one_tuple, tuple) and one_tuple[0] == single


def test_keyword_arguments_and_defaults():
    def scaled(x, scale=2.0):
        return np.sum(scale * x * x)

    g = adjoint.grad(scaled, wrt=(0, 1), jit=False)
    gx, gs = g(np.array([1.0, 2.0]), scale=3.0)
    np.testing.assert_allclose(gx, [6.0, 12.0])
    assert gs == pytest.approx(5.0)
    gx, _ = g(np.array([1.0, 2.0]))
    np.testing.assert_allclose(gx, [4.0, 8.0])


def test_jit_none_records_which_path_ran():
    @adjoint.differentiate
    def f(x):
        return np.sum(np.sin(x))

    assert "not run" in f.jit_status
    f.grad(np.ones(3))
    assert f.jit_status.startswith("numba")
    assert "numba" in repr(f)
