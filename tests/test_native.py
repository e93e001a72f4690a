"""Native modules (adjoint/backend/native.py): generated code built ahead of time by numba.pycc, which later
processes load without starting Numba, used only for the argument kinds it was built for."""

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from adjoint import arguments
from adjoint.backend import dispatch, native

KERNEL = textwrap.dedent('''
    import numpy as np

    W = np.linspace(0.5, 1.5, 7)

    def f(x, n):
        s = 0.0
        for i in range(n):
            for j in range(x.shape[0]):
                s = s + np.sin(x[j] * W[j]) * x[j] / (1.0 + i)
        return s
''')


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    (tmp_path / "native_kernel.py").write_text(KERNEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ADJOINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ADJOINT_NATIVE", "1")
    import native_kernel
    yield native_kernel
    del sys.modules["native_kernel"]
    for build in native._BUILDS:  # (a build a call started in the background ends with the test)
        build.wait()


def made(fn, x, n):
    """A new Derivative of fn for x (not the one api.derivative keeps), and the arguments' kind key."""
    values, kinds = arguments.bind(fn, ("x",), (x, n), {})
    d = dispatch.Derivative(fn, ("x",), True, True, kinds)
    return d, values, d.kinds(values, (1.0,))


def test_a_native_module_gives_what_numba_gave_to_the_bit_and_only_for_its_kinds(kernel, monkeypatch):
    x = np.linspace(-1.0, 1.0, 7)
    d, values, key = made(kernel.f, x, 3)
    monkeypatch.setenv("ADJOINT_NATIVE", "0")  # (no build in the background yet: this test waits for its own)
    expected = d(values, 1.0)
    assert d.jit_status == "numba"
    monkeypatch.setenv("ADJOINT_NATIVE", "1")
    build = d.build_native(key, values, (1.0,), wait=True)
    assert build.returncode == 0
    name = d.native_name(key)
    assert not os.path.exists(os.path.join(os.environ["ADJOINT_CACHE_DIR"], name + ".failed"))

    again, values, key = made(kernel.f, x, 3)  # (a new process would make a new Derivative)
    got = again(values, 1.0)
    assert again.jit_status == "numba (a native module built ahead of time)"
    assert again._dispatcher is None  # Numba was never asked
    assert float(got[0]).hex() == float(expected[0]).hex() and np.array_equal(got[1], expected[1])

    strided = np.repeat(x, 2)[::2]  # the same values in an array of another layout: run as a C-contiguous copy
    other, values, other_key = made(kernel.f, strided, 3)
    got = other(values, 1.0)
    assert other.jit_status == "numba (a native module built ahead of time)" and other.native_name(other_key) == name
    assert float(got[0]).hex() == float(expected[0]).hex() and np.array_equal(got[1], expected[1])

    for n in (3.0, np.int32(3)):  # built for a Python int n
        other, values, other_key = made(kernel.f, x, n)
        got = other(values, 1.0)
        assert other.jit_status == "numba" and other.native_name(other_key) != name
        assert float(got[0]).hex() == float(expected[0]).hex()

    kernel.W = np.repeat(kernel.W, 2)[::2]  # a module-level array of another layout
    rebound, values, key = made(kernel.f, x, 3)
    assert rebound.native_name(key) != name


@pytest.mark.parametrize("jit", [True, None])
def test_a_later_process_loads_the_native_module_without_starting_numba(kernel, tmp_path, jit):
    program = textwrap.dedent('''
        import sys, numpy as np
        sys.path.insert(0, sys.argv[1])
        import adjoint, native_kernel
        f = adjoint.differentiate(native_kernel.f, jit={"True": True, "None": None}[sys.argv[2]])
        value, g = f.value_and_grad(np.linspace(-1.0, 1.0, 7), 3)
        print(value.hex(), g.tobytes().hex(), "numba" in sys.modules, f.jit_status)
    ''')
    run = lambda: subprocess.run([sys.executable, "-c", program, str(tmp_path), str(jit)],  # noqa: E731
                                 env=os.environ.copy(), capture_output=True, text=True, check=True).stdout.split(maxsplit=3)
    value, grad, _, status = run()  # (jit=None: Python, while Numba compiles on a thread; the build starts after)
    assert status.startswith("numba" if jit else "python (numba is compiling"), status
    deadline = time.monotonic() + 240
    while native.building(os.environ["ADJOINT_CACHE_DIR"]) and time.monotonic() < deadline:  # the build the first
        time.sleep(0.2)  # process started
    built = [f for f in os.listdir(os.environ["ADJOINT_CACHE_DIR"]) if f.startswith("native_")]
    assert len(built) == 1 and not built[0].endswith(".failed"), built
    value_2, grad_2, numba_started, status = run()
    assert (numba_started, status) == ("False", "numba (a native module built ahead of time)\n")
    assert np.allclose(float.fromhex(value_2), float.fromhex(value), rtol=1e-14, atol=0)
    assert np.allclose(np.frombuffer(bytes.fromhex(grad_2)), np.frombuffer(bytes.fromhex(grad)), rtol=1e-14, atol=0)
    if jit:  # the same compiler's code
        assert (value_2, grad_2) == (value, grad)


def test_a_build_that_failed_is_not_tried_again(tmp_path, monkeypatch):
    monkeypatch.setenv("ADJOINT_CACHE_DIR", str(tmp_path))
    args = ("native_nothing_0", "adjoint_nothing", str(tmp_path / "missing.py"), "f", ())
    assert native.request(*args, wait=True).returncode == 0
    assert "missing.py" in (tmp_path / "native_nothing_0.failed").read_text()
    assert not native.building(str(tmp_path))
    assert native.request(*args) is None


def test_one_build_at_a_time_in_a_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ADJOINT_CACHE_DIR", str(tmp_path))
    args = ("native_nothing_0", "adjoint_nothing", str(tmp_path / "missing.py"), "f", ())
    held = native._lock(str(tmp_path))  # another build holds the folder
    try:
        assert native.building(str(tmp_path)) and native.request(*args) is None
    finally:
        os.close(held)  # ... and ended, or was killed: its lock goes with it
    assert native.request(*args, wait=True).returncode == 0
    assert (tmp_path / "native_nothing_0.failed").exists()


def test_nothing_is_built_or_loaded_when_turned_off(kernel, monkeypatch):
    monkeypatch.setenv("ADJOINT_NATIVE", "0")
    d, values, key = made(kernel.f, np.linspace(-1.0, 1.0, 7), 3)
    assert d.native_name(key) is None and d.build_native(key, values, (1.0,)) is None


def test_no_native_module_for_what_numba_types_by_value_or_refuses(kernel):
    d, values, key = made(kernel.f, np.ones(7), 2**63)  # Numba types an int this big as uint64
    assert d.native_name(key) is None
    d, values, key = made(kernel.f, np.ones(7), 3)
    assert d.native_name(key) is not None
    # an ndarray subclass (which api.bind refuses before any Derivative is asked)
    assert d.native_name(d.kinds([np.ma.masked_array(np.ones(7)), 3], (1.0,))) is None
    os.environ["NUMBA_DISABLE_JIT"] = "1"
    try:
        assert d.native_name(key) is None
    finally:
        del os.environ["NUMBA_DISABLE_JIT"]


def test_a_module_that_does_not_load_is_removed_built_again_once_and_then_not(tmp_path, monkeypatch):
    monkeypatch.setenv("ADJOINT_CACHE_DIR", str(tmp_path))
    broken = native._path(str(tmp_path), "native_broken_0")
    args = ("native_broken_0", "adjoint_broken", str(tmp_path / "missing.py"), "f", ())
    for _ in range(2):
        with open(broken, "wb") as f:
            f.write(b"not a shared library")
        os.chmod(broken, 0o600)
        assert native.load("native_broken_0", "f") is None
        assert not os.path.exists(broken) and "did not load" in (tmp_path / "native_broken_0.damaged").read_text()
        if not (tmp_path / "native_broken_0.failed").exists():
            assert native._wanted(str(tmp_path), "native_broken_0")  # (built again, once)
    assert "twice" in (tmp_path / "native_broken_0.failed").read_text()
    assert native.request(*args) is None


def test_no_build_is_started_for_a_while_where_none_can_work(tmp_path, monkeypatch):
    monkeypatch.setenv("ADJOINT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    args = ("native_nothing_0", "adjoint_nothing", str(tmp_path / "missing.py"), "f", ())
    assert native.request(*args, wait=True).returncode == 0
    assert (tmp_path / "native.unavailable").exists() and not (tmp_path / "native_nothing_0.failed").exists()
    assert native.request("native_other_0", *args[1:]) is None


def test_code_that_binds_a_custom_rule_gets_no_native_module(tmp_path, monkeypatch):
    import adjoint

    monkeypatch.setenv("ADJOINT_NATIVE", "1")

    @adjoint.custom_vjp
    def cube(x):
        return x * x * x

    cube.defvjp(lambda x: (x * x * x, x), lambda x, g: (3.0 * x * x * g,))  # (fwd: out, residual; bwd)

    def f(x, n):
        s = 0.0
        for i in range(n):
            s = s + cube(x[i])
        return s

    d, values, key = made(f, np.ones(3), 3)
    assert d.generated.externals and d.native_name(key) is None
