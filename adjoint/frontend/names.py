"""What a user function's names refer to: `resolve` finds the object a name or a dotted name means,
through the function's closure cells, its globals and the builtins, so `np.sin`, `numpy.sin`, `from numpy
import sin` and `sin = np.sin` all reach the same object; `functions_read` and `watcher` tell
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


def watcher(codes, bindings):
    """A function of no arguments telling whether each function of `codes` ((function, code) pairs)
    still runs that code, and each (function, dotted name) of `bindings` refers to the same object as
    it did (or, for a number or string, to an equal one: a property may make a new float on each
    access; for a container, one holding the same items: see Contents).

    Every call of a derivative asks it, so each lookup is planned here once (a closure cell, or the
    function's globals then the builtins, as `lookup` does for the code the function has now, which
    the codes check keeps), and a name read by several dotted paths (np, np.sin, np.sum) is looked up once."""
    heads = {}  # (function, first name, or None for an attribute of the function) -> [(attributes, then)]
    for (fn, path), then in bindings.items():
        head, *rest = (None, path[1:]) if path.startswith(".") else path.split(".")
        heads.setdefault((fn, head), []).append((tuple(rest), then))
    plan = []  # (how: 0 globals, 1 a cell, 2 the function itself; where, name, [(attributes, then)])
    for (fn, head), paths in heads.items():
        code = fn.__code__
        if head is None:
            plan.append((2, fn, head, paths))
        elif head in code.co_freevars and fn.__closure__:
            plan.append((1, fn.__closure__[code.co_freevars.index(head)], head, paths))
        else:
            plan.append((0, fn.__globals__, head, paths))
    plan = tuple(plan)
    codes = tuple(codes)
    missing, built_in = _MISSING, builtins.__dict__

    def current():
        for f, code in codes:
            if f.__code__ is not code:
                return False
        for how, where, head, paths in plan:
            if how == 0:
                obj = where.get(head, missing)
                if obj is missing:
                    obj = built_in.get(head, missing)
            elif how == 1:
                try:
                    obj = where.cell_contents
                except ValueError:
                    obj = missing
            else:
                obj = where
            for attributes, then in paths:
                now = obj
                for a in attributes:
                    now = getattr(now, a, missing)
                if now is not then and not _same(now, then):
                    return False
        return True

    return current


def _same(now, then):
    if isinstance(then, Contents):
        return then.same(now)
    return type(now) is type(then) and type(now) in _VALUES and now == then


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
