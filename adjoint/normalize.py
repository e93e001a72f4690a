"""Normalize a user function into the few statement shapes the transforms handle.

After normalization the body is a list of these statements, each one primitive, where an atom is a
Name or a Constant:

    name = atom                          a copy
    name = atom OP atom                  + - * / ** % // @
    name = OP atom                       - + not
    name = atom CMP atom                 one comparison
    name = f(arg, ..., key=arg)          a call spelled as its rule is (np.sin, math.exp, abs);
                                         an arg is an atom or a tuple of atoms
    name = atom.m(arg, ...)              an ndarray method with a rule (.sum, .reshape, ...)
    name = atom.attr                     .T, .shape, .ndim, .size, .dtype
    name = atom[index]                   index: atoms, slices of atoms, None, tuples of those
    name = (atom, ...)                   a tuple
    name, name = atom                    unpacking
    assert ... / raise ...               kept as written: no derivative flows through them
    return atom

Every name is assigned once: rebinding a name gives a new version (a, a_1, a_2), so the reverse
sweep finds every value it needs without a tape. Augmented assignment becomes rebinding
(`s += e` -> `s_1 = s + e`) where no other name may still see the old object; otherwise it is
refused, since for an array it would write through to that other name. Every statement keeps the
line number of the user's statement it came from. For example

    def f(x):                          def f(x):
        a = np.sin(x) * x                  sin = np.sin(x)
        a = a + x[1:] ** 2        ->       a = sin * x
        return np.sum(a)                   x1 = x[1:]
                                           pow = x1 ** 2
                                           a_1 = a + pow
                                           out = np.sum(a_1)
                                           return out
"""

import ast
import operator
from dataclasses import dataclass, field

import numpy as np

from .frontend import MISSING, dotted, lookup, resolve
from .naming import Namer
from .rules import BindError

OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow, ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv, ast.MatMult: operator.matmul,
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_, ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.Invert: operator.invert,
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Eq: operator.eq,
    ast.NotEq: operator.ne, ast.Is: operator.is_, ast.IsNot: operator.is_not, ast.In: operator.contains,
}
_OP_NAMES = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow", ast.Mod: "mod",
             ast.FloorDiv: "floordiv", ast.MatMult: "matmul", ast.USub: "neg", ast.UAdd: "pos", ast.Not: "not_"}
_SHAPE_ATTRS = {"shape", "ndim", "size", "dtype"}
_LITERALS = (bool, int, float, complex, str, bytes, type(None))


@dataclass
class NormalFunction:
    name: str
    params: tuple
    body: list
    result: str  # the name that holds the return value
    namer: Namer
    constants: dict = field(default_factory=dict)  # module-level name -> literal value
    externals: dict = field(default_factory=dict)  # module-level name -> object bound at load
    scalars: frozenset = frozenset()  # names known to hold numbers, not arrays


def is_literal(value):
    if isinstance(value, tuple):
        return all(is_literal(v) for v in value)
    return isinstance(value, _LITERALS) or isinstance(value, np.floating)


def normalize(src, table, scalars=()):
    """The NormalFunction of a frontend.Source; `scalars` names the parameters known to be numbers."""
    return Normalizer(src, table, scalars).run()


