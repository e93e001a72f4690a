"""Strength reduction of the reverse sweep: the same numbers from cheaper operations.

The rules of `/`, `math.sqrt`, `**`, `np.log`, ... divide their cotangent by an operand or by the
result, so an adjoint often divides by one number several times (`-m * m2 / r` gives `g / r` and
`g * out / r`; `r = math.sqrt(s)` then gives `r_bar * 0.5 / r`). A division costs several
multiplications, so where adjoint statements of one block divide two or more times by a number
that does not change between them, they compute `r_inv = 1.0 / r` once and multiply by it.

A cotangent that one statement computes and only the next one reads is computed inside that one
(`substitute_single_uses`), so that signs and powers of two fold into the constants: a vectorised
adjoint makes fewer passes over its arrays.

Only the adjoint's own statements (those that assign a cotangent) change: the primal statements
keep their divisions, so the value the generated function returns is the function's, to the bit.
A product with the reciprocal can differ from the quotient in the last bit, as a hand-written
adjoint's does; and where the divisor is subnormal (below about 5.6e-309), its reciprocal
overflows to inf, so a cotangent that `g / r` would keep finite becomes infinite.
"""

import ast

from ..ir.build import clone
from ..ir.naming import Namer
from ..ir.queries import names_in, stores
from .fold import SUMS_TO_SHAPE


def share_divisions(fdef, adjoints, kinds):
    """fdef with the divisions by one number in the adjoint statements of each block replaced by
    products with its reciprocal, computed once. `adjoints` are the cotangent names; `kinds` gives
    0 for the names known to be numbers (arrays are left alone: a reciprocal array costs an
    allocation)."""
    fdef = clone(fdef)
    _Sharer(set(adjoints), kinds, _namer(fdef)).block(fdef.body)
    return ast.fix_missing_locations(fdef)


def _namer(fdef):
    """A Namer that knows every name fdef uses."""
    return Namer({n.id for n in ast.walk(fdef) if isinstance(n, ast.Name)} | {a.arg for a in fdef.args.args})


class _Sharer:
    def __init__(self, adjoints, kinds, namer):
        self.adjoints, self.kinds, self.namer = adjoints, kinds, namer

    def block(self, stmts):
        open_ = {}  # divisor -> [(statement, its Div nodes by the divisor)] since the divisor last changed
        out = []
        for s in stmts:
            for child in _blocks(s):
                self.block(child)
            for r, nodes in self.divisions(s).items():
                open_.setdefault(r, []).append((s, nodes))
            out.append(s)
            for r in [r for r in open_ if r in stores([s])]:
                self.share(r, open_.pop(r), out)
        for r, sites in open_.items():
            self.share(r, sites, out)
        stmts[:] = out

    def divisions(self, s):
        """divisor name -> the divisions by it in an adjoint statement of a number: Div nodes, and
        np.divide calls (which give inf at 0 where `/` raises ZeroDivisionError), with their parents."""
        if not (isinstance(s, (ast.Assign, ast.AugAssign)) and isinstance(target := _target(s), ast.Name)
                and target.id in self.adjoints):
            return {}
        found = {}
        for parent in ast.walk(s):
            for field, node in ast.iter_fields(parent):
                for k, child in enumerate(node) if isinstance(node, list) else [(None, node)]:
                    r = _divisor(child)
                    if r is not None and self.kinds.get(r) == 0:
                        found.setdefault(r, []).append((parent, field, k, child))
        return found

    def share(self, r, sites, out):
        if sum(len(nodes) for _, nodes in sites) < 2:
            return
        inv = self.namer.fresh(f"{r}_inv")
        calls = False
        for _, nodes in sites:
            for parent, field, k, node in nodes:
                calls = calls or isinstance(node, ast.Call)
                left = node.args[0] if isinstance(node, ast.Call) else node.left
                product = ast.Name(inv, ast.Load()) if isinstance(left, ast.Constant) and left.value == 1.0 \
                    and type(left.value) is float else ast.BinOp(left, ast.Mult(), ast.Name(inv, ast.Load()))
                product = ast.copy_location(product, node)
                if k is None:
                    setattr(parent, field, product)
                else:
                    getattr(parent, field)[k] = product
        first = sites[0][0]
        at = next(i for i, s in enumerate(out) if s is first)
        one = [ast.Constant(1.0), ast.Name(r, ast.Load())]
        value = ast.Call(ast.parse("np.divide", mode="eval").body, one, []) if calls else ast.BinOp(one[0], ast.Div(),
                                                                                                    one[1])
        out.insert(at, ast.copy_location(ast.Assign([ast.Name(inv, ast.Store())], value), first))


