"""Containers whose structure the code fixes when it compiles: tuples, lists, dicts and NamedTuples
written in the code (`(a, b)`, `[W1, W2]`, `{"W": W}`) or passed as arguments (one parameter per
leaf, see trees.py). They live in `Scope.current` as ast.Tuple nodes (a NamedTuple's with
`fields`) and ast.Dict nodes whose leaves are atoms; the generated code never holds one: reading an
item is its atom, `len` is a constant, and a loop over one is unrolled."""

import ast

import numpy as np

from ..frontend.names import MISSING
from ..ir.build import clone
from ..trees import is_container
from .comprehensions import COMPREHENSIONS
from .syntax import Normal, is_literal, op_symbol, root_name

STATIC = (ast.Tuple, ast.Dict)
MAX_UNROLL = 256  # items of a container a loop over it is unrolled for
MAX_UNROLL_APPENDS = 16  # runs of a loop over a range of constants unrolled for the list it appends to
ARRAY_PARAMS = {"a", "b", "x", "y", "x1", "x2", "object", "m", "v"}  # parameters of NumPy rules that take an array


def leaves_of_node(container):
    """The leaves of a container, in order (a nested container's in place)."""
    for part in items(container):
        if isinstance(part, STATIC):
            yield from leaves_of_node(part)
        else:
            yield part


def same_structure(a, b):
    """Whether two containers have the same keys, lengths, kinds and nesting."""
    if isinstance(a, ast.Dict) and isinstance(b, ast.Dict):
        return [k.value for k in a.keys] == [k.value for k in b.keys] and all(
            same_structure(x, y) for x, y in zip(a.values, b.values))
    if isinstance(a, ast.Tuple) and isinstance(b, ast.Tuple):
        return len(a.elts) == len(b.elts) and getattr(a, "is_list", False) == getattr(b, "is_list", False) and \
            getattr(a, "fields", None) == getattr(b, "fields", None) and all(
                same_structure(x, y) for x, y in zip(a.elts, b.elts))
    return not isinstance(a, STATIC) and not isinstance(b, STATIC)


def items(container):
    return container.values if isinstance(container, ast.Dict) else container.elts


