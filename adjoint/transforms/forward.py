"""The forward transform: normal-form code in, tangent code (`x_dot`) out.

Each statement that computes a value carrying a derivative is followed by the statement that
computes its tangent, from the rule table's `tangent` forms; control flow, loops and element
writes stay as they are, each mirrored on the tangents (`y[i] = t` -> `y_dot[i] = t_dot`), so a
view of an array has a view of its tangent for a tangent and writes through it alike. No tape:
tangents travel with the values. For example

    def f(x):                      def f_jvp(x, x_dot):
        y = np.sin(x) * x              sin = np.sin(x)
        return np.sum(y)               sin_dot = x_dot * np.cos(x)
                                       y = sin * x
                                       y_dot = sin_dot * x + x_dot * sin
                                       out = np.sum(y)
                                       out_dot = np.sum(y_dot)
                                       return (out, out_dot)
"""

import ast
import copy

from ..analysis.activity import Transform, differentiable_inputs, reach, rule_of, targets_of
from ..analysis.aliasing import view_source
from ..backend.emit import text
from ..ir.build import assign, call, clone, function_def, heading, instantiate, name
from ..ir.queries import names_in


def forward(nf, wrt, table):
    """(the tangent function of `nf` with respect to the parameter names `wrt`, the kinds of its
    names: a tangent has its primal's)."""
    transform = Forward(nf, wrt, table)
    fdef = transform.run()
    return fdef, {**nf.kinds, **{dot: nf.kinds.get(v) for v, dot in transform.dots.items()}}


