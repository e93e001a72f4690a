"""Normalizing calls: a primitive spelled as its rule, a user function inlined (with its own
Scope), and the rewrites some calls need (a negative integer power, a one-sided clip)."""

import ast
import inspect

import numpy as np

from ..frontend.names import MISSING, Contents
from ..frontend.source import read
from ..frontend.subset import check_subset
from ..ir.build import function_def
from ..ir.queries import as_operator, dotted
from ..rules import BindError
from ..rules.defined import RUN_TIME, WRITERS, einsum_definition, expanded_ellipsis, tensordot_subscripts, written
from .comprehensions import COMPREHENSIONS

from .containers import STATIC, items
from .expressions import RANDOM
from .grown import Grown
from .structure import FLAG
from .syntax import (
    MAX_INLINE_DEPTH,
    Normal,
    Scope,
    SubSource,
    assigned_in_compound,
    parameter_names,
    positional,
    root_name,
)

READING_BUILTINS = {"len", "dict", "list", "tuple", "sum", "max", "min", "enumerate", "zip", "reversed", "sorted",
                    "isinstance", "float", "int", "abs", "print", "range"}
READING_METHODS = {"get", "keys", "values", "items", "copy", "sum", "mean", "max", "min", "prod", "std", "var", "dot",
                   "reshape", "ravel", "flatten", "astype", "transpose", "clip", "cumsum", "index", "count"}
AS_FUNCTION = {"sum", "mean", "var", "std", "max", "min", "prod", "cumsum", "clip", "repeat", "take", "diagonal",
               "trace", "squeeze", "swapaxes", "cumprod", "ptp", "round", "argmax", "argmin", "argsort", "any",
               "all", "nonzero"}  # ndarray methods taken as the NumPy functions when given arguments, or when
