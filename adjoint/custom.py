"""custom_vjp: a hand-written backward rule for a function, entered into the rule table.

    @adjoint.custom_vjp
    def mul(a, b):
        return a * b

    def mul_fwd(a, b):
        return a * b, (a, b)          # the output and the residuals the backward rule needs

    def mul_bwd(res, g):
        a, b = res
        return g * b, g * a           # one gradient per input, as a tuple

    mul.defvjp(mul_fwd, mul_bwd)

Generated code calls `mul_fwd` in the forward sweep and `mul_bwd` in the reverse sweep, so under
`jit=True` all three must compile with Numba (they are compiled with `numba.njit` when loaded).
"""

import functools
import inspect

from .errors import AdjointError
from .rules import Rule
from .rules.table import TABLE


class CustomVJP:
    def __init__(self, fn):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.fwd = self.bwd = None

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def defvjp(self, fwd, bwd):
        """Register the forward (output, residuals) and backward (residuals, g) -> gradients rules."""
        params = tuple(inspect.signature(self.fn).parameters)
        if len(inspect.signature(fwd).parameters) != len(params):
            raise AdjointError(f"custom_vjp {self.fn.__name__}: fwd must take the same parameters {params}")
        if len(inspect.signature(bwd).parameters) != 2:
            raise AdjointError(f"custom_vjp {self.fn.__name__}: bwd must take (residuals, g)")
        self.fwd, self.bwd = fwd, bwd
        old = TABLE.lookup(self)
        spelling = old.spelling if old else _free_spelling(self.fn.__name__)
        TABLE.add(Rule(self, spelling, params, {}, (), custom=(fwd, bwd)))
        return self

    def externals(self, spelling):
        """The objects that generated code calling this rule binds by name."""
        return {spelling: self.fn, f"{spelling}_fwd": self.fwd, f"{spelling}_bwd": self.bwd}


def _free_spelling(base):
    name, n = base, 0
    while name in TABLE.by_spelling:
        n += 1
        name = f"{base}_{n}"
    return name


def custom_vjp(fn):
    """Decorate a function whose backward rule you will give with `.defvjp(fwd, bwd)`."""
    return CustomVJP(fn)