class Forward(Transform):
    stage = "forward transform"

    def __init__(self, nf, wrt, table):
        self.nf, self.wrt, self.table = nf, tuple(wrt), table
        self.results = list(nf.results)
        self.kinds = nf.kinds
        self.active = activity(nf.body, wrt, self.results, table, self.kinds)
        self.dots = {}
        self.written = written_in_place(nf.body, table, self.kinds)

    def dot(self, v):
        if v not in self.dots:
            self.dots[v] = self.nf.namer.fresh(f"{v}_dot")
        return self.dots[v]

    def run(self):
        nf = self.nf
        for p in self.wrt:
            self.dot(p)
        assigned = {t for s in ast.walk(ast.Module(nf.body, [])) if isinstance(s, ast.Assign) for t in targets_of(s)}
        entry = [assign(self.dot(p), call("zeros_like", name(p))) for p in sorted(self.active - set(self.wrt))
                 if p in nf.params or p not in assigned]  # (a module-level array written through a view too)
        body = entry + self.block(nf.body[:-1])
        for result in self.results:
            if result not in self.active:
                body.append(assign(self.dot(result), call("zeros_like", name(result))))
        values = [name(r) for r in self.results]
        dots = [name(self.dot(r)) for r in self.results]
        if isinstance(nf.result, str):
            body.append(ast.Return(ast.Tuple(values + dots, ast.Load())))
        else:  # a function that returns a tuple (an adjoint, differentiated again)
            body.append(ast.Return(ast.Tuple([ast.Tuple(values, ast.Load()), ast.Tuple(dots, ast.Load())], ast.Load())))
        args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in nf.params] + [
            ast.arg(self.dot(p)) for p in self.wrt], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
            defaults=[])
        return function_def(f"{nf.name}_jvp", args, body)

    def block(self, stmts):
        out, last = [], None
        for s in stmts:
            where = self.nf.locate(s)
            if (where.filename, where.lineno) != last and not isinstance(s, (ast.If, ast.For, ast.While)) \
                    and where.lineno > 0:
                out.append(heading("tangent of: ", where))
                last = (where.filename, where.lineno)
            elif isinstance(s, (ast.If, ast.For, ast.While)):
                last = None
            out += self.statement(s)
        return out

    def statement(self, s):
        if isinstance(s, ast.Assign):
            return self.assignment(s)
        if isinstance(s, ast.If):
            return [ast.If(s.test, self.block(s.body) or [ast.Pass()], self.block(s.orelse))]
        if isinstance(s, (ast.For, ast.While)):
            loop = copy.copy(s)
            loop.body = self.block(s.body) or [ast.Pass()]
            return [loop]
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            return [s] + self.in_place(s)
        return [s]

    def in_place(self, s):
        """The tangent of a statement of generated code that changes its first argument in place:
        `t.append(v)`, `t.pop()`, `add_into(view, g)`, `add_at(a, index, g)`. A shape tape's
        (`push_shape(t, a.shape)`, `pop_shape(t)`) holds integers, which have none."""
        value = s.value
        if isinstance(value.func, ast.Name) and value.func.id in ("push_shape", "pop_shape"):
            return []
        if isinstance(value.func, ast.Attribute) and value.func.attr in ("append", "pop"):
            if not self.is_active(value.func.value):
                return []
            args = [self.zero_or_dot(a, False) for a in value.args]
            return [ast.Expr(ast.Call(ast.Attribute(name(self.dot(value.func.value.id)), value.func.attr,
                                                    ast.Load()), args, []))]
        rule, bound = rule_of(value, self.table)
        if rule is None or not rule.carries:
            raise self.error(s, f"`{ast.unparse(value)}` has no forward-mode rule")
        if not any(self.is_active(bound[p]) for p in rule.inputs):
            return []
        return [ast.Expr(self.replaced(value, {p: self.zero_or_dot(bound[p], False) for p in rule.inputs}))]

    def assignment(self, s):
        target, value, line = s.targets[0], s.value, s.lineno
        if isinstance(target, ast.Subscript):
            y = target.value.id
            if y not in self.active:
                return [s]
            part = ast.Subscript(name(self.dot(y)), clone(target.slice), ast.Store())
            tangent = name(self.dot(value.id)) if self.is_active(value) else ast.Constant(0.0)
            return [s, assign(part, tangent, line)]
        targets = names_in(target)
        if not targets & self.active:
            return [s]
        if not isinstance(target, ast.Name):
            raise self.error(s, "unpacking a tuple that carries a derivative is not supported",
                             "assign each part separately")
        v = target.id
        expr = self.tangent(s)
        if expr is None:  # nothing that varies flows in: the value is a constant here
            return [s, assign(self.dot(v), call("zeros_like", name(v)), line)]
        # `y = x + 0.0`: y_dot must not be x_dot (or what spread(x_dot, y) gives), which a write into y,
        # so into y_dot, would change
        if view_source(target, value, self.table, self.kinds) is None and not isinstance(expr, (ast.BinOp, ast.UnaryOp)) \
                and self.kinds.get(v) != 0 and ({v} | names_in(value)) & self.written:
            expr = call("saved", expr)
        if v not in names_in(value):
            return [s, assign(self.dot(v), expr, line)]
        # the value reads the name it overwrites: the tangent needs the old value and perhaps the new
        new = self.nf.namer.fresh(f"{v}_new")
        expr = instantiate(expr, {v: name(v), "__out__": name(new)})
        return [assign(new, value, line), assign(self.dot(v), expr, line), assign(v, name(new), line)]

    def tangent(self, s):
        """The tangent of an assignment's value, or None when no argument carries one. The rule's
        result is spelled `__out__` where the target's name would be read after the write."""
        value = s.value
        if isinstance(value, ast.Name):
            return name(self.dot(value.id)) if self.is_active(value) else None
        if isinstance(value, ast.Subscript):
            if not self.is_active(value.value):
                return None
            return ast.Subscript(name(self.dot(value.value.id)), clone(value.slice), ast.Load())
        if isinstance(value, ast.Tuple):
            raise self.error(s, "a tuple that carries a derivative is not supported", "assign each part separately")
        if isinstance(value, ast.List):  # a tape of generated code
            return ast.List([self.zero_or_dot(e, False) for e in value.elts], ast.Load())
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "pop":
            tape = value.func.value
            return ast.Call(ast.Attribute(name(self.dot(tape.id)), "pop", ast.Load()), [], []) \
                if self.is_active(tape) else None
        rule, bound = rule_of(value, self.table)
        if rule is None and isinstance(value, ast.Call) and names_in(value) & self.active:
            raise self.error(s, f"`{ast.unparse(value)}` has no derivative rule")
        if rule is None or not rule.differentiable:
            return None
        if rule.custom:
            raise self.error(s, f"`{rule.spelling}` has a custom_vjp rule, which gives reverse mode only",
                             "differentiate it in reverse mode, or call the function without custom_vjp")
        out = name(s.targets[0].id if s.targets[0].id not in names_in(value) else "__out__")
        diff = list(rule.inputs)
        active = [p for p in diff if self.carries(s, rule, bound[p])]
        if not active:
            return None
        if rule.tangent == "linear":
            return self.replaced(value, {p: self.zero_or_dot(bound[p], rule.sequence) for p in diff})
        if rule.tangent == "bilinear":
            return _sum([self.replaced(value, {p: name(self.dot(bound[p].id))}) for p in active])
        if rule.tangent == "elementwise":
            terms = [instantiate(rule.adjoints[rule.params.index(p)], dict(bound, g=name(self.dot(bound[p].id)),
                                                                             out=out)) for p in active]
            covered = set(active).union(*(names_in(rule.adjoints[rule.params.index(p)]) for p in active))
            if not self.scalar(s.targets[0]) and not all(
                    isinstance(bound[q], ast.Constant) or self.scalar(bound[q]) for q in rule.params if q not in covered):
                return call("spread", _sum(terms), out)  # a term may lack the shape the other arguments give
            return _sum(terms)
        if rule.tangent is None:
            raise self.error(s, f"`{rule.spelling}` has no forward-mode rule yet", "differentiate it in reverse mode")
        dots = {f"{p}_dot": name(self.dot(bound[p].id)) if p in active else ast.Constant(0.0) for p in diff}
        return instantiate(rule.tangent, dict(bound, out=out, **dots))

    def carries(self, s, rule, arg):
        """Whether an argument of a rule carries a tangent (a tuple only for a sequence rule)."""
        if isinstance(arg, ast.Tuple):
            if not any(self.is_active(e) for e in arg.elts):
                return False
            if rule.sequence:
                return True
            raise self.error(s, f"`{ast.unparse(s.value)}` takes a tuple of differentiated values, which its "
                             "rule does not cover", "build the array another way")
        return self.is_active(arg)

    def zero_or_dot(self, arg, sequence):
        if isinstance(arg, ast.Tuple) and sequence:
            return ast.Tuple([self.zero_or_dot(e, False) for e in arg.elts], ast.Load())
        if self.is_active(arg):
            return name(self.dot(arg.id))
        if isinstance(arg, ast.Constant) and isinstance(arg.value, (int, float)):
            return ast.Constant(0.0)
        return call("zeros_like", clone(arg))

    def replaced(self, value, swaps):
        """A copy of the call `value` with the arguments of the given parameters replaced."""
        value = ast.parse(text(value), mode="eval").body  # no node shared by two arguments
        _, bound = rule_of(value, self.table)
        return copy.deepcopy(value, {id(bound[p]): new for p, new in swaps.items()})