class Containers:
    """A part of Normalizer (normalizer.py), whose state it reads and writes."""

    def static(self, tree):
        """The container of a treedef (trees.py) whose leaves are the parameters it names."""
        kind = tree[0]
        if kind == "leaf":
            return ast.Name(tree[1], ast.Load())
        if kind == "const":
            return ast.Constant(tree[1])
        if kind == "dict":
            return ast.Dict([ast.Constant(k) for k in tree[1]], [self.static(s) for s in tree[2]])
        node = ast.Tuple([self.static(s) for s in tree[-1]], ast.Load())
        node.is_list = kind == "list"
        if kind == "namedtuple":
            node.fields = tree[1]._fields
        return node

    def static_of(self, scope, e):
        """The container e denotes, when e is a container written out, a name holding one, or a
        constant subscript or attribute of one (`params["enc"]`, `p.layers[0]`); else None."""
        if isinstance(e, ast.Name):
            value = self.local_value(scope, e.id)
            if value is not MISSING:
                return value if isinstance(value, STATIC) else None
            outer = self.resolve(scope, e)
            if is_container(outer) and not is_literal(outer):  # a closure's or module's container of arrays
                value = self.global_value(scope, e)  # (a tuple of numbers stays one constant)
                return value if isinstance(value, STATIC) else None
            return None
        if isinstance(e, (ast.Subscript, ast.Attribute)):
            base = self.static_of(scope, e.value)
            if base is None:
                return None
            value = self.item(scope, base, e)
            return value if isinstance(value, STATIC) else None
        return None

    @staticmethod
    def local_value(scope, name):
        """What a local name of scope (or of the scopes around) holds now; None for a local not
        assigned yet or a function; MISSING for a name that is not local."""
        s = scope
        while s is not None:
            if name in s.current:
                return s.current[name]
            if name in s.locals or name in s.functions:
                return None
            s = s.outer
        return MISSING

    def literal(self, scope, e):
        """The container a tuple, list or dict display builds (its items computed now, in order)."""
        if isinstance(e, ast.Dict):
            if any(k is None for k in e.keys):
                raise self.error(scope, e, "`**` in a dict display cannot be differentiated", "write the items out")
            keys = [self.atom(scope, k) for k in e.keys]
            for k, node in zip(keys, e.keys):
                if not (isinstance(k, ast.Constant) and type(k.value) in (str, int)):
                    raise self.error(scope, node, "a dict's keys must be strs or ints known when compiling",
                                     "use constant keys, or an array indexed by an int")
            values = [self.part(scope, v) for v in e.values]
            merged = {}
            for k, v in zip(keys, values):
                merged[k.value] = v
            return self.made_here(ast.Dict([ast.Constant(k) for k in merged], list(merged.values())))
        parts = []
        for v in e.elts:
            if not isinstance(v, ast.Starred):
                parts.append(self.part(scope, v))
                continue
            spread = self.container_or_none(scope, v.value)  # `(a, *t)` of a tuple or list known when compiling
            if not isinstance(spread, ast.Tuple):
                raise self.error(scope, v, "`*` unpacking in a tuple or list of what is not a tuple or list known "
                                 "when compiling", "write the items out")
            parts += spread.elts
        node = ast.Tuple(parts, ast.Load())
        node.is_list = isinstance(e, ast.List)
        return self.made_here(node)

    def block_local(self, scope, name, stmt):
        """Whether `stmt` is the one assignment to `name` in the function and every read of the name
        follows it in its block (`parts = []` in a loop, appended to and read in that run only): the
        name then holds a container of this run's values, and no other."""
        tree = scope.src.tree
        stores = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)]
        if len(stores) != 1 or not any(n is stores[0] for n in ast.walk(stmt)):
            return False
        for node in ast.walk(tree):
            for part in ("body", "orelse"):
                block = getattr(node, part, None)
                if isinstance(block, list) and any(s is stmt for s in block):
                    after = block[[id(s) for s in block].index(id(stmt)) + 1:]
                    inside = {id(n) for s in after for n in ast.walk(s)}
                    return all(id(n) in inside for n in ast.walk(tree) if isinstance(n, ast.Name)
                               and n.id == name and isinstance(n.ctx, ast.Load))
        return False

    def made_here(self, container):
        """A container built now: it may change (`d[k] = v`, `items.append(v)`) where it was built, not in
        an if/for/while inside (a run-time loop would change it a number of times known only then)."""
        container.depth = len(self.blocks)
        return container

    def part(self, scope, e):
        """An item of a container being built: a container, or an atom that keeps its value (a name
        that the code assigns again is copied first)."""
        value = self.container_or_none(scope, e)
        if value is not None:
            return value
        atom = self.atom(scope, e)
        if isinstance(atom, ast.Name) and atom.id in self.rewritten:
            return self.emit(self.namer.fresh(atom.id), atom)
        return atom

    def container_or_none(self, scope, e):
        if isinstance(e, (ast.Tuple, ast.List, ast.Dict)):
            return self.literal(scope, e)
        return self.static_of(scope, e)

    def item(self, scope, container, e):
        """The item of a container that `e` (a subscript or attribute of it) reads."""
        if isinstance(e, ast.Attribute):
            fields = getattr(container, "fields", None)
            if fields is None or e.attr not in fields:
                raise self.error(scope, e, f"this container has no attribute `.{e.attr}` adjoint knows",
                                 "read the items of dicts, lists, tuples and NamedTuples by constant keys")
            return container.elts[fields.index(e.attr)]
        if isinstance(e.slice, ast.Slice) and isinstance(container, ast.Tuple):
            bounds = [None if p is None else self.atom(scope, p) for p in (e.slice.lower, e.slice.upper, e.slice.step)]
            if all(b is None or isinstance(b, ast.Constant) and type(b.value) is int for b in bounds):
                part = slice(*(None if b is None else b.value for b in bounds))
                return ast.Tuple(container.elts[part], ast.Load())
        key = self.known_key(scope, e.slice) if not isinstance(e.slice, ast.Slice) else None
        if not isinstance(key, ast.Constant):
            raise self.error(scope, e, "a container (tuple, list, dict) can only be indexed by a constant here",
                             "index it by a constant, unpack it into names, or make it an array (np.stack)")
        if isinstance(container, ast.Dict):
            keys = [k.value for k in container.keys]
            if key.value not in keys:
                raise self.error(scope, e, f"the dict has no key {key.value!r} (it has {', '.join(map(repr, keys))})")
            return container.values[keys.index(key.value)]
        if type(key.value) is not int or not -len(container.elts) <= key.value < len(container.elts):
            raise self.error(scope, e, f"index {key.value!r} of a tuple or list of {len(container.elts)} items")
        return container.elts[key.value]

    def known_key(self, scope, e):
        """The atom of a key, a constant where it is a closure's or the module's number or string (read when
        compiling: the derivative is made again when that name's value changes)."""
        key = self.atom(scope, e)
        if isinstance(key, ast.Name) and type(self.constants.get(key.id)) in (int, str):
            return ast.Constant(self.constants[key.id])
        return key

    def appended(self, scope, e):
        """`items.append(v)` on a list known when compiling: the list grows (True); else False."""
        func = e.func
        if not (isinstance(func, ast.Attribute) and func.attr == "append" and len(e.args) == 1 and not e.keywords):
            return False
        grown = self.grown_of(scope, func.value)
        if grown is not None:
            self.grown_append(scope, grown, e)
            return True
        container = self.static_of(scope, func.value)
        if container is None:
            return False
        if not getattr(container, "is_list", False):
            raise self.error(scope, e, "only a list can be appended to", "build a list")
        if getattr(container, "carried", False):
            if len(self.blocks) != container.depth:
                raise self.error(scope, e, "appending to a list that is assigned inside if/for/while (its length "
                                 "must stay the same)", "append to a list made just before the loop")
            self.changed(scope, container, e)
            new = self.snapshot(self.part(scope, e.args[0]))
            container.elts.append(self.variable_item(scope, container, len(container.elts), new))
            return True
        if len(self.blocks) > getattr(container, "depth", 1):
            raise self.error(scope, e, "appending to a list inside if/for/while (a list whose length is known only "
                             "at run time)", "write into a preallocated array (`out = np.zeros(n)`, `out[t] = ...`), "
                             "or build the list with a comprehension")
        self.changed(scope, container, e)
        container.elts.append(self.part(scope, e.args[0]))
        return True

    def carry(self, scope, name, new, stmt):
        """`state = {...}` (or a tuple, list, a helper's container) for a name assigned inside
        if/for/while: the name holds one container of variables, one per leaf (`state_h`), which each
        assignment of a container of the same structure sets, so every run reads the values of the one
        before, as Python's name does."""
        if not isinstance(new, STATIC):
            raise self.error(scope, stmt, f"`{name}` is given a list built at run time inside if/for/while",
                             "build it once, before the loop, and append to it in the loop")
        skeleton = self.carried.get((id(scope), name))
        self.shared_parts(scope, name, new, stmt)
        new = self.snapshot(new)
        if skeleton is None:
            skeleton = self.carried[(id(scope), name)] = self.variables_of(scope, name, new)
        elif not same_structure(skeleton, new):
            raise self.error(scope, stmt, f"`{name}` is given containers of different structures (keys, lengths, "
                             "nesting) in if/for/while", "give it the same structure each time, or use another name")
        other = self.other_holder(scope, name, skeleton)
        if other is not None:
            raise self.error(scope, stmt, f"`{name}` is given a new container while `{other}` still holds (a "
                             f"part of) the one before", f"copy the items `{other}` needs into names of their own")
        self.set_leaves(skeleton, new)
        scope.current[name] = skeleton

    def set_leaves(self, variables, new):
        """Set a container of variables (or one variable) to the values of new, leaf by leaf."""
        for leaf, value in zip(leaves_of_node(variables) if isinstance(variables, STATIC) else [variables],
                               leaves_of_node(new) if isinstance(new, STATIC) else [new]):
            if not (isinstance(value, ast.Name) and value.id == leaf.id):
                self.emit(leaf.id, value)

    def carry_written(self, scope, stmts):
        """Before an if/for/while: each container known when compiling that its body writes items of
        (`state["h"] = ...`, `p["w"] -= ...`) becomes a container of variables (carry), set from its
        items now, so that each run reads what the run before wrote."""
        for node in ast.walk(ast.Module(stmts, [])):
            targets = [node.target] if isinstance(node, ast.AugAssign) else node.targets if isinstance(
                node, ast.Assign) else []
            for t in (s for target in targets for s in ast.walk(target)):  # (`d["a"], q = ...` too)
                if not (isinstance(t, ast.Subscript) and isinstance(t.ctx, ast.Store)):
                    continue
                root = root_name(t)
                if not (root in scope.current and self.static_of(scope, t.value) is not None):
                    continue
                container = scope.current[root]
                if getattr(container, "carried", False) or not isinstance(container, STATIC):
                    continue
                if self.other_holder(scope, root, container) is not None:
                    continue  # (held by another name too: refused where it is written)
                self.caller_arrays_updated(scope, stmts, root, container)
                self.shared_parts(scope, root, container, node)
                skeleton = self.variables_of(scope, root, self.snapshot(container))
                self.set_leaves(skeleton, container)
                self.carried[(id(scope), root)] = scope.current[root] = skeleton

    def stacked(self, scope, target, e):
        """np.hstack, np.vstack, np.column_stack, np.dstack of a list or tuple: np.stack or np.concatenate
        along the axis they join their items on (by the items' kinds); None for other calls."""
        name = next((n for n in ("hstack", "vstack", "column_stack", "dstack") if target is getattr(np, n)), None)
        if name is None:
            return None
        if len(e.args) != 1 or e.keywords:
            raise self.error(scope, e, f"np.{name}() with arguments other than one sequence", "pass a list of arrays")
        grown = self.grown_of(scope, e.args[0])
        if grown is not None:
            kind = self.grown[grown.rows.id].kind
            rows = self.grown_items(scope, e.args[0], grown)
            if name == "vstack" and kind == 1 or name == "hstack" and kind == 0:
                return self.rule_call("np.copy", [rows])
            if name == "hstack" and kind == 1:
                return self.rule_call("np.copy", [self.emit(self.namer.fresh("flat"), self.rule_call("np.ravel",
                                                                                                      [rows]))])
            raise self.error(scope, e, f"np.{name}() of a list grown in a loop of items of {kind} dimensions",
                             "np.stack it, then reshape")
        container = self.container_or_none(scope, e.args[0])
        array = self.atom(scope, e.args[0]) if container is None and not isinstance(e.args[0], COMPREHENSIONS) else None
        rows = self.kinds.of.get(array.id) if isinstance(array, ast.Name) else None  # (an array: its rows)
        if rows is not None and rows >= 3:
            return self.stacked_array(array, rows, {"vstack": 0, "dstack": 2}.get(name, 1))
        if rows in (1, 2):
            if name == "vstack" and rows == 2 or name == "hstack" and rows == 1:
                return self.rule_call("np.copy", [array])
            if name == "hstack" or name == "vstack":  # (the rows of a matrix one after another; a vector's
                # numbers as a column)
                part = self.rule_call("np.ravel", [array]) if name == "hstack" else ast.Subscript(
                    array, ast.Tuple([ast.Slice(), ast.Constant(None)], ast.Load()), ast.Load())
                return self.rule_call("np.copy", [self.emit(self.namer.fresh(name), part)])
            if name == "dstack":  # (each row, or number, a (1, n, 1) or (1, 1, 1) array, joined on the last axis)
                part = ast.Subscript(self.emit(self.namer.fresh(name), self.rule_call("np.transpose", [array])),
                                     ast.Tuple([ast.Constant(None), ast.Constant(Ellipsis)], ast.Load()), ast.Load()) \
                    if rows == 2 else ast.Subscript(array, ast.Tuple([ast.Constant(None), ast.Constant(None),
                                                                      ast.Slice()], ast.Load()), ast.Load())
                return self.rule_call("np.copy", [self.emit(self.namer.fresh(name), part)])
            part = self.rule_call("np.transpose", [array]) if rows == 2 else ast.Subscript(  # column_stack: the
                array, ast.Tuple([ast.Constant(None), ast.Slice()], ast.Load()), ast.Load())  # rows as columns, a
            return self.rule_call("np.copy", [self.emit(self.namer.fresh(name), part)])  # vector's numbers as a row
        if not isinstance(container, ast.Tuple) or not container.elts or any(
                isinstance(i, STATIC) for i in container.elts):
            raise self.error(scope, e, f"np.{name}() of what is not a list or tuple of arrays known when compiling",
                             "pass a list of arrays written out")
        parts = list(container.elts)
        kinds = {0 if isinstance(i, ast.Constant) else self.kinds.of.get(i.id) for i in parts}
        kind = kinds.pop() if len(kinds) == 1 else None
        seq = ast.Tuple(parts, ast.Load())
        if name == "dstack" and kind in (1, 2):  # (each item made 3-d: a vector a (1, n, 1), a matrix (m, n, 1))
            joined = self.rule_call("np.stack", [seq], {"axis": ast.Constant(kind)})
            return joined if kind == 2 else ast.Subscript(self.emit(self.namer.fresh("dstack"), joined), ast.Tuple(
                [ast.Constant(None), ast.Constant(Ellipsis)], ast.Load()), ast.Load())
        if kind == 0 and name == "hstack":
            return self.rule_call("numbers", [seq])
        if kind == 1:
            return {"hstack": self.rule_call("np.concatenate", [seq]), "vstack": self.rule_call("np.stack", [seq]),
                    "column_stack": self.rule_call("np.stack", [seq], {"axis": ast.Constant(1)})}[name]
        if kind is not None and kind >= 2:
            axis = {"vstack": 0, "dstack": 2}.get(name, 1)
            return self.rule_call("np.concatenate", [seq], {"axis": ast.Constant(axis)})
        raise self.error(scope, e, f"np.{name}() of items whose numbers of dimensions differ or are not known "
                         "when compiling", "give the items one number of dimensions (np.atleast_1d, reshape)")

    def stacked_array(self, array, ndim, axis):
        """np.vstack (axis 0), hstack or column_stack (1), dstack (2) of an array of ndim >= 3, whose items
        (array[i]) join along their `axis`: the stack's axis moved before that one, the two merged."""
        order = list(range(1, axis + 1)) + [0] + list(range(axis + 1, ndim))
        if axis + 1 >= ndim:  # (dstack of matrices: each a (m, n, 1) array, the stack is that last axis)
            return self.regrouped(array, order)
        return self.regrouped(array, order, [ast.Constant(-1) if k == axis else self.dimension(array, order[k])
                                             for k in range(ndim) if k != axis + 1])

    def caller_arrays_updated(self, scope, stmts, name, container):
        """Refuse `p["w"] -= ...` in stmts on a leaf that is the caller's array (NumPy's is in place: it
        would change the caller's argument, which the function differentiated never does)."""
        for node in ast.walk(ast.Module(stmts, [])):
            if not isinstance(node, ast.AugAssign):
                continue
            text = ast.unparse(node.target)
            at = next(k for k, s in enumerate(stmts) if any(n is node for n in ast.walk(s)))
            if any(isinstance(s, ast.Assign) and any(ast.unparse(t) == text for t in s.targets) for s in stmts[:at]):
                continue  # (set before, in each run: not the caller's array by then)
            path, t = [], node.target
            while isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant):
                path.append(t.slice.value)
                t = t.value
            if not (isinstance(t, ast.Name) and t.id == name) or not path:
                continue
            leaf = container
            for key in reversed(path):
                keys = [k.value for k in leaf.keys] if isinstance(leaf, ast.Dict) else list(range(len(leaf.elts)))
                leaf = items(leaf)[keys.index(key)] if key in keys else None
                if not isinstance(leaf, STATIC):
                    break
            if isinstance(leaf, ast.Name) and leaf.id in self.top.params and scope is self.top \
                    and self.kinds.of.get(leaf.id) != 0:
                raise self.error(scope, node, f"`{text} {op_symbol(node.op)}= ...` would change the caller's "
                                 f"argument if `{text}` is an array (NumPy's is in place)",
                                 f"write `{text} = {text} {op_symbol(node.op)} ...`")

    def copied_container(self, scope, target, e):
        """dict(d), list(t), tuple(t) of a container known when compiling (and dict(key=value, ...)), or
        of a comprehension: a new container of the same items; a NamedTuple made (`State(q, v)`); else None."""
        if isinstance(target, type) and issubclass(target, tuple) and hasattr(target, "_fields"):
            return self.named_tuple(scope, target, e)
        if target in (list, tuple) and len(e.args) == 1 and not e.keywords and isinstance(e.args[0], COMPREHENSIONS):
            made = self.comprehended(scope, e.args[0], "list")
            if isinstance(made, ast.Tuple):
                made.is_list = target is list
            elif target is tuple:
                raise self.error(scope, e, "a tuple of a number of items known only at run time",
                                 "make it a list, or an array")
            return made
        if target not in (dict, list, tuple) or len(e.args) > 1 or e.keywords and (target is not dict or e.args):
            return None
        if not e.args:
            return self.literal(scope, ast.Dict([ast.Constant(k.arg) for k in e.keywords],
                                                [k.value for k in e.keywords]) if target is dict else ast.List([]))
        container = self.container_or_none(scope, e.args[0])
        if container is None:
            return None
        if target is dict:
            if not isinstance(container, ast.Dict):
                return None
            return self.made_here(ast.Dict(list(container.keys), [self.kept(v) for v in container.values]))
        node = ast.Tuple([self.kept(v) for v in self.rows_of(container)], ast.Load())
        node.is_list = target is list
        return self.made_here(node)

    def named_tuple(self, scope, cls, e):
        """`State(pos, vel)`: the NamedTuple's container, its fields bound as Python binds them."""
        fields, defaults = cls._fields, getattr(cls, "_field_defaults", {})
        maker = next(c for c in cls.__mro__ if "__new__" in c.__dict__)
        if not (getattr(maker.__new__, "__module__", None) or "").startswith("namedtuple_"):  # (collections')
            raise self.error(scope, e, f"`{cls.__name__}` makes its tuples with a `__new__` of its own",
                             "make the NamedTuple with its fields, or give the function a rule")
        named = [k.arg for k in e.keywords]
        if len(e.args) > len(fields) or any(k not in fields for k in named) or len(set(named)) < len(named) or any(
                isinstance(a, ast.Starred) for a in e.args) or set(named) & set(fields[:len(e.args)]):
            raise self.error(scope, e, f"`{cls.__name__}` does not take these arguments")
        given = dict(zip(fields, e.args)) | {k.arg: k.value for k in e.keywords}
        parts = []
        for name in fields:
            if name in given:
                parts.append(self.part(scope, given[name]))
            elif name in defaults and type(defaults[name]) in (int, float, bool, type(None)):
                parts.append(ast.Constant(defaults[name]))
            else:
                raise self.error(scope, e, f"`{cls.__name__}` is missing the field `{name}`")
        node = ast.Tuple(parts, ast.Load())
        node.fields = tuple(fields)
        return self.made_here(node)

    def kept(self, item):
        """An item as a new container (or a function called) holds it: the value it has now (a carried
        container's variable, which the code may set again, copied first)."""
        if isinstance(item, ast.Name) and item.id in self.carried_leaves:
            return self.emit(self.namer.fresh(f"{item.id}_old"), item)
        return item

    def variables_of(self, scope, name, container, path=""):
        """The container's structure with a variable of its own at each leaf (`state_h`)."""
        if isinstance(container, ast.Dict):
            node = ast.Dict([ast.Constant(k.value) for k in container.keys], [
                self.variables_of(scope, name, v, f"{path}_{k.value}") for k, v in zip(container.keys,
                                                                                      container.values)])
        elif isinstance(container, ast.Tuple):
            node = ast.Tuple([self.variables_of(scope, name, v, f"{path}_{k}") for k, v in enumerate(container.elts)],
                             ast.Load())
            node.is_list = getattr(container, "is_list", False)
            if hasattr(container, "fields"):
                node.fields = container.fields
        else:
            leaf = self.own_name(scope, f"{name}{path}" if str(path[1:]).isidentifier() else f"{name}_item")
            self.rewritten.add(leaf)
            self.carried_leaves.add(leaf)
            return ast.Name(leaf, ast.Load())
        node.carried, node.depth, node.prefix = True, len(self.blocks), f"{name}{path}"
        return node

    def new_variable_item(self, scope, container, key, new):
        """A key given to a dict of variables where it was made (as Python's dict takes one): a variable
        of its own (variables of their own for a container), set to new."""
        container.keys.append(ast.Constant(key))
        container.values.append(self.variable_item(scope, container, key, new))

    def variable_item(self, scope, container, key, new):
        """Variables of their own for an item added to a container of variables, set to new."""
        item = self.variables_of(scope, container.prefix, new, f"_{key}")
        self.set_leaves(item, new)
        return item

    def other_holder(self, scope, name, container):
        """A name other than scope's `name` (of scope, of the scopes around, of the callers being inlined)
        that holds container or a part of it, else None."""
        parts = {id(n) for n in ast.walk(container) if isinstance(n, STATIC)}
        return next((n for s in self.scopes_of(scope) for n, v in s.current.items()
                     if (s, n) != (scope, name) and any(id(c) in parts for c in ast.walk(v))), None)

    def shared_parts(self, scope, name, container, node):
        """Refuse a container that holds one dict, list or tuple in two places, about to become a
        container of variables (each place would have variables of its own, and change alone)."""
        parts = [id(n) for n in ast.walk(container) if isinstance(n, STATIC)]
        if len(parts) != len(set(parts)):
            raise self.error(scope, node, f"`{name}` holds one dict, list or tuple in two places and is changed "
                             "inside if/for/while", "hold copies (`dict(d)`), or keep the shared values in one place")

    def snapshot(self, container):
        """The container with each leaf that a later assignment may change copied into a name of its own."""
        if isinstance(container, ast.Dict):
            return ast.Dict(list(container.keys), [self.snapshot(v) for v in container.values])
        if isinstance(container, ast.Tuple):
            node = ast.Tuple([self.snapshot(v) for v in container.elts], ast.Load())
            for attr in ("is_list", "fields", "depth"):
                if hasattr(container, attr):
                    setattr(node, attr, getattr(container, attr))
            return node
        if isinstance(container, ast.Name) and container.id in self.rewritten:
            return self.emit(self.namer.fresh(f"{container.id}_old"), container)
        return container

    def write_item(self, scope, container, target, value, stmt):
        """`d[key] = value` into a dict or list known when compiling: the container itself changes (as
        Python's does, for every name that holds it)."""
        if getattr(container, "carried", False):  # a container of variables (carry): its variable is set
            key = self.atom(scope, target.slice)
            new_key = isinstance(container, ast.Dict) and isinstance(key, ast.Constant) and type(key.value) in (
                str, int) and key.value not in [k.value for k in container.keys]
            if new_key and len(self.blocks) == container.depth:
                self.changed(scope, container, stmt)
                return self.new_variable_item(scope, container, key.value, self.snapshot(self.part(scope, value)))
            old = self.item(scope, container, target) if isinstance(key, ast.Constant) and not new_key else None
            if isinstance(old, STATIC):  # a container in it, given a new one of the same structure
                new = self.part(scope, value)
                self.shared_parts(scope, ast.unparse(target), new, stmt)
                new = self.snapshot(new) if isinstance(new, STATIC) else new
                apart = any(any(n is old for n in ast.walk(v)) and not any(n is container for n in ast.walk(v))
                            for s in self.scopes_of(scope) for v in s.current.values())  # (`inner = s["a"]`)
                if not isinstance(new, STATIC) or not same_structure(old, new) or apart:
                    raise self.error(scope, stmt, "a container assigned inside if/for/while gets a new key, or a "
                                     "container of another structure, or one that another name holds",
                                     "keep its structure: set the values it has")
                self.set_leaves(old, new)
                return
            if not isinstance(old, ast.Name):
                raise self.error(scope, stmt, "a container assigned inside if/for/while gets a new key, or a "
                                 "container where it held a value", "keep its structure: set the values it has")
            new = self.part(scope, value)
            if isinstance(new, STATIC):
                raise self.error(scope, stmt, "a container written into an item of a container assigned inside "
                                 "if/for/while", "keep its structure: set the values it has")
            self.emit(old.id, new)
            return
        if len(self.blocks) > getattr(container, "depth", 1):
            raise self.error(scope, stmt, "a container known when compiling cannot be changed inside if/for/while "
                             "(nor one from outside the function)", "build a new one after the loop, or keep the "
                             "values in an array")
        if isinstance(container, ast.Tuple) and not getattr(container, "is_list", False):
            raise self.error(scope, stmt, "a tuple cannot be written into", "build a new tuple")
        new = self.part(scope, value)
        key = self.known_key(scope, target.slice)
        if not isinstance(key, ast.Constant):
            raise self.error(scope, target, "a container can only be written at a constant key here",
                             "use a constant key, or keep the values in an array")
        if isinstance(container, ast.Dict):
            keys = [k.value for k in container.keys]
            if key.value in keys:  # (a loop over the dict's keys may set the values it has: Python's may)
                self.changed(scope, container, stmt, size=False)
                container.values[keys.index(key.value)] = new
            else:
                self.changed(scope, container, stmt)
                container.keys.append(ast.Constant(key.value))
                container.values.append(new)
            return
        self.item(scope, container, target)  # (refuses an index out of range)
        self.changed(scope, container, stmt, size=False)
        container.elts[key.value] = new

    def unrolled_loop(self, scope, stmt):
        """A `for` over containers known when compiling (`for W in weights`, `for k, v in
        params.items()`, enumerate and zip of them), unrolled; True if stmt is one."""
        rows = self.static_rows(scope, stmt.iter)
        if rows is None and self.appends_to_a_list(scope, stmt.body) and not self.appends_to_a_list(
                scope, [n for s in stmt.body if not isinstance(s, ast.Expr) for n in ast.iter_child_nodes(s)
                        if isinstance(n, ast.stmt)]):  # (each run appends the same number of items)
            rows = self.constant_range(scope, stmt.iter)  # (a list that grows by a known count: unrolled too,
            if rows is not None and len(rows) > MAX_UNROLL_APPENDS:  # when short; else grown.py's loop)
                return False
        if rows is None:
            return False
        if len(rows) > MAX_UNROLL:
            raise self.error(scope, stmt, f"a loop over a container of {len(rows)} items", "use an array")
        for node in ast.walk(ast.Module(stmt.body, [])):
            if isinstance(node, (ast.Break, ast.Continue, ast.Return)):
                raise self.error(scope, node, f"`{type(node).__name__.lower()}` in a loop over a container",
                                 "loop over range(len(...)) of an array, or set a flag")
        assigned = {n.id for n in ast.walk(ast.Module(stmt.body, [])) if isinstance(n, ast.Name)
                    and isinstance(n.ctx, ast.Store)}
        keys = stmt.iter.func.value if isinstance(stmt.iter, ast.Call) and isinstance(stmt.iter.func, ast.Attribute) \
            and stmt.iter.func.attr == "keys" else stmt.iter  # (a loop over a dict's keys reads no value of it)
        keys_only = isinstance(self.static_of(scope, keys), ast.Dict)
        over = [(c, keys_only) for n in ast.walk(stmt.iter) if isinstance(n, (ast.Name, ast.Subscript))
                for c in [self.static_of(scope, n)] if c is not None]
        self.pending.append((scope, [stmt]))  # (each run is followed by the next)
        self.iterating.append(over)  # (Python's loop would see a change to them: refused, see changed())
        try:
            for row in rows:
                self.bind_row(scope, stmt.target, row, assigned, stmt)
                self.statements(scope, stmt.body)
        finally:
            self.pending.pop()
            self.iterating.pop()
        return True

    def changed(self, scope, container, node, size=True):
        """Refuse changing a container that an unrolled loop goes over (Python's loop reads it as it runs):
        its size, or (size False) the value at a key, unless the loop reads only its keys."""
        if any(c is container and (size or not keys_only) for over in self.iterating for c, keys_only in over):
            raise self.error(scope, node, "a container changed inside a loop over it",
                             "loop over a copy (`list(items)`, `dict(d)`), or build a new container")

    def known(self, scope, e):
        """Whether a loop over e goes over a container known when compiling (or enumerate, zip,
        reversed, .items(), .keys(), .values() of such), found without computing anything."""
        if isinstance(e, (ast.Tuple, ast.List, ast.Dict)):
            return True
        if not isinstance(e, ast.Call):
            return self.static_of(scope, e) is not None
        func = e.func
        if isinstance(func, ast.Attribute) and func.attr in ("items", "keys", "values") and not e.args:
            return isinstance(self.static_of(scope, func.value), ast.Dict)
        if isinstance(func, ast.Name) and func.id in ("enumerate", "zip", "reversed") and not self.is_local(
                scope, func.id) and e.args:
            return all(self.known(scope, a) for a in (e.args[:1] if func.id == "enumerate" else e.args))
        return False

    def appends_to_a_list(self, scope, body):
        return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "append"
                   and isinstance(self.static_of(scope, n.func.value), ast.Tuple)
                   for n in ast.walk(ast.Module(body, [])))

    def constant_range(self, scope, iterable):
        """The ints of `range(...)` whose bounds are constants when compiling, else None."""
        if not (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id == "range"
                and not self.is_local(scope, "range") and not iterable.keywords):
            return None
        bounds = [self.atom(scope, a) for a in iterable.args]
        bounds = [ast.Constant(self.constants[b.id]) if isinstance(b, ast.Name) and b.id in self.constants else b
                  for b in bounds]  # (a module-level int)
        if not all(isinstance(b, ast.Constant) and type(b.value) is int for b in bounds):
            return None
        return [ast.Constant(i) for i in range(*(b.value for b in bounds))]

    def static_rows(self, scope, iterable):
        """The items a loop over iterable takes, when it is a container known when compiling (or
        enumerate, zip, .items(), .keys(), .values() of them), else None."""
        if not self.known(scope, iterable):
            return None  # (and nothing computed: a display's items are computed once, by the loop)
        if not isinstance(iterable, ast.Call):
            container = self.container_or_none(scope, iterable)
            return None if container is None else self.rows_of(container)
        func = iterable.func
        if isinstance(func, ast.Attribute) and func.attr in ("items", "keys", "values") and not iterable.args:
            container = self.static_of(scope, func.value)
            if not isinstance(container, ast.Dict):
                return None
            pairs = list(zip(container.keys, container.values))
            return {"items": [ast.Tuple(list(p), ast.Load()) for p in pairs], "keys": list(container.keys),
                    "values": list(container.values)}[func.attr]
        if isinstance(func, ast.Name) and func.id == "reversed" and not self.is_local(scope, func.id) \
                and len(iterable.args) == 1 and not iterable.keywords:
            rows = self.static_rows(scope, iterable.args[0])
            return None if rows is None else rows[::-1]
        if isinstance(func, ast.Name) and func.id in ("enumerate", "zip") and not self.is_local(scope, func.id):
            parts = [self.static_rows(scope, a) for a in (iterable.args[:1] if func.id == "enumerate" else iterable.args)]
            if not parts or any(p is None for p in parts):
                if any(p is not None for p in parts):
                    raise self.error(scope, iterable, f"{func.id}() of a container and a runtime sequence",
                                     "make both arrays, or both containers")
                return None
            if func.id == "enumerate":
                start = (iterable.args[1:] or [k.value for k in iterable.keywords if k.arg == "start"] or
                         [ast.Constant(0)])[0]
                if not (isinstance(start, ast.Constant) and type(start.value) is int):
                    return None
                return [ast.Tuple([ast.Constant(i), r], ast.Load()) for i, r in enumerate(parts[0], start.value)]
            return [ast.Tuple(list(r), ast.Load()) for r in zip(*parts)]
        return None

    @staticmethod
    def rows_of(container):
        return list(container.keys) if isinstance(container, ast.Dict) else list(container.elts)

    def bind_row(self, scope, target, row, assigned, stmt):
        """Bind a loop target (a name, or names to unpack) to one item of an unrolled loop."""
        if isinstance(target, (ast.Tuple, ast.List)):
            parts = items(row) if isinstance(row, STATIC) else None
            if parts is None or len(parts) != len(target.elts):
                raise self.error(scope, stmt, "cannot unpack this item into the loop's names")
            for t, p in zip(target.elts, parts):
                self.bind_row(scope, t, p, assigned, stmt)
            return
        if not isinstance(target, ast.Name):
            raise self.error(scope, stmt, "the loop variable must be a name", "unpack inside the loop body")
        if isinstance(row, STATIC) or isinstance(row, ast.Constant) or target.id not in assigned:
            scope.current[target.id] = row  # (nothing in the body assigns it: no name of its own needed)
        else:
            self.assign(scope, target, Normal(clone(row)), stmt)

    def as_array(self, tup):
        """The array a list or tuple of values written in the code stands for, where a NumPy function
        takes an array (`np.sum([a, b])`, `np.array([x, y])`): a call of `numbers` (numbers) or
        `np.stack` (else: arrays of one shape, as np.array needs); None for constants and containers."""
        if not isinstance(tup, ast.Tuple):
            return None
        if tup.elts and all(isinstance(e, ast.Tuple) for e in tup.elts):  # rows: `np.array([[a, b], [c, d]])`
            rows = [self.as_array(e) for e in tup.elts]
            if any(r is None for r in rows):
                return None
            return self.rule_call("np.stack", [ast.Tuple([self.emit(self.namer.fresh("row"), r) for r in rows],
                                                         ast.Load())])
        if not any(isinstance(e, ast.Name) for e in tup.elts) or any(isinstance(e, STATIC) for e in tup.elts):
            return None
        kinds = [0 if isinstance(e, ast.Constant) and type(e.value) in (int, float) else
                 self.kinds.of.get(e.id) if isinstance(e, ast.Name) else None for e in tup.elts]
        if all(k == 0 for k in kinds):
            return self.rule_call("numbers", [ast.Tuple(list(tup.elts), ast.Load())])
        # arrays of one shape (np.stack refuses others, as np.array does): of kinds not all known too
        return self.rule_call("np.stack", [ast.Tuple(list(tup.elts), ast.Load())])

    def arrays_for_lists(self, rule, args, keywords):
        """A NumPy call's arguments with each list or tuple of values where it takes an array made one
        (as_array); the call itself when it is np.array or np.asarray of one."""
        if rule.sequence and args and isinstance(args[0], ast.Tuple):  # np.concatenate([[x0], path])
            parts = []
            for part in args[0].elts:
                stacked = self.as_array(part) if isinstance(part, ast.Tuple) else None
                if stacked is None and isinstance(part, ast.Tuple) and all(
                        isinstance(v, ast.Constant) and type(v.value) in (int, float) for v in part.elts):
                    stacked = self.rule_call("numbers", [ast.Tuple(list(part.elts), ast.Load())]) if part.elts else \
                        self.rule_call("np.zeros", [ast.Constant(0)])  # ([1.0], [])
                parts.append(part if stacked is None else self.emit(self.namer.fresh("items"), stacked))
            args[0] = ast.Tuple(parts, ast.Load())
        if rule.sequence or not rule.spelling.startswith("np."):
            return None
        params = dict(zip(rule.params, args)) | keywords
        if rule.spelling in ("np.array", "np.asarray") and len(args) == 1 and not keywords:
            return self.as_array(args[0])
        for i, a in enumerate(args):
            if i < len(rule.params) and rule.params[i] in ARRAY_PARAMS:
                stacked = self.as_array(a)
                if stacked is not None:
                    args[i] = self.emit(self.namer.fresh("items"), stacked)
        for k, a in list(keywords.items()):
            if k in ARRAY_PARAMS and k in params:
                stacked = self.as_array(a)
                if stacked is not None:
                    keywords[k] = self.emit(self.namer.fresh("items"), stacked)
        return None

    def folded_builtin(self, scope, target, e):
        """`sum`, `max` or `min` of a container known when compiling, written out (`a + b + c`,
        `max(max(a, b), c)`); `sum` of an array, `np.sum(a, axis=0)` plus its start. None otherwise."""
        if target not in (sum, max, min) or len(e.args) != 1:
            return None
        container = self.container_or_none(scope, e.args[0])
        start = next((k.value for k in e.keywords if k.arg == "start"), None)
        if any(k.arg != "start" for k in e.keywords) or target is not sum and e.keywords:
            return None
        if container is None:  # an array: sum of its rows; max and min of a vector's entries
            array = self.atom(scope, e.args[0])
            ndim = self.kinds.of.get(array.id) if isinstance(array, ast.Name) else None
            if ndim is None and self.grown_of(scope, e.args[0]) is not None and target is sum:
                ndim = 1  # (a list grown in a loop: rows, whatever they hold)
            if target is not sum:
                return self.rule_call(f"np.{target.__name__}", [array]) if ndim == 1 else None
            if not ndim:
                return None
            value = self.emit(self.namer.fresh("total"), self.rule_call("np.sum", [array], {"axis": ast.Constant(0)}))
            return value if start is None else ast.BinOp(self.atom(scope, start), ast.Add(), value)
        return self.fold_items(scope, e, target, items(container), start)

    def fold_items(self, scope, e, target, parts, start=None):
        """sum, max or min of items known when compiling, written out."""
        total = self.atom(scope, start) if start is not None else ast.Constant(0)
        if any(isinstance(p, STATIC) for p in parts):
            raise self.error(scope, e, f"{target.__name__}() of a nested container", "take the containers apart first")
        if target is not sum:
            if not parts:
                raise self.error(scope, e, f"{target.__name__}() of an empty container")
            value = parts[0]
            for p in parts[1:]:
                value = self.emit(self.namer.fresh(target.__name__), self.rule_call(target.__name__, [value, p]))
            return value
        for k, p in enumerate(parts):
            value = ast.BinOp(total, ast.Add(), p) if k or start is not None else p
            total = self.emit(self.namer.fresh("total"), value) if k < len(parts) - 1 else value
        return total
