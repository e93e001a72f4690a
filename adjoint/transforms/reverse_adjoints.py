"""The adjoint of one statement: each argument's contribution from the rule table, element reads
and writes (`y[i]`), custom rules with residuals, and where they accumulate."""

import ast

from ..analysis.activity import rule_of
from ..ir.build import assign, call, clone, index_value, instantiate, name
from ..ir.queries import names_in


def _same(a, b):
    """Whether two atoms name the same value (so the same shape)."""
    return isinstance(a, ast.Name) and isinstance(b, ast.Name) and a.id == b.id


class Adjoints:
    """A part of Reverse (reverse.py), whose state it reads."""

    def with_residuals(self, stmt):
        """A custom rule's call as the forward sweep runs it: `out, out_res = f_fwd(...)`."""
        if isinstance(stmt.value, ast.Call) and isinstance(stmt.targets[0], ast.Name):
            rule, _ = rule_of(stmt.value, self.table)
            target = stmt.targets[0].id
            if rule is not None and rule.custom and target in self.active:
                value = clone(stmt.value)
                value.func = name(f"{rule.spelling}_fwd")
                pair = ast.Tuple([name(target, True), name(self.residual(target), True)], ast.Store())
                return assign(pair, value, stmt.lineno)
        return stmt

    def tape(self, base):
        t = self.fresh(base)
        self.tapes.append(t)
        return t

    def accumulate(self, atom, expr, lineno):
        v = self.bar(atom.id)
        return [assign(v, ast.BinOp(name(v), ast.Add(), expr), lineno)]

    def adjoint(self, stmt):
        """(statements that push the adjoint of stmt's target to its arguments, the statement that then
        clears the adjoint of a name written again, to come after its old value is restored: the
        value before may have another shape)."""
        target, value, line = stmt.targets[0], stmt.value, stmt.lineno
        if not isinstance(target, ast.Name):
            raise self.error(stmt, "unpacking a tuple that carries a derivative is not supported",
                             "assign each part separately")
        v = target.id
        g = name(self.bar(v))
        block = []
        if v in self.multi and v in names_in(value):  # the value reads its own old version
            held = self.fresh(f"{v}_bar_in")
            self.kinds[held] = self.kinds.get(v)
            block = [assign(held, g, line), assign(self.bar(v), call("zeros_like", g), line)]
            g = name(held)
        block += self.contributions(stmt, g)
        # the assignment ends the life of v's adjoint: what the reverse sweep meets next (an earlier
        # trip of a loop around, an earlier write) belongs to another value of v
        if (v in self.multi or v in self.in_loops) and v not in names_in(value):
            if self.kinds.get(v) == 0:  # a number: nothing to wait for
                return block + [assign(self.bar(v), call("zeros_like", name(self.bar(v))), line)], []
            return block, [assign(self.bar(v), call("zeros_like", name(v)), line)]
        return block, []

    def contributions(self, stmt, g):
        value, line, target = stmt.value, stmt.lineno, stmt.targets[0]
        if isinstance(value, ast.Name):
            return self.accumulate(value, g, line) if self.is_active(value) else []
        if isinstance(value, ast.Subscript):
            if not self.is_active(value.value):
                return []
            bar = self.bar(value.value.id)
            if self.kinds.get(value.value.id) == 0:  # a number's `a[None]`, `a[...]`: one entry, summed back
                return self.accumulate(value.value, call("unbroadcast", g, name(value.value.id)), line)
            if all(self.scalar(name(n)) for n in names_in(value.slice)):
                part = ast.Subscript(name(bar), clone(value.slice), ast.Load())
                if self.is_view(value):
                    out = ast.Expr(call("add_into", part, g))
                else:
                    part.ctx = ast.Store()
                    out = ast.AugAssign(part, ast.Add(), g)
            else:  # the index may be an integer array that repeats entries
                out = ast.Expr(call("add_at", name(bar), index_value(value.slice), g))
            out.lineno = line
            return [out]
        if isinstance(value, ast.Tuple):
            raise self.error(stmt, "a tuple that carries a derivative is not supported", "assign each part separately")
        rule, bound = rule_of(value, self.table)
        if rule is None:
            return []
        if rule.custom:
            return self.custom_adjoint(rule, bound, target.id, g, line)
        if rule.carries:
            raise self.error(stmt, f"`{rule.spelling}` is a helper of generated adjoints, which reverse mode does "
                             "not differentiate again", "use adjoint.hessian or adjoint.hvp (forward over reverse)")
        found = []  # (argument, its contribution)
        for param, formula in zip(rule.params, rule.adjoints):
            if formula is None:
                continue
            arg = bound[param]
            parts = list(enumerate(arg.elts)) if rule.sequence else [(None, arg)]
            for k, part in parts:
                if not self.is_active(part):  # (a tuple that carries a derivative is refused before: analysis)
                    continue
                mapping = dict(bound, g=g, out=name(target.id))
                if rule.sequence:
                    mapping.update(part=part, k=ast.Constant(k), offset=self.offset(arg.elts[:k], bound))
                expr = instantiate(formula, mapping)
                others = [a for p, a in bound.items() if p != param and isinstance(a, (ast.Name, ast.Constant))]
                if rule.broadcast and not all(self.scalar(a) or _same(a, part) for a in others):
                    expr = call("unbroadcast", expr, clone(part))
                found.append((part, expr))
        block = []
        keys = [ast.dump(part) + ast.dump(expr) for part, expr in found]
        for k, (part, expr) in enumerate(found):
            if keys[k] in keys[:k]:
                continue
            if keys.count(keys[k]) > 1:  # `x * x`: one contribution `g * 2.0 * x`, exactly `g * x + g * x`
                factor = ast.Constant(float(keys.count(keys[k])))
                if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):  # g * 2.0 is shared by
                    expr = ast.BinOp(ast.BinOp(expr.left, ast.Mult(), factor), ast.Mult(), expr.right)  # all x * x
                else:
                    expr = ast.BinOp(expr, ast.Mult(), factor)
            block += self.accumulate(part, expr, line)
        return block

    def is_view(self, subscript):
        """Whether reading subscript surely gives a view (a slice, a new axis, or fewer indices than dims)."""
        index = subscript.slice
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        if any(isinstance(p, ast.Slice) or (isinstance(p, ast.Constant) and p.value is None) for p in parts):
            return True
        ndim = self.kinds.get(subscript.value.id) if isinstance(subscript.value, ast.Name) else None
        return ndim is not None and len(parts) < ndim

    def store_adjoint(self, stmt):
        """The adjoint of `y[index] = e`: e gets what y[index] had, and y[index] is cleared."""
        target, value, line = stmt.targets[0], stmt.value, stmt.lineno
        y = target.value.id
        if y not in self.active:
            return []
        bar = self.bar(y)
        # (y of unknown kind may be a 0-d array, whose adjoint arithmetic made a number: an array again)
        block = [assign(bar, ast.Call(ast.Attribute(name("np"), "asarray", ast.Load()), [name(bar)], []), line)] \
            if self.kinds.get(y) is None else []
        clear = assign(ast.Subscript(name(bar), clone(target.slice), ast.Store()), ast.Constant(0.0), line)
        if self.is_active(value):
            part = ast.Subscript(name(bar), clone(target.slice), ast.Load())
            parts = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
            elem_scalar = len(parts) == self.kinds.get(y) and all(self.scalar(p) for p in parts)  # (not `...`)
            if self.may_repeat(target.slice):  # an integer-array index: where it repeats an entry, the
                part = ast.Call(ast.Attribute(name("np"), "where", ast.Load()),  # last write is the one kept
                                [call("kept_writes", name(bar), index_value(target.slice)), part, ast.Constant(0.0)],
                                [])
            elif not elem_scalar:  # a slice of y_bar is about to be cleared: take a copy, not a view
                part = call("saved", part)
            expr = part if elem_scalar and self.scalar(value) else call("unbroadcast", part, clone(value))
            if value.id == y:  # `y[:] = y`: what e gets is taken before y_bar[index], the same adjoint, is cleared
                held = self.fresh(f"{bar}_part")
                self.kinds[held] = None
                return [assign(held, expr, line), clear] + self.accumulate(value, name(held), line)
            block += self.accumulate(value, expr, line)
        return block + [clear]

    def may_repeat(self, index):
        """Whether an index may hold an integer array, which can name one entry more than once."""
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        return not all(isinstance(p, (ast.Slice, ast.Constant)) or self.scalar(p) for p in parts)

    def offset(self, before, bound):
        axis = bound.get("axis", ast.Constant(0))
        if isinstance(axis, ast.Constant) and axis.value is None:  # np.concatenate(..., axis=None) flattens
            terms = [ast.Attribute(clone(p), "size", ast.Load()) for p in before]
        else:
            terms = [ast.Subscript(ast.Attribute(clone(p), "shape", ast.Load()), clone(axis),
                                   ast.Load()) for p in before]
        expr = terms[0] if terms else ast.Constant(0)
        for t in terms[1:]:
            expr = ast.BinOp(expr, ast.Add(), t)
        return expr

    def custom_adjoint(self, rule, bound, target, g, line):
        args = [bound[p] for p in rule.params]
        grads = [self.fresh(f"{a.id}_grad") if self.is_active(a) else "_" for a in args]
        block = [assign(ast.Tuple([name(n, True) for n in grads], ast.Store()),
                        ast.Call(name(f"{rule.spelling}_bwd"), [name(self.residual(target)), g], []), line)]
        for a, n in zip(args, grads):
            if self.is_active(a):
                block += self.accumulate(a, name(n), line)
        return block

    def residual(self, target):
        key = ("res", target)
        if key not in self.bars:
            self.bars[key] = self.fresh(f"{target}_res")
        return self.bars[key]
