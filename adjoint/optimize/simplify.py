"""Simplify generated code so it reads as a person would write it, without changing what it computes.

Passes:

- fold (fold.py): constant arithmetic and identities (`2 - 1` -> `1`, `e * 1` -> `e`, `--e` -> `e`);
- fuse, in each block: `v_bar = zeros_like(v)` followed, with no read of v_bar between, by
  `v_bar = v_bar + e` becomes `v_bar = e` (not for an adjoint that is ever written in place,
  `v_bar[i] += ...`, which needs a buffer of its own); an init that is read first moves down to
  just before that read;
- prune: assignments whose value nothing reads afterwards are dropped, by a liveness analysis that
  follows branches and loops (a loop's body also feeds its own next iteration), and so are loops and
  branches left with nothing to do. Taking from or adding to a tape is not dropped on its own; a
  tape none of whose values the reverse sweep reads goes as a whole (its list, pushes and pops).

    x_bar = zeros_like(x)             ->    x_bar = out_bar * 2 * x
    x_bar = x_bar + out_bar * 2 * x ** (2 - 1)

(`accumulate_in_place`, in in_place.py, runs once the code is final.)
"""

import ast
import copy

from ..ir.build import clone, is_comment, is_heading
from ..ir.queries import loads, names_in
from ..rules.helpers import draws, having
from ..transforms.tape import site_name
from .fold import Fold


def simplify(fdef):
    fdef = clone(fdef)
    fdef.body = [Fold().visit(s) for s in fdef.body]
    in_place = {t for s in ast.walk(fdef) for t in _in_place_targets(s)}
    fdef.body = fuse(fdef.body, in_place)
    fdef.body = prune(fdef.body)
    return ast.fix_missing_locations(fdef)
def _touched(stmt):
    """Names stmt reads, assigns, or writes into in place (v[i] += e, add_at(v, i, e), add_into(v[i:], e))."""
    if isinstance(stmt, ast.Assign):
        nodes = [stmt.value] + [t for t in stmt.targets if not isinstance(t, ast.Name)]
        assigned = {n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    else:  # (a loop or branch that assigns v touches it too: an init must not move past it)
        nodes = [stmt]
        assigned = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} \
        | assigned | _in_place_targets(stmt)


def _assigns(stmt, v):
    return isinstance(stmt, ast.Assign) and any(
        isinstance(n, ast.Name) and n.id == v for t in stmt.targets for n in ast.walk(t))


def _is_zero_init(stmt):
    return isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
        and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name) \
        and stmt.value.func.id == "zeros_like"


def accumulation(stmt, v):
    """e, when stmt is `v = v + e` (or -e, for `v = v - e`) and e does not read v."""
    if not (isinstance(stmt, ast.Assign) and _assigns(stmt, v) and isinstance(stmt.value, ast.BinOp)
            and isinstance(stmt.value.op, (ast.Add, ast.Sub)) and isinstance(stmt.value.left, ast.Name)
            and stmt.value.left.id == v):
        return None
    e = stmt.value.right
    if any(isinstance(n, ast.Name) and n.id == v for n in ast.walk(e)):
        return None
    return e if isinstance(stmt.value.op, ast.Add) else ast.UnaryOp(ast.USub(), e)


