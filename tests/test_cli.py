"""The command line: dump (generic and specialised), check, and errors as messages with exit status 2."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(HERE, "examples", "read_generated_code.py")


def run(*args):
    return subprocess.run([sys.executable, "-m", "adjoint", *args], capture_output=True, text=True, cwd=HERE)


def test_dump_is_plain_when_piped_and_the_same_every_time():
    first, second = run("dump", f"{EXAMPLE}:running_product"), run("dump", f"{EXAMPLE}:running_product")
    assert first.returncode == 0 and first.stdout == second.stdout
    assert "def running_product_vjp(x, out_bar):" in first.stdout and "\x1b[" not in first.stdout


def test_dump_with_args_shows_the_code_grad_runs():
    done = run("dump", f"{EXAMPLE}:running_product", "--args", "np.ones(4)")
    assert done.returncode == 0
    assert "p_tape = np.zeros(16)" in done.stdout  # a float tape: x is known to be a vector of floats
    assert "unbroadcast" not in done.stdout


def test_check_prints_the_table_and_exits_0_when_it_agrees():
    done = run("check", f"{EXAMPLE}:running_product", "--args", "np.array([0.5, 2.0, -1.5])")
    assert done.returncode == 0 and "agree" in done.stdout


def test_errors_are_messages():
    done = run("dump", "no/such/file.py:f")
    assert done.returncode == 2 and "no such file" in done.stderr and "Traceback" not in done.stderr
