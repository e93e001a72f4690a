"""Simplify generated code so it reads as a person would write it, without changing what it computes.

Passes:

- fold: constant arithmetic and identities (`2 - 1` -> `1`, `e * 1` -> `e`, `e ** 1` -> `e`, `--e` -> `e`);
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

`accumulate_in_place`, once the code is final, turns `W_bar = W_bar + e` into `W_bar += e` for an
array adjoint whose buffer no other name can see: one pass over it instead of a new array.
"""

import ast
import copy
import math
import numbers

from ..ir.build import is_comment, is_heading
from ..ir.queries import loads, names_in
from ..rules.helpers import having
from ..transforms.tape import site_name


def simplify(fdef):
    fdef = copy.deepcopy(fdef)
    fdef.body = [Fold().visit(s) for s in fdef.body]
    in_place = {t for s in ast.walk(fdef) for t in _in_place_targets(s)}
    fdef.body = fuse(fdef.body, in_place)
    fdef.body = prune(fdef.body)
    return ast.fix_missing_locations(fdef)


def _num(node):
    return isinstance(node, ast.Constant) and isinstance(node.value, numbers.Number) and not isinstance(node.value, bool)


SUMS_TO_SHAPE = having("sums_to_shape")


def _power_of_two(node):
    """Whether node is a number ±2**k (multiplying by it only moves the exponent)."""
    if not _num(node) or node.value == 0 or isinstance(node.value, complex):
        return False
    mantissa, _ = math.frexp(abs(node.value))
    return mantissa == 0.5


def _is_neg(node):
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)


