"""Running a loop's adjoint inside the loop itself, where the order of its iterations does not matter.

A loop whose iterations only add into a running total (an energy summed over pairs, a loss summed
over data points) has an adjoint whose iterations can run in any order: the adjoint of the total
passes through each iteration unchanged, and the gradients only add up. Its reverse loop can then
run forward, inside the forward loop, each iteration's adjoint right after its primal, reading the
values just computed; what the separate reverse loop computed again is dropped. The loop runs once,
as a hand-written adjoint does:

    for j in range(n):                      for j in range(n):
        d = x[j] - c                            d = x[j] - c
        s = s + d * d              ->           s = s + d * d
    ...                                         d_bar = s_bar * 2.0 * d     (s_bar known before)
    for j in range(n - 1, -1, -1):              x_bar[j] += d_bar
        d = x[j] - c
        d_bar = s_bar * 2.0 * d
        x_bar[j] += d_bar

Fusing is done only when it provably computes the same numbers (see `fusable`): tapes that only
the pair of loops uses stay balanced within each iteration, nothing the adjoint writes is read by
a later forward iteration or by the code after the loop, and the adjoint code that ran between the
two loops (the adjoint of what follows the loop) reads nothing the loop computes, so it can run
before the loop. A value the fused iteration pushes on a tape and pops back itself (a while loop's
trip count) is then read directly, and the tape goes (`without_round_trips`).
"""

import ast

from ..ir.build import clone, is_comment, sweep_start
from ..ir.queries import loads, names_in
from .simplify import IN_PLACE_CALLS, TAPE_METHODS, is_pure


def fuse_loops(fdef):
    """The adjoint fdef with its loop pairs fused where that computes the same numbers."""
    fdef = clone(fdef)
    body = fdef.body
    start = sweep_start(body)
    tapes = {s.targets[0].id for s in body if isinstance(s, ast.Assign) and isinstance(s.value, ast.List)}
    fwd, rev = fuse(body[:start], body[start + 1:-1], tapes)
    fdef.body = fwd + [body[start]] + rev + [body[-1]]
    return fdef


def fuse(fwd, rev, tapes):
    """(forward block, reverse block) with the fusable pairs of loops fused, last first, inner pairs too."""
    a = len(fwd)
    while a > 0:
        a -= 1
        lf = fwd[a]
        mirror = getattr(lf, "mirror", None)
        if not isinstance(lf, ast.For) or mirror is None:
            continue
        b = next((k for k, s in enumerate(rev) if isinstance(s, ast.For) and getattr(s, "mirror", None) == mirror),
                 None)
        if b is None or not fusable(lf, rev[b], fwd[:a], fwd[a + 1:], rev[:b], rev[b + 1:], tapes):
            continue
        inner_f, inner_r = fuse(lf.body, rev[b].body, tapes)
        loop = ast.For(lf.target, lf.iter, without_round_trips(without_recomputation(inner_f + inner_r), tapes), [])
        fwd, rev = fwd[:a] + rev[:b] + [loop] + fwd[a + 1:], rev[b + 1:]
    return fwd, rev


def fusable(lf, lr, f_pre, f_post, r_post, r_pre, all_tapes):
    """Whether the forward loop lf and its reverse lr can run as one loop (see the module docstring).

    f_pre and f_post surround lf in the forward block; r_post (the adjoint of f_post) runs before lr
    and r_pre after it in the reverse block; all_tapes names the function's tape lists."""
    index = lf.target.id
    def touched(stmts):  # the tapes statements push to, take from or read (making a tape's list is not a touch)
        return {n.id for s in stmts if not (isinstance(s, ast.Assign) and isinstance(s.value, ast.List))
                for n in ast.walk(s) if isinstance(n, ast.Name)} & all_tapes

    tapes = touched(lf.body) | touched(lr.body)
    if any(touched(part) & tapes for part in (f_pre, f_post, r_pre)) or touched(r_post):
        return False
    written_r = _assigned(lr.body) - {index} - tapes  # a tape is balanced within each iteration
    exposed_f = _exposed(lf.body, {index})
    if written_r & exposed_f or written_r & loads(f_post):
        return False  # the adjoint would change what a later iteration or the code after the loop reads
    if _assigned(f_post) & loads(lr.body):
        return False
    if loads(r_post) & (_assigned([lf]) | _assigned(f_post)) or _assigned(r_post) & (loads([lf]) | loads(f_post)):
        return False
    assigned_f = _assigned(lf.body)
    for v in _exposed(lr.body, {index}) & written_r:
        if v in assigned_f and v not in exposed_f:
            continue  # a value of the current iteration, restored for the one before: fine in any order
        if not (_passes_through(v, lr.body) or _only_accumulated(v, lr.body)):
            return False
    return True


def without_recomputation(body):
    """body without the assignments that give a name the value it already holds (the fused adjoint
    computes again what the forward part of the same iteration just computed)."""
    held, out = {}, []  # name -> (the value it holds, the names that value reads)
    for s in body:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and is_pure(s.value):
            t = s.targets[0].id
            if t in held and ast.dump(held[t][0]) == ast.dump(s.value):
                continue
            _forget(held, {t}, False)
            if t not in names_in(s.value):
                held[t] = (s.value, names_in(s.value))
        else:
            _forget(held, _assigned([s]), _writes_arrays(s))
        out.append(s)
    return out


