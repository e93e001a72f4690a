"""The on-disk caches: generated modules are reused by name, and Numba's compiled code across processes;
jit=None says which path it took."""

import itertools
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import adjoint

PROGRAM = textwrap.dedent('''
    import sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import adjoint
    from adjoint.arguments import bind
    from adjoint.backend.dispatch import derivative
    import kernel

    x = np.linspace(0.1, 1.0, 50)
    values, kinds = bind(kernel.f, ("x",), (x,), {})
    d = derivative(kernel.f, ("x",), True, True, kinds)
    out, g = d(values, 1.0)
    stats = d.numba().stats
    print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()), d.generated.path)
''')

KERNEL = textwrap.dedent('''
    import numpy as np

    def f(x):
        s = 0.0
        for i in range(x.shape[0]):
            s = s + np.sin(x[i]) * x[i]
        return s
''')


def test_second_process_reuses_compiled_code(tmp_path):
    (tmp_path / "kernel.py").write_text(KERNEL)
    env = dict(os.environ, ADJOINT_CACHE_DIR=str(tmp_path / "cache"))
    runs = [subprocess.run([sys.executable, "-c", PROGRAM, str(tmp_path)], env=env, capture_output=True,
                           text=True, check=True).stdout.split() for _ in range(2)]
    (hits1, misses1, path1), (hits2, misses2, path2) = runs
    assert path1 == path2 and path1.startswith(str(tmp_path / "cache"))
    assert int(misses1) >= 1 and int(hits1) == 0  # the first process compiled
    assert int(hits2) >= 1 and int(misses2) == 0  # the second loaded what the first compiled


HELPERS_PROGRAM = textwrap.dedent('''
    import sys
    import numpy as np
    from numba.core import event
    sys.path.insert(0, sys.argv[1])
    import adjoint
    import kernel

    compiled = []

    class Compiled(event.Listener):
        def on_start(self, ev):
            compiled.append(ev.data["dispatcher"].py_func.__module__)

        def on_end(self, ev):
            pass

    event.register("numba:compile", Compiled())
    adjoint.grad(kernel.g, wrt=(0, 1), jit=True)(np.linspace(0.1, 1.0, 5), np.array([0.5, -0.5]))
    print(sum(m.startswith("adjoint.") for m in compiled))
''')

HELPERS_KERNEL = textwrap.dedent('''
    import numpy as np

    def g(x, b):
        s = 0.0
        for k in range(3):
            s = s + np.sum(np.tanh(x[:, None] + b))
            x = x * 0.5
        return s
''')


def test_a_new_function_finds_the_helpers_compiled(tmp_path):
    """The runtime helpers are compiled once: a process whose generated code is new loads them."""
    (tmp_path / "kernel.py").write_text(HELPERS_KERNEL)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    counts = []
    for folder in ("first", "second"):  # two adjoint caches: the second process generates and compiles again
        env["ADJOINT_CACHE_DIR"] = str(tmp_path / folder)
        counts.append(int(subprocess.run([sys.executable, "-c", HELPERS_PROGRAM, str(tmp_path)], env=env,
                                         capture_output=True, text=True, check=True).stdout.split()[-1]))
    assert counts[0] >= 2 and counts[1] == 0, counts


def test_jit_none_names_the_path_it_chose():
    def loop(x):
        s = 0.0
        for i in range(x.shape[0]):
            s = s + x[i] * x[i]
        return s

    def vectorised(x):
        return np.sum(np.sin(x) * x)

    x = np.linspace(0.0, 1.0, 1000)
    for fn, expected in ((loop, "numba (the code has loops"), (vectorised, "faster:")):
        f = adjoint.differentiate(fn)
        deadline = time.monotonic() + 120  # loop code: Numba compiles on another thread meanwhile
        for k in itertools.count():
            f.grad(x)
            if k >= 2 and (expected in f.jit_status or time.monotonic() > deadline):
                break
            time.sleep(0.01)
        assert expected in f.jit_status, f.jit_status
        assert f.jit_status.split()[0] in ("numba", "python")


