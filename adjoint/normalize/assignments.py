"""Normalizing assignments (plain, unpacking, augmented, element writes), and the questions they
ask of what is normalized so far: which names share memory with a name (analysis.aliasing), and
which values code still to come reads."""

import ast

from ..analysis.aliasing import disjoint_subscripts, links
from ..ir.build import clone
from ..ir.queries import OP_NAMES, leaves, surely_bound_before, upward
from .comprehensions import COMPREHENSIONS
from .containers import STATIC, items
from .grown import Grown
from .syntax import Normal, Rows, op_symbol, root_name, with_closures


def _axes(ndim, index):
    """[(axis of the array, the slice's step)] that `array[index]` keeps, of an array of ndim axes;
    None when the index has parts other than ints and slices."""
    parts = list(index.elts) if isinstance(index, ast.Tuple) else [index]
    if len(parts) > ndim:
        return None
    kept = []
    for axis, part in enumerate(parts + [ast.Slice()] * (ndim - len(parts))):
        if isinstance(part, ast.Slice):
            kept.append((axis, ast.dump(part.step) if part.step is not None else "1"))
        elif not (isinstance(part, ast.Name) or isinstance(part, ast.Constant) and type(part.value) is int):
            return None
    return kept


def holds(atom, version):
    """Whether what a name holds is `version` or a container with `version` among its items (at any depth)."""
    return atom is not None and any(isinstance(n, ast.Name) and n.id == version for n in ast.walk(atom))


def _new_array(value):
    """Whether value surely makes a new array (a copy, a constructor, arithmetic), never a view."""
    if isinstance(value, (ast.BinOp, ast.UnaryOp)):
        return True
    func = value.func if isinstance(value, ast.Call) else None
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    return name in {"copy", "array", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "astype"}


VIEWS = {"asarray", "reshape", "ravel", "transpose", "squeeze", "expand_dims", "view", "swapaxes", "moveaxis",
         "broadcast_to", "atleast_1d", "atleast_2d", "atleast_3d", "diagonal", "real", "imag", "T"}


def _may_share(value):
    """Whether value may be an array that another name holds too: a name, an item or view, a function
    of the user's (which may give back its argument), a choice of such; not arithmetic, nor a NumPy
    function's result other than a view's."""
    if isinstance(value, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.Constant)):
        return False
    if isinstance(value, ast.IfExp):
        return _may_share(value.body) or _may_share(value.orelse)
    if isinstance(value, ast.BoolOp):
        return any(_may_share(v) for v in value.values)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        return value.func.attr in VIEWS
    return True


