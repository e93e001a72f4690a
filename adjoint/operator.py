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
    `wrt`, `shapes(args)` the outputs' shapes without compiling anything (for a framework's tracing),
    `checked(outs, shapes)` the outputs, if they have the shapes worked out before the values were known."""

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
        return self._outputs(tuple(out) if self.several(d) else (out,))

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
        return self._outputs(tuple(dots) if self.several(d) else (dots,))

    def shapes(self, args):
        """The shapes of fn's outputs for arguments of these shapes (arrays: their values unread) and these
        constants, from fn run as plain NumPy on stand-in arrays (0.5 everywhere, n added to the diagonal
        of a square n x n matrix, so that a solve or a Cholesky factor has one)."""
        key = tuple(("array", np.shape(a)) if isinstance(a, np.ndarray) else ("value", type(a).__name__, repr(a))
                    for a in args)
        if key not in self._shapes:
            try:
                with np.errstate(all="ignore"):
                    out = self.fn(*[_stand_in(np.shape(a)) if isinstance(a, np.ndarray) else a for a in args])
            except Exception as e:  # noqa: BLE001 -- whatever the user's function raised
                raise ArgumentError(
                    f"{name_of(self.fn)}: the operator learns its outputs' shapes before the values are known (a "
                    f"framework traces it) by running it on stand-in arrays of the arguments' shapes, which raised "
                    f"{type(e).__name__}: {e}") from None
            self._shapes[key] = tuple(np.shape(o) for o in self._outputs(out if isinstance(out, tuple) else (out,)))
        return self._shapes[key]

    def checked(self, outs, shapes):
        """outs, if their shapes are `shapes` (None: a size not known beforehand), which the framework was
        given before the values were known; else an error, not outputs of shapes it did not expect."""
        if len(outs) != len(shapes) or any(np.ndim(o) != len(s) or any(d is not None and d != n for d, n in
                                                                        zip(s, np.shape(o)))
                                           for o, s in zip(outs, shapes)):
            got = tuple(np.shape(o) for o in outs)
            raise ArgumentError(
                f"{name_of(self.fn)} gave outputs of shapes {got}, where the shapes worked out before the values "
                f"were known (fn run on stand-in arrays) were {tuple(shapes)}: an output whose shape depends on "
                "the values of the arguments, not only on their shapes and the int and bool constants, is not for "
                "adjoint's operators")
        return outs

    def _outputs(self, outs):
        """The outputs, if each is an array or a number (fn returns one, or a flat tuple of them)."""
        for o in outs:
            if not isinstance(o, (np.ndarray, float, int, np.number)):
                raise ArgumentError(f"{name_of(self.fn)} returns a {type(o).__name__}: an operator's function "
                                    "returns an array, a number or a flat tuple of them")
        return outs

    @staticmethod
    def several(d):
        """Whether the function that d's code was made from returns a tuple of outputs."""
        return not isinstance(d.generated.nf.result, str)


def _stand_in(shape):
    """An array of this shape for learning a function's output shapes: 0.5 everywhere, and n more on the
    diagonal of each square n x n matrix (symmetric and positive definite: solve, inv and cholesky run)."""
    a = np.full(shape, 0.5)
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        a += shape[-1] * np.eye(shape[-1])
    return a


def filled(constants, count, values):
    """An operator's `count` arguments: the constants (position -> value) in their places, the framework's
    values in order in the others."""
    values = iter(values)
    return [constants[k] if k in constants else next(values) for k in range(count)]


def as_arrays(values):
    """A framework's values as the generated code takes them: float64 arrays, and floats for 0-d ones."""
    return [float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64) for v in values]
