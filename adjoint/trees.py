"""Containers of arguments (pytrees, as JAX calls them): any nesting of dict, list, tuple and
NamedTuple whose leaves are numbers and arrays. A container argument reaches the generated code as
one parameter per leaf (`params["W1"]` as `params_W1`), and its derivatives come back in its
structure.

A structure (`treedef`) is a hashable record of nested tuples, which the normalizer reads to give
the user's code its containers back:

    ("leaf", name)                         a number or an array: the parameter `name`
    ("const", value)                       None or a str, known when compiling
    ("tuple", (sub, ...))   ("list", (sub, ...))
    ("dict", (key, ...), (sub, ...))       keys: str or int, in the dict's order
    ("namedtuple", cls, (sub, ...))        cls._fields names the parts
"""

import keyword
import numbers
import re

import numpy as np

from .errors import ArgumentError


def is_container(value):
    t = type(value)
    return t is dict or t is list or t is tuple or is_namedtuple(value)


def is_namedtuple(value):
    return isinstance(value, tuple) and type(value) is not tuple and hasattr(type(value), "_fields")


def holds_arrays(value):
    """Whether a container holds a dict, a NamedTuple or an array somewhere (a plain tuple or list of
    numbers, such as a shape, stays one runtime value)."""
    if type(value) is dict or is_namedtuple(value):
        return True
    return any(isinstance(v, np.ndarray) or is_container(v) and holds_arrays(v) for v in _items(value))


def flatten(value, name, taken):
    """(treedef, [(leaf name, leaf value, the leaf as the code spells it: `params['W1']`)]) of a
    container argument called `name`; the leaf names avoid `taken` (and are added to it)."""
    leaves = []

    def walk(v, path, where):
        t = type(v)
        if t is dict:
            keys = tuple(v)
            for k in keys:
                if type(k) not in (str, int):
                    raise ArgumentError(f"`{where}` has the key {k!r}: adjoint takes dicts whose keys are strs or ints")
            return "dict", keys, tuple(walk(v[k], f"{path}_{k}", f"{where}[{k!r}]") for k in keys)
        if is_namedtuple(v):
            return "namedtuple", t, tuple(walk(x, f"{path}_{f}", f"{where}.{f}") for f, x in zip(t._fields, v))
        if t is list or t is tuple:
            return t.__name__, tuple(walk(x, f"{path}_{i}", f"{where}[{i}]") for i, x in enumerate(v))
        if v is None or t is str:
            return "const", v
        if isinstance(v, (np.ndarray, numbers.Number, np.number)):
            leaf = _fresh(path, taken)
            leaves.append((leaf, v, where))
            return "leaf", leaf
        raise ArgumentError(f"`{where}` is a {t.__name__}: adjoint takes containers (dict, list, tuple, "
                            "NamedTuple) of numbers and arrays")

    return walk(value, name, name), leaves


def unflatten(treedef, leaves):
    """The container of `treedef` with its leaves taken, in order, from the iterator `leaves`."""
    kind = treedef[0]
    if kind == "leaf":
        return next(leaves)
    if kind == "const":
        return treedef[1]
    if kind == "dict":
        return {k: unflatten(sub, leaves) for k, sub in zip(treedef[1], treedef[2])}
    if kind == "namedtuple":
        return treedef[1](*(unflatten(sub, leaves) for sub in treedef[2]))
    parts = [unflatten(sub, leaves) for sub in treedef[1]]
    return parts if kind == "list" else tuple(parts)


def leaf_names(treedef):
    kind = treedef[0]
    if kind == "leaf":
        return [treedef[1]]
    if kind == "const":
        return []
    return [n for sub in treedef[-1] for n in leaf_names(sub)]


def spelled(treedef, name):
    """leaf parameter -> the leaf as the code spells it (`params['W1']`, `p.x0`, `ws[0]`)."""
    out = {}

    def walk(tree, where):
        kind = tree[0]
        if kind == "leaf":
            out[tree[1]] = where
        elif kind == "dict":
            for k, sub in zip(tree[1], tree[2]):
                walk(sub, f"{where}[{k!r}]")
        elif kind == "namedtuple":
            for f, sub in zip(tree[1]._fields, tree[2]):
                walk(sub, f"{where}.{f}")
        elif kind != "const":
            for i, sub in enumerate(tree[1]):
                walk(sub, f"{where}[{i}]")

    walk(treedef, name)
    return out


def same_structure(treedef, value):
    """Whether value is a container of treedef's structure (a leaf: anything but a container)."""
    kind = treedef[0]
    if kind in ("leaf", "const"):
        return not is_container(value)
    if kind == "dict":
        return type(value) is dict and tuple(value) == treedef[1] and all(
            same_structure(s, value[k]) for k, s in zip(treedef[1], treedef[2]))
    if kind == "namedtuple":
        return type(value) is treedef[1] and all(same_structure(s, v) for s, v in zip(treedef[2], value))
    return type(value).__name__ == kind and type(value) in (list, tuple) and len(value) == len(treedef[1]) and all(
        same_structure(s, v) for s, v in zip(treedef[1], value))


def leaves_of(treedef, value):
    """The leaves of value, a container of treedef's structure, in treedef's order."""
    kind = treedef[0]
    if kind == "leaf":
        return [value]
    if kind == "const":
        return []
    if kind == "dict":
        return [x for k, s in zip(treedef[1], treedef[2]) for x in leaves_of(s, value[k])]
    return [x for s, v in zip(treedef[-1], value) for x in leaves_of(s, v)]


def copied(value):
    """A container with its arrays copied, its structure and other leaves as they are."""
    def walk(v):
        if isinstance(v, np.ndarray):
            return v.copy()
        if type(v) is dict:
            return {k: walk(x) for k, x in v.items()}
        if is_namedtuple(v):
            return type(v)(*map(walk, v))
        if type(v) in (list, tuple):
            return type(v)(map(walk, v))
        return v

    return walk(value)


def _items(value):
    return value.values() if type(value) is dict else value


def _fresh(path, taken):
    name = re.sub(r"\W", "_", path)
    if keyword.iskeyword(name) or name in taken:
        base, k = name, 2
        while f"{base}_{k}" in taken:
            k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name
