"""What the generated code tells a reader: tracebacks that lead back to the user's lines."""

import traceback

import numpy as np
import pytest

import adjoint
from adjoint.api import bind, derivative

import explain_programs as P


def user_line(fn, text):
    """The file line number of the line of fn's source that starts with `text`."""
    import inspect

    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, line in enumerate(lines) if line.strip().startswith(text))


def heading_over(path, lineno):
    """The nearest `# adjoint of:` comment at or above line `lineno` of a generated file."""
    with open(path) as f:
        lines = f.read().splitlines()
    return next(line.strip() for line in reversed(lines[:lineno]) if line.strip().startswith("# adjoint of:"))


@pytest.mark.parametrize("fn, args, error, at", [
    (P.pick, (np.ones(3), 7), IndexError, "return y[i] * y[0]"),
    (P.capped_sum, (np.array([1.0, 5.0]), 2.0), ValueError, "raise ValueError"),
], ids=["failing-index", "raise"])
def test_a_traceback_from_generated_code_leads_to_the_users_line(fn, args, error, at):
    values, kinds = bind(fn, ("x",), args, {})
    d = derivative(fn, ("x",), False, True, kinds)
    with pytest.raises(error) as e:
        d(values, 1.0)
    frames = [f for f in traceback.extract_tb(e.value.__traceback__) if f.filename == d.generated.path]
    assert frames, "the traceback does not pass through the generated module's file"
    heading = heading_over(frames[-1].filename, frames[-1].lineno)
    assert heading.startswith(f"# adjoint of: {at}")
    assert heading.endswith(f"(explain_programs.py:{user_line(fn, at)})")
