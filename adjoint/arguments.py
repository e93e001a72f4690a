"""Arguments in, derivatives out: binding a call's arguments to the parameters, checking them and
converting them to what the generated code takes (float64, C order), the kinds the code is
specialised to, the seeds; and the derivatives given back in the type of the argument they belong to."""

import functools
import importlib
import importlib.util
import inspect
import numbers
import os
import pickle
import re
import sys
import weakref

import numpy as np

from .custom import CustomVJP
from .errors import AdjointError, ArgumentError
from .ir.naming import RESERVED
from .trees import copied, flatten, holds_arrays, is_container, leaf_names, leaves_of, same_structure, unflatten

_UNITS = {"": 1, "b": 1, "k": 2 ** 10, "kb": 2 ** 10, "kib": 2 ** 10, "m": 2 ** 20, "mb": 2 ** 20, "mib": 2 ** 20,
          "g": 2 ** 30, "gb": 2 ** 30, "gib": 2 ** 30, "t": 2 ** 40, "tb": 2 ** 40, "tib": 2 ** 40}


def checkpointing(checkpoint, memory):
    """What the reverse transform's `checkpoint` takes (transforms/reverse.py `checkpointed`): a budget in
    bytes for the tapes (memory=, else the environment's ADJOINT_MEMORY), True (checkpoint=True and no
    budget: segments of about √n), or False (every tape kept whole)."""
    source = "memory"
    if memory is None and os.environ.get("ADJOINT_MEMORY", "").strip():
        memory, source = os.environ["ADJOINT_MEMORY"], "ADJOINT_MEMORY"
    if memory is None:
        return bool(checkpoint)
    value = None
    if isinstance(memory, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*", memory)
        if m and m.group(2).lower() in _UNITS:
            value = float(m.group(1)) * _UNITS[m.group(2).lower()]
    elif isinstance(memory, numbers.Real) and not isinstance(memory, bool):
        value = float(memory)
    if value is None or not 1 <= value < float("inf"):
        raise ArgumentError(f"{source}={memory!r:.40}: a memory budget is a number of bytes, or text like '64MB' "
                            "or '2GB' (powers of 1024)")
    return int(value)


_SIGNATURES = weakref.WeakKeyDictionary()  # function -> ((its defaults and code), its signature)


def signature_of(fn):
    """fn's signature, computed again only when its defaults are replaced (every call binds with it)."""
    if isinstance(fn, functools.partial):
        signature_of(fn.func)  # (what adjoint cannot differentiate is refused there)
        return inspect.signature(fn)
    target = fn.fn if isinstance(fn, CustomVJP) else fn
    if inspect.ismethod(target) or not callable(target) or not hasattr(target, "__code__"):
        from .frontend.source import read
        from .frontend.subset import check_subset
        check_subset(read(target))  # raises the AdjointError that explains what adjoint can differentiate
    # (its code too: replacing __code__, as IPython's autoreload does, may rename the parameters)
    defaults, known = (target.__defaults__, target.__kwdefaults__, target.__code__), _SIGNATURES.get(target)
    if known is None or any(a is not b for a, b in zip(known[0], defaults)):
        # its own parameters, not those of a function it says it wraps (functools.wraps): a call binds by them
        known = _SIGNATURES[target] = defaults, inspect.signature(target, follow_wrapped=False)
    return known[1]


def plain(fn):
    """The function an @adjoint.differentiate one wraps (what its derivatives differentiate), else fn."""
    return fn.fn if type(fn).__name__ == "Differentiated" and type(fn).__module__ == "adjoint.api" else fn


def reference(fn):
    """(module, qualified name, file) by which a module-level function is found again in another
    process: derivative functions and operators pickle as this, not as code (adjoint reads the source,
    which a function pickled by value, as cloudpickle sends a script's functions, no longer has)."""
    module, qualname = fn.__module__, fn.__qualname__
    if "<" in qualname:
        raise pickle.PicklingError(f"{name_of(fn)} is a lambda or a function defined inside another: its derivative "
                                   "pickles by reference to a module-level function; define it at module level")
    return module, qualname, fn.__code__.co_filename if module == "__main__" else None


def named(module, qualname, file=None):
    """The object module.qualname names (what a derivative function or operator pickled by reference
    finds when loaded). A script's function, in a process whose main is another (a Dask worker), is
    taken from the script's file imported as a module `__adjoint_main__` (its `if __name__ ==
    "__main__":` block not run), as multiprocessing does for its own workers."""
    obj = importlib.import_module(module)
    if module == "__main__" and file and not hasattr(obj, qualname.split(".")[0]):
        obj = sys.modules.get("__adjoint_main__") or _imported("__adjoint_main__", file)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def function_named(module, qualname, file=None):
    """The function module.qualname names: also the one an operator or @differentiate object there wraps."""
    obj = named(module, qualname, file)
    operator = getattr(obj, "operator", None)
    return plain(getattr(operator, "fn", obj) if type(operator).__name__ == "Operator" else obj)


def _imported(name, file):
    spec = importlib.util.spec_from_file_location(name, file)
    module = sys.modules[name] = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def wrt_names(fn, wrt):
    """(parameter names, whether the caller asked for a tuple) for a wrt of ints, strs or a tuple."""
    signature = signature_of(fn).parameters
    params = list(signature)
    as_tuple = isinstance(wrt, (tuple, list))
    names = []
    for w in (wrt if as_tuple else (wrt,)):
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise ArgumentError(f"wrt must be a position, a parameter name or a tuple of them, not {w!r}")
        if isinstance(w, int):
            if not -len(params) <= w < len(params):
                raise ArgumentError(f"wrt={w}: {name_of(fn)} has {len(params)} parameters ({', '.join(params)})")
            w = params[w]
            kind = signature[w].kind
            if kind in (kind.KEYWORD_ONLY, kind.VAR_KEYWORD):  # (a position counts parameters, not arguments)
                raise ArgumentError(f"wrt={wrt!r} names `{w}` of {name_of(fn)}, which is not given by position "
                                    f"(positions count parameters, and a *args parameter is one): name it, "
                                    f"wrt={w!r}")
        elif w not in params:
            raise ArgumentError(f"wrt={w!r}: {name_of(fn)} has no parameter `{w}` (it has {', '.join(params)})")
        names.append(w)
    if len(set(names)) != len(names):
        raise ArgumentError(f"wrt names a parameter twice: {names}")
    return tuple(names), as_tuple


def wrt_of(fn, wrt):
    """A function giving wrt_names(fn, wrt), found again when fn's code is replaced (which may rename
    its parameters)."""
    target = fn.fn if isinstance(fn, CustomVJP) else fn
    state = [(getattr(target, "__code__", None), *wrt_names(fn, wrt))]

    def names():
        code, names, as_tuple = state[0]
        now = getattr(target, "__code__", None)
        if now is not code:
            code, names, as_tuple = state[0] = (now, *wrt_names(fn, wrt))
        return names, as_tuple

    return names


def name_of(fn):
    return getattr(fn, "__qualname__", repr(fn))


def bind(fn, wrt, args, kwargs):
    """(positional values of every parameter, their kinds), checking the arguments.

    The kinds are (name, number of dimensions) pairs, 0 for a number, for the arguments that are
    numbers or NumPy arrays: the generated code is specialised to them. The values are what the
    generated code runs on: float16 and float32 arrays and NumPy scalars as float64 copies.
    """
    call = bind_call(fn, wrt, args, kwargs)
    return call.values, call.kinds


class Call:
    """A call's arguments bound: `values` (one per parameter of the generated code, in order: a
    container argument gives one per leaf, see trees.py), `params` (their names), `kinds`, `wrt` (the
    generated code's names of the inputs differentiated), `inputs` (their values as the caller gave
    them, whose types the derivatives take), `trees` ((parameter, treedef) of each container
    argument), and `given` (every argument as the caller gave it: `fn(*given)` runs the function)."""

    __slots__ = ("fn", "values", "params", "kinds", "wrt", "inputs", "trees", "given", "converted", "names",
                 "paths", "groups", "_kinds_of")

    def __init__(self, fn, values, params, kinds, wrt, inputs, trees, given, converted, names, groups, paths,
                 kinds_of):
        self.fn, self._kinds_of = fn, kinds_of  # (fn: the function a functools.partial calls)
        self.values, self.params, self.kinds, self.wrt, self.inputs = values, params, kinds, wrt, inputs
        self.trees, self.given, self.converted, self.names, self.groups = trees, given, converted, names, groups
        self.paths = paths  # a container leaf's parameter -> the leaf as the code spells it (`params['W1']`)

    def regroup(self, flat, as_tuple):
        """One value per wrt leaf (in `wrt`'s order), given back per wrt argument: a container's in
        its structure."""
        return regroup(self.groups, flat, as_tuple)

    def flat(self, given, as_tuple):
        """One value per wrt leaf, from values given per wrt argument (regroup's inverse)."""
        given = given if as_tuple else (given,)
        return [x for tree, v in zip(self.groups, given) for x in ([v] if tree is None else leaves_of(tree, v))]

    def derivatives(self, flat, as_tuple, what="the gradient"):
        """The derivatives of the wrt leaves, each in its input's type, in the wrt arguments' structure."""
        return self.regroup([in_type_of(v, x, what) for v, x in zip(flat, self.inputs)], as_tuple)

    def seeds(self, tangents, as_tuple, wrt):
        """The tangents (one per wrt argument, a container's in its structure) as the generated code
        takes them, one per wrt leaf, checked against their inputs."""
        if not as_tuple:
            tangents = (tangents,)
        elif not isinstance(tangents, (tuple, list)) or len(tangents) != len(self.groups):
            raise ArgumentError(f"wrt={wrt!r} asks for a tuple of {len(self.groups)} tangents, got {tangents!r:.80}")
        flat = []
        for tree, t in zip(self.groups, tangents):
            if tree is None:
                flat.append(t)
            elif not same_structure(tree, t):
                raise ArgumentError(f"a tangent must have the structure of its argument: got {t!r:.80}")
            else:
                flat += leaves_of(tree, t)
        values = dict(zip(self.params, self.values))
        return [check_tangent(w, values[w], t) for w, t in zip(self.wrt, flat)]

    def run(self, values=None):
        """The function's result for (copies of) its arguments as given, or for `values` of the generated
        code's parameters (containers rebuilt), passed as its signature takes them."""
        given = self.given if values is None else self.arguments(values)
        args, kwargs = [], {}
        for name, value in zip(self.names, copies(given)):
            kind = self._kinds_of.get(name)
            if kind is inspect.Parameter.VAR_POSITIONAL:
                args.extend(value)
            elif kind is inspect.Parameter.KEYWORD_ONLY:
                kwargs[name] = value
            elif kind is inspect.Parameter.VAR_KEYWORD:
                kwargs.update(value)
            else:
                args.append(value)
        return self.fn(*args, **kwargs)

    def arguments(self, values):
        """The arguments of the function (containers rebuilt) for values of the generated code's parameters."""
        if not self.trees:
            return list(values)
        by_name, trees = dict(zip(self.params, values)), dict(self.trees)
        return [unflatten(trees[p], iter([by_name[n] for n in leaf_names(trees[p])])) if p in trees else by_name[p]
                for p in self.names]


def regroup(groups, flat, as_tuple):
    """Call.regroup for a call's `groups` (the structure of each wrt argument, None for a leaf)."""
    leaves = iter(flat)
    parts = [next(leaves) if tree is None else unflatten(tree, leaves) for tree in groups]
    return tuple(parts) if as_tuple else parts[0]


def bind_call(fn, wrt, args, kwargs):
    while isinstance(fn, functools.partial):  # the function it calls, with the arguments it adds
        fn, args, kwargs = fn.func, fn.args + tuple(args), {**fn.keywords, **kwargs}
    names, kinds_of = _all_positional(fn, args, kwargs), {}
    if names is not None:  # the common call, bound without inspect (a gradient in an optimiser's loop)
        arguments = dict(zip(names, args))
    else:
        try:
            bound = signature_of(fn).bind(*args, **kwargs)
        except TypeError as e:
            raise ArgumentError(f"{name_of(fn)}(): {e}") from None
        bound.apply_defaults()
        arguments = bound.arguments
        kinds_of = {p.name: p.kind for p in bound.signature.parameters.values()
                    if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)}
    given, names, trees, groups, paths = list(arguments.values()), tuple(arguments), (), [None] * len(wrt), {}
    for k, v in arguments.items():
        if is_container(v) and (k in wrt or holds_arrays(v)):
            arguments, wrt, trees, groups, paths = _flattened(fn, arguments, wrt)
            break
    inputs = [arguments[w] for w in wrt]
    values, kinds = [], []
    converted = None  # id of an argument converted -> its float64 copy (the same array passed twice stays one)
    for k, v in arguments.items():
        t = type(v)
        if k in wrt:
            if not (t is float or t is np.ndarray and v.dtype.kind == "f" and v.dtype.itemsize == 8
                    and v.flags.c_contiguous):
                if converted is None:
                    converted = {}
                v = _check_input(k, v, fn, converted)
                t = type(v)
        elif t is np.ndarray:
            if v.dtype.kind == "f" and v.dtype.itemsize < 8 or not v.flags.c_contiguous:
                if converted is None:
                    converted = {}
                v = _float64(v, converted)
        elif t is not float and t is not int:
            if isinstance(v, np.ndarray):
                raise _subclass_error(k, v, fn)
            if isinstance(v, (np.float16, np.float32)):
                if converted is None:
                    converted = {}
                converted[id(v)] = v
                v, t = float(v), float
            elif t is list or t is tuple or t is dict:
                _refuse_subclasses_in(k, v, fn)
        values.append(v)
        if t is float:
            kinds.append((k, 0))
        elif t is np.ndarray:
            if v.ndim:  # (a 0-d array is an array, which a subscript can write into: not a number)
                kinds.append((k, v.ndim))
        else:
            d = _kind(v)
            if d is not None:
                kinds.append((k, d))
    return Call(fn, values, tuple(arguments), tuple(kinds), tuple(wrt), inputs, trees, given, bool(converted),
                names, groups, paths, kinds_of)


