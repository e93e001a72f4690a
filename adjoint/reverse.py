"""The reverse transform: a NormalFunction becomes one function that runs the forward sweep, then
the reverse sweep, and returns the result with the adjoints of the `wrt` parameters.

The code it writes is plain and always correct; `simplify` makes it read well. Every active name v
starts the reverse sweep as `v_bar = zeros_like(v)`, and every contribution is accumulated as
`v_bar = v_bar + e` (or `v_bar[index] += e` for a read of an element). Contributions come from the
rule table: the formula with the primitive's arguments, `g` (the result's adjoint) and `out` (the
result) substituted, summed back to the argument's shape where the primitive broadcasts.

    def f(x):                     def f_vjp(x, out_bar):
        sin = np.sin(x)               sin = np.sin(x)
        out = np.sum(sin)    ->       out = np.sum(sin)
        return out                    x_bar = zeros_like(x)
                                      sin_bar = zeros_like(sin)
                                      # adjoint of: return np.sum(np.sin(x))
                                      sin_bar = sin_bar + unsum(out_bar, sin, None)
                                      x_bar = x_bar + sin_bar * np.cos(x)
                                      return out, x_bar
"""

import ast
import copy

from .analysis import activity, names_in, rule_of
from .emit import comment
from .frontend import function_def


def name(n, store=False):
    return ast.Name(n, ast.Store() if store else ast.Load())


def call(func, *args):
    return ast.Call(name(func), list(args), [])


def assign(target, value, lineno=None):
    stmt = ast.Assign([target if isinstance(target, ast.AST) else name(target, True)], value)
    stmt.lineno = lineno
    return stmt


def index_value(index):
    """An index as a value to pass to a function: slices become slice(...) calls."""
    if isinstance(index, ast.Slice):
        return ast.Call(name("slice"), [copy.deepcopy(p) if p is not None else ast.Constant(None)
                                        for p in (index.lower, index.upper, index.step)], [])
    if isinstance(index, ast.Tuple):
        return ast.Tuple([index_value(p) for p in index.elts], ast.Load())
    return copy.deepcopy(index)


class Substitute(ast.NodeTransformer):
    """Replaces the free names of a rule formula with the given expressions."""

    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        return copy.deepcopy(self.mapping[node.id]) if node.id in self.mapping else node


def instantiate(formula, mapping):
    return Substitute(mapping).visit(copy.deepcopy(formula))


def reverse(nf, wrt, table, src):
    """The adjoint function (ast.FunctionDef) of `nf` with respect to the parameter names `wrt`."""
    return Reverse(nf, wrt, table, src).run()


