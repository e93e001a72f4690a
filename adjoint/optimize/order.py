"""Reverse loops that run forward: an adjoint loop nested in another whose iterations only read what no
other iteration writes, and add into totals, gives the same sums whichever order its iterations run in
(up to rounding: the terms of each total are added in another order). Running it forward reads memory
upward, which Numba vectorises and the cache prefetches; the descending loop it replaces ran several
times slower on a stencil's adjoint (benchmarks/untuned_programs.py heat_2d, issue 19).

    for i in range(n - 1, 0, -1):                 for i in range(1, n):
        g = out_bar[i] * c                            g = out_bar[i] * c
        out_bar[i] = 0.0                 ->           out_bar[i] = 0.0
        u_bar[i - 1] += g                             u_bar[i - 1] += g
        k_bar = k_bar + g * u[i]                      k_bar = k_bar + g * u[i]

A loop is turned (`turnable`) only when no other iteration can see the difference:
- it pushes, pops and restores no tape, draws no random number, has no break, continue or return, and
  never assigns its index;
- every name an iteration reads before it assigns it is only added into (`v = v + e`, `v += e`,
  `v[...] += e`, `add_into`), and read nowhere else in the loop;
- every other array it writes into is written and read only at elements whose index holds the loop's
  index bare, in one place (`a[i, j]`, `a[i, :]`), so each iteration has elements of its own;
- no other name the loop reads or writes may share memory with an array it writes into
  (`_memory_classes`);
- a name it assigns for itself is not read after it (which iteration ran last would show).

Only loops nested in another loop of the reverse sweep are turned. A checkpointed loop's segments
(transforms/reverse.py `checkpointed`) run its top-level reverse loop in pieces, last piece first: its
totals then add their terms in the order of the whole stored loop only if that loop keeps its order too.
"""

import ast

from ..ir.build import clone, sweep_start
from ..ir.queries import dotted, names_in, stores
from ..rules.helpers import draws
from .fusion import _assigned, _exposed, _is_tape_call, _only_accumulated
from .simplify import IN_PLACE_CALLS

_ADDS = {"add_into", "add_at"}
_FRESH = {"np.zeros", "np.empty", "np.ones", "np.full", "np.zeros_like", "np.empty_like", "np.ones_like",
          "np.full_like", "np.copy", "np.array"}


def in_forward_order(fdef, kinds):
    """fdef with its turnable nested reverse loops (see the module docstring) running forward."""
    fdef = clone(fdef)
    body = fdef.body
    start = sweep_start(body)
    tapes = {n.targets[0].id for n in ast.walk(fdef) if isinstance(n, ast.Assign) and isinstance(n.value, ast.List)
             and isinstance(n.targets[0], ast.Name)}
    facts = _Facts(fdef, kinds, tapes)
    _visit(body[start + 1:], [], None, facts)
    return fdef


class _Facts:
    def __init__(self, fdef, kinds, tapes):
        self.kinds, self.tapes = kinds, tapes
        self.classes = _memory_classes(fdef, kinds)

    def shares_nothing(self, v, body):
        """Whether no name in body but v may hold v's memory (or a view of it)."""
        return self.classes.get(v, {v}) & names_in(body) == {v}


def _visit(block, after, loop, facts):
    """Turn the loops in block (inside `loop`, the nearest loop around it, None at the top) that can; after:
    the blocks that may run once block is done."""
    for k, s in enumerate(block):
        rest = [block[k + 1:]] + after
        if isinstance(s, ast.For):
            if loop is not None and not getattr(loop, "segments", False) and turnable(s, rest, facts):
                s.iter = _forward(s.iter)
            _visit(s.body, [s.body] + rest, s, facts)
        elif isinstance(s, ast.While):
            _visit(s.body, [s.body] + rest, s, facts)
        elif isinstance(s, ast.If):
            _visit(s.body, rest, loop, facts)
            _visit(s.orelse, rest, loop, facts)


def _forward(it):
    """range(b + 1, a + 1) for range(a, b, -1)."""
    a, b, _ = it.args
    return ast.Call(ast.Name("range", ast.Load()), [_plus_one(b), _plus_one(a)], [])


def _plus_one(e):
    if isinstance(e, ast.Constant) and type(e.value) is int:
        return ast.Constant(e.value + 1)
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Sub) and isinstance(e.right, ast.Constant) \
            and e.right.value == 1 and type(e.right.value) is int:
        return clone(e.left)
    return ast.BinOp(clone(e), ast.Add(), ast.Constant(1))


