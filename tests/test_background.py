"""jit=None on code with loops: Numba compiles on another thread while the calls run as Python
(adjoint/backend/background.py)."""

import threading
import time
import warnings

import numpy as np

import adjoint
from adjoint.backend.background import Compilation


def spin(started, stop):
    """Python code that runs until stopped from outside (or `stop` is set, so a failing test ends)."""
    started.set()
    n = 0
    while not stop.is_set():
        n += 1
    return "python"


def test_the_call_goes_on_compiled_when_the_compile_ends_first():
    started, stop = threading.Event(), threading.Event()
    job = Compilation(lambda: started.wait(60), __file__, "a test compile")
    try:
        assert job.race(lambda: spin(started, stop), lambda: "compiled") == "compiled"
    finally:
        stop.set()
    assert job.done.is_set() and job.error is None
    assert job.race(lambda: "python", lambda: "compiled") == "compiled"  # compiled from now on


def test_a_python_call_that_ends_first_keeps_its_result_and_no_switch_comes_later():
    release = threading.Event()
    job = Compilation(lambda: release.wait(60), __file__, "a test compile")
    assert job.race(lambda: "python", lambda: "compiled") == "python"
    release.set()
    job.done.wait(60)
    total = 0
    for k in range(200_000):  # bytecode after the compile ended: a stray switch would fire here
        total += k
    assert total == sum(range(200_000))


def test_a_failed_compile_leaves_python_running():
    def fail():
        raise ValueError("no")

    job = Compilation(fail, __file__, "a test compile")
    job.done.wait(60)
    assert isinstance(job.error, ValueError)
    assert job.race(lambda: "python", lambda: "compiled") == "python"


def loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sin(x[i]) * x[i]
    return s


def wait_for(f, prefix, x, expected):
    """Call f.grad until its status starts with prefix (each result checked)."""
    deadline = time.monotonic() + 120
    while True:
        np.testing.assert_allclose(f.grad(x), expected, rtol=1e-12)
        if f.jit_status.startswith(prefix) or time.monotonic() > deadline:
            return f.jit_status
        time.sleep(0.02)


def test_calls_run_as_python_until_numba_is_ready_then_compiled():
    f = adjoint.differentiate(loop)
    x = np.linspace(0.1, 1.0, 50)
    expected = np.sin(x) + x * np.cos(x)
    np.testing.assert_allclose(f.grad(x), expected, rtol=1e-12)
    assert f.jit_status.startswith(("python (numba is compiling", "numba")), f.jit_status
    status = wait_for(f, "numba", x, expected)
    assert status == "numba (the code has loops; compiled while the first calls ran as Python)", status
    f.grad(x)
    assert f.jit_status.startswith("numba"), f.jit_status


def mean_rows(W, n):
    s = 0.0
    for t in range(n):
        s = s + np.sum(np.squeeze(W[:, None] * s + W[:, None]) ** 2)  # Numba has no np.squeeze
    return s


