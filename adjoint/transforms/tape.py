"""Tape placement: the reverse transform marks tape sites (where a value the reverse sweep may
need is overwritten); after simplification, `place_tape` turns the sites whose values the reverse
sweep still reads into pushes and restores, and drops the others. `TapePlan` carries what it needs
of the reverse transform's decisions, and what the tape report (explain.py) reads."""

import ast
from dataclasses import dataclass

from ..analysis.aliasing import aliases, shown_by
from ..errors import AdjointError
from ..ir.build import assign, call, clone, method, name, sweep_start, total
from ..ir.queries import dotted, names_in, stores
from ..rules.helpers import ENTRYWISE, SHAPE_ONLY

_SITE = "__site__"


def site(kind, var, key=0):
    """A placeholder for a tape operation, decided once the whole reverse sweep is known."""
    return ast.Expr(ast.Call(name(_SITE), [ast.Constant(kind), ast.Constant(var), ast.Constant(key)], []))


def is_site(stmt):
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
        isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == _SITE


def site_name(stmt):
    """v for a tape site `site(kind, v, key)`, else None."""
    return stmt.value.args[1].value if is_site(stmt) else None


def tape_placeholder(kind):
    """A value of a kind (number of dimensions; None: unknown) that no result depends on: 0.0, or an
    empty float array of that many dimensions (so Numba gives the name one type on every path)."""
    if not kind:
        return ast.Constant(0.0)
    shape = ast.Tuple([ast.Constant(0)] * kind, ast.Load())
    return ast.Call(ast.Attribute(name("np"), "zeros", ast.Load()), [shape], [])


@dataclass
class TapePlan:
    """What `place_tape` needs to turn tape sites into pushes and restores, what the tape report
    (`explain`) reads of the reverse transform's and place_tape's decisions, and what later stages
    read (the kinds and the adjoints' names)."""

    written_again: set  # primal names that may be written more than once in a run
    kinds: dict
    element_sites: dict  # key -> (array name, index) of each element write
    counters: list  # tapes of loop trip counts, already in use
    namer: object
    active: set  # names that carry a derivative (so hold floats)
    views: dict  # name -> the arrays it may share memory with
    recomputed: set  # numbers the reverse sweep computes again instead of taping
    trip_counts: dict  # trip-count name -> (the normal-form loop it counts, its tape or None)
    placed: dict  # filled in by place_tape: tape -> (the name it keeps, its element-site key or None)
    adjoints: set  # names of the adjoints (which hold floats)
    frozen: dict  # name -> its buffers: the arrays it holds are never written after (analysis.aliasing.frozen)
    checkpoints: list  # (normal-form loop, {carried: its snapshots' list} or None, budget or -1, why not) of top-level loops


def place_tape(fdef, plan):
    """Replace the tape sites with pushes and restores wherever the reverse sweep reads the values.

    A name written again is kept on its tape when the reverse sweep reads its value, or reads its
    shape and it is not a number; an array's overwritten elements are saved when the reverse sweep
    reads the array's values. Called after simplification, so adjoints that were simplified away do
    not keep values alive.

    An array that the reverse sweep reads only as `a.shape` keeps just its shapes, on `a_shapes`,
    and those reads become `a_shapes[-1][0]`: the array itself is freed as soon as the forward sweep
    is done with it. A shape tape keeps one entry per run of equal shapes (runtime.push_shape), so
    a loop whose arrays keep their shape keeps one entry, not one per iteration.

    A float that carries a derivative goes on a list that starts with a placeholder (`[0.0]`, the
    value "before the first write"), so its restore is a plain pop and a read with no test, which
    Numba runs several times faster than `restore`; so does a flag (every value it is given a
    comparison, `[False]`), and a loop's trip count, which a pop gives back (`[0]`); other values
    (arrays, other numbers) use `restore`. optimize/stacks.py makes the three kinds arrays.
    The tapes it makes go into `plan.placed`.
    """
    placer = _Placer(fdef.body, plan, {a.arg for a in fdef.args.args})
    fdef = clone(fdef)
    start = sweep_start(fdef.body)
    for returned in [n for n in ast.walk(fdef.body[-1].value) if isinstance(n, ast.Name)
                     and n.id not in plan.adjoints]:  # (outputs and aux; not the gradients)
        if aliases(returned.id, plan.views) & placer.save:  # the reverse sweep puts old elements back: a copy
            kept = plan.namer.fresh("value")
            fdef.body.insert(start, assign(kept, ast.Call(ast.Attribute(name(returned.id), "copy", ast.Load()), [],
                                                          [])))
            returned.id = kept
    body = placer.replace(fdef.body)
    start = sweep_start(body)
    last_shape = {v: ast.Subscript(ast.Subscript(name(placer.tape_of(v, "shapes")), ast.Constant(-1), ast.Load()),
                                   ast.Constant(0), ast.Load()) for v in placer.shapes}
    body[start:] = [_ShapeReads(last_shape).visit(s) for s in body[start:]]
    fdef.body = [assign(t, ast.List(placer.placeholder.get(t, []), ast.Load())) for t in placer.tapes] + body
    return fdef


