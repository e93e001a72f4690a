"""A plain Python/NumPy function as an operator of another framework (adjoint.torch, and the others
that follow it): its forward is adjoint's compiled primal, its backward adjoint's compiled adjoint,
both called on NumPy arrays. The framework's module converts its tensors to arrays and back, and
registers the operator with the framework; this one knows nothing of any framework."""

import numpy as np

from .arguments import bind_call, name_of, plain, signature_of
from .backend.dispatch import derivative
from .errors import ArgumentError


class Operator:
    """fn as an operator of positional arguments: `forward(args)` gives its outputs (a tuple, one item
    per output), `backward(args, wrt, cotangents)` the gradients of the arguments at the positions
    `wrt`, `shapes(args)` the outputs' shapes without compiling anything (for a framework's tracing)."""

    def __init__(self, fn, jit=None):
        self.fn = plain(fn)
        self.jit = jit
        self.params = list(signature_of(self.fn).parameters)
        self._shapes = {}  # the arguments' shapes and constants -> the outputs' shapes

    def forward(self, args):
        """The outputs of fn(*args), as a tuple (one item for a function that returns one value), from
        the forward-mode code of no input (the function as adjoint compiles it, with no tangent)."""
        call = bind_call(self.fn, (), args, {})
        d = derivative(call.fn, (), self.jit, True, call.kinds, "forward", call.trees, "tuple")
        out, _ = d(call.values)
        outs = tuple(out) if self.several(d) else (out,)
        self._shapes.setdefault(_key(args), tuple(np.shape(o) for o in outs))
        return outs

    def backward(self, args, wrt, cotangents):
        """The gradients of the arguments at the positions `wrt` (a tuple), for one cotangent per output."""
        names = tuple(self.params[k] for k in wrt)
        call = bind_call(self.fn, names, args, {})
        several = self.several(derivative(call.fn, (), self.jit, True, call.kinds, "forward", call.trees, "tuple"))
        d = derivative(call.fn, call.wrt, self.jit, True, call.kinds, trees=call.trees,
                       returns="tuple" if several else "one")
        if not several and len(cotangents) != 1:
            raise ArgumentError(f"{name_of(self.fn)} returns one output: give one cotangent, not {len(cotangents)}")
        _, *grads = d(call.values, *cotangents)
        return call.derivatives(grads, True)

    def tangent(self, args, wrt, tangents):
        """The outputs' tangents (a tuple, one per output) for the tangents of the arguments at the
        positions `wrt` (forward mode)."""
        names = tuple(self.params[k] for k in wrt)
        call = bind_call(self.fn, names, args, {})
        d = derivative(call.fn, call.wrt, self.jit, True, call.kinds, "forward", call.trees, "tuple")
        _, dots = d(call.values, *call.seeds(tuple(tangents), True, names))
        return tuple(dots) if self.several(d) else (dots,)

    def shapes(self, args):
        """The shapes of fn's outputs for arguments of these shapes (and these constants): those of a
        call with the same ones, else of fn run as plain NumPy on arrays of 0.5."""
        key = _key(args)
        if key not in self._shapes:
            stand_ins = [np.full(np.shape(a), 0.5) if isinstance(a, np.ndarray) else a for a in args]
            with np.errstate(all="ignore"):
                out = self.fn(*stand_ins)
            outs = out if isinstance(out, tuple) else (out,)
            self._shapes[key] = tuple(np.shape(o) for o in outs)
        return self._shapes[key]

    @staticmethod
    def several(d):
        """Whether the function that d's code was made from returns a tuple of outputs."""
        return not isinstance(d.generated.nf.result, str)


def _key(args):
    """What the outputs' shapes may depend on: the arrays' shapes, the constants (a float's value is taken
    not to change a shape, so a float argument of new values adds no entry)."""
    return tuple(("array", np.shape(a)) if isinstance(a, np.ndarray) else ("number",) if type(a) is float else
                 ("value", type(a).__name__, repr(a)) for a in args)
