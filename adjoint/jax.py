"""adjoint.jax.op(f): a plain Python/NumPy function as a JAX function with a custom VJP whose forward
and backward are adjoint's compiled primal and adjoint, run through jax.pure_callback, so that it
works under jax.jit, jax.grad and jax.vmap (vmap_method, "sequential" by default: one call per item).

    @adjoint.jax.op
    def step(x, w):
        ...loops, element writes...

    jax.grad(lambda x, w: jnp.sum(step(x, w)))(x, w)

Arrays and floats are differentiated; ints, bools and strings are constants (static: a new one
traces again). Outputs have the dtype of the array arguments (computed in float64 and cast).
Forward mode (jax.jvp) is not offered: jax.custom_vjp has none, and JAX says so.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .arguments import function_named, name_of, reference
from .errors import ArgumentError
from .operator import Operator, as_arrays, filled

_STATIC = (bool, int, str)


def _rebuilt(where, jit, vmap_method):
    return JaxOp(function_named(*where), jit, vmap_method)


def op(fn=None, *, jit=None, vmap_method="sequential"):
    """fn (a function of positional arguments: arrays, floats and constants) as a JAX function."""
    if fn is None:
        return lambda f: op(f, jit=jit, vmap_method=vmap_method)
    return JaxOp(fn, jit, vmap_method)


class JaxOp:
    def __init__(self, fn, jit=None, vmap_method="sequential"):
        self.operator = Operator(fn, jit)
        self.vmap_method = vmap_method
        self.__name__ = getattr(self.operator.fn, "__name__", "op")
        self.__doc__ = getattr(self.operator.fn, "__doc__", None)
        self._functions = {}  # (positions and values of the constants) -> the custom_vjp function

    def __call__(self, *args):
        params = self.operator.params
        if len(args) != len(params):
            raise ArgumentError(f"adjoint.jax.op({name_of(self.operator.fn)}) takes its {len(params)} arguments by "
                                f"position ({', '.join(params)}), got {len(args)}")
        args = [a.item() if isinstance(a, (np.integer, np.bool_)) else a for a in args]  # (NumPy's: Python's)
        for p, a in zip(params, args):
            dtype = getattr(a, "dtype", None)
            if not isinstance(a, (*_STATIC, float)) and (dtype is None or not jnp.issubdtype(dtype, jnp.floating)):
                raise ArgumentError(f"adjoint.jax.op({name_of(self.operator.fn)}): `{p}` is a "
                                    f"{type(a).__name__ if dtype is None else f'{dtype} array'}; pass real floating "
                                    "arrays and floats (differentiated), or ints, bools and strings (constants)")
        constants = tuple((k, type(a), a) for k, a in enumerate(args) if isinstance(a, _STATIC))  # (True is not 1)
        f = self._functions.get(constants)
        if f is None:
            f = self._functions[constants] = self._make(constants)
        return f(*[a for a in args if not isinstance(a, _STATIC)])

    def __reduce__(self):  # (by reference to the function, also when this operator is what its name holds)
        return _rebuilt, (reference(self.operator.fn), self.operator.jit, self.vmap_method)

    def _make(self, constants):
        operator, vmap_method = self.operator, self.vmap_method
        count = len(self.operator.params)
        fixed = {k: a for k, _, a in constants}

        full = functools.partial(filled, fixed, count)

        def dtype(values):  # (that of the arrays: a float, weakly typed, does not make float32 float64)
            strong = [v.dtype for v in values if not getattr(getattr(v, "aval", v), "weak_type", False)]
            return np.result_type(*(strong or [v.dtype for v in values])) if values else np.float32

        def outputs(values):
            shapes = operator.shapes(full([np.empty(np.shape(v)) if np.ndim(v) else 0.5 for v in values]))
            return tuple(jax.ShapeDtypeStruct(s, dtype(values)) for s in shapes)

        def forward(specs, *values):
            outs = operator.forward(full(as_arrays(values)))
            if vmap_method == "sequential":  # (another hands fn a batch: outputs of a leading batch shape)
                operator.checked(outs, [s.shape for s in specs])
            return tuple(np.asarray(o, dtype=s.dtype) for o, s in zip(outs, specs))

        def backward(n, *given):  # (the values, then the n outputs' cotangents: the values' gradients)
            values, cotangents = given[:len(given) - n], given[len(given) - n:]
            wrt = tuple(k for k in range(count) if k not in fixed)
            grads = operator.backward(full(as_arrays(values)), wrt, as_arrays(cotangents))
            return tuple(np.asarray(g, dtype=v.dtype) for g, v in zip(grads, values))

        @jax.custom_vjp
        def function(*values):
            specs = outputs(values)
            outs = jax.pure_callback(functools.partial(forward, specs), specs, *values, vmap_method=vmap_method)
            return outs[0] if len(outs) == 1 else outs

        def function_fwd(*values):
            return function(*values), values

        def function_bwd(values, cotangents):
            cotangents = cotangents if isinstance(cotangents, tuple) else (cotangents,)
            specs = tuple(jax.ShapeDtypeStruct(np.shape(v), v.dtype) for v in values)
            return tuple(jax.pure_callback(functools.partial(backward, len(cotangents)), specs, *values, *cotangents,
                                           vmap_method=vmap_method))

        function.defvjp(function_fwd, function_bwd)
        return function
