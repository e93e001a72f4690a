"""Activity analysis: which names carry a derivative, and which primal statements the result needs.

A name is *varied* when it depends, through differentiable arguments, on a `wrt` input, and
*useful* when the result depends on it the same way; it is *active* (gets an adjoint) when both.
A primal statement is *live* when the result, an assert/raise, or an active statement's adjoint
formula reads what it computes.
"""

import ast
from dataclasses import dataclass

from .frontend import dotted
from .normalize import OPERATORS


@dataclass(frozen=True)
class Activity:
    active: frozenset
    live: frozenset  # names the forward sweep must compute


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


def names_in(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} if node is not None else set()


def targets_of(stmt):
    if isinstance(stmt, ast.Assign):
        return names_in(stmt.targets[0])
    return set()


def differentiable_inputs(stmt, table):
    """Names whose derivative flows into the statement's targets."""
    if not isinstance(stmt, ast.Assign):
        return set()
    value = stmt.value
    if isinstance(value, (ast.Name, ast.Tuple)):
        return names_in(value)
    if isinstance(value, ast.Subscript):
        return names_in(value.value)
    rule, bound = rule_of(value, table)
    if rule is None:
        return set()
    if rule.custom:
        return set().union(*(names_in(a) for a in bound.values()))
    return set().union(set(), *(names_in(bound[p]) for p, f in zip(rule.params, rule.adjoints) if f is not None))


def activity(nf, wrt, table):
    """The Activity of a NormalFunction differentiated with respect to the parameters `wrt`."""
    body = nf.body
    varied = set(wrt)
    for stmt in body:
        if differentiable_inputs(stmt, table) & varied:
            varied |= targets_of(stmt)
    useful = {nf.result}
    for stmt in reversed(body):
        if targets_of(stmt) & useful:
            useful |= differentiable_inputs(stmt, table)
    active = varied & useful
    live = {nf.result}
    for stmt in reversed(body):
        targets = targets_of(stmt)
        if not isinstance(stmt, ast.Assign) or targets & live or targets & active:
            live |= names_in(stmt) - targets if isinstance(stmt, ast.Assign) else names_in(stmt)
            if targets & active:
                live |= targets
    return Activity(frozenset(active), frozenset(live))
