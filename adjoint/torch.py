"""adjoint.torch.op(f): a plain Python/NumPy function as a PyTorch operator whose backward is the
adjoint adjoint writes (the backward that torch.autograd.Function asks its author to write by hand).

    @adjoint.torch.op
    def mul(a, b):
        return a * b

    y = mul(x, w)          # tensors in, a tensor out; y.backward() runs adjoint's compiled adjoint

A torch.autograd.Function whose forward, backward (adjoint's adjoint) and jvp (its forward mode) call
adjoint directly on eager tensors; the same three as operators registered through
torch.library.custom_op, each with a fake implementation (one set per pattern of arguments: which
are tensors, and the types of the others), for torch.compile, functorch's transforms and
create_graph. So it runs inside nn.Modules, training loops, torch.func.jvp and forward_ad, and
torch.compile (there the forward operator with its backward registered: opaque, no graph break
once a pattern has been seen; the first call of a new pattern under torch.compile registers it
outside the graph). Real floating CPU tensors (checked on every call); the other arguments (ints,
floats, bools) are constants. Its outputs have the dtype of its tensor arguments
(computed in float64 and cast). A second derivative through it (create_graph=True) raises
PyTorch's RuntimeError: the backward operator has no derivative of its own.
"""

import inspect
import itertools
import re

import numpy as np
import torch

from .arguments import function_named, name_of, reference
from .errors import ArgumentError
from .operator import Operator

_VALUE_TYPES = (bool, int, float)  # (the constants a custom op's schema takes)


def op(fn=None, *, jit=None):
    """fn (a function of positional arguments, tensors and constants) as a PyTorch operator."""
    if fn is None:
        return lambda f: op(f, jit=jit)
    return TorchOp(fn, jit)


