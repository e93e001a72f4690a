"""adjoint.tensorflow.op(f): a plain Python/NumPy function as a TensorFlow function with a custom
gradient (tf.custom_gradient) whose forward and backward are adjoint's compiled primal and adjoint,
run through tf.numpy_function: eagerly, inside tf.function and in Keras layers.

    @adjoint.tensorflow.op
    def step(x, w):
        ...loops, element writes...

    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(step(x, w))
    tape.gradient(loss, [x, w])

Tensors, arrays and floats are differentiated; ints, bools and strings are constants. Outputs have the
dtype of the tensor arguments (computed in float64 and cast), gradients each its input's.
tf.numpy_function runs Python, so XLA (jit_compile=True) cannot compile a graph holding one.
Forward mode (tf.autodiff.ForwardAccumulator) and second derivatives (a gradient taped by an outer
GradientTape) raise an ArgumentError: TensorFlow asks the backward for its own gradient, which adjoint
does not write.
"""

import functools

import numpy as np
import tensorflow as tf

from .arguments import function_named, name_of, reference
from .errors import ArgumentError
from .operator import Operator, as_arrays, filled

_STATIC = (bool, int, str)


def op(fn=None, *, jit=None):
    """fn (a function of positional arguments: tensors, arrays, floats and constants) as a TensorFlow
    function with adjoint's adjoint as its gradient."""
    if fn is None:
        return lambda f: op(f, jit=jit)
    return TensorFlowOp(fn, jit)


def _rebuilt(where, jit):
    return TensorFlowOp(function_named(*where), jit)


class TensorFlowOp:
    def __init__(self, fn, jit=None):
        self.operator = Operator(fn, jit)
        self.__name__ = getattr(self.operator.fn, "__name__", "op")
        self.__doc__ = getattr(self.operator.fn, "__doc__", None)

    def __call__(self, *args):
        fn, params = self.operator.fn, self.operator.params
        if len(args) != len(params):
            raise ArgumentError(f"adjoint.tensorflow.op({name_of(fn)}) takes its {len(params)} arguments by position "
                                f"({', '.join(params)}), got {len(args)}")
        args = [a.item() if isinstance(a, (np.integer, np.bool_)) else a for a in args]  # (NumPy's: Python's)
        given = [a for a in args if not isinstance(a, _STATIC)]
        dtype = _dtype(given)
        values = []
        for p, a in zip(params, args):
            if isinstance(a, _STATIC):
                continue
            if a is None or isinstance(a, (list, tuple, dict)):  # (a Keras variable converts, as a tensor does)
                raise ArgumentError(f"adjoint.tensorflow.op({name_of(fn)}): `{p}` is a {type(a).__name__}; pass "
                                    "tensors, arrays and floats (differentiated), or ints, bools and strings "
                                    "(constants)")
            value = tf.convert_to_tensor(a, dtype=dtype if isinstance(a, float) else None)  # (a variable read here)
            if not value.dtype.is_floating:
                raise ArgumentError(f"adjoint.tensorflow.op({name_of(fn)}): `{p}` is a {value.dtype.name} tensor; "
                                    "the operator differentiates float tensors (pass an int as a Python int)")
            values.append(value)
        constants = {k: a for k, a in enumerate(args) if isinstance(a, _STATIC)}
        return self._function(constants, dtype)(*values)

    def __reduce__(self):  # (by reference to the function, also when this operator is what its name holds)
        return _rebuilt, (reference(self.operator.fn), self.operator.jit)

    def _function(self, constants, dtype):
        """The tf.custom_gradient function of the non-constant arguments, for these constants."""
        operator = self.operator
        count = len(operator.params)
        wrt = tuple(k for k in range(count) if k not in constants)

        full = functools.partial(filled, constants, count)

        def shapes(values, size=None):  # (a graph's unknown size, its batch: stood for by 16 and by 24, and
            # None where the outputs' shapes differ)
            if size is None and not all(v.shape.is_fully_defined() for v in values):
                one, other = shapes(values, 16), shapes(values, 24)
                return tuple(tuple(m if m == n else None for m, n in zip(a, b)) for a, b in zip(one, other))
            return operator.shapes(full([np.empty(tuple(size if d is None else d for d in v.shape)) if v.shape.rank
                                         else 0.5 for v in values]))

        def forward(known, *values):
            outs = operator.checked(operator.forward(full(as_arrays(values))), known)
            return [np.asarray(o, dtype=dtype.as_numpy_dtype) for o in outs]

        def backward(n, *given):  # (the values, then the n outputs' cotangents: the values' gradients)
            values, cotangents = given[:len(given) - n], given[len(given) - n:]
            grads = operator.backward(full(as_arrays(values)), wrt, as_arrays(cotangents))
            return [np.asarray(g, dtype=v.dtype) for g, v in zip(grads, values)]

        @tf.custom_gradient
        def function(*values):
            if any(v.shape.rank is None for v in values):
                raise ArgumentError(f"adjoint.tensorflow.op({name_of(operator.fn)}): an argument of unknown rank; "
                                    "give tf.function an input_signature with each argument's rank")
            known = shapes(values)
            n = len(known)
            outs = _listed(tf.numpy_function(functools.partial(forward, known), list(values), Tout=[dtype] * n,
                                             stateful=False))
            for o, s in zip(outs, known):
                o.set_shape(s)

            def gradient(*cotangents):
                return _backward(backward, values, cotangents)
            return (outs[0] if n == 1 else tuple(outs)), gradient
        return function


def _backward(backward, values, cotangents):
    """The values' gradients for the outputs' cotangents, by adjoint's adjoint: an operation whose own
    gradient (TensorFlow's forward mode and second derivatives ask for it) is refused, not taken as none."""
    n = len(cotangents)

    @tf.custom_gradient
    def run(*given):
        grads = _listed(tf.numpy_function(lambda *g: backward(n, *g), list(given), Tout=[v.dtype for v in values],
                                          stateful=False))
        for g, v in zip(grads, values):
            g.set_shape(v.shape)
        return grads, _refused
    return list(run(*values, *cotangents))


def _refused(*_):
    raise ArgumentError("adjoint.tensorflow.op offers the gradient (GradientTape) only: forward mode "
                        "(ForwardAccumulator) and second derivatives differentiate the backward, which adjoint does "
                        "not write; use adjoint.jvp or adjoint.hessian on the function itself")


def _listed(result):
    """tf.numpy_function's result as a list (eagerly, one output comes back as a tensor, not a list)."""
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _dtype(values):
    """The floating dtype of the outputs: that of the tensor arguments (promoted; float32 where none is one),
    as PyTorch's operator does."""
    dtypes = [tf.as_dtype(v.dtype) for v in values if not isinstance(v, float) and hasattr(v, "dtype")]
    dtypes = [d for d in dtypes if d.is_floating]
    if not dtypes:
        return tf.float32
    return dtypes[0] if len(set(dtypes)) == 1 else tf.as_dtype(np.result_type(*[d.as_numpy_dtype for d in dtypes]))
