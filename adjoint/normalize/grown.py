"""Lists that a loop grows: `hs = []` before the loop, `hs.append(h)` in it, a number of times known
only at run time. Each is held as an array of rows filled in order and a count of the rows filled,
which the loop around writes as a person would (a `for` loop sizes the rows when it starts; a
`while` loop, or a loop inside, doubles them as they fill: runtime.enlarged):

    hs = []                          hs_rows = np.zeros((0, 0))     (its kind: of the items, found at
    for t in range(T):               hs_count = 0                    the first append)
        h = np.tanh(W @ h + x[t])    hs_size = trip_count(0, T, 1) * 1
        hs.append(h)                 for t in range(T):
    H = np.stack(hs)                     ...
                                         if hs_count == 0:
                                             hs_rows = rows_of(h, hs_size)
                                         hs_rows[hs_count] = h
                                         hs_count = hs_count + 1
                                     H = np.copy(hs_rows[:hs_count])

A list with items before the loop (`xs = [x0]`) gets its rows there. Reading the list gives the
array of its items so far (`hs_rows[:hs_count]`), `hs[-1]` the row `hs_count - 1` (checked to
exist), `len(hs)` the count: the list is read where a list and an array of its items mean the same
(items, len, loops, zip, sum, max, min, np.stack and any NumPy function), and refused elsewhere
(`hs + [x]`, `if hs:`, `hs == ...`). Python's list holds the arrays themselves, the rows copies: an
array appended and then changed in place (`x += ...`, `x[0] = ...`) is refused, since the list
would show the change.
"""

import ast
import functools

import numpy as np

from ..frontend.names import MISSING
from ..ir.build import clone
from ..ir.queries import dotted

BUILTINS_OF_A_LIST = (len, sum, max, min, enumerate, zip, reversed)
LOOPS = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda, ast.FunctionDef)


class Grown(ast.expr):
    """A list a loop grows, in Scope.current: `rows` names its array (the state is
    Normalizer.grown[rows.id], so that copies of this node stay the same list)."""
    _fields = ("rows",)


@functools.lru_cache(maxsize=64)
def changed_in_place(tree):
    """What the code writes into (`x[i] = ...`: x) or updates with `x += ...` (NumPy's is in place: x,
    `d["h"]`), as written."""
    changed = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.AugAssign):
            changed.add(ast.unparse(n.target))
        for t in n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AugAssign) else []:
            if isinstance(t, ast.Subscript):
                changed.add(ast.unparse(t.value))
    return changed


class GrownState:
    def __init__(self, name, count, size, placeholder, depth):
        self.name, self.count, self.size = name, count, size
        self.placeholder = placeholder  # np.zeros's shape before the first append: () until the kind is known
        self.kind = None  # of the items: 0 numbers, d d-d arrays, None not known when compiling
        self.appended = False  # whether an append (or an item before the loop) has given the rows
        self.depth = depth  # the loop body's block depth: the appends counted for its size are there
        self.sites = set()  # ids of the append calls its size counts
        self.open = True  # while its loop is normalized: the appends its size counts are there
        self.named = True  # whether name is the user's (a comprehension's list is named by its assignment)
        self.growing = False  # rows that grow as the list does (its size is not known when the loop starts)
        self.count_at_entry = 0  # items before the loop