def _in_place_targets(stmt):
    """Names whose buffer stmt writes in place."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Subscript) and \
            isinstance(stmt.target.value, ast.Name):
        return {stmt.target.value.id}
    if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Subscript) and \
            isinstance(stmt.targets[0].value, ast.Name):
        return {stmt.targets[0].value.id}
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name) \
            and stmt.value.func.id in ("add_at", "add_into"):
        first = stmt.value.args[0]
        first = first.value if isinstance(first, ast.Subscript) else first
        return {first.id} if isinstance(first, ast.Name) else set()
    return set()
_FRESH_HELPERS = having("fresh")


def _fresh(expr):
    """Whether expr always makes a new array (so a name bound to it may be written in place)."""
    if isinstance(expr, (ast.BinOp, ast.UnaryOp)):
        return True
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in _FRESH_HELPERS


def fuse(body, in_place):
    body = list(body)
    for stmt in body:
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list) and not isinstance(stmt, ast.FunctionDef):
                setattr(stmt, field, fuse(getattr(stmt, field), in_place))
    touched = {}  # id of a statement -> (the statement, the names it touches)

    def touches(stmt, v):
        if id(stmt) not in touched:
            touched[id(stmt)] = stmt, _touched(stmt)
        return v in touched[id(stmt)][1]

    i = 0
    while i < len(body):
        stmt = body[i]
        if not _is_zero_init(stmt):
            i += 1
            continue
        v = stmt.targets[0].id
        j = next((j for j in range(i + 1, len(body)) if touches(body[j], v)), None)
        if j is None:
            i += 1
            continue
        e = accumulation(body[j], v)
        if e is not None and (v not in in_place or _fresh(e)):
            fused = ast.Assign([ast.Name(v, ast.Store())], e)
            fused.lineno = body[j].lineno
            body[j] = fused
            del body[i]
            continue
        if j > i + 1:  # move the init down to its first use, after any comment heading that use
            k = j
            while k - 1 > i and (is_comment(body[k - 1]) or _is_zero_init(body[k - 1])):
                k -= 1
            if k - 1 > i:
                body.insert(k - 1, body.pop(i))
                continue
        i += 1
    return body
TAPE_METHODS = {"append", "pop"}  # on a tape list
IN_PLACE_CALLS = having("in_place")


def is_pure(expr):
    """Whether evaluating expr changes nothing: no tape is pushed or popped, no helper writes in place, no
    random number is drawn."""
    for n in ast.walk(expr):
        if draws(n):
            return False
        if isinstance(n, ast.Call):
            if isinstance(n.func, ast.Attribute) and n.func.attr in TAPE_METHODS:
                return False
            if isinstance(n.func, ast.Name) and n.func.id in IN_PLACE_CALLS:
                return False
    return True


def _only_pass(stmts):
    return all(isinstance(s, ast.Pass) or is_comment(s) for s in stmts)


def prune(body):
    """Dead-code elimination by liveness over structured code, repeated until nothing changes."""
    while True:
        before = ast.dump(ast.Module(body, []))
        body, _ = _dce(body, set(), set())
        body = drop_unread_tapes(body)
        if ast.dump(ast.Module(body, [])) == before:
            return body


def drop_unread_tapes(body):
    """body without the tapes whose values the reverse sweep never reads: after each pop of such a
    tape, nothing reads the name it assigns (reading it to restore it does not count)."""
    tapes = {s.targets[0].id for s in body if isinstance(s, ast.Assign) and isinstance(s.value, ast.List)
             and isinstance(s.targets[0], ast.Name)}
    read = dict.fromkeys(tapes, False)
    _dce(body, set(), set(), read)
    dead = {t for t, r in read.items() if not r}
    return _without_tapes(body, dead) if dead else body


def _pop_of(stmt, tapes):
    """(tape, name assigned or None) for `t.pop()`, `v = t.pop()`, `v = t[-1]`, `v = restore(t, v)`,
    `pop_shape(t)`."""
    value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
    target = stmt.targets[0].id if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name) else None
    if isinstance(stmt, ast.Assign) and target is None:
        return None
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "pop" \
            and isinstance(value.func.value, ast.Name) and value.func.value.id in tapes and not value.args:
        return value.func.value.id, target
    if isinstance(stmt, ast.Expr) and _helper_on_tape(value, "pop_shape", tapes):
        return value.args[0].id, None
    if target is not None and isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) \
            and value.value.id in tapes:
        return value.value.id, target
    if target is not None and isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
            and value.func.id == "restore" and isinstance(value.args[0], ast.Name) and value.args[0].id in tapes:
        return value.args[0].id, target
    return None


def _helper_on_tape(value, helper, tapes):
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == helper \
        and isinstance(value.args[0], ast.Name) and value.args[0].id in tapes


def _push_of(stmt, tapes):
    """The tape of `t.append(e)` or `push_shape(t, e)`, else None."""
    if isinstance(stmt, ast.Expr) and _helper_on_tape(stmt.value, "push_shape", tapes):
        return stmt.value.args[0].id
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute) \
            and stmt.value.func.attr == "append" and isinstance(stmt.value.func.value, ast.Name) \
            and stmt.value.func.value.id in tapes:
        return stmt.value.func.value.id
    return None


def _without_tapes(stmts, dead):
    out = []
    for s in stmts:
        for field in ("body", "orelse"):
            if isinstance(getattr(s, field, None), list):
                setattr(s, field, _without_tapes(getattr(s, field), dead))
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and s.targets[0].id in dead:
            continue  # the tape's list
        if (_pop_of(s, dead) or (None,))[0] in dead:
            continue
        if _push_of(s, dead) is not None:
            continue
        if isinstance(s, (ast.For, ast.While, ast.If)) and not s.body:
            s.body = [ast.Pass()]
        out.append(s)
    return out


def _dce(stmts, live_out, loop_live, tapes=None):
    """(stmts without dead code, the names live before them). With `tapes` (tape -> read), the
    analysis instead marks the tapes whose popped values are read, and drops no pop."""
    live = set(live_out)
    kept = []
    for s in reversed(stmts):
        pop = _pop_of(s, tapes) if tapes is not None else None
        push = _push_of(s, tapes) if tapes is not None else None
        if pop is not None:
            tape, v = pop
            tapes[tape] = tapes[tape] or v in live
            live = (live - {v}) | {tape}
        elif push is not None:
            # what a read tape keeps is read (a segment run again, reverse.checkpointed); the pops that read
            # it come after the push, so this walk backwards has met them already (or, in a loop, its rerun has)
            if tapes[push]:
                live |= names_in(s)
        elif isinstance(s, ast.Assign) and all(isinstance(t, (ast.Name, ast.Tuple)) for t in s.targets):
            defs = set().union(*(names_in(t) for t in s.targets))
            if not defs & live and is_pure(s.value):
                continue
            live = (live - defs) | names_in(s.value)
        elif isinstance(s, ast.If):
            body, lb = _dce(s.body, live, loop_live, tapes)
            orelse, lo = _dce(s.orelse, live, loop_live, tapes)
            if _only_pass(body) and _only_pass(orelse):
                continue
            s = copy.copy(s)  # the statements given are left as they are
            s.body, s.orelse = body or [ast.Pass()], [] if _only_pass(orelse) else orelse
            live = lb | lo | names_in(s.test)
        elif isinstance(s, (ast.For, ast.While)):
            head = names_in(s.iter) if isinstance(s, ast.For) else names_in(s.test)
            inner = live | head
            while True:
                body, lb = _dce(s.body, inner, inner, tapes)
                if lb <= inner:
                    break
                inner |= lb
            if _only_pass(body) and isinstance(s, ast.For) and not names_in(s.target) & live:
                continue  # (a loop that does nothing but set its index, read after it, stays)
            s = copy.copy(s)
            s.body = body or [ast.Pass()]
            live = inner
        elif isinstance(s, ast.Break):
            live = live | loop_live
        elif is_comment(s):
            pass
        elif site_name(s) is not None:  # a tape site (see reverse.py): it keeps, or puts back, v's value
            live |= {site_name(s)}
        else:
            live |= names_in(s)
        if tapes is not None and pop is None and push is None and not isinstance(s, (ast.If, ast.For, ast.While)):
            for t in loads(s) & tapes.keys():
                tapes[t] = True  # read other than by a pop (a_shapes[-1] in an expression)
        kept.append(s)
    kept.reverse()
    kept = [s for i, s in enumerate(kept) if not (is_heading(s) and (  # a heading over nothing (never over a block)
        i + 1 == len(kept) or is_comment(kept[i + 1]) or isinstance(kept[i + 1], (ast.Return, ast.If, ast.For,
                                                                                    ast.While))))]
    return kept, live