class TorchOp:
    """The operator: called with tensors (and constants), it returns a tensor, or a tuple of them."""

    def __init__(self, fn, jit=None):
        self.operator = Operator(fn, jit)
        self.__name__ = getattr(self.operator.fn, "__name__", "op")
        self.__doc__ = getattr(self.operator.fn, "__doc__", None)
        self._ops = {}  # pattern of arguments -> the registered custom op

    def __call__(self, *args):
        args = [a.item() if isinstance(a, np.generic) else a for a in args]  # (NumPy's numbers: Python's)
        self._check(args)
        pattern = tuple("Tensor" if isinstance(a, torch.Tensor) else type(a).__name__ for a in args)
        custom = self._ops.get(pattern)
        if custom is None:
            custom = self._ops[pattern] = self._register(pattern, args)
        return custom(*args)

    def __reduce__(self):  # (by reference to the function, also when this operator is what its name holds)
        return _rebuilt, (reference(self.operator.fn), self.operator.jit)

    def _check(self, args):
        """Arguments the operator takes (every call: a pattern seen before may come with a tensor on
        another device or of another dtype)."""
        fn, params = self.operator.fn, self.operator.params
        if len(args) != len(params):
            raise ArgumentError(f"adjoint.torch.op({name_of(fn)}) takes its {len(params)} arguments by position "
                                f"({', '.join(params)}), got {len(args)}")
        for p, a in zip(params, args):
            if not isinstance(a, (torch.Tensor, *_VALUE_TYPES)):
                raise ArgumentError(f"adjoint.torch.op({name_of(fn)}): `{p}` is a {type(a).__name__}; pass tensors, "
                                    "ints, floats or bools")
            if isinstance(a, torch.Tensor) and (a.device.type != "cpu" or not a.dtype.is_floating_point):
                raise ArgumentError(f"adjoint.torch.op({name_of(fn)}): `{p}` is a {a.dtype} tensor on {a.device}; "
                                    "adjoint's operators differentiate real floating CPU tensors (an int "
                                    "constant is a Python int)")

    @torch.compiler.disable  # (torch.compile's tracing stops here once, the first time a pattern is seen)
    def _register(self, pattern, args):
        fn = self.operator.fn
        params = self.operator.params
        count = len(self.operator.shapes(_shaped(args)))  # (tensors may be fake ones, torch.compile's)
        tensors = [k for k, kind in enumerate(pattern) if kind == "Tensor"]
        label = re.sub(r"\W", "_", getattr(fn, "__name__", "function"))
        name = f"adjoint::{label}_{next(_NUMBERS)}"  # (one per operator and pattern: never another's code)
        operator = self.operator
        inputs = [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=torch.Tensor if kind == "Tensor" else type(a))
                  for p, kind, a in zip(params, pattern, args)]

        def forward(*given):
            outs = operator.forward(_arrays(given))
            if len(outs) != count:  # (a constant chose another branch than the first call's)
                operator.checked(outs, operator.shapes(_shaped(given)))
            return _tensors(outs, _dtype(given), count == 1)

        def forward_checked(*given):  # (under torch.compile: the outputs' shapes are the fake ones')
            outs = operator.checked(operator.forward(_arrays(given)), operator.shapes(_shaped(given)))
            return _tensors(outs, _dtype(given), count == 1)

        def forward_fake(*given):
            return _tensors([np.empty(s) for s in operator.shapes(_shaped(given))], _dtype(given), count == 1)

        def backward(*given):  # (the inputs, then one cotangent per output: the gradients of the tensor inputs)
            inputs, cotangents = given[:len(params)], given[len(params):]
            grads = operator.backward(_arrays(inputs), tuple(tensors), [_array(c) for c in cotangents])
            return _tensors(grads, _dtype(inputs), len(tensors) == 1, [inputs[k].dtype for k in tensors])

        def backward_fake(*given):
            inputs = given[:len(params)]
            return _tensors([np.empty(tuple(inputs[k].shape)) for k in tensors], _dtype(inputs), len(tensors) == 1,
                            [inputs[k].dtype for k in tensors])

        def tangent(*given):  # (the inputs, then a tangent per tensor input: the outputs' tangents)
            inputs, dots = given[:len(params)], given[len(params):]
            outs = operator.tangent(_arrays(inputs), tuple(tensors), [_array(t) for t in dots])
            return _tensors(outs, _dtype(inputs), count == 1)

        tensor = inspect.Parameter.POSITIONAL_OR_KEYWORD

        def more(prefix, n):
            return [inspect.Parameter(f"{prefix}_{k}", tensor, annotation=torch.Tensor) for k in range(n)]

        forward.__signature__ = inspect.Signature(inputs, return_annotation=_returns(count))
        backward.__signature__ = inspect.Signature(inputs + more("cotangent", count),
                                                   return_annotation=_returns(len(tensors)))
        tangent.__signature__ = inspect.Signature(inputs + more("tangent", len(tensors)),
                                                  return_annotation=_returns(count))
        forward_checked.__signature__ = forward.__signature__
        forward_op = torch.library.custom_op(name, mutates_args=())(forward_checked)
        forward_op.register_fake(forward_fake)
        backward_op = torch.library.custom_op(name + "_backward", mutates_args=())(backward)
        backward_op.register_fake(backward_fake)
        tangent_op = torch.library.custom_op(name + "_tangent", mutates_args=())(tangent)
        tangent_op.register_fake(_first(forward_fake, len(params)))

        class Function(torch.autograd.Function):
            """The operator for PyTorch's autograd: reverse mode by adjoint's adjoint, forward mode
            (torch.func.jvp, forward_ad) by its tangent code, each a custom op torch.compile keeps whole."""

            @staticmethod
            def forward(*given):
                return (forward if _plain(given) else forward_op)(*given)

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(*[a for a in inputs if isinstance(a, torch.Tensor)])
                ctx.save_for_forward(*[a for a in inputs if isinstance(a, torch.Tensor)])
                ctx.constants = [None if isinstance(a, torch.Tensor) else a for a in inputs]
                ctx.outputs = [(tuple(o.shape), o.dtype) for o in ((output,) if count == 1 else output)]

            @staticmethod
            def backward(ctx, *cotangents):
                given = _given(ctx, ctx.saved_tensors)
                cotangents = [torch.zeros(s, dtype=d) if c is None else c
                              for c, (s, d) in zip(cotangents, ctx.outputs)]
                run = backward if _plain((*given, *cotangents)) and not torch.is_grad_enabled() else backward_op
                # (create_graph=True: the custom op, whose missing derivative PyTorch reports)
                grads = iter(_many(run(*given, *cotangents), len(tensors)))
                return tuple(next(grads) if k in tensors else None for k in range(len(params)))

            @staticmethod
            def jvp(ctx, *dots):
                given = _given(ctx, ctx.saved_tensors)
                dots = [torch.zeros_like(given[k]) if dots[k] is None else dots[k] for k in tensors]
                return (tangent if _plain((*given, *dots)) else tangent_op)(*given, *dots)

        def setup_context(ctx, inputs, output):
            Function.setup_context(ctx, inputs, output)

        forward_op.register_autograd(Function.backward, setup_context=setup_context)  # (under torch.compile,
        # which traces no custom jvp: reverse mode only there)

        def call(*given):
            return forward_op(*given) if torch.compiler.is_compiling() else Function.apply(*given)

        return call