class Normalizer:
    def __init__(self, src, table, scalars=()):
        self.src, self.table = src, table
        self.fn = src.fn
        tree = src.tree
        self.params = tuple(a.arg for a in tree.args.args)
        self.locals = set(self.params) | {
            n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        self.namer = Namer(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
        self.current = {p: p for p in self.params}
        self.scalars = set(scalars)
        self.body = []
        self.constants, self.externals = {}, {}
        self.lineno = tree.lineno

    def run(self):
        tree = self.src.tree
        stmts = tree.body
        if stmts and isinstance(stmts[0], ast.Expr) and isinstance(stmts[0].value, ast.Constant):
            stmts = stmts[1:]  # the docstring
        result = None
        for i, stmt in enumerate(stmts):
            self.lineno = stmt.lineno
            if isinstance(stmt, ast.Return):
                if i != len(stmts) - 1:
                    raise self.src.error(stmt, "code after `return` is unreachable", "delete it", "normalizing")
                result = self.returned(stmt)
            else:
                self.statement(stmt, stmts[i + 1:])
        if result is None:
            raise self.src.error(tree, f"{tree.name} does not end with a `return`",
                                 "return the value to differentiate", "normalizing")
        return NormalFunction(tree.name, self.params, self.body, result, self.namer, self.constants, self.externals,
                              frozenset(self.scalars))

    # --- statements ------------------------------------------------------------------------------

    def emit(self, target, value):
        if self.is_scalar(value):
            self.scalars.add(target)
        stmt = ast.Assign([ast.Name(target, ast.Store())], value)
        stmt.lineno = self.lineno
        self.body.append(stmt)
        return ast.Name(target, ast.Load())

    def bind_name(self, name):
        """A new version of the user variable `name` (the name itself the first time)."""
        if name in self.current or name in ("np", "math") or name in self.constants:
            version = self.namer.fresh(name)
        else:
            version = self.namer.claim(name)
        self.current[name] = version
        return version

    def statement(self, stmt, rest):
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets[1:]:
                self.assign(target, stmt.targets[0])
            return self.assign(stmt.targets[0], stmt.value, stmt.targets[1:])
        if isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, stmt.value)
            return None
        if isinstance(stmt, ast.AugAssign):
            return self.augassign(stmt, rest)
        if isinstance(stmt, ast.Pass):
            return None
        if isinstance(stmt, (ast.Assert, ast.Raise)):
            kept = Renamer(self.current).visit(stmt)
            self.body.append(kept)
            return None
        if isinstance(stmt, ast.Expr):
            if isinstance(stmt.value, ast.Constant):
                return None
            raise self.src.error(stmt, "an expression whose value is dropped cannot be differentiated",
                                 "assign its value to a name, or remove it", "normalizing")
        kind = {ast.If: "`if`", ast.For: "`for` loops", ast.While: "`while` loops", ast.FunctionDef: "a nested def"}
        what = kind.get(type(stmt), f"`{type(stmt).__name__}`")
        raise self.src.error(stmt, f"{what} cannot be differentiated by this version of adjoint",
                             "write the function as straight-line code", "normalizing")

    def assign(self, target, value, also=()):
        if isinstance(target, ast.Name):
            if isinstance(value, ast.Name) and value.id in self.current and not also:
                self.emit(self.bind_name(target.id), self.atom(value))
                return
            rhs = self.primitive(value) if not isinstance(value, (ast.Name, ast.Constant)) else self.atom(value)
            self.emit(self.bind_name(target.id), rhs)
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            names = target.elts
            if not all(isinstance(n, ast.Name) for n in names):
                raise self.src.error(target, "only names can be unpacked into", "unpack into names first",
                                     "normalizing")
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(names):
                atoms = [self.atom(v, n.id) for v, n in zip(value.elts, names)]
                for n, a in zip(names, atoms):
                    self.emit(self.bind_name(n.id), a)
                return
            packed = self.atom(value, "tup")
            versions = [self.bind_name(n.id) for n in names]
            stmt = ast.Assign([ast.Tuple([ast.Name(v, ast.Store()) for v in versions], ast.Store())], packed)
            stmt.lineno = self.lineno
            self.body.append(stmt)
            return
        if isinstance(target, ast.Subscript):
            raise self.src.error(target, "assigning into an array element or slice cannot be differentiated by "
                                 "this version of adjoint", "build the array with arithmetic, np.concatenate "
                                 "or np.where instead", "normalizing")
        raise self.src.error(target, f"cannot assign to `{ast.unparse(target)}`", "assign to a plain name",
                             "normalizing")

    def augassign(self, stmt, rest):
        target = stmt.target
        if not isinstance(target, ast.Name):
            return self.assign(target, target)  # refused there with a located message
        name = target.id
        old = self.current.get(name)
        sharers = {v for v in self.aliases_of(old) - {old} if v not in self.scalars}
        later = {n.id for s in rest for n in ast.walk(s) if isinstance(n, ast.Name)}
        live = sorted(s for s in sharers if self.user_name(s) in later)
        if (old in self.params and old not in self.scalars) or live:
            who = f"`{self.user_name(live[0])}`" if live else "the caller's argument"
            raise self.src.error(
                stmt, f"`{name} {_op_symbol(stmt.op)}= ...` would change {who} too if `{name}` is an array",
                f"write `{name} = {name} {_op_symbol(stmt.op)} ...`, or make `{name}` a copy first "
                f"(`{name} = {self.user_name(live[0]) if live else name}.copy()`)",
                "normalizing (aliasing)")
        self.assign(target, ast.copy_location(ast.BinOp(ast.Name(name, ast.Load()), stmt.op, stmt.value), stmt))

    def is_scalar(self, value):
        """Whether value, a normal-form right-hand side, is known to give a number (not an array)."""
        if isinstance(value, ast.Constant):
            return isinstance(value.value, (int, float))
        if isinstance(value, ast.Name):
            return value.id in self.scalars or isinstance(self.constants.get(value.id), (int, float))
        if isinstance(value, ast.BinOp):
            return self.is_scalar(value.left) and self.is_scalar(value.right)
        if isinstance(value, ast.UnaryOp):
            return self.is_scalar(value.operand)
        if isinstance(value, ast.Compare):
            return self.is_scalar(value.left) and self.is_scalar(value.comparators[0])
        if isinstance(value, ast.Call) and isinstance(value.func, (ast.Name, ast.Attribute)):
            path = dotted(value.func) or ""
            if path in ("len", "int", "float", "round"):
                return True
            numeric = path.startswith("math.") or path in ("abs", "min", "max")
            return numeric and all(self.is_scalar(a) for a in value.args)
        return False

    def user_name(self, version):
        return next((u for u, v in self.current.items() if v == version), version)

    def aliases_of(self, version):
        """The versions that may share memory with `version` (copies, views, and what they copy)."""
        group, changed = {version}, True
        while changed:
            changed = False
            for s in self.body:
                if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)):
                    continue
                t, src = s.targets[0].id, self.alias_source(s.value)
                if src and (t in group) != (src in group):
                    group |= {t, src}
                    changed = True
        return group

    def alias_source(self, value):
        if isinstance(value, ast.Name):
            return value.id
        if isinstance(value, (ast.Subscript, ast.Attribute)) and isinstance(value.value, ast.Name):
            return value.value.id
        if isinstance(value, ast.Call) and value.args and isinstance(value.args[0], ast.Name):
            rule = self.call_rule(value)
            if rule is not None and rule.view:
                return value.args[0].id
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and isinstance(value.func.value, ast.Name):
            rule = self.table.for_spelling("." + value.func.attr)
            if rule is not None and rule.view:
                return value.func.value.id
        return None

    def call_rule(self, call):
        path = dotted(call.func)
        return self.table.for_spelling(path) if path else None

    def returned(self, stmt):
        if stmt.value is None:
            raise self.src.error(stmt, "`return` without a value", "return the value to differentiate", "normalizing")
        value = stmt.value
        result = self.namer.fresh("out")
        if isinstance(value, (ast.Name, ast.Constant)):
            self.emit(result, self.atom(value))
        else:
            self.emit(result, self.primitive(value))
        ret = ast.Return(ast.Name(result, ast.Load()))
        ret.lineno = stmt.lineno
        self.body.append(ret)
        return result

    # --- expressions -----------------------------------------------------------------------------

    def atom(self, e, hint=None):
        """A Name or Constant holding the value of e, emitting statements for its parts."""
        if isinstance(e, ast.Constant):
            return e
        if isinstance(e, ast.Name):
            return self.name(e)
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub) and isinstance(e.operand, ast.Constant) \
                and isinstance(e.operand.value, (int, float)):
            return ast.Constant(-e.operand.value)
        if isinstance(e, ast.Attribute) and dotted(e) and dotted(e).split(".")[0] not in self.locals:
            return self.global_value(e)
        return self.emit(self.namer.fresh(hint or self.describe(e)), self.primitive(e))

    def name(self, e):
        if e.id in self.current:
            return ast.Name(self.current[e.id], ast.Load())
        if e.id in self.locals:
            raise self.src.error(e, f"`{e.id}` is used before it is assigned", "assign it first", "normalizing")
        return self.global_value(e)

    def global_value(self, e):
        """A module-level or closure value used as data: a constant to the derivative."""
        value = resolve(self.fn, e, self.locals)
        path = dotted(e)
        if value is MISSING:
            raise self.src.error(e, f"`{path}` is not defined", "define it or import it at module level",
                                 "normalizing")
        if isinstance(value, type) and (issubclass(value, np.generic) or value in (float, int, bool, complex)):
            spelled = f"np.{value.__name__}" if issubclass(value, np.generic) else value.__name__
            return ast.parse(spelled, mode="eval").body  # a dtype
        if is_literal(value) or isinstance(value, np.ndarray):
            store = self.constants if is_literal(value) else self.externals
            name = path.replace(".", "_")
            if name in store and store[name] is value:
                return ast.Name(name, ast.Load())
            if "." in path or name in self.constants or name in self.externals:
                name = self.namer.fresh(name)  # a plain global's own name is free: locals cannot share it
            store[name] = value
            return ast.Name(self.namer.claim(name), ast.Load())
        raise self.src.error(e, f"`{path}` ({type(value).__name__}) cannot be used as a value here",
                             "use floats, ints and NumPy arrays as values", "normalizing")

    def describe(self, e):
        if isinstance(e, ast.Call):
            if isinstance(e.func, ast.Attribute):
                return e.func.attr
            return e.func.id if isinstance(e.func, ast.Name) else "call"
        if isinstance(e, (ast.BinOp, ast.UnaryOp)):
            return _OP_NAMES.get(type(e.op), "value")
        if isinstance(e, ast.Subscript):
            base = e.value.id if isinstance(e.value, ast.Name) else "item"
            index = e.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, int):
                return f"{base}{index.value}" if index.value >= 0 else f"{base}_m{-index.value}"
            if isinstance(index, ast.Name):
                return f"{base}_{index.id}"
            return f"{base}_part"
        if isinstance(e, ast.Attribute):
            if e.attr == "T":
                return f"{e.value.id}_T" if isinstance(e.value, ast.Name) else "transpose"
            return f"{e.value.id}_{e.attr}" if isinstance(e.value, ast.Name) else e.attr
        if isinstance(e, ast.Compare):
            return "cond"
        if isinstance(e, (ast.Tuple, ast.List)):
            return "tup"
        return "value"

    def primitive(self, e):
        """The right-hand side of one normal-form statement computing e."""
        if isinstance(e, ast.BinOp):
            return ast.BinOp(self.atom(e.left), e.op, self.atom(e.right))
        if isinstance(e, ast.UnaryOp):
            return ast.UnaryOp(e.op, self.atom(e.operand))
        if isinstance(e, ast.Compare):
            if len(e.ops) != 1:
                raise self.src.error(e, "a chained comparison cannot be differentiated by this version of adjoint",
                                     "split it into two comparisons", "normalizing")
            return ast.Compare(self.atom(e.left), e.ops, [self.atom(e.comparators[0])])
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.Attribute):
            return self.attribute(e)
        if isinstance(e, ast.Subscript):
            return ast.Subscript(self.atom(e.value), self.index(e.slice), ast.Load())
        if isinstance(e, (ast.Tuple, ast.List)):
            return ast.Tuple([self.atom(v) for v in e.elts], ast.Load())
        if isinstance(e, (ast.Name, ast.Constant)):
            return self.atom(e)
        what = {ast.IfExp: "a conditional expression (`a if c else b`)", ast.BoolOp: "`and`/`or`",
                ast.Lambda: "a lambda"}.get(type(e), f"`{type(e).__name__}`")
        raise self.src.error(e, f"{what} cannot be differentiated by this version of adjoint",
                             "compute it on a line of its own with supported operations", "normalizing")

    def index(self, s):
        if isinstance(s, ast.List):  # an integer-array index written as a list
            array = ast.Call(ast.parse("np.array", mode="eval").body, [self.argument(s)], [])
            return self.emit(self.namer.fresh("idx"), array)
        if isinstance(s, ast.Slice):
            return ast.Slice(*(None if p is None else self.atom(p, "bound") for p in (s.lower, s.upper, s.step)))
        if isinstance(s, ast.Tuple):
            return ast.Tuple([self.index(p) for p in s.elts], ast.Load())
        if isinstance(s, ast.Constant):
            return s
        return self.atom(s, "idx")

    def attribute(self, e):
        base = self.atom(e.value)
        if e.attr in _SHAPE_ATTRS or e.attr == "T":
            return ast.Attribute(base, e.attr, ast.Load())
        raise self.src.error(e, f"the attribute `.{e.attr}` has no derivative rule",
                             "use .T, .shape, .ndim, .size or .dtype, or compute it with a NumPy function",
                             "normalizing")

    def call(self, e):
        for a in e.args:
            if isinstance(a, ast.Starred):
                raise self.src.error(a, "`*args` in a call cannot be differentiated", "pass the arguments one by one",
                                     "normalizing")
        func = e.func
        is_method = isinstance(func, ast.Attribute) and (dotted(func) is None or dotted(func).split(".")[0] in self.locals)
        if is_method:
            rule = self.table.for_spelling("." + func.attr)
            if rule is None:
                raise self.src.error(e, f"the method `.{func.attr}()` has no derivative rule",
                                     "call the NumPy function instead, or register a rule with adjoint.custom_vjp",
                                     "normalizing")
            receiver = self.atom(func.value)
            args = [self.argument(a) for a in e.args]
            if func.attr == "reshape" and len(args) > 1:
                args = [ast.Tuple(args, ast.Load())]
            keywords = {k.arg: self.argument(k.value) for k in e.keywords}
            self.check_bind(rule, e, [receiver] + args, keywords)
            return ast.Call(ast.Attribute(receiver, func.attr, ast.Load()), args,
                            [ast.keyword(k, v) for k, v in keywords.items()])
        target = resolve(self.fn, func, self.locals)
        if target is MISSING:
            name = dotted(func) or ast.unparse(func)
            if dotted(func) and dotted(func).split(".")[0] in self.locals:
                raise self.src.error(e, f"`{name}` is a local value: calling it cannot be differentiated by this "
                                     "version of adjoint", "call a module-level function instead", "normalizing")
            raise self.src.error(e, f"`{name}` is not defined", "define it or import it at module level", "normalizing")
        rule = self.table.lookup(target)
        if rule is None:
            name = dotted(func)
            has_source = hasattr(target, "__code__")
            what = (f"calling the user function `{name}` cannot be differentiated by this version of adjoint"
                    if has_source else f"`{name}` has no derivative rule and no Python source")
            raise self.src.error(e, what, "register a rule for it with adjoint.custom_vjp", "normalizing")
        args = [self.argument(a) for a in e.args]
        keywords = {k.arg: self.argument(k.value) for k in e.keywords}
        self.check_bind(rule, e, args, keywords)
        if rule.custom:
            self.externals[rule.spelling] = target
        spelled = ast.parse(rule.spelling, mode="eval").body
        return ast.Call(spelled, args, [ast.keyword(k, v) for k, v in keywords.items()])

    def argument(self, a):
        if isinstance(a, (ast.Tuple, ast.List)):
            return ast.Tuple([self.argument(v) for v in a.elts], ast.Load())
        return self.atom(a)

    def check_bind(self, rule, e, args, keywords):
        if not rule.params:
            return  # no derivative: any arguments will do
        try:
            rule.bind(args, keywords)
        except BindError as err:
            name = rule.spelling.lstrip(".")
            raise self.src.error(e, f"`{name}` {err}", "call it in the form adjoint's rule knows, or register "
                                 "your own rule with adjoint.custom_vjp", "normalizing") from None


class Renamer(ast.NodeTransformer):
    """Replaces user names with their current versions (in statements kept as written)."""

    def __init__(self, current):
        self.current = current

    def visit_Name(self, node):
        if node.id in self.current:
            return ast.copy_location(ast.Name(self.current[node.id], node.ctx), node)
        return node


def _op_symbol(op):
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.Mod: "%",
            ast.FloorDiv: "//", ast.MatMult: "@"}.get(type(op), "?")
