"""The public API: grad, value_and_grad, vjp, jvp, hvp, hessian, jacobian, source and the
`differentiate` decorator, each a thin layer over `backend.dispatch.derivative`."""

import functools

import numpy as np

from .arguments import (
    as_given,
    bind,
    bind_call,
    bind_primals,
    checked_seed,
    complex_derivative,
    copies,
    in_type_of,
    inputs_of,
    name_of,
    real_output,
    scalar_output,
    tangent_seeds,
    unit_seeds,
    wrt_names,
    wrt_of,
)
from .backend.dispatch import derivative, last_run
from .errors import ArgumentError


def value_and_grad(fn, wrt=0, jit=None):
    """A function returning (f(*args), gradient of f with respect to wrt)."""
    inner = getattr(fn, "adjoint_grad", None)
    if inner is not None:
        return _value_and_grad_of_grad(inner, wrt, jit)
    names_of = wrt_of(fn, wrt)

    @functools.wraps(fn)
    def value_and_grad_fn(*args, **kwargs):
        names, as_tuple = names_of()
        call = bind_call(fn, names, args, kwargs)
        out, *grads = derivative(fn, names, jit, True, call.kinds)(call.values, 1.0)
        return scalar_output(out, fn), as_given(grads, call.inputs, as_tuple)

    value_and_grad_fn.adjoint_grad = None  # not the function that wraps fn
    return value_and_grad_fn