def _flattened(fn, arguments, wrt):
    """(the arguments with each container one per leaf, the wrt leaves, trees, groups): see Call."""
    taken = _names_in(fn) | set(arguments) | RESERVED
    flat, trees, leaves_of_wrt, paths = {}, [], {}, {}
    for k, v in arguments.items():
        if not (is_container(v) and (k in wrt or holds_arrays(v))):
            flat[k] = v
            continue
        taken.discard(k)
        tree, leaves = flatten(v, k, taken)
        trees.append((k, tree))
        flat.update((leaf, x) for leaf, x, _ in leaves)
        paths.update((leaf, where) for leaf, _, where in leaves)
        if k in wrt:
            for _, x, where in leaves:
                if not _floating(x):
                    what = f"an array of {x.dtype}" if isinstance(x, np.ndarray) else f"a value of type {type(x).__name__}"
                    raise ArgumentError(f"wrt names `{k}` of {name_of(fn)}, whose `{where}` is {what} ({x!r:.40}): "
                                        f"only float inputs have a gradient; keep ints, bools and complex numbers "
                                        f"out of `{k}`, or leave `{k}` out of wrt")
            leaves_of_wrt[k] = [leaf for leaf, _, _ in leaves]
    trees = tuple(trees)
    flat_wrt = [leaf for w in wrt for leaf in leaves_of_wrt.get(w, [w])]
    groups = [dict(trees)[w] if w in leaves_of_wrt else None for w in wrt]
    return flat, tuple(flat_wrt), trees, groups, paths


