"""README's blocks that show what adjoint writes or prints are what it writes and prints now: each is
made again here and compared (a block "in part" line by line, its `[...]` lines standing for any)."""

import os
import re
import subprocess
import sys

import numpy as np

import adjoint

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(HERE, "examples")
sys.path.insert(0, EXAMPLES)
from logmap import logistic_sum  # noqa: E402
from quickstart import rosenbrock  # noqa: E402


def block(first):
    """The lines of README's code block whose first line starts with `first`."""
    with open(os.path.join(HERE, "README.md")) as f:
        found = re.findall(r"^```[a-z]*\n(.*?)^```", f.read(), re.M | re.S)
    matches = [b.splitlines() for b in found if b.startswith(first)]
    assert len(matches) == 1, f"README has {len(matches)} blocks starting with {first!r}"
    return matches[0]


def function(text, name):
    """The def of `name` in a generated module's text, as lines (up to the text's end or a blank line)."""
    lines = text.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith(f"def {name}("))
    end = next((k for k in range(start, len(lines)) if not lines[k].strip()), len(lines))
    return lines[start:end]


def test_the_adjoint_of_rosenbrock():
    assert block("def rosenbrock_vjp(") == function(adjoint.source(rosenbrock), "rosenbrock_vjp")


def test_the_gradient_of_rosenbrock_shown_in_a_comment():
    shown = next(line for line in block("import numpy as np") if "adjoint.grad(rosenbrock)(x)" in line)
    x = np.array([-1.2, 1.0, 0.5, 0.8])
    assert repr(np.round(adjoint.grad(rosenbrock)(x), 10)) in shown


def test_the_logistic_sum_and_its_adjoint():
    with open(os.path.join(EXAMPLES, "logmap.py")) as f:
        source = f.read().split("\n\n\n")[0].splitlines()
    assert block("def logistic_sum(r, x, n):") == source
    text = adjoint.source(logistic_sum, 3.7, 0.3, 100, wrt=(0, 1))
    assert block("def logistic_sum_vjp(") == function(text, "logistic_sum_vjp")


def test_the_tape_report_in_part():
    done = subprocess.run([sys.executable, "-m", "adjoint", "dump", "logmap.py:logistic_sum", "--wrt", "r,x", "--args",
                           "3.7, 0.3, 100", "--tape"], capture_output=True, text=True, cwd=EXAMPLES, check=True)
    report = done.stdout.splitlines()
    at = 0
    for line in block("Values on a tape"):
        if line.startswith("["):  # (README leaves lines out here)
            continue
        assert line in report[at:], f"README's tape report line {line!r} is not in what adjoint prints, in order"
        at = report.index(line, at) + 1
