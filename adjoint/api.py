"""The public API: grad, value_and_grad, vjp, jvp, hvp, hessian, jacobian, source and the
`differentiate` decorator, each a thin layer over `backend.dispatch.derivative`."""

import ast
import functools
import types

import numpy as np

from .arguments import (
    bind_call,
    bind_primals,
    checked_seed,
    checkpointing,
    complex_derivative,
    copies,
    function_named,
    in_type_of,
    name_of,
    named,
    output_tree,
    plain,
    real_output,
    reference,
    scalar_output,
    unit_seeds,
    wrt_names,
    wrt_of,
)
from .backend.dispatch import derivative, last_run
from .errors import AdjointError, ArgumentError
from .ir.queries import loads, names_in
from .normalize.expressions import RANDOM
from .rules.helpers import draws
from .thin import Thin
from .trees import is_container, leaf_names, leaves_of, same_structure, unflatten


class Made:
    """A derivative function that `maker(fn, ...)` made (grad(f), value_and_grad(f), jacobian(f),
    hessian(f)): it runs the function made, and pickles as the call that made it, by reference to
    fn's module, so that it travels to worker processes (multiprocessing, concurrent.futures, joblib,
    Dask), which make it again and load its compiled code from the cache folder."""

    def __init__(self, run, maker, args, kwargs):
        functools.update_wrapper(self, run, updated=())
        self._run, self._call = run, (maker, args, kwargs)

    def __call__(self, *args, **kwargs):
        return self._run(*args, **kwargs)

    def __getattr__(self, name):  # (the function made's attributes: `mode` of a jacobian, ...)
        if name.startswith("__") or name in ("_run", "_call"):
            raise AttributeError(name)
        return getattr(self._run, name)

    def __reduce__(self):  # (a function by reference, with its file if it is a script's: see arguments.named)
        maker, (fn, *rest), kwargs = self._call
        if isinstance(fn, types.FunctionType):
            return _made_of, (maker, reference(fn), tuple(rest), kwargs)
        return functools.partial(maker, **kwargs), (fn, *rest)


def _made_of(maker, where, rest, kwargs):
    return maker(function_named(*where), *rest, **kwargs)


def _by_reference(make):
    """make (a function of fn and options returning a function) whose results pickle as its call."""
    @functools.wraps(make)
    def maker(fn, *args, **kwargs):
        return Made(make(fn, *args, **kwargs), maker, (fn, *args), kwargs)

    return maker


@_by_reference
def value_and_grad(fn, wrt=0, jit=None, has_aux=False, checkpoint=False, memory=None):
    """A function returning (f(*args), gradient of f with respect to wrt); with has_aux, f returns
    (value, aux) and the function returns ((value, aux), gradient), aux as f computed it.

    `memory="256MB"` (or bytes; the environment's ADJOINT_MEMORY when not given) bounds the tapes of
    each `for ... in range(...)` loop at the function's top level (with no `break`) and each top-level
    `while` loop: the loop's first two iterations measure the tape a step keeps; when the whole loop's tape
    fits, it is kept as without a budget, else the loop is reversed by checkpointing in segments
    chosen to need least memory (runtime.schedule), and its statements run twice; when even that
    does not fit, errors.MemoryBudgetError says so before the loop runs on. `checkpoint=True` without
    a budget checkpoints those loops in segments of about √n. Either way the gradient is the one
    without them, to the bit (transforms/reverse.py `Reverse.checkpointed`)."""
    fn = plain(fn)
    checkpoint = checkpointing(checkpoint, memory)
    inner = getattr(fn, "adjoint_grad", None)
    if inner is not None:
        if has_aux:
            raise ArgumentError("has_aux=True differentiates a function that returns (value, aux), not a gradient")
        return _value_and_grad_of_grad(inner, wrt, jit)
    names_of, thin = wrt_of(fn, wrt), Thin(fn)

    @functools.wraps(fn)
    def value_and_grad_fn(*args, **kwargs):
        found = None if kwargs else thin.find(args)
        if found is not None:  # (a call like an earlier one: adjoint/thin.py)
            entry, run, values = found
            out, *grads = run(*values, 1.0)
            return finish(entry.d, out, grads, entry.derivatives, values)
        names, as_tuple = names_of()
        call = bind_call(fn, names, args, kwargs)
        d = derivative(call.fn, call.wrt, jit, True, call.kinds, trees=call.trees, returns="aux" if has_aux else "one",
                       checkpoint=checkpoint)
        nf = d.generated.nf
        if isinstance(nf.result, str) and nf.kinds.get(nf.result):  # (an array, known before running the
            out = call.run()  # adjoint, whose seed 1.0 may not fit it: the error names its shape)
            scalar_output(out[0] if has_aux and isinstance(out, tuple) else out, fn)
        else:
            thin.keep(args, call, d, as_tuple)
        out, *grads = d(call.values, 1.0)
        return finish(d, out, grads, call.derivatives, as_tuple)

    def finish(d, out, grads, derivatives, how):
        """(value, gradients) from what the adjoint returned; `derivatives(grads, how)` gives them
        back in their inputs' types (Call.derivatives, or a thin path's entry's)."""
        if has_aux:
            aux, grads = _aux(d, grads)
            return (scalar_output(out, fn), aux), derivatives(grads, how)
        return scalar_output(out, fn), derivatives(grads, how)

    value_and_grad_fn.adjoint_grad = None  # not the function that wraps fn
    return value_and_grad_fn


