"""What is known, before any call, about the values a normal-form statement computes: its number of
dimensions (0 for a number), or None when unknown.

Parameters get their kinds from the arguments of the call being differentiated (`adjoint.source`
without arguments knows none). The kinds let generated code skip broadcasting sums where no
broadcasting can happen, treat numbers as immutable when deciding aliasing, and index adjoints
directly where an index is a number.
"""

import ast

from ..frontend import dotted
from ..rules import BindError

_REDUCTIONS = {"np.sum", "np.mean", "np.max", "np.min", "np.amax", "np.amin", "np.prod", "np.var", "np.std",
               ".sum", ".mean", ".max", ".min", ".prod", ".var", ".std"}
_SCALAR_RESULTS = {"len", "int", "float", "round", "np.linalg.norm"}
_KEEP_NUMBERS = {".astype", "np.float64", "logistic", ".T", "np.diff"}  # of a number, a number (or NumPy's scalar)
_CREATORS = {"np.zeros", "np.ones", "np.empty", "np.full"}
_LIKE = {"np.zeros_like", "np.ones_like", "np.empty_like", "np.copy", "np.array", "np.asarray", ".copy", ".astype",
         "np.transpose", ".transpose", ".T", "np.diff", "np.float64", "logistic"}


def join(kinds):
    if any(k is None for k in kinds):
        return None
    return max(kinds, default=0)


def matmul(a, b):
    if a is None or b is None or a == 0 or b == 0:
        return None if a is None or b is None else max(a, b)
    return {(1, 1): 0, (2, 1): 1, (1, 2): 1, (2, 2): 2}.get((a, b))


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
        spelling = rule.spelling if rule is not None else (dotted(v.func) or "")
        args = list(v.args)
        if spelling.startswith(".") and isinstance(v.func, ast.Attribute):
            args = [v.func.value] + args
        kw = {k.arg: k.value for k in v.keywords}
        if rule is not None and rule.params:  # every argument in the rule's order, keywords included
            try:
                bound = rule.bind(args, kw)
                args, kw = [bound[p] for p in rule.params], {}
            except BindError:
                pass
        kinds = [self.atom(a) for a in args]
        if spelling in _SCALAR_RESULTS or spelling.startswith("math."):
            return 0
        if spelling in ("abs", "min", "max"):
            return join(kinds)
        axis = kw.get("axis", args[1] if len(args) > 1 else None)
        whole = axis is None or (isinstance(axis, ast.Constant) and axis.value is None)
        if spelling in _REDUCTIONS:
            if whole:
                return 0
            reduced = len(axis.elts) if isinstance(axis, ast.Tuple) else 1 if self.atom(axis) == 0 else None
            return None if kinds[0] is None or reduced is None else kinds[0] - reduced
        if spelling in ("np.cumsum", ".cumsum"):
            return 1 if whole else kinds[0]
        if spelling in _CREATORS:
            shape = args[0] if args else kw.get("shape")
            if isinstance(shape, ast.Tuple):
                return len(shape.elts) or None  # (shape (): a 0-d array, which writes change, unlike a number)
            return 1 if self.atom(shape) == 0 else None
        if spelling in _LIKE:
            if spelling == "np.array" and args and isinstance(args[0], ast.Tuple):
                return 1 if all(self.atom(e) == 0 for e in args[0].elts) else None
            if kinds and kinds[0] == 0 and spelling not in _KEEP_NUMBERS:
                return None  # a 0-d array made from a number: writable, and `a[...] = e` writes it
            return kinds[0] if kinds else None
        if spelling == "np.trace":  # over the first two axes
            return None if kinds[0] is None else max(kinds[0] - 2, 0)
        if spelling in ("np.dot", "np.matmul", ".dot"):
            return matmul(*kinds[:2]) if len(kinds) >= 2 else None
        if spelling in ("np.outer", "np.eye"):
            return 2
        if spelling in ("np.arange", "np.linspace", ".ravel", ".flatten", "np.ravel"):
            return 1
        if spelling in ("np.reshape", ".reshape"):
            shape = args[1] if len(args) > 1 else kw.get("shape")
            return len(shape.elts) if isinstance(shape, ast.Tuple) else (1 if self.atom(shape) == 0 else None)
        if rule is not None and (rule.broadcast or (spelling.startswith("np.") and len(rule.params) == 1)):
            return join(kinds)
        return None