def _negated_factor(node):
    """node (a product or quotient) with one of its numeric factors negated, or None if it has none
    (`a * 2 * b` -> `a * -2 * b`: the same number as `-(a * 2 * b)`, exactly)."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div))):
        return None
    for field in ("right", "left") if isinstance(node.op, ast.Mult) else ("right",):
        part = getattr(node, field)
        if _num(part):
            return ast.copy_location(ast.BinOp(**{**vars(node), field: ast.Constant(-part.value)}), node)
    inner = _negated_factor(node.left)
    return None if inner is None else ast.copy_location(ast.BinOp(inner, node.op, node.right), node)


def _signbit(value):
    return math.copysign(1.0, value) < 0


class Fold(ast.NodeTransformer):
    """Constant folding and algebraic identities on expressions, each exact: the folded expression
    gives the same number, to the bit (for a product with a power of two, except where it would
    overflow or become subnormal)."""

    def visit_Assign(self, node):
        """An assignment of arithmetic keeps the arithmetic's new array: `y = x * 1` folded to `y = x`
        would make a write into y change x too (the parts are folded)."""
        value = node.value
        folded = self.visit(copy.deepcopy(value))
        if isinstance(value, (ast.BinOp, ast.UnaryOp)) and isinstance(folded, (ast.Name, ast.Subscript, ast.Attribute)):
            node.value = self.generic_visit(value)
        else:
            node.value = folded
        for t in node.targets:
            self.visit(t)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = node.left, node.right, node.op
        if _num(left) and _num(right) and isinstance(op, (ast.Add, ast.Sub, ast.Mult)):
            value = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                     ast.Mult: lambda a, b: a * b}[type(op)](left.value, right.value)
            return ast.copy_location(ast.Constant(value), node)
        if isinstance(op, ast.Mult) and _num(right) and isinstance(left, ast.BinOp) and isinstance(left.op, ast.Mult) \
                and _num(left.right) and (_power_of_two(right) or _power_of_two(left.right)):
            return ast.copy_location(ast.BinOp(left.left, op, ast.Constant(left.right.value * right.value)), node)
        if isinstance(op, (ast.Mult, ast.Div)) and (_is_neg(left) or _is_neg(right) and isinstance(op, ast.Mult)):
            pulled = ast.BinOp(left.operand if _is_neg(left) else left, op, right.operand if _is_neg(right) else right)
            if _is_neg(left) != _is_neg(right):  # (-a) * b -> -(a * b), and into a constant factor if any
                return self.visit_UnaryOp(ast.copy_location(ast.UnaryOp(ast.USub(), pulled), node))
            return ast.copy_location(pulled, node)
        if isinstance(op, ast.Mult) and _num(right) and right.value == 1 and not isinstance(right.value, float):
            return left
        if isinstance(op, ast.Mult) and _num(left) and left.value == 1 and not isinstance(left.value, float):
            return right
        if isinstance(op, ast.Pow) and _num(right) and right.value == 1:
            return left
        if _num(right) and right.value == 0 and isinstance(op, ast.Add if _signbit(right.value) else ast.Sub):
            return left  # a - 0 and a + -0.0 are a, to the sign of a zero; a + 0 is not (-0.0 + 0 is 0.0)
        if isinstance(op, (ast.Add, ast.Sub)) and _is_neg(right):
            flipped = ast.Sub() if isinstance(op, ast.Add) else ast.Add()  # a + -b -> a - b
            return ast.copy_location(ast.BinOp(left, flipped, right.operand), node)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if _is_neg(node) and _is_neg(node.operand):
            return node.operand.operand
        if isinstance(node.op, ast.USub) and _num(node.operand):
            return ast.copy_location(ast.Constant(-node.operand.value), node)
        if isinstance(node.op, ast.USub):
            return _negated_factor(node.operand) or node
        return node

    def visit_Call(self, node):
        """summed_to(-g, shape) -> -summed_to(g, shape): a sum of negated numbers is the negated sum.
        times(g, d) -> g * d where d is finite wherever the values it reads are (see `_finite`), and
        times(g, np.divide(1.0, c)) -> g / c for a number c other than 0."""
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "times" and len(node.args) == 2:
            g, d = node.args
            if _is_divide(d) and _num(d.args[0]) and d.args[0].value == 1 and _num(d.args[1]) and d.args[1].value:
                return self.visit_BinOp(ast.copy_location(ast.BinOp(g, ast.Div(), d.args[1]), node))
            if _finite(d):
                return self.visit_BinOp(ast.copy_location(_times_chain(g, d), node))
        if isinstance(node.func, ast.Name) and node.func.id in SUMS_TO_SHAPE and _is_neg(node.args[0]):
            node.args[0] = node.args[0].operand
            return self.visit_UnaryOp(ast.copy_location(ast.UnaryOp(ast.USub(), node), node))
        return node


def _is_divide(node):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "divide" \
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "np" and len(node.args) == 2


def _finite(d):
    """Whether d is finite wherever the values it reads are: numbers and names combined by + - * and
    powers to whole numbers from 0 up (no division, log or root, which runtime.times guards). The
    names are the primal values the rule reads (where the primal itself computed inf or nan in a branch
    that np.where did not take, times does not help either)."""
    if _num(d) or isinstance(d, ast.Name):
        return True
    if isinstance(d, ast.UnaryOp):
        return isinstance(d.op, (ast.USub, ast.UAdd)) and _finite(d.operand)
    if isinstance(d, ast.BinOp) and isinstance(d.op, (ast.Add, ast.Sub, ast.Mult)):
        return _finite(d.left) and _finite(d.right)
    if isinstance(d, ast.BinOp) and isinstance(d.op, ast.Pow):
        return _finite(d.left) and _num(d.right) and d.right.value >= 0 and float(d.right.value).is_integer()
    return False


def _times_chain(g, d):
    """g * d as the rules wrote it before times: `g * 2 * x` for d = `2 * x`, the same numbers."""
    if isinstance(d, ast.BinOp) and isinstance(d.op, ast.Mult):
        return ast.BinOp(_times_chain(g, d.left), ast.Mult(), d.right)
    return ast.BinOp(g, ast.Mult(), d)


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


def _accumulation(stmt, v):
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
        e = _accumulation(body[j], v)
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
    """Whether evaluating expr changes nothing: no tape is pushed or popped, no helper writes in place."""
    for n in ast.walk(expr):
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
        push = tapes is not None and _push_of(s, tapes) is not None
        if pop is not None:
            tape, v = pop
            tapes[tape] = tapes[tape] or v in live
            live = (live - {v}) | {tape}
        elif push:
            pass  # the forward sweep: nothing after it pops
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
        if tapes is not None and pop is None and not push and not isinstance(s, (ast.If, ast.For, ast.While)):
            for t in loads(s) & tapes.keys():
                tapes[t] = True  # read other than by a pop (a_shapes[-1] in an expression)
        kept.append(s)
    kept.reverse()
    kept = [s for i, s in enumerate(kept) if not (_heading(s) and (  # a heading over nothing (never over a block)
        i + 1 == len(kept) or is_comment(kept[i + 1]) or isinstance(kept[i + 1], (ast.Return, ast.If, ast.For,
                                                                                    ast.While))))]
    return kept, live


def _heading(stmt):
    """A heading (other comments, like the one opening the reverse sweep, stay)."""
    return is_heading(stmt)


_NEW_BUFFER = having("new_buffer")


def accumulate_in_place(fdef, arrays):
    """`v = v + e` -> `v += e` for the array adjoints v (names in `arrays`, not parameters) that are
    only ever bound to a new array or to their own accumulation, and whose every read makes a new
    value, writes into v, or returns it: no other name holds v's buffer, so updating it in place
    changes nothing else."""
    fdef = copy.deepcopy(fdef)
    arrays = set(arrays) - {a.arg for a in fdef.args.args}
    shared = set()
    for node in ast.walk(fdef):
        if isinstance(node, ast.Assign):
            target = node.targets[0]
            bound = {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)} & arrays
            own = isinstance(target, ast.Name) and (
                _new_array(node.value) or _accumulation(node, target.id) is not None)
            if not own:
                shared |= bound
    _shared_reads(fdef, fdef, arrays, shared)
    owned = arrays - shared

    class InPlace(ast.NodeTransformer):
        def visit_Assign(self, node):
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in owned and _accumulation(node, target.id) is not None:
                return ast.copy_location(ast.AugAssign(ast.Name(target.id, ast.Store()), node.value.op,
                                                       node.value.right), node)
            return node

    return ast.fix_missing_locations(InPlace().visit(fdef))


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
