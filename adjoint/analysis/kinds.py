"""What is known, before any call, about the values a normal-form statement computes: its number of
dimensions (0 for a number), or None when unknown.

Parameters get their kinds from the arguments of the call being differentiated (`adjoint.source`
without arguments knows none). The kinds let generated code skip broadcasting sums where no
broadcasting can happen, treat numbers as immutable when deciding aliasing, and index adjoints
directly where an index is a number.
"""

import ast

from ..rules import BindError


def join(kinds):
    if any(k is None for k in kinds):
        return None
    return max(kinds, default=0)


def matmul(a, b):
    if a is None or b is None or a == 0 or b == 0:
        return None if a is None or b is None else max(a, b)
    if a == 1 or b == 1:  # (a vector's one axis is summed: a number, a vector, or a stack of vectors)
        return max(a, b) - 1
    return max(a, b)  # (matrices, or stacks of them broadcast against each other)


class Kinds:
    """The kind of each name, filled in as the normalizer emits statements."""

    def __init__(self, known=None):
        self.of = dict(known or {})

    def atom(self, node):
        if isinstance(node, ast.Constant):
            return 0 if isinstance(node.value, (bool, int, float)) else None
        if isinstance(node, ast.Name):
            return self.of.get(node.id)
        if isinstance(node, ast.Tuple):
            return None
        return None

    def value(self, v, rule=None):
        """The kind of a normal-form right-hand side."""
        if isinstance(v, (ast.Name, ast.Constant)):
            return self.atom(v)
        if isinstance(v, ast.BinOp):
            if isinstance(v.op, ast.MatMult):
                return matmul(self.atom(v.left), self.atom(v.right))
            return join([self.atom(v.left), self.atom(v.right)])
        if isinstance(v, ast.UnaryOp):
            return self.atom(v.operand)
        if isinstance(v, ast.Compare):
            return join([self.atom(v.left), self.atom(v.comparators[0])])
        if isinstance(v, ast.Subscript):
            return self.subscript(v)
        if isinstance(v, ast.Attribute):
            return {"T": self.atom(v.value), "ndim": 0, "size": 0}.get(v.attr)
        if isinstance(v, ast.Call):
            return self.call(v, rule)
        return None

    def subscript(self, v):
        if isinstance(v.value, ast.Attribute) and v.value.attr == "shape":
            return 0 if not isinstance(v.slice, ast.Slice) else None
        base = self.atom(v.value)
        parts = v.slice.elts if isinstance(v.slice, ast.Tuple) else [v.slice]
        if base is None:
            return None
        ints = slices = news = 0
        for p in parts:
            if isinstance(p, ast.Slice):
                slices += 1
            elif isinstance(p, ast.Constant) and p.value is None:
                news += 1
            elif isinstance(p, ast.Constant) and isinstance(p.value, int) and not isinstance(p.value, bool):
                ints += 1
            elif isinstance(p, ast.Name) and self.of.get(p.id) == 0:
                ints += 1
            else:
                return None
        if ints + slices > base:
            return None
        return base - ints + news

    def call(self, v, rule):
        """The kind of a call's result, by its rule's `result` form (rules/__init__.py)."""
        if rule is None or rule.result is None:
            return None
        args = list(v.args)
        if rule.is_method and isinstance(v.func, ast.Attribute):
            args = [v.func.value] + args
        kw = {k.arg: k.value for k in v.keywords}
        if rule.params:  # every argument in the rule's order, keywords included
            try:
                bound = rule.bind(args, kw)
                args, kw = [bound[p] for p in rule.params], {}
            except BindError:
                pass
        return _FORMS[rule.result](self, args, kw)

    def reduced(self, args, kw):
        axis = kw.get("axis", args[1] if len(args) > 1 else None)
        if axis is None or (isinstance(axis, ast.Constant) and axis.value is None):
            return 0
        reduced = len(axis.elts) if isinstance(axis, ast.Tuple) else 1 if self.atom(axis) == 0 else None
        first = self.atom(args[0])
        return None if first is None or reduced is None else first - reduced

    def expanded(self, args, kw):
        """np.expand_dims's: the first's with one axis more for each axis it is given (constants)."""
        axis = kw.get("axis", args[1] if len(args) > 1 else None)
        first = self.atom(args[0]) if args else None
        if isinstance(axis, ast.Tuple) and all(isinstance(e, ast.Constant) and type(e.value) is int for e in axis.elts):
            added = len(axis.elts)
        elif isinstance(axis, ast.Constant) and type(axis.value) is int:
            added = 1
        else:
            return None
        return None if not first else first + added

    def cumsum(self, args, kw):
        axis = kw.get("axis", args[1] if len(args) > 1 else None)
        whole = axis is None or (isinstance(axis, ast.Constant) and axis.value is None)
        return 1 if whole else self.atom(args[0])

    def shaped(self, shape):
        """The kind of an array made with this shape argument."""
        if isinstance(shape, ast.Tuple):
            return len(shape.elts) or None  # (shape (): a 0-d array, which writes change, unlike a number)
        return 1 if self.atom(shape) == 0 else None

    def first(self, args, keep_numbers=False):
        kind = self.atom(args[0]) if args else None
        if kind == 0 and not keep_numbers:
            return None  # a 0-d array made from a number: writable, and `a[...] = e` writes it
        return kind


_FORMS = {
    "join": lambda k, args, kw: join([k.atom(a) for a in args]),
    "number": lambda k, args, kw: 0,
    "first": lambda k, args, kw: k.first(args),
    "first_or_number": lambda k, args, kw: k.first(args, keep_numbers=True),
    "array": lambda k, args, kw: (1 if all(k.atom(e) == 0 for e in args[0].elts) else None)
    if args and isinstance(args[0], ast.Tuple) else k.first(args),
    "reduce": Kinds.reduced,
    "cumsum": Kinds.cumsum,
    "expand": Kinds.expanded,
    "shape": lambda k, args, kw: k.shaped(args[0] if args else kw.get("shape")),
    "reshape": lambda k, args, kw: k.shaped(args[1] if len(args) > 1 else kw.get("shape")),
    "vector": lambda k, args, kw: 1,
    "rows": lambda k, args, kw: None if k.atom(args[0]) is None else k.atom(args[0]) + 1,
    "matrix": lambda k, args, kw: 2,
    "matmul": lambda k, args, kw: matmul(*[k.atom(a) for a in args[:2]]) if len(args) >= 2 else None,
    "drop1": lambda k, args, kw: None if k.atom(args[0]) is None else k.atom(args[0]) - 1,
    "drop2": lambda k, args, kw: None if k.atom(args[0]) is None else k.atom(args[0]) - 2,
    "solve": lambda k, args, kw: None if None in (k.atom(args[0]), k.atom(args[1])) else
    k.atom(args[0]) - 1 if k.atom(args[1]) == 1 else max(k.atom(args[0]), k.atom(args[1])),
    "diag": lambda k, args, kw: {1: 2, 2: 1}.get(k.atom(args[0])),
    "flat_or_first": lambda k, args, kw: 1 if isinstance(args[-1], ast.Constant) and args[-1].value is None
    else k.atom(args[0]),  # (the last parameter is the axis)
    "trace": lambda k, args, kw: None if k.atom(args[0]) is None else max(k.atom(args[0]) - 2, 0),  # first two axes
}