def turnable(loop, after, facts):
    """Whether the reverse loop `for i in range(a, b, -1)` may run forward (see the module docstring)."""
    it = loop.iter
    if not (isinstance(loop.target, ast.Name) and isinstance(it, ast.Call) and dotted(it.func) == "range"
            and len(it.args) == 3 and not it.keywords and _minus_one(it.args[2])) or loop.orelse:
        return False
    last = it.args[1]  # (the index runs down to last + 1: never negative, which would index from the end)
    if not (isinstance(last, ast.Constant) and type(last.value) is int and last.value >= -1 or _minus_one(last)):
        return False
    i, body = loop.target.id, loop.body
    for n in ast.walk(ast.Module(body, [])):
        if isinstance(n, (ast.Break, ast.Continue, ast.Return)) or draws(n):
            return False
        if isinstance(n, ast.Name) and n.id in facts.tapes:
            return False
        if isinstance(n, ast.Call) and (_is_tape_call(n) or (
                isinstance(n.func, ast.Name) and n.func.id in IN_PLACE_CALLS - _ADDS)):
            return False
    written = _assigned(body)
    if i in written:
        return False
    rebound = stores(body)
    into = _written_into(body)
    exposed = _exposed(body, {i})
    live = set().union(*(_exposed(b, set()) for b in after)) if after else set()
    for v in written:
        if v in into:
            if v in rebound or not facts.shares_nothing(v, body):
                return False
            if not (_only_accumulated(v, body) or _own_elements(v, i, body, facts.kinds)):
                return False
        elif v in exposed:
            if not _only_accumulated(v, body):
                return False
        elif v in live:
            return False
    return True


def _minus_one(e):
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        return isinstance(e.operand, ast.Constant) and type(e.operand.value) is int and e.operand.value == 1
    return isinstance(e, ast.Constant) and type(e.value) is int and e.value == -1


def _written_into(body):
    """The names of the arrays body writes elements of."""
    out = set()
    for n in ast.walk(ast.Module(body, [])):
        target = None
        if isinstance(n, (ast.Assign, ast.AugAssign)):
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                if isinstance(t, ast.Subscript):
                    target = t.value
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in IN_PLACE_CALLS and n.args:
            target = n.args[0].value if isinstance(n.args[0], ast.Subscript) else n.args[0]
        if target is not None:
            out |= {m.id for m in ast.walk(target) if isinstance(m, ast.Name)}
    return out


def _own_elements(v, i, body, kinds):
    """Whether every use of the array v in body is `v[...]` with the bare name i at one position of the index,
    each position before it one axis (a number, or a slice: not `...`, None or an array)."""
    uses = [n for n in ast.walk(ast.Module(body, [])) if isinstance(n, ast.Name) and n.id == v]
    subs = [n for n in ast.walk(ast.Module(body, [])) if isinstance(n, ast.Subscript)
            and isinstance(n.value, ast.Name) and n.value.id == v]
    if len(uses) != len(subs):
        return False
    places = set()
    for s in subs:
        parts = s.slice.elts if isinstance(s.slice, ast.Tuple) else [s.slice]
        at = {k for k, p in enumerate(parts) if isinstance(p, ast.Name) and p.id == i}
        if not at or not all(_one_axis(p, kinds) for p in parts[:min(at)]):
            return False
        places.add(min(at))
    return len(places) == 1


def _one_axis(e, kinds):
    """Whether the index part e takes exactly one axis: a slice, or an integer expression of numbers."""
    if isinstance(e, ast.Slice):
        return True
    if isinstance(e, ast.Constant):
        return type(e.value) is int
    if isinstance(e, ast.Name):
        return kinds.get(e.id) == 0
    if isinstance(e, ast.BinOp):
        return _one_axis(e.left, kinds) and _one_axis(e.right, kinds)
    if isinstance(e, ast.UnaryOp):
        return _one_axis(e.operand, kinds)
    return False


def _memory_classes(fdef, kinds):
    """name -> the names that may share its memory, in fdef: joined by an assignment that does not surely
    make a new array (`t = v`, `t = v[1:]`, `t = summed_to(g, s)`), a loop over an array, or an unpacking;
    the parameters all share one (a caller may pass one array twice)."""
    parent = {}

    def find(v):
        while parent.get(v, v) != v:
            v = parent[v]
        return v

    def join(names):
        roots = sorted({find(v) for v in names})
        for r in roots[1:]:
            parent[r] = roots[0]

    variables = {a.arg for a in fdef.args.args} | stores(fdef)
    join([a.arg for a in fdef.args.args])
    for n in ast.walk(fdef):
        if isinstance(n, ast.Assign) and not (len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
                                              and _fresh(n.value)):
            bound = stores(n.targets)  # (`v[i] = e` writes into v: binds nothing)
            if bound:
                join((bound | _arrays([n.value], kinds)) & variables)
        elif isinstance(n, ast.For) and dotted(n.iter.func if isinstance(n.iter, ast.Call) else n.iter) != "range":
            join(_arrays([n.target, n.iter], kinds) & variables)
    out = {}
    for v in parent:
        out.setdefault(find(v), set()).add(v)
    return {v: out[find(v)] for v in parent}


def _arrays(nodes, kinds):
    """The names in nodes that may hold arrays."""
    return {n.id for x in nodes for n in ast.walk(x) if isinstance(n, ast.Name) and kinds.get(n.id) != 0}


def _fresh(value):
    """Whether value is surely a new array (or a number)."""
    if isinstance(value, (ast.BinOp, ast.UnaryOp, ast.Constant)):
        return True
    if isinstance(value, ast.Call):
        f = dotted(value.func)
        return f in _FRESH or (isinstance(value.func, ast.Attribute) and value.func.attr == "copy")
    return False
