"""Building generated code: the small constructors every transform uses (a name, a call, an
assignment), formulas instantiated with atoms, and comment statements, which the emitted text
shows as `# ...` lines: headings that name the user's line the code under them comes from (the
line itself over forward code, `adjoint of:` it over reverse code, `tangent of:` it in forward
mode), and the one that heads the reverse sweep, which `sweep_start` finds."""

import ast
import copy

MARK = "__comment__"  # the function a comment statement calls (emit prints it as a comment)
REVERSE_SWEEP = "reverse sweep"


_ATOMS = frozenset((str, int, float, bool, complex, bytes, type(None), type(Ellipsis)))


def clone(node):
    """A deep copy of a syntax tree (or a list of them): copy.deepcopy's result, several times faster
    (compiling spends much of its time copying trees). Load and Store carry nothing, and are shared as
    ast.parse shares them; values other than trees, lists and atoms are copied by copy.deepcopy."""
    cls = node.__class__
    if cls is list:
        return [clone(v) for v in node]
    if cls in _ATOMS or cls is ast.Load or cls is ast.Store:
        return node
    if isinstance(node, ast.AST):
        new = cls.__new__(cls)
        fields = new.__dict__
        for k, v in node.__dict__.items():
            fields[k] = v if v.__class__ in _ATOMS else clone(v)
        return new
    return copy.deepcopy(node)


def name(n, store=False):
    return ast.Name(n, ast.Store() if store else ast.Load())


def call(func, *args):
    return ast.Call(name(func), list(args), [])


def assign(target, value, lineno=None):
    stmt = ast.Assign([target if isinstance(target, ast.AST) else name(target, True)], value)
    stmt.lineno = lineno
    return stmt


def np_call(func, *args):
    """`np.func(args)`."""
    return ast.Call(ast.Attribute(ast.Name("np", ast.Load()), func, ast.Load()), list(args), [])


def total(terms):
    """`t1 + t2 + ...` of the expressions terms (0 for none)."""
    out = terms[0] if terms else ast.Constant(0)
    for t in terms[1:]:
        out = ast.BinOp(out, ast.Add(), t)
    return out


def method(obj, meth, *args):
    return ast.Call(ast.Attribute(name(obj), meth, ast.Load()), list(args), [])


def index_value(index):
    """An index as a value to pass to a function: slices become slice(...) calls."""
    if isinstance(index, ast.Slice):
        return ast.Call(name("slice"), [clone(p) if p is not None else ast.Constant(None)
                                        for p in (index.lower, index.upper, index.step)], [])
    if isinstance(index, ast.Tuple):
        return ast.Tuple([index_value(p) for p in index.elts], ast.Load())
    return clone(index)


class Substitute(ast.NodeTransformer):
    """Replaces the free names of a rule formula with the given expressions."""

    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        return clone(self.mapping[node.id]) if node.id in self.mapping else node


def instantiate(formula, mapping):
    return Substitute(mapping).visit(clone(formula))


def comment(text):
    """A statement that the emitted text shows as `# text`."""
    return ast.Expr(ast.Call(ast.Name(MARK, ast.Load()), [ast.Constant(text)], []))


def heading(text, where):
    """A comment naming the user's line `where` (a Location) that the code under it comes from:
    `# <text><the line>  (<file>:<lineno>)`."""
    stmt = comment(f"{text}{where.text.strip()}  ({where.filename.rsplit('/', 1)[-1]}:{where.lineno})")
    stmt.value.keywords = [ast.keyword("heading", ast.Constant(True))]
    return stmt


def is_heading(stmt):
    return is_comment(stmt) and bool(stmt.value.keywords)


def without_repeated_headings(fdef):
    """fdef with every heading left out that repeats the heading before it in the text (with only
    code between), a line whose normal form spans blocks (`while a and b:`) is named once, or that
    is over nothing (the end of its block, or another comment)."""
    last = None

    def visit(stmts):
        nonlocal last
        out = []
        for s in stmts:
            if is_heading(s):
                if s.value.args[0].value == last:
                    continue
                last = s.value.args[0].value
            for field in ("body", "orelse"):
                block = getattr(s, field, None)
                if isinstance(block, list) and block and not isinstance(s, ast.FunctionDef):
                    setattr(s, field, visit(block) or [ast.Pass()])
            out.append(s)
        return [s for k, s in enumerate(out) if not is_heading(s) or k + 1 < len(out) and not is_comment(out[k + 1])]

    fdef = copy.copy(fdef)
    fdef.body = visit(fdef.body)
    return fdef


def is_comment(stmt):
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
        isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == MARK


def sweep_start(body):
    """The index of the reverse sweep's heading in the body of a generated adjoint."""
    return next(i for i, s in enumerate(body) if is_comment(s) and s.value.args[0].value == REVERSE_SWEEP)


def function_def(name, args, body):
    """An ast.FunctionDef on every supported Python (3.12 added type_params)."""
    fields = {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}
    return ast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None, **fields)