class _Placer:
    """place_tape's decisions (what is kept, and how) and the code of each site."""

    def __init__(self, body, plan, params):
        self.plan = plan
        start = sweep_start(body)
        after = read_after(body[start:-1], plan.element_sites)  # (the return reads the forward result)
        kinds, again = plan.kinds, plan.written_again
        # a name written again is put back where the reverse sweep reads it after one of its restores
        # (for its value, or for its shape: then only its shapes are kept if `a.shape` is all it reads)
        read_back = {v: _split(*after.get(("restore", v), _NOTHING)) for v in again}
        shapes = {v for v, (_, _, attribute) in read_back.items() if v in attribute and kinds.get(v)}
        restore = {v for v, (value, shape, _) in read_back.items()
                   if v in value or (v in shape and kinds.get(v) != 0)} - shapes
        # an element write's old value is saved where the reverse sweep reads the array (or a name
        # that may share its memory: a write into `g` of `g = h` overwrites what it reads as h) after
        # the element is put back; reading a view reads the array it shows
        # (a name whose arrays are never written after it holds them reads none of the writes into its
        # buffers: the array it holds in the reverse sweep is one a write of the same step did not touch)
        self.saved = {key for key, (y, _) in plan.element_sites.items() if aliases(y, plan.views) & shown_by(
            after.get(("load", key), _NOTHING)[0] - {u for u, own in plan.frozen.items() if y in own}, plan.views)}
        self.save = {plan.element_sites[key][0] for key in self.saved}
        # elements put back into y must go into the array y was when they were taken out: y itself is restored
        # a name whose shape is the same at every write needs no tape: the reverse sweep reads its last value's
        self.shapes = shapes - self.save - one_shape(body[:start], shapes - self.save, kinds, again, params)
        self.restore = restore | (self.save & again)
        self.floats = {v for v in self.restore if kinds.get(v) == 0 and v in plan.active}
        self.flags = {v for v in self.restore - self.floats - params  # (a parameter comes in with any value)
                      if kinds.get(v) == 0 and _flag(v, body[:start])}
        # arrays that may share memory with an array whose elements are written: the tape keeps a copy,
        # or a later write into the shared memory would change the kept value (a view `c[:2]`, then `c[0] = 0`)
        element_written = {y for y, _ in plan.element_sites.values()}
        self.snapshots = {v for v in self.restore - set(plan.frozen)
                          if kinds.get(v) != 0 and (aliases(v, plan.views) - {v}) & element_written}
        both = sorted(self.snapshots & self.save)
        if both:  # a copy on the tape would miss the writes into v's own elements that come after it
            raise AdjointError(
                f"adjoint cannot be sure of the derivative: `{both[0]}` is written into element by element, and "
                f"another name may share its memory (a view, or a name that holds it or another array by "
                f"a branch)\nhint: write into a copy (`{both[0]} = {both[0]}.copy()`) or give the other name an "
                f"array of its own")
        self.tapes, self.names = list(plan.counters), {}
        self.placeholder = {t: [ast.Constant(0)] for t in plan.counters}

    def tape_of(self, v, suffix, key=None):
        plan, names = self.plan, self.names
        if (v, suffix) not in names:
            names[(v, suffix)] = plan.namer.fresh(f"{v}_{suffix}")
            self.tapes.append(names[(v, suffix)])
            plan.placed[names[(v, suffix)]] = (v, key)
            if v in self.floats | self.flags and suffix == "tape":
                self.placeholder[names[(v, suffix)]] = [ast.Constant(0.0 if v in self.floats else False)]
            if suffix == "shapes":  # see runtime.push_shape
                no_shape = ast.Tuple([ast.Constant(0)] * plan.kinds[v], ast.Load())
                self.placeholder[names[(v, suffix)]] = [ast.Tuple([no_shape, ast.Constant(0)], ast.Load())]
        return names[(v, suffix)]

    def replace(self, stmts):
        out = []
        for s in stmts:
            for field in ("body", "orelse"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, self.replace(getattr(s, field)) or ([ast.Pass()] if field == "body" else []))
            if is_site(s):
                out += self.site(*(a.value for a in s.value.args))
            else:
                out.append(s)
        return out

    def site(self, kind, v, key):
        """The code of one tape site: a push or restore of v, or a save or load of an element of v."""
        if kind == "restore" and v in self.floats | self.flags:
            tape = self.tape_of(v, "tape")
            return [ast.Expr(method(tape, "pop")), assign(v, ast.Subscript(name(tape), ast.Constant(-1), ast.Load()))]
        if kind == "push" and v in self.shapes:
            shape = ast.Attribute(name(v), "shape", ast.Load())
            return [ast.Expr(call("push_shape", name(self.tape_of(v, "shapes")), shape))]
        if kind == "restore" and v in self.shapes:
            return [ast.Expr(call("pop_shape", name(self.tape_of(v, "shapes"))))]
        if kind == "push" and v in self.restore:
            # a copy where v may share memory with an array whose elements are written: a later write,
            # into the array v views or into a name that views v, cannot change what the tape keeps
            kept = call("saved", name(v)) if v in self.snapshots else name(v)
            return [ast.Expr(method(self.tape_of(v, "tape"), "append", kept))]
        if kind == "restore" and v in self.restore:
            return [assign(v, call("restore", name(self.tape_of(v, "tape")), name(v)))]
        if kind in ("save", "load") and key in self.saved:
            index = self.plan.element_sites[key][1]
            tape = self.tape_of(v, f"saved{key}", key)
            element = ast.Subscript(name(v), clone(index), ast.Load())
            if kind == "save":
                return [ast.Expr(method(tape, "append", call("saved", element)))]
            return [assign(ast.Subscript(name(v), clone(index), ast.Store()), method(tape, "pop"))]
        return []


