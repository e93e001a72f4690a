"""The errors adjoint raises on purpose: one base class and a few kinds under it."""

from dataclasses import dataclass


class AdjointError(Exception):
    """Base class of every error adjoint raises on purpose."""


@dataclass(frozen=True)
class Location:
    """Where a construct sits in the user's file: 1-based line, 0-based column, and the line's text."""

    filename: str
    lineno: int
    col: int
    text: str

    def render(self):
        caret = " " * (len(self.text) - len(self.text.lstrip())) if self.col < 0 else " " * self.col
        return f"    {self.text.rstrip()}\n    {caret}^"


class SourceError(AdjointError):
    """A construct of the user's function that adjoint cannot differentiate.

    The message names file:line:col, shows the line with a caret and says what to do, as
    Python's SyntaxError does.
    """

    def __init__(self, what, loc, hint="", stage=""):
        self.what, self.loc, self.hint, self.stage = what, loc, hint, stage
        self.filename, self.lineno, self.col = loc.filename, loc.lineno, loc.col
        text = f"{loc.filename}:{loc.lineno}:{max(loc.col, 0) + 1}: {what}\n{loc.render()}"
        if hint:
            text += f"\nhint: {hint}"
        if stage:
            text += f"\nDuring: {stage}"
        super().__init__(text)


class ArgumentError(AdjointError):
    """A call that cannot be differentiated as asked: a wrong wrt, an integer input, a non-scalar output."""


class MemoryBudgetError(AdjointError):
    """A loop whose gradient no checkpointing schedule fits in the memory budget (`memory=`); raised by
    runtime.schedule in the generated code, before the loop runs past its first two iterations."""

    def __init__(self, where, n, step_bytes, snapshot_bytes, in_use, budget, need):
        self.where, self.n, self.need, self.budget = where, n, need, budget
        super().__init__(
            f"{where}: the gradient of this loop's {n} iterations does not fit in the memory budget of "
            f"{size(budget)}, even checkpointed: it needs at least {size(need + in_use)} (a step keeps "
            f"{size(step_bytes)} of tape, a snapshot of what the loop carries from one iteration to the next "
            f"is {size(snapshot_bytes)}, and {size(in_use)} of tape is in use before the loop)\n"
            "hint: raise memory= (or ADJOINT_MEMORY), or carry less from one iteration to the next")


def size(n):
    """n bytes as people read them: '512 bytes', '1.5 KB', '64 MB', '2.3 GB' (powers of 1024)."""
    for unit, scale in (("GB", 2 ** 30), ("MB", 2 ** 20), ("KB", 2 ** 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


class JitError(AdjointError):
    """Numba refused the generated code; the message names the generated line."""
