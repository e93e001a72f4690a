"""Generated code back to the normal form, so the forward transform can differentiate an adjoint.

The generated adjoint is already close to the normal form (see normalize/normalizer.py): what remains is to
give each nested expression a name of its own (`x_bar = x_bar + mul_bar * s` ->
`mul = mul_bar * s; x_bar = x_bar + mul`), to spell augmented assignment out, and to keep the
statements that only generated code has: tape lists (`t = [0.0]`, `t.append(v)`, `t.pop()`) and
the in-place helpers (`add_into(view, g)`, `add_at(a, index, g)`). Comments are dropped.
"""

import ast

from ..ir.build import assign, clone, is_comment
from ..ir.naming import Namer
from ..ir.normal import NormalFunction
from ..ir.queries import OP_NAMES


def flatten(fdef, kinds=None):
    """The NormalFunction of a generated function whose last statement returns a tuple of names."""
    taken = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name)} | {a.arg for a in fdef.args.args}
    flat = Flattener(Namer(taken))
    body = flat.block(fdef.body[:-1])
    results = [e.id for e in fdef.body[-1].value.elts]
    params = tuple(a.arg for a in fdef.args.args)
    return NormalFunction(fdef.name, params, body + [fdef.body[-1]], results, flat.namer, kinds=dict(kinds or {}))


class Flattener:
    def __init__(self, namer):
        self.namer = namer
        self.out = []

    def block(self, stmts):
        saved, self.out = self.out, []
        for s in stmts:
            self.statement(s)
        block, self.out = self.out, saved
        return block

    def emit(self, stmt):
        self.out.append(stmt)

    def statement(self, s):
        if is_comment(s) or isinstance(s, ast.Pass):
            return
        if isinstance(s, ast.Assign):
            target = s.targets[0]
            if isinstance(target, ast.Subscript):
                self.emit(assign(ast.Subscript(self.atom(target.value), self.index(target.slice), ast.Store()),
                                 self.atom(s.value)))
            else:
                self.emit(assign(clone(target), self.primitive(s.value)))
        elif isinstance(s, ast.AugAssign):
            read = clone(s.target)
            read.ctx = ast.Load()
            self.statement(ast.Assign([s.target], ast.BinOp(read, s.op, s.value)))
        elif isinstance(s, ast.Expr):
            self.emit(ast.Expr(self.primitive(s.value)))
        elif isinstance(s, ast.If):
            self.emit(ast.If(self.atom(s.test), self.block(s.body) or [ast.Pass()], self.block(s.orelse)))
        elif isinstance(s, ast.For):
            loop_range = ast.Call(s.iter.func, [self.atom(a) for a in s.iter.args], [])
            self.emit(ast.For(s.target, loop_range, self.block(s.body) or [ast.Pass()], []))
        elif isinstance(s, ast.While):  # generated code tests a name, which its body computes again
            assert isinstance(s.test, (ast.Name, ast.Constant)), ast.unparse(s.test)
            self.emit(ast.While(s.test, self.block(s.body) or [ast.Pass()], []))
        else:
            self.emit(s)

    def atom(self, e):
        if isinstance(e, (ast.Name, ast.Constant)):
            return e
        if isinstance(e, ast.UnaryOp) and isinstance(e.operand, ast.Constant) and isinstance(e.op, ast.USub):
            return ast.Constant(-e.operand.value)
        if isinstance(e, ast.Tuple):  # a shape, or a shape tape's entry: a tuple of atoms
            return ast.Tuple([self.atom(v) for v in e.elts], ast.Load())
        target = self.namer.fresh(_describe(e))
        self.emit(assign(target, self.primitive(e)))
        return ast.Name(target, ast.Load())

    def primitive(self, e):
        """e as the value of one normal-form statement (its parts atoms)."""
        if isinstance(e, ast.BinOp):
            return ast.BinOp(self.atom(e.left), e.op, self.atom(e.right))
        if isinstance(e, ast.UnaryOp):
            return ast.UnaryOp(e.op, self.atom(e.operand))
        if isinstance(e, ast.Compare):
            return ast.Compare(self.atom(e.left), e.ops, [self.atom(c) for c in e.comparators])
        if isinstance(e, ast.Call):
            func = e.func
            if isinstance(func, ast.Attribute) and not _dotted_module(func):
                func = ast.Attribute(self.atom(func.value), func.attr, ast.Load())
            return ast.Call(func, [self.argument(a) for a in e.args],
                            [ast.keyword(k.arg, self.argument(k.value)) for k in e.keywords])
        if isinstance(e, ast.Attribute):
            return ast.Attribute(self.atom(e.value), e.attr, ast.Load())
        if isinstance(e, ast.Subscript):
            return ast.Subscript(self.atom(e.value), self.index(e.slice), ast.Load())
        if isinstance(e, ast.List):
            return ast.List([self.atom(v) for v in e.elts], ast.Load())
        return self.atom(e)

    def argument(self, a):
        if isinstance(a, ast.Tuple):
            return ast.Tuple([self.argument(v) for v in a.elts], ast.Load())
        return self.atom(a)

    def index(self, s):
        if isinstance(s, ast.Slice):
            return ast.Slice(*(None if p is None else self.atom(p) for p in (s.lower, s.upper, s.step)))
        if isinstance(s, ast.Tuple):
            return ast.Tuple([self.index(p) for p in s.elts], ast.Load())
        return self.atom(s)


def _describe(e):
    """A name for the value of e: its operation or function (`mul`, `cos`), or `<array>_part`."""
    if isinstance(e, (ast.BinOp, ast.UnaryOp)):
        return OP_NAMES.get(type(e.op), "t")
    if isinstance(e, ast.Call):
        return e.func.attr if isinstance(e.func, ast.Attribute) else getattr(e.func, "id", "t")
    if isinstance(e, ast.Subscript) and isinstance(e.value, ast.Name):
        return f"{e.value.id}_part"
    return "t"


def _dotted_module(func):
    """Whether `func` is a module's function (np.sum, math.sin, np.linalg.norm), not a method."""
    while isinstance(func, ast.Attribute):
        func = func.value
    return isinstance(func, ast.Name) and func.id in ("np", "math")
