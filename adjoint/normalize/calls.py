"""Normalizing calls: a primitive spelled as its rule, a user function inlined (with its own
Scope), and the rewrites some calls need (a negative integer power, a one-sided clip)."""

import ast
import inspect

from ..frontend.names import MISSING
from ..frontend.source import read
from ..frontend.subset import check_subset
from ..ir.build import function_def
from ..ir.queries import dotted
from ..rules import BindError
from .structure import FLAG
from .syntax import MAX_INLINE_DEPTH, Scope, SubSource, assigned_in_compound, positional


class Calls:
    """A part of Normalizer (normalizer.py), whose state it reads and writes."""

    def negative_int_power(self, base, exponent, atom):
        """Whether `base ** exponent` may be an int to a negative int power (`n ** -1`, `2 ** -k`): Python
        gives float(base) ** exponent, Numba an int (0 for 2 ** -1), so the base is made a float first."""
        if isinstance(base, ast.Constant):
            if type(base.value) is not int:
                return False
        elif self.kinds.of.get(base.id) != 0:
            return False  # (an array: NumPy refuses integers to negative integer powers on both paths)
        if isinstance(atom, ast.Constant):
            return type(atom.value) is int and atom.value < 0
        return isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub)

    def rule_call(self, spelling, args, keywords=None):
        """A normal-form call of the rule spelled `spelling`."""
        return ast.Call(ast.parse(spelling, mode="eval").body, list(args),
                        [ast.keyword(k, v) for k, v in (keywords or {}).items()])

    def call_rule(self, value):
        if not isinstance(value, ast.Call):
            return None
        path = dotted(value.func)
        rule = self.table.for_spelling(path) if path else None
        if rule is None and isinstance(value.func, ast.Attribute):
            rule = self.table.for_spelling("." + value.func.attr)
        return rule

    def callee(self, scope, e):
        """(function node, defining scope or None, Python function or None) when e calls user code to inline."""
        func = e.func
        if isinstance(func, ast.Name):
            s = scope
            while s is not None:
                if func.id in s.functions:
                    node, where = s.functions[func.id]
                    return node, where, None
                if func.id in s.current:
                    return None
                s = s.outer
        if not (dotted(func) and not self.is_local(scope, dotted(func).split(".")[0])):
            return None
        target = self.resolve(scope, func)
        target = getattr(target, "fn", target) if type(target).__name__ == "Differentiated" else target
        if target is MISSING or self.table.lookup(target) is not None:
            return None
        if inspect.isfunction(target):
            return None, None, target
        return None

    def inline(self, scope, e, node, where, fn):
        """Normalize the body of a user function in place of the call e; its result atom (or ast.Tuple)."""
        if fn is not None:
            src = read(fn)
            check_subset(src)
            callee = Scope(src, fn)
            fdef = src.tree
        else:
            fdef = node if isinstance(node, ast.FunctionDef) else function_def(
                "lambda_", node.args, [ast.copy_location(ast.Return(node.body), node.body)])
            callee = Scope(scope.src, scope.fn, outer=where)
            callee.src = SubSource(scope.src, fdef)
            callee.params = tuple(a.arg for a in fdef.args.args)
            callee.locals = set(callee.params) | {
                n.id for n in ast.walk(fdef) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            callee.fixed = assigned_in_compound(fdef.body) | {FLAG}
        key = fn or node
        if self.stack.count(key) >= MAX_INLINE_DEPTH:
            raise self.error(scope, e, "this recursion does not end at a depth known when compiling",
                             "write it as a loop, or give the recursive function a rule with adjoint.custom_vjp")
        args = [self.argument(scope, a) for a in e.args]
        keywords = {k.arg: self.argument(scope, k.value) for k in e.keywords if k.arg}
        params = fdef.args.args
        defaults = dict(zip([a.arg for a in params[len(params) - len(fdef.args.defaults):]], fdef.args.defaults))
        if fn is not None:  # a number as default: the value the def gave it (or a later assignment did)
            self.bindings[(fn, ".__defaults__")] = fn.__defaults__
            given = fn.__defaults__ or ()
            defaults.update({a.arg: ast.Constant(v) for a, v in zip(params[len(params) - len(given):], given)
                             if type(v) in (int, float, bool)})
        if len(args) > len(params) or set(keywords) - {a.arg for a in params}:
            raise self.error(scope, e, f"`{fdef.name}` does not take these arguments")
        bound = dict(zip([a.arg for a in params], args))
        for k, v in keywords.items():
            bound[k] = v
        for a in params:
            if a.arg not in bound:
                if a.arg not in defaults:
                    raise self.error(scope, e, f"`{fdef.name}` is missing the argument `{a.arg}`")
                bound[a.arg] = self.atom(callee if fn is not None else where, defaults[a.arg])
        callee.current.update(bound)
        for p, atom in bound.items():
            if p in callee.fixed:  # assigned in a loop or branch: it needs a variable of its own
                callee.fixed_names[p] = self.emit(self.namer.fresh(p), atom).id
                callee.current[p] = ast.Name(callee.fixed_names[p], ast.Load())
        saved_line = self.line
        self.stack.append(key)
        self.pending.append((scope, []))
        try:
            self.function_body(callee, fdef)
        finally:
            self.stack.pop()
            self.pending.pop()
            self.line = saved_line
        result = callee.result
        if isinstance(result, list):
            return ast.Tuple([ast.Name(r, ast.Load()) for r in result], ast.Load())
        return ast.Name(result, ast.Load())

    def call(self, scope, e):
        for a in e.args:
            if isinstance(a, ast.Starred):
                raise self.error(scope, a, "`*args` in a call cannot be differentiated", "pass the arguments one by one")
        func = e.func
        if isinstance(func, ast.Attribute) and not self.is_global(scope, func):
            rule = self.table.for_spelling("." + func.attr)
            if rule is None:
                raise self.error(scope, e, f"the method `.{func.attr}()` has no derivative rule",
                                 "call the NumPy function instead, or register a rule with adjoint.custom_vjp")
            receiver = self.atom(scope, func.value)
            args = [self.argument(scope, a) for a in e.args]
            if func.attr == "reshape" and len(args) > 1:
                args = [ast.Tuple(args, ast.Load())]
            keywords = {k.arg: self.argument(scope, k.value) for k in e.keywords}
            self.check_bind(scope, rule, e, [receiver] + args, keywords)
            receiver, *args = positional(rule, [receiver] + args, keywords)
            return ast.Call(ast.Attribute(receiver, func.attr, ast.Load()), args,
                            [ast.keyword(k, v) for k, v in keywords.items()])
        target = self.resolve(scope, func) if dotted(func) else MISSING
        name = dotted(func) or ast.unparse(func)
        if target is MISSING:
            if dotted(func) and self.is_local(scope, dotted(func).split(".")[0]):
                raise self.error(scope, e, f"`{name}` is a value, not a function this version of adjoint can call",
                                 "call a function defined with def or lambda")
            raise self.error(scope, e, f"`{name}` is not defined", "define it or import it at module level")
        rule = self.table.lookup(target)
        if rule is None:
            raise self.error(scope, e, f"`{name}` has no derivative rule and no Python source",
                             "register a rule for it with adjoint.custom_vjp")
        args = [self.argument(scope, a) for a in e.args]
        keywords = {k.arg: self.argument(scope, k.value) for k in e.keywords}
        self.check_bind(scope, rule, e, args, keywords)
        args = positional(rule, args, keywords)
        if rule.custom:
            self.externals[rule.spelling] = target
        if rule.spelling == "np.clip":
            return self.one_sided_clip(rule.bind(args, keywords)) or self.rule_call("np.clip", args, keywords)
        return self.rule_call(rule.spelling, args, keywords)

    def one_sided_clip(self, bound):
        """`np.clip(a, None, hi)` as `np.minimum(a, hi)`, `np.clip(a, lo, None)` as `np.maximum(a, lo)`
        (the same values, and the same derivative at a tie), else None."""
        def none(atom):
            return isinstance(atom, ast.Constant) and atom.value is None

        a, low, high = bound["a"], bound["a_min"], bound["a_max"]
        if none(low) and none(high):
            return ast.Call(ast.parse("np.asarray", mode="eval").body, [a], [])
        if none(low) or none(high):
            return self.rule_call("np.maximum" if none(high) else "np.minimum", [a, low if none(high) else high])
        return None

    def argument(self, scope, a):
        if isinstance(a, (ast.Tuple, ast.List)):
            return ast.Tuple([self.argument(scope, v) for v in a.elts], ast.Load())
        if isinstance(a, ast.Name):
            value = self.name(scope, a)
            if isinstance(value, ast.Tuple):
                return value
        return self.atom(scope, a)

    def check_bind(self, scope, rule, e, args, keywords):
        if not rule.params:
            return  # no derivative: any arguments will do
        try:
            rule.bind(args, keywords)
        except BindError as err:
            name = rule.spelling.lstrip(".")
            raise self.error(scope, e, f"`{name}` {err}", "call it in the form adjoint's rule knows, or register "
                             "your own rule with adjoint.custom_vjp") from None
