"""Write the branch of a runtime helper that will run in place of the call, where the kinds of its
arguments (number of dimensions, 0 for a number) are known.

The helpers choose by type between numbers and arrays; with the kinds known, the generated code
reads as a person would write it, and Numba compiles less:

    x_bar = zeros_like(x)          ->  x_bar = np.zeros(x.shape)         (x an array)
                                       x_bar = 0.0                       (x a number)
    y_bar = unbroadcast(e, y)      ->  y_bar = e                         (numbers)
                                       y_bar = np.sum(e)                 (y a number, e an array)
                                       y_bar = np.full(y.shape, e)       (y an array, e a number)
                                       y_bar = summed_to(e, y.shape)     (arrays)
    a_bar = unsum(g, a, None)      ->  a_bar = np.full(a.shape, g)       (a an array)
    a_bar = unmean(g, a, None)     ->  a_bar = np.full(a.shape, g / max(a.size, 1))
    W_bar = matmul_left(g, W, h)   ->  W_bar = g[:, None] * h            (the adjoints of a @ b,
    h_bar = matmul_right(g, W, h)  ->  h_bar = g @ W                      by the kinds of a and b;
                                                                          np.dot's alike)
    x_bar = g * 2 * pow_base(x, 2) ->  x_bar = g * 2 * x                 (a constant exponent b: the
                                                                          base is a where b != 0)

A helper that reads an array only for its shape now reads `a.shape`, which `place_tape` can keep
without the array.
"""

import ast

from ..analysis.kinds import Kinds, join, matmul
from ..ir.build import clone, np_call
from ..ir.queries import dotted


def specialize(fdef, kinds):
    """fdef with the helper calls whose argument kinds are known replaced by what they compute."""
    return ast.fix_missing_locations(Specialize(kinds).visit(clone(fdef)))


def _shape(x):
    return ast.Attribute(clone(x), "shape", ast.Load())


# (kind of a, kind of b) -> the adjoints of a @ b with respect to a and to b
_MATMUL = {
    (2, 1): ("g[:, None] * b", "g @ a"),  # not np.outer, which Numba takes 2 s to compile
    (1, 2): ("b @ g", "a[:, None] * g"),
    (2, 2): ("g @ b.T", "a.T @ g"),
    (1, 1): ("g * b", "g * a"),
}


_AXIS_AT = {"unsum": 2, "unmean": 2, "unvar": 2, "unprod": 2, "unmax": 3, "unstd": 3}  # (helper(g, a, ...))


def _is_np(call, name):
    return isinstance(call.func, ast.Attribute) and call.func.attr == name and isinstance(call.func.value, ast.Name) \
        and call.func.value.id == "np"


def _axis(call):
    """The constant int axis of `np.f(a, axis)` or `np.f(a, axis=k)` (and nothing else), else None."""
    given = call.args[1:] + [k.value for k in call.keywords if k.arg == "axis"]
    if len(call.args) + len(call.keywords) == 2 and len(given) == 1 and isinstance(given[0], ast.Constant) \
            and type(given[0].value) is int:
        return given[0].value
    return None


def _axis_ddof(call):
    """(axis, ddof) of `np.var(a, axis=k, ddof=d)` (or np.std) with a constant int axis, ddof a number or a
    name (an atom, as given), else (None, None)."""
    given = dict(zip(("axis", "dtype", "out", "ddof"), call.args[1:]))
    given.update((k.arg, k.value) for k in call.keywords)
    axis, ddof = given.pop("axis", None), given.pop("ddof", ast.Constant(0))
    if given or not (isinstance(axis, ast.Constant) and type(axis.value) is int) or not (
            isinstance(ddof, ast.Name) or _number(ddof)):
        return None, None
    return axis.value, ddof


