"""Building generated code: the small constructors every transform uses (a name, a call, an
assignment), formulas instantiated with atoms, and comment statements, which the emitted text
shows as `# ...` lines; one of them heads the reverse sweep, and `sweep_start` finds it."""

import ast
import copy

MARK = "__comment__"  # the function a comment statement calls (emit prints it as a comment)
REVERSE_SWEEP = "reverse sweep"


def name(n, store=False):
    return ast.Name(n, ast.Store() if store else ast.Load())


def call(func, *args):
    return ast.Call(name(func), list(args), [])


def assign(target, value, lineno=None):
    stmt = ast.Assign([target if isinstance(target, ast.AST) else name(target, True)], value)
    stmt.lineno = lineno
    return stmt


def method(obj, meth, *args):
    return ast.Call(ast.Attribute(name(obj), meth, ast.Load()), list(args), [])


def index_value(index):
    """An index as a value to pass to a function: slices become slice(...) calls."""
    if isinstance(index, ast.Slice):
        return ast.Call(name("slice"), [copy.deepcopy(p) if p is not None else ast.Constant(None)
                                        for p in (index.lower, index.upper, index.step)], [])
    if isinstance(index, ast.Tuple):
        return ast.Tuple([index_value(p) for p in index.elts], ast.Load())
    return copy.deepcopy(index)


class Substitute(ast.NodeTransformer):
    """Replaces the free names of a rule formula with the given expressions."""

    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        return copy.deepcopy(self.mapping[node.id]) if node.id in self.mapping else node


def instantiate(formula, mapping):
    return Substitute(mapping).visit(copy.deepcopy(formula))


def comment(text):
    """A statement that the emitted text shows as `# text`."""
    return ast.Expr(ast.Call(ast.Name(MARK, ast.Load()), [ast.Constant(text)], []))


def is_comment(stmt):
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
        isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == MARK


def sweep_start(body):
    """The index of the reverse sweep's heading in the body of a generated adjoint."""
    return next(i for i, s in enumerate(body) if is_comment(s) and s.value.args[0].value == REVERSE_SWEEP)
