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
import builtins

from ..analysis.kinds import Kinds
from ..errors import AdjointError, Location
from ..frontend.names import resolve
from ..ir.build import clone
from ..ir.naming import RESERVED, Namer
from ..ir.normal import NormalFunction
from ..runtime import EXPORTED as HELPERS
from ..trees import leaf_names, spelled
from .assignments import Assignments
from .calls import Calls
from .comprehensions import Comprehensions
from .containers import STATIC, Containers, leaves_of_node
from .control import ControlFlow
from .expressions import Expressions
from .grown import GrownLists
from .structure import structure
from .syntax import STAGE, Normal, Renamer, Scope, frontend_jumps, parameter_names


def normalize(src, table, kinds=None, trees=None, returns="one"):
    """The NormalFunction of a frontend.Source; `kinds` gives the known ndim of parameters (0: a number),
    `trees` the structure of container arguments (trees.py), whose leaves become the parameters;
    `returns` what the function returns: "one" value, "aux" (value, auxiliary outputs given back as
    computed) or a "tuple" of values, each differentiated."""
    forced = set()
    while True:
        norm = Normalizer(src, table, kinds, forced, trees)
        norm.returns = returns
        nf = norm.run()
        if not norm.conflicts:
            return nf
        if norm.conflicts <= forced:  # (no progress: say so, never loop)
            names = ", ".join(f"`{n}`" for n in sorted(norm.conflicts))
            raise norm.error(norm.top, src.tree, f"adjoint cannot settle what kind of value {names} holds (a number, "
                             "or an array of how many dimensions)", "give a value of another kind a name of its own")
        forced |= norm.conflicts  # a name whose kind differs between its assignments: unknown


