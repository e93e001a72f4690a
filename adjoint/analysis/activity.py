"""Activity analysis over normal-form code: which names carry a derivative.

A name is *varied* when it depends, through differentiable arguments, on a `wrt` input, and
*useful* when the result depends on it the same way; it is *active* (gets an adjoint) when both.
Both are fixed points over the whole body, so values carried around loops are covered. An element
write `y[i] = e` makes y depend on e and on its own old value.
"""

import ast

import numpy as np

from .. import runtime
from ..errors import SourceError
from ..ir.queries import OPERATORS, dotted, names_in


def rule_of(value, table):
    """(rule, {parameter: atom}) for a normal-form right-hand side that a rule covers, else (None, {})."""
    if isinstance(value, ast.BinOp):
        rule, args, kw = table.lookup(OPERATORS[type(value.op)]), [value.left, value.right], {}
    elif isinstance(value, ast.UnaryOp):
        rule, args, kw = table.lookup(OPERATORS[type(value.op)]), [value.operand], {}
    elif isinstance(value, ast.Attribute) and value.attr == "T":
        rule, args, kw = table.for_spelling(".T"), [value.value], {}
    elif isinstance(value, ast.Call):
        kw = {k.arg: k.value for k in value.keywords}
        path = dotted(value.func)
        rule = table.for_spelling(path) if path else None
        args = list(value.args)
        if rule is None and isinstance(value.func, ast.Attribute):
            rule, args = table.for_spelling("." + value.func.attr), [value.func.value] + args
    else:
        return None, {}
    if rule is None or not rule.params:
        return rule, {}
    return rule, rule.bind(args, kw)


def assignments(body):
    """Every Assign in body, nested blocks included, in order."""
    return [s for s in ast.walk(ast.Module(list(body), [])) if isinstance(s, ast.Assign)]


def has_break(stmts):
    """Whether a `break` in stmts (not in a loop inside them) leaves the loop they are the body of."""
    for s in stmts:
        if isinstance(s, ast.Break):
            return True
        if isinstance(s, ast.If) and (has_break(s.body) or has_break(s.orelse)):
            return True
    return False


def targets_of(stmt):
    """The names an assignment writes (for `y[i] = e`, the array y)."""
    target = stmt.targets[0]
    if isinstance(target, ast.Subscript):
        return names_in(target.value)
    return names_in(target)


def differentiable_inputs(stmt, table):
    """Names whose derivative flows into the statement's targets."""
    target, value = stmt.targets[0], stmt.value
    if isinstance(target, ast.Subscript):
        return names_in(value) | names_in(target.value)
    if isinstance(value, (ast.Name, ast.Tuple)):
        return names_in(value)
    if isinstance(value, ast.Subscript):
        return set() if isinstance(value.value, ast.Attribute) else names_in(value.value)  # x.shape[k]: none
    rule, bound = rule_of(value, table)
    if rule is None and isinstance(value, ast.Call) and dotted(value.func) in runtime.EXPORTED:
        return names_in(value)  # (a runtime helper no rule describes: its result may depend on every argument,
        # and forward mode refuses it, rather than give it a zero tangent)
    if rule is None or not_floats(bound.get("dtype")):  # a cast to ints or bools is piecewise constant
        return set()
    if rule.custom:
        return set().union(*(names_in(a) for a in bound.values()))
    return set().union(set(), *(names_in(bound[p]) for p in rule.inputs))


def not_floats(dtype):
    """Whether a `dtype=` argument (`int`, `np.int64`, `bool`, `"i4"`) names a type that is not a float."""
    if isinstance(dtype, ast.Constant) and isinstance(dtype.value, str):
        try:
            return np.dtype(dtype.value).kind not in "fc"
        except TypeError:
            return False
    path = dotted(dtype) if dtype is not None else None
    if path is None:
        return False
    spelled = path.split(".")[-1]
    return spelled in ("int", "bool") or spelled.startswith(("int", "uint", "bool"))


def activity(nf, wrt, table):
    """The names that get adjoints when nf is differentiated with respect to the parameters wrt."""
    varied, useful = dependence(nf, wrt, table)
    return frozenset(varied & useful)