class Assignments:
    """A part of Normalizer (normalizer.py), whose state it reads and writes."""

    def assign(self, scope, target, value, stmt):
        if isinstance(target, ast.Name):
            if target.id in scope.functions:
                del scope.functions[target.id]
            if isinstance(value, ast.Lambda):
                scope.functions[target.id] = (value, scope)
                scope.current.pop(target.id, None)
                return
            container_here = target.id not in scope.fixed or self.block_local(scope, target.id, stmt)
            if isinstance(value, (ast.Tuple, ast.List, ast.Dict)) and container_here:
                scope.current[target.id] = self.literal(scope, value)
                return
            if isinstance(value, COMPREHENSIONS) and container_here:
                scope.current[target.id] = self.comprehended(scope, value, "list")
                if isinstance(scope.current[target.id], Grown):
                    self.grown[scope.current[target.id].rows.id].name = target.id
                    self.grown[scope.current[target.id].rows.id].named = True
                return
            if isinstance(value, (ast.Tuple, ast.List, ast.Dict)) or isinstance(value, COMPREHENSIONS):
                new = self.literal(scope, value) if not isinstance(value, COMPREHENSIONS) else self.comprehended(
                    scope, value, "list")
                return self.carry(scope, target.id, new, stmt)
            rhs = self.rhs(scope, value, hint=target.id)
            if isinstance(rhs, Grown):  # another name for the list
                if target.id in scope.fixed:
                    raise self.error(scope, stmt, "a list grown in a loop, assigned to a name inside if/for/while",
                                     "use the list's own name")
                scope.current[target.id] = rhs
                self.grown[rhs.rows.id].name = self.grown[rhs.rows.id].name if self.grown[rhs.rows.id].named \
                    else target.id
                self.grown[rhs.rows.id].named = True
                return
            if isinstance(rhs, (ast.Tuple, ast.Dict)):
                if target.id in scope.fixed:
                    return self.carry(scope, target.id, rhs, stmt)
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
            container = self.static_of(scope, target.value)
            if container is not None:
                return self.write_item(scope, container, target, value, stmt)
            return self.write_element(scope, target, value, stmt)
        raise self.error(scope, target, f"cannot assign to `{ast.unparse(target)}`", "assign to a plain name")

    def rhs(self, scope, value, hint=None):
        """A right-hand side: a normal-form value, an atom, or an ast.Tuple of atoms."""
        if isinstance(value, ast.Name):
            return self.value_or_tuple(scope, value)
        if isinstance(value, (ast.Constant, Normal, Rows)):
            return self.atom(scope, value)
        if isinstance(value, ast.Call):
            callee = self.callee(scope, value)
            if callee is not None:
                return self.inline(scope, value, *callee)
        if isinstance(value, ast.BoolOp):
            chosen = self.known_choice(scope, value)  # `options = options or {}`: known when compiling
            if chosen is not None:
                return self.value_or_tuple(scope, chosen)
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
            if isinstance(value.value, ast.Call):  # computed once: the container it returns, or its value
                base = self.value_or_tuple(scope, value.value)
                if isinstance(base, (ast.Tuple, ast.Dict)):
                    return self.item(scope, base, value)
                if not isinstance(base, (ast.Name, ast.Constant)):
                    base = self.emit(self.namer.fresh(self.describe(value.value)), base)
                return ast.Subscript(base, self.index(scope, value.slice), ast.Load())
        if isinstance(value, ast.Subscript) and self.grown_of(scope, value.value) is not None:
            item = self.grown_item(scope, value, self.grown_of(scope, value.value))
            if item is not None:
                return item
        if isinstance(value, (ast.Subscript, ast.Attribute)):
            base = self.container_or_none(scope, value.value)
            if base is not None:
                return self.item(scope, base, value)
        return self.primitive(scope, value)

    def unpack(self, scope, target, value, stmt):
        names = target.elts
        if not all(isinstance(n, ast.Name) for n in names):
            container = self.container_or_none(scope, value)  # (`d["a"], q = e1, e2`: the values first)
            if container is None:
                raise self.error(scope, target, "only names can be unpacked into", "unpack into names first")
            return self.unpack_container(scope, target, container, stmt)
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(names) and any(
                isinstance(v, (ast.Tuple, ast.List, ast.Dict, *COMPREHENSIONS)) for v in value.elts) and not (
                {n.id for n in names} & {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}):
            for n, v in zip(names, value.elts):  # `a, b = [], {}`: one by one (none reads what another sets)
                self.assign(scope, n, v, stmt)
            return
        if isinstance(value, (ast.Tuple, ast.List)):
            parts = [self.static_of(scope, v) or self.atom(scope, v) for v in value.elts]  # (`a, b = b, a` of dicts)
            held = [p.id for p in parts if isinstance(p, ast.Name)]
            # a permutation passes distinct arrays on (`a, b = b, a` after `b = a` passes one array)
            distinct = len(set(held)) == len(held) == len(parts) and not any(
                other in self.sharers(h) for h in held for other in held if other != h)
        else:
            packed = self.rhs(scope, value, "tup")
            if isinstance(packed, (ast.Tuple, ast.Dict)):
                parts = list(packed.keys if isinstance(packed, ast.Dict) else packed.elts)  # (a dict's keys)
            else:  # a runtime tuple, such as a shape, or an array's rows
                if not isinstance(packed, ast.Name):
                    packed = self.emit(self.namer.fresh("tup"), packed)
                if (self.kinds.of.get(packed.id) or 0) >= 1:  # rows: views of the array, as `a = A[0]` makes
                    count = ast.Call(ast.Name("len", ast.Load()), [clone(packed)], [])
                    self.append(ast.Assert(ast.Compare(count, [ast.Eq()], [ast.Constant(len(names))]),
                                           ast.Constant(f"cannot unpack the rows into {len(names)} names")))
                    for i, n in enumerate(names):
                        row = ast.copy_location(ast.Subscript(Normal(packed), ast.Constant(i), ast.Load()), value)
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
        start = len(self.out)
        parts = [self.emit(self.namer.fresh(f"{part.id}_old"), part) if isinstance(part, ast.Name) and part.id in
                 rewritten else self.snapshot(part) if isinstance(part, (ast.Tuple, ast.Dict)) else part
                 for part in parts]
        # a permutation of names (`u, v = v, u`): each name passes its array on to another
        permutation = isinstance(value, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in value.elts) \
            and distinct and len({n.id for n in names}) == len(names) and sorted(n.id for n in names) == sorted(
                e.id for e in value.elts)
        for n, part in zip(names, parts):
            if isinstance(part, (ast.Tuple, ast.Dict)):  # a container inside the container
                if n.id in scope.fixed:
                    self.carry(scope, n.id, part, stmt)
                    continue
                scope.current[n.id] = part
            else:
                self.emit(self.bind_name(scope, n.id), part)
        if permutation:
            for s in self.out[start:]:
                s.swap = True

    def unpack_container(self, scope, target, container, stmt):
        """`(W1, b1), (W2, b2) = layers` of a container known when compiling, level by level."""
        parts = container.keys if isinstance(container, ast.Dict) else container.elts
        if len(parts) != len(target.elts):
            raise self.error(scope, stmt, f"cannot unpack {len(parts)} values into {len(target.elts)} names")
        for k, n in enumerate(target.elts):  # `a[0], a[1] = a[1], a[0]`: a view read after a write it sees
            later = [p for p in parts[k + 1:] if isinstance(p, ast.Name) and self.kinds.of.get(p.id) != 0]
            if isinstance(n, ast.Subscript) and later and self.static_of(scope, n.value) is None:  # (an array's)
                base = self.name(scope, n.value) if isinstance(n.value, ast.Name) else None
                if not isinstance(base, ast.Name) or any(p.id == base.id or p.id in self.sharers(base.id)
                                                         for p in later):
                    raise self.error(scope, stmt, "unpacking into an item of an array that a value unpacked after it "
                                     "views (NumPy would read the value after the write)",
                                     "assign the items one by one, or copy the values first (`.copy()`)")
        for n, part in zip(target.elts, parts):
            if isinstance(n, (ast.Tuple, ast.List)):
                if not isinstance(part, (ast.Tuple, ast.Dict)):
                    raise self.error(scope, stmt, "cannot unpack a value known only at run time into names here",
                                     "unpack it on a line of its own")
                self.unpack_container(scope, n, part, stmt)
            elif not isinstance(n, ast.Name):
                if isinstance(part, (ast.Tuple, ast.Dict)) or isinstance(n, ast.Starred):
                    raise self.error(scope, n, "a container unpacked into an item, or `*` in the names",
                                     "unpack into names first")
                self.assign(scope, n, Normal(clone(part)), stmt)  # (`d["a"], q = ...`: an item set)
            elif isinstance(part, (ast.Tuple, ast.Dict)):
                if n.id in scope.fixed:
                    self.carry(scope, n.id, part, stmt)
                    continue
                scope.current[n.id] = part
            else:
                self.assign(scope, n, Normal(clone(part)), stmt)

    def augassign(self, scope, stmt):
        target = stmt.target
        container = self.static_of(scope, target.value) if isinstance(target, ast.Subscript) else None
        if container is not None:  # an item of a container: `d["w"] -= lr * g`
            old = self.item(scope, container, target)
            if isinstance(old, ast.Name) and self.kinds.of.get(old.id) != 0:
                self.held_by_a_list(scope, old.id, stmt)  # (NumPy's is in place: a list holding it would show it)
                self.updated.add(old.id)
                live = sorted({self.user_name(s) for s in self.sharers(old.id) if self.read_later(s)}
                              | self.other_names_read_later(old.id, scope, root_name(target)))
                if live or old.id in self.top.params:
                    who = f"`{live[0]}`" if live else "the caller's argument"
                    text = ast.unparse(target)
                    raise self.error(scope, stmt, f"`{text} {op_symbol(stmt.op)}= ...` would change {who} too if "
                                     f"`{text}` is an array (NumPy's is in place)",
                                     f"write `{text} = {text} {op_symbol(stmt.op)} ...`")
            load = ast.copy_location(clone(target), target)
            for n in ast.walk(load):
                if hasattr(n, "ctx"):
                    n.ctx = ast.Load()
            return self.assign(scope, target, ast.copy_location(ast.BinOp(load, stmt.op, stmt.value), stmt), stmt)
        if isinstance(target, ast.Subscript):  # read, operate, write back (numpy's own semantics)
            base = self.atom(scope, target.value)
            index = self.index(scope, target.slice)
            old = self.emit(self.namer.fresh(self.describe_subscript(base, index)),
                            ast.Subscript(base, index, ast.Load()))
            new = self.emit(self.namer.fresh(OP_NAMES.get(type(stmt.op), "value")),
                            ast.BinOp(old, stmt.op, self.atom(scope, stmt.value)))
            return self.store_element(scope, base, clone(index), new, stmt)
        if not isinstance(target, ast.Name):
            raise self.error(scope, target, f"cannot assign to `{ast.unparse(target)}`", "assign to a plain name")
        name = target.id
        old = scope.current.get(name)
        if isinstance(old, ast.Name) and self.kinds.of.get(old.id) != 0:
            self.held_by_a_list(scope, old.id, stmt)  # (NumPy's `x += ...` writes the array a list holds)
            if self.rebound_in_loop(scope, name, stmt):
                symbol = op_symbol(stmt.op)
                raise self.error(scope, stmt, f"`{name} {symbol}= ...` in a loop that also makes `{name}` hold an "
                                 f"array that may be another name's: NumPy's `{symbol}=` would change that array on "
                                 "the next run", f"write `{name} = {name} {symbol} ...`")
            sharers = self.sharers(old.id)
            holders = self.other_names_read_later(old.id, scope, name)
            if holders and (self.kinds.of.get(old.id) or 0) >= 1 and not any(self.read_later(s) for s in sharers):
                # NumPy's in-place update of an array that other names hold (a helper's argument, the
                # caller's buffer): written into, so that they see it
                new = self.emit(self.namer.fresh(OP_NAMES.get(type(stmt.op), "value")),
                                ast.BinOp(old, stmt.op, self.atom(scope, stmt.value)))
                ndim = self.kinds.of[old.id]
                whole = ast.Slice() if ndim == 1 else ast.Tuple([ast.Slice() for _ in range(ndim)], ast.Load())
                return self.store_element(scope, clone(old), whole, new, stmt)  # (a[:], which Numba takes)
            live = sorted({self.user_name(s) for s in sharers if self.read_later(s)} | holders)
            if live or old.id in self.top.params and scope is self.top and old.id not in self.written_params \
                    and not self.copied_first(name, stmt):
                who = f"`{live[0]}`" if live else "the caller's argument"
                symbol = op_symbol(stmt.op)
                raise self.error(
                    scope, stmt, f"`{name} {symbol}= ...` would change {who} too if `{name}` is an array",
                    f"write `{name} = {name} {symbol} ...`, or make `{name}` a copy first "
                    f"(`{name} = {live[0] if live else name}.copy()`)")
        binop = ast.copy_location(ast.BinOp(ast.Name(name, ast.Load()), stmt.op, stmt.value), stmt)
        self.assign(scope, target, binop, stmt)

    def known_choice(self, scope, e):
        """The operand `a or b` / `a and b` gives when the truth of those before it is known when compiling
        (a container's: it has items; a constant's), else None."""
        for k, operand in enumerate(e.values):
            if k == len(e.values) - 1:
                return operand
            known = self.value_or_tuple(scope, operand) if isinstance(operand, ast.Name) else self.container_or_none(
                scope, operand) if isinstance(operand, (ast.Dict, ast.List, ast.Tuple)) else operand
            if isinstance(known, STATIC):
                truth = bool(items(known))
            elif isinstance(known, ast.Constant):
                truth = bool(known.value)
            else:
                return None
            if truth == isinstance(e.op, ast.Or):
                return operand
        return None

    def copied_first(self, name, stmt):
        """Whether the top function assigns `name` a new array (`x = x.copy()`, `x = 1.0 * x`) in a statement
        of its own body before the one that holds stmt: its parameter's array is not what `x += ...` changes."""
        body = self.top.src.tree.body
        at = next((k for k, s in enumerate(body) if any(n is stmt for n in ast.walk(s))), 0)
        for s in reversed(body[:at]):  # the last statement before that assigns name
            if any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(s)):
                return isinstance(s, ast.Assign) and [t.id for t in s.targets if isinstance(t, ast.Name)] == [name] \
                    and _new_array(s.value) and not self.rebound_in_loop(self.top, name, stmt, any_value=True)
        return False

    def rebound_in_loop(self, scope, name, stmt, any_value=False):
        """Whether a loop around stmt also assigns name a value that may be an array held elsewhere (`x =
        y`; with any_value, anything): on the next run, name holds that array."""
        for s, stmts in self.pending:
            loop = stmts[0] if s is scope and len(stmts) == 1 else None
            if isinstance(loop, (ast.For, ast.While)) and any(n is stmt for n in ast.walk(loop)) and (
                    any_value or not surely_bound_before(loop.body, stmt, name)):  # (else: this run's value)
                for n in ast.walk(loop):
                    targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.For) else []
                    if any(isinstance(t, ast.Name) and t.id == name and isinstance(t.ctx, ast.Store)
                           for tt in targets for t in ast.walk(tt)) and (
                            any_value or not (isinstance(n, ast.Assign) and len(n.targets) == 1
                                              and isinstance(n.targets[0], ast.Name) and not _may_share(n.value))):
                        return True
        return False

    def write_element(self, scope, target, value, stmt):
        base = self.atom(scope, target.value)
        index = self.index(scope, target.slice)
        self.store_element(scope, base, index, self.atom(scope, value), stmt)

    def store_element(self, scope, base, index, value, stmt):
        if not isinstance(base, ast.Name):
            raise self.error(scope, stmt, "only an array held in a name can be written into")
        if self.held:
            self.held_by_a_list(scope, base.id, stmt)
        sharers = self.sharers(base.id)
        partners = self.swap_partners(base.id, sharers)  # (a permutation passes arrays on: no two share one)
        live = sorted(self.user_name(s) for s in sharers - partners if self.read_later(s)
                      and not self.disjoint(s, base.id))
        params = sorted(s for s in sharers | {base.id} if s in self.top.params)
        whole = self.whole_view(base.id, index) if live else None
        if whole is not None:  # `dst[:] = e` of dst = out[1:-1]: the write is into out, where NumPy's goes
            return self.store_element(scope, ast.Name(whole[0], ast.Load()), clone(whole[1]), value, stmt)
        if not live and params == [base.id]:
            raise self.error(scope, stmt, f"this writes into `{self.user_name(base.id)}`, the caller's array (a helper "
                             "that updates its argument in place)", f"pass the helper a copy, "
                             f"`{self.user_name(base.id)}.copy()`, or copy it first in the function differentiated")
        if live or params:
            who = live[0] if live else params[0]
            raise self.error(scope, stmt, f"writing into `{self.user_name(base.id)}` would also change "
                             f"`{who}`, which shares its memory" + ("" if live else " (the caller's array)"),
                             f"write into a copy: `{self.user_name(base.id)} = {self.user_name(base.id)}.copy()` "
                             "first")
        if isinstance(value, ast.Name) and value.id in sharers - partners and not self.apart(value.id, base.id, index) \
                and not self.read_whole_first(value.id, base.id, index):
            # `b[:, 2] = b[1]`: NumPy copies element by element, each read after the writes before it; the
            # normal form reads the whole row first
            name = self.user_name(base.id)
            raise self.error(scope, stmt, f"the value written into `{name}` is a view of `{name}` itself, which the "
                             "write may change while NumPy reads it", f"write a copy: `... = {self.user_name(value.id)}"
                             ".copy()`")
        for writes in self.loop_writes:  # (checked when each loop around is done: see loop_body)
            writes.append((base.id, sharers, scope, stmt))
        self.forget(sharers | {base.id})
        self.append(ast.Assign([ast.Subscript(base, index, ast.Store())], value))

    def whole_view(self, version, index):
        """(array, subscript) when `version` is `array[subscript]` by basic indexing (ints, slices of
        constants or of names nothing assigns again) and `index` writes all of it (`[:]`, `[...]`): a
        write into the view is that write into the array; else None."""
        parts = list(index.elts) if isinstance(index, ast.Tuple) else [index]
        if not all(isinstance(p, ast.Slice) and p.lower is p.upper is p.step is None or isinstance(
                p, ast.Constant) and p.value is Ellipsis for p in parts):
            return None
        found = self.view_of(version)
        if found is None:
            return None
        array, subscript = found
        pieces = list(subscript.elts) if isinstance(subscript, ast.Tuple) else [subscript]
        atoms = [a for p in pieces for a in ([p.lower, p.upper, p.step] if isinstance(p, ast.Slice) else [p])
                 if a is not None]
        for a in atoms:
            if isinstance(a, ast.Constant) and (type(a.value) is int or a.value is None or a.value is Ellipsis):
                continue
            if isinstance(a, ast.Name) and self.kinds.of.get(a.id) == 0 and a.id not in self.rewritten:
                continue
            return None  # (an index array, or a name a loop may change since the view was made)
        return array, subscript

    def read_whole_first(self, view, array, index):
        """Whether NumPy reads all of `view`, a view of `array`, before `array[index] = view` writes
        (as the normal form does): it copies an overlapping source when the destination has two or more
        axes, and for one axis moves the data as memmove does when both run along the same axis of `array`
        with a step of 1 (`a[1:] = a[:-1]`); a row written into a column it crosses, it does not
        (numpy/core/src/multiarray/array_assign_array.c). Nor, at times, through an index array
        (`b[mask] = b[3::-1]` reads what it wrote): refused."""
        parts = list(index.elts) if isinstance(index, ast.Tuple) else [index]
        if any(isinstance(p, ast.Name) and self.kinds.of.get(p.id) != 0 for p in parts):
            return False  # (an index array, or an index not known to be an int)
        ndim = self.kinds.of.get(array)
        into = _axes(ndim, index) if ndim else None
        if into is not None and len(into) >= 2:
            return True
        found = self.view_of(view)
        if found is None or found[0] != array:
            return False
        if not ndim:  # (the same axes, with the same steps, whatever the array's number of axes: trailing
            ndim = max(len(p.elts) if isinstance(p, ast.Tuple) else 1 for p in (index, found[1]))  # ones too)
            into = _axes(ndim, index)
        return into is not None and into == _axes(ndim, found[1]) and all(step == "1" for _, step in into)

    def apart(self, view, array, index):
        """Whether the name `view`, a view of `array`, shares no element with `array[index]`."""
        found = self.view_of(view)
        return found is not None and found[0] == array and disjoint_subscripts(found[1], index)

    def user_name(self, version):
        """The user's name for a version of the top function's variable (the version itself if none)."""
        return next((user for user, atom in self.top.current.items()
                     if isinstance(atom, ast.Name) and atom.id == version), self.leaf_paths.get(version, version))

    def sharers(self, version, swaps=True):
        """Other names that may share memory with `version` (copies, views, and what they view); with
        `swaps=False`, through links other than those of a permutation (`u, v = v, u`)."""
        group, changed = {version}, True
        statements = [s for s in self.assignments() if swaps or not getattr(s, "swap", False)]
        while changed:
            changed = False
            for s in statements:
                for t, source in links(s, self.table, self.kinds.of):
                    if (t in group) != (source in group):
                        group |= {t, source}
                        changed = True
        return {v for v in group - {version} if self.kinds.of.get(v) != 0}

    def swap_partners(self, version, sharers):
        """Of `sharers` (version's), the names that only permutations (`u, v = v, u`) link to `version`:
        each holds an array of its own, which a permutation passes to another name, so none holds
        `version`'s array."""
        swapped = {t.id for s in self.assignments() if getattr(s, "swap", False) for t in s.targets} & sharers
        return swapped - self.sharers(version, swaps=False) if swapped else swapped

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
            exposed, assigned = upward(stmts)
            for name in with_closures(scope, exposed):
                if (id(scope), name) not in settled:
                    yield scope, name, scope.current.get(name)
            sure = sure and not any(leaves(s) for s in stmts)
            if sure:
                settled |= {(id(scope), name) for name in assigned}

    def read_later(self, version):
        """Whether code still to be normalized may read `version`."""
        return any(holds(atom, version) for _, _, atom in self.later_reads())

    def other_names_read_later(self, version, scope, name):
        """Names other than `name` in `scope` that hold `version` itself and that code still to be
        normalized reads: a caller's variable passed to the function being inlined, say."""
        return {n for s, n, atom in self.later_reads() if holds(atom, version) and (s is not scope or n != name)}
