"""Shorten the chain of operations that carries a number's adjoint from one step of a loop to the next.

The reverse sweep of a scalar recurrence (`x = r * x * (1.0 - x)`) updates the adjoint of x through
several operations in each step:

    mul_bar = x_bar * sub
    x_bar = -(x_bar * mul)
    r_bar = r_bar + mul_bar * x
    x_bar = x_bar + mul_bar * r

Each step waits for the last: four dependent operations per step bound the loop's speed. The new
value of x_bar is the old one times a factor that does not depend on it, `-mul + sub * r`; written
so, the factor is computed beside the chain and the chain is one multiplication a step:

    mul_bar = x_bar * sub
    x_bar_1 = -(x_bar * mul)
    r_bar = r_bar + mul_bar * x
    x_bar = x_bar * (-mul + sub * r)

(x_bar_1, read by nothing now, goes when the code is simplified.) A value is followed while it is
the adjoint at the chain's start times a factor: products and quotients by values that do not
depend on it, sums and differences of two such values, negation; anything else (adding a value of
its own, `times`, a call) starts the chain again. Rounding differs from the unfactored form's in the
last digits, as with any reassociation.
"""

import ast

from ..ir.build import Substitute, clone
from ..ir.naming import Namer
from ..ir.queries import names_in, stores


def shorter_chains(fdef, adjoints, kinds, floats):
    """fdef with each loop's number adjoints updated by one factor per chain (see the module). `floats`:
    the names that hold floats (a factor of ints is started from 1.0, so that it is not an int product,
    which Numba's int64 wraps where the unfactored float products did not)."""
    namer = Namer(names_in(fdef))
    fdef = clone(fdef)
    for node in ast.walk(fdef):
        if isinstance(node, (ast.For, ast.While)):
            for v in sorted(_carried(node.body, adjoints, kinds)):
                node.body = _factored(node.body, v, namer, floats)
    return fdef


def _carried(body, adjoints, kinds):
    """Number adjoints that body assigns twice or more at its own level."""
    counts = {}
    for s in body:
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
            counts[s.targets[0].id] = counts.get(s.targets[0].id, 0) + 1
    return {v for v, n in counts.items() if n >= 2 and v in adjoints and kinds.get(v) == 0}


class _NotLinear(Exception):
    pass


def _factored(body, v, namer, floats):
    """body with the last write of each chain of v (two or more writes on it) made one product."""
    chains, factor, uses, start = [], {v: ast.Constant(1.0)}, {v: set()}, -1  # (from v as the step starts)
    for k, s in enumerate(body):
        target = s.targets[0].id if isinstance(s, ast.Assign) and len(s.targets) == 1 \
            and isinstance(s.targets[0], ast.Name) else None
        if target is None or not isinstance(s, ast.Assign):
            bound = stores(s)
            if v in bound or not isinstance(s, (ast.Expr, ast.AugAssign)) or bound & set(factor):
                factor, start = {}, None  # (a block, a write into v or a followed value: the chain ends)
            _forget(factor, uses, bound)
            continue
        try:
            f = _linear(s.value, factor)
        except _NotLinear:
            f = None
        _forget(factor, uses, {target})
        if target == v:
            if f is None or start is None:  # (v given a value of its own: a chain starts from it)
                factor, uses, start = {v: ast.Constant(1.0)}, {v: set()}, k
                continue
            chains.append((start, k, f))
        if f is not None:
            factor[target], uses[target] = f, names_in(f)
        else:  # (given a value that is not the start times a factor: not followed from here)
            factor.pop(target, None)
    for start, end, f in reversed(_last_of_each(chains)):
        body = _rewrite(body, v, start, end, _tidy(f, floats), namer)
    return body


def _forget(factor, uses, bound):
    """Drop the followed values whose factor reads a name that is bound again (it would read the new value)."""
    for name in [n for n, u in uses.items() if u & bound and n in factor]:
        del factor[name]


def _linear(node, factor):
    """The factor f with node == (v at the chain's start) * f, or None where node does not depend on it."""
    if isinstance(node, ast.Name):
        return clone(factor[node.id]) if node.id in factor else None
    if isinstance(node, ast.Constant):
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        f = _linear(node.operand, factor)
        return None if f is None else ast.UnaryOp(ast.USub(), f)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div, ast.Add, ast.Sub)):
        left, right = _linear(node.left, factor), _linear(node.right, factor)
        if left is None and right is None:
            return None
        if isinstance(node.op, (ast.Add, ast.Sub)):
            if left is None or right is None:
                raise _NotLinear  # (a value of its own added)
            return ast.BinOp(left, node.op, right)
        if left is not None and right is not None or isinstance(node.op, ast.Div) and right is not None:
            raise _NotLinear
        return ast.BinOp(left, node.op, clone(node.right)) if left is not None else \
            ast.BinOp(clone(node.left), node.op, right)
    if names_in(node) & set(factor):
        raise _NotLinear
    return None


def _last_of_each(chains):
    """(start, last write, its factor) of each chain that has two writes or more."""
    found = {}
    for start, end, f in chains:
        found.setdefault(start, []).append((end, f))
    return [(start, *ends[-1]) for start, ends in sorted(found.items()) if len(ends) >= 2]


def _rewrite(body, v, start, end, f, namer):
    """Between start and end, v's writes go to names of their own (the reads after each follow it); the
    write at end is v, still the chain's start, times the factor f."""
    body = list(body)
    current = v
    for k in range(start + 1, end):
        s = clone(body[k])
        reads = Substitute({v: ast.Name(current, ast.Load())})  # (no store of v here: the chain would have ended)
        if isinstance(s, ast.Assign):  # (the value may be the name itself: `add_bar = p_bar`, found by a hunt)
            s.value = reads.visit(s.value)
        else:
            s = reads.visit(s)
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and s.targets[0].id == v:
            current = namer.fresh(f"{v}_step")
            s.targets = [ast.Name(current, ast.Store())]
        body[k] = s
    last = clone(body[end])
    last.value = ast.BinOp(ast.Name(v, ast.Load()), ast.Mult(), f)
    body[end] = last
    return body


def _tidy(f, floats):
    """f with its multiplications by 1.0 left out where what is left is a float anyway."""
    if isinstance(f, ast.BinOp):
        left, right = _tidy(f.left, floats), _tidy(f.right, floats)
        if isinstance(f.op, ast.Mult) and _one(left) and _float(right, floats):
            return right
        if isinstance(f.op, (ast.Mult, ast.Div)) and _one(right) and _float(left, floats):
            return left
        return ast.BinOp(left, f.op, right)
    if isinstance(f, ast.UnaryOp):
        return ast.UnaryOp(f.op, _tidy(f.operand, floats))
    return f


def _float(node, floats):
    """Whether node's value is a float for sure: a float constant, a name that holds floats, or an
    operation with one of them (as Python and Numba compute left to right, an int product inside it
    was one in the code it stands for too)."""
    if isinstance(node, ast.Constant):
        return type(node.value) is float
    if isinstance(node, ast.Name):
        return node.id in floats
    if isinstance(node, ast.BinOp):
        return _float(node.left, floats) or _float(node.right, floats)
    if isinstance(node, ast.UnaryOp):
        return _float(node.operand, floats)
    return False


def _one(node):
    return isinstance(node, ast.Constant) and node.value == 1.0
