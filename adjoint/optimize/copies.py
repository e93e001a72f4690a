"""Copies a person would not write, taken out of the final code without changing what it computes:

- a copy back, `a = b` then `b = a` with neither bound again between: the second does nothing;
- a copy `a = b` of a name bound once, all of whose reads follow it in its block while `b` keeps
  its value: the reads read `b` (`a` and `b` are one object, so writes into its elements are
  seen alike);
- a pop from a tape at the end of the function that nothing reads after;
- then a branch or loop left with nothing to do.

    add_bar = s_bar             ->    x_i_bar = s_bar * 2.0 * x_i
    s_bar = add_bar
    mul_bar = add_bar
    x_i_bar = mul_bar * 2.0 * x_i
"""

import ast

from ..ir.build import clone
from ..ir.queries import loads, stores


def without_copies(fdef):
    fdef = clone(fdef)
    params = {a.arg for a in fdef.args.args}
    bound, reads = _counts(fdef.body, ast.Store), _counts(fdef.body, ast.Load)
    while _visit(fdef.body, params, bound, reads):
        pass
    fdef.body = _without_empty_blocks(_without_final_pops(fdef.body), loads(fdef.body))
    return fdef


def _without_empty_blocks(stmts, read):
    """stmts with the blocks that taking copies out emptied: an `if` with nothing in either branch
    goes (its test is a name), and so does a `for` with nothing in its body whose target nothing
    reads; another empty block gets `pass`."""
    out = []
    for s in stmts:
        for field in ("body", "orelse"):
            block = getattr(s, field, None)
            if isinstance(block, list) and block:
                setattr(s, field, _without_empty_blocks(block, read))
        if isinstance(s, ast.If) and not s.body and not s.orelse and isinstance(s.test, ast.Name):
            continue
        if isinstance(s, ast.For) and not s.body and isinstance(s.target, ast.Name) and s.target.id not in read:
            continue
        if isinstance(s, (ast.If, ast.For, ast.While)) and not s.body:
            s.body = [ast.Pass()]
        out.append(s)
    return out


def _visit(stmts, params, bound, reads):
    """Take the copies out of stmts and the blocks they nest, keeping `bound` and `reads` (counts
    over the whole function) up to date; whether anything changed."""
    changed, i = False, 0
    while i < len(stmts):
        s = stmts[i]
        if _is_copy(s):
            a, b = s.targets[0].id, s.value.id
            k = _copy_back(stmts, i, a, b)
            if k is not None:  # `b = a` goes: b is bound once less, a read once less
                del stmts[k]
                bound[b] -= 1
                reads[a] -= 1
                changed = True
                continue
            if a not in params and bound.get(a) == 1 and _propagate(stmts, i, a, b, reads):
                reads[b] += reads.pop(a, 0) - 1  # (a's reads read b now; the copy read b once)
                bound[a] = 0
                changed = True
                continue
        for field in ("body", "orelse"):
            block = getattr(s, field, None)
            if isinstance(block, list):
                changed = _visit(block, params, bound, reads) or changed
        i += 1
    return changed


def _is_copy(stmt):
    return isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
        and isinstance(stmt.value, ast.Name) and stmt.targets[0].id != stmt.value.id


def _copy_back(stmts, i, a, b):
    """The index of `b = a` after stmts[i] (`a = b`) with neither bound between, else None."""
    for k in range(i + 1, len(stmts)):
        s = stmts[k]
        if _is_copy(s) and s.targets[0].id == b and s.value.id == a:
            return k
        if {a, b} & stores(s):
            return None
    return None


def _propagate(stmts, i, a, b, reads):
    """Read b for a after stmts[i] (`a = b`) and drop stmts[i], when every read of a is in the
    statements after it in this block and b is bound again only by the last of them, if at all."""
    rest = stmts[i + 1:]
    counts = [sum(isinstance(n, ast.Name) and n.id == a and isinstance(n.ctx, ast.Load) for n in ast.walk(s))
              for s in rest]
    if sum(counts) != reads.get(a, 0):
        return False  # (a is read elsewhere: another block, or before this copy in a loop)
    uses = [k for k, c in enumerate(counts) if c]
    if uses:
        last = rest[uses[-1]]
        if any(b in stores(s) for s in rest[:uses[-1]]):
            return False
        first = _read_first(last, a)
        if b in stores(last) and first is None:
            return False  # (a statement that may bind b before it reads a)
        for s in rest[:uses[-1]]:
            _rename(s, a, b)
        for node in first if b in stores(last) else [last]:
            _rename(node, a, b)
    del stmts[i]
    return True


def _read_first(stmt, a):
    """The parts of stmt that read a, when they run before anything in it binds a name: the value of
    a plain assignment, the test of an `if`, the iterable of a `for`; else None."""
    if isinstance(stmt, ast.Assign) and a not in loads(stmt.targets):
        return [stmt.value]
    if isinstance(stmt, ast.If) and a not in loads(stmt.body + stmt.orelse):
        return [stmt.test]
    if isinstance(stmt, ast.For) and a not in loads(stmt.body + stmt.orelse) | loads(stmt.target):
        return [stmt.iter]
    return None


def _rename(node, old, new):
    """Make every read of `old` in node read `new`, in place."""
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and n.id == old and isinstance(n.ctx, ast.Load):
            n.id = new


def _counts(stmts, ctx):
    """name -> how many times stmts bind it (ctx ast.Store, a loop's target included) or read it (ast.Load)."""
    out = {}
    for node in ast.walk(ast.Module(list(stmts), [])):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ctx):
            out[node.id] = out.get(node.id, 0) + 1
    return out


def _without_final_pops(body):
    """body without `t.pop()` statements at its top level that no later statement reads t after."""
    out = list(body)
    for k in range(len(out) - 1, -1, -1):
        s = out[k]
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute) \
                and s.value.func.attr == "pop" and not s.value.args and isinstance(s.value.func.value, ast.Name) \
                and s.value.func.value.id not in loads(out[k + 1:]):
            del out[k]
    return out