def activity(body, wrt, results, table, kinds):
    """The names that get tangents: those that depend on a wrt input and that a result depends on.

    As in reverse mode (analysis.activity), plus two kinds of flow that only generated code has:
    a write through a view reaches the array it shows (`view = a[1:]; add_into(view, g)`), and a
    statement may change its first argument in place (`t.append(v)`, `add_at(a, index, g)`)."""
    edges = []  # (targets, inputs)
    for s in ast.walk(ast.Module(list(body), [])):
        if isinstance(s, ast.Assign):
            edges.append((targets_of(s), differentiable_inputs(s, table) | _popped(s.value)))
            base = view_source(s.targets[0], s.value, table, kinds)
            if base is not None:
                edges.append(({base}, {s.targets[0].id}))
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            call_ = s.value
            if isinstance(call_.func, ast.Attribute) and call_.func.attr == "append":
                edges.append((names_in(call_.func.value), set().union(*(names_in(a) for a in call_.args))))
            rule, bound = rule_of(call_, table)
            if rule is not None and rule.carries:
                first, *rest = rule.inputs
                edges.append((names_in(bound[first]), set().union(*(names_in(bound[p]) for p in rest))))
    varied = reach(set(wrt), [(inputs, targets) for targets, inputs in edges])
    useful = reach(set(results), edges)
    return frozenset(varied & useful)


def written_in_place(body, table, kinds):
    """The names whose arrays body may write into (`y[i] = e`, `add_into(y[1:], g)`, `add_at(y, i, g)`),
    with every name that may share memory with one of them."""
    written, links = set(), []
    for s in ast.walk(ast.Module(list(body), [])):
        if isinstance(s, ast.Assign):
            if isinstance(s.targets[0], ast.Subscript):
                written |= names_in(s.targets[0].value)
            base = view_source(s.targets[0], s.value, table, kinds)
            if base is not None:
                links.append({base, s.targets[0].id})
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Name) \
                and s.value.func.id in ("add_into", "add_at") and s.value.args:
            first = s.value.args[0]
            written |= names_in(first.value if isinstance(first, ast.Subscript) else first)
    changed = True
    while changed:
        changed = False
        for link in links:
            if link & written and not link <= written:
                written |= link
                changed = True
    return written


def _popped(value):
    """The tape that `t.pop()` takes a value from, as a set (empty for any other value)."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "pop":
        return names_in(value.func.value)
    return set()


def _sum(terms):
    expr = terms[0]
    for t in terms[1:]:
        expr = ast.BinOp(expr, ast.Add(), t)
    return expr