# the method has no rule of its own (np.mean(A, axis=0) compiles under Numba, A.mean(axis=0) does not)
NESTED_REDUCTIONS = {"np.sum", "np.mean", "np.max", "np.min", "np.amax", "np.amin", "np.prod"}
STR_METHODS = {"startswith", "endswith", "lower", "upper", "strip", "replace", "split", "join", "format", "isdigit",
               "isalpha"}  # (computed when compiling, on strings known then)


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
        rule = self.table.for_spelling(spelling)
        assert rule is None or rule.defined is None, f"{spelling} is defined by other primitives: inline it"
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
        rule = self.table.lookup(target) if target is not MISSING else None
        if rule is not None and rule.defined is not None and target not in WRITERS:
            return None, None, rule.defined
        if target is MISSING or rule is not None:
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
            callee.params = parameter_names(fdef.args)
            callee.locals = set(callee.params) | {
                n.id for n in ast.walk(fdef) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            callee.fixed = assigned_in_compound(fdef.body) | {FLAG}
        key = fn or node
        if self.stack.count(key) >= MAX_INLINE_DEPTH:
            raise self.error(scope, e, "this recursion does not end at a depth known when compiling",
                             "write it as a loop, or give the recursive function a rule with adjoint.custom_vjp")
        args, keywords = self.call_arguments(scope, e)
        args = [self.kept(a) for a in args]  # (the value a variable has at the call, which the callee may set)
        keywords = {k: self.kept(v) for k, v in keywords.items()}
        bound = self.bind_parameters(scope, e, fdef, fn, args, keywords, callee if fn is not None else where)
        callee.current.update(bound)
        callee.fixed -= self.defaults_set_first(fdef, bound)
        for p, atom in bound.items():
            if p in callee.fixed and isinstance(atom, Grown):
                raise self.error(scope, e, f"`{fdef.name}` assigns its parameter `{p}`, a list grown in a loop, "
                                 "again inside if/for/while", "assign the new value to another name")
            if p in callee.fixed and isinstance(atom, STATIC):  # (a container of variables: containers.carry)
                if _may_write_into(fdef, p):
                    raise self.error(scope, e, f"`{fdef.name}` writes into its container parameter `{p}` and "
                                     "assigns it again inside if/for/while", "assign the new container to another "
                                     "name")
                self.carry(callee, p, atom, e)
                continue
            if p in callee.fixed:  # assigned in a loop or branch: it needs a variable of its own
                callee.fixed_names[p] = self.emit(self.namer.fresh(p), atom).id
                callee.current[p] = ast.Name(callee.fixed_names[p], ast.Load())
                self.rewritten.add(callee.fixed_names[p])
        saved_line = self.line
        self.stack.append(key)
        self.pending.append((scope, []))
        definition = fn is not None and (fn.__module__ == "adjoint.rules.defined" or fn.__code__.co_filename.startswith(
            "<adjoint:"))
        if definition:
            self.definition_sites.append((scope, e))
        try:
            self.function_body(callee, fdef)
        finally:
            self.stack.pop()
            self.pending.pop()
            self.line = saved_line
            if definition:
                self.definition_sites.pop()
        result = callee.result
        if result is None:  # (a function that always raises: what follows the call never runs, and any
            return ast.Constant(0.0)  # value, a number, lets it be written)
        if isinstance(result, (*STATIC, Grown, ast.Constant)):  # (a Constant: None, of a function returning nothing)
            return result
        if isinstance(result, list):
            return ast.Tuple([ast.Name(r, ast.Load()) for r in result], ast.Load())
        return ast.Name(result, ast.Load())

    def static_text(self, scope, e):
        """A str method of a string known when compiling (a dict's key: `name.startswith("w")`), computed
        now, else None."""
        func = e.func
        if func.attr not in STR_METHODS or e.keywords:
            return None
        receiver = func.value
        if isinstance(receiver, ast.Name) and self.static_of(scope, receiver) is not None:
            return None  # (a container's method: not a string's)
        value = self.atom(scope, receiver) if isinstance(receiver, (ast.Name, ast.Constant)) else None
        args = [self.atom(scope, a) for a in e.args] if isinstance(value, ast.Constant) else []
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)
                and all(isinstance(a, ast.Constant) for a in args)):
            return None
        return ast.Constant(getattr(value.value, func.attr)(*(a.value for a in args)))

    def call_arguments(self, scope, e):
        """(positional arguments, keyword arguments) of a call of the user's function, `*t` and `**d` of
        containers known when compiling spread out."""
        args, keywords = [], {}
        for a in e.args:
            if isinstance(a, ast.Starred):
                container = self.container_or_none(scope, a.value)
                if not isinstance(container, ast.Tuple):
                    raise self.error(scope, a, "`*` of what is not a tuple or list known when compiling",
                                     "pass the arguments one by one")
                args += container.elts
            else:
                args.append(self.argument(scope, a, user=True))
        for k in e.keywords:
            if k.arg is None:
                container = self.container_or_none(scope, k.value)
                if not isinstance(container, ast.Dict):
                    raise self.error(scope, k.value, "`**` of what is not a dict known when compiling",
                                     "pass the arguments by name")
                keywords.update((key.value, v) for key, v in zip(container.keys, container.values))
            else:
                keywords[k.arg] = self.argument(scope, k.value, user=True)
        return args, keywords

    def bind_parameters(self, scope, e, fdef, fn, args, keywords, where):
        """The callee's parameter names -> the atoms (or containers) a call gives them, as Python binds
        them: positional, keyword-only, `*args` as a tuple, `**kwargs` as a dict, defaults."""
        spec = fdef.args
        positional = spec.posonlyargs + spec.args
        defaults = dict(zip([a.arg for a in positional[len(positional) - len(spec.defaults):]], spec.defaults))
        defaults.update((a.arg, d) for a, d in zip(spec.kwonlyargs, spec.kw_defaults) if d is not None)
        if fn is not None:  # a number as default: the value the def gave it (or a later assignment did)
            self.bindings[(fn, ".__defaults__")] = fn.__defaults__
            kw = fn.__kwdefaults__  # (a dict, which may be changed in place: its items are watched)
            self.bindings[(fn, ".__kwdefaults__")] = Contents(kw) if kw else kw
            given = fn.__defaults__ or ()
            defaults.update({a.arg: ast.Constant(v) for a, v in zip(positional[len(positional) - len(given):], given)
                             if type(v) in (int, float, bool)})
            defaults.update({k: ast.Constant(v) for k, v in (fn.__kwdefaults__ or {}).items()
                             if type(v) in (int, float, bool)})
        names = [a.arg for a in positional]
        if len(args) > len(names) and spec.vararg is None or set(keywords) & {a.arg for a in spec.posonlyargs}:
            raise self.error(scope, e, f"`{fdef.name}` does not take these arguments")
        bound = dict(zip(names, args))
        if spec.vararg is not None:
            bound[spec.vararg.arg] = ast.Tuple(list(args[len(names):]), ast.Load())
        named = set(names[len(spec.posonlyargs):]) | {a.arg for a in spec.kwonlyargs}
        extra = {k: v for k, v in keywords.items() if k not in named}
        if extra and spec.kwarg is None or set(keywords) & set(bound) - {spec.vararg and spec.vararg.arg}:
            raise self.error(scope, e, f"`{fdef.name}` does not take these arguments")
        bound.update((k, v) for k, v in keywords.items() if k in named)
        if spec.kwarg is not None:
            bound[spec.kwarg.arg] = ast.Dict([ast.Constant(k) for k in extra], list(extra.values()))
        for name in names + [a.arg for a in spec.kwonlyargs]:
            if name not in bound:
                if name not in defaults:
                    raise self.error(scope, e, f"`{fdef.name}` is missing the argument `{name}`")
                bound[name] = self.atom(where, defaults[name])
        return bound

    def call(self, scope, e):
        for a in e.args:
            if isinstance(a, ast.Starred):
                raise self.error(scope, a, "`*args` in a call of a NumPy or math function cannot be differentiated",
                                 "pass the arguments one by one")
        func = e.func
        method = isinstance(func, ast.Attribute) and (not self.is_global(scope, func) or isinstance(
            self.resolve(scope, func.value), (np.ndarray, *RANDOM)))  # (a module-level array's or random
        # generator's method: W0.sum(), rng.normal())
        if method:
            text = self.static_text(scope, e)
            if text is not None:
                return text
            container = self.static_of(scope, func.value)
            if isinstance(container, ast.Dict) and func.attr == "get" and 1 <= len(e.args) <= 2 and not e.keywords:
                key = self.atom(scope, e.args[0])  # d.get(key, default) of a dict known when compiling
                keys = [k.value for k in container.keys]
                if isinstance(key, ast.Constant) and key.value in keys:
                    return container.values[keys.index(key.value)]
                if isinstance(key, ast.Constant):
                    return self.value_or_tuple(scope, e.args[1]) if len(e.args) == 2 else ast.Constant(None)
            rule = self.table.for_spelling("." + func.attr)
            if rule is None and func.attr not in AS_FUNCTION:
                raise self.error(scope, e, f"the method `.{func.attr}()` has no derivative rule",
                                 "call the NumPy function instead, or register a rule with adjoint.custom_vjp")
            receiver = self.atom(scope, func.value)
            as_function = self.method_as_function(scope, e, receiver, container)
            if as_function is not None:
                return self.call(scope, as_function)
            if rule is None:
                raise self.error(scope, e, f"the method `.{func.attr}()` has no derivative rule here",
                                 f"call np.{func.attr} on an array instead")
            args = [self.argument(scope, a) for a in e.args]
            if func.attr in ("reshape", "transpose") and len(args) > 1:
                args = [ast.Tuple(args, ast.Load())]
            keywords = {k.arg: self.argument(scope, k.value) for k in e.keywords}
            keep = self.keepdims(scope, e, keywords)
            self.check_bind(scope, rule, e, [receiver] + args, keywords)
            receiver, *args = positional(rule, [receiver] + args, keywords)
            value = ast.Call(ast.Attribute(receiver, func.attr, ast.Load()), args,
                             [ast.keyword(k, v) for k, v in keywords.items()])
            return self.dims_kept(scope, e, rule, value, [receiver] + args, keywords) if keep else value
        target = self.resolve(scope, func) if dotted(func) else MISSING
        name = dotted(func) or ast.unparse(func)
        if target is MISSING:
            if dotted(func) and self.is_local(scope, dotted(func).split(".")[0]):
                raise self.error(scope, e, f"`{name}` is a value, not a function this version of adjoint can call",
                                 "call a function defined with def or lambda")
            raise self.error(scope, e, f"`{name}` is not defined", "define it or import it at module level")
        if target is len and len(e.args) == 1 and not e.keywords and self.static_of(scope, e.args[0]) is not None:
            return ast.Constant(len(items(self.static_of(scope, e.args[0]))))
        if target is len and len(e.args) == 1 and not e.keywords and self.grown_of(scope, e.args[0]) is not None:
            return self.grown_count(self.grown_of(scope, e.args[0]))
        if target in (sum, max, min) and e.args and isinstance(e.args[0], COMPREHENSIONS) and (
                len(e.args) == 1 or target is sum and len(e.args) == 2):
            start = (e.args[1:] or [next((k.value for k in e.keywords if k.arg == "start"), None)])[0] \
                if target is sum else None
            if any(k.arg != "start" for k in e.keywords) or e.keywords and target is not sum:
                raise self.error(scope, e, f"{target.__name__}() of a comprehension with these keywords")
            return self.comprehended(scope, e.args[0], target.__name__, start)
        copied = self.copied_container(scope, target, e)
        if copied is None:
            copied = self.stacked(scope, target, e)
        if copied is not None:
            return copied
        folded = self.folded_builtin(scope, target, e)
        if folded is None and target is isinstance:
            folded = self.known_isinstance(scope, e)
        if folded is not None:
            return folded
        if target is np.einsum or target is np.tensordot:
            return self.contraction(scope, e, target)
        spelled = as_operator(target, e.args) if not e.keywords else None
        if spelled is not None:  # operator.mul(a, b) (from a table of operations, say): a * b
            return self.primitive(scope, ast.copy_location(spelled, e))
        if target in WRITERS:
            written_here = self.written_definition(scope, e, WRITERS[target])
            if written_here is not None:
                return written_here
        rule = self.table.lookup(target)
        if rule is None:
            raise self.error(scope, e, f"`{name}` has no derivative rule and no Python source",
                             "register a rule for it with adjoint.custom_vjp")
        if not rule.spelling:  # (an operator's rule, reached by operator.not_(c), operator.add(a, b=1), ...)
            raise self.error(scope, e, f"`{name}` called with these arguments cannot be differentiated",
                             "write the operator itself (a + b, not c)")
        if rule.defined is not None:  # (reached here as a method's NumPy function: `a.trace()`)
            return self.inline(scope, e, None, None, rule.defined)
        if rule.spelling in ("np.array", "np.asarray") and e.args and self.grown_of(scope, e.args[0]) is not None:
            if e.keywords or len(e.args) > 1:
                raise self.error(scope, e, f"{rule.spelling}() of a list grown in a loop with a dtype",
                                 f"{rule.spelling}() it, then .astype(...)")
            return self.rule_call("np.copy", [self.atom(scope, e.args[0])])
        args = [self.comprehended(scope, a, "array") if isinstance(a, COMPREHENSIONS) and not self.known_items(
            scope, a) else self.argument(scope, a) for a in e.args]
        if rule.spelling in ("np.array", "np.asarray", "np.stack") and len(e.args) == 1 and not e.keywords \
                and isinstance(e.args[0], COMPREHENSIONS) and isinstance(args[0], ast.Name):
            return args[0]  # (the array the comprehension filled)
        keywords = {k.arg: self.argument(scope, k.value) for k in e.keywords}
        if rule.sequence and args and isinstance(args[0], ast.Name):  # of an array (a list grown in a loop)
            return self.joined_rows(scope, e, rule, args, keywords)
        if rule.spelling == "np.array" and len(args) == 1 and not keywords and isinstance(args[0], ast.Name) \
                and (self.kinds.of.get(args[0].id) or 0) >= 1:
            return self.rule_call("np.copy", args)  # (the same array, which Numba's np.array does not take)
        stacked = self.arrays_for_lists(rule, args, keywords)
        if stacked is not None:
            return stacked
        keep = self.keepdims(scope, e, keywords)
        if isinstance(keywords.get("axis"), ast.Constant) and keywords["axis"].value is None and \
                rule.defaults.get("axis", 0) is None:
            del keywords["axis"]  # (the default, which Numba's reductions do not take as a keyword)
        for a in args + list(keywords.values()):
            if any(isinstance(n, ast.Dict) for n in ast.walk(a)):
                raise self.error(scope, e, f"`{name}` cannot take a dict", "pass its arrays (`d[\"key\"]`)")
        self.check_bind(scope, rule, e, args, keywords)
        args = positional(rule, args, keywords)
        if rule.custom:
            self.externals[rule.spelling] = target
        if rule.spelling == "np.clip":
            return self.one_sided_clip(rule.bind(args, keywords)) or self.rule_call("np.clip", args, keywords)
        if rule.spelling in NESTED_REDUCTIONS:
            nested = self.nested_reduction(scope, e, rule, args, keywords, keep)
            if nested is not None:
                return nested
        axis = rule.bind(args, keywords).get("axis") if rule.spelling == "np.sort" else None
        if isinstance(axis, ast.Constant) and axis.value is None:  # (the flattened array's, as Numba takes it)
            flat = self.emit(self.namer.fresh("flat"), self.rule_call("np.ravel", [args[0]]))
            return self.rule_call(rule.spelling, [flat] + args[2:], {k: v for k, v in keywords.items() if k != "axis"})
        if rule.spelling in ("np.var", "np.std"):
            merged = self.merged_spread(scope, e, rule, args, keywords, keep)
            if merged is not None:
                return merged
        if keep:
            return self.dims_kept(scope, e, rule, self.rule_call(rule.spelling, args, keywords), args, keywords)
        return self.rule_call(rule.spelling, args, keywords)

    def contraction(self, scope, e, target):
        """np.einsum or np.tensordot, inlined as the definition rules/defined.py writes for its subscripts."""
        if target is np.tensordot:
            bound = dict(zip(("a", "b", "axes"), e.args)) | {k.arg: k.value for k in e.keywords}
            axes = self.known_value(scope, bound["axes"]) if "axes" in bound else 2
            ndims = [self.kinds.of.get(a.id) if isinstance(a, ast.Name) else None
                     for a in (self.atom(scope, bound["a"]), self.atom(scope, bound["b"]))]
            if axes is RUN_TIME or None in ndims:
                raise self.error(scope, e, "np.tensordot whose axes or operands' numbers of dimensions are not "
                                 "known when compiling", "write the axes as constants, or use np.einsum")
            subscripts = tensordot_subscripts(*ndims, axes)
            e = ast.copy_location(ast.Call(e.func, [ast.Constant(subscripts), bound["a"], bound["b"]], []), e)
        elif e.args and not (isinstance(e.args[0], ast.Constant) and isinstance(e.args[0].value, str)):
            e = self.einsum_of_sublists(scope, e)
        subscripts = self.atom(scope, e.args[0]) if e.args else None
        if not (isinstance(subscripts, ast.Constant) and isinstance(subscripts.value, str)) or any(
                k.arg != "optimize" for k in e.keywords) or any(isinstance(a, ast.Starred) for a in e.args):
            raise self.error(scope, e, "np.einsum is differentiated with its subscripts written as a string known "
                             "when compiling, then its operands", "write np.einsum(\"ij,jk->ik\", a, b)")
        text = subscripts.value
        if "..." in text:
            atoms = [self.atom(scope, a) for a in e.args[1:]]
            ndims = [self.kinds.of.get(a.id) if isinstance(a, ast.Name) else None for a in atoms]
            if None in ndims:
                raise self.error(scope, e, "np.einsum with '...' of operands whose numbers of dimensions are not "
                                 "known when compiling", "write the indices out")
            text = expanded_ellipsis(text, ndims)
            e = ast.copy_location(ast.Call(e.func, [ast.Constant(text), *map(Normal, atoms)], []), e)
        try:
            definition = einsum_definition(text, len(e.args) - 1)
        except (NotImplementedError, ValueError) as err:
            raise self.error(scope, e, str(err)) from None
        return self.inline(scope, ast.copy_location(ast.Call(e.func, e.args, []), e), None, None, definition)

    def written_definition(self, scope, e, writer):
        """The definition rules/defined.py writes for this call (np.roll with an axis as slices and
        np.concatenate, np.moveaxis as np.transpose, ...), from its first argument's number of
        dimensions and the constants among the others, inlined; None where the writer gives none."""
        params = list(inspect.signature(writer).parameters)[1:]
        if not e.args or any(isinstance(a, ast.Starred) for a in e.args) or any(k.arg is None for k in e.keywords):
            return None
        given = dict(zip(params, e.args[1:])) | {k.arg: k.value for k in e.keywords}
        if len(e.args) - 1 > len(params) or set(given) - set(params):
            return None
        first = self.atom(scope, e.args[0])
        ndim = self.kinds.of.get(first.id) if isinstance(first, ast.Name) else None
        if not ndim:
            return None
        text = writer(ndim, **{name: self.known_value(scope, node) for name, node in given.items()})
        if text is None:
            return None
        call = ast.copy_location(ast.Call(e.func, [Normal(first), *e.args[1:]], e.keywords), e)
        return self.inline(scope, call, None, None, written(text))

    def einsum_of_sublists(self, scope, e):
        """np.einsum(a, [0, 1], b, [1, 2], [0, 2]) (operands, each with its axes' numbers, and the output's)
        as np.einsum("ab,bc->ac", a, b), when the lists are known when compiling."""
        args = e.args
        output = args[-1] if len(args) % 2 else None
        pairs = args[:-1] if output is not None else args
        lists = [self.known_value(scope, s) for s in pairs[1::2] + ([output] if output is not None else [])]
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # (NumPy's: 0 is A, 26 is a)
        if any(not isinstance(s, (list, tuple)) or not all(
                k is Ellipsis or type(k) is int and 0 <= k < len(letters) for k in s) for s in lists):
            raise self.error(scope, e, "np.einsum's lists of axes are not known when compiling",
                             "write them as constants, or write the subscripts as a string")
        terms = ["".join("..." if k is Ellipsis else letters[k] for k in s) for s in lists]
        text = ",".join(terms[:len(pairs) // 2]) + ("->" + terms[-1] if output is not None else "")
        return ast.copy_location(ast.Call(e.func, [ast.Constant(text), *pairs[0::2]], e.keywords), e)

    def known_value(self, scope, node):
        """The value of an argument known when compiling (a constant, or a tuple or list of them), else
        RUN_TIME. Only names, constants and displays are looked at: nothing is emitted for the argument,
        which the call still evaluates."""
        known = self.container_or_none(scope, node) if isinstance(node, (ast.Tuple, ast.List, ast.Name)) else None
        if known is None and isinstance(node, (ast.Constant, ast.UnaryOp, ast.Name)):
            known = self.atom(scope, node)
        try:
            return ast.literal_eval(known) if known is not None else RUN_TIME
        except ValueError:
            return RUN_TIME

    def known_isinstance(self, scope, e):
        """`isinstance(x, T)` of a container or a constant, decided now (rules/defined.py branches on
        `isinstance(axis, int)`), else None."""
        if len(e.args) != 2 or e.keywords or not dotted(e.args[1]) and not isinstance(e.args[1], ast.Tuple):
            return None
        container = self.container_or_none(scope, e.args[0])
        if container is not None:
            value = {} if isinstance(container, ast.Dict) else [] if getattr(container, "is_list", False) else ()
        else:
            atom = self.atom(scope, e.args[0])
            if isinstance(atom, ast.Name) and atom.id in self.constants:
                value = self.constants[atom.id]  # (a module's or a closure's number, read when compiling)
            elif not isinstance(atom, ast.Constant):
                return None
            else:
                value = atom.value
        names = e.args[1].elts if isinstance(e.args[1], ast.Tuple) else [e.args[1]]
        types = tuple(self.resolve(scope, n) if dotted(n) else MISSING for n in names)
        if not all(isinstance(t, type) for t in types):
            return None
        return ast.Constant(isinstance(value, types))

    def defaults_set_first(self, fdef, bound):
        """The parameters that only leading `if p is None: p = ...` statements assign (the None-default
        idiom), when whether each is None is known here: each such `if` is decided now, and its
        assignment is straight-line code (the name needs no variable of its own)."""
        lead = []
        for s in fdef.body:
            t = s.test if isinstance(s, ast.If) else None
            if not (isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], (ast.Is, ast.IsNot))
                    and isinstance(t.left, ast.Name) and isinstance(t.comparators[0], ast.Constant)
                    and t.comparators[0].value is None):
                break
            lead.append(s)
        names = {s.test.left.id for s in lead if s.test.left.id in bound and self.none_known(bound[s.test.left.id])}
        rest = assigned_in_compound(fdef.body[len(lead):]) | assigned_in_compound(
            [b for s in lead for b in s.body + s.orelse])
        return {p for p in names if p not in rest}

    @staticmethod
    def none_known(value):
        """Whether it is known when compiling that value is None, or is not: a constant, a container, a
        list grown in a loop; not a variable (which a loop or branch, the caller, may set to None)."""
        return not isinstance(value, ast.Name)

    def method_as_function(self, scope, e, receiver, container):
        """`A.mean(axis=0)`, `x.clip(0, 1)` of an array: the NumPy function's call (`np.mean(A, axis=0)`),
        which the rules and Numba take in more forms, when the module's `np` is NumPy; else None."""
        func = e.func
        if func.attr not in AS_FUNCTION or not (e.args or e.keywords) and func.attr != "clip" and \
                self.table.for_spelling("." + func.attr) is not None:
            return None
        spelled = ast.copy_location(ast.Attribute(ast.Name("np", ast.Load()), func.attr, ast.Load()), func)
        if self.is_local(scope, "np") or self.resolve(scope, spelled) is not getattr(np, func.attr):
            return None
        if container is not None or not isinstance(receiver, ast.Name) or (self.kinds.of.get(receiver.id) or 0) < 1:
            return None  # (an array's method only: a NamedTuple's, a list's, a number's are not NumPy's)
        return ast.copy_location(ast.Call(spelled, [Normal(receiver), *e.args], e.keywords), e)

    def joined_rows(self, scope, e, rule, args, keywords):
        """np.stack or np.concatenate of an array, which they take as the sequence of its rows: a copy
        (np.stack along the first axis), its rows' entries in turn (np.concatenate of a matrix)."""
        axis = (args[1:] or [keywords.get("axis", ast.Constant(0))])[0]
        kind = self.kinds.of.get(args[0].id)
        if set(keywords) - {"axis"} or not (isinstance(axis, ast.Constant) and axis.value == 0):
            raise self.error(scope, e, f"{rule.spelling}() of an array's rows (or a list grown in a loop) along an "
                             "axis other than 0", f"{rule.spelling}() it along axis 0, then move the axis "
                             "(np.moveaxis)")
        if rule.spelling == "np.concatenate":
            if kind != 2:
                raise self.error(scope, e, "np.concatenate() of an array's rows (or a list grown in a loop) that are "
                                 "not vectors", "np.stack it, then reshape")
            return self.rule_call("np.copy", [self.emit(self.namer.fresh("flat"), self.rule_call("np.ravel",
                                                                                                  [args[0]]))])
        if rule.spelling != "np.stack":
            raise self.error(scope, e, f"{rule.spelling}() of an array", "pass a list or tuple of arrays")
        return self.rule_call("np.copy", [args[0]])

    def keepdims(self, scope, e, keywords):
        """Whether a reduction keeps the axes it reduces (`keepdims=True`, taken out of keywords)."""
        if "keepdims" not in keywords:
            return False
        keep = keywords.pop("keepdims")
        if not (isinstance(keep, ast.Constant) and isinstance(keep.value, (bool, int))):
            raise self.error(scope, e, "`keepdims` must be True or False when compiling", "write keepdims=True")
        return bool(keep.value)

    def nested_reduction(self, scope, e, rule, args, keywords, keep):
        """np.sum (mean, max, min, prod) over a tuple of axes as one reduction per axis, the last first
        (Numba's reductions take one axis): the same values, and the same derivatives; else None."""
        bound = rule.bind(args, keywords)
        axes, a = bound.get("axis"), bound[rule.params[0]]
        ndim = self.kinds.of.get(a.id) if isinstance(a, ast.Name) else None
        if not (isinstance(axes, ast.Tuple) and all(isinstance(k, ast.Constant) and type(k.value) is int
                                                    for k in axes.elts)):
            return None
        if ndim is None and any(k.value < 0 for k in axes.elts):
            return None
        order = sorted({k.value % ndim if ndim else k.value for k in axes.elts}, reverse=True)
        value = a
        for k in order:
            call = self.rule_call(rule.spelling, [value], {"axis": ast.Constant(k)})
            value = self.emit(self.namer.fresh(self.describe(e)), call)
        if keep and ndim is not None and len(order) == ndim:
            return self.everywhere(value, ndim)
        for k in reversed(order) if keep else ():
            value = self.emit(self.namer.fresh(self.describe(e)),
                              self.rule_call("np.expand_dims", [value, ast.Constant(k)]))
        return value

    def everywhere(self, number, ndim):
        """A reduction over all axes with keepdims=True: its number as an array of ndim ones (np.full:
        np.expand_dims does not take a number under Numba)."""
        return self.rule_call("np.full", [ast.Tuple([ast.Constant(1)] * ndim, ast.Load()), number])

    def merged_spread(self, scope, e, rule, args, keywords, keep):
        """np.var or np.std over a tuple of axes, or over all axes with a ddof (Numba's np.var takes
        neither): the reduced axes moved last and merged into one (a copy, as NumPy's reshape makes of
        moved axes), then the spread along that one axis (var_axis's loops under Numba); else None."""
        bound = rule.bind(args, keywords)
        axes, a, ddof = bound.get("axis"), bound[rule.params[0]], bound.get("ddof", ast.Constant(0))
        ndim = self.kinds.of.get(a.id) if isinstance(a, ast.Name) else None
        if not ndim:
            return None
        plain = isinstance(ddof, ast.Constant) and ddof.value == 0  # (no ddof: np.var(a) itself, which Numba takes)
        if isinstance(axes, ast.Constant) and axes.value is None:
            if plain:
                return None
            order = list(range(ndim))
        elif isinstance(axes, ast.Tuple) and axes.elts and all(isinstance(k, ast.Constant) and type(k.value) is int
                                                               for k in axes.elts):
            order = sorted({k.value % ndim for k in axes.elts})
        elif ndim == 1 and isinstance(axes, ast.Constant) and type(axes.value) is int and (keep or not plain):
            order = [0]  # (a vector's one axis: all of it, with a ddof or keepdims that Numba's np.var lacks)
        else:
            return None
        kept = [k for k in range(ndim) if k not in order]
        label = self.describe(e)
        merged, axis = a, order[0]
        if len(order) > 1 or not kept:
            dims = [self.dimension(a, k) for k in kept] or [ast.Constant(1)]
            merged, axis = self.regrouped(a, kept + order, dims + [ast.Constant(-1)]), len(dims)
        value = self.emit(self.namer.fresh(label), self.rule_call(rule.spelling, [merged], {"axis": ast.Constant(axis),
                                                                            "ddof": ddof}))
        if not kept:
            value = self.emit(self.namer.fresh(label), ast.Subscript(value, ast.Constant(0), ast.Load()))
            return self.everywhere(value, ndim) if keep else value
        for k in order if keep else ():
            value = self.emit(self.namer.fresh(label), self.rule_call("np.expand_dims", [value, ast.Constant(k)]))
        return value

    def dims_kept(self, scope, e, rule, value, args, keywords):
        """A reduction with `keepdims=True`: the reduction, then its axis put back (np.expand_dims; for
        all axes, np.full of the array's number of dimensions of ones)."""
        if "axis" not in rule.params:
            raise self.error(scope, e, f"`{rule.spelling.lstrip('.')}` has no `keepdims` in adjoint's rule")
        bound = rule.bind(args, keywords)
        axis, a = bound.get("axis", ast.Constant(None)), bound[rule.params[0]]
        reduced = self.emit(self.namer.fresh(self.describe(e)), value)
        if self.kinds.of.get(a.id if isinstance(a, ast.Name) else None) == 1:
            return self.rule_call("np.full", [ast.Tuple([ast.Constant(1)], ast.Load()), reduced])  # (a vector's:
            # a number, which np.expand_dims does not take under Numba)
        if isinstance(axis, ast.Constant) and axis.value is None:
            ndim = self.kinds.of.get(a.id) if isinstance(a, ast.Name) else None
            if ndim is None:
                raise self.error(scope, e, "keepdims=True over all axes of an array whose number of dimensions is "
                                 "not known when compiling", "give the axis, or reshape the result")
            return self.everywhere(reduced, ndim)
        if isinstance(axis, ast.Tuple):
            raise self.error(scope, e, "keepdims=True with a tuple of axes", "reduce one axis at a time")
        return self.rule_call("np.expand_dims", [reduced, axis])

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

    def argument(self, scope, a, user=False):
        """An argument of a call: an atom or a container (of the user's function: a grown list too)."""
        grown = self.grown_of(scope, a) if user else None
        if grown is not None:
            return grown
        if isinstance(a, COMPREHENSIONS):
            return self.comprehended(scope, a, "list")
        if isinstance(a, (ast.Tuple, ast.List)):
            return ast.Tuple([self.argument(scope, v) for v in a.elts], ast.Load())
        if isinstance(a, ast.Dict):
            return self.literal(scope, a)
        container = self.static_of(scope, a)
        if container is not None:
            return container
        if isinstance(a, ast.Call):  # (a function's result passed on whole: f(g(x)), np.stack(g(x)) of a tuple)
            value = self.rhs(scope, a)
            return value if isinstance(value, (ast.Tuple, ast.Dict)) else self.value_atom(scope, a, value)
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


def _may_write_into(fdef, p):
    """Whether the function may write into its parameter p's container: an item assigned (also by
    unpacking, or `+=`), p or its items passed to a call, a method of p or of its items called."""
    for n in ast.walk(fdef):
        if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store) and root_name(n) == p:
            return True
        if not isinstance(n, ast.Call):
            continue
        passed = [a for a in [*n.args, *(k.value for k in n.keywords)] if root_name(a) == p]
        if isinstance(n.func, ast.Name) and n.func.id not in READING_BUILTINS and passed:
            return True  # (to a function of the user's, which may write into it)
        if any(isinstance(a, ast.Name) for a in passed) and not (isinstance(n.func, ast.Name) and n.func.id in
                                                                 READING_BUILTINS):
            return True  # (the container itself, to a function that is not known to only read it)
        if isinstance(n.func, ast.Attribute) and root_name(n.func.value) == p and n.func.attr not in READING_METHODS:
            return True
    return False