def test_jit_none_compiles_heavy_straight_line_code_on_a_thread_and_keeps_the_faster():
    """Matrices: no elementwise run is made a loop (optimize/elementwise.py takes vectors), and Numba
    may only do NumPy's work again, or may do it faster (its loops for a sum over an axis): the
    first call runs as Python once, while Numba compiles on a thread; once it is done, both paths
    are timed and the faster kept."""
    def vectorised(x):
        return np.sum(np.sin(x) * np.exp(-x))

    f = adjoint.differentiate(vectorised)
    x = np.linspace(0.0, 1.0, 1_000_000).reshape(1000, 1000)  # milliseconds a call, far above the bound
    expected = (np.cos(x) - np.sin(x)) * np.exp(-x)
    np.testing.assert_allclose(f.grad(x), expected, rtol=1e-12, atol=1e-14)
    assert f.jit_status == "python (numba is compiling it on another thread)", f.jit_status
    from adjoint.arguments import bind
    from adjoint.backend.dispatch import derivative

    d = derivative(vectorised, ("x",), None, True, bind(vectorised, ("x",), (x,), {})[1])
    for job in list(d._jobs.values()):
        job.done.wait(120)
    for _ in range(3):
        np.testing.assert_allclose(f.grad(x), expected, rtol=1e-12, atol=1e-14)
    assert "(faster: numba " in f.jit_status, f.jit_status  # (which one: the timing decides)


def test_replaced_defaults_are_seen():
    """The signature that binds each call is kept per function, and made again when its defaults change."""
    def scaled(x, scale=2.0):
        return x * scale

    g = adjoint.grad(scaled, jit=False)
    assert g(1.0) == 2.0
    scaled.__defaults__ = (3.0,)
    assert g(1.0) == 3.0


def test_binding_by_position_and_by_keyword_agree():
    """A call that gives every argument by position is bound without inspect: the same values and kinds."""
    from adjoint.arguments import bind

    def f(x, n, scale=2.0):
        return np.sum(x) * scale * n

    x = np.ones(3)
    by_position = bind(f, ("x", "scale"), (x, 3, 2.0), {})
    for args, kwargs in (((x, 3), {}), ((x,), {"n": 3, "scale": 2.0}), ((), {"x": x, "n": 3})):
        values, kinds = bind(f, ("x", "scale"), args, kwargs)
        assert kinds == by_position[1] == (("x", 1), ("n", 0), ("scale", 0))
        assert values[1:] == by_position[0][1:] and values[0] is x
    with pytest.raises(adjoint.ArgumentError, match="only float"):
        bind(f, ("x", "n"), (x, 3, 2.0), {})


def test_a_decorated_function_is_its_wrapper_not_the_function_it_wraps():
    import functools

    def f(x, y):
        return x * x * y

    @functools.wraps(f)
    def wrapped(a, b):
        return 3.0 * f(a, b)  # what the caller gets, and so what is differentiated

    assert adjoint.grad(wrapped, wrt=0, jit=False)(3.0, 2.0) == 36.0
    assert adjoint.grad(wrapped, wrt="b", jit=False)(3.0, 2.0) == 27.0  # bound by its own parameters
    with pytest.raises(adjoint.errors.ArgumentError, match="no parameter `y`"):
        adjoint.grad(wrapped, wrt="y")

    @functools.wraps(f)
    def passes_on(*args, **kwargs):
        return f(*args, **kwargs)

    assert adjoint.grad(passes_on, wrt=("args", "kwargs"), jit=False)(3.0, 2.0) == ((12.0, 9.0), {})


