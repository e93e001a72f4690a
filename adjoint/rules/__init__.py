"""The rule table: one derivative rule per primitive, keyed by the resolved callable.

A rule is one line of `table.py`:

    rule("numpy.sin", "x", "g * np.cos(x)")

the primitive (a dotted path, resolved to its object when the table loads), its parameters as in a
`def` (defaults allowed), and one adjoint formula per parameter: a Python expression over the
parameters, `out` (the primitive's result) and `g` (the adjoint of the result), or None where the
parameter takes no derivative. `broadcast=True` marks elementwise primitives: each adjoint is summed
back to its input's shape. A `sequence=True` rule takes a tuple of arrays as first parameter
(np.concatenate, np.stack); its formula also sees `part` (one element), `k` (its position) and
`offset` (where it starts along the axis).

Every formula is parsed when the table loads; a free name that is not a parameter, `out`, `g`,
`np`, `math` or a runtime helper fails the import, so a typo never reaches generated code.
User rules from `custom_vjp` enter the same table through `Table.add`.

Forward mode reads each rule's `tangent`: "elementwise" (the default for operators, `math`,
builtins and NumPy ufuncs: each adjoint formula with `g` read as the parameter's tangent gives its
contribution), "linear" (the same call on the tangents), "bilinear" (the call with one argument
replaced by its tangent, summed over the arguments) or a formula over the parameters, `out` and
`<parameter>_dot`. A differentiable rule without one fails the import.

The kind of a rule's result (its number of dimensions, analysis/kinds.py) follows from its
arguments' kinds by its `result` form, one of RESULT_FORMS: "join" (broadcasting: the largest; the
default of elementwise NumPy functions), "number" (always a number: len, math.*), "first" (the
first argument's; a 0-d array when that is a number), "first_or_number" (the first argument's, a
number staying one), "array" (np.array: "first", or a vector of numbers), "reduce" (the first's
less the reduced axes), "cumsum", "shape" (from a shape argument: np.zeros), "reshape", "vector",
"matrix", "matmul", "trace", "rows" (the first's with an axis before it: rows_of), "drop1" and "drop2"
(the first's less its last one or two axes: eigenvalues, determinants), "solve" (np.linalg.solve's:
the first's less one for a vector b, else the larger), "diag" (np.diag's: a matrix of a vector, a
vector of a matrix), "flat_or_first" (a vector where the last parameter, the axis, is None, else
the first's: np.repeat, np.sort), "expand" (the first's with the axes np.expand_dims puts in: an
int, or a tuple of them); None when unknown.
"""

import ast
import importlib
import sys
from dataclasses import dataclass, field, replace

import numpy as np

from .. import runtime

BASE_VOCABULARY = frozenset({"g", "out", "np", "math"}) | frozenset(runtime.EXPORTED)
SEQUENCE_VOCABULARY = frozenset({"part", "k", "offset"})
TANGENT_FORMS = ("elementwise", "linear", "bilinear")
RESULT_FORMS = ("join", "number", "first", "first_or_number", "array", "reduce", "cumsum", "shape", "reshape",
                "vector", "matrix", "matmul", "trace", "rows", "drop1", "drop2", "solve", "diag", "flat_or_first",
                "expand")


class BindError(TypeError):
    """The call's arguments do not fit the rule's parameters."""


@dataclass(frozen=True)
class Rule:
    key: object  # the callable; "ndarray.sum"-style strings for methods and attributes
    spelling: str  # how generated code names it: "np.sin", "abs", ".sum" for a method, "" for an operator
    params: tuple
    defaults: dict = field(hash=False, compare=False)  # parameter -> default value
    adjoints: tuple = ()  # ast.expr or None, one per parameter
    broadcast: bool = False
    sequence: bool = False
    view: bool = False  # the result may share memory with the first argument
    custom: tuple = ()  # (fwd, bwd) of a custom_vjp rule
    tangent: object = None  # "elementwise", "linear", "bilinear" or an ast.expr (forward mode)
    carries: tuple = ()  # a forward-only rule's parameters that carry derivatives (runtime helpers)
    makes: bool = False  # a function without derivative that makes an array from sizes, bounds or fill values
    selects: tuple = ()  # parameters without a formula that only choose (a condition) or give a shape: their
    # derivative is 0
    result: str = None  # how the result's kind follows from the arguments' (RESULT_FORMS), None: unknown
    defined: object = None  # a Python function (rules/defined.py) that computes it from other primitives: the
    # normalizer inlines it as it inlines the user's functions, so its derivatives are those of its parts

    @property
    def differentiable(self):
        return any(a is not None for a in self.adjoints) or bool(self.custom) or bool(self.carries) or (
            self.defined is not None)  # (never taken for a function without derivative: it is inlined)

    @property
    def inputs(self):
        """The parameters whose derivatives flow into the result."""
        return self.carries or tuple(p for p, a in zip(self.params, self.adjoints) if a is not None)

    @property
    def is_method(self):
        return self.spelling.startswith(".")

    def bind(self, args, keywords):
        """Map parameter name -> argument (an AST atom), with defaults as constants."""
        if len(args) > len(self.params):
            raise BindError(f"takes at most {len(self.params)} positional arguments, got {len(args)}")
        bound = dict(zip(self.params, args))
        for name, value in keywords.items():
            if name not in self.params:
                raise BindError(f"has no parameter `{name}` in adjoint's rule ({', '.join(self.params)})")
            if name in bound:
                raise BindError(f"got `{name}` twice")
            bound[name] = value
        for name in self.params:
            if name not in bound:
                if name not in self.defaults:
                    raise BindError(f"is missing the argument `{name}`")
                bound[name] = ast.Constant(self.defaults[name])
        return bound