def measure_tapes(fdef):
    """fdef with each `tape_in_use()` (a checkpointed loop's measure, reverse.py `checkpointed`) written as
    the bytes its tapes hold: the lists made at the function's start (runtime.tape_bytes) and the number
    tapes made arrays (optimize/stacks.py: their count of entries); shape tapes, a few entries, are left out."""
    lists, stacks = [], []
    body = fdef.body
    for k, s in enumerate(body):
        if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)):
            break
        t = s.targets[0].id
        if isinstance(s.value, ast.List):
            shapes = s.value.elts and isinstance(s.value.elts[0], ast.Tuple)
            lists += [] if shapes else [t]
        elif dotted(s.value.func if isinstance(s.value, ast.Call) else s.value) == "np.zeros" and k + 1 < len(body) \
                and isinstance(body[k + 1], ast.Assign) and isinstance(body[k + 1].targets[0], ast.Name) \
                and body[k + 1].targets[0].id.startswith(f"{t}_top"):
            stacks.append(body[k + 1].targets[0].id)
        elif not t.endswith("_top"):
            break
    held = total([call("tape_bytes", name(t)) for t in lists] + [
        ast.BinOp(name(top), ast.Mult(), ast.Constant(8)) for top in stacks])

    class Measure(ast.NodeTransformer):
        def visit_Call(self, node):
            if isinstance(node.func, ast.Name) and node.func.id == "tape_in_use":
                return clone(held)
            return self.generic_visit(node)

    return ast.fix_missing_locations(Measure().visit(fdef))