def _plain(given):
    """Whether the tensors are eager CPU tensors, which the Python functions take directly (a call through
    the custom op costs ~100 µs of dispatch); under torch.compile and functorch's transforms they are
    fake or wrapped tensors, for the custom ops."""
    return not torch.compiler.is_compiling() and all(
        type(a) in (torch.Tensor, torch.nn.Parameter) and not torch._C._functorch.is_functorch_wrapped_tensor(a)
        for a in given if isinstance(a, torch.Tensor))


def _rebuilt(where, jit):
    return TorchOp(function_named(*where), jit)


def _first(fake, count):
    """The fake implementation of a tangent op: that of the forward op, for its first `count` arguments."""
    return lambda *given: fake(*given[:count])


def _given(ctx, saved):
    """The operator's arguments, from its saved tensors and its constants."""
    saved = iter(saved)
    return [next(saved) if c is None else c for c in ctx.constants]


def _many(result, n):
    return (result,) if n == 1 else result


_NUMBERS = itertools.count()  # (PyTorch's registry refuses a name twice in a process)


def _array(t):
    """A tensor as a float64 NumPy array (a 0-d one as a float)."""
    a = t.detach().cpu().to(torch.float64).numpy()
    return float(a) if a.ndim == 0 else a


def _arrays(args):
    return [_array(a) if isinstance(a, torch.Tensor) else a for a in args]


def _returns(count):
    """The return annotation of a custom op of `count` tensors."""
    return torch.Tensor if count == 1 else tuple.__class_getitem__((torch.Tensor,) * count)


def _tensors(arrays, dtype, one, dtypes=None):
    """NumPy results as tensors of dtype (or each of its own in dtypes): the one tensor, or a tuple."""
    out = tuple(torch.from_numpy(np.array(a, dtype=np.float64)).to(d)
                for a, d in zip(arrays, dtypes or [dtype] * len(arrays)))
    return out[0] if one else out


def _shaped(args):
    """The arguments with each tensor an array of its shape (its values unread: it may be a fake tensor),
    and a symbolic number (torch.compile's) its value (which PyTorch then guards: a new one compiles again)."""
    concrete = {torch.SymInt: int, torch.SymFloat: float, torch.SymBool: bool}
    return [np.empty(tuple(int(d) for d in a.shape)) if isinstance(a, torch.Tensor) else
            concrete[type(a)](a) if type(a) in concrete else a for a in args]


def _dtype(args):
    """The floating dtype of the outputs: that of the tensor arguments (promoted; float32 where none is one)."""
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    dtype = tensors[0].dtype if tensors else torch.float64
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return dtype if dtype.is_floating_point else torch.promote_types(dtype, torch.float32)