def test_a_background_compile_that_fails_warns_and_stays_python():
    f = adjoint.differentiate(mean_rows)
    W = np.arange(6.0).reshape(2, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        deadline = time.monotonic() + 120
        expected = adjoint.grad(mean_rows, jit=False)(W, 3)
        while not f.jit_status.startswith("python (numba could not") and time.monotonic() < deadline:
            np.testing.assert_allclose(f.grad(W, 3), expected, rtol=1e-12)
            time.sleep(0.02)
        status = f.jit_status
    assert status == "python (numba could not compile it)", status
    assert any("running the derivative of mean_rows as Python" in str(w.message) for w in caught)
    np.testing.assert_allclose(f.grad(W, 3), expected, rtol=1e-12)


def loop_sin_cos(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sin(x[i]) * x[i] * np.cos(x[i])
    return s


def test_threads_calling_one_derivative_while_it_compiles():
    g = adjoint.grad(loop_sin_cos)  # jit=None
    x = np.linspace(0.1, 1.0, 3000)  # a few ms a call as Python: calls are running when the compile ends
    errors, results = [], []

    def work():
        for _ in range(200):
            try:
                results.append(g(x))
            except BaseException as e:  # noqa: BLE001 -- reported below
                errors.append(e)
            total = 0
            for k in range(2000):  # the caller's own code between calls: a stray switch would land here
                total += k

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == 600
    for r in results:
        np.testing.assert_allclose(r, np.cos(x) * np.sin(x) + x * np.cos(2 * x), rtol=1e-12, atol=1e-15)


def library_work(stop):
    """Stands for library code the generated code calls (a NumPy wrapper, an import): not to be cut."""
    n = 0
    while not stop.is_set():
        n += 1
    return n


def test_the_switch_waits_until_the_thread_is_back_in_the_generated_code():
    started, stop = threading.Event(), threading.Event()
    job = Compilation(lambda: started.wait(60), __file__ + ".generated", "a test compile")  # no frame of this file qualifies

    def python():
        started.set()
        library_work(stop)  # ended from outside, below: no switch may cut it short
        return "python"

    timer = threading.Timer(0.3, stop.set)
    timer.start()
    try:
        assert job.race(python, lambda: "compiled") == "python"
    finally:
        stop.set()
        timer.cancel()


PROCESS = """
import sys, time
import numpy as np
import adjoint

def loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sin(x[i]) * x[i]
    return s

f = adjoint.differentiate(loop)
x = np.linspace(0.1, 1.0, 50)
np.testing.assert_allclose(f.grad(x), np.sin(x) + x * np.cos(x), rtol=1e-12)
print(f.jit_status)
deadline = time.monotonic() + 120
while sys.argv[1] == "wait" and not f.jit_status.startswith("numba") and time.monotonic() < deadline:
    f.grad(x)
    time.sleep(0.01)
"""


def test_a_later_process_runs_python_while_numba_loads_only_when_python_was_quick(tmp_path):
    import glob
    import os
    import subprocess
    import sys

    env = dict(os.environ, ADJOINT_CACHE_DIR=str(tmp_path / "cache"))
    script = tmp_path / "process.py"
    script.write_text(PROCESS)

    def first_status(how):
        done = subprocess.run([sys.executable, str(script), how], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()[0]

    assert first_status("wait") == "python (numba is compiling it on another thread)"
    marks = glob.glob(str(tmp_path / "cache" / "*.compiled"))
    assert len(marks) == 1
    with open(marks[0]) as f:
        assert 0 < float(f.read()) < 1  # the first Python call's seconds
    # Numba's cache holds the code, and Python was quick: it runs while Numba starts and loads
    assert first_status("once") == "python (numba is compiling it on another thread)"
    with open(marks[0], "w") as f:
        f.write("5.0\n")  # as if the first Python call had taken 5 s: Numba loads it, the call waits
    assert first_status("once") == "numba (first call, compiled)"


EXITS = """
import numpy as np
import adjoint
from adjoint import progress
from adjoint.backend import background

progress.DELAY = background.GRACE = 0.0  # (say so at once: this compile may take under a second)

def loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.tanh(x[i] * s) + x[i]
    return s

adjoint.grad(loop)(np.linspace(0.1, 1.0, 5))  # (jit=None: Python now, Numba on a thread; then the process ends)
"""


def test_a_process_that_ends_while_numba_compiles_says_what_it_finishes(tmp_path):
    """Not a silent wait at exit (issue 19): a line that names the compile, then its time; none with
    ADJOINT_QUIET=1. The compile finished: a later process finds its mark in the cache folder."""
    import glob
    import os
    import subprocess
    import sys

    script = tmp_path / "exits.py"
    script.write_text(EXITS)
    for quiet in ("0", "1"):
        env = dict(os.environ, ADJOINT_CACHE_DIR=str(tmp_path / f"cache{quiet}"), ADJOINT_QUIET=quiet)
        done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        lines = [line for line in done.stderr.splitlines() if line.startswith("adjoint:")]
        if quiet == "1":
            assert lines == []
        else:
            assert any(line.startswith("adjoint: finishing the Numba compile of the adjoint of loop (exits.py:9)")
                       for line in lines), done.stderr
            assert any(line.startswith("adjoint: compiling the adjoint of loop (exits.py:9) with Numba: done in")
                       for line in lines), done.stderr
        assert glob.glob(str(tmp_path / f"cache{quiet}" / "*.compiled"))


def test_progress_goes_to_the_adjoint_logger_where_the_program_configured_it(capsys, caplog, monkeypatch):
    import logging

    from adjoint import progress
    monkeypatch.delenv("ADJOINT_QUIET", raising=False)
    progress.say("plain")
    assert capsys.readouterr().err == "adjoint: plain\n"
    with caplog.at_level(logging.INFO, logger="adjoint"):
        progress.say("logged")
    assert capsys.readouterr().err == "" and [r.getMessage() for r in caplog.records] == ["logged"]
    with caplog.at_level(logging.WARNING, logger="adjoint"):
        progress.say("silenced")
    assert capsys.readouterr().err == "" and "silenced" not in caplog.text
