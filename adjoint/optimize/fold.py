"""fold: constant arithmetic and identities in generated code (`2 - 1` -> `1`, `e * 1` -> `e`,
`e ** 1` -> `e`, `--e` -> `e`), and products of adjoints with known divisions (`times`)."""

import ast
import math
import numbers

from ..ir.build import clone
from ..rules.helpers import having

SUMS_TO_SHAPE = having("sums_to_shape")


def _num(node):
    return isinstance(node, ast.Constant) and isinstance(node.value, numbers.Number) and not isinstance(node.value, bool)


def _power_of_two(node):
    """Whether node is a number ±2**k (multiplying by it only moves the exponent)."""
    if not _num(node) or node.value == 0 or isinstance(node.value, complex):
        return False
    mantissa, _ = math.frexp(abs(node.value))
    return mantissa == 0.5


def _is_neg(node):
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)


def _negated_factor(node):
    """node (a product or quotient) with one of its numeric factors negated, or None if it has none
    (`a * 2 * b` -> `a * -2 * b`: the same number as `-(a * 2 * b)`, exactly; not an int 0, whose
    negation loses the sign: `-(a * 0)` is -0.0 for a > 0, `a * -0` is 0.0)."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div))):
        return None
    for field in ("right", "left") if isinstance(node.op, ast.Mult) else ("right",):
        part = getattr(node, field)
        if _num(part) and (part.value != 0 or isinstance(part.value, float)):
            return ast.copy_location(ast.BinOp(**{**vars(node), field: ast.Constant(-part.value)}), node)
    inner = _negated_factor(node.left)
    return None if inner is None else ast.copy_location(ast.BinOp(inner, node.op, node.right), node)


def _signbit(value):
    return math.copysign(1.0, value) < 0


class Fold(ast.NodeTransformer):
    """Constant folding and algebraic identities on expressions, each exact: the folded expression
    gives the same number, to the bit (for a product with a power of two, except where it would
    overflow or become subnormal)."""

    def visit_Assign(self, node):
        """An assignment of arithmetic keeps the arithmetic's new array: `y = x * 1` folded to `y = x`
        would make a write into y change x too (the parts are folded)."""
        value = node.value
        folded = self.visit(clone(value))
        if isinstance(value, (ast.BinOp, ast.UnaryOp)) and isinstance(folded, (ast.Name, ast.Subscript, ast.Attribute)):
            node.value = self.generic_visit(value)
        else:
            node.value = folded
        for t in node.targets:
            self.visit(t)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = node.left, node.right, node.op
        if _num(left) and _num(right) and isinstance(op, (ast.Add, ast.Sub, ast.Mult)):
            value = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                     ast.Mult: lambda a, b: a * b}[type(op)](left.value, right.value)
            return ast.copy_location(ast.Constant(value), node)
        if isinstance(op, ast.Mult) and _num(right) and isinstance(left, ast.BinOp) and isinstance(left.op, ast.Mult) \
                and _num(left.right) and (_power_of_two(right) or _power_of_two(left.right)):
            return ast.copy_location(ast.BinOp(left.left, op, ast.Constant(left.right.value * right.value)), node)
        if isinstance(op, (ast.Mult, ast.Div)) and (_is_neg(left) or _is_neg(right) and isinstance(op, ast.Mult)):
            pulled = ast.BinOp(left.operand if _is_neg(left) else left, op, right.operand if _is_neg(right) else right)
            if _is_neg(left) != _is_neg(right):  # (-a) * b -> -(a * b), and into a constant factor if any
                return self.visit_UnaryOp(ast.copy_location(ast.UnaryOp(ast.USub(), pulled), node))
            return ast.copy_location(pulled, node)
        if isinstance(op, ast.Mult) and _num(right) and right.value == 1 and not isinstance(right.value, float):
            return left
        if isinstance(op, ast.Mult) and _num(left) and left.value == 1 and not isinstance(left.value, float):
            return right
        if isinstance(op, ast.Pow) and _num(right) and right.value == 1:
            return left
        if _num(right) and right.value == 0 and isinstance(op, ast.Add if _signbit(right.value) else ast.Sub):
            return left  # a - 0 and a + -0.0 are a, to the sign of a zero; a + 0 is not (-0.0 + 0 is 0.0)
        if isinstance(op, (ast.Add, ast.Sub)) and _is_neg(right):
            flipped = ast.Sub() if isinstance(op, ast.Add) else ast.Add()  # a + -b -> a - b
            return ast.copy_location(ast.BinOp(left, flipped, right.operand), node)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if _is_neg(node) and _is_neg(node.operand):
            return node.operand.operand
        if isinstance(node.op, ast.USub) and _num(node.operand):
            return ast.copy_location(ast.Constant(-node.operand.value), node)
        if isinstance(node.op, ast.USub):
            return _negated_factor(node.operand) or node
        return node

    def visit_Call(self, node):
        """summed_to(-g, shape) -> -summed_to(g, shape): a sum of negated numbers is the negated sum.
        times(g, d) -> g * d where d is finite wherever the values it reads are (see `_finite`), and
        times(g, np.divide(1.0, c)) -> g / c for a number c other than 0."""
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "times" and len(node.args) == 2:
            g, d = node.args
            if _is_divide(d) and _num(d.args[0]) and d.args[0].value == 1 and _num(d.args[1]) and d.args[1].value:
                return self.visit_BinOp(ast.copy_location(ast.BinOp(g, ast.Div(), d.args[1]), node))
            if _finite(d):
                return self.visit_BinOp(ast.copy_location(_times_chain(g, d), node))
        if isinstance(node.func, ast.Name) and node.func.id in SUMS_TO_SHAPE and _is_neg(node.args[0]):
            node.args[0] = node.args[0].operand
            return self.visit_UnaryOp(ast.copy_location(ast.UnaryOp(ast.USub(), node), node))
        return node


def _is_divide(node):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "divide" \
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "np" and len(node.args) == 2


def _finite(d):
    """Whether d is finite wherever the values it reads are: numbers and names combined by + - * and
    powers to whole numbers from 0 up (no division, log or root, which runtime.times guards). The
    names are the primal values the rule reads (where the primal itself computed inf or nan in a branch
    that np.where did not take, times does not help either)."""
    if _num(d) or isinstance(d, ast.Name):
        return True
    if isinstance(d, ast.UnaryOp):
        return isinstance(d.op, (ast.USub, ast.UAdd)) and _finite(d.operand)
    if isinstance(d, ast.BinOp) and isinstance(d.op, (ast.Add, ast.Sub, ast.Mult)):
        return _finite(d.left) and _finite(d.right)
    if isinstance(d, ast.BinOp) and isinstance(d.op, ast.Pow):
        return _finite(d.left) and _num(d.right) and d.right.value >= 0 and float(d.right.value).is_integer()
    return False


def _times_chain(g, d):
    """g * d as the rules wrote it before times: `g * 2 * x` for d = `2 * x`, the same numbers."""
    if isinstance(d, ast.BinOp) and isinstance(d.op, ast.Mult):
        return ast.BinOp(_times_chain(g, d.left), ast.Mult(), d.right)
    return ast.BinOp(g, ast.Mult(), d)