def substitute_single_uses(fdef, adjoints):
    """fdef with each cotangent that one arithmetic statement computes and only the next statement
    reads, as an operand of its arithmetic, computed inside that statement instead
    (`t_bar = g * 2 * a` then `u_bar = -t_bar` -> `u_bar = -(g * 2 * a)`): the same operations in
    the same order, with fewer names, and, for arrays, an expression that NumPy evaluates into its
    own temporaries and Numba into one loop. simplify's Fold then moves the signs and powers of two
    into the constants (`g * -2 * a`), which saves whole array passes in vectorised adjoints."""
    fdef = clone(fdef)
    loads, stores = {}, {}
    for n in ast.walk(fdef):
        if isinstance(n, ast.Name):
            counts = loads if isinstance(n.ctx, ast.Load) else stores
            counts[n.id] = counts.get(n.id, 0) + 1

    def block(stmts):
        out = []
        for s in stmts:
            for inner in _blocks(s):
                inner[:] = block(inner)
            previous = out[-1] if out else None
            t = _single_use(previous, adjoints, loads, stores)
            if t is not None and _Substitute(t, previous.value).visit(s).done:
                out.pop()
            out.append(s)
        return out

    fdef.body = block(fdef.body)
    return ast.fix_missing_locations(fdef)


def _single_use(s, adjoints, loads, stores):
    """t when s is `t = e`, e arithmetic, for a cotangent t assigned once and read once."""
    if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)):
        return None
    t, e = s.targets[0].id, s.value
    arithmetic = isinstance(e, (ast.BinOp, ast.UnaryOp)) or isinstance(e, ast.Call) and isinstance(
        e.func, ast.Name) and e.func.id in SUMS_TO_SHAPE
    if t in adjoints and arithmetic and stores.get(t) == 1 and loads.get(t) == 1:
        return t
    return None


class _Substitute(ast.NodeTransformer):
    """Replace the read of t, where it is an operand of arithmetic (`t * a`, `-t`, `summed_to(t, s)`,
    `unbroadcast(t, x)`),
    by e; `done` says whether it was there. (Statements that hold blocks are not entered.)"""

    def __init__(self, t, e):
        self.t, self.e, self.done = t, e, False

    def visit(self, node):
        if not isinstance(node, (ast.If, ast.For, ast.While)):
            super().visit(node)
        return self

    def generic_visit(self, node):
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.AST) and self._is_t(value) and self._operand(node, field):
                setattr(node, field, clone(self.e))
                self.done = True
            elif isinstance(value, ast.AST):
                self.generic_visit(value)
            elif isinstance(value, list):
                for k, item in enumerate(value):
                    if self._is_t(item) and self._operand(node, field):
                        value[k] = clone(self.e)
                        self.done = True
                    elif isinstance(item, ast.AST):
                        self.generic_visit(item)
        return node

    def _is_t(self, node):
        return isinstance(node, ast.Name) and node.id == self.t and isinstance(node.ctx, ast.Load)

    @staticmethod
    def _operand(parent, field):
        if isinstance(parent, (ast.BinOp, ast.UnaryOp)):
            return True
        return isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in SUMS_TO_SHAPE \
            and field == "args"


