"""Simplify generated code so it reads as a person would write it, without changing what it computes.

Passes, over each straight-line block:

- fold: constant arithmetic and identities (`2 - 1` -> `1`, `e * 1` -> `e`, `e ** 1` -> `e`, `--e` -> `e`);
- fuse: `v_bar = zeros_like(v)` followed, with no read of v_bar between, by `v_bar = v_bar + e`
  becomes `v_bar = e` (kept as it is where v_bar is later written in place, `v_bar[i] += ...`, which
  needs a buffer of its own); an init that is read first moves down to just before that read;
- prune: assignments to names that nothing reads afterwards are dropped (the primal statements
  are already only those the result needs).

    x_bar = zeros_like(x)             ->    x_bar = out_bar * 2 * x
    x_bar = x_bar + out_bar * 2 * x ** (2 - 1)
"""

import ast
import copy
import numbers

from .emit import is_comment


def simplify(fdef):
    fdef = copy.deepcopy(fdef)
    fdef.body = [Fold().visit(s) for s in fdef.body]
    fdef.body = prune(fuse(fdef.body))
    return ast.fix_missing_locations(fdef)


def _num(node):
    return isinstance(node, ast.Constant) and isinstance(node.value, numbers.Number) and not isinstance(node.value, bool)


class Fold(ast.NodeTransformer):
    """Constant folding and algebraic identities on expressions."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = node.left, node.right, node.op
        if _num(left) and _num(right) and isinstance(op, (ast.Add, ast.Sub, ast.Mult)):
            value = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                     ast.Mult: lambda a, b: a * b}[type(op)](left.value, right.value)
            return ast.copy_location(ast.Constant(value), node)
        if isinstance(op, ast.Mult) and _num(right) and right.value == 1 and not isinstance(right.value, float):
            return left
        if isinstance(op, ast.Mult) and _num(left) and left.value == 1 and not isinstance(left.value, float):
            return right
        if isinstance(op, ast.Pow) and _num(right) and right.value == 1:
            return left
        if isinstance(op, (ast.Add, ast.Sub)) and _num(right) and right.value == 0:
            return left
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.UnaryOp) and isinstance(node.operand.op, ast.USub):
            return node.operand.operand
        if isinstance(node.op, ast.USub) and _num(node.operand):
            return ast.copy_location(ast.Constant(-node.operand.value), node)
        return node


def _reads(stmt, v):
    if isinstance(stmt, ast.Assign):
        nodes = [stmt.value] + [t for t in stmt.targets if not isinstance(t, ast.Name)]
    else:
        nodes = [stmt]
    return any(isinstance(n, ast.Name) and n.id == v and isinstance(n.ctx, ast.Load)
               for node in nodes for n in ast.walk(node)) or _writes_into(stmt, v)


def _writes_into(stmt, v):
    """Whether stmt writes into the buffer of v in place (v[i] += e, add_at(v, i, e))."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Subscript):
        return isinstance(stmt.target.value, ast.Name) and stmt.target.value.id == v
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "add_at" and \
        isinstance(call.args[0], ast.Name) and call.args[0].id == v


def _assigns(stmt, v):
    return isinstance(stmt, ast.Assign) and any(
        isinstance(n, ast.Name) and n.id == v for t in stmt.targets for n in ast.walk(t))


def _is_zero_init(stmt):
    return isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
        and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name) \
        and stmt.value.func.id == "zeros_like"


def _accumulation(stmt, v):
    """e, when stmt is `v = v + e` and e does not read v."""
    if isinstance(stmt, ast.Assign) and _assigns(stmt, v) and isinstance(stmt.value, ast.BinOp) \
            and isinstance(stmt.value.op, ast.Add) and isinstance(stmt.value.left, ast.Name) \
            and stmt.value.left.id == v and not any(isinstance(n, ast.Name) and n.id == v
                                                   for n in ast.walk(stmt.value.right)):
        return stmt.value.right
    return None


def fuse(body):
    body = list(body)
    i = 0
    while i < len(body):
        stmt = body[i]
        if not _is_zero_init(stmt):
            i += 1
            continue
        v = stmt.targets[0].id
        j = next((j for j in range(i + 1, len(body)) if _reads(body[j], v) or _assigns(body[j], v)), None)
        if j is None:
            del body[i]
            continue
        e = _accumulation(body[j], v)
        in_place_later = any(_writes_into(s, v) for s in body[j:])
        if e is not None and not in_place_later:
            fused = ast.Assign([ast.Name(v, ast.Store())], e)
            fused.lineno = body[j].lineno
            body[j] = fused
            del body[i]
            continue
        if j > i + 1:  # move the init down to its first use, after any comment heading that use
            k = j
            while k - 1 > i and is_comment(body[k - 1]):
                k -= 1
            body.insert(k - 1, body.pop(i))
            continue
        i += 1
    return body


def prune(body):
    """Drop assignments to names that no later statement reads."""
    changed = True
    while changed:
        changed = False
        for i in range(len(body) - 1, -1, -1):
            stmt = body[i]
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
                continue
            v = stmt.targets[0].id
            if not any(_reads(s, v) for s in body[i + 1:]):
                del body[i]
                changed = True
    return body
