"""What normalizing asks of syntax trees and values: the scope of a function being normalized,
the events of a block, literal values, and the small tree helpers its parts share."""

import ast

import numpy as np

from ..ir.build import clone
from ..ir.queries import loads
from .structure import FLAG

SHAPE_ATTRS = {"shape", "ndim", "size", "dtype"}
_LITERALS = (bool, int, float, complex, str, bytes, type(None))
MAX_INLINE_DEPTH = 64
STAGE = "normalizing"


def events_of(stmts):
    """(name, "load" | "store" | "write", node) in the order a straight run of stmts evaluates them
    (both arms of a branch and a loop's body taken once, in order); "write" is an element write."""
    for s in stmts:
        if isinstance(s, ast.Assign):
            yield from _loads(s.value)
            for t in s.targets:
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
                    yield from _loads(t.slice)
                    yield t.value.id, "write", s
                else:
                    yield from ((n.id, "store", s) for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(s, ast.AugAssign):
            yield from _loads(s.value)
            if isinstance(s.target, ast.Subscript) and isinstance(s.target.value, ast.Name):
                yield s.target.value.id, "write", s
            elif isinstance(s.target, ast.Name):
                yield s.target.id, "load", s
                yield s.target.id, "store", s
        elif isinstance(s, (ast.If, ast.While)):
            yield from _loads(s.test)
            yield from events_of(s.body)
            yield from events_of(s.orelse)
        elif isinstance(s, ast.For):
            yield from _loads(s.iter)
            yield from ((n.id, "store", s) for n in ast.walk(s.target) if isinstance(n, ast.Name))
            yield from events_of(s.body)
        else:
            yield from _loads(s)


def _loads(node):
    return ((n.id, "load", node) for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def logistic_call(e):
    """The call `f(-z)` when e reads `1 / (1 + f(-z))` (either order of the sum), else None."""
    def one(n):
        return isinstance(n, ast.Constant) and type(n.value) in (int, float) and n.value == 1

    if not (isinstance(e, ast.BinOp) and isinstance(e.op, ast.Div) and one(e.left)
            and isinstance(e.right, ast.BinOp) and isinstance(e.right.op, ast.Add)):
        return None
    call = e.right.right if one(e.right.left) else e.right.left if one(e.right.right) else None
    if isinstance(call, ast.Call) and len(call.args) == 1 and not call.keywords \
            and isinstance(call.args[0], ast.UnaryOp) and isinstance(call.args[0].op, ast.USub):
        return call
    return None


def is_literal(value):
    if isinstance(value, tuple):
        return all(is_literal(v) for v in value)
    return isinstance(value, _LITERALS) or isinstance(value, np.generic)


def assigned_in_compound(stmts):
    names = set()
    for s in stmts:
        if isinstance(s, (ast.If, ast.For, ast.While)):
            names |= {n.id for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


class Scope:
    """One function being normalized: the top one or an inlined callee."""

    def __init__(self, src, fn, outer=None):
        self.src, self.fn, self.outer = src, fn, outer
        tree = src.tree
        self.params = parameter_names(tree.args)
        self.locals = set(self.params) | {
            n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        self.fixed = assigned_in_compound(tree.body) | {FLAG}  # one name for all their assignments
        self.current = {}  # user name -> atom, or ast.Tuple of atoms for a tuple written in the code
        self.functions = {}  # user name -> (FunctionDef or Lambda node, defining Scope)
        self.fixed_names = {}  # user name in `fixed` -> its one name in generated code
        self.result = None  # name (or list of names, for a tuple) holding the return value
        self.loops = 0


def parameter_names(spec):
    """A def's parameter names in the order Python binds them (inspect.signature's)."""
    return tuple(a.arg for a in [*spec.posonlyargs, *spec.args, *([spec.vararg] if spec.vararg else []),
                                 *spec.kwonlyargs, *([spec.kwarg] if spec.kwarg else [])])


def positional(rule, args, keywords):
    """The arguments of a call, the parameters without a default that are given by keyword moved into
    place (`np.sum(a=x, axis=0)` -> `np.sum(x, axis=0)`): the stages after read them by position.
    `keywords` keeps the rest. A dtype is spelled as NumPy's type (`_numpy_type`)."""
    args = list(args)
    for param in rule.params[len(args):]:
        if param not in keywords or param in rule.defaults:
            break
        args.append(keywords.pop(param))
    if "dtype" in rule.params[:len(args)]:
        k = rule.params.index("dtype")
        args[k] = _numpy_type(args[k])
    if "dtype" in keywords:
        keywords["dtype"] = _numpy_type(keywords["dtype"])
    return args


def _numpy_type(dtype):
    """A dtype argument, a builtin type spelled as NumPy's scalar type (`int` -> `np.int64`): Numba
    ignores `dtype=int` in np.full, for one, and keeps the floats."""
    if isinstance(dtype, ast.Name) and dtype.id in ("int", "float", "bool", "complex"):
        return ast.parse(f"np.{np.dtype(dtype.id).type.__name__}", mode="eval").body
    return dtype


def frontend_jumps(stmts):
    """Whether the function always reaches a `return` (its last statement returns on every path)."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return frontend_jumps(last.body) and frontend_jumps(last.orelse)
    if isinstance(last, ast.While) and isinstance(last.test, ast.Constant) and last.test.value:
        return True
    return False


class Normal(ast.expr):
    """An atom of the normal form standing where user code is expected (`a = b = e` computes e once)."""

    _fields = ()

    def __init__(self, atom):
        super().__init__()
        self.atom = atom


def range_parts(bounds):
    """(start, stop, step) of `range(*bounds)`."""
    return ([ast.Constant(0)] + list(bounds) + [ast.Constant(1)])[:3] if len(bounds) == 1 else (
        list(bounds) + [ast.Constant(1)])[:3]


def root_name(target):
    """The name a chain of subscripts and attributes starts from (`d["a"][0]`: d), else None."""
    while isinstance(target, (ast.Subscript, ast.Attribute)):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


class Rows(ast.expr):
    """An inner list comprehension standing as one row of the array an outer one fills
    (`np.array([[a @ b for b in B] for a in A])`): the array of its items."""

    _fields = ("comp",)

    def __init__(self, comp=None):
        super().__init__()
        self.comp = comp


class SubSource:
    """The Source of a def or lambda nested in another function: same file, its own tree."""

    def __init__(self, outer, tree):
        self._outer, self.tree = outer, tree

    def __getattr__(self, attr):
        return getattr(self._outer, attr)

    @property
    def name(self):
        return self.tree.name


class Renamer(ast.NodeTransformer):
    """Replaces user names with their current atoms (in statements kept as written)."""

    def __init__(self, scope):
        self.scope = scope

    def visit_Name(self, node):
        atom = self.scope.current.get(node.id)
        if isinstance(atom, (ast.Name, ast.Constant)):
            return ast.copy_location(clone(atom), node)
        return node


def with_closures(scope, names):
    """`names` and the names that the nested functions among them read when called (a closure reads its
    free variables where it is called, not where it is defined)."""
    names, todo = set(names), [n for n in names if n in scope.functions]
    while todo:
        fn = scope.functions[todo.pop()][0]
        for name in loads(fn) - names:
            names.add(name)
            if name in scope.functions:
                todo.append(name)
    return names


def op_symbol(op):
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.Mod: "%",
            ast.FloorDiv: "//", ast.MatMult: "@"}.get(type(op), "?")
