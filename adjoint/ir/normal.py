"""The normal form: the user's function inlined, renamed so that each name is written once (outside
loops), with one operation per statement. `normalize` builds it; every later stage reads it."""

from dataclasses import dataclass, field

from ..errors import Location
from .naming import Namer


@dataclass
class NormalFunction:
    name: str
    params: tuple
    body: list
    result: object  # the name that holds the return value (a list of names: a tuple returned)
    namer: Namer
    constants: dict = field(default_factory=dict)  # module-level name -> literal value
    externals: dict = field(default_factory=dict)  # module-level name -> object bound at load
    kinds: dict = field(default_factory=dict)  # name -> number of dimensions (0: a number), when known
    origins: list = field(default_factory=list)  # lineno -> Location of the user's line
    user_names: dict = field(default_factory=dict)  # name -> the user's variable it is a version of
    # (function, dotted name) -> the object the name referred to when normalizing: what the derivative
    # was made from, besides the sources (a module-level constant, a helper function, np.sum, ...)
    bindings: dict = field(default_factory=dict)
    # has_aux: the names of the auxiliary outputs, returned as computed after the result, and the
    # structure they are given back in (a trees.py treedef whose leaves name them)
    aux: tuple = ()
    aux_tree: object = None

    @property
    def results(self):
        """The names the function returns: one, or one per item of a tuple it returns."""
        return (self.result,) if isinstance(self.result, str) else tuple(self.result)

    @property
    def scalars(self):
        return frozenset(n for n, k in self.kinds.items() if k == 0)

    def locate(self, stmt):
        lineno = getattr(stmt, "lineno", 0) or 0
        return self.origins[lineno] if 0 < lineno < len(self.origins) else Location("<generated>", 0, -1, "")
