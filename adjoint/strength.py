"""Strength reduction of the reverse sweep: the same numbers from cheaper operations.

The rules of `/`, `math.sqrt`, `**`, `np.log`, ... divide their cotangent by an operand or by the
result, so an adjoint often divides by one number several times (`-m * m2 / r` gives `g / r` and
`g * out / r`; `r = math.sqrt(s)` then gives `r_bar * 0.5 / r`). A division costs several
multiplications, so where adjoint statements of one block divide two or more times by a number
that does not change between them, they compute `r_inv = 1.0 / r` once and multiply by it.

Only the adjoint's own statements (those that assign a cotangent) change: the primal statements
keep their divisions, so the value the generated function returns is the function's, to the bit.
A product with the reciprocal can differ from the quotient in the last bit, as a hand-written
adjoint's does.
"""

import ast
import copy


def share_divisions(fdef, adjoints, kinds):
    """fdef with the divisions by one number in the adjoint statements of each block replaced by
    products with its reciprocal, computed once. `adjoints` are the cotangent names; `kinds` gives
    0 for the names known to be numbers (arrays are left alone: a reciprocal array costs an
    allocation)."""
    fdef = copy.deepcopy(fdef)
    taken = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name)} | {a.arg for a in fdef.args.args}
    _Sharer(set(adjoints), kinds, taken).block(fdef.body)
    return ast.fix_missing_locations(fdef)


class _Sharer:
    def __init__(self, adjoints, kinds, taken):
        self.adjoints, self.kinds, self.taken = adjoints, kinds, taken

    def block(self, stmts):
        open_ = {}  # divisor -> [(statement, its Div nodes by the divisor)] since the divisor last changed
        out = []
        for s in stmts:
            for child in _blocks(s):
                self.block(child)
            for r, nodes in self.divisions(s).items():
                open_.setdefault(r, []).append((s, nodes))
            out.append(s)
            for r in [r for r in open_ if r in _stored(s)]:
                self.share(r, open_.pop(r), out)
        for r, sites in open_.items():
            self.share(r, sites, out)
        stmts[:] = out

    def divisions(self, s):
        """divisor name -> the Div nodes dividing by it, in an adjoint statement of a number."""
        if not (isinstance(s, (ast.Assign, ast.AugAssign)) and isinstance(target := _target(s), ast.Name)
                and target.id in self.adjoints):
            return {}
        found = {}
        for node in ast.walk(s.value):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Name) \
                    and self.kinds.get(node.right.id) == 0:
                found.setdefault(node.right.id, []).append(node)
        return found

    def share(self, r, sites, out):
        if sum(len(nodes) for _, nodes in sites) < 2:
            return
        inv = self.fresh(f"{r}_inv")
        for _, nodes in sites:
            for node in nodes:
                node.op, node.right = ast.Mult(), ast.Name(inv, ast.Load())
        first = sites[0][0]
        at = next(i for i, s in enumerate(out) if s is first)
        stmt = ast.Assign([ast.Name(inv, ast.Store())], ast.BinOp(ast.Constant(1.0), ast.Div(), ast.Name(r, ast.Load())))
        out.insert(at, ast.copy_location(stmt, first))
        self.kinds[inv] = 0

    def fresh(self, base):
        name, k = base, 1
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        return name


def _target(s):
    return s.targets[0] if isinstance(s, ast.Assign) else s.target


def _blocks(s):
    if isinstance(s, ast.If):
        return [s.body, s.orelse]
    if isinstance(s, (ast.For, ast.While)):
        return [s.body, s.orelse]
    return []


def _stored(s):
    """Names a statement (with what it contains) assigns."""
    return {n.id for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