def _floating(x):
    return isinstance(x, (float, np.floating)) or isinstance(x, np.ndarray) and x.dtype.kind == "f"


def _names_in(fn):
    """Every name fn's code (and the code of functions defined in it) uses: a leaf's parameter avoids them."""
    target = fn.fn if isinstance(fn, CustomVJP) else fn
    names, todo = set(), [getattr(target, "__code__", None)]
    while todo:
        code = todo.pop()
        if code is None:
            continue
        names |= set(code.co_varnames) | set(code.co_names) | set(code.co_freevars) | set(code.co_cellvars)
        todo += [c for c in code.co_consts if inspect.iscode(c)]
    return names


def bind_primals(fn, names, primals):
    if not isinstance(primals, (tuple, list)):
        raise ArgumentError(f"pass the arguments of {name_of(fn)} as a tuple (primals), not a {type(primals).__name__}")
    return bind_call(fn, names, tuple(primals), {})


def _float64(array, converted):
    """A C-contiguous copy of an array, in float64 if it held smaller floats (one per array, however often
    it is passed): Numba's reshape refuses other layouts when the code runs, and float32 code is fragile."""
    copy = converted.get(id(array))
    if copy is None:
        dtype = np.float64 if array.dtype.kind == "f" else array.dtype
        copy = converted[id(array)] = array.astype(dtype, order="C")
    return copy