@_by_reference
def grad(fn, wrt=0, jit=None, has_aux=False, checkpoint=False, memory=None):
    """A function returning the gradient of the scalar function fn with respect to wrt; with has_aux,
    fn returns (value, aux) and the function returns (gradient, aux); `checkpoint` and `memory` as
    value_and_grad's.

    `grad` of such a function (of a float input) is the second derivative, by forward mode over
    fn's adjoint."""
    fn = plain(fn)
    vg = value_and_grad(fn, wrt, jit, has_aux, checkpoint, memory)

    run = vg._run

    @functools.wraps(fn)
    def grad_fn(*args, **kwargs):
        value, g = run(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    inner = getattr(fn, "adjoint_grad", None)
    grad_fn.adjoint_grad = None if inner is not None or has_aux else (fn, *wrt_names(fn, wrt))
    return grad_fn


def _aux(d, rest):
    """(the auxiliary outputs in the structure f returned them in, the gradients) from what a
    has_aux derivative returned after the value."""
    nf = d.generated.nf
    by_name = {n: v.item() if isinstance(v, np.generic) else v for n, v in zip(nf.aux, rest)}
    return unflatten(nf.aux_tree, iter([by_name[n] for n in leaf_names(nf.aux_tree)])), rest[len(nf.aux):]


def _value_and_grad_of_grad(inner, wrt, jit):
    fn, rows, rows_tuple = inner
    cols, as_tuple = wrt_names(fn, wrt)

    @functools.wraps(fn)
    def value_and_grad_fn(*args, **kwargs):
        names = tuple(dict.fromkeys(rows + cols))
        call = bind_call(fn, names, args, kwargs)
        _no_containers(call, "grad of grad")
        x, = _inputs(call, rows)
        if rows_tuple or np.ndim(x) != 0:
            raise ArgumentError(f"grad of grad({name_of(fn)}) needs a scalar: grad gives "
                                f"{'a tuple' if rows_tuple else f'an array of shape {np.shape(x)}'}; "
                                "use adjoint.hessian or adjoint.jacobian of the grad")
        H, grads = _second(fn, rows, cols, jit, call)
        given = dict(zip(names, call.inputs))
        seconds = [in_type_of(h, given[c], "the second derivative") for h, c in zip(H[0], cols)]
        return float(in_type_of(grads[0], given[rows[0]], "the gradient")), \
            tuple(seconds) if as_tuple else seconds[0]

    value_and_grad_fn.adjoint_grad = None
    return value_and_grad_fn


def vjp(fn, *args, wrt=0, jit=None, has_aux=False, checkpoint=False, memory=None, **kwargs):
    """(fn(*args), pullback) where pullback(cotangent) gives the vector-Jacobian product(s); with
    has_aux, fn returns (value, aux) and vjp returns (value, pullback, aux). For a function that
    returns a tuple, the cotangent is a tuple too, one per item. `checkpoint`, `memory`: as
    value_and_grad's."""
    fn = plain(fn)
    schedule = checkpointing(checkpoint, memory)
    names, as_tuple = wrt_names(fn, wrt)
    call = bind_call(fn, names, args, kwargs)
    out = call.run()  # (fn may write into its arguments)
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ArgumentError(f"has_aux=True needs {name_of(fn)} to return a pair (value, aux)")
        out, aux = out
    several = not has_aux and is_container(out)  # (a tuple, a dict of outputs: a cotangent per leaf)
    leaves, tree = output_tree(out) if several else ([out], None)
    outs = [real_output(o, fn, "vjp") for o in leaves]
    returns = "aux" if has_aux else "tuple" if several else "one"
    d = derivative(call.fn, call.wrt, jit, True, call.kinds, trees=call.trees, returns=returns, checkpoint=schedule)
    _drawn_once(fn, d, "vjp")
    if several:
        _same_leaves(fn, leaves, d)
    values = copies(call.values)  # the point of `out`, whatever the caller writes into its arrays later

    def pullback(cotangent):
        if several and tree[0] in ("tuple", "list") and type(cotangent) in (tuple, list):
            cotangent = tuple(cotangent) if tree[0] == "tuple" else list(cotangent)  # (either for a tuple)
        if several and not same_structure(tree, cotangent):
            raise ArgumentError(f"{name_of(fn)} returns a {type(out).__name__} of {len(outs)} outputs: the "
                                f"cotangent is one of that structure too, not {cotangent!r:.60}")
        cts = [checked_seed("the cotangent" + (f" of output {i}" if several else ""), c, "the output", o)
               for i, (c, o) in enumerate(zip(leaves_of(tree, cotangent) if several else (cotangent,), outs))]
        _, *grads = d(values, *cts)
        grads = grads[len(d.generated.nf.aux):]
        return call.derivatives(grads, as_tuple, "the vector-Jacobian product")

    # (it pickles as vjp called again at the same point: the arguments as they were, copied)
    pullback = Made(pullback, _pullback, (fn, *copies(args)), dict(wrt=wrt, jit=jit, has_aux=has_aux,
                                                                   checkpoint=checkpoint, memory=memory, **kwargs))
    return (out, pullback, aux) if has_aux else (out, pullback)


def _pullback(fn, *args, **kwargs):
    """The pullback of vjp(fn, *args, **kwargs): what a pickled one is made again by."""
    return vjp(fn, *args, **kwargs)[1]


def jvp(fn, primals, tangents, wrt=0, jit=None):
    """(fn(*primals), the Jacobian-vector product): forward mode, by generated tangent code.

    `tangents` holds one tangent per wrt input (a single value for an int or str wrt), each of its
    input's shape. For a function that returns a tuple, both are tuples, one item per output."""
    fn = plain(fn)
    names, as_tuple = wrt_names(fn, wrt)
    call = bind_primals(fn, names, primals)
    seeds = call.seeds(tangents, as_tuple, wrt)
    d = derivative(call.fn, call.wrt, jit, True, call.kinds, "forward", call.trees, "tuple")
    out, out_dot = d(call.values, *seeds)
    several = not isinstance(d.generated.nf.result, str)
    outs, dots = (out, out_dot) if several else ((out,), (out_dot,))
    for o in outs:
        real_output(o, fn, "jvp")
    # the output and its tangent in the output's type (and structure): when arguments ran as float64
    # copies, that of the function's own result for the arguments as given
    own = call.run() if call.converted or several else out
    likes, tree = output_tree(own) if several else ([own], None)
    if several:
        _same_leaves(fn, likes, d)
    pairs = []
    for o, t, like in zip(outs, dots, likes):
        if not (type(like) is np.ndarray or isinstance(like, np.floating) and like.dtype.itemsize < 8):
            like = 0.0  # (a float, as before)
        pairs.append((in_type_of(o, like, "the output"), in_type_of(t, like, "the Jacobian-vector product")))
    if several:
        return unflatten(tree, iter([p[0] for p in pairs])), unflatten(tree, iter([p[1] for p in pairs]))
    return pairs[0]


def hvp(fn, primals, tangents, wrt=0, jit=None):
    """(gradient, Hessian-vector product) of the scalar function fn at primals, by forward mode over
    fn's generated adjoint. `tangents` is as for `jvp`; both results are shaped as the gradient."""
    fn = plain(fn)
    names, as_tuple = wrt_names(fn, wrt)
    call = bind_primals(fn, names, primals)
    seeds = call.seeds(tangents, as_tuple, wrt)
    d = derivative(call.fn, call.wrt, jit, True, call.kinds, "hvp", call.trees)
    (out, *grads), (_, *hv) = d(call.values, 1.0, *seeds)
    scalar_output(out, fn)
    return call.derivatives(grads, as_tuple), call.derivatives(hv, as_tuple, "the Hessian-vector product")


@_by_reference
def hessian(fn, wrt=0, jit=None):
    """A function returning the Hessian of the scalar function fn: one Hessian-vector product (forward
    mode over the adjoint) per input entry. For an int or str wrt, an array of shape x.shape + x.shape
    (a float for a float x); for a tuple wrt, H[i][j] of shape wrt[i].shape + wrt[j].shape."""
    fn = plain(fn)
    names_of = wrt_of(fn, wrt)

    @functools.wraps(fn)
    def hessian_fn(*args, **kwargs):
        names, as_tuple = names_of()
        call = bind_call(fn, names, args, kwargs)
        _no_containers(call, "hessian")
        H, _ = _second(fn, names, names, jit, call)
        return tuple(tuple(row) for row in H) if as_tuple else H[0][0]

    return hessian_fn


def _second(fn, rows, cols, jit, call):
    """(d/d cols of the gradient for rows, as nested lists H[i][j] of shape rows[i].shape +
    cols[j].shape; the gradient for rows, which each Hessian-vector product computes too)."""
    names = tuple(dict.fromkeys(rows + cols))
    inputs, values = _inputs(call, names), call.values
    d = derivative(fn, names, jit, True, call.kinds, "hvp")
    _drawn_once(fn, d, "a Hessian")
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


@_by_reference
def jacobian(fn, wrt=0, jit=None, checkpoint=False, memory=None):
    """A function returning the Jacobian of fn (shape out.shape + x.shape per wrt input, a tuple for a
    tuple wrt). It runs forward mode, one column per input entry, when the inputs have no more
    entries than the output, and reverse mode, one row per output entry, otherwise; after each call
    its `mode` attribute says which it chose and why. The Jacobian of a function made by
    `adjoint.grad` is a Hessian, by forward mode over the adjoint. `checkpoint`, `memory`: as
    value_and_grad's, for reverse mode."""
    fn = plain(fn)
    schedule = checkpointing(checkpoint, memory)
    inner = getattr(fn, "adjoint_grad", None)
    if inner is not None:
        return _jacobian_of_grad(inner, wrt, jit)
    names_of = wrt_of(fn, wrt)

    @functools.wraps(fn)
    def jacobian_fn(*args, **kwargs):
        names, as_tuple = names_of()
        call = bind_call(fn, names, args, kwargs)
        values, kinds, trees = call.values, call.kinds, call.trees
        inputs = _inputs(call, call.wrt)
        out = call.run()
        several = is_container(out)  # (a tuple, a dict of outputs: a Jacobian per leaf, in its structure)
        leaves, tree = output_tree(out) if several else ([out], None)
        outs = [real_output(o, fn, "jacobian") for o in leaves]
        n_in, n_out = sum(np.size(x) for x in inputs), sum(np.size(o) for o in outs)
        blocks = [[[] for _ in inputs] for _ in outs]  # [output][input] -> columns or rows
        if n_in <= n_out:
            jacobian_fn.mode = f"forward ({n_in} input entries <= {n_out} output entries)"
            d = derivative(call.fn, call.wrt, jit, True, kinds, "forward", trees, "tuple")
            _drawn_once(fn, d, "jacobian")
            if several:
                _same_leaves(fn, leaves, d)
            for i, x in enumerate(inputs):
                for k in np.ndindex(np.shape(x)):
                    dots = d(values, *unit_seeds(inputs, i, k))[1]
                    for o, dot in enumerate(dots if several else (dots,)):
                        blocks[o][i].append(_real(dot))
            jacs = [[np.stack(c, axis=-1).reshape(np.shape(y) + np.shape(x)) for c, x in zip(cols, inputs)]
                    for cols, y in zip(blocks, outs)]
        else:
            jacobian_fn.mode = f"reverse ({n_out} output entries < {n_in} input entries)"
            d = derivative(call.fn, call.wrt, jit, True, kinds, trees=trees, returns="tuple" if several else "one",
                           checkpoint=schedule)
            _drawn_once(fn, d, "jacobian")
            if several:
                _same_leaves(fn, leaves, d)
            for o, y in enumerate(outs):
                for k in np.ndindex(np.shape(y)):
                    for i, g in enumerate(d(values, *unit_seeds(outs, o, k))[1:]):
                        blocks[o][i].append(_real(g))
            jacs = [[np.stack(r).reshape(np.shape(y) + np.shape(x)) for r, x in zip(rows, inputs)]
                    for rows, y in zip(blocks, outs)]
        per_output = [call.regroup([float(j) if j.ndim == 0 else j for j in js], as_tuple) for js in jacs]
        return unflatten(tree, iter(per_output)) if several else per_output[0]

    jacobian_fn.mode = "not run yet"
    return jacobian_fn


def _drawn_once(fn, d, what):
    """Refuse `what` (which runs fn's code more than once and puts the results together) where fn draws
    random numbers from a generator outside it (np.random's own, or one a closure or the module holds):
    each run draws others, so the pieces would be of different programs."""
    bound = {n for n, v in d.generated.externals.items() if isinstance(v, RANDOM)}
    body = d.generated.nf.body
    read = loads(body)
    for stmt in ast.walk(ast.Module(body, [])):
        node = stmt.value if isinstance(stmt, ast.Assign) else None
        if draws(node) and names_in(stmt.targets[0]) & read:  # (a draw nothing reads changes nothing)
            path = ast.unparse(node.func)
            if path.startswith("np.random.") and path not in ("np.random.default_rng", "np.random.RandomState") \
                    or isinstance(node.func.value, ast.Name) and node.func.value.id in bound:
                raise ArgumentError(f"{what} runs {name_of(fn)} more than once, and each run draws other random "
                                    f"numbers from `{path}` (a generator outside the function): make the generator "
                                    "in the function from a seed (np.random.default_rng(seed)), or use grad or "
                                    "value_and_grad, which run it once")


def _same_leaves(fn, leaves, d):
    """Refuse an output whose leaves the generated code does not give one for one (a value that is None
    at run time, where the code holds a variable)."""
    if len(leaves) != len(d.generated.nf.results):
        raise AdjointError(f"{name_of(fn)} returned {len(leaves)} numbers and arrays in its output where its "
                           f"code has {len(d.generated.nf.results)} (a value that is None at run time?)\n"
                           "hint: return arrays and numbers in the same places on every run")


def _inputs(call, names):
    """The values (as the generated code takes them) of the generated code's parameters `names`."""
    by_name = dict(zip(call.params, call.values))
    return [by_name[n] for n in names]


def _no_containers(call, what):
    if call.trees:
        raise ArgumentError(f"{what} takes floats and arrays, not containers (`{call.trees[0][0]}`): use "
                            "adjoint.jacobian of adjoint.grad's function with arrays, or pass the arrays one by one")


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
        call = bind_call(fn, tuple(dict.fromkeys(rows + cols)), args, kwargs)
        _no_containers(call, "the Jacobian of a gradient")
        H, _ = _second(fn, rows, cols, jit, call)
        H = [tuple(r) if as_tuple else r[0] for r in H]
        return tuple(H) if rows_tuple else H[0]

    jacobian_fn.mode = "forward over reverse (the Jacobian of a gradient)"
    return jacobian_fn


MODES = ("reverse", "forward", "hvp")


def source(fn, *example_args, mode="reverse", wrt=0, optimize=True, checkpoint=False, memory=None):
    """The generated code, as text: the adjoint (mode "reverse"), the tangent code (mode "forward"), or
    the Hessian-vector product code, forward mode over the adjoint (mode "hvp").

    With example arguments, the code for their kinds (numbers, arrays of some rank): exactly what
    grad, vjp and jvp run for arguments like them. Without, code that assumes nothing of them (its
    docstring says which kinds it assumed). `checkpoint`, `memory`: the code value_and_grad runs with them."""
    fn = plain(fn)
    return generated(fn, example_args, mode, wrt, optimize, checkpointing(checkpoint, memory)).text


def generated(fn, example_args, mode="reverse", wrt=0, optimize=True, checkpoint=False):
    """The pipeline.Generated that source (and `adjoint dump`) shows."""
    fn = plain(fn)
    if not isinstance(mode, str) or mode not in MODES:
        raise ArgumentError(f"mode={mode!r:.60}: adjoint generates {' or '.join(map(repr, MODES))} code")
    for a in example_args:
        if isinstance(a, str) and a in MODES:
            raise ArgumentError(f"source(f, {a!r}): give the mode by keyword, source(f, mode={a!r}) (the "
                                "positional arguments are example arguments)")
    names, _ = wrt_names(fn, wrt)
    returns = "one" if mode == "hvp" else "tuple"  # (the code for a function that returns a tuple: a seed per item)
    if not example_args:
        return derivative(fn, names, None, optimize, (), mode, returns=returns, checkpoint=checkpoint).generated
    call = bind_call(fn, names, example_args, {})
    return derivative(call.fn, call.wrt, None, optimize, call.kinds, mode, call.trees, returns, checkpoint).generated


class Differentiated:
    """A function with its derivatives attached: `f(x)` runs it unchanged, `f.grad(x)` differentiates it."""

    def __init__(self, fn, wrt=0, jit=None, has_aux=False, checkpoint=False, memory=None):
        functools.update_wrapper(self, fn)
        self.fn, self.wrt, self.jit, self.has_aux, self.checkpoint = fn, wrt, jit, has_aux, checkpoint
        self.memory = memory
        checkpointing(checkpoint, memory)  # (a bad budget fails at decoration time)
        wrt_names(fn, wrt)  # a bad wrt fails at decoration time

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def grad(self, *args, **kwargs):
        return self._made(grad)(*args, **kwargs)

    def value_and_grad(self, *args, **kwargs):
        return self._made(value_and_grad)(*args, **kwargs)

    def _made(self, maker):
        """maker(fn, wrt, jit, has_aux, checkpoint, memory), made once for these options (it keeps its calls'
        thin path: adjoint/thin.py); made again when one of them is set to another value."""
        wrt = tuple(self.wrt) if isinstance(self.wrt, list) else self.wrt
        key = (maker, self.fn, wrt, self.jit, self.has_aux, self.checkpoint, self.memory)
        made = self.__dict__.setdefault("_made_by", {})  # (a copy shares it: its options are in the key)
        if key not in made:
            made[key] = maker(self.fn, self.wrt, self.jit, self.has_aux, self.checkpoint, self.memory)
        return made[key]

    def vjp(self, *args, **kwargs):
        return vjp(self.fn, *args, wrt=self.wrt, jit=self.jit, has_aux=self.has_aux, checkpoint=self.checkpoint,
                   memory=self.memory, **kwargs)

    def jvp(self, primals, tangents):
        return jvp(self.fn, primals, tangents, wrt=self.wrt, jit=self.jit)

    def source(self, *example_args, mode="reverse"):
        """The generated code (see adjoint.source); `f.source("forward")` names the mode."""
        if len(example_args) == 1 and isinstance(example_args[0], str):
            example_args, mode = (), example_args[0]
        if mode != "reverse":
            return source(self.fn, *example_args, mode=mode, wrt=self.wrt)
        return source(self.fn, *example_args, wrt=self.wrt, checkpoint=self.checkpoint, memory=self.memory)

    @property
    def jit_status(self):
        """Which path the last derivative ran on: numba, or python and why."""
        last = last_run(self.fn, wrt_names(self.fn, self.wrt)[0], self.jit)
        return last.jit_status if last is not None else "not run yet"

    def __reduce__(self):  # (by reference to the function, with the options: the module's name may be this object)
        return _differentiated, (reference(self.fn), self.wrt, self.jit, self.has_aux, self.checkpoint, self.memory)

    def __repr__(self):
        return f"<adjoint.differentiate {name_of(self.fn)} wrt={self.wrt!r} jit={self.jit!r}: {self.jit_status}>"


def _differentiated(where, wrt, jit, has_aux, checkpoint=False, memory=None):
    """A pickled Differentiated, loaded: the one module.qualname names if it has these options, else one
    made of the function there."""
    obj = named(*where)
    if isinstance(obj, Differentiated) and (obj.wrt, obj.jit, obj.has_aux, getattr(obj, "checkpoint", False),
                                            getattr(obj, "memory", None)) == (wrt, jit, has_aux, checkpoint, memory):
        return obj
    return Differentiated(plain(obj), wrt, jit, has_aux, checkpoint, memory)


def differentiate(fn=None, *, wrt=0, jit=None, has_aux=False, checkpoint=False, memory=None):
    """Decorator: `@differentiate` or `@differentiate(wrt=("x", "y"), jit=False, has_aux=True)`;
    `checkpoint` and `memory` as value_and_grad's (its grad and value_and_grad)."""
    if fn is None:
        return lambda f: Differentiated(f, wrt, jit, has_aux, checkpoint, memory)
    return Differentiated(fn, wrt, jit, has_aux, checkpoint, memory)