def dependence(nf, wrt, table):
    """(the varied names, the useful names) of nf for the parameters wrt."""
    flows = [(targets_of(s), differentiable_inputs(s, table)) for s in assignments(nf.body)]
    varied = reach(set(wrt), [(inputs, targets) for targets, inputs in flows])  # inputs feed targets
    useful = reach(set(nf.results), flows)  # the result needs the targets' inputs
    return varied, useful


def refuse_lost_derivatives(nf, wrt, table):
    """Raise a SourceError where a differentiated value reaches an argument through which no rule
    carries its derivative, while the result depends on what the call gives: a function that makes
    an array from bounds (`np.linspace(x, y, n)`), an argument without a formula (`np.sum(a, axis=x)`),
    or a tuple that the rule does not take apart (`np.array([[x, y], [y, x]])`). A zero derivative
    there would be silently wrong. Piecewise-constant functions (a comparison, np.floor, np.argmax)
    and a rule's `selects` parameters (np.where's condition) have a zero derivative, and pass."""
    varied, useful = dependence(nf, wrt, table)
    for stmt in assignments(nf.body):
        value = stmt.value
        if not (isinstance(value, ast.Call) and targets_of(stmt) & useful):
            continue
        rule, bound = rule_of(value, table)
        if rule is None:
            continue
        if rule.defined is not None and names_in(value) & varied:  # (a call the normalizer did not inline)
            raise _lost(nf, stmt, value, names_in(value) & varied, "is written with other primitives in "
                        "adjoint/rules/defined.py and was not inlined here", "report this as a bug in adjoint")
        if rule.makes:
            lost = set().union(*(names_in(a) for a in [*value.args, *(k.value for k in value.keywords)])) & varied
            if lost:
                raise _lost(nf, stmt, value, lost, "makes an array from its arguments, and no rule carries a "
                            "derivative through it", "compute it with differentiable operations "
                            "(`x + (y - x) * np.arange(n) / (n - 1)` for np.linspace), or keep the argument constant")
        for param, formula in zip(rule.params, rule.adjoints):
            arg = bound[param]
            if formula is None and param not in rule.selects:
                lost = names_in(arg) & varied
                why = f"has no derivative rule for its argument `{param}`"
            elif isinstance(arg, ast.Tuple):  # a sequence rule takes one level apart, others none
                inner = [e for e in arg.elts if isinstance(e, ast.Tuple)] if rule.sequence else [arg]
                lost = set().union(set(), *(names_in(e) for e in inner)) & varied
                why = "takes a sequence of differentiated values that its rule does not take apart"
            else:
                continue
            if lost:
                raise _lost(nf, stmt, value, lost, why, "build the array another way (np.stack, np.concatenate "
                            "of arrays, or element writes into np.zeros), or register a rule with adjoint.custom_vjp")


def _lost(nf, stmt, value, names, why, hint):
    spelled = ast.unparse(value.func).lstrip(".")
    users = sorted(nf.user_names.get(n, n) for n in names if n in nf.user_names or n in nf.params)
    whose = f"`{users[0]}`" if users else "its argument"
    return SourceError(f"`{spelled}` {why}: the derivative of {whose} would be lost", nf.locate(stmt), hint,
                       "activity analysis")


def reach(start, edges):
    """Names reached from start along (sources, destinations) edges, to a fixed point (loops included)."""
    reached, changed = set(start), True
    while changed:
        changed = False
        for sources, destinations in edges:
            if sources & reached and not destinations <= reached:
                reached |= destinations
                changed = True
    return reached


class Transform:
    """What the reverse and forward transforms share: their view of atoms, and their errors.

    A subclass sets `nf`, `active` and `kinds`, and names its `stage` for error messages."""

    stage = ""

    def is_active(self, atom):
        return isinstance(atom, ast.Name) and atom.id in self.active

    def scalar(self, atom):
        if isinstance(atom, ast.Constant):
            return isinstance(atom.value, (int, float))
        return isinstance(atom, ast.Name) and self.kinds.get(atom.id) == 0

    def error(self, stmt, what, hint=""):
        return SourceError(what, self.nf.locate(stmt), hint, self.stage)