def _check_input(name, value, fn, converted):
    """A wrt argument as the generated code takes it: a float, or a float64 array (a float16 or
    float32 one as a float64 copy, noted in `converted`; its gradient is cast back to its dtype)."""
    t = type(value)
    if t is float or t is np.ndarray and value.dtype.kind == "f" and value.dtype.itemsize == 8 \
            and value.flags.c_contiguous:
        return value
    if t is np.ndarray:
        if value.dtype.kind == "f" and value.dtype.itemsize <= 8:
            return _float64(value, converted)
        if value.dtype.kind == "f":
            raise ArgumentError(f"wrt names `{name}` of {name_of(fn)}, an array of {value.dtype}: adjoint computes "
                                f"in float64, which would lose the extra precision; pass {name}.astype(np.float64)")
        if value.dtype.kind == "c":
            raise ArgumentError(f"wrt names `{name}` of {name_of(fn)}, an array of {value.dtype}: adjoint "
                                "differentiates real inputs; pass the real and imaginary parts as two float arrays "
                                f"({name}.real, {name}.imag)")
        raise ArgumentError(f"wrt names `{name}` of {name_of(fn)}, an array of {value.dtype}: only float "
                            f"arrays have a gradient; pass {name}.astype(float)")
    if isinstance(value, np.ndarray):
        raise _subclass_error(name, value, fn)
    if isinstance(value, bool) or isinstance(value, (numbers.Integral, np.integer)):
        raise ArgumentError(f"wrt names `{name}` of {name_of(fn)}, which is an int ({value!r}): only float "
                            f"inputs have a gradient; pass float({name}) or leave `{name}` out of wrt")
    if isinstance(value, np.floating):
        if value.dtype.itemsize > 8:
            raise ArgumentError(f"wrt names `{name}` of {name_of(fn)}, a {type(value).__name__}: adjoint computes in "
                                f"float64, which would lose the extra precision; pass float({name})")
        if value.dtype.itemsize < 8:
            converted[id(value)] = value
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (numbers.Complex, np.complexfloating)):
        raise ArgumentError(f"wrt names `{name}` of {name_of(fn)}, a complex number ({value!r}): adjoint "
                            "differentiates real inputs; pass the real and imaginary parts as two floats")
    raise ArgumentError(f"wrt names `{name}` of {name_of(fn)}, a {type(value).__name__}: adjoint differentiates "
                        "floats and float NumPy arrays (pass np.asarray(...))")


