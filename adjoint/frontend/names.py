"""What a user function's names refer to: `resolve` finds the object a name or a dotted name means,
through the function's closure cells, its globals and the builtins, so `np.sin`, `numpy.sin`, `from numpy
import sin` and `sin = np.sin` all reach the same object; `functions_read` and `still_bound` tell
whether a derivative made from them is still current."""

import builtins
import inspect
import types

from ..ir.queries import dotted

_CO_NESTED = inspect.CO_NESTED
_MISSING = object()

def lookup(fn, name):
    """The object that the free name `name` of `fn` refers to, or _MISSING."""
    code = fn.__code__
    if name in code.co_freevars and fn.__closure__:
        cell = fn.__closure__[code.co_freevars.index(name)]
        try:
            return cell.cell_contents
        except ValueError:
            return _MISSING
    if name in fn.__globals__:
        return fn.__globals__[name]
    return getattr(builtins, name, _MISSING)


def resolve(fn, expr, local_names=()):
    """The object a Name or dotted Attribute chain refers to, or _MISSING (also for local names)."""
    path = dotted(expr)
    if path is None or path.split(".")[0] in local_names:
        return _MISSING
    return resolve_path(fn, path)


def still_bound(bindings):
    """Whether each (function, dotted name) of `bindings` refers to the same object as it did (or,
    for a number or string, to an equal one: a property may make a new float on each access; for a
    container, one holding the same items: see Contents)."""
    for (fn, path), then in bindings.items():
        now = resolve_path(fn, path)
        if isinstance(then, Contents):
            if not then.same(now):
                return False
        elif now is not then and not (type(now) is type(then) and type(now) in _VALUES and now == then):
            return False
    return True


class Contents:
    """A dict, list or tuple from outside the function as the derivative read it: its structure and
    its items (the same objects; numbers and strings by value), so that putting a new value at a key
    makes the derivative again, as replacing the name does."""

    def __init__(self, container):
        self.container, self.items = container, _items(container)

    def same(self, now):
        return now is self.container and _items(now) == self.items

    def __repr__(self):
        return f"Contents({self.container!r:.60})"


class _Same:
    """An item compared by identity (an array), or by value (a number or string)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        a, b = self.obj, other.obj
        return a is b or type(a) is type(b) and type(a) in _VALUES and a == b


def _items(value):
    if isinstance(value, dict):
        return ("dict", tuple(value), tuple(_items(v) for v in value.values()))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_items(v) for v in value))
    return _Same(value)


_VALUES = (int, float, bool, complex, str)

def resolve_path(fn, path):
    """The object that the dotted name `path` refers to in fn, or _MISSING; a path that starts with
    a dot is an attribute of fn itself (`.__defaults__`)."""
    if path.startswith("."):
        return getattr(fn, path[1:], _MISSING)
    head, *rest = path.split(".")
    obj = lookup(fn, head)
    for attr in rest:
        if obj is _MISSING:
            break
        obj = getattr(obj, attr, _MISSING)
    return obj


MISSING = _MISSING

def fingerprint(code):
    """What a code object computes, as a tuple of text, numbers and bytes that holds no line number,
    file name or address: two code objects with equal fingerprints run the same bytecode on the
    same constants and names (the same in every process, so it may key the text cache)."""
    return (code.co_name, code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount,
            code.co_flags & ~_CO_NESTED, code.co_code, code.co_names, code.co_varnames, code.co_freevars,
            code.co_cellvars, getattr(code, "co_exceptiontable", b""), tuple(_constant(c) for c in code.co_consts))


def _constant(value):
    if isinstance(value, types.CodeType):
        return fingerprint(value)
    if isinstance(value, tuple):
        return ("tuple", tuple(_constant(v) for v in value))
    if isinstance(value, frozenset):
        return ("frozenset", tuple(sorted(repr(_constant(v)) for v in value)))
    return (type(value).__name__, repr(value))  # (repr: 0.0 and -0.0, 1 and True, nan are told apart)


def functions_read(fn, bindings):
    """(function, its code) for fn and every Python function a derivative of it was made from: those
    whose names it resolved and those they named (`bindings`, NormalFunction.bindings), a custom
    rule's functions, a `differentiate`d function's own."""
    from ..custom import CustomVJP

    out = {}

    def add(obj):
        if isinstance(obj, CustomVJP):
            for f in (obj.fn, obj.fwd, obj.bwd):
                add(f)
        elif type(obj).__name__ == "Differentiated":
            add(getattr(obj, "fn", None))
        elif isinstance(obj, types.FunctionType):
            out.setdefault(obj, obj.__code__)

    add(fn)
    for (scope_fn, _), obj in bindings.items():
        add(scope_fn)
        add(obj)
    return tuple(out.items())
