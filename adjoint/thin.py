"""The thin call path: a derivative function called again with arguments like an earlier call's (by
position, each a float, an int, a bool, an array of the same dtype, dimensions and memory layout, or a
dict with the same str keys of such values; nothing to convert) runs the code that call settled on,
without binding the arguments again or looking the Derivative up: what an optimiser calling a
gradient thousands of times pays for each call is then the staleness check (Derivative.current)
and a few dictionary lookups."""

import types

import numpy as np

from .arguments import in_type_of, regroup
from .backend.dispatch import kind_key
from .rules.table import TABLE

# The bits of ndarray.flags.num that Numba's type of an array depends on (backend.dispatch.kind_key):
# C order, Fortran order, aligned, writeable (NumPy's NPY_ARRAY_* values).
_LAYOUT = 0x1 | 0x2 | 0x100 | 0x400


def flat(args):
    """(a key of the arguments' kinds: everything bind_call's checks and conversions and the compiled
    code's types depend on; the values the generated code takes, a dict's leaves in its order, as
    trees.flatten gives them), or None for an argument the thin path does not take."""
    key, values = [], []
    for a in args:
        if not _add(a, key, values):
            return None
    return tuple(key), values


def _add(a, key, values):
    t = type(a)
    if t is np.ndarray:
        key.append((a.dtype, a.ndim, a.flags.num & _LAYOUT))
    elif t is float or t is bool or t is int and -2**63 <= a < 2**63:
        key.append(t)
    elif t is dict:
        key.append(dict)
        for k, v in a.items():
            if type(k) is not str:
                return False
            key.append(k)
            if not _add(v, key, values):
                return False
        key.append(None)  # (where the dict ends)
        return True
    else:
        return False
    values.append(a)
    return True


class Thin:
    """The calls of one derivative function (grad(f), value_and_grad(f)) that went the whole way,
    by their arguments' kinds: `find` gives, for a call like one of them, the entry (its Derivative
    and how its derivatives come back) and the callable that runs it; `keep` records a call."""

    def __init__(self, fn):
        self.fn = fn if type(fn) is types.FunctionType else None
        self.code, self.argcount = None, None
        self.calls = {}  # flat(args)'s key -> _Entry

    def positional(self, args):
        """The arguments of every parameter, when args give them by position, the function's defaults
        the rest (as its code and defaults are now: `f.__code__` may be replaced), and it has no
        keyword-only or variadic parameters; else None."""
        code = getattr(self.fn, "__code__", None)
        if code is not self.code:
            self.code = code
            self.argcount = None if code is None or code.co_kwonlyargcount or code.co_flags & 0x0C \
                else code.co_argcount
        if len(args) == self.argcount:
            return args
        defaults = self.argcount is not None and self.fn.__defaults__ or ()
        if self.argcount is None or not self.argcount - len(defaults) <= len(args) < self.argcount:
            return None
        return args + defaults[len(defaults) - (self.argcount - len(args)):]

    def find(self, args):
        """(entry, the callable that runs the generated code, the values it takes), or None."""
        args = self.positional(args)
        found = None if args is None else flat(args)
        entry = found and self.calls.get(found[0])
        if not entry or entry.version != TABLE.version or not entry.d.current():
            return None
        if entry.arrays and tuple(map(kind_key, entry.d.arrays)) != entry.arrays:  # (changed in place)
            return None
        run = entry.d.runner(entry.key)
        return None if run is None else (entry, run, found[1])

    def keep(self, args, call, d, as_tuple):
        """Record a call of d (seeded with 1.0) that went the whole way, when a like call may take the
        thin path: positional arguments of a plain function (defaults filled in), none converted, the
        values found here the ones the call bound."""
        args = self.positional(args)
        if call.fn is self.fn and args is not None and not call.converted:
            found = flat(args)
            if found is not None and len(found[1]) == len(call.values):
                self.calls[found[0]] = _Entry(d, d.kinds(call.values, (1.0,)), call, as_tuple)


class _Entry:
    __slots__ = ("d", "key", "at", "groups", "as_tuple", "version", "arrays")

    def __init__(self, d, key, call, as_tuple):
        self.d, self.key, self.as_tuple, self.version = d, key, as_tuple, TABLE.version
        self.at = tuple(call.params.index(w) for w in call.wrt)  # the values differentiated
        self.groups = call.groups
        self.arrays = tuple(map(kind_key, d.arrays))  # (module-level arrays: dtype, rank, layout)

    def derivatives(self, grads, values, what="the gradient"):
        """What Call.derivatives gives for a call whose generated code took these values."""
        if not self.as_tuple and self.groups[0] is None:
            return in_type_of(grads[0], values[self.at[0]], what)
        return regroup(self.groups, [in_type_of(g, values[i], what) for g, i in zip(grads, self.at)], self.as_tuple)