class GrownLists:
    """A part of Normalizer (normalizer.py), whose state it reads and writes."""

    def grow_lists(self, scope, stmts, count=None):
        """Before a loop's body: each list made before the loop that the body appends to becomes a grown
        list. `count()` gives the atom of a `for` loop's trip count: the list's size is known then,
        unless it is appended to in a loop inside; else (a `while` loop) its rows grow as it does."""
        nested = {id(n) for s in ast.walk(ast.Module(stmts, [])) if isinstance(s, LOOPS) for n in ast.walk(s)}
        lists = {}  # id of the list -> (its name, the append calls)
        for node in ast.walk(ast.Module(stmts, [])):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append"
                    and isinstance(node.func.value, ast.Name)):
                continue
            container = self.static_of(scope, node.func.value)
            if not (isinstance(container, ast.Tuple) and getattr(container, "is_list", False)):
                continue
            if getattr(container, "carried", False):
                raise self.error(scope, node, f"appending in a loop to `{node.func.value.id}`, which is assigned "
                                 "inside if/for/while", "make the list once, just before the loop")
            if getattr(container, "depth", None) is None:
                raise self.error(scope, node, f"appending to `{node.func.value.id}`, a list from outside the "
                                 "function, in a loop", "make a list of your own: `items = list(...)`")
            lists.setdefault(id(container), (node.func.value.id, container, []))[2].append(node)
        states = []
        for name, container, calls in lists.values():
            growing = count is None or any(id(c) in nested for c in calls)
            if not growing and not isinstance(count, ast.AST):
                count = count()  # (computed once, for the lists that need it)
            states.append(self.grow(scope, name, container, calls, None if growing else count))
        return states

    def grow(self, scope, name, container, calls, size_of_run):
        if container.depth != len(self.blocks):
            raise self.error(scope, calls[0], f"appending in a loop to `{name}`, a list made outside the if/for/while "
                             "around the loop", "make the list just before the loop")
        # (held by the function around too, a closure's list, that name would keep the empty list)
        if self.other_holder(scope, name, container) is not None:
            raise self.error(scope, calls[0], f"`{name}` is grown in a loop and also held by another name or "
                             "container (or by the function around)", "append to a list that one name of this "
                             "function holds, and put it in containers after the loop")
        items = list(container.elts)
        if any(not isinstance(i, (ast.Name, ast.Constant)) for i in items):
            raise self.error(scope, calls[0], f"appending in a loop to `{name}`, a list of containers",
                             "keep the values in arrays")
        rows, count = self.own_name(scope, f"{name}_rows"), self.own_name(scope, f"{name}_count")
        self.rewritten |= {rows, count}
        if size_of_run is None:  # (rows that grow: a variable, doubled as the list fills it)
            size = ast.Name(self.own_name(scope, f"{name}_size"), ast.Load())
            self.rewritten.add(size.id)
            self.emit(size.id, ast.Constant(len(items)))
        else:
            size_of_run = clone(size_of_run)
            size = size_of_run if len(calls) == 1 else self.emit(self.namer.fresh(f"{name}_size"), ast.BinOp(
                size_of_run, ast.Mult(), ast.Constant(len(calls))))
            if items:
                size = self.emit(self.namer.fresh(f"{name}_size"), ast.BinOp(size, ast.Add(),
                                                                              ast.Constant(len(items))))
        placeholder = ast.Tuple([], ast.Load())
        state = GrownState(name, count, size, placeholder, len(self.blocks) + 1)
        state.growing = size_of_run is None
        state.sites = {id(c) for c in calls}
        self.grown[rows] = state
        if items:
            state.kind, state.appended = self.kind_of_row(scope, calls[0], items[0], state), True
            self.emit(rows, self.rule_call("rows_of", [items[0], clone(size)]))
            for k, item in enumerate(items):
                self.put_row(scope, calls[0], state, rows, ast.Constant(k), item)
        else:
            self.emit(rows, self.rule_call("np.zeros", [placeholder]))
        self.emit(count, ast.Constant(len(items)))
        state.count_at_entry = len(items)
        scope.current[name] = Grown(ast.Name(rows, ast.Load()))
        return state

    def grown_append(self, scope, grown, e):
        """`hs.append(v)` at one of the appends the list's size counts."""
        rows = grown.rows.id
        state = self.grown[rows]
        if id(e) not in state.sites or not state.open or len(self.blocks) < state.depth:
            raise self.error(scope, e, f"appending to `{state.name}` here, outside the loop that grows it (or from "
                             "a function it calls)", "append in that loop's body, or build another list")
        value = self.atom(scope, e.args[0])
        kind = self.kind_of_row(scope, e, value, state)
        if not state.appended:  # the first append: the placeholder gets the rows' kind (a vector's when
            state.placeholder.elts = [ast.Constant(0)] * ((kind or 0) + 1)  # not known: Python's path takes it)
            self.kinds.of[rows] = None if kind is None else kind + 1
            state.kind, state.appended = kind, True
        elif None not in (state.kind, kind) and state.kind != kind:
            raise self.error(scope, e, f"appending to `{state.name}` items of different kinds (numbers and "
                             "arrays, or arrays of different dimensions)", "append items of one kind")
        elif kind is None:
            state.kind = None
        if state.growing:  # full: rows twice as many (and 16 more), the items so far copied over
            self.open_block()
            more = self.emit(self.namer.fresh(f"{state.name}_size"), ast.BinOp(ast.BinOp(
                clone(state.size), ast.Mult(), ast.Constant(2)), ast.Add(), ast.Constant(16)))
            self.emit(state.size.id, more)
            bigger = self.emit(self.namer.fresh(f"{state.name}_bigger"), self.rule_call("enlarged", [
                ast.Name(rows, ast.Load()), clone(value), clone(state.size)]))
            self.emit(rows, bigger)  # (a statement does not read the name it assigns: see normalizer.py)
            enlarge = self.close_block()
            full = self.emit(self.namer.fresh(f"{state.name}_full"), ast.Compare(
                ast.Name(state.count, ast.Load()), [ast.Eq()], [clone(state.size)]))
            self.append(ast.If(full, enlarge, []))
        elif state.count_at_entry == 0:  # (at each append: any may be the first to run)
            self.open_block()
            self.emit(rows, self.rule_call("rows_of", [clone(value), clone(state.size)]))
            allocate = self.close_block()
            empty = self.emit(self.namer.fresh(f"{state.name}_empty"),
                              ast.Compare(ast.Name(state.count, ast.Load()), [ast.Eq()], [ast.Constant(0)]))
            self.append(ast.If(empty, allocate, []))
        item = e.args[0]
        if kind != 0 and ast.unparse(item) in changed_in_place(scope.src.tree):
            raise self.refused_change(scope, e, state.name, ast.unparse(item))
        self.put_row(scope, e, state, rows, ast.Name(state.count, ast.Load()), value)
        after = self.emit(self.namer.fresh(f"{state.name}_count"),
                          ast.BinOp(ast.Name(state.count, ast.Load()), ast.Add(), ast.Constant(1)))
        self.emit(state.count, after)

    def kind_of_row(self, scope, node, value, state):
        if isinstance(value, ast.Constant):
            if type(value.value) not in (int, float, bool):
                raise self.error(scope, node, f"appending {value.value!r} to `{state.name}`, a list grown in a loop",
                                 "append numbers or arrays")
            return 0
        return self.kinds.of.get(value.id)

    def put_row(self, scope, node, state, rows, index, value):
        """rows[index] = value: a copy of the item (Python's list holds the array itself, so an array
        changed in place after it is appended is refused: see held_by_a_list)."""
        rows_made = ast.Subscript(ast.Attribute(ast.Name(rows, ast.Load()), "shape", ast.Load()), ast.Constant(0),
                                  ast.Load())
        self.append(ast.Assert(ast.Compare(clone(index), [ast.Lt()], [rows_made]), ast.Constant(
            f"more items appended to `{state.name}` than counted")))  # (none: an unchecked write, under Numba)
        if state.kind != 0:
            if isinstance(value, ast.Name):
                written = {w[0] for writes in self.loop_writes for w in writes} | self.updated
                if written & ({value.id} | self.sharers(value.id)):
                    raise self.refused_change(scope, node, state.name, self.user_name(value.id))
                self.held[value.id] = state.name
            fits = self.rule_call("fits", [ast.Name(rows, ast.Load()), clone(value)])
            self.append(ast.Assert(fits, ast.Constant(f"the items appended to `{state.name}` have different shapes")))
        self.forget({rows})
        self.append(ast.Assign([ast.Subscript(ast.Name(rows, ast.Load()), index, ast.Store())], value))

    def held_by_a_list(self, scope, version, stmt):
        """Refuse changing in place an array that a grown list holds (Python's list would show it)."""
        for v in {version} | self.sharers(version):
            if v in self.held:
                raise self.refused_change(scope, stmt, self.held[v], self.user_name(v))

    def refused_change(self, scope, node, name, item):
        return self.error(scope, node, f"`{item}` is appended to `{name}` and changed in place: Python's list "
                          "holds the array itself and would show the change, adjoint's holds a copy",
                          f"append a copy (`{name}.append({item}.copy())`), or make the new value a new array "
                          f"(`{item} = {item} + ...`)")

    def grown_of(self, scope, e):
        """The Grown list a name holds, else None."""
        value = self.local_value(scope, e.id) if isinstance(e, ast.Name) else None
        return value if isinstance(value, Grown) else None

    def grown_items(self, scope, e, grown):
        """The array of a grown list's items so far, where a list and that array mean the same."""
        state = self.grown[grown.rows.id]
        if not state.appended:
            raise self.error(scope, e, f"`{state.name}` is read in its loop before the loop first appends to it",
                             "keep the item in a variable of its own too")
        if not self.reads_like_an_array(scope, e):
            raise self.error(scope, e, f"`{state.name}` (a list grown in a loop, which adjoint holds as an array of "
                             "its items) is used here as only a list can be", "read its items, len(), loop over it, "
                             "or make it an array first (np.stack, np.array)")
        if state.kind != 0 and not isinstance(self.parent_of(scope, e), (ast.For, ast.comprehension)):
            count = ast.Name(state.count, ast.Load())  # ([] is not a row of arrays: np.array([]) is 1-d)
            self.append(ast.Assert(ast.Compare(count, [ast.Gt()], [ast.Constant(0)]), ast.Constant(
                f"`{state.name}` is an empty list of arrays here, which adjoint holds as an array of rows")))
        return self.emit(self.namer.fresh(state.name), ast.Subscript(
            clone(grown.rows), ast.Slice(None, ast.Name(state.count, ast.Load()), None), ast.Load()))

    def grown_item(self, scope, e, grown):
        """hs[k] for a constant int k: the row, checked to be one of the items."""
        state = self.grown[grown.rows.id]
        key = e.slice
        if isinstance(key, ast.UnaryOp) and isinstance(key.op, ast.USub) and isinstance(key.operand, ast.Constant):
            key = ast.Constant(-key.operand.value) if type(key.operand.value) is int else key
        if not state.appended or not (isinstance(key, ast.Constant) and type(key.value) is int):
            return None
        count = ast.Name(state.count, ast.Load())
        index = ast.Constant(key.value) if key.value >= 0 else self.emit(
            self.namer.fresh("index"), ast.BinOp(count, ast.Add(), ast.Constant(key.value)))
        inside = ast.BoolOp(ast.And(), [ast.Compare(clone(index), [ast.GtE()], [ast.Constant(0)]),
                                        ast.Compare(clone(index), [ast.Lt()], [count])])
        self.append(ast.Assert(inside, ast.Constant("list index out of range")))
        return ast.Subscript(clone(grown.rows), index, ast.Load())

    def grown_count(self, grown):
        """len(hs): the count now (a copy: the loop changes the count)."""
        state = self.grown[grown.rows.id]
        return self.emit(self.namer.fresh(f"{state.name}_len"), ast.Name(state.count, ast.Load()))

    def reads_like_an_array(self, scope, e):
        """Whether the list read by e is used where the array of its items means the same."""
        parent = self.parent_of(scope, e)
        if isinstance(parent, ast.Subscript):  # an item; a slice is a list again
            return parent.value is e and isinstance(parent.ctx, ast.Load) and (
                not isinstance(parent.slice, ast.Slice) or self.reads_like_an_array(scope, parent))
        if isinstance(parent, (ast.For, ast.comprehension)):
            return parent.iter is e
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) and parent.func.attr == "append":
            return parent.args == [e]  # (an item of another list: the array of its items, copied as rows are)
        if isinstance(parent, ast.Call) and any(a is e for a in parent.args) and dotted(parent.func):
            target = self.resolve(scope, parent.func) if self.is_global(scope, parent.func) else MISSING
            return any(target is b for b in BUILTINS_OF_A_LIST) or isinstance(target, np.ufunc) or (
                callable(target) and (getattr(target, "__module__", None) or "").startswith("numpy"))
        return False

    def parent_of(self, scope, node):
        tree = scope.src.tree
        parents = self.parents.get(id(tree))
        if parents is None or parents[0] is not tree:
            parents = self.parents[id(tree)] = (tree, {id(c): p for p in ast.walk(tree)
                                                       for c in ast.iter_child_nodes(p)})
        return parents[1].get(id(node))

    def scopes_of(self, scope):
        """The scopes whose names may hold what scope's do: scope and those around it, and the callers
        of the functions being inlined (and those around them)."""
        seen = []
        for s in [scope] + [s for s, _ in self.pending]:
            while s is not None:
                if not any(s is t for t in seen):
                    seen.append(s)
                s = s.outer
        return seen