def grad(fn, wrt=0, jit=None):
    """A function returning the gradient of the scalar function fn with respect to wrt.

    `grad` of such a function (of a float input) is the second derivative, by forward mode over
    fn's adjoint."""
    vg = value_and_grad(fn, wrt, jit)

    @functools.wraps(fn)
    def grad_fn(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    inner = getattr(fn, "adjoint_grad", None)
    grad_fn.adjoint_grad = None if inner is not None else (fn, *wrt_names(fn, wrt))
    return grad_fn


def _value_and_grad_of_grad(inner, wrt, jit):
    fn, rows, rows_tuple = inner
    cols, as_tuple = wrt_names(fn, wrt)

    @functools.wraps(fn)
    def value_and_grad_fn(*args, **kwargs):
        names = tuple(dict.fromkeys(rows + cols))
        call = bind_call(fn, names, args, kwargs)
        x, = inputs_of(fn, rows, call.values)
        if rows_tuple or np.ndim(x) != 0:
            raise ArgumentError(f"grad of grad({name_of(fn)}) needs a scalar: grad gives "
                                f"{'a tuple' if rows_tuple else f'an array of shape {np.shape(x)}'}; "
                                "use adjoint.hessian or adjoint.jacobian of the grad")
        H, grads = _second(fn, rows, cols, jit, call.values, call.kinds)
        given = dict(zip(names, call.inputs))
        return (float(in_type_of(grads[0], given[rows[0]], "the gradient")),
                as_given(H[0], [given[c] for c in cols], as_tuple, "the second derivative"))

    value_and_grad_fn.adjoint_grad = None
    return value_and_grad_fn


def vjp(fn, *args, wrt=0, jit=None, **kwargs):
    """(fn(*args), pullback) where pullback(cotangent) gives the vector-Jacobian product(s)."""
    names, as_tuple = wrt_names(fn, wrt)
    call = bind_call(fn, names, args, kwargs)
    d = derivative(fn, names, jit, True, call.kinds)
    out = real_output(fn(*copies(call.given)), fn, "vjp")  # (fn may write into its arguments)
    values = copies(call.values)  # the point of `out`, whatever the caller writes into its arrays later

    def pullback(cotangent):
        ct = checked_seed("the cotangent", cotangent, "the output", out)
        _, *grads = d(values, ct)
        return as_given(grads, call.inputs, as_tuple, "the vector-Jacobian product")

    return out, pullback


def jvp(fn, primals, tangents, wrt=0, jit=None):
    """(fn(*primals), the Jacobian-vector product): forward mode, by generated tangent code.

    `tangents` holds one tangent per wrt input (a single value for an int or str wrt), each of its
    input's shape."""
    names, as_tuple = wrt_names(fn, wrt)
    call = bind_primals(fn, names, primals)
    seeds = tangent_seeds(fn, names, as_tuple, call.values, tangents, wrt)
    out, out_dot = derivative(fn, names, jit, True, call.kinds, "forward")(call.values, *seeds)
    real_output(out, fn, "jvp")
    # the output and its tangent in the output's type: when arguments ran as float64 copies, that of
    # the function's own result for the arguments as given
    like = real_output(fn(*copies(call.given)), fn, "jvp") if call.converted else out
    if not (type(like) is np.ndarray or isinstance(like, np.floating) and like.dtype.itemsize < 8):
        like = 0.0  # (a float, as before)
    return in_type_of(out, like, "the output"), in_type_of(out_dot, like, "the Jacobian-vector product")


def hvp(fn, primals, tangents, wrt=0, jit=None):
    """(gradient, Hessian-vector product) of the scalar function fn at primals, by forward mode over
    fn's generated adjoint. `tangents` is as for `jvp`; both results are shaped as the gradient."""
    names, as_tuple = wrt_names(fn, wrt)
    call = bind_primals(fn, names, primals)
    seeds = tangent_seeds(fn, names, as_tuple, call.values, tangents, wrt)
    (out, *grads), (_, *hv) = derivative(fn, names, jit, True, call.kinds, "hvp")(call.values, 1.0, *seeds)
    scalar_output(out, fn)
    return (as_given(grads, call.inputs, as_tuple),
            as_given(hv, call.inputs, as_tuple, "the Hessian-vector product"))


def hessian(fn, wrt=0, jit=None):
    """A function returning the Hessian of the scalar function fn: one Hessian-vector product (forward
    mode over the adjoint) per input entry. For an int or str wrt, an array of shape x.shape + x.shape
    (a float for a float x); for a tuple wrt, H[i][j] of shape wrt[i].shape + wrt[j].shape."""
    names_of = wrt_of(fn, wrt)

    @functools.wraps(fn)
    def hessian_fn(*args, **kwargs):
        names, as_tuple = names_of()
        values, kinds = bind(fn, names, args, kwargs)
        H, _ = _second(fn, names, names, jit, values, kinds)
        return tuple(tuple(row) for row in H) if as_tuple else H[0][0]

    return hessian_fn


def _second(fn, rows, cols, jit, values, kinds):
    """(d/d cols of the gradient for rows, as nested lists H[i][j] of shape rows[i].shape +
    cols[j].shape; the gradient for rows, which each Hessian-vector product computes too)."""
    names = tuple(dict.fromkeys(rows + cols))
    inputs = inputs_of(fn, names, values)
    d = derivative(fn, names, jit, True, kinds, "hvp")
    H = [[None] * len(cols) for _ in rows]
    for j, col in enumerate(cols):
        shape = np.shape(inputs[names.index(col)])
        pieces = []
        for k in np.ndindex(shape):
            (out, *grads), (_, *hv) = d(values, 1.0, *unit_seeds(inputs, names.index(col), k))
            scalar_output(out, fn)
            if any(np.iscomplexobj(h) for h in hv):
                raise complex_derivative("the Hessian")
            pieces.append([np.asarray(hv[names.index(r)], dtype=np.float64) for r in rows])
        for i, row in enumerate(rows):
            block = np.stack([p[i] for p in pieces], axis=-1).reshape(np.shape(inputs[names.index(row)]) + shape)
            H[i][j] = float(block) if block.ndim == 0 else block
    return H, [grads[names.index(r)] for r in rows]


def jacobian(fn, wrt=0, jit=None):
    """A function returning the Jacobian of fn (shape out.shape + x.shape per wrt input, a tuple for a
    tuple wrt). It runs forward mode, one column per input entry, when the inputs have no more
    entries than the output, and reverse mode, one row per output entry, otherwise; after each call
    its `mode` attribute says which it chose and why. The Jacobian of a function made by
    `adjoint.grad` is a Hessian, by forward mode over the adjoint."""
    inner = getattr(fn, "adjoint_grad", None)
    if inner is not None:
        return _jacobian_of_grad(inner, wrt, jit)
    names_of = wrt_of(fn, wrt)

    @functools.wraps(fn)
    def jacobian_fn(*args, **kwargs):
        names, as_tuple = names_of()
        values, kinds = bind(fn, names, args, kwargs)
        inputs = inputs_of(fn, names, values)
        out = real_output(fn(*copies(values)), fn, "jacobian")
        n_in, n_out = sum(np.size(x) for x in inputs), np.size(out)
        if n_in <= n_out:
            jacobian_fn.mode = f"forward ({n_in} input entries <= {n_out} output entries)"
            d = derivative(fn, names, jit, True, kinds, "forward")
            cols = [[] for _ in names]
            for i, x in enumerate(inputs):
                for k in np.ndindex(np.shape(x)):
                    cols[i].append(_real(d(values, *unit_seeds(inputs, i, k))[1]))
            jacs = [np.stack(c, axis=-1).reshape(np.shape(out) + np.shape(x)) for c, x in zip(cols, inputs)]
        else:
            jacobian_fn.mode = f"reverse ({n_out} output entries < {n_in} input entries)"
            d = derivative(fn, names, jit, True, kinds)
            rows = [[] for _ in names]
            for k in np.ndindex(np.shape(out)):
                for i, g in enumerate(d(values, *unit_seeds([out], 0, k))[1:]):
                    rows[i].append(_real(g))
            jacs = [np.stack(r).reshape(np.shape(out) + np.shape(x)) for r, x in zip(rows, inputs)]
        jacs = [float(j) if j.ndim == 0 else j for j in jacs]
        return tuple(jacs) if as_tuple else jacs[0]

    jacobian_fn.mode = "not run yet"
    return jacobian_fn


def _real(value):
    """A column or row of a Jacobian as a float64 array (refused when complex)."""
    if np.iscomplexobj(value):
        raise complex_derivative("the Jacobian")
    return np.asarray(value, dtype=np.float64)


def _jacobian_of_grad(inner, wrt, jit):
    """The Jacobian of grad(f): the rows of f's Hessian for grad's inputs, the columns for wrt."""
    fn, rows, rows_tuple = inner
    cols, as_tuple = wrt_names(fn, wrt)

    @functools.wraps(fn)
    def jacobian_fn(*args, **kwargs):
        values, kinds = bind(fn, tuple(dict.fromkeys(rows + cols)), args, kwargs)
        H, _ = _second(fn, rows, cols, jit, values, kinds)
        H = [tuple(r) if as_tuple else r[0] for r in H]
        return tuple(H) if rows_tuple else H[0]

    jacobian_fn.mode = "forward over reverse (the Jacobian of a gradient)"
    return jacobian_fn


MODES = ("reverse", "forward", "hvp")


def source(fn, *example_args, mode="reverse", wrt=0, optimize=True):
    """The generated code, as text: the adjoint (mode "reverse"), the tangent code (mode "forward"), or
    the Hessian-vector product code, forward mode over the adjoint (mode "hvp").

    With example arguments, the code for their kinds (numbers, arrays of some rank): exactly what
    grad, vjp and jvp run for arguments like them. Without, code that assumes nothing of them (its
    docstring says which kinds it assumed)."""
    return generated(fn, example_args, mode, wrt, optimize).text


def generated(fn, example_args, mode="reverse", wrt=0, optimize=True):
    """The pipeline.Generated that source (and `adjoint dump`) shows."""
    if not isinstance(mode, str) or mode not in MODES:
        raise ArgumentError(f"mode={mode!r:.60}: adjoint generates {' or '.join(map(repr, MODES))} code")
    for a in example_args:
        if isinstance(a, str) and a in MODES:
            raise ArgumentError(f"source(f, {a!r}): give the mode by keyword, source(f, mode={a!r}) (the "
                                "positional arguments are example arguments)")
    names, _ = wrt_names(fn, wrt)
    kinds = bind_call(fn, names, example_args, {}).kinds if example_args else ()
    return derivative(fn, names, None, optimize, kinds, mode).generated


class Differentiated:
    """A function with its derivatives attached: `f(x)` runs it unchanged, `f.grad(x)` differentiates it."""

    def __init__(self, fn, wrt=0, jit=None):
        functools.update_wrapper(self, fn)
        self.fn, self.wrt, self.jit = fn, wrt, jit
        wrt_names(fn, wrt)  # a bad wrt fails at decoration time

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def grad(self, *args, **kwargs):
        return grad(self.fn, self.wrt, self.jit)(*args, **kwargs)

    def value_and_grad(self, *args, **kwargs):
        return value_and_grad(self.fn, self.wrt, self.jit)(*args, **kwargs)

    def vjp(self, *args, **kwargs):
        return vjp(self.fn, *args, wrt=self.wrt, jit=self.jit, **kwargs)

    def jvp(self, primals, tangents):
        return jvp(self.fn, primals, tangents, wrt=self.wrt, jit=self.jit)

    def source(self, *example_args, mode="reverse"):
        """The generated code (see adjoint.source); `f.source("forward")` names the mode."""
        if len(example_args) == 1 and isinstance(example_args[0], str):
            example_args, mode = (), example_args[0]
        return source(self.fn, *example_args, mode=mode, wrt=self.wrt)

    @property
    def jit_status(self):
        """Which path the last derivative ran on: numba, or python and why."""
        last = last_run(self.fn, wrt_names(self.fn, self.wrt)[0], self.jit)
        return last.jit_status if last is not None else "not run yet"

    def __repr__(self):
        return f"<adjoint.differentiate {name_of(self.fn)} wrt={self.wrt!r} jit={self.jit!r}: {self.jit_status}>"


def differentiate(fn=None, *, wrt=0, jit=None):
    """Decorator: `@differentiate` or `@differentiate(wrt=("x", "y"), jit=False)`."""
    if fn is None:
        return lambda f: Differentiated(f, wrt, jit)
    return Differentiated(fn, wrt, jit)