class Normalizer(Assignments, ControlFlow, Expressions, Calls, Containers, Comprehensions, GrownLists):
    """The state of one normalization; its parts are the mixins, one concern each."""

    def __init__(self, src, table, kinds=None, forced=(), trees=None):
        self.table = table
        self.top = Scope(src, src.fn)
        self.namer = Namer(n.id for n in ast.walk(src.tree) if isinstance(n, ast.Name))
        trees = trees or {}
        params, self.leaf_paths = [], {}  # (a container's leaf parameter -> the leaf as the code spells it)
        for p in self.top.params:
            if p in trees:  # a container: one parameter per leaf
                self.top.current[p] = self.static(trees[p])
                leaves = leaf_names(trees[p])
                self.leaf_paths.update(spelled(trees[p], p))
            else:
                self.top.current[p] = ast.Name(p, ast.Load())
                leaves = [p]
                if p in self.top.fixed:
                    self.top.fixed_names[p] = p
            for leaf in leaves:
                self.namer.claim(leaf)
            params += leaves
        self.top.params = tuple(params)
        self.claimed = set(params)
        # (a parameter whose kind differs between its assignments starts unknown too: else its known
        # entry kind conflicted with the unknown ones forever, and normalize never ended)
        self.kinds = Kinds({p: k for p, k in (kinds or {}).items() if k is not None and p not in forced})
        self.forced = set(forced)
        self.conflicts = set()
        self.constants, self.externals = {}, {}
        self.bindings = {}  # (function, dotted name) -> the object it named (see NormalFunction.bindings)
        self.outer_containers = {}  # (function, dotted name) -> a container from outside, as read once
        self.iterating = []  # per unrolled loop: the containers it goes over (containers.py)
        self.origins, self._origin_ids = [None], {}
        self.blocks = [[]]
        self.pending = []  # (scope, statements) still to come: what may read a value later
        self.stack = []  # functions being inlined, for the recursion limit
        self.definition_sites = []  # (scope, call) of each rules/defined.py definition being inlined
        self.loop_writes = []  # per loop being normalized: (array, its sharers, scope, stmt) of element writes
        self.written_params = self.params_written_in_place(src.tree)
        self.line = 0
        self.read_cache = {}  # (array name, index) -> the atom already holding that element
        self.rewritten = set(self.top.fixed_names.values())  # names that may be assigned again (one name for
        # several assignments): a parameter assigned in a loop or branch among them
        self.user_names = {}  # version -> the user's variable
        self.grown, self.held = {}, {}  # lists loops grow (grown.py): rows -> state; array appended -> list
        self.parents = {}  # id(tree) -> (tree, id(node) -> parent node)
        self.carried = {}  # (id(scope), name) -> the container of variables the name holds (containers.carry)
        self.carried_leaves = set()  # the variables of those containers
        self.updated = set()  # arrays a container's item names that `d["h"] += ...` updates (in place, in NumPy)

    def run(self):
        scope, tree = self.top, self.top.src.tree
        for arg in [*tree.args.posonlyargs, *tree.args.args, *tree.args.kwonlyargs]:
            if arg.arg in HELPERS:
                raise self.error(scope, arg, f"the parameter `{arg.arg}` has the name of a helper that generated "
                                 f"code calls (adjoint.runtime.{arg.arg})", "rename the parameter")
        for p in self.written_params:  # the caller's array is never changed: write into a copy
            copied = self.emit(self.namer.fresh(p), self.rule_call("np.copy", [ast.Name(p, ast.Load())]))
            if p not in scope.current:  # a container's leaf
                for node in ast.walk(ast.Module([ast.Expr(c) for c in scope.current.values()], [])):
                    for part in ("elts", "values"):
                        parts = getattr(node, part, None) if isinstance(node, STATIC) else None
                        for i, item in enumerate(parts or ()):
                            if isinstance(item, ast.Name) and item.id == p:
                                parts[i] = copied
                continue
            scope.current[p] = copied
            self.user_names[copied.id] = p
            if p in scope.fixed:
                scope.fixed_names[p] = copied.id
                self.rewritten.add(copied.id)
        for p in tree.args.args + tree.args.posonlyargs + tree.args.kwonlyargs:
            if p.arg in scope.fixed and isinstance(scope.current.get(p.arg), STATIC):  # assigned in a loop or
                self.carry(scope, p.arg, scope.current[p.arg], p)  # branch: a container of variables first
        self.function_body(scope, tree)
        result, aux, aux_tree = scope.result, (), None
        if self.returns == "aux":
            result, aux, aux_tree = self.split_aux(result)
        elif self.returns == "tuple" and isinstance(result, list):
            pass  # (one cotangent, or tangent, per item)
        elif self.returns == "tuple" and isinstance(result, STATIC):  # a dict, a nested tuple: one per leaf,
            result = [self.emit(self.namer.fresh("out"), leaf).id for leaf in leaves_of_node(result)  # in the
                      if not (isinstance(leaf, ast.Constant) and type(leaf.value) not in (int, float, bool))]
            # order of trees.flatten (None and strs are no leaves of it; api checks the counts agree)
        elif isinstance(result, list) or isinstance(result, STATIC):
            raise AdjointError(f"{scope.src.name} returns a tuple: differentiate a function that returns "
                               "one float or array (return the sum, or one element), or pass has_aux=True "
                               "when it returns (value, auxiliary outputs)")
        ret = ast.Return(ast.Name(result, ast.Load()) if isinstance(result, str) else ast.Tuple(
            [ast.Name(r, ast.Load()) for r in result], ast.Load()))
        ret.lineno = self.line
        self.blocks[0].append(ret)
        return NormalFunction(tree.name, scope.params, self.blocks[0], result, self.namer, self.constants,
                              self.externals, dict(self.kinds.of), self.origins, self.user_names, self.bindings,
                              aux, aux_tree)

    def split_aux(self, result):
        """(the value's name, the auxiliary outputs' names, their structure) of a function that returns
        `value, aux` (has_aux=True)."""
        if isinstance(result, list):
            result = ast.Tuple([ast.Name(r, ast.Load()) for r in result], ast.Load())
        if not (isinstance(result, ast.Tuple) and len(result.elts) == 2 and isinstance(result.elts[0], ast.expr)
                and not isinstance(result.elts[0], STATIC)):
            raise AdjointError(f"has_aux=True needs {self.top.src.name} to return a pair (value, aux): the "
                               "value differentiated, and the auxiliary outputs as computed")
        value, rest = result.elts
        if not isinstance(value, ast.Name):
            value = self.emit(self.namer.fresh("out"), value)
        names = []

        def tree(node):
            if isinstance(node, ast.Dict):
                return "dict", tuple(k.value for k in node.keys), tuple(map(tree, node.values))
            if isinstance(node, ast.Tuple):
                kind = "list" if getattr(node, "is_list", False) else "tuple"
                return kind, tuple(map(tree, node.elts))
            if isinstance(node, ast.Constant):
                return "const", node.value
            names.append(node.id)
            return "leaf", node.id

        structure = tree(rest)
        return value.id, tuple(dict.fromkeys(names)), structure

    def params_written_in_place(self, tree):
        """The parameters (a container's leaves: all of them) whose arrays the function writes into."""
        params = set(parameter_names(tree.args))
        written = set()
        for node in ast.walk(tree):
            target = node.target if isinstance(node, ast.AugAssign) else None
            targets = node.targets if isinstance(node, ast.Assign) else [target] if target is not None else []
            for t in targets:
                depth = 0
                while isinstance(t, (ast.Subscript, ast.Attribute)):
                    t, depth = t.value, depth + 1
                if depth and isinstance(t, ast.Name) and t.id in params:
                    container = self.top.current.get(t.id)
                    if not isinstance(container, STATIC):
                        written.add(t.id)
                    elif depth > 1:  # (depth 1 writes into the container itself)
                        written |= {n.id for n in ast.walk(container) if isinstance(n, ast.Name)
                                    and self.kinds.of.get(n.id) != 0}
        return sorted(written)

    def function_body(self, scope, fdef):
        stmts = fdef.body
        if stmts and isinstance(stmts[0], ast.Expr) and isinstance(stmts[0].value, ast.Constant):
            stmts = stmts[1:]  # the docstring
        for node in ast.walk(fdef):
            if isinstance(node, ast.Return) and node.value is None:
                if scope is self.top:
                    raise self.error(scope, node, "`return` without a value", "return the value to differentiate")
                node.value = ast.copy_location(ast.Constant(None), node)  # (a helper that writes into its arguments)
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
            if scope is self.top:
                raise self.error(scope, fdef, f"{fdef.name} does not end with a `return`",
                                 "return the value to differentiate")
            # a helper that writes into its arguments and returns nothing: its result is None
            stmts = stmts + [ast.copy_location(ast.Return(ast.Constant(None)), stmts[-1] if stmts else fdef)]
        scope.depth = len(self.blocks)  # (a container is returned only at this depth: containers.py)
        self.statements(scope, structure(stmts))

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

    def dimension(self, array, k):
        """The atom of `array.shape[k]` (array a Name), emitted."""
        return self.emit(self.namer.fresh(f"{array.id}_shape{k}"), ast.Subscript(
            ast.Attribute(clone(array), "shape", ast.Load()), ast.Constant(k), ast.Load()))

    def regrouped(self, array, order, shape=None):
        """array (a Name) with its axes in `order` (np.transpose, unless that is their own order), copied
        (as NumPy's reshape of moved axes copies; Numba's reshape takes a contiguous array only), then in
        `shape` (a list of atoms, one -1) if given: the atom of the result, emitted."""
        moved = array if order == list(range(len(order))) else self.emit(self.namer.fresh("moved"), self.rule_call(
            "np.transpose", [array, ast.Tuple([ast.Constant(k) for k in order], ast.Load())]))
        copied = self.emit(self.namer.fresh("moved"), self.rule_call("np.copy", [moved]))
        if shape is None:
            return copied
        return self.emit(self.namer.fresh("merged"), self.rule_call("np.reshape", [copied, ast.Tuple(shape,
                                                                                                      ast.Load())]))

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
                value = Normal(self.atom(scope, value))  # `a = b = e`: e once, then each target
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
        elif isinstance(stmt, ast.Raise) and self.definition_sites and scope.fn is not None and \
                scope.fn.__module__ == "adjoint.rules.defined":  # (a form the definition does not cover)
            site_scope, call = self.definition_sites[0]
            what = stmt.exc.args[0].value if isinstance(stmt.exc, ast.Call) and stmt.exc.args else "this call"
            raise self.error(site_scope, call, f"{what} cannot be differentiated by adjoint yet",
                             "write it with other NumPy functions, or give it a rule with adjoint.custom_vjp")
        elif isinstance(stmt, (ast.Assert, ast.Raise)):
            self.bind_exceptions(scope, stmt)
            self.append(Renamer(scope).visit(clone(stmt)))
        elif isinstance(stmt, ast.Pass):
            pass
        elif isinstance(stmt, ast.Expr):
            if isinstance(stmt.value, ast.Call) and self.callee(scope, stmt.value) is not None:
                self.rhs(scope, stmt.value)  # a call of the user's function for what it writes into its arguments
            elif isinstance(stmt.value, ast.Call) and self.appended(scope, stmt.value):
                pass
            elif not isinstance(stmt.value, ast.Constant):
                raise self.error(scope, stmt, "an expression whose value is dropped cannot be differentiated",
                                 "assign its value to a name, or remove it")
        else:
            raise self.error(scope, stmt, f"`{type(stmt).__name__}` cannot be differentiated",
                             "rewrite it with assignments, if, for and while")

    def bind_exceptions(self, scope, stmt):
        """Bind the user's own exception classes that a raise or assert names (`raise MyError(...)`) into
        the generated module, which knows the builtin ones only."""
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and node.id not in scope.current and scope.fn is not None:
                obj = resolve(scope.fn, node, scope.locals)
                if isinstance(obj, type) and issubclass(obj, BaseException) and getattr(builtins, node.id, None) \
                        is not obj:
                    self.externals[node.id] = obj

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