def _subclass_error(name, value, fn):
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    return ArgumentError(
        f"`{name}` of {name_of(fn)} is a {kind}, a subclass of numpy.ndarray: adjoint differentiates plain "
        f"arrays (a subclass may change what operators mean: np.matrix's `*` is a matrix product, a masked "
        f"array skips entries); pass np.asarray({name})")


def _refuse_subclasses_in(name, value, fn, depth=0):
    """Refuse an ndarray subclass inside a list, tuple or dict argument."""
    for v in (value.values() if type(value) is dict else value):
        if isinstance(v, np.ndarray):
            if type(v) is not np.ndarray:
                raise _subclass_error(f"{name}[...]", v, fn)
        elif depth < 4 and type(v) in (list, tuple, dict):
            _refuse_subclasses_in(name, v, fn, depth + 1)


def refuse_subclasses_read(fn, externals):
    """Refuse a module-level ndarray subclass that the function reads."""
    for name, v in externals.items():
        if isinstance(v, np.ndarray) and type(v) is not np.ndarray:
            kind = f"{type(v).__module__}.{type(v).__qualname__}"
            raise ArgumentError(
                f"{name_of(fn)} reads the module-level `{name}`, a {kind}, a subclass of numpy.ndarray: adjoint "
                f"differentiates with plain arrays (np.matrix's `*` is a matrix product, a masked array skips "
                f"entries); make it a plain array, `{name} = np.asarray({name})`")


def _all_positional(fn, args, kwargs):
    """fn's parameter names when args give every one of them by position, else None."""
    target = fn.fn if isinstance(fn, CustomVJP) else fn
    code = getattr(target, "__code__", None)
    if kwargs or code is None or code.co_argcount != len(args) or code.co_kwonlyargcount \
            or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return None
    return code.co_varnames[:len(args)]


def _kind(value):
    """The number of dimensions of a number (0) or NumPy array, else None."""
    if type(value) is float:
        return 0
    if isinstance(value, np.ndarray):
        return value.ndim or None  # (a 0-d array is not a number: see bind)
    if isinstance(value, (numbers.Number, np.number)):
        return 0
    return None


def check_tangent(name, value, tangent):
    return checked_seed(f"the tangent of `{name}`", tangent, f"`{name}` has", value)