def _stable_axis(call):
    """The constant int axis of `np.argsort(a, axis, kind="stable")` (or "mergesort"), else None: a stable
    sort orders equal entries one way on both paths; NumPy's default sort orders them its own way, which
    Numba's does not follow (so that form is left to fail under Numba, and run as Python)."""
    given = dict(zip(("axis", "kind"), call.args[1:]))
    given.update((k.arg, k.value) for k in call.keywords)
    axis, kind = given.pop("axis", ast.Constant(-1)), given.pop("kind", None)
    if given or not (isinstance(kind, ast.Constant) and kind.value in ("stable", "mergesort")) or not (
            isinstance(axis, ast.Constant) and type(axis.value) is int):
        return None
    return axis.value


def _number(node):
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _substitute(expr, mapping):
    class Names(ast.NodeTransformer):
        def visit_Name(self, node):
            return clone(mapping[node.id]) if node.id in mapping else node

    return Names().visit(expr)


class Specialize(ast.NodeTransformer):
    """Replaces each helper call whose branch the kinds decide; a call they do not decide stays."""

    def __init__(self, kinds):
        self.kinds = Kinds(kinds)

    def kind(self, node):
        """The number of dimensions of an expression's value (0 for a number), or None if unknown."""
        if isinstance(node, (ast.Name, ast.Constant)):
            return self.kinds.atom(node)
        if isinstance(node, ast.BinOp):
            left, right = self.kind(node.left), self.kind(node.right)
            return matmul(left, right) if isinstance(node.op, ast.MatMult) else join([left, right])
        if isinstance(node, ast.UnaryOp):
            return self.kind(node.operand)
        if isinstance(node, ast.Compare):
            return join([self.kind(node.left)] + [self.kind(c) for c in node.comparators])
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            return self.kinds.subscript(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("saved", "mT",
                                                                                              "inv_stacked"):
            return self.kind(node.args[0])  # (the same kind as its argument)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "matmul_stacked":
            return matmul(self.kind(node.args[0]), self.kind(node.args[1]))
        return None

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.MatMult):
            return self.stacked_product(node, node.left, node.right)
        return node

    def stacked_product(self, node, a, b):
        """a @ b of a stack of matrices (3 dimensions) and a matrix or another stack: matmul_stacked (a loop
        over the stack under Numba, whose @ takes vectors and matrices)."""
        kinds = (self.kind(a), self.kind(b))
        if None not in kinds and min(kinds) >= 2 and max(kinds) == 3:
            return ast.Call(ast.Name("matmul_stacked", ast.Load()), [a, b], [])
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        helper = node.func.id if isinstance(node.func, ast.Name) else None
        args = node.args
        if dotted(node.func) == "np.linalg.inv" and len(args) == 1 \
                and self.kind(args[0]) == 3:  # (a stack of matrices: a loop over it under Numba)
            return ast.Call(ast.Name("inv_stacked", ast.Load()), args, [])
        if _is_np(node, "matmul") and len(args) == 2 and not node.keywords:  # (np.matmul is @, which Numba
            kinds = (self.kind(args[0]), self.kind(args[1]))  # takes for vectors and matrices)
            if None not in kinds and 1 <= min(kinds) and max(kinds) <= 2:
                return ast.BinOp(args[0], ast.MatMult(), args[1])
            return self.stacked_product(node, *args)
        where = _AXIS_AT.get(helper)
        if where is not None and len(args) > where and self.kind(args[1]) == 1 and isinstance(
                args[where], ast.Constant) and args[where].value in (0, -1):  # (the one axis of a vector: all of it)
            node.args[where] = ast.Constant(None)
        if helper == "zeros_like" and isinstance(args[0], ast.Name):
            k = self.kind(args[0])
            return node if k is None else ast.Constant(0.0) if k == 0 else np_call("zeros", _shape(args[0]))
        if helper == "unbroadcast" and isinstance(args[1], ast.Name):
            return self.unbroadcast(node, *args)
        if helper in ("unsum", "unmean") and len(args) == 3 and isinstance(args[1], ast.Name) and \
                isinstance(args[2], ast.Constant) and args[2].value is None and not node.keywords:
            g, a = args[:2]
            if self.kind(a) == 0:
                return g
            if self.kind(a) and self.kind(g) == 0:
                if helper == "unmean":  # (by at least 1: an empty a has an empty adjoint, no division by 0)
                    size = ast.Call(ast.Name("max", ast.Load()),
                                    [ast.Attribute(clone(a), "size", ast.Load()), ast.Constant(1)], [])
                    g = ast.BinOp(g, ast.Div(), size)
                return np_call("full", _shape(a), g)
        for reduction in ("sum", "max", "min", "mean", "prod", "var", "std", "amax", "amin"):
            if _is_np(node, reduction) and self.kind(args[0]) == 1 and _axis(node) in (0, -1):
                return np_call(reduction, args[0])  # (the one axis of a vector: all of it, which Numba takes)
        for reduction in ("sum", "max", "min", "mean", "amax", "amin", "prod", "var", "std"):  # over one axis of
            spread = _axis_ddof(node) if reduction in ("var", "std") else (_axis(node), None)  # a matrix or more:
            if _is_np(node, reduction) and (self.kind(args[0]) or 0) >= 2 and spread[0] is not None:  # loops
                helper = {"amax": "max", "amin": "min"}.get(reduction, reduction) + "_axis"  # under Numba
                extra = [] if spread[1] is None else [spread[1]]
                return ast.Call(ast.Name(helper, ast.Load()), [args[0], ast.Constant(spread[0])] + extra, [])
        if _is_np(node, "sort") and (self.kind(args[0]) or 0) >= 2 and (_axis(node) is not None or (
                len(args) == 1 and not node.keywords)):  # along one axis of a matrix or more: loops (Numba's
            axis = -1 if len(args) == 1 and not node.keywords else _axis(node)  # np.sort takes no axis)
            return ast.Call(ast.Name("sort_axis", ast.Load()), [args[0], ast.Constant(axis)], [])
        if _is_np(node, "argsort") and (self.kind(args[0]) or 0) >= 2 and _stable_axis(node) is not None:
            return ast.Call(ast.Name("argsort_axis", ast.Load()), [args[0], ast.Constant(_stable_axis(node)),
                                                                     ast.Constant(True)], [])
        if helper == "unmax" and len(args) == 4 and not node.keywords and (self.kind(args[1]) or 0) >= 2 and \
                isinstance(args[3], ast.Constant) and type(args[3].value) is int:  # over one axis of a matrix or more
            return ast.Call(ast.Name("unmax_axis", ast.Load()), args, [])
        if helper == "unsum" and len(args) == 3 and isinstance(args[1], ast.Name) and not node.keywords and \
                isinstance(args[2], ast.Constant) and isinstance(args[2].value, int) and \
                self.kind(args[1]) and self.kind(args[0]):  # an array summed over one axis
            return ast.Call(ast.Name("unsum_to", ast.Load()), [args[0], _shape(args[1]), args[2]], [])
        if helper in ("matmul_left", "matmul_right", "dot_left", "dot_right") and \
                all(isinstance(a, ast.Name) for a in args[1:]):  # (np.dot is a @ b for vectors and matrices)
            formulas = _MATMUL.get((self.kind(args[1]), self.kind(args[2])))
            if formulas is not None:
                formula = formulas[helper.endswith("_right")]
                return _substitute(ast.parse(formula, mode="eval").body, dict(zip("gab", args)))
        if helper == "pow_base" and len(args) == 2 and _number(args[1]) and args[1].value != 0 and (
                args[1].value >= 1 or (self.kind(args[0]) or 0) >= 1):
            return args[0]  # a ** (b - 1) neither divides by 0 (b >= 1) nor raises (an array)
        if helper == "log_base" and len(args) == 2 and (
                (_number(args[0]) and args[0].value != 0) or (_number(args[1]) and args[1].value <= 0)):
            return args[0]
        return node

    def unbroadcast(self, node, g, x):
        kx, kg = self.kind(x), self.kind(g)
        if kx is None or kg is None:
            return node
        if kx == 0:
            return g if kg == 0 else np_call("sum", g)
        if kg == 0:
            return np_call("full", _shape(x), g)
        return ast.Call(ast.Name("summed_to", ast.Load()), [g, _shape(x)], [])
