"""Small questions about Python syntax trees that every stage asks, answered in one place: which
names a node reads, binds or writes into, whether control falls off the end of a block, and the
name an operator gives the value it makes and the function it applies."""

import ast
import operator


def _walk(nodes):
    """Every node in a node or a list of them, with what they nest, in no set order (faster than ast.walk,
    for the questions below, which collect sets; it also enters nodes held in attributes other than
    fields, as the normalizer's Normal holds its atom)."""
    stack = [nodes] if isinstance(nodes, ast.AST) else list(nodes)
    while stack:
        node = stack.pop()
        yield node
        for value in node.__dict__.values():
            if value.__class__ is list:
                stack.extend(v for v in value if isinstance(v, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append(value)


def names_in(node):
    """Every name in node, read or bound (none for None)."""
    return {n.id for n in _walk(node) if isinstance(n, ast.Name)} if node is not None else set()


def loads(nodes):
    """Names read in a node or a list of statements (with what they nest)."""
    return {n.id for n in _walk(nodes) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def stores(nodes):
    """Names bound in a node or a list of statements (with what they nest)."""
    return {n.id for n in _walk(nodes) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def written(nodes):
    """Names bound or written into (`y[i] = e`, `y[i] += e`) in a node or a list of statements."""
    return stores(nodes) | {n.value.id for n in _walk(nodes) if isinstance(n, ast.Subscript)
                            and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name)}


def jumps(stmts):
    """Whether control never falls off the end of stmts (each path ends in return, break or continue)."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Break, ast.Continue)):
        return True
    return isinstance(last, ast.If) and jumps(last.body) and jumps(last.orelse)


# the name of the value an operator makes (a fresh name's stem: `mul`, `neg`)
OP_NAMES = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow", ast.Mod: "mod",
            ast.FloorDiv: "floordiv", ast.MatMult: "matmul", ast.USub: "neg", ast.UAdd: "pos", ast.Not: "not_"}

# the function each operator applies (its rule in the table is found by it)
OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow, ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv, ast.MatMult: operator.matmul,
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_, ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.Invert: operator.invert,
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Eq: operator.eq,
    ast.NotEq: operator.ne, ast.Is: operator.is_, ast.IsNot: operator.is_not, ast.In: operator.contains,
    ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}


def as_operator(fn, args):
    """`a * b` for operator.mul(a, b), `-a` for operator.neg(a), `a < b` for operator.lt(a, b) (an
    arithmetic, unary or comparison operator's function with its arguments), else None."""
    op = next((o for o, f in OPERATORS.items() if f is fn), None)
    if op is None or op in (ast.In, ast.Is, ast.IsNot, ast.Not):  # (contains reverses its operands)
        return None
    if issubclass(op, ast.unaryop) and len(args) == 1:
        return ast.UnaryOp(op(), args[0])
    if issubclass(op, ast.operator) and len(args) == 2:
        return ast.BinOp(args[0], op(), args[1])
    if issubclass(op, ast.cmpop) and len(args) == 2:
        return ast.Compare(args[0], [op()], [args[1]])
    return None


def dotted(expr):
    """'np.linalg.norm' for that chain of Names and Attributes, else None."""
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return ".".join(reversed(parts))
