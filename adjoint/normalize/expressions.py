"""Normalizing expressions into atoms: names (local, global, constant), constants folded,
conditional and boolean expressions, subscripts and attributes."""

import ast

import numpy as np

from ..frontend.names import MISSING, Contents, resolve
from ..ir.build import clone
from ..ir.queries import OP_NAMES, OPERATORS, dotted
from ..rules import defined
from ..trees import is_container, is_namedtuple
from .grown import Grown
from .syntax import SHAPE_ATTRS, Normal, Rows, is_literal, logistic_call

RANDOM = (np.random.RandomState, np.random.Generator)  # objects whose methods draw random values


class Expressions:
    """A part of Normalizer (normalizer.py), whose state it reads and writes."""

    def atom(self, scope, e, hint=None):
        """A Name or Constant holding the value of e, emitting statements for its parts."""
        if isinstance(e, ast.Constant):
            return e
        if isinstance(e, Normal):
            return clone(e.atom)
        if isinstance(e, Rows):
            return self.comprehended(scope, e.comp, "array")
        if isinstance(e, ast.Name):
            value = self.name(scope, e)
            if isinstance(value, (ast.Tuple, ast.Dict)):
                what = "dict" if isinstance(value, ast.Dict) else "list" if getattr(value, "is_list", 0) else "tuple"
                raise self.error(scope, e, f"the {what} `{e.id}` cannot be used as one value here",
                                 "take its items out first (`a, b = t`, `d[\"key\"]`), or make it an array "
                                 "(np.stack)")
            if isinstance(value, Grown):
                return self.grown_items(scope, e, value)
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
        if isinstance(e, ast.Compare) and len(e.ops) == 1 and isinstance(e.ops[0], (ast.In, ast.NotIn)):
            container = self.container_or_none(scope, e.comparators[0])
            if container is not None:  # `i in (1, 3)`: i == 1 or i == 3 (i computed once)
                left = Normal(self.atom(scope, e.left))
                keys = container.keys if isinstance(container, ast.Dict) else container.elts
                same = isinstance(e.ops[0], ast.In)
                tests = [ast.copy_location(ast.Compare(left, [ast.Eq() if same else ast.NotEq()], [Normal(k)]), e)
                         for k in keys]
                if not tests:
                    return ast.Constant(not same)
                return self.atom(scope, ast.copy_location(ast.BoolOp(ast.Or() if same else ast.And(), tests), e)
                                 if len(tests) > 1 else tests[0], hint)
        if isinstance(e, ast.Compare) and len(e.ops) == 1 and isinstance(e.ops[0], (ast.Is, ast.IsNot)) \
                and isinstance(e.comparators[0], ast.Constant) and e.comparators[0].value is None:
            # `w is None`: known when compiling, unless w is a variable
            left = self.static_of(scope, e.left) or self.grown_of(scope, e.left) or self.atom(scope, e.left)
            if self.none_known(left):
                none = isinstance(left, ast.Constant) and left.value is None
                return ast.Constant(none if isinstance(e.ops[0], ast.Is) else not none)
        if isinstance(e, ast.Compare) and len(e.ops) > 1:
            parts = [ast.Compare(left, [op], [right]) for left, op, right
                     in zip([e.left] + e.comparators[:-1], e.ops, e.comparators)]
            return self.boolean(scope, ast.copy_location(ast.BoolOp(ast.And(), parts), e), hint)
        return self.value_atom(scope, e, self.rhs(scope, e, hint), hint)

    def value_atom(self, scope, e, value, hint=None):
        """A Name or Constant holding `value`, the right-hand side that e normalized to."""
        if isinstance(value, Grown):  # (returned by a function inlined)
            return self.grown_items(scope, e, value)
        if isinstance(value, (ast.Tuple, ast.Dict)):
            raise self.error(scope, e, "a container (tuple, list, dict) cannot be used as one value here",
                             "take its items out first, or make it an array (np.stack)")
        if isinstance(value, (ast.Name, ast.Constant)):
            return value
        folded = self.fold(value)
        if folded is not None:
            return folded
        key = self.read_key(value)
        if key in self.read_cache:  # the same element, read again with no write between
            return clone(self.read_cache[key])
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
        """An atom, or a container known when compiling (containers.py) that e denotes or builds."""
        if isinstance(e, ast.Name):
            return self.name(scope, e)
        container = self.container_or_none(scope, e)
        if container is not None:
            return container
        return self.rhs(scope, e) if isinstance(e, ast.Call) else self.atom(scope, e)

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
        if not all(isinstance(a, (int, float, bool)) for a in args) and not (  # (strings: `ord == "fro"`)
                isinstance(value, ast.Compare) and isinstance(value.ops[0], (ast.Eq, ast.NotEq))
                and all(isinstance(a, (int, float, bool, str)) for a in args)):
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
        obj = resolve(scope.fn, expr, local_names)
        if obj is not MISSING:  # (a container: what it holds now, which a later call compares)
            self.bindings[(scope.fn, dotted(expr))] = Contents(obj) if is_container(obj) else obj
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
        if value is None or value is Ellipsis:  # np.newaxis: a subscript must see the new axis as such
            return ast.Constant(value)
        if isinstance(value, float) and value in (np.inf, -np.inf):  # (np.inf: a constant, which `ord == np.inf`
            return ast.Constant(float(value))  # decides when compiling; written 1e309)
        if is_literal(value) or isinstance(value, (np.ndarray, *RANDOM)):  # (a random generator: bound into the
            # module, its methods drawing values)
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
        if is_container(value):  # a closure's or module's tuple, list or dict: its leaves as constants
            key = (scope.fn, path)
            if key not in self.outer_containers:
                self.outer_containers[key] = self.outer_container(scope, e, path, value)
            return self.outer_containers[key]
        raise self.error(scope, e, f"`{path}` ({type(value).__name__}) cannot be used as a value here",
                         "use floats, ints and NumPy arrays as values")

    def outer_container(self, scope, e, path, value):
        """A container from outside the function (a closure variable, a module-level dict of arrays) as a
        container known when compiling, each leaf a constant of the derivative."""
        def leaf(v, name):
            if is_container(v):
                return self.outer_container(scope, e, name, v)
            if not (v is None or is_literal(v) or isinstance(v, np.ndarray)):
                raise self.error(scope, e, f"`{path}` holds a {type(v).__name__}: adjoint reads containers of "
                                 "numbers and arrays", "pass it as an argument, or keep numbers and arrays in it")
            if v is None or isinstance(v, str):
                return ast.Constant(v)
            store = self.constants if is_literal(v) else self.externals
            name = self.namer.fresh(name.replace(".", "_"))
            store[name] = v
            self.kinds.of[name] = np.ndim(v) if not isinstance(v, bool) else None
            return ast.Name(name, ast.Load())

        if type(value) is dict:
            node = ast.Dict([ast.Constant(k) for k in value], [leaf(v, f"{path}_{k}") for k, v in value.items()])
            node.depth = 0  # (never changed: the module's own is not)
            return node
        node = ast.Tuple([leaf(v, f"{path}_{i}") for i, v in enumerate(value)], ast.Load())
        node.is_list = type(value) is list
        node.depth = 0  # (never changed: the module's own is not)
        if is_namedtuple(value):
            node.fields = type(value)._fields
        return node

    def describe(self, e):
        if isinstance(e, ast.Call):
            if isinstance(e.func, ast.Attribute):
                return e.func.attr
            return e.func.id if isinstance(e.func, ast.Name) else "call"
        if isinstance(e, ast.BinOp) and logistic_call(e) is not None:
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
            joined = self.index_trick(scope, e)
            if joined is not None:
                return joined
            base = self.atom(scope, e.value)
            return ast.Subscript(base, self.index(scope, e.slice), ast.Load())
        what = {ast.Lambda: "a lambda used as a value", ast.Tuple: "a tuple", ast.List: "a list",
                ast.Starred: "`*` unpacking", ast.JoinedStr: "an f-string"}.get(type(e), f"`{type(e).__name__}`")
        raise self.error(scope, e, f"{what} cannot be differentiated here",
                         "compute it on a line of its own with supported operations")

    def index_trick(self, scope, e):
        """`np.r_[a, b, ...]` and `np.c_[a, b, ...]` of arrays and numbers: the definitions
        rules/defined.py writes for them (np.concatenate), inlined; else None."""
        trick = self.resolve(scope, e.value) if dotted(e.value) and self.is_global(scope, e.value) else None
        if not (trick is np.r_ or trick is np.c_):
            return None
        items = e.slice.elts if isinstance(e.slice, ast.Tuple) else [e.slice]
        if any(isinstance(i, ast.Slice) or isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items):
            raise self.error(scope, e, f"`{dotted(e.value)}[...]` with slices or a string directive",
                             "write np.concatenate of the arrays, or np.arange")
        call = ast.copy_location(ast.Call(e.value, list(items), []), e)
        return self.inline(scope, call, None, None, defined.r_ if trick is np.r_ else defined.c_)

    def logistic_argument(self, scope, e):
        """z when e is `1 / (1 + np.exp(-z))` (the logistic function), else None."""
        call = logistic_call(e)
        if call is None or not (self.is_global(scope, call.func) and self.resolve(scope, call.func) is np.exp):
            return None
        return call.args[0].operand

    def index(self, scope, s):
        if isinstance(s, ast.List) or isinstance(self.static_of(scope, s), ast.Tuple) and getattr(
                self.static_of(scope, s), "is_list", False):  # an integer-array index written as a list
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
        if e.attr == "ndim" and isinstance(base, ast.Name) and self.kinds.of.get(base.id) is not None:
            return ast.Constant(self.kinds.of[base.id])  # (known when compiling: the definitions branch on it)
        if e.attr == "ndim" and isinstance(base, ast.Constant) and type(base.value) in (int, float):
            return ast.Constant(0)
        if e.attr in SHAPE_ATTRS or e.attr == "T":
            return ast.Attribute(base, e.attr, ast.Load())
        raise self.error(scope, e, f"the attribute `.{e.attr}` has no derivative rule",
                         "use .T, .shape, .ndim, .size or .dtype, or compute it with a NumPy function")

