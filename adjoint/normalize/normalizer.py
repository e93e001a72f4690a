"""Normalize a user function into the few statement shapes the transforms handle.

After normalization the body is a list of these statements, where an atom is a Name or a Constant:

    name = atom                          a copy
    name = atom OP atom                  + - * / ** % // @ and the bitwise operators
    name = OP atom                       - + not ~
    name = atom CMP atom                 one comparison
    name = f(arg, ..., key=arg)          a call spelled as its rule is (np.sin, math.exp, abs);
                                         an arg is an atom or a tuple of atoms
    name = atom.m(arg, ...)              an ndarray method with a rule (.sum, .reshape, ...)
    name = atom.attr                     .T, .shape, .ndim, .size, .dtype
    name = atom[index]                   index: atoms, slices of atoms, None, tuples of those
    name, name = atom                    unpacking a runtime tuple (such as a shape)
    name[index] = atom                   an element or slice write
    if atom: ... else: ...
    for name in range(atom, atom, atom): ...
    while atom: ...                      the test is computed again at the end of the body
    break
    assert ... / raise ...               kept as written: no derivative flows through them
    return atom                          once, at the end of the top level

Names that are assigned only in straight-line code at the top level get a new version at each
assignment (a, a_1, a_2), so the reverse sweep finds their old values without a tape; names
assigned inside if/for/while keep one name, and the tape keeps what the reverse sweep needs of
them. Augmented assignment becomes plain assignment (`s += e` -> `s = s + e`,
`y[i] += e` -> read, add, write) where no other name may see the change; otherwise it is
refused, since for an array it would write through to that other name.

Calls to the user's own functions (module-level, imported, closures, lambdas) are inlined, so one
adjoint covers them; a call whose arguments are constants is folded as it is inlined, which lets
a recursion whose depth is a constant unroll. Tuples written in the code (`a, b = b, a`,
`return s, c`) are taken apart, so the transforms never see a tuple that carries a derivative.

Every statement's lineno is an index into `NormalFunction.origins`, which names the user's file
and line it came from (inlined code keeps its own file). For example

    def f(x):                          def f(x):
        a = np.sin(x) * x                  sin = np.sin(x)
        a = a + x[1:] ** 2        ->       a = sin * x
        return np.sum(a)                   x_part = x[1:]
                                           pow_1 = x_part ** 2
                                           a_1 = a + pow_1
                                           out = np.sum(a_1)
                                           return out
"""

import ast
import copy
import inspect

import numpy as np

from .. import frontend
from ..analysis.aliasing import chain_base, disjoint_subscripts, links
from ..analysis.kinds import Kinds
from ..errors import AdjointError, Location
from ..frontend import MISSING, dotted
from ..ir.naming import RESERVED, Namer
from ..ir.normal import NormalFunction
from ..ir.queries import OP_NAMES, OPERATORS, loads
from ..rules import BindError
from ..runtime import EXPORTED as HELPERS
from .structure import FLAG, structure

_SHAPE_ATTRS = {"shape", "ndim", "size", "dtype"}
_LITERALS = (bool, int, float, complex, str, bytes, type(None))
_MAX_INLINE_DEPTH = 64
STAGE = "normalizing"


def _events(stmts):
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
            yield from _events(s.body)
            yield from _events(s.orelse)
        elif isinstance(s, ast.For):
            yield from _loads(s.iter)
            yield from ((n.id, "store", s) for n in ast.walk(s.target) if isinstance(n, ast.Name))
            yield from _events(s.body)
        else:
            yield from _loads(s)


