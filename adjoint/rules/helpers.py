"""What the compiler knows of each call that generated code makes (the runtime helpers of
adjoint/runtime.py, and the NumPy calls the transforms write), one record per call: the passes read
these facts here, not from lists of their own.

- shape_only: positions of the arguments it reads only for their shape and type (reverse.py: such
  an argument needs no value on a tape)
- linear_in_g: linear in its first argument, an adjoint, so a zero adjoint gives zero (reverse.py)
- fresh: its result shares no memory with its arguments (simplify.py: it may be written into)
- new_buffer: its result is always a new, writeable array (simplify.py: accumulate into it in place)
- sums_to_shape: it sums its first argument to a shape (simplify.py, strength.py)
- in_place: it writes into its first argument (simplify.py, fusion.py: a write, not a read)
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Facts:
    shape_only: frozenset = frozenset()
    linear_in_g: bool = False
    fresh: bool = False
    new_buffer: bool = False
    sums_to_shape: bool = False
    in_place: bool = False


def _f(shape_only=(), **facts):
    return Facts(frozenset(shape_only), **facts)


# a reduction's adjoint: linear in g, a new array (unsum alone may give a view of g)
_UN = dict(linear_in_g=True, fresh=True, new_buffer=True)

FACTS = {
    "unbroadcast": _f({1}, linear_in_g=True, sums_to_shape=True),
    "summed_to": _f(linear_in_g=True, sums_to_shape=True),
    "unsum": _f({1}, linear_in_g=True, fresh=True),
    "unsum_to": _f(linear_in_g=True),
    "unmean": _f({1}, **_UN),
    "unvar": _f(**_UN),
    "unstd": _f(**_UN),
    "unmax": _f(**_UN),
    "unprod": _f(**_UN),
    "uncumsum": _f(linear_in_g=True),
    "undiff": _f({1}, **_UN),
    "untrace": _f({1}, **_UN),
    "reshape_like": _f({1}, linear_in_g=True),
    "concat_part": _f({2}, linear_in_g=True),
    "stack_part": _f(linear_in_g=True),
    "matmul_left": _f(**_UN),
    "matmul_right": _f(**_UN),
    "outer_left": _f(**_UN),
    "outer_right": _f(**_UN),
    "times": _f(**_UN),
    "zeros_like": _f({0}, fresh=True, new_buffer=True),
    "saved": _f(fresh=True, new_buffer=True),
    "restore": _f(in_place=True),
    "add_at": _f(in_place=True),
    "add_into": _f(in_place=True),
    "push_shape": _f(in_place=True),
    "pop_shape": _f(in_place=True),
    "np.transpose": _f(linear_in_g=True),
    "np.zeros": _f(new_buffer=True),
    "np.ones": _f(new_buffer=True),
    "np.full": _f(new_buffer=True),
    "np.outer": _f(new_buffer=True),
    "np.dot": _f(new_buffer=True),
}


def having(fact):
    """The names of the calls that have `fact` (a field of Facts)."""
    return {name for name, facts in FACTS.items() if getattr(facts, fact)}


SHAPE_ONLY = {name: set(facts.shape_only) for name, facts in FACTS.items() if facts.shape_only}
