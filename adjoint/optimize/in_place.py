"""`accumulate_in_place`, once the code is final, turns `W_bar = W_bar + e` into `W_bar += e` for an
array adjoint whose buffer no other name can see: one pass over it instead of a new array."""

import ast

from ..ir.build import clone, is_comment
from ..ir.queries import dotted
from ..rules.helpers import having
from .simplify import accumulation

_NEW_BUFFER = having("new_buffer")


def accumulate_in_place(fdef, arrays):
    """`v = v + e` -> `v += e` for the array adjoints v (names in `arrays`, not parameters) that are
    only ever bound to a new array or to their own accumulation, and whose every read makes a new
    value, writes into v, or returns it: no other name holds v's buffer, so updating it in place
    changes nothing else."""
    fdef = clone(fdef)
    arrays = set(arrays) - {a.arg for a in fdef.args.args}
    shared = set()
    for node in ast.walk(fdef):
        if isinstance(node, ast.Assign):
            target = node.targets[0]
            bound = {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)
                     and isinstance(n.ctx, ast.Store)} & arrays  # (`v[i] = 0.0` writes into v: binds nothing)
            own = isinstance(target, ast.Name) and (
                _new_array(node.value) or accumulation(node, target.id) is not None)
            if not own:
                shared |= bound
    _shared_reads(fdef, fdef, arrays, shared)
    owned = arrays - shared

    class InPlace(ast.NodeTransformer):
        def visit_Assign(self, node):
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in owned and accumulation(node, target.id) is not None:
                return ast.copy_location(ast.AugAssign(ast.Name(target.id, ast.Store()), node.value.op,
                                                       node.value.right), node)
            return node

    return ast.fix_missing_locations(InPlace().visit(fdef))


def first_contributions(fdef, kinds):
    """`v = np.zeros(S)` and then (comments between) `v = v + g`, for arrays v and g of one number of
    dimensions, -> `v = plus_zeros(g, S)`: one pass over g instead of three when it has the shape S
    (runtime.plus_zeros), the same bits."""
    fdef = clone(fdef)
    for node in ast.walk(fdef):
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, field, _first_contributions(block, kinds))
    return fdef


def _first_contributions(block, kinds):
    out, k = [], 0
    while k < len(block):
        s = block[k]
        out.append(s)
        k += 1
        if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and isinstance(s.value, ast.Call)
                and dotted(s.value.func) == "np.zeros" and len(s.value.args) == 1 and not s.value.keywords):
            continue
        v = s.targets[0].id
        j = k
        while j < len(block) and is_comment(block[j]):
            j += 1
        g = accumulation(block[j], v) if j < len(block) else None
        if isinstance(g, ast.Name) and (kinds.get(v) or 0) >= 1 and kinds.get(g.id) == kinds.get(v):
            s.value = ast.Call(ast.Name("plus_zeros", ast.Load()), [g, s.value.args[0]], [])
            out.extend(block[k:j])
            k = j + 1
    return out


def _new_array(expr):
    """Whether expr always makes a new array that no name holds yet."""
    if isinstance(expr, (ast.BinOp, ast.UnaryOp)):
        return True
    if not isinstance(expr, ast.Call):
        return False
    if isinstance(expr.func, ast.Name):
        name = expr.func.id
    elif isinstance(expr.func, ast.Attribute) and isinstance(expr.func.value, ast.Name) and expr.func.value.id == "np":
        name = f"np.{expr.func.attr}"
    else:
        return False
    return name in _NEW_BUFFER or (name == "summed_to" and _new_array(expr.args[0]))


def _shared_reads(node, parent, names, out):
    """Adds to `out` the names (of `names`) that a read under node may leave in another name's hands:
    any read but one that makes a new value, writes into the array, or returns it."""
    if isinstance(node, ast.Name):
        if node.id in names and isinstance(node.ctx, ast.Load) and not _consumed(node, parent):
            out.add(node.id)
        return
    if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
        node.value.returned = True
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript):
        node.target.written = True
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
        node.targets[0].written = True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("add_into", "add_at") \
            and isinstance(node.args[0], (ast.Subscript, ast.Name)):
        node.args[0].written = True
    for child in ast.iter_child_nodes(node):
        _shared_reads(child, node, names, out)


def _consumed(name, parent):
    """Whether this read of a name makes a new value from it, adds it into another array, writes
    into it, or returns it."""
    if getattr(name, "written", False) or isinstance(parent, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.Return)):
        return True
    if isinstance(parent, ast.Attribute):
        return parent.attr in ("shape", "size", "ndim")
    if isinstance(parent, (ast.Tuple, ast.Subscript)):
        return getattr(parent, "returned", False) or getattr(parent, "written", False)
    if isinstance(parent, ast.Call):
        adds = isinstance(parent.func, ast.Name) and parent.func.id in ("add_into", "add_at")
        return (adds and name is not parent.args[0]) or (_new_array(parent) and not _is_summed_to(parent))
    return False


def _is_summed_to(call):
    return isinstance(call.func, ast.Name) and call.func.id == "summed_to"