def _free_names(expr):
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


def parse_rule(key, spelling, params, formulas, **flags):
    """Build a Rule from its text form, checking every formula's names."""
    sig = ast.parse(f"def _({params}): pass").body[0].args
    names = tuple(a.arg for a in sig.args)
    defaults = {a.arg: ast.literal_eval(d) for a, d in zip(sig.args[len(sig.args) - len(sig.defaults):], sig.defaults)}
    if formulas and len(formulas) != len(names):
        raise ValueError(f"rule {spelling or key}: {len(names)} parameters but {len(formulas)} formulas")
    allowed = BASE_VOCABULARY | set(names) | (SEQUENCE_VOCABULARY if flags.get("sequence") else set())
    adjoints = []
    for text in formulas or (None,) * len(names):
        if text is None:
            adjoints.append(None)
            continue
        expr = ast.parse(text, mode="eval").body
        unknown = _free_names(expr) - allowed
        if unknown:
            raise ValueError(f"rule {spelling or key}: formula {text!r} uses unknown names {sorted(unknown)}")
        adjoints.append(expr)
    tangent = flags.pop("tangent", None)
    if tangent not in (None, *TANGENT_FORMS):
        expr = ast.parse(tangent, mode="eval").body
        unknown = _free_names(expr) - (allowed - {"g"}) - set(names) - {f"{n}_dot" for n in names}
        if unknown:
            raise ValueError(f"rule {spelling or key}: tangent {tangent!r} uses unknown names {sorted(unknown)}")
        tangent = expr
    return Rule(key, spelling, names, defaults, tuple(adjoints), tangent=tangent, **flags)