def _loads(node):
    return ((n.id, "load", node) for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def _logistic_call(e):
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


def normalize(src, table, kinds=None):
    """The NormalFunction of a frontend.Source; `kinds` gives the known ndim of parameters (0: a number)."""
    forced = set()
    while True:
        norm = Normalizer(src, table, kinds, forced)
        nf = norm.run()
        if not norm.conflicts:
            return nf
        forced |= norm.conflicts  # a name whose kind differs between its assignments: unknown


def _assigned_in_compound(stmts):
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
        self.params = tuple(a.arg for a in tree.args.args)
        self.locals = set(self.params) | {
            n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        self.fixed = _assigned_in_compound(tree.body) | {FLAG}  # one name for all their assignments
        self.current = {}  # user name -> atom, or ast.Tuple of atoms for a tuple written in the code
        self.functions = {}  # user name -> (FunctionDef or Lambda node, defining Scope)
        self.fixed_names = {}  # user name in `fixed` -> its one name in generated code
        self.result = None  # name (or list of names, for a tuple) holding the return value
        self.loops = 0


class Normalizer:
    def __init__(self, src, table, kinds=None, forced=()):
        self.table = table
        self.top = Scope(src, src.fn)
        self.namer = Namer(n.id for n in ast.walk(src.tree) if isinstance(n, ast.Name))
        self.claimed = set(self.top.params)
        for p in self.top.params:
            self.namer.claim(p)
            self.top.current[p] = ast.Name(p, ast.Load())
            if p in self.top.fixed:
                self.top.fixed_names[p] = p
        self.kinds = Kinds({p: k for p, k in (kinds or {}).items() if k is not None})
        self.forced = set(forced)
        self.conflicts = set()
        self.constants, self.externals = {}, {}
        self.bindings = {}  # (function, dotted name) -> the object it named (see NormalFunction.bindings)
        self.origins, self._origin_ids = [None], {}
        self.blocks = [[]]
        self.pending = []  # (scope, statements) still to come: what may read a value later
        self.stack = []  # functions being inlined, for the recursion limit
        self.loop_writes = []  # per loop being normalized: (array, its sharers, scope, stmt) of element writes
        self.written_params = self.params_written_in_place(src.tree)
        self.line = 0
        self.read_cache = {}  # (array name, index) -> the atom already holding that element
        self.rewritten = set()  # names that may be assigned again (one name for several assignments)
        self.user_names = {}  # version -> the user's variable

    # --- the whole function ----------------------------------------------------------------------

    def run(self):
        scope, tree = self.top, self.top.src.tree
        for arg in tree.args.args:
            if arg.arg in HELPERS:
                raise self.error(scope, arg, f"the parameter `{arg.arg}` has the name of a helper that generated "
                                 f"code calls (adjoint.runtime.{arg.arg})", "rename the parameter")
        for p in self.written_params:  # the caller's array is never changed: write into a copy
            copied = self.emit(self.namer.fresh(p), self.rule_call("np.copy", [ast.Name(p, ast.Load())]))
            scope.current[p] = copied
            self.user_names[copied.id] = p
            if p in scope.fixed:
                scope.fixed_names[p] = copied.id
        self.function_body(scope, tree)
        result = scope.result
        if isinstance(result, list):
            raise AdjointError(f"{scope.src.name} returns a tuple: differentiate a function that returns "
                               "one float or array (return the sum, or one element)")
        ret = ast.Return(ast.Name(result, ast.Load()))
        ret.lineno = self.line
        self.blocks[0].append(ret)
        return NormalFunction(tree.name, scope.params, self.blocks[0], result, self.namer, self.constants,
                              self.externals, dict(self.kinds.of), self.origins, self.user_names, self.bindings)

    def params_written_in_place(self, tree):
        params = {a.arg for a in tree.args.args}
        written = set()
        for node in ast.walk(tree):
            target = node.target if isinstance(node, ast.AugAssign) else None
            targets = node.targets if isinstance(node, ast.Assign) else [target] if target is not None else []
            for t in targets:
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in params:
                    written.add(t.value.id)
        return sorted(written)

    def function_body(self, scope, fdef):
        stmts = fdef.body
        if stmts and isinstance(stmts[0], ast.Expr) and isinstance(stmts[0].value, ast.Constant):
            stmts = stmts[1:]  # the docstring
        for node in ast.walk(fdef):
            if isinstance(node, ast.Return) and node.value is None:
                raise self.error(scope, node, "`return` without a value", "return the value to differentiate")
            if isinstance(node, (ast.For, ast.While)) and node.orelse:
                raise self.error(scope, node, "a loop with an `else:` clause cannot be differentiated",
                                 "set a flag before `break` and test it after the loop")
        for node in ast.walk(fdef):
            for part in ("body", "orelse"):
                block = getattr(node, part, None)
                if not isinstance(block, list) or isinstance(node, ast.Lambda):
                    continue
                for a, b in zip(block, block[1:]):
                    if isinstance(a, (ast.Return, ast.Break, ast.Continue)):
                        word = {ast.Return: "return", ast.Break: "break", ast.Continue: "continue"}[type(a)]
                        raise self.error(scope, a, f"code after `{word}` is unreachable", "delete it")
        if not frontend_jumps(stmts):
            raise self.error(scope, fdef, f"{fdef.name} does not end with a `return`",
                             "return the value to differentiate")
        self.statements(scope, structure(stmts))

    # --- blocks and statements -------------------------------------------------------------------

    def open_block(self):
        self.read_cache = {}
        self.blocks.append([])

    def close_block(self):
        self.read_cache = {}
        return self.blocks.pop()

    @property
    def out(self):
        return self.blocks[-1]

    def nested(self, scope, stmts, pending=()):
        """Normalize stmts into a new block and return it."""
        self.read_cache = {}  # element reads are shared only within straight-line code
        self.open_block()
        self.pending.extend(pending)
        self.statements(scope, stmts)
        del self.pending[len(self.pending) - len(pending):]
        self.read_cache = {}
        return self.close_block() or [ast.Pass()]

    def statements(self, scope, stmts):
        for i, stmt in enumerate(stmts):
            self.pending.append((scope, stmts[i + 1:]))
            self.line = self.origin(scope, stmt)
            try:
                self.statement(scope, stmt)
            finally:
                self.pending.pop()

    def origin(self, scope, node):
        loc = scope.src.locate(node)
        key = (loc.filename, loc.lineno)
        if key not in self._origin_ids:
            self._origin_ids[key] = len(self.origins)
            self.origins.append(Location(loc.filename, loc.lineno, -1, loc.text))
        return self._origin_ids[key]

    def emit(self, target, value):
        """Append `target = value` and return the atom that names it."""
        kind = None if target in self.forced else self.kinds.value(value, self.call_rule(value))
        if target in self.kinds.of and self.kinds.of[target] != kind:
            self.conflicts.add(target)
        self.kinds.of[target] = kind
        self.forget({target})
        self.append(ast.Assign([ast.Name(target, ast.Store())], value))
        key = self.read_key(value)
        if key is not None and target not in key[1]:
            self.read_cache[key] = ast.Name(target, ast.Load())
        return ast.Name(target, ast.Load())

    def append(self, stmt):
        stmt.lineno = self.line
        self.out.append(stmt)
        return stmt

    def error(self, scope, node, what, hint=""):
        return scope.src.error(node, what, hint, STAGE)

    def statement(self, scope, stmt):
        if isinstance(stmt, ast.Assign):
            value = stmt.value
            if len(stmt.targets) > 1 and not isinstance(value, (ast.Tuple, ast.List, ast.Lambda)):
                value = _Normal(self.atom(scope, value))  # `a = b = e`: e once, then each target
            for target in stmt.targets:
                self.assign(scope, target, value, stmt)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(scope, stmt.target, stmt.value, stmt)
        elif isinstance(stmt, ast.AugAssign):
            self.augassign(scope, stmt)
        elif isinstance(stmt, ast.Return):
            self.returned(scope, stmt)
        elif isinstance(stmt, ast.If):
            self.branch(scope, stmt)
        elif isinstance(stmt, ast.For):
            self.for_loop(scope, stmt)
        elif isinstance(stmt, ast.While):
            self.while_loop(scope, stmt)
        elif isinstance(stmt, ast.Break):
            self.append(ast.Break())
        elif isinstance(stmt, ast.FunctionDef):
            scope.functions[stmt.name] = (stmt, scope)
            scope.current.pop(stmt.name, None)
        elif isinstance(stmt, (ast.Assert, ast.Raise)):
            self.append(Renamer(scope).visit(copy.deepcopy(stmt)))
        elif isinstance(stmt, ast.Pass):
            pass
        elif isinstance(stmt, ast.Expr):
            if not isinstance(stmt.value, ast.Constant):
                raise self.error(scope, stmt, "an expression whose value is dropped cannot be differentiated",
                                 "assign its value to a name, or remove it")
        else:
            raise self.error(scope, stmt, f"`{type(stmt).__name__}` cannot be differentiated",
                             "rewrite it with assignments, if, for and while")

    # --- assignment ------------------------------------------------------------------------------

    def bind_name(self, scope, name):
        """The name that an assignment to the user variable `name` writes (see the module docstring)."""
        if name in scope.fixed_names:
            version = scope.fixed_names[name]
        else:
            version = self.new_version(scope, name)
            if name in scope.fixed:
                scope.fixed_names[name] = version
                self.rewritten.add(version)
        self.user_names[version] = name
        scope.current[name] = ast.Name(version, ast.Load())
        return version

    def new_version(self, scope, name):
        if scope is self.top and name not in self.claimed and name not in RESERVED and name not in self.constants:
            self.claimed.add(name)
            return self.namer.claim(name)
        version = self.namer.fresh(name)
        self.claimed.add(version)
        return version

    def assign(self, scope, target, value, stmt):
        if isinstance(target, ast.Name):
            if target.id in scope.functions:
                del scope.functions[target.id]
            if isinstance(value, ast.Lambda):
                scope.functions[target.id] = (value, scope)
                scope.current.pop(target.id, None)
                return
            if isinstance(value, (ast.Tuple, ast.List)) and target.id not in scope.fixed:
                scope.current[target.id] = ast.Tuple([self.atom(scope, v) for v in value.elts], ast.Load())
                return
            rhs = self.rhs(scope, value, hint=target.id)
            if isinstance(rhs, ast.Tuple):
                if target.id in scope.fixed:
                    raise self.error(scope, stmt, "a tuple assigned inside if/for/while cannot be differentiated",
                                     "assign its parts to separate names")
                scope.current[target.id] = rhs
                return
            version = self.bind_name(scope, target.id)
            reads = {n.id for n in ast.walk(rhs) if isinstance(n, ast.Name)}
            if version in reads and not isinstance(rhs, ast.Name):  # s = s * x: compute, then copy
                rhs = self.emit(self.namer.fresh(self.describe(value)), rhs)
            self.emit(version, rhs)
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            return self.unpack(scope, target, value, stmt)
        if isinstance(target, ast.Subscript):
            return self.write_element(scope, target, value, stmt)
        raise self.error(scope, target, f"cannot assign to `{ast.unparse(target)}`", "assign to a plain name")

    def rhs(self, scope, value, hint=None):
        """A right-hand side: a normal-form value, an atom, or an ast.Tuple of atoms."""
        if isinstance(value, (ast.Name, ast.Constant, _Normal)):
            return self.atom(scope, value)
        if isinstance(value, ast.Call):
            callee = self.callee(scope, value)
            if callee is not None:
                return self.inline(scope, value, *callee)
        if isinstance(value, (ast.IfExp, ast.BoolOp)) or (isinstance(value, ast.Compare) and len(value.ops) > 1):
            return self.atom(scope, value, hint)
        if isinstance(value, ast.Attribute) and self.is_global(scope, value):
            return self.atom(scope, value)
        if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Tuple) and not value.slice.elts:
            return self.atom(scope, value.value)  # x[()]: x's value (a 0-d array's as a NumPy number)
        if isinstance(value, ast.Subscript):
            if isinstance(value.value, ast.Attribute) and value.value.attr == "shape" \
                    and not self.is_global(scope, value.value):  # x.shape[k]: one statement
                index = self.atom(scope, value.slice)
                return ast.Subscript(ast.Attribute(self.atom(scope, value.value.value), "shape", ast.Load()),
                                     index, ast.Load())
            base = self.value_or_tuple(scope, value.value)
            if isinstance(base, ast.Tuple):
                return self.tuple_item(scope, base, value)
        return self.primitive(scope, value)

    def unpack(self, scope, target, value, stmt):
        names = target.elts
        if not all(isinstance(n, ast.Name) for n in names):
            raise self.error(scope, target, "only names can be unpacked into", "unpack into names first")
        if isinstance(value, (ast.Tuple, ast.List)):
            parts = [self.atom(scope, v) for v in value.elts]
        else:
            packed = self.rhs(scope, value, "tup")
            if isinstance(packed, ast.Tuple):
                parts = list(packed.elts)
            else:  # a runtime tuple, such as a shape, or an array's rows
                if not isinstance(packed, ast.Name):
                    packed = self.emit(self.namer.fresh("tup"), packed)
                if (self.kinds.of.get(packed.id) or 0) >= 1:  # rows: views of the array, as `a = A[0]` makes
                    count = ast.Call(ast.Name("len", ast.Load()), [copy.deepcopy(packed)], [])
                    self.append(ast.Assert(ast.Compare(count, [ast.Eq()], [ast.Constant(len(names))]),
                                           ast.Constant(f"cannot unpack the rows into {len(names)} names")))
                    for i, n in enumerate(names):
                        row = ast.copy_location(ast.Subscript(_Normal(packed), ast.Constant(i), ast.Load()), value)
                        self.assign(scope, n, row, stmt)
                    return
                versions = [self.bind_name(scope, n.id) for n in names]
                shape = isinstance(value, ast.Attribute) and value.attr == "shape"  # a tuple of ints
                for v in versions:
                    self.kinds.of[v] = 0 if shape or self.kinds.of.get(packed.id) == 0 else None
                self.append(ast.Assign([ast.Tuple([ast.Name(v, ast.Store()) for v in versions], ast.Store())],
                                       packed))
                return
        if len(parts) != len(names):
            raise self.error(scope, stmt, f"cannot unpack {len(parts)} values into {len(names)} names")
        # a name written in a loop or branch keeps one name, rewritten in place: a part that reads one
        # of the names being assigned is read before any is written (`p, q = q, p`)
        rewritten = {scope.fixed_names[n.id] for n in names if n.id in scope.fixed_names}
        parts = [self.emit(self.namer.fresh(f"{part.id}_old"), part)
                 if isinstance(part, ast.Name) and part.id in rewritten else part for part in parts]
        for n, part in zip(names, parts):
            self.emit(self.bind_name(scope, n.id), part)

    def augassign(self, scope, stmt):
        target = stmt.target
        if isinstance(target, ast.Subscript):  # read, operate, write back (numpy's own semantics)
            base = self.atom(scope, target.value)
            index = self.index(scope, target.slice)
            old = self.emit(self.namer.fresh(self.describe_subscript(base, index)),
                            ast.Subscript(base, index, ast.Load()))
            new = self.emit(self.namer.fresh(OP_NAMES.get(type(stmt.op), "value")),
                            ast.BinOp(old, stmt.op, self.atom(scope, stmt.value)))
            return self.store_element(scope, base, copy.deepcopy(index), new, stmt)
        if not isinstance(target, ast.Name):
            raise self.error(scope, target, f"cannot assign to `{ast.unparse(target)}`", "assign to a plain name")
        name = target.id
        old = scope.current.get(name)
        if isinstance(old, ast.Name) and self.kinds.of.get(old.id) != 0:
            sharers = self.sharers(old.id)
            live = sorted({self.user_name(s) for s in sharers if self.read_later(s)} |
                          self.other_names_read_later(old.id, scope, name))
            if live or old.id in self.top.params and scope is self.top and old.id not in self.written_params:
                who = f"`{live[0]}`" if live else "the caller's argument"
                symbol = _op_symbol(stmt.op)
                raise self.error(
                    scope, stmt, f"`{name} {symbol}= ...` would change {who} too if `{name}` is an array",
                    f"write `{name} = {name} {symbol} ...`, or make `{name}` a copy first "
                    f"(`{name} = {live[0] if live else name}.copy()`)")
        binop = ast.copy_location(ast.BinOp(ast.Name(name, ast.Load()), stmt.op, stmt.value), stmt)
        self.assign(scope, target, binop, stmt)

    def write_element(self, scope, target, value, stmt):
        base = self.atom(scope, target.value)
        index = self.index(scope, target.slice)
        self.store_element(scope, base, index, self.atom(scope, value), stmt)

    def store_element(self, scope, base, index, value, stmt):
        if not isinstance(base, ast.Name):
            raise self.error(scope, stmt, "only an array held in a name can be written into")
        sharers = self.sharers(base.id)
        live = sorted(self.user_name(s) for s in sharers if self.read_later(s) and not self.disjoint(s, base.id))
        params = sorted(s for s in sharers | {base.id} if s in self.top.params)
        if live or params:
            who = live[0] if live else params[0]
            raise self.error(scope, stmt, f"writing into `{self.user_name(base.id)}` would also change "
                             f"`{who}`, which shares its memory" + ("" if live else " (the caller's array)"),
                             f"write into a copy: `{self.user_name(base.id)} = {self.user_name(base.id)}.copy()` "
                             "first")
        for writes in self.loop_writes:  # (checked when each loop around is done: see loop_body)
            writes.append((base.id, sharers, scope, stmt))
        self.forget(sharers | {base.id})
        self.append(ast.Assign([ast.Subscript(base, index, ast.Store())], value))

    def user_name(self, version):
        """The user's name for a version of the top function's variable (the version itself if none)."""
        return next((user for user, atom in self.top.current.items()
                     if isinstance(atom, ast.Name) and atom.id == version), version)

    # --- aliasing --------------------------------------------------------------------------------

    def sharers(self, version, views_only=False):
        """Other names that may share memory with `version` (copies, views, and what they view); with
        `views_only`, none unless one of the links is a view (`a[1:]`, `a.T`), not only names passed
        on (`v, buf = buf, v` in a loop links v and buf, which never hold one array at a time)."""
        group, changed, view = {version}, True, False
        statements = self.assignments()
        while changed:
            changed = False
            for s in statements:
                for t, source in links(s, self.table, self.kinds.of):
                    if (t in group) != (source in group):
                        group |= {t, source}
                        view = view or not isinstance(s.value, ast.Name) or not isinstance(s.targets[0], ast.Name)
                        changed = True
        if views_only and not view:
            return set()
        return {v for v in group - {version} if self.kinds.of.get(v) != 0}

    def assignments(self):
        """The assignments normalized so far: every block being built (a loop's or branch's body joins
        the function only when it is done)."""
        return [s for b in self.blocks for s in ast.walk(ast.Module(b, [])) if isinstance(s, ast.Assign)]

    def disjoint(self, a, b):
        """Whether a and b are views of one array that share no element, by their subscripts
        (`u[:k]` and `u[k:]`, `u[:2]` and `u[2:]`, `A[0]` and `A[1]`, `A[:, :2]` and `A[:, 2:]`)."""
        assigned_later = {n.id for _, stmts in self.pending for s in stmts for n in ast.walk(s)
                          if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        if any(self.user_names.get(v, v) in assigned_later for v in (a, b)):
            return False  # (a loop may bind it to another view before it is read again)
        va, vb = self.view_of(a), self.view_of(b)
        return va is not None and vb is not None and va[0] == vb[0] and disjoint_subscripts(va[1], vb[1])

    def view_of(self, version):
        """(the array, the subscript) when `version` is bound once, to `array[subscript]`, through
        plain copies of the name (`p = part`), else None."""
        statements = {s.targets[0].id: s.value for s in self.assignments() if isinstance(s.targets[0], ast.Name)}
        value, seen = statements.get(version), {version}
        while isinstance(value, ast.Name) and value.id not in seen:
            seen.add(value.id)
            value = statements.get(value.id)
        if seen & self.rewritten or not (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)):
            return None  # (a name assigned in several places may hold another view)
        return value.value.id, value.slice

    def later_reads(self):
        """(scope, name, what the name holds now) for each name that code still to be normalized may
        read before it assigns the name again (the loops around count as running again, so a loop
        variable that each run assigns first is not read: `for row in A` again)."""
        settled = set()  # (scope, name) surely assigned before any later read
        sure = True  # no break, continue or return yet: what follows runs after what came before
        for scope, stmts in reversed(self.pending):  # in the order they run
            exposed, assigned = _upward(stmts)
            for name in _with_closures(scope, exposed):
                if (id(scope), name) not in settled:
                    yield scope, name, scope.current.get(name)
            sure = sure and not any(_leaves(s) for s in stmts)
            if sure:
                settled |= {(id(scope), name) for name in assigned}

    def read_later(self, version):
        """Whether code still to be normalized may read `version`."""
        for _, _, atom in self.later_reads():
            if isinstance(atom, ast.Name) and atom.id == version:
                return True
            if isinstance(atom, ast.Tuple) and any(isinstance(e, ast.Name) and e.id == version for e in atom.elts):
                return True
        return False

    def other_names_read_later(self, version, scope, name):
        """Names other than `name` in `scope` that hold `version` itself and that code still to be
        normalized reads: a caller's variable passed to the function being inlined, say."""
        return {n for s, n, atom in self.later_reads()
                if isinstance(atom, ast.Name) and atom.id == version and (s is not scope or n != name)}

    # --- control flow ----------------------------------------------------------------------------

    def returned(self, scope, stmt):
        if stmt.value is None:  # the structurer's "leave: the result is set"
            return
        value = stmt.value
        if scope.result is None:
            base = "out" if scope is self.top else f"{scope.src.name}_out"
            if isinstance(value, (ast.Tuple, ast.List)):
                scope.result = [self.namer.fresh(base) for _ in value.elts]
            else:
                scope.result = self.namer.fresh(base)
        if isinstance(scope.result, list):
            parts = value.elts if isinstance(value, (ast.Tuple, ast.List)) else None
            rhs = self.rhs(scope, value) if parts is None else None
            if parts is None and isinstance(rhs, ast.Tuple):
                parts = rhs.elts
            if parts is None or len(parts) != len(scope.result):
                raise self.error(scope, stmt, "the function returns tuples of different lengths, or a tuple "
                                 "and a single value", "return the same shape of result everywhere")
            for name, part in zip(scope.result, [self.atom(scope, p) for p in parts]):
                self.emit(name, part)
        else:
            if isinstance(value, (ast.Tuple, ast.List)):
                raise self.error(scope, stmt, "the function returns a tuple here and a single value elsewhere",
                                 "return the same shape of result everywhere")
            rhs = self.rhs(scope, value, scope.result)
            if isinstance(rhs, ast.Tuple):
                raise self.error(scope, stmt, "returning a tuple held in a name is not supported",
                                 "return the tuple written out, `return a, b`")
            self.emit(scope.result, rhs)
        if scope.loops:
            self.append(ast.Break())

    def branch(self, scope, stmt):
        test = self.atom(scope, stmt.test, "cond")
        if isinstance(test, ast.Constant):  # decided now: only one branch exists
            return self.statements(scope, stmt.body if test.value else stmt.orelse)
        test = self.stable_test(test)
        before = dict(scope.current)
        body = self.nested(scope, stmt.body)
        fixed = set(scope.fixed_names.values())
        for user, atom in list(scope.current.items()):  # the else branch does not see what the body bound
            if before.get(user) is not atom and not (isinstance(atom, ast.Name) and atom.id in fixed):
                if user in before:  # (a name the structurer moved into both branches: `x = x[...]`
                    scope.current[user] = before[user]  # after an `if` that returns)
                else:
                    del scope.current[user]
        orelse = self.nested(scope, stmt.orelse) if stmt.orelse else []
        if orelse == [ast.Pass()]:
            orelse = []
        self.append(ast.If(test, body, orelse))

    def stable_test(self, test):
        """The test of an if, in a name that nothing assigns again, so the reverse sweep sees its value."""
        if test.id in self.rewritten:
            return self.emit(self.namer.fresh("branch"), test)
        return test

    def loop_body(self, scope, stmts):
        """Normalize a loop's body, then refuse an element write in it into an array that the rest of
        the body made share memory with another array read later (`w[0] = ...` then `w = A[t]`: from
        the second run on, the write changes A, an alias the normal form does not have). Only arrays
        that one run can find from the one before count: those bound before the loop, and names that
        the loop assigns again, unless the run surely assigns them before the write."""
        carried = {n.id for b in self.blocks for n in ast.walk(ast.Module(b, []))  # what a run may find
                   if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}  # from before the loop
        self.loop_writes.append([])
        self.statements(scope, stmts)
        for version, before, where, stmt in self.loop_writes.pop():
            if version not in carried and version not in self.rewritten \
                    or _surely_bound_before(stmts, stmt, self.user_names.get(version)):
                continue  # an array the run itself bound before writing into it
            live = sorted(self.user_name(s) for s in self.sharers(version, views_only=True) - before
                          if self.read_later(s))
            if live:
                name = self.user_name(version)
                raise self.error(where, stmt, f"writing into `{name}` here also changes `{live[0]}` from the loop's "
                                 f"second run on: later in the loop the two are made to share memory",
                                 f"where the loop makes `{live[0]}` or `{name}` a view, make it a copy "
                                 "(`... .copy()`)")

    def carried_views(self, scope, loop):
        """Refuse writing into an array in a loop body, then reading a view of it kept from the previous
        iteration (`a[:] = ...; s += np.sum(w); w = a[:3]`): the normal form has no such alias."""
        views = {}  # name -> arrays it may view, from its assignments in the body
        for node in ast.walk(loop):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                base = chain_base(node.value)
                if base is not None and not self.one_element(scope, node.value):
                    views.setdefault(node.targets[0].id, set()).add(base)
        if not views:
            return
        written, stored = {}, set()  # array -> its first element write; names assigned so far
        for name, kind, node in _events(loop.body):
            if kind == "write":
                written.setdefault(name, node)
            elif kind == "store":
                stored.add(name)
            elif name not in stored and views.get(name, set()) & set(written):
                array = sorted(views[name] & set(written))[0]
                raise self.error(scope, written[array], f"writing into `{array}` in this loop also changes `{name}`, "
                                 f"which still views `{array}` from the previous iteration when it is read",
                                 f"keep a copy instead: `{name} = ... .copy()`")

    def one_element(self, scope, value):
        """Whether value is `a[i, j]` with one index per known dimension of a: a number, not a view."""
        if not (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)):
            return False
        atom = scope.current.get(value.value.id)
        ndim = self.kinds.of.get(atom.id) if isinstance(atom, ast.Name) else None
        parts = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
        return ndim is not None and len(parts) == ndim and not any(
            isinstance(p, ast.Slice) or (isinstance(p, ast.Constant) and p.value is None) for p in parts)

    def for_loop(self, scope, stmt):
        self.carried_views(scope, stmt)
        iterable, target = stmt.iter, stmt.target
        loop_writes = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        prologue = []  # (user name, how to get it from the index) assigned at the top of the body
        func = dotted(iterable.func) if isinstance(iterable, ast.Call) else None
        obj = self.resolve(scope, iterable.func, scope.locals) if func else MISSING
        if obj is range:
            bounds = [self.stable(scope, self.atom(scope, a, "stop"), loop_writes) for a in iterable.args]
            index_name = target
        elif obj in (enumerate, zip):
            index_name = None
            if obj is enumerate:
                if not (isinstance(target, ast.Tuple) and len(target.elts) == 2) or len(iterable.args) != 1:
                    raise self.error(scope, stmt, "enumerate() loops need `for i, v in enumerate(x)`")
                index_name, elem = target.elts
                seqs, elems = [iterable.args[0]], [elem]
            else:
                if not isinstance(target, ast.Tuple) or len(target.elts) != len(iterable.args):
                    raise self.error(scope, stmt, "zip() loops need one name per sequence")
                seqs, elems = iterable.args, target.elts
            atoms = [self.stable(scope, self.atom(scope, s, "seq"), loop_writes) for s in seqs]
            lengths = [self.emit(self.namer.fresh("n"), self.rule_call("len", [a])) for a in atoms]
            stop = lengths[0]
            for n in lengths[1:]:
                stop = self.emit(self.namer.fresh("n"), self.rule_call("min", [stop, n]))
            bounds = [stop]
            prologue = list(zip(elems, atoms))
        else:
            seq = self.stable(scope, self.atom(scope, iterable, "seq"), loop_writes)
            bounds = [self.emit(self.namer.fresh("n"), self.rule_call("len", [seq]))]
            prologue, index_name = [(target, seq)], None
        if index_name is None:
            index_name = ast.Name(self.namer.fresh("i"), ast.Store())
            scope.fixed.add(index_name.id)
        if not isinstance(index_name, ast.Name):
            raise self.error(scope, stmt, "the loop variable must be a name", "unpack inside the loop body")
        index = self.bind_name(scope, index_name.id)
        self.kinds.of[index] = 0
        scope.loops += 1
        self.open_block()
        self.pending.append((scope, [stmt]))
        for elem, seq in prologue:
            if not isinstance(elem, ast.Name):
                raise self.error(scope, stmt, "the loop variable must be a name", "unpack inside the loop body")
            self.emit(self.bind_name(scope, elem.id), ast.Subscript(seq, ast.Name(index, ast.Load()), ast.Load()))
        self.loop_body(scope, stmt.body)
        self.pending.pop()
        body = self.close_block() or [ast.Pass()]
        scope.loops -= 1
        self.line = self.origin(scope, stmt)  # the loop's own line, not its body's last
        rng = ast.Call(ast.Name("range", ast.Load()), bounds, [])
        self.append(ast.For(ast.Name(index, ast.Store()), rng, body, []))

    def stable(self, scope, atom, loop_writes):
        """atom, copied to a fresh name if the loop body may assign it (the bounds are fixed at entry)."""
        if isinstance(atom, ast.Name) and any(
                isinstance(scope.current.get(w), ast.Name) and scope.current[w].id == atom.id for w in loop_writes):
            return self.emit(self.namer.fresh(f"{atom.id}_start"), atom)
        return atom

    def while_loop(self, scope, stmt):
        self.carried_views(scope, stmt)
        scope.loops += 1
        test = self.test_value(scope, stmt.test)
        if isinstance(test, ast.Constant) and not test.value:
            scope.loops -= 1
            return
        cond = None
        if not isinstance(test, ast.Constant):
            cond = self.namer.fresh("cond")
            scope.fixed.add(cond)
            self.rewritten.add(cond)
            self.emit(cond, test)
        self.open_block()
        self.pending.append((scope, [stmt]))
        self.loop_body(scope, stmt.body)
        if cond is not None and not self.ends_in_break():
            self.line = self.origin(scope, stmt)
            self.emit(cond, self.test_value(scope, stmt.test))
        self.pending.pop()
        body = self.close_block() or [ast.Pass()]
        scope.loops -= 1
        self.line = self.origin(scope, stmt)
        self.append(ast.While(ast.Name(cond, ast.Load()) if cond else ast.Constant(True), body, []))

    def test_value(self, scope, test):
        """A while loop's test: one comparison or call stays a right-hand side, the rest an atom."""
        if isinstance(test, ast.Compare) and len(test.ops) == 1 or isinstance(test, ast.Call):
            value = self.rhs(scope, test)
            folded = self.fold(value)
            return folded if folded is not None else value
        return self.atom(scope, test, "cond")

    def ends_in_break(self):
        return bool(self.out) and isinstance(self.out[-1], ast.Break)

    # --- expressions -----------------------------------------------------------------------------

    def atom(self, scope, e, hint=None):
        """A Name or Constant holding the value of e, emitting statements for its parts."""
        if isinstance(e, ast.Constant):
            return e
        if isinstance(e, _Normal):
            return copy.deepcopy(e.atom)
        if isinstance(e, ast.Name):
            value = self.name(scope, e)
            if isinstance(value, ast.Tuple):
                raise self.error(scope, e, f"the tuple `{e.id}` cannot be used as one value here",
                                 "take its parts apart first (`a, b = t`)")
            return value
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub) and isinstance(e.operand, ast.Constant) \
                and isinstance(e.operand.value, (int, float)):
            return ast.Constant(-e.operand.value)
        if isinstance(e, ast.Attribute) and self.is_global(scope, e):
            return self.global_value(scope, e)
        if isinstance(e, ast.IfExp):
            return self.conditional(scope, e, hint)
        if isinstance(e, ast.BoolOp):
            return self.boolean(scope, e, hint)
        if isinstance(e, ast.Compare) and len(e.ops) > 1:
            parts = [ast.Compare(left, [op], [right]) for left, op, right
                     in zip([e.left] + e.comparators[:-1], e.ops, e.comparators)]
            return self.boolean(scope, ast.copy_location(ast.BoolOp(ast.And(), parts), e), hint)
        value = self.rhs(scope, e, hint)
        if isinstance(value, ast.Tuple):
            raise self.error(scope, e, "a tuple cannot be used as one value here", "take its parts apart first")
        if isinstance(value, (ast.Name, ast.Constant)):
            return value
        folded = self.fold(value)
        if folded is not None:
            return folded
        key = self.read_key(value)
        if key in self.read_cache:  # the same element, read again with no write between
            return copy.deepcopy(self.read_cache[key])
        return self.emit(self.namer.fresh(hint or self.describe(e)), value)

    def read_key(self, value):
        if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
            return value.value.id, ast.dump(value.slice)
        return None

    def forget(self, names):
        """Drop cached element reads that involve any of `names` (written or rebound)."""
        self.read_cache = {k: a for k, a in self.read_cache.items()
                           if k[0] not in names and a.id not in names
                           and not any(f"id='{n}'" in k[1] for n in names)}

    def value_or_tuple(self, scope, e):
        if isinstance(e, ast.Name):
            return self.name(scope, e)
        if isinstance(e, (ast.Tuple, ast.List)):
            return ast.Tuple([self.atom(scope, v) for v in e.elts], ast.Load())
        return self.rhs(scope, e) if isinstance(e, ast.Call) else self.atom(scope, e)

    def tuple_item(self, scope, tup, subscript):
        index = self.atom(scope, subscript.slice)
        if isinstance(index, ast.Constant) and isinstance(index.value, int):
            return tup.elts[index.value]
        raise self.error(scope, subscript, "a tuple can only be indexed by a constant here",
                         "unpack the tuple into names")

    def fold(self, value):
        """A Constant when value is arithmetic or a comparison on constants (so constant recursion unrolls)."""
        if isinstance(value, ast.BinOp) and isinstance(value.left, ast.Constant) and isinstance(value.right, ast.Constant):
            args = (value.left.value, value.right.value)
        elif isinstance(value, ast.Compare) and isinstance(value.left, ast.Constant) \
                and isinstance(value.comparators[0], ast.Constant):
            args = (value.left.value, value.comparators[0].value)
        elif isinstance(value, ast.UnaryOp) and isinstance(value.operand, ast.Constant):
            args = (value.operand.value,)
        else:
            return None
        if not all(isinstance(a, (int, float, bool)) for a in args):
            return None
        op = value.ops[0] if isinstance(value, ast.Compare) else value.op
        try:
            return ast.Constant(OPERATORS[type(op)](*args))
        except (ArithmeticError, KeyError, TypeError, ValueError):
            return None

    def conditional(self, scope, e, hint):
        """`a if c else b` as an if statement assigning one name."""
        test = self.atom(scope, e.test, "cond")
        if isinstance(test, ast.Constant):
            return self.atom(scope, e.body if test.value else e.orelse, hint)
        target = self.namer.fresh(hint or "choice")
        self.rewritten.add(target)
        self.open_block()
        self.emit(target, self.atom(scope, e.body))
        body = self.close_block()
        self.open_block()
        self.emit(target, self.atom(scope, e.orelse))
        orelse = self.close_block()
        self.append(ast.If(test, body, orelse))
        return ast.Name(target, ast.Load())

    def boolean(self, scope, e, hint):
        """`a and b` / `a or b` with Python's short circuit, as if statements assigning one name."""
        first = self.atom(scope, e.values[0], "cond")
        if len(e.values) == 1:
            return first
        rest = ast.copy_location(ast.BoolOp(e.op, e.values[1:]), e) if len(e.values) > 2 else e.values[1]
        if isinstance(first, ast.Constant):
            decided = bool(first.value) if isinstance(e.op, ast.Or) else not first.value
            return first if decided else self.atom(scope, rest, hint)
        target = self.namer.fresh(hint or "cond")
        self.rewritten.add(target)
        self.emit(target, first)
        self.open_block()
        self.emit(target, self.atom(scope, rest))
        other = self.close_block()
        test = self.stable_test(ast.Name(target, ast.Load()))
        self.append(ast.If(test, other, []) if isinstance(e.op, ast.And) else ast.If(test, [ast.Pass()], other))
        return ast.Name(target, ast.Load())

    def name(self, scope, e):
        s = scope
        while s is not None:
            if e.id in s.current:
                return s.current[e.id]
            if e.id in s.functions:
                raise self.error(scope, e, f"the function `{e.id}` cannot be used as a value",
                                 "call it, or pass the values it computes")
            if e.id in s.locals and s is scope:
                raise self.error(scope, e, f"`{e.id}` is used before it is assigned", "assign it first")
            s = s.outer
        return self.global_value(scope, e)

    def is_global(self, scope, e):
        path = dotted(e)
        return bool(path) and not self.is_local(scope, path.split(".")[0])

    def is_local(self, scope, name):
        s = scope
        while s is not None:
            if name in s.locals or name in s.current or name in s.functions:
                return True
            s = s.outer
        return False

    def resolve(self, scope, expr, local_names=()):
        """The object a name or dotted name of scope's function refers to (frontend.resolve), kept in
        `bindings`."""
        obj = frontend.resolve(scope.fn, expr, local_names)
        if obj is not MISSING:
            self.bindings[(scope.fn, dotted(expr))] = obj
        return obj

    def global_value(self, scope, e):
        """A module-level or closure value used as data: a constant to the derivative."""
        value = self.resolve(scope, e)
        path = dotted(e)
        if value is MISSING:
            raise self.error(scope, e, f"`{path}` is not defined", "define it or import it at module level")
        if isinstance(value, type) and (issubclass(value, np.generic) or value in (float, int, bool, complex)):
            spelled = f"np.{value.__name__}" if issubclass(value, np.generic) else value.__name__
            return ast.parse(spelled, mode="eval").body  # a type: a dtype, or isinstance's second argument
        if value is None:  # np.newaxis: a subscript must see the new axis as such
            return ast.Constant(None)
        if is_literal(value) or isinstance(value, np.ndarray):
            store = self.constants if is_literal(value) else self.externals
            name = path.replace(".", "_")
            if name in store and store[name] is value:
                return ast.Name(name, ast.Load())
            if "." in path or name in self.constants or name in self.externals or scope is not self.top:
                name = self.namer.fresh(name)
            store[name] = value
            self.kinds.of[name] = np.ndim(value) if isinstance(value, (np.ndarray, int, float, np.generic)) \
                and not isinstance(value, bool) else None
            return ast.Name(self.namer.claim(name), ast.Load())
        raise self.error(scope, e, f"`{path}` ({type(value).__name__}) cannot be used as a value here",
                         "use floats, ints and NumPy arrays as values")

    def describe(self, e):
        if isinstance(e, ast.Call):
            if isinstance(e.func, ast.Attribute):
                return e.func.attr
            return e.func.id if isinstance(e.func, ast.Name) else "call"
        if isinstance(e, ast.BinOp) and _logistic_call(e) is not None:
            return "logistic"
        if isinstance(e, (ast.BinOp, ast.UnaryOp)):
            return OP_NAMES.get(type(e.op), "value")
        if isinstance(e, ast.Subscript):
            return self.describe_subscript(e.value, e.slice)
        if isinstance(e, ast.Attribute):
            if e.attr == "T":
                return f"{e.value.id}_T" if isinstance(e.value, ast.Name) else "transpose"
            return f"{e.value.id}_{e.attr}" if isinstance(e.value, ast.Name) else e.attr
        if isinstance(e, ast.Compare):
            return "cond"
        return "value"

    @staticmethod
    def describe_subscript(base, index):
        if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.attr == "shape":
            return f"{base.value.id}_shape{index.value if isinstance(index, ast.Constant) else ''}"
        base = base.id if isinstance(base, ast.Name) else "item"
        if isinstance(index, ast.Constant) and isinstance(index.value, int):
            return f"{base}{index.value}" if index.value >= 0 else f"{base}_m{-index.value}"
        if isinstance(index, ast.Name):
            return f"{base}_{index.id}"
        return f"{base}_part"

    def primitive(self, scope, e):
        """The right-hand side of one normal-form statement computing e."""
        if isinstance(e, ast.BinOp):
            z = self.logistic_argument(scope, e)
            if z is not None:
                return self.rule_call("logistic", [self.atom(scope, z)])
            left, right = self.atom(scope, e.left), self.atom(scope, e.right)
            if isinstance(e.op, ast.Pow) and self.negative_int_power(left, e.right, right):
                left = ast.Constant(float(left.value)) if isinstance(left, ast.Constant) else \
                    self.emit(self.namer.fresh("base"), self.rule_call("float", [left]))
            return ast.BinOp(left, e.op, right)
        if isinstance(e, ast.UnaryOp):
            return ast.UnaryOp(e.op, self.atom(scope, e.operand))
        if isinstance(e, ast.Compare):
            return ast.Compare(self.atom(scope, e.left), e.ops, [self.atom(scope, e.comparators[0])])
        if isinstance(e, ast.Call):
            return self.call(scope, e)
        if isinstance(e, ast.Attribute):
            return self.attribute(scope, e)
        if isinstance(e, ast.Subscript):
            base = self.atom(scope, e.value)
            return ast.Subscript(base, self.index(scope, e.slice), ast.Load())
        what = {ast.Lambda: "a lambda used as a value", ast.Tuple: "a tuple", ast.List: "a list",
                ast.Starred: "`*` unpacking", ast.JoinedStr: "an f-string"}.get(type(e), f"`{type(e).__name__}`")
        raise self.error(scope, e, f"{what} cannot be differentiated here",
                         "compute it on a line of its own with supported operations")

    def logistic_argument(self, scope, e):
        """z when e is `1 / (1 + np.exp(-z))` (the logistic function), else None."""
        call = _logistic_call(e)
        if call is None or not (self.is_global(scope, call.func) and self.resolve(scope, call.func) is np.exp):
            return None
        return call.args[0].operand

    def index(self, scope, s):
        if isinstance(s, ast.List):  # an integer-array index written as a list
            return self.emit(self.namer.fresh("idx"), self.rule_call("np.array", [self.argument(scope, s)]))
        if isinstance(s, ast.Slice):
            return ast.Slice(*(None if p is None else self.atom(scope, p, "bound") for p in (s.lower, s.upper, s.step)))
        if isinstance(s, ast.Tuple):
            return ast.Tuple([self.index(scope, p) for p in s.elts], ast.Load())
        if isinstance(s, ast.Constant):
            return s
        return self.atom(scope, s, "idx")

    def attribute(self, scope, e):
        base = self.atom(scope, e.value)
        if e.attr in _SHAPE_ATTRS or e.attr == "T":
            return ast.Attribute(base, e.attr, ast.Load())
        raise self.error(scope, e, f"the attribute `.{e.attr}` has no derivative rule",
                         "use .T, .shape, .ndim, .size or .dtype, or compute it with a NumPy function")

    def negative_int_power(self, base, exponent, atom):
        """Whether `base ** exponent` may be an int to a negative int power (`n ** -1`, `2 ** -k`): Python
        gives float(base) ** exponent, Numba an int (0 for 2 ** -1), so the base is made a float first."""
        if isinstance(base, ast.Constant):
            if type(base.value) is not int:
                return False
        elif self.kinds.of.get(base.id) != 0:
            return False  # (an array: NumPy refuses integers to negative integer powers on both paths)
        if isinstance(atom, ast.Constant):
            return type(atom.value) is int and atom.value < 0
        return isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub)

    def rule_call(self, spelling, args, keywords=None):
        """A normal-form call of the rule spelled `spelling`."""
        return ast.Call(ast.parse(spelling, mode="eval").body, list(args),
                        [ast.keyword(k, v) for k, v in (keywords or {}).items()])

    def call_rule(self, value):
        if not isinstance(value, ast.Call):
            return None
        path = dotted(value.func)
        rule = self.table.for_spelling(path) if path else None
        if rule is None and isinstance(value.func, ast.Attribute):
            rule = self.table.for_spelling("." + value.func.attr)
        return rule

    def callee(self, scope, e):
        """(function node, defining scope or None, Python function or None) when e calls user code to inline."""
        func = e.func
        if isinstance(func, ast.Name):
            s = scope
            while s is not None:
                if func.id in s.functions:
                    node, where = s.functions[func.id]
                    return node, where, None
                if func.id in s.current:
                    return None
                s = s.outer
        if not (dotted(func) and not self.is_local(scope, dotted(func).split(".")[0])):
            return None
        target = self.resolve(scope, func)
        target = getattr(target, "fn", target) if type(target).__name__ == "Differentiated" else target
        if target is MISSING or self.table.lookup(target) is not None:
            return None
        if inspect.isfunction(target):
            return None, None, target
        return None

    def inline(self, scope, e, node, where, fn):
        """Normalize the body of a user function in place of the call e; its result atom (or ast.Tuple)."""
        if fn is not None:
            src = frontend.read(fn)
            frontend.check_subset(src)
            callee = Scope(src, fn)
            fdef = src.tree
        else:
            fdef = node if isinstance(node, ast.FunctionDef) else frontend.function_def(
                "lambda_", node.args, [ast.copy_location(ast.Return(node.body), node.body)])
            callee = Scope(scope.src, scope.fn, outer=where)
            callee.src = _SubSource(scope.src, fdef)
            callee.params = tuple(a.arg for a in fdef.args.args)
            callee.locals = set(callee.params) | {
                n.id for n in ast.walk(fdef) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            callee.fixed = _assigned_in_compound(fdef.body) | {FLAG}
        key = fn or node
        if self.stack.count(key) >= _MAX_INLINE_DEPTH:
            raise self.error(scope, e, "this recursion does not end at a depth known when compiling",
                             "write it as a loop, or give the recursive function a rule with adjoint.custom_vjp")
        args = [self.argument(scope, a) for a in e.args]
        keywords = {k.arg: self.argument(scope, k.value) for k in e.keywords if k.arg}
        params = fdef.args.args
        defaults = dict(zip([a.arg for a in params[len(params) - len(fdef.args.defaults):]], fdef.args.defaults))
        if fn is not None:  # a number as default: the value the def gave it (or a later assignment did)
            self.bindings[(fn, ".__defaults__")] = fn.__defaults__
            given = fn.__defaults__ or ()
            defaults.update({a.arg: ast.Constant(v) for a, v in zip(params[len(params) - len(given):], given)
                             if type(v) in (int, float, bool)})
        if len(args) > len(params) or set(keywords) - {a.arg for a in params}:
            raise self.error(scope, e, f"`{fdef.name}` does not take these arguments")
        bound = dict(zip([a.arg for a in params], args))
        for k, v in keywords.items():
            bound[k] = v
        for a in params:
            if a.arg not in bound:
                if a.arg not in defaults:
                    raise self.error(scope, e, f"`{fdef.name}` is missing the argument `{a.arg}`")
                bound[a.arg] = self.atom(callee if fn is not None else where, defaults[a.arg])
        callee.current.update(bound)
        for p, atom in bound.items():
            if p in callee.fixed:  # assigned in a loop or branch: it needs a variable of its own
                callee.fixed_names[p] = self.emit(self.namer.fresh(p), atom).id
                callee.current[p] = ast.Name(callee.fixed_names[p], ast.Load())
        saved_line = self.line
        self.stack.append(key)
        self.pending.append((scope, []))
        try:
            self.function_body(callee, fdef)
        finally:
            self.stack.pop()
            self.pending.pop()
            self.line = saved_line
        result = callee.result
        if isinstance(result, list):
            return ast.Tuple([ast.Name(r, ast.Load()) for r in result], ast.Load())
        return ast.Name(result, ast.Load())

    def call(self, scope, e):
        for a in e.args:
            if isinstance(a, ast.Starred):
                raise self.error(scope, a, "`*args` in a call cannot be differentiated", "pass the arguments one by one")
        func = e.func
        if isinstance(func, ast.Attribute) and not self.is_global(scope, func):
            rule = self.table.for_spelling("." + func.attr)
            if rule is None:
                raise self.error(scope, e, f"the method `.{func.attr}()` has no derivative rule",
                                 "call the NumPy function instead, or register a rule with adjoint.custom_vjp")
            receiver = self.atom(scope, func.value)
            args = [self.argument(scope, a) for a in e.args]
            if func.attr == "reshape" and len(args) > 1:
                args = [ast.Tuple(args, ast.Load())]
            keywords = {k.arg: self.argument(scope, k.value) for k in e.keywords}
            self.check_bind(scope, rule, e, [receiver] + args, keywords)
            receiver, *args = _positional(rule, [receiver] + args, keywords)
            return ast.Call(ast.Attribute(receiver, func.attr, ast.Load()), args,
                            [ast.keyword(k, v) for k, v in keywords.items()])
        target = self.resolve(scope, func) if dotted(func) else MISSING
        name = dotted(func) or ast.unparse(func)
        if target is MISSING:
            if dotted(func) and self.is_local(scope, dotted(func).split(".")[0]):
                raise self.error(scope, e, f"`{name}` is a value, not a function this version of adjoint can call",
                                 "call a function defined with def or lambda")
            raise self.error(scope, e, f"`{name}` is not defined", "define it or import it at module level")
        rule = self.table.lookup(target)
        if rule is None:
            raise self.error(scope, e, f"`{name}` has no derivative rule and no Python source",
                             "register a rule for it with adjoint.custom_vjp")
        args = [self.argument(scope, a) for a in e.args]
        keywords = {k.arg: self.argument(scope, k.value) for k in e.keywords}
        self.check_bind(scope, rule, e, args, keywords)
        args = _positional(rule, args, keywords)
        if rule.custom:
            self.externals[rule.spelling] = target
        if rule.spelling == "np.clip":
            return self.one_sided_clip(rule.bind(args, keywords)) or self.rule_call("np.clip", args, keywords)
        return self.rule_call(rule.spelling, args, keywords)

    def one_sided_clip(self, bound):
        """`np.clip(a, None, hi)` as `np.minimum(a, hi)`, `np.clip(a, lo, None)` as `np.maximum(a, lo)`
        (the same values, and the same derivative at a tie), else None."""
        def none(atom):
            return isinstance(atom, ast.Constant) and atom.value is None

        a, low, high = bound["a"], bound["a_min"], bound["a_max"]
        if none(low) and none(high):
            return ast.Call(ast.parse("np.asarray", mode="eval").body, [a], [])
        if none(low) or none(high):
            return self.rule_call("np.maximum" if none(high) else "np.minimum", [a, low if none(high) else high])
        return None

    def argument(self, scope, a):
        if isinstance(a, (ast.Tuple, ast.List)):
            return ast.Tuple([self.argument(scope, v) for v in a.elts], ast.Load())
        if isinstance(a, ast.Name):
            value = self.name(scope, a)
            if isinstance(value, ast.Tuple):
                return value
        return self.atom(scope, a)

    def check_bind(self, scope, rule, e, args, keywords):
        if not rule.params:
            return  # no derivative: any arguments will do
        try:
            rule.bind(args, keywords)
        except BindError as err:
            name = rule.spelling.lstrip(".")
            raise self.error(scope, e, f"`{name}` {err}", "call it in the form adjoint's rule knows, or register "
                             "your own rule with adjoint.custom_vjp") from None


def _positional(rule, args, keywords):
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


class _Normal(ast.expr):
    """An atom of the normal form standing where user code is expected (`a = b = e` computes e once)."""

    _fields = ()

    def __init__(self, atom):
        super().__init__()
        self.atom = atom


class _SubSource:
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
            return ast.copy_location(copy.deepcopy(atom), node)
        return node


def _upward(stmts):
    """(the names stmts may read before they surely assign them, the names they surely assign) in
    user code: a loop or branch assigns nothing surely (an `if` both of whose branches assign a name
    does), and after a break, continue or return nothing more is sure."""
    exposed, assigned, sure = set(), set(), True
    for s in stmts:
        if isinstance(s, (ast.For, ast.While)):
            head = s.iter if isinstance(s, ast.For) else s.test
            exposed |= loads(head) - assigned
            inner = _names_stored(s.target) if isinstance(s, ast.For) else set()
            exposed |= _upward(s.body)[0] - assigned - inner
            exposed |= _upward(s.orelse)[0] - assigned
        elif isinstance(s, ast.If):
            exposed |= loads(s.test) - assigned
            (body, in_body), (orelse, in_orelse) = _upward(s.body), _upward(s.orelse)
            exposed |= (body | orelse) - assigned
            if sure:
                assigned |= in_body & in_orelse
        else:
            exposed |= loads(s) - assigned
            if isinstance(s, ast.AugAssign):  # (`x += e` reads x)
                exposed |= _names_stored(s.target) - assigned
            if sure and isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = s.targets if isinstance(s, ast.Assign) else [s.target]
                assigned |= {n for t in targets for n in _names_stored(t)}
        sure = sure and not _leaves(s)
    return exposed, assigned


def _with_closures(scope, names):
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


def _leaves(stmt):
    """Whether running stmt may end the block it is in early: a return, or a break or continue that
    is not inside a loop of its own."""
    if isinstance(stmt, (ast.Return, ast.Break, ast.Continue)):
        return True
    if isinstance(stmt, (ast.For, ast.While)):
        return any(isinstance(n, ast.Return) for n in ast.walk(stmt))
    return any(_leaves(c) for c in ast.iter_child_nodes(stmt) if isinstance(c, ast.stmt))


def _surely_bound_before(stmts, target, name):
    """Whether each run of stmts assigns `name` before it reaches the statement `target` (found
    anywhere inside them; False if it is not there)."""
    bound = set()
    for s in stmts:
        if any(n is target for n in ast.walk(s)):
            return name in bound
        bound |= _upward([s])[1]
        if _leaves(s):
            return False
    return False


def _names_stored(target):
    """The names an assignment target binds (`a`, `a, b`; not `a[i]`, which writes into a)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_names_stored(e) for e in target.elts))
    return set()


def _op_symbol(op):
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.Mod: "%",
            ast.FloorDiv: "//", ast.MatMult: "@"}.get(type(op), "?")
