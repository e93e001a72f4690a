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


class JitError(AdjointError):
    """Numba refused the generated code; the message names the generated line."""