def without_round_trips(body, tapes):
    """body without a push of a name onto a tape that a later statement of the same body pops back, the
    tape untouched and the name unchanged between (the fused iteration pops what it just pushed: a while
    loop's trip count, a value the adjoint reads): the pop becomes a copy of the name, or nothing."""
    out = list(body)
    k = 0
    while k < len(out):
        s = out[k]
        pushed = _pushed(s, tapes)
        if pushed is not None:
            tape, name = pushed
            for j in range(k + 1, len(out)):
                popped = _popped(out[j], tape)
                if popped is not None:
                    between = out[k + 1:j]
                    if name in _assigned(between) or any(tape in names_in(t) for t in between):
                        break
                    if popped == name:
                        del out[j]
                    else:
                        out[j] = ast.copy_location(ast.Assign([ast.Name(popped, ast.Store())],
                                                              ast.Name(name, ast.Load())), out[j])
                    del out[k]  # (before j: deleted after it)
                    k -= 1
                    break
                if tape in names_in(out[j]):
                    break
        k += 1
    return out


def _pushed(s, tapes):
    """(tape, name) for `tape.append(name)`, else None."""
    if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute) \
            and s.value.func.attr == "append" and isinstance(s.value.func.value, ast.Name) \
            and s.value.func.value.id in tapes and len(s.value.args) == 1 and isinstance(s.value.args[0], ast.Name):
        return s.value.func.value.id, s.value.args[0].id
    return None


def _popped(s, tape):
    """The name `name = tape.pop()` assigns, else None."""
    if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and isinstance(s.value, ast.Call) \
            and isinstance(s.value.func, ast.Attribute) and s.value.func.attr == "pop" and not s.value.args \
            and isinstance(s.value.func.value, ast.Name) and s.value.func.value.id == tape:
        return s.targets[0].id
    return None


def _forget(held, names, arrays):
    """Drop what a write of `names` (and of array elements, when `arrays`) makes out of date."""
    for t, (value, reads) in list(held.items()):
        if t in names or reads & names or (arrays and any(isinstance(n, ast.Subscript) for n in ast.walk(value))):
            del held[t]


def _writes_arrays(s):
    """Whether s may change an array's elements or a tape (so values read from them may be out of date)."""
    return any(isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store) for n in ast.walk(s)) or not is_pure(s)


def _is_tape_call(node):
    return isinstance(node.func, ast.Attribute) and node.func.attr in TAPE_METHODS


def _assigned(stmts):
    """Names the statements write: assigned names, arrays written into, and what in-place calls change."""
    out = set()
    for s in stmts:
        for n in ast.walk(s):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                out.add(n.id)
            elif isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store):
                out |= names_in(n.value)
            elif isinstance(n, ast.Call) and _is_tape_call(n):
                out |= names_in(n.func.value)
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in IN_PLACE_CALLS:
                out |= names_in(n.args[0])
    return out


def _exposed(stmts, defined):
    """Names read before they are surely assigned, in one run of stmts (reads inside loops and
    branches count; assignments there do not make a name surely assigned after them)."""
    out, defined = set(), set(defined)
    for s in stmts:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            out |= names_in(s.value) - defined
            defined.add(s.targets[0].id)
        elif isinstance(s, ast.For):
            out |= names_in(s.iter) - defined
            out |= _exposed(s.body, defined | names_in(s.target))
        elif isinstance(s, ast.While):
            out |= names_in(s.test) - defined
            out |= _exposed(s.body, defined)
        elif isinstance(s, ast.If):
            out |= names_in(s.test) - defined
            out |= _exposed(s.body, defined) | _exposed(s.orelse, defined)
        elif not is_comment(s):
            out |= {n.id for n in ast.walk(s) if isinstance(n, ast.Name)} - defined
    return out


def _passes_through(v, stmts):
    """Whether every write of v in stmts gives it back the value it had when they started."""
    copies = {v}
    for s in stmts:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            t = s.targets[0].id
            if isinstance(s.value, ast.Name) and s.value.id in copies:
                copies.add(t)
            elif t == v:
                return False
            else:
                copies.discard(t)
        elif isinstance(s, (ast.For, ast.While)):
            if v in _assigned([s]) and not _passes_through(v, s.body):
                return False
            copies = (copies - _assigned([s])) | {v}
        elif isinstance(s, ast.If):
            if v in _assigned([s]) and not (_passes_through(v, s.body) and _passes_through(v, s.orelse)):
                return False
            copies = (copies - _assigned([s])) | {v}
        elif v in _assigned([s]):
            return False
    return True


def _only_accumulated(v, stmts):
    """Whether v is only ever added into (v = v + e, v += e, v[i] += e, add_into(v[...], e), add_at(v, i, e)),
    with nothing else reading it."""
    for s in stmts:
        for n in ast.walk(s):
            if isinstance(n, (ast.For, ast.While, ast.If)) or not isinstance(n, ast.stmt):
                continue
            if v not in names_in(n):
                continue
            if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id == v:
                value = n.value
                if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add) and isinstance(
                        value.left, ast.Name) and value.left.id == v and v not in names_in(value.right)):
                    return False
            elif isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and isinstance(n.target, ast.Name):
                if n.target.id != v or v in names_in(n.value):
                    return False
            elif isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and isinstance(n.target, ast.Subscript):
                if names_in(n.target.value) != {v} or v in names_in(n.target.slice) | names_in(n.value):
                    return False
            elif isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Name) \
                    and n.value.func.id in ("add_into", "add_at"):
                first, rest = n.value.args[0], n.value.args[1:]
                base = first.value if isinstance(first, ast.Subscript) else first
                if not (isinstance(base, ast.Name) and base.id == v) or v in set().union(*map(names_in, rest)) or (
                        isinstance(first, ast.Subscript) and v in names_in(first.slice)):
                    return False
            else:
                return False
    return True