def checked_seed(what, seed, of, value):
    """A tangent or cotangent as the generated code takes it (a float for a number, a float64 array
    for an array), checked against the value `of` it belongs to: a plain real array or number of its
    shape."""
    if isinstance(seed, np.ndarray) and type(seed) is not np.ndarray:
        raise ArgumentError(f"{what} is a {type(seed).__module__}.{type(seed).__qualname__}, a subclass of "
                            "numpy.ndarray; pass np.asarray(...) of it")
    try:
        array = np.asarray(seed)
    except (TypeError, ValueError) as e:
        raise ArgumentError(f"{what} must be a float or a float array, not {seed!r:.60} ({e})") from None
    if array.dtype.kind == "c":
        raise ArgumentError(f"{what} is complex: adjoint takes derivatives of real functions only")
    if array.dtype.kind not in "fiub":
        raise ArgumentError(f"{what} must be a float or a float array, not {seed!r:.60}")
    if array.shape != np.shape(value):
        raise ArgumentError(f"{what} has shape {array.shape}, {of} {np.shape(value)}")
    return array.astype(np.float64) if isinstance(value, np.ndarray) else float(array)


def unit_seeds(inputs, i, k):
    """Zeros shaped as each input (0.0 for a number), with 1.0 at entry k of inputs[i]."""
    seeds = [np.zeros(np.shape(v)) if np.ndim(v) else 0.0 for v in inputs]
    if np.ndim(inputs[i]):
        seeds[i][k] = 1.0
    else:
        seeds[i] = 1.0
    return seeds


def copies(values):
    """The values with arrays copied (inside containers too), for a call of the user's function (which
    may write into them)."""
    return [np.copy(v) if isinstance(v, np.ndarray) else copied(v) if is_container(v) else v for v in values]


def in_type_of(value, like, what):
    """The derivative `value` in the type and dtype of `like` (the argument it belongs to: a float for
    a float, an np.float32 for an np.float32, an array of its dtype for an array); refused when
    complex, which a real input's derivative is not (the function went through complex numbers)."""
    t = type(value)
    if t is float and type(like) is float or t is np.ndarray and type(like) is np.ndarray and value.dtype is like.dtype:
        return value  # (the common calls: like is a float or a float array, so value is not complex)
    if t is np.ndarray:
        if value.dtype.kind == "c":
            raise complex_derivative(what)
        if type(like) is np.ndarray:
            if value.dtype != like.dtype:
                value = value.astype(like.dtype)
            return value
        value = value[()] if value.ndim == 0 else value
    elif isinstance(value, (complex, np.complexfloating)):
        raise complex_derivative(what)
    if type(like) is np.ndarray:
        return np.asarray(value, dtype=like.dtype)
    if isinstance(like, np.floating):
        return type(like)(value)
    return float(value) if isinstance(value, (float, np.floating, numbers.Real)) else value


def complex_derivative(what):
    return AdjointError(f"{what} came out complex: the function computes with complex numbers, whose derivatives "
                        "adjoint does not take; write it with real arithmetic (the real and imaginary parts as "
                        "two floats)")


def scalar_output(out, fn):
    if type(out) is float:
        return out
    if not isinstance(out, (numbers.Number, np.number, np.ndarray)) or isinstance(out, (bool, np.bool_)) or \
            getattr(out, "dtype", None) == np.bool_:  # (a truth value has no derivative)
        raise ArgumentError(f"grad needs {name_of(fn)} to return a float, but it returned a {type(out).__name__}")
    if np.iscomplexobj(out):
        raise ArgumentError(f"grad needs {name_of(fn)} to return a real number, but it returned a complex one "
                            f"({out!r:.60}): differentiate its real part, its imaginary part or its abs()")
    if np.ndim(out) != 0:
        raise ArgumentError(f"grad needs {name_of(fn)} to return a scalar, but it returned an array of shape "
                            f"{np.shape(out)}; use adjoint.vjp for array outputs")
    return float(out) if isinstance(out, (float, np.floating, np.ndarray)) else out


def output_tree(out):
    """(the leaves of a function's output, its structure) for an output that is a container (a tuple
    of outputs, a dict of them, nested), the leaves in trees.flatten's order; else ([out], None)."""
    if not is_container(out):
        return [out], None
    treedef, leaves = flatten(out, "out", set())
    return [value for _, value, _ in leaves], treedef


def real_output(out, fn, what):
    """Refuse a complex output (of vjp, jvp, jacobian): its derivative is not taken."""
    if isinstance(out, (complex, np.complexfloating)) or isinstance(out, np.ndarray) and out.dtype.kind == "c":
        raise ArgumentError(f"{what} needs {name_of(fn)} to return real numbers, but it returned complex ones "
                            f"({out!r:.60}): differentiate their real and imaginary parts (np.real, np.imag) instead")
    return out
