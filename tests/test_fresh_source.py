"""The text adjoint differentiates is the text the running code came from.

A module edited and reloaded gets a new derivative; a file edited on disk without a reload is
refused (its text is not the code that runs); a function or an inlined helper whose `__code__` was
replaced (what IPython's %autoreload does) gets a derivative of its new code; the text cache never
hands back a module made from other code.
"""

import importlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import adjoint
from adjoint.backend import emit
from adjoint.frontend import source as frontend
from adjoint.ir.normal import NormalFunction

JITS = [False, True]


@pytest.fixture
def modules(tmp_path, monkeypatch):
    """write(name, text) writes tmp_path/name.py (a new size and mtime each time, so that neither
    linecache nor the import system takes it for the old file) and returns the module imported
    from it (or reloaded, when it was imported before)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    names, stamp = [], [1_000_000_000]

    def write(name, text, load=True):
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(text))
        stamp[0] += 10
        os.utime(path, (stamp[0], stamp[0]))
        if not load:
            return None
        importlib.invalidate_caches()
        if name in sys.modules:
            return importlib.reload(sys.modules[name])
        names.append(name)
        return importlib.import_module(name)

    yield write
    for name in names:
        sys.modules.pop(name, None)


@pytest.mark.parametrize("jit", JITS)
def test_a_module_edited_and_reloaded_gets_a_new_derivative(modules, jit):
    m = modules(f"edited_reloaded_{int(jit)}", """
        def f(x):
            return x * x
    """)
    assert adjoint.value_and_grad(m.f, jit=jit)(3.0) == (9.0, 6.0)
    m = modules(f"edited_reloaded_{int(jit)}", """
        def f(x):
            # now a line longer
            return x + 2.0
    """)
    assert m.f(3.0) == 5.0
    assert adjoint.value_and_grad(m.f, jit=jit)(3.0) == (5.0, 1.0)


def test_a_file_edited_without_a_reload_is_refused(modules):
    m = modules("edited_not_reloaded", """
        def f(x):
            return x * x
    """)
    modules("edited_not_reloaded", """
        def f(x):
            return x + 2.0  # edited, not reloaded
    """, load=False)
    with pytest.raises(adjoint.SourceError) as e:
        adjoint.value_and_grad(m.f, jit=False)(3.0)
    message = str(e.value)
    assert "edited_not_reloaded.py:2:" in message and "changed since the function was imported" in message
    assert "importlib.reload" in message
    assert e.value.lineno == 2
    with pytest.raises(adjoint.SourceError):  # the same for every way in
        adjoint.source(m.f)


def test_a_helper_of_a_file_edited_without_a_reload_is_refused(modules):
    m = modules("helper_not_reloaded", """
        def helper(x):
            return x * x

        def f(x):
            return helper(x) + 1.0
    """)
    modules("helper_not_reloaded", """
        def helper(x):
            return x * x * x

        def f(x):
            return helper(x) + 1.0
    """, load=False)
    with pytest.raises(adjoint.SourceError, match="text of helper in this file is not the code that runs"):
        adjoint.grad(m.f, jit=False)(3.0)


def test_a_function_moved_in_its_file_is_found_where_it_is_now(modules):
    m = modules("moved", """
        def f(x):
            return x * x
    """)
    modules("moved", """
        import math


        def g(y):
            return math.sin(y)


        def f(x):
            return x * x
    """, load=False)
    assert adjoint.value_and_grad(m.f, jit=False)(3.0) == (9.0, 6.0)


@pytest.mark.parametrize("jit", JITS)
def test_a_replaced_code_gets_a_new_derivative(modules, jit):
    m = modules(f"replaced_code_{int(jit)}", """
        def f(x):
            return x * x

        def g(x):
            return 3.0 * x + 1.0

        def h(y, z):
            return y * z * z
    """)
    vg = adjoint.value_and_grad(m.f, jit=jit)
    assert vg(3.0) == (9.0, 6.0)
    m.f.__code__ = m.g.__code__
    assert m.f(3.0) == 10.0
    assert vg(3.0) == (10.0, 3.0)  # the same wrapper follows the code
    assert adjoint.value_and_grad(m.f, jit=jit)(3.0) == (10.0, 3.0)
    m.f.__code__ = m.h.__code__  # other parameter names
    assert adjoint.value_and_grad(m.f, wrt=1, jit=jit)(3.0, 2.0) == (12.0, 12.0)
    assert adjoint.grad(m.f, wrt="z", jit=jit)(3.0, 2.0) == 12.0


@pytest.mark.parametrize("jit", JITS)
def test_a_replaced_helper_code_is_followed(modules, jit):
    m = modules(f"replaced_helper_{int(jit)}", """
        import numpy as np

        def helper(x):
            return x * x

        def other(x):
            return np.sin(x)

        def f(x):
            return np.sum(helper(x)) + 1.0
    """)
    x = np.array([0.5, 1.5])
    np.testing.assert_allclose(adjoint.grad(m.f, jit=jit)(x), 2 * x)
    m.helper.__code__ = m.other.__code__
    np.testing.assert_allclose(m.f(x), np.sum(np.sin(x)) + 1.0)
    np.testing.assert_allclose(adjoint.grad(m.f, jit=jit)(x), np.cos(x))


def test_code_taken_from_the_edited_file_as_autoreload_does(modules, tmp_path):
    m = modules("autoreloaded", """
        def f(x):
            return x * x
    """)
    old_f = m.f
    assert adjoint.grad(old_f, jit=False)(3.0) == 6.0
    modules("autoreloaded", """
        def f(x):
            return x * x * x  # edited
    """, load=False)
    # %autoreload executes the new text and gives the old function objects the new code
    new = {}
    path = str(tmp_path / "autoreloaded.py")
    exec(compile(open(path).read(), path, "exec"), new)
    old_f.__code__ = new["f"].__code__
    assert old_f(3.0) == 27.0
    assert adjoint.value_and_grad(old_f, jit=False)(3.0) == (27.0, 27.0)


def test_code_replaced_by_code_whose_file_changed_is_refused(modules):
    m = modules("donor", """
        def f(x):
            return x * x

        def g(x):
            return 4.0 * x
    """)
    modules("donor", """
        def f(x):
            return x * x

        def g(x):
            return 5.0 * x
    """, load=False)
    m.f.__code__ = m.g.__code__  # code whose text on disk is no longer its own: the running code wins
    with pytest.raises(adjoint.SourceError, match="not the code that runs"):
        adjoint.grad(m.f, jit=False)(3.0)


def test_the_text_cache_is_keyed_by_the_code_read():
    def one(x):
        return x * 2.0

    def two(x):
        return x * 3.0

    def helper(x):
        return x

    key = emit.text_key(NormalFunction("f", ("x",), [], "out", None, bindings={(helper, "h"): one}), {})
    other = emit.text_key(NormalFunction("f", ("x",), [], "out", None, bindings={(helper, "h"): two}), {})
    assert key != other
    again = emit.text_key(NormalFunction("f", ("x",), [], "out", None, bindings={(helper, "h"): one}), {})
    assert key == again


# --- what the check accepts: every way a function is written ----------------------------------------

KINDS = '''
from __future__ import annotations

import math
import numpy as np
from numpy import linalg


def deco(fn):
    return fn


@deco
@deco
def decorated(x):
    return np.sin(x) * 2.0 + math.cos(x)


def make(a):
    b = 2.0

    def inner(x):
        """A docstring
        that spans lines."""
        return a * x * b
    return inner


class C:
    __k = 3.0

    def method(x):
        """Doc.

        More.
        """
        return x * C._C__k

    @staticmethod
    def static(x: float) -> float:
        return x * C.__k

    lam = staticmethod(lambda x: x * 4.0)


square = lambda x: x * x  # noqa: E731
pair = (lambda x: x + 1.0, 2)


def zeros_and_tuples(x):
    if x == -0.0:
        return 0.0 * x
    return x * (1, 2.0)[1] + linalg.norm(np.ones(2))
'''


def test_every_way_of_writing_a_function_passes_the_check(modules):
    m = modules("kinds_of_functions", KINDS)
    cases = [(m.decorated, 2.0 * np.cos(0.5) - np.sin(0.5)), (m.make(1.5), 3.0), (m.C.method, 3.0),
             (m.C.static, 3.0), (m.C.lam, 4.0), (m.square, 1.0), (m.pair[0], 1.0), (m.zeros_and_tuples, 2.0)]
    for fn, want in cases:
        if fn is m.C.static:  # (the check mangles `C.__k` as the class did; normalizing does not yet)
            assert frontend.read(fn).name == "static"
            continue
        assert adjoint.grad(fn, jit=False)(0.5) == pytest.approx(want), fn.__qualname__


def _asserted(x):
    assert x > 0.0, "positive"  # pytest rewrites this assert: the check compiles the text as pytest does
    return x * x


def test_a_function_whose_asserts_pytest_rewrote():
    assert adjoint.grad(_asserted, jit=False)(3.0) == 6.0


def test_a_function_of_a_main_script(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent('''
        import adjoint

        def f(x):
            return x * x * x

        print(adjoint.grad(f, jit=False)(2.0))
    '''))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=dict(os.environ, ADJOINT_CACHE_DIR=str(tmp_path / "cache")))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "12.0"


def test_the_check_is_cheap():
    """The check compiles a function's text once per code object: a second read does not compile."""
    def f(x):
        return np.sum(np.sin(x) * x)

    frontend.read(f)
    calls = []
    real = frontend._compile_alone
    try:
        frontend._compile_alone = lambda *a: calls.append(a) or real(*a)
        frontend.read(f)
    finally:
        frontend._compile_alone = real
    assert calls == []
