"""Small questions about Python syntax trees that every stage asks, answered in one place: which
names a node reads, binds or writes into, which a block may read before it binds them and which it
surely binds, whether control falls off the end of a block, and the name an operator gives the value
it makes and the function it applies."""

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


def upward(stmts):
    """(the names stmts may read before they surely assign them, the names they surely assign) in
    user code: a loop or branch assigns nothing surely (an `if` both of whose branches assign a name
    does), and after a break, continue or return nothing more is sure."""
    exposed, assigned, sure = set(), set(), True
    for s in stmts:
        if isinstance(s, (ast.For, ast.While)):
            head = s.iter if isinstance(s, ast.For) else s.test
            exposed |= loads(head) - assigned
            inner = names_stored(s.target) if isinstance(s, ast.For) else set()
            exposed |= upward(s.body)[0] - assigned - inner
            exposed |= upward(s.orelse)[0] - assigned
        elif isinstance(s, ast.If):
            exposed |= loads(s.test) - assigned
            (body, in_body), (orelse, in_orelse) = upward(s.body), upward(s.orelse)
            exposed |= (body | orelse) - assigned
            if sure:
                assigned |= in_body & in_orelse
        else:
            exposed |= loads(s) - assigned
            if isinstance(s, ast.AugAssign):  # (`x += e` reads x)
                exposed |= names_stored(s.target) - assigned
            if sure and isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = s.targets if isinstance(s, ast.Assign) else [s.target]
                assigned |= {n for t in targets for n in names_stored(t)}
        sure = sure and not leaves(s)
    return exposed, assigned


def leaves(stmt):
    """Whether running stmt may end the block it is in early: a return, or a break or continue that
    is not inside a loop of its own."""
    if isinstance(stmt, (ast.Return, ast.Break, ast.Continue)):
        return True
    if isinstance(stmt, (ast.For, ast.While)):
        return any(isinstance(n, ast.Return) for n in ast.walk(stmt))
    return any(leaves(c) for c in ast.iter_child_nodes(stmt) if isinstance(c, ast.stmt))


def surely_bound_before(stmts, target, name):
    """Whether each run of stmts assigns `name` before it reaches the statement `target` (found
    anywhere inside them; False if it is not there)."""
    bound = set()
    for s in stmts:
        if any(n is target for n in ast.walk(s)):
            parts = [p for p in ((s.body, s.orelse) if isinstance(s, (ast.If, ast.For, ast.While)) else ())
                     if any(n is target for n in ast.walk(ast.Module(p, [])))]
            return name in bound or bool(parts) and surely_bound_before(parts[0], target, name)
        bound |= upward([s])[1]
        if leaves(s):
            return False
    return False


def names_stored(target):
    """The names an assignment target binds (`a`, `a, b`; not `a[i]`, which writes into a)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(names_stored(e) for e in target.elts))
    return set()