class Reverse:
    def __init__(self, nf, wrt, table, src):
        self.nf, self.wrt, self.table, self.src = nf, tuple(wrt), table, src
        self.act = activity(nf, wrt, table)
        self.bars = {}

    def bar(self, v):
        if v not in self.bars:
            self.bars[v] = self.nf.namer.fresh(f"{v}_bar")
        return self.bars[v]

    def active(self, atom):
        return isinstance(atom, ast.Name) and atom.id in self.act.active

    def run(self):
        nf = self.nf
        seed = self.bar(nf.result)
        forward = [s for s in nf.body if not isinstance(s, ast.Return) and self.is_live(s)]
        forward = [self.forward_statement(s) for s in forward]
        order = [p for p in nf.params if p in self.act.active] + sorted(
            {v for v in self.act.active if v not in nf.params and v != nf.result},
            key=lambda v: self.position(v))
        inits = [assign(self.bar(v), call("zeros_like", name(v))) for v in order]
        sweep, last_line = [], None
        for stmt in reversed(nf.body):
            if not isinstance(stmt, ast.Assign) or not (names_in(stmt.targets[0]) & self.act.active):
                continue
            block = self.adjoint(stmt)
            if block and stmt.lineno != last_line:
                sweep.append(comment(f"adjoint of: {self.src.line_of(stmt.lineno)}  "
                                     f"({self.src.locate(stmt).filename.rsplit('/', 1)[-1]}:"
                                     f"{self.src.locate(stmt).lineno})"))
                last_line = stmt.lineno
            sweep.extend(block)
        tail = [assign(self.bar(p), call("zeros_like", name(p))) for p in self.wrt if p not in self.act.active]
        ret = ast.Return(ast.Tuple([name(nf.result)] + [name(self.bar(p)) for p in self.wrt], ast.Load()))
        args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in nf.params] + [ast.arg(seed)],
                             vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
        body = forward + inits + sweep + tail + [ret]
        return function_def(f"{nf.name}_vjp", args, body)

    def position(self, v):
        for i, s in enumerate(self.nf.body):
            if isinstance(s, ast.Assign) and v in names_in(s.targets[0]):
                return i
        return -1

    def is_live(self, stmt):
        if not isinstance(stmt, ast.Assign):
            return True
        return bool(names_in(stmt.targets[0]) & self.act.live)

    def forward_statement(self, stmt):
        """The primal statement as the forward sweep runs it (custom rules also keep residuals)."""
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            rule, _ = rule_of(stmt.value, self.table)
            if rule is not None and rule.custom:
                target = stmt.targets[0].id
                if target in self.act.active:
                    res = self.residual(target)
                    value = copy.deepcopy(stmt.value)
                    value.func = name(f"{rule.spelling}_fwd")
                    return assign(ast.Tuple([name(target, True), name(res, True)], ast.Store()), value, stmt.lineno)
        return stmt

    def residual(self, target):
        key = ("res", target)
        if key not in self.bars:
            self.bars[key] = self.nf.namer.fresh(f"{target}_res")
        return self.bars[key]

    def accumulate(self, atom, expr, lineno):
        v = self.bar(atom.id)
        return [assign(v, ast.BinOp(name(v), ast.Add(), expr), lineno)]

    def adjoint(self, stmt):
        """Statements that push the adjoint of stmt's target to its arguments."""
        target, value, line = stmt.targets[0], stmt.value, stmt.lineno
        if not isinstance(target, ast.Name):
            raise self.src.error(stmt, "unpacking a tuple that carries a derivative is not supported by this "
                                 "version of adjoint", "assign each part separately", "reverse transform")
        g = name(self.bar(target.id))
        if isinstance(value, ast.Name):
            return self.accumulate(value, g, line) if self.active(value) else []
        if isinstance(value, ast.Subscript):
            if not self.active(value.value):
                return []
            if names_in(value.slice) - self.nf.scalars:  # may be an integer array that repeats entries
                out = ast.Expr(call("add_at", name(self.bar(value.value.id)), index_value(value.slice), g))
            else:
                index = ast.Subscript(name(self.bar(value.value.id)), copy.deepcopy(value.slice), ast.Store())
                out = ast.AugAssign(index, ast.Add(), g)
            out.lineno = line
            return [out]
        if isinstance(value, ast.Tuple):
            raise self.src.error(stmt, "a tuple that carries a derivative is not supported by this version of "
                                 "adjoint", "assign each part separately", "reverse transform")
        rule, bound = rule_of(value, self.table)
        if rule is None:
            return []
        if rule.custom:
            return self.custom_adjoint(rule, bound, target.id, g, line)
        block = []
        for param, formula in zip(rule.params, rule.adjoints):
            if formula is None:
                continue
            arg = bound[param]
            parts = list(enumerate(arg.elts)) if rule.sequence else [(None, arg)]
            for k, part in parts:
                if not self.active(part):
                    if isinstance(part, ast.Tuple) and any(self.active(e) for e in part.elts):
                        raise self.src.error(stmt, f"`{ast.unparse(value)}` takes a tuple of differentiated "
                                             "values, which its rule does not cover", "build the array another way",
                                             "reverse transform")
                    continue
                mapping = dict(bound, g=g, out=name(target.id))
                if rule.sequence:
                    mapping.update(part=part, k=ast.Constant(k), offset=self.offset(arg.elts[:k], bound))
                expr = instantiate(formula, mapping)
                scalar = part.id in self.nf.scalars and target.id in self.nf.scalars
                if rule.broadcast and not scalar:
                    expr = call("unbroadcast", expr, copy.deepcopy(part))
                block += self.accumulate(part, expr, line)
        return block

    def offset(self, before, bound):
        axis = bound.get("axis", ast.Constant(0))
        terms = [ast.Subscript(ast.Attribute(copy.deepcopy(p), "shape", ast.Load()), copy.deepcopy(axis), ast.Load())
                 for p in before]
        expr = terms[0] if terms else ast.Constant(0)
        for t in terms[1:]:
            expr = ast.BinOp(expr, ast.Add(), t)
        return expr

    def custom_adjoint(self, rule, bound, target, g, line):
        args = [bound[p] for p in rule.params]
        grads = [self.nf.namer.fresh(f"{a.id}_grad") if self.active(a) else "_" for a in args]
        block = [assign(ast.Tuple([name(n, True) for n in grads], ast.Store()),
                        ast.Call(name(f"{rule.spelling}_bwd"), [name(self.residual(target)), g], []), line)]
        for a, n in zip(args, grads):
            if self.active(a):
                block += self.accumulate(a, name(n), line)
        return block