def one_shape(forward, names, kinds, again, params):
    """The names of `names` whose values all have one shape in a run: each is assigned by one statement
    (in a loop), whose value's shape depends only on the shapes of its operands (elementwise operations
    and ufuncs, matrix products, transposes, copies, slices with constant bounds), each of which is a
    number, an array assigned once, or such a name. Not a parameter assigned in the loop: its value as the
    function starts is one more, of any shape (`p = p[:-1] + p[1:]`, found by a hunt)."""
    bindings, in_loops = {}, set()
    for node in ast.walk(ast.Module(list(forward), [])):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            bindings.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, (ast.Assign, ast.For, ast.AnnAssign)):  # (not an element write: `y[i] = e` keeps y)
            for v in stores(node.targets if isinstance(node, ast.Assign) else node.target):
                bindings.setdefault(v, []).append(None)
        if isinstance(node, (ast.For, ast.While)):
            in_loops |= stores(node.body)
    once = {v for v, values in bindings.items() if len(values) == 1 and values[0] is not None}
    same = (once & in_loops) - params

    def fixed(node):
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Name):  # (a number; an array bound once, outside loops, or a parameter never bound)
            return node.id in same or kinds.get(node.id) == 0 or node.id not in in_loops and (
                node.id in once and node.id not in params or node.id not in bindings)
        if isinstance(node, ast.BinOp):
            return fixed(node.left) and fixed(node.right)
        if isinstance(node, ast.UnaryOp):
            return fixed(node.operand)
        if isinstance(node, ast.Compare):
            return fixed(node.left) and all(fixed(c) for c in node.comparators)
        if isinstance(node, ast.Attribute):
            return node.attr == "T" and fixed(node.value)
        if isinstance(node, ast.Subscript):
            return fixed(node.value) and all(_fixed_index(e, kinds) for e in (
                node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]))
        if isinstance(node, ast.Call) and not node.keywords:
            func = dotted(node.func) or ""
            if isinstance(node.func, ast.Attribute) and node.func.attr == "copy" and not node.args:
                return fixed(node.func.value)
            return func in ENTRYWISE and all(fixed(a) for a in node.args)
        return False

    while True:
        kept = {v for v in same if fixed(bindings[v][0])}
        if kept == same:
            return same & names
        same = kept


def _fixed_index(e, kinds):
    """Whether an index's part gives the same shape every time: a constant, a number (an int picks one
    entry), a slice with constant bounds."""
    if isinstance(e, ast.Slice):
        return all(b is None or _constant(b) for b in (e.lower, e.upper, e.step))
    return _constant(e) or isinstance(e, ast.Name) and kinds.get(e.id) == 0


def _constant(e):
    return isinstance(e, ast.Constant) or isinstance(e, ast.UnaryOp) and isinstance(e.operand, ast.Constant)


def _flag(v, forward):
    """Whether every value forward code gives the name v is a comparison's (a bool)."""
    values = []
    for s in (n for f in forward for n in ast.walk(f)):
        if isinstance(s, ast.Assign) and any(v in names_in(t) for t in s.targets):
            values.append(s.value if len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) else None)
        elif isinstance(s, (ast.AugAssign, ast.AnnAssign, ast.For)) and v in names_in(s.target):
            values.append(None)
    return bool(values) and all(isinstance(x, ast.Compare) or isinstance(x, ast.UnaryOp) and isinstance(x.op, ast.Not)
                                or isinstance(x, ast.Constant) and type(x.value) is bool for x in values)


