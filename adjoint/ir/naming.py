"""Deterministic names: every name in use is collected first, and a new name gets a counter on collision."""

from .. import runtime

# names generated code may use: modules, helpers and the builtins that rules spell bare
RESERVED = frozenset({"np", "math", "sum", "pow", "abs", "float", "int", "len", "range", "min", "max", "bool", "round",
                      "isinstance", "slice", "True", "False", "None"}) | frozenset(runtime.EXPORTED)


class Namer:
    """Hands out names not yet taken: `fresh("x_bar")` gives x_bar, then x_bar_1, x_bar_2, ..."""

    def __init__(self, taken=()):
        self.taken = set(taken) | RESERVED

    def fresh(self, base):
        base = base or "t"
        name, n = base, 0
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name

    def claim(self, name):
        self.taken.add(name)
        return name