def _divisor(node):
    """r for `e / r` or `np.divide(e, r)` with r a name, else None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Name):
        return node.right.id
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "divide" \
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "np" and len(node.args) == 2 \
            and not node.keywords and isinstance(node.args[1], ast.Name):
        return node.args[1].id
    return None


def _target(s):
    return s.targets[0] if isinstance(s, ast.Assign) else s.target


def _blocks(s):
    return [s.body, s.orelse] if isinstance(s, (ast.If, ast.For, ast.While)) else []


def accumulate_in_scalars(fdef, adjoints, kinds):
    """fdef with each element of an adjoint array that a loop only adds into, at an index the loop
    does not change (`pos_bar[i, 0] += ...` in a loop over j), summed in a number during the loop and
    added into the array once after it (if the sum is not zero: a loop that never ran may leave its
    index undefined or out of range), as a hand-written adjoint does: the loop then keeps the sum in
    a register instead of reading and writing memory on every step.

    The array must occur in the loop only as the target of such additions (nothing in the loop reads
    it), the loop must have no `else` and no `return` (which would skip the addition after it), and
    the element must be a number (as many indices as the array has dimensions). The sum is formed
    in another order, so it can differ in the last bits."""
    fdef = clone(fdef)
    arrays = {a for a in adjoints if (kinds.get(a) or 0) >= 1}
    _Scalars(arrays, kinds, _namer(fdef)).block(fdef.body)
    return ast.fix_missing_locations(fdef)


class _Scalars:
    def __init__(self, arrays, kinds, namer):
        self.arrays, self.kinds, self.namer = arrays, kinds, namer

    def block(self, stmts):
        out = []
        for s in stmts:
            for child in _blocks(s):
                self.block(child)
            if isinstance(s, ast.For):
                before, after = self.hoist(s)
                if getattr(s, "segments", False):  # (a checkpointed loop's segments: one sum for them all)
                    lifted = self.lift(s)
                    before, after = before + [b for b, _ in lifted], [a for _, a in lifted] + after
                out += before + [s] + after
            else:
                out.append(s)
        stmts[:] = out

    def hoist(self, loop):
        if loop.orelse or any(isinstance(n, ast.Return) for n in ast.walk(loop)):
            return [], []
        changed, only_added = stores([loop]), _only_added(loop)
        sums, before, after = {}, [], []
        for s in loop.body:
            if not self.addition(s, changed, only_added):
                continue
            key = ast.unparse(s.target)
            if key not in sums:
                sums[key] = self.namer.fresh(f"{s.target.value.id}_sum")
                before.append(ast.copy_location(_assign(sums[key], ast.Constant(0.0)), loop))
                added = ast.AugAssign(clone(s.target), ast.Add(), ast.Name(sums[key], ast.Load()))
                # only if the loop added something: after no run at all, its index may not exist
                nonzero = ast.Compare(ast.Name(sums[key], ast.Load()), [ast.NotEq()], [ast.Constant(0.0)])
                after.append(ast.copy_location(ast.If(nonzero, [added], []), loop))
            s.target = ast.Name(sums[key], ast.Store())
        return before, after

    def lift(self, loop):
        """(init, addition) of each sum that a loop inside `loop`'s body keeps (`s = 0.0` before it,
        `if s != 0.0: A[index] += s` after it), taken out of `loop` when nothing in it reads A (it may
        add into A's other elements, as the loop that stores everything does), s or the index's names:
        the sum runs across all of `loop`'s iterations, in the order one loop over them all would form
        it (reverse.checkpointed's segments add up as the loop that stores everything does, to the bit)."""
        body, changed = loop.body, stores([loop])
        found = []  # (init, the If, its array)
        for s in body:
            if not (isinstance(s, ast.If) and len(s.body) == 1 and not s.orelse and isinstance(s.test, ast.Compare)
                    and isinstance(s.test.left, ast.Name) and isinstance(s.body[0], ast.AugAssign)
                    and isinstance(s.body[0].value, ast.Name) and isinstance(s.body[0].target, ast.Subscript)
                    and isinstance(s.body[0].target.value, ast.Name)):
                continue
            total, target = s.test.left.id, s.body[0].target
            init = next((b for b in body if isinstance(b, ast.Assign) and isinstance(b.targets[0], ast.Name)
                         and b.targets[0].id == total and isinstance(b.value, ast.Constant)), None)
            rest = ast.Module([b for b in body if b is not init and b is not s], [])
            uses = [n for n in ast.walk(rest) if isinstance(n, ast.Name) and n.id == total]
            adds = [n for n in ast.walk(rest) if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add)
                    and isinstance(n.target, ast.Name) and n.target.id == total]
            if init is not None and not names_in(target.slice) & changed and len(uses) == len(adds):
                found.append((init, s, target.value.id))  # (the sum only added to in the loops inside)
        added = _only_added(loop)  # (the array only added into in `loop`: at other indices too, in the order
        out = [(init, s) for init, s, a in found if a in added]  # one loop over all the iterations adds them)
        for init, s in out:
            body.remove(init)
            body.remove(s)
        return out

    def addition(self, s, changed, only_added):
        """Whether s is `A[index] += e` for an adjoint array A that the loop only adds into, at an
        index of names the loop does not change, naming one number."""
        if not (isinstance(s, ast.AugAssign) and isinstance(s.op, ast.Add) and isinstance(s.target, ast.Subscript)
                and isinstance(s.target.value, ast.Name) and s.target.value.id in self.arrays):
            return False
        a, index = s.target.value.id, s.target.slice
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        if len(parts) != self.kinds[a] or not all(  # (ints: `...` or None among them name no number)
                isinstance(p, ast.Name) and self.kinds.get(p.id) == 0 or isinstance(p, ast.Constant)
                and type(p.value) is int for p in parts) or any(isinstance(p, ast.Name) and p.id in changed
                                                                 for p in parts):
            return False
        return a in only_added


def _only_added(loop):
    """The names that occur in loop only as the array of `a[...] += e`."""
    occurrences, additions = {}, {}
    for n in ast.walk(loop):
        if isinstance(n, ast.Name):
            occurrences[n.id] = occurrences.get(n.id, 0) + 1
        if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and isinstance(n.target, ast.Subscript) \
                and isinstance(n.target.value, ast.Name):
            additions[n.target.value.id] = additions.get(n.target.value.id, 0) + 1
    return {a for a, k in additions.items() if occurrences[a] == k}


def _assign(name, value):
    return ast.Assign([ast.Name(name, ast.Store())], value)

def outer_updates(fdef, kinds):
    """fdef with `A += g[:, None] * b`, for a matrix A and vectors g and b (how the adjoint of
    `W @ h` adds into W's), as `add_outer(A, g, b)`: under Numba a double loop with no temporary
    matrix. (Reverse mode only: forward mode over an adjoint does not know add_outer.)"""

    class Outer(ast.NodeTransformer):
        def visit_AugAssign(self, node):
            v = node.value
            if isinstance(node.op, ast.Add) and isinstance(node.target, ast.Name) and kinds.get(node.target.id) == 2 \
                    and isinstance(v, ast.BinOp) and isinstance(v.op, ast.Mult) and isinstance(v.right, ast.Name) \
                    and kinds.get(v.right.id) == 1 and _column(v.left) is not None and kinds.get(_column(v.left)) == 1:
                call = ast.Call(ast.Name("add_outer", ast.Load()), [ast.Name(node.target.id, ast.Load()),
                                                                     ast.Name(_column(v.left), ast.Load()), v.right], [])
                return ast.copy_location(ast.Expr(call), node)
            return node

    return ast.fix_missing_locations(Outer().visit(clone(fdef)))


def _column(node):
    """g for `g[:, None]` (a vector as a column), else None."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Tuple) \
            and len(node.slice.elts) == 2 and isinstance(node.slice.elts[0], ast.Slice) \
            and node.slice.elts[0].lower is node.slice.elts[0].upper is node.slice.elts[0].step is None \
            and isinstance(node.slice.elts[1], ast.Constant) and node.slice.elts[1].value is None:
        return node.value.id
    return None