class _ShapeReads(ast.NodeTransformer):
    """`a.shape` -> the expression that holds a's shape there."""

    def __init__(self, shapes):
        self.shapes = shapes

    def visit_Attribute(self, node):
        if node.attr == "shape" and isinstance(node.value, ast.Name) and node.value.id in self.shapes:
            return clone(self.shapes[node.value.id])
        return self.generic_visit(node)


def read_after(rev, element_sites):
    """What reverse-sweep code `rev` may read after (in the order it runs) each load site of an
    element write, ("load", key), and any restore site of a name, ("restore", v), as _raw_reads
    gives it: what comes after the site in its block and in the blocks around it, and the whole of
    each loop around it (its next iteration). A load site reads its index's names (`y[j] =
    y_saved1.pop()`: j must be put back for it; found by a helper's hunt); that it writes into the
    array y was is place_tape's own rule (y is restored where its elements are saved)."""
    out, memo = {}, {}

    def read(s):
        if id(s) not in memo:
            value, shape, other = _raw_reads([s])
            for n in ast.walk(s):
                if is_site(n) and n.value.args[0].value == "load":
                    value = value | names_in(element_sites[n.value.args[2].value][1])
            memo[id(s)] = value, shape, other
        return memo[id(s)]

    def visit(block, live):
        for s in reversed(block):
            if is_site(s) and s.value.args[0].value in ("load", "restore"):
                kind, v, key = (a.value for a in s.value.args)
                site = ("load", key) if kind == "load" else ("restore", v)
                out[site] = _union(out.get(site, _NOTHING), live)
                if kind == "load":
                    live = _union(live, read(s))
            elif isinstance(s, (ast.If, ast.For, ast.While)):
                whole = _union(live, read(s))
                looping = not isinstance(s, ast.If)  # (a loop runs its body again after any site in it)
                for part in (s.body, s.orelse):
                    visit(part, whole if looping else live)
                live = whole
            else:
                live = _union(live, read(s))

    visit(rev, _NOTHING)
    return out


_NOTHING = (frozenset(), frozenset(), frozenset())  # what _raw_reads gives for code that reads nothing


def _union(reads, more):
    return tuple(a | b for a, b in zip(reads, more))


def reads(rev):
    """(names read for their values, names read only for their shape, and of those the ones read
    only as `a.shape`) in reverse-sweep code."""
    return _split(*_raw_reads(rev))


def _split(by_value, by_shape, by_other):
    return by_value, by_shape - by_value, by_shape - by_value - by_other


def _raw_reads(rev):
    """(names read for their values, names read for their shape, names read for their shape otherwise
    than as `a.shape`) in reverse-sweep code. A checkpointed loop's segment run again in the reverse sweep
    (a loop marked `rerun` by reverse.checkpointed: the names its body writes) reads what it writes as the
    forward sweep does, from itself or its snapshot: those reads need no restore."""
    by_value, by_shape, by_other = set(), set(), set()

    def visit(node, shape_only=False, own=frozenset()):
        own = own | getattr(node, "rerun", frozenset())
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id not in own:
                (by_shape if shape_only else by_value).add(node.id)
                if shape_only:
                    by_other.add(node.id)
            return
        if isinstance(node, ast.Attribute) and node.attr == "shape" and isinstance(node.value, ast.Name):
            if node.value.id not in own:
                by_shape.add(node.value.id)
            return
        if isinstance(node, ast.Attribute) and node.attr in ("size", "ndim"):
            visit(node.value, True, own)
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SHAPE_ONLY:
            for i, a in enumerate(node.args):
                visit(a, i in SHAPE_ONLY[node.func.id], own)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, shape_only, own)

    for s in rev:
        visit(s)
    return by_value, by_shape, by_other