def test_jit_status_names_the_path_of_the_last_call():
    @adjoint.differentiate
    def f(x):
        return np.sum(np.sin(x) * np.exp(-x))

    big = np.linspace(0.0, 1.0, 1_000_000).reshape(1000, 1000)  # (matrices: no elementwise loop)
    f.grad(big)
    assert f.jit_status == "python (numba is compiling it on another thread)", f.jit_status
    f.grad(np.ones((2, 2, 2)))  # another kind: its own derivative, light, compiled
    assert f.jit_status.startswith("numba"), f.jit_status
    from adjoint.arguments import bind
    from adjoint.backend.dispatch import derivative

    for job in list(derivative(f.fn, ("x",), None, True, bind(f.fn, ("x",), (big,), {})[1])._jobs.values()):
        job.done.wait(120)
    f.grad(big)  # (compiled, timed at the next call)
    f.grad(big)
    assert "(faster: numba " in f.jit_status, f.jit_status


def _module(path, name, text):
    """Import a module written to `path` (inspect reads the functions' source from it)."""
    import importlib.util

    path.write_text(textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CALLER = '''
    import numpy as np
    from {callee} import step

    def f(x):
        for i in range(3):
            x = step(x)
        return np.sum(x)
'''


def test_a_kept_text_is_reused_without_the_stages_and_a_changed_callee_is_not(tmp_path, monkeypatch):
    from adjoint import explain, pipeline

    monkeypatch.setenv("ADJOINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(tmp_path))
    _module(tmp_path / "callee_a.py", "callee_a", "def step(x):\n    return x * x\n")
    _module(tmp_path / "callee_b.py", "callee_b", "def step(x):\n    return x * 3.0\n")
    f_a = _module(tmp_path / "caller_a.py", "caller_a", CALLER.format(callee="callee_a")).f
    f_b = _module(tmp_path / "caller_b.py", "caller_b", CALLER.format(callee="callee_b")).f
    first = pipeline.compile_derivative(f_a, ("x",), kinds=(("x", 1),))
    assert first.stages is not None

    def no_stages(*args):
        raise AssertionError("the stages after normalize ran again")

    monkeypatch.setattr(pipeline, "transform", no_stages)
    again = pipeline.compile_derivative(f_a, ("x",), kinds=(("x", 1),))
    assert (again.text, again.path, again.entry, again.has_loops) == \
        (first.text, first.path, first.entry, first.has_loops)
    assert again.stages is None
    with pytest.raises(AssertionError, match="ran again"):  # another callee, or other kinds: not reused
        pipeline.compile_derivative(f_b, ("x",), kinds=(("x", 1),))
    with pytest.raises(AssertionError, match="ran again"):
        pipeline.compile_derivative(f_a, ("x",), kinds=(("x", 0),))
    monkeypatch.undo()
    monkeypatch.setenv("ADJOINT_CACHE_DIR", str(tmp_path / "cache"))
    # the tape report reads the stages' own results: a reused text runs them when asked
    assert explain.tape_report(again) == explain.tape_report(first)
    x = np.array([0.5, -1.2, 2.0])
    module = adjoint.backend.emit.load(again.module, again.path, again.text, again.externals)
    out, g = getattr(module, again.entry)(x, 1.0)
    assert np.allclose(g, 8 * x ** 7)


RULE = '''
import adjoint

@adjoint.custom_vjp
def sq(x):
    return x * x

def sq_fwd(x):
    return x * x, x

def sq_bwd(r, g):
    return (g * {factor} * r,)

sq.defvjp(sq_fwd, sq_bwd)
'''

USES_RULE = '''
import numpy as np
from rule import sq

def f(x):
    s = 0.0
    for i in range(2):
        s = s + np.sum(sq(x))
    return s
'''

RUN_USES_RULE = textwrap.dedent('''
    import sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import adjoint
    import uses_rule

    print(adjoint.grad(uses_rule.f, jit=True)(np.array([1.0, 2.0])).tolist())
''')


def test_a_changed_backward_rule_gets_a_new_text_in_the_next_process(tmp_path):
    env = dict(os.environ, ADJOINT_CACHE_DIR=str(tmp_path / "cache"))
    grads = []
    (tmp_path / "uses_rule.py").write_text(USES_RULE)
    for factor in ("2.0", "3.0", "2.0"):
        (tmp_path / "rule.py").write_text(RULE.format(factor=factor))
        done = subprocess.run([sys.executable, "-c", RUN_USES_RULE, str(tmp_path)], env=env, capture_output=True,
                              text=True, check=True)
        grads.append(done.stdout.strip())
    assert grads == ["[4.0, 8.0]", "[6.0, 12.0]", "[4.0, 8.0]"], grads
    assert len(list((tmp_path / "cache").glob("text_*.json"))) == 2  # the third process reused the first's text


@pytest.mark.parametrize("jit", [False, True, None])
def test_a_module_level_name_given_another_value_gives_a_new_derivative(monkeypatch, jit):
    import rebound_programs as R

    x = np.array([0.5, -1.5])
    np.testing.assert_allclose(adjoint.grad(R.uses_constant, jit=jit)(x), 6.0 * x)
    monkeypatch.setattr(R, "SCALE", 10.0)  # a constant
    np.testing.assert_allclose(adjoint.grad(R.uses_constant, jit=jit)(x), 20.0 * x)
    np.testing.assert_allclose(adjoint.grad(R.uses_helper, jit=jit)(x), 4.0 * x)
    monkeypatch.setattr(R, "scaled", R.other_scaled)  # a helper function
    np.testing.assert_allclose(adjoint.grad(R.uses_helper, jit=jit)(x), 14.0 * x)
    monkeypatch.setattr(R, "W", np.array([5.0, 5.0]))  # an array, rebound (writing into it: README, limitations)
    np.testing.assert_allclose(adjoint.grad(R.weighted_loop, jit=jit)(x), 10.0 * x)


def test_a_default_is_the_value_the_def_gave_it_and_follows_an_assignment(monkeypatch):
    import rebound_programs as R

    x = np.array([0.5, -1.5])
    monkeypatch.setattr(R, "SCALE", 10.0)  # after the def: the default stays 3.0, as Python has it
    np.testing.assert_allclose(adjoint.grad(R.uses_default_from_constant, jit=False)(x), 6.0 * x)
    monkeypatch.setattr(R.scaled, "__defaults__", (5.0,))
    np.testing.assert_allclose(adjoint.grad(R.uses_helper, jit=False)(x), 10.0 * x)


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_module_level_array_written_into_is_read_as_it_is_now(jit, mode):
    import rebound_programs as R

    x = np.array([0.5, -1.5])
    seen = []
    try:
        for w in (1.0, 4.0):
            R.W[:] = w  # the same array, new values: Numba must not have compiled the old ones in
            if mode == "reverse":
                seen.append(adjoint.grad(R.weighted_loop, jit=jit)(x))
            else:
                seen.append(adjoint.jacobian(R.weighted_loop, jit=jit)(x))
    finally:
        R.W[:] = [1.0, 2.0]
    np.testing.assert_allclose(seen, [2.0 * x, 8.0 * x])
    assert "def weighted_loop_vjp(x, out_bar, W):" in adjoint.source(R.weighted_loop)


def test_a_name_that_gives_an_equal_number_each_time_keeps_its_derivative():
    import rebound_programs as R

    from adjoint.arguments import bind
    from adjoint.backend.dispatch import derivative

    x = np.array([0.5, -1.5])
    np.testing.assert_allclose(adjoint.grad(R.uses_property, jit=False)(x), 6.0 * x)
    _, kinds = bind(R.uses_property, ("x",), (x,), {})
    assert derivative(R.uses_property, ("x",), False, True, kinds) is \
        derivative(R.uses_property, ("x",), False, True, kinds)