def resolve_path(path):
    """The object at a dotted path such as 'numpy.linalg.norm'."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ValueError(f"cannot resolve {path}")


def spell(path):
    """How generated code writes a dotted path: numpy -> np, builtins, operators and helpers bare."""
    if path.startswith("numpy."):
        return "np." + path[len("numpy."):]
    if path.startswith("builtins."):
        return path[len("builtins."):]
    if path.startswith("operator."):
        return ""
    if path.startswith("adjoint.runtime."):
        return path[len("adjoint.runtime."):]
    return path


class Table:
    """Rules by callable (for the normalizer) and by spelling (for the transforms)."""

    def __init__(self):
        self.by_key = {}
        self.by_spelling = {}
        self.version = 0  # changes with every rule added or replaced (custom_vjp's defvjp)
        self.waiting = {}  # module -> (the key its rules follow in by_key, [(path, name)]): see define

    def add(self, rule):
        self.version += 1
        self.by_key[rule.key] = rule
        if rule.spelling:
            self.by_spelling[rule.spelling] = rule
        return rule

    def rule(self, path, params, *formulas, **flags):
        obj = resolve_path(path)
        if "tangent" not in flags and (flags.get("broadcast") or isinstance(obj, np.ufunc) or (
                path.split(".")[0] in ("math", "builtins", "operator") and path != "operator.matmul")):
            flags["tangent"] = "elementwise"
        if "result" not in flags and (path.startswith("math.") or flags.get("broadcast") or (
                path.startswith("numpy.") and len(params.split(",")) == 1)):
            flags["result"] = "number" if path.startswith("math.") else "join"
        return self.add(parse_rule(obj, spell(path), params, formulas, **flags))

    def results(self, form, *spellings):
        """Say how the kind of the result of each rule spelled so follows from its arguments' kinds."""
        if form not in RESULT_FORMS:
            raise ValueError(f"result form {form!r} is not one of {RESULT_FORMS}")
        for spelling in spellings:
            old = self.by_spelling[spelling]
            new = self.by_spelling[spelling] = replace(old, result=form)
            if self.by_key.get(old.key) is old:
                self.by_key[old.key] = new
        self.version += 1

    def tangent(self, path, form):
        """Say how forward mode forms the tangent of the rule at `path` (see the module docstring)."""
        old = self.by_key[resolve_path(path)]
        new = parse_rule(old.key, old.spelling, ", ".join(old.params), (), tangent=form)
        self.add(replace(old, tangent=new.tangent))

    def helper(self, name, params, carries, tangent):
        """A runtime helper that generated adjoints call, for forward mode over them (second
        derivatives): `carries` names the parameters whose derivatives flow; it has no adjoint."""
        rule = parse_rule(getattr(runtime, name), name, params, (), tangent=tangent)
        return self.add(replace(rule, carries=tuple(carries.split(", "))))

    def check_tangents(self):
        missing = [r.spelling for r in self.by_key.values()
                   if r.differentiable and not r.custom and not r.carries and r.defined is None and r.tangent is None]
        if missing:
            raise ValueError(f"rules without a forward-mode tangent: {', '.join(sorted(missing))}")

    def nondiff(self, *paths):
        """Functions whose result does not vary where it is differentiable (a comparison, np.floor,
        np.argmax, a shape): a differentiated argument gives a zero derivative, which is right."""
        for path in paths:
            number = "number" if path.startswith("math.") else None
            self.add(Rule(resolve_path(path), spell(path), (), {}, (), result=number))

    def define(self, path, name=None, once_imported=None):
        """A NumPy or SciPy function that rules/defined.py writes with other primitives (`name`, by default
        the path's last part): a call of it is that definition, inlined.

        With `once_imported` (a module: scipy.stats, which takes a third of a second to import), the
        rule is made only once that module is imported, by the user's code (lookup asks `arrived`):
        until then no function of it can reach adjoint. It takes the place in the table it would
        have had, and the table's version does not change (no derivative made before can have met it)."""
        if once_imported is not None and once_imported not in sys.modules:
            after, paths = self.waiting.setdefault(once_imported, (next(reversed(self.by_key), None), []))
            paths.append((path, name))
            return
        self.add(self._defined(path, name))

    def _defined(self, path, name):
        from . import defined

        fn = getattr(defined, name or path.rsplit(".", 1)[1])
        return Rule(resolve_path(path), spell(path), (), {}, (), defined=fn)

    def arrived(self, everything=False):
        """Make the rules waiting for a module that is imported now (`define`); with everything, import
        each such module first (what lists every rule, as the tests do, asks)."""
        for module in list(self.waiting):
            if everything:
                importlib.import_module(module)
            if module in sys.modules:
                after, paths = self.waiting.pop(module)
                rules = [self._defined(path, name) for path, name in paths]
                items = list(self.by_key.items())
                at = next((k + 1 for k, (key, _) in enumerate(items) if key is after), 0)
                self.by_key = dict(items[:at] + [(r.key, r) for r in rules] + items[at:])
                self.by_spelling.update((r.spelling, r) for r in rules)

    def makes(self, *paths):
        """Functions that make a new array from sizes, bounds or fill values, with no rule that carries a
        derivative through them (np.zeros, np.arange, np.linspace): a differentiated argument is refused.
        A path `.name` is a method (of a random generator: `rng.normal(size=3)`)."""
        for path in paths:
            key = f"method{path}" if path.startswith(".") else resolve_path(path)
            self.add(Rule(key, path if path.startswith(".") else spell(path), (), {}, (), makes=True))

    def method(self, name, path=None, params=None, *formulas, **flags):
        """An ndarray method: the rule of `path` (the method's receiver is its first parameter)."""
        if path is not None:
            base = self.by_key[resolve_path(path)]
            rule = replace(base, key=f"ndarray.{name}", spelling="." + name)
        else:
            rule = parse_rule(f"ndarray.{name}", "." + name, params, formulas, **flags)
        return self.add(rule)

    def lookup(self, obj):
        if self.waiting:
            self.arrived()
        try:
            return self.by_key.get(obj)
        except TypeError:  # unhashable
            return None

    def for_spelling(self, spelling):
        return self.by_spelling.get(spelling)
