"""Random programs for adjoint's differential tests (tests/test_random.py).

`program(seed, family)` writes one module: module-level constants and lambdas, helper functions
and the function to differentiate, together with its arguments (floats, float arrays of 0 to 4
dimensions, ints and int arrays used as indices) and `wrt` (the float arguments to differentiate).
The same (seed, family) always gives the same program: only `random.Random(f"{family}-{seed}")`
is drawn from (and `f"{family}-{seed}-{attempt}"` when an attempt is discarded).

Families:

- "loops": most programs run one or more loops (`for` over `range(n)`, `range(a, b, step)`,
  `enumerate`, `zip` and array rows; `while` with a counter; nested loops; `break`, `continue`)
  whose bodies reassign names in every way the compiler must get right: loop-carried updates,
  loop-invariant assignments read after the loop, last-value reads, dead stores, tuple targets,
  chained assignments, fresh buffers and copies made inside the body and written element by
  element, assignments inside `if`/`else`, calls to helper functions (with loops and early
  returns) and lambdas, early returns. Expressions are drawn over the whole rule table, on shapes
  of 0 to 4 dimensions with broadcasting.
- "rules": one program per rule of adjoint's rule table (`rule_names()`; seed k checks rule
  k % len), the rule's call built on random shapes with one of the keyword forms its parameters
  allow, inside a small random program (sometimes in a loop).

`program(seed, family, numba=True)` draws from only what Numba compiles (README: no reductions
but sums with an axis, no keywords, products of at most 2-d arrays...), for the jit oracle; it is
another program (its own random stream).

A program is a structure (`Program`: statements holding expression trees), so that a shrinker
can drop statements and replace an expression by one of its sub-expressions of the same shape, a
number by 1.0 or an array by an argument of its shape (`Program.reductions()`);
`Program.source()` renders it.

Values stay where central differences are meaningful: domains are kept by construction
(`np.log(1.5 + np.sin(x))`, `np.sqrt(1.0 + np.square(x))`, a denominator `2.0 + np.sin(x)`),
loop-carried updates are mostly contractions, np.std and np.linalg.norm only see an argument's
values (of equal values they have no derivative).

Only programs whose primal runs without error, without a floating-point overflow or invalid
operation, within bounds (|value| <= 1e6) and leaving its arguments unchanged are kept: an
invalid draw is discarded and the next attempt drawn (`valid_primal`).
"""

import ast
import copy
import functools
import itertools
import random
import re
import signal
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

FAMILIES = ("loops", "rules")
HEADER = "import math\n\nimport numpy as np\nimport scipy.special\nimport scipy.stats\n"
MAX_ATTEMPTS = 60
MAX_SIZE = 64  # elements of any array a program makes
RARE_KEYWORD = 0.05  # the weight of a template that names the array argument (`np.sum(a=x)`) against 1
PRIMAL_SECONDS = 0.05  # a program whose primal takes longer is discarded (central differences call it often)


# ----------------------------------------------------------------------------------------------
# The structure: expressions, statements, functions, programs
# ----------------------------------------------------------------------------------------------

@functools.cache
def _is_atomic(fmt):
    """Whether text made from fmt needs no parentheses as an operand (a name, call, subscript...)."""
    text = fmt
    for k in range(6):
        text = text.replace(f"{{p{k}}}", "_a").replace(f"{{{k}}}", "_a")
    body = ast.parse(text, mode="eval").body
    if isinstance(body, ast.Constant):
        return not (isinstance(body.value, (int, float)) and body.value < 0)
    return isinstance(body, (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.List, ast.Tuple))


@dataclass
class Expr:
    """An expression tree node: `fmt` with {k} (the k-th kid as is) and {pk} (the k-th kid in
    parentheses when it is not atomic), and the shape of its value (None for a condition)."""

    fmt: str
    kids: list = field(default_factory=list)
    shape: tuple = ()
    fresh: bool = True  # a new array, not a view of or the same object as a name's
    bases: tuple = ()  # for a value that is not fresh: the names whose memory it may share

    def render(self):
        raw = [k.render() for k in self.kids]
        par = [r if _is_atomic(k.fmt) else f"({r})" for k, r in zip(self.kids, raw)]
        return self.fmt.format(*raw, **{f"p{i}": p for i, p in enumerate(par)})

    def nodes(self, path=()):
        """(path, node) for this node and every node below it."""
        yield path, self
        for i, k in enumerate(self.kids):
            yield from k.nodes(path + (i,))


def _leaf(text, shape, fresh=False, base=None):
    return Expr(text.replace("{", "{{").replace("}", "}}"), [], shape, fresh, (base,) if base else ())


@dataclass
class Stmt:
    """A statement: the line `fmt` over `exprs`; a compound one has a body (and maybe an else)."""

    fmt: str
    exprs: list = field(default_factory=list)
    body: list = None
    orelse: list = None
    keep: bool = False  # never dropped by the shrinker (a while loop's counter: dropping it would hang)

    def lines(self, pad):
        head = self.fmt.format(*[e.render() for e in self.exprs])
        out = [pad + line for line in head.split("\n")]
        if self.body is not None:
            out += _block_lines(self.body, pad + "    ")
        if self.orelse:
            out += [pad + "else:"] + _block_lines(self.orelse, pad + "    ")
        return out


def _block_lines(stmts, pad):
    lines = [line for s in stmts for line in s.lines(pad)]
    return lines or [pad + "pass"]


@dataclass
class Function:
    name: str
    params: str
    body: list
    packed: tuple = None  # (name, display, {argument: how the body reads it}): see Writer.packed
    state: tuple = None  # (the dict's name, locals it holds instead of names): see _held_in_a_dict

    def lines(self):
        body = _block_lines(self.body, "    ")
        if self.packed:
            name, display, reads = self.packed
            pattern = re.compile(r"(?<![\w.'\"])(" + "|".join(map(re.escape, reads)) + r")(?![\w'\"])(?!\s*=[^=])")
            body = [f"    {name} = {display}"] + [pattern.sub(lambda m: reads[m.group(1)], line) for line in body]
        lines = [f"def {self.name}({self.params}):"] + body
        return _held_in_a_dict(lines, *self.state) if self.state else lines


def _held_in_a_dict(lines, name, chosen):
    """The function with some of its locals held in a dict it makes first (`S["h"]` for `h`, read and
    assigned: the same program, whose loops now carry a container): those of `chosen` that the body
    first assigns at its top level, and never binds in a loop header, comprehension or lambda."""
    tree = ast.parse("\n".join(lines))
    fdef = tree.body[0]
    bound_otherwise = {n.id for node in ast.walk(fdef) if isinstance(node, (ast.For, ast.comprehension))
                       for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    bound_otherwise |= {a.arg for node in ast.walk(fdef) if isinstance(node, ast.Lambda) for a in node.args.args}
    top = {}  # name -> the line of its first assignment at the top level
    for s in fdef.body:
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
            top.setdefault(s.targets[0].id, s.lineno)
    first = {}  # name -> the line of its first assignment anywhere
    for line, local in sorted((n.lineno, n.id) for n in ast.walk(fdef)
                              if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)):
        first.setdefault(local, line)
    held = [n for n in chosen if n in top and top[n] == first[n] and n not in bound_otherwise
            and n not in {a.arg for a in fdef.args.args}]
    if not held:
        return lines

    class Hold(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id not in held:
                return node
            return ast.copy_location(ast.Subscript(ast.Name(name, ast.Load()), ast.Constant(node.id), node.ctx), node)

    fdef.body = [ast.Assign([ast.Name(name, ast.Store())], ast.Dict([], []), lineno=0)] + [
        Hold().visit(s) for s in fdef.body]
    return ast.unparse(ast.fix_missing_locations(tree)).splitlines()


@dataclass
class Program:
    """One generated program: `source()` is a whole module defining the function `name`."""

    family: str
    seed: int
    name: str
    prelude: list  # module-level Stmts: constants, lambdas
    helpers: list  # Functions
    main: Function
    args: tuple
    wrt: tuple
    notes: tuple = ()  # what the generator put in (for statistics)
    numba: bool = False  # made only of what Numba compiles (for the jit oracle)

    def source(self):
        parts = [HEADER]
        if self.prelude:
            parts.append("\n".join(line for s in self.prelude for line in s.lines("")) + "\n")
        for f in self.helpers + [self.main]:
            parts.append("\n" + "\n".join(f.lines()) + "\n")
        return "\n".join(parts)

    def make_args(self):
        """Fresh arguments (arrays copied: a program must not write into them, but a bug might)."""
        return tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in self.args)

    def describe_args(self):
        """The arguments as Python source, to paste into a reproduction."""
        return "(" + "".join(describe_value(a) + ", " for a in self.args).rstrip(" ") + ")"

    def reductions(self):
        """Smaller programs: one helper, constant or statement dropped, a compound statement
        replaced by its body, or an expression replaced by a sub-expression of the same shape."""
        yield from self._drop_helpers()
        lists = list(self._statement_lists())
        for path in lists:
            yield from self._drop_statements(path)
        for path in lists:
            yield from self._unwrap_statements(path)
        for path in lists:
            yield from self._simplify_expressions(path)

    # the shrinker's moves

    def _statement_lists(self):
        """Paths to every list of statements: ("prelude",), ("helper", k, ...), ("main", ...)."""
        yield ("prelude",)
        for k, f in enumerate(self.helpers):
            yield from _lists_in(f.body, ("helper", k))
        yield from _lists_in(self.main.body, ("main",))

    def _get(self, path):
        if path[0] == "prelude":
            node, rest = self.prelude, path[1:]
        elif path[0] == "helper":
            node, rest = self.helpers[path[1]].body, path[2:]
        else:
            node, rest = self.main.body, path[1:]
        for i in range(0, len(rest), 2):
            node = getattr(node[rest[i]], rest[i + 1])
        return node

    def _drop_helpers(self):
        for k in range(len(self.helpers)):
            p = copy.deepcopy(self)
            del p.helpers[k]
            yield p

    def _drop_statements(self, path):
        stmts = self._get(path)
        last = len(stmts) - 1 if path == ("main",) else None  # (the final return stays)
        for j in reversed(range(len(stmts))):
            if j == last or stmts[j].keep:
                continue
            p = copy.deepcopy(self)
            del p._get(path)[j]
            yield p

    def _unwrap_statements(self, path):
        stmts = self._get(path)
        for j, s in enumerate(stmts):
            for part in ("body", "orelse"):
                if getattr(s, part) and "while " not in s.fmt:
                    p = copy.deepcopy(self)
                    target = p._get(path)
                    target[j:j + 1] = getattr(target[j], part)
                    yield p
            if s.orelse:
                p = copy.deepcopy(self)
                p._get(path)[j].orelse = None
                yield p

    def _simplify_expressions(self, path):
        """An expression replaced by a sub-expression of its shape, a number by 1.0, an array (in
        the main function) by an argument of its shape."""
        stmts = self._get(path)
        params = [n.strip() for n in self.main.params.split(",")]
        args = {} if path[0] != "main" else {
            np.shape(a): name for name, a in zip(params, self.args)
            if isinstance(a, float) or isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.ndim}
        args.pop((), None)
        for j, s in enumerate(stmts):
            for e, root in enumerate(s.exprs):
                for node_path, node in root.nodes():
                    if node.shape is None:
                        continue
                    smaller = [k for k in node.kids if k.shape == node.shape and k.fmt != node.fmt]
                    if node.shape == () and node.fmt != "1.0":
                        smaller.append(_leaf("1.0", (), True))
                    if node.shape in args and node.fmt != args[node.shape]:
                        smaller.append(_leaf(args[node.shape], node.shape))
                    for new in smaller:
                        p = copy.deepcopy(self)
                        _replace(p._get(path)[j].exprs, e, node_path, new)
                        yield p


def _lists_in(stmts, path):
    yield path
    for j, s in enumerate(stmts):
        for part in ("body", "orelse"):
            if getattr(s, part):
                yield from _lists_in(getattr(s, part), path + (j, part))


def _replace(exprs, e, node_path, new):
    if not node_path:
        exprs[e] = copy.deepcopy(new)
        return
    node = exprs[e]
    for i in node_path[:-1]:
        node = node.kids[i]
    node.kids[node_path[-1]] = copy.deepcopy(new)


def describe_value(a):
    """A value as Python source that makes it again exactly (floats by repr)."""
    if isinstance(a, np.ndarray):
        if a.dtype.kind == "f":
            return f"np.array({a.tolist()!r})"
        return f"np.array({a.tolist()!r}, dtype=np.{a.dtype})"
    return repr(a)


# ----------------------------------------------------------------------------------------------
# Names in scope while writing a function
# ----------------------------------------------------------------------------------------------

@dataclass
class Var:
    name: str
    shape: tuple
    kind: str = "num"  # "num" (a float), "arr" (an array of 1+ dimensions), "zd" (a 0-d array)
    buffer: bool = False  # a new array the function owns: it may write into it
    arg: bool = False
    const: bool = False  # a module-level constant
    frozen: bool = False  # never assigned (loop variables, arguments)
    varied: bool = False  # an argument of the function differentiated: values that differ from each other


@dataclass
class Helper:
    name: str
    shapes: tuple  # of its parameters
    ret: tuple  # its result's shape, or a tuple of shapes for a tuple result
    default: bool = False  # its last parameter is `c=0.5`, a float
    pairs: bool = False  # returns a tuple
    depth: int = 0  # recursive: its last parameter `k` counts down to 0 (the caller gives a constant)


@dataclass
class Loop:
    var: str  # the int variable (or None)
    kind: str  # "for" or "while"
    trips: int  # how many times the body runs (known: the arguments are fixed)


@dataclass
class Ctx:
    """Where a statement is written."""

    loops: tuple = ()
    in_helper: bool = False
    out_shape: tuple = None  # the shape a `return` gives
    jumps: bool = False  # break/continue allowed here (in a for loop's body, not in a while's)


def size(shape):
    return int(np.prod(shape)) if shape else 1


def _broadcast(a, b):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _tuple_text(shape):
    return f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"


# ----------------------------------------------------------------------------------------------
# Templates: each (format, rules it exercises). {0}/{p0} are kids (see Expr).
# ----------------------------------------------------------------------------------------------

def _t(*rows):
    return tuple((fmt, tuple(covers.split())) for fmt, covers in rows)


UNARY = _t(
    ("np.sin({0})", "np.sin"), ("np.cos({0})", "np.cos"), ("np.tanh({0})", "np.tanh"),
    ("np.arctan({0})", "np.arctan"), ("np.tan(0.5 * np.tanh({0}))", "np.tan"),
    ("np.exp(0.5 * np.sin({0}))", "np.exp"), ("np.exp(-np.square({0}))", "np.exp np.square operator.neg"),
    ("np.log(1.5 + np.sin({0}))", "np.log"), ("np.log2(2.0 + np.cos({0}))", "np.log2"),
    ("np.log10(1.0 + np.square({0}))", "np.log10"), ("np.log1p(np.square({0}))", "np.log1p"),
    ("np.expm1(0.5 * np.tanh({0}))", "np.expm1"), ("np.sqrt(1.0 + np.square({0}))", "np.sqrt"),
    ("np.sqrt(2.0 + np.sin({0}))", "np.sqrt"), ("np.sinh(np.tanh({0}))", "np.sinh"),
    ("np.cosh(np.tanh({0}))", "np.cosh"), ("np.arcsin(0.9 * np.tanh({0}))", "np.arcsin"),
    ("np.arccos(0.9 * np.sin({0}))", "np.arccos"), ("np.abs({0})", "np.abs"), ("np.square({0})", "np.square"),
    ("np.reciprocal(2.0 + np.sin({0}))", "np.reciprocal"), ("np.negative({0})", "np.negative"),
    ("np.arcsinh({0})", "np.arcsinh"), ("np.arccosh(1.5 + np.square({0}))", "np.arccosh"),
    ("np.arctanh(0.9 * np.tanh({0}))", "np.arctanh"), ("np.cbrt(1.0 + np.square({0}))", "np.cbrt"),
    ("np.exp2(np.tanh({0}))", "np.exp2"), ("np.deg2rad({0})", "np.deg2rad"), ("np.rad2deg({0})", "np.rad2deg"),
    ("np.fabs({0})", "np.fabs"), ("np.sinc({0})", "np.sinc"),
    ("-{p0}", "operator.neg"), ("+{p0}", "operator.pos"), ("1.0 / (1.0 + np.exp(-{p0}))", "logistic"),
    ("{p0} ** 2", "operator.pow"), ("{p0} ** 3", "operator.pow"), ("(1.5 + np.sin({0})) ** 0.5", "operator.pow"),
    ("2.0 ** np.tanh({0})", "operator.pow"), ("np.power(2.0 + np.tanh({0}), 1.5)", "np.power"),
    ("np.power(1.5, np.tanh({0}))", "np.power"), ("{p0} % 1.7", "operator.mod"),
    ("np.clip({0}, -0.8, 0.8)", "np.clip"), ("np.clip({0}, a_min=-0.5, a_max=0.9)", "np.clip"),
    ("np.clip(a={0}, a_min=-0.6, a_max=0.7)", "np.clip"), ("0.5 * {p0}", "operator.mul"),
    ("{p0} / 1.5", "operator.truediv"), ("1.0 - {p0}", "operator.sub"), ("{p0} + 0.25", "operator.add"),
    ("np.float_power(1.5 + np.square({0}), 1.5)", "np.float_power"), ("np.positive({0})", "np.positive"),
    ("np.real({0})", "np.real"), ("np.conjugate({0})", "np.conjugate"), ("np.degrees({0})", "np.degrees"),
    ("np.radians({0})", "np.radians"), ("np.nan_to_num({0})", "np.nan_to_num"),
    ("scipy.special.expit({0})", "scipy.special.expit"), ("scipy.special.logit(0.5 + 0.4 * np.tanh({0}))",
                                                          "scipy.special.logit"),
    ("scipy.special.erf({0})", "scipy.special.erf"), ("scipy.special.erfc({0})", "scipy.special.erfc"),
    ("scipy.special.gammaln(1.5 + np.square({0}))", "scipy.special.gammaln"),
    ("scipy.special.psi(1.5 + np.square({0}))", "scipy.special.psi"), ("scipy.special.ndtr({0})", "scipy.special.ndtr"),
    ("scipy.special.ndtri(0.5 + 0.4 * np.tanh({0}))", "scipy.special.ndtri"),
    ("scipy.special.erfinv(0.9 * np.tanh({0}))", "scipy.special.erfinv"),
    ("scipy.special.erfcinv(1.0 + 0.9 * np.tanh({0}))", "scipy.special.erfcinv"),
    ("scipy.special.gamma(1.5 + np.square({0}))", "scipy.special.gamma"),
    ("scipy.special.rgamma(1.5 + np.square({0}))", "scipy.special.rgamma"),
    ("scipy.special.polygamma(1, 1.5 + np.square({0}))", "scipy.special.polygamma"),
    ("scipy.stats.norm.pdf({0})", "scipy.stats.norm.pdf"), ("scipy.stats.norm.logpdf({0}, 0.5)", "scipy.stats.norm.logpdf"),
    ("scipy.stats.norm.cdf({0}, 0.2, 1.5)", "scipy.stats.norm.cdf"), ("scipy.stats.norm.logcdf({0})", "scipy.stats.norm.logcdf"),
    ("scipy.stats.norm.sf({0})", "scipy.stats.norm.sf"), ("scipy.stats.norm.logsf({0})", "scipy.stats.norm.logsf"),
    ("scipy.stats.norm.ppf(0.5 + 0.4 * np.tanh({0}))", "scipy.stats.norm.ppf"),
    ("scipy.stats.norm.isf(0.5 + 0.4 * np.tanh({0}))", "scipy.stats.norm.isf"),
    ("scipy.stats.t.pdf({0}, 3.5)", "scipy.stats.t.pdf"), ("scipy.stats.t.logpdf({0}, 2.5, 0.5)", "scipy.stats.t.logpdf"),
    ("scipy.stats.chi2.pdf(1.5 + np.square({0}), 3.0)", "scipy.stats.chi2.pdf"),
    ("scipy.stats.chi2.logpdf(1.5 + np.square({0}), 2.5)", "scipy.stats.chi2.logpdf"),
    ("scipy.stats.gamma.pdf(1.5 + np.square({0}), 2.5)", "scipy.stats.gamma.pdf"),
    ("scipy.stats.gamma.logpdf(1.5 + np.square({0}), 1.5)", "scipy.stats.gamma.logpdf"),
    ("scipy.stats.beta.pdf(0.5 + 0.4 * np.tanh({0}), 2.0, 3.0)", "scipy.stats.beta.pdf"),
    ("scipy.stats.beta.logpdf(0.5 + 0.4 * np.tanh({0}), 2.5, 1.5)", "scipy.stats.beta.logpdf"),
    ("scipy.stats.poisson.pmf(2.0, 1.5 + np.square({0}))", "scipy.stats.poisson.pmf"),
    ("scipy.stats.poisson.logpmf(3.0, 1.5 + np.square({0}))", "scipy.stats.poisson.logpmf"),
)
UNARY_MATH = _t(
    ("math.sin({0})", "math.sin"), ("math.cos({0})", "math.cos"), ("math.tan(0.5 * math.tanh({0}))", "math.tan"),
    ("math.exp(0.5 * math.sin({0}))", "math.exp"), ("math.log(1.5 + math.sin({0}))", "math.log"),
    ("math.log2(2.0 + math.cos({0}))", "math.log2"), ("math.log10(1.0 + {p0} ** 2)", "math.log10"),
    ("math.log1p({p0} ** 2)", "math.log1p"), ("math.expm1(0.5 * math.tanh({0}))", "math.expm1"),
    ("math.sqrt(1.0 + {p0} ** 2)", "math.sqrt"), ("math.tanh({0})", "math.tanh"),
    ("math.sinh(math.tanh({0}))", "math.sinh"), ("math.cosh(math.tanh({0}))", "math.cosh"),
    ("math.asin(0.9 * math.tanh({0}))", "math.asin"), ("math.acos(0.9 * math.sin({0}))", "math.acos"),
    ("math.atan({0})", "math.atan"), ("math.fabs({0})", "math.fabs"), ("math.erf({0})", "math.erf"),
    ("abs({0})", "abs"), ("float({0})", "float"), ("math.pow(1.5 + math.sin({0}), 1.5)", "math.pow"),
    ("np.float64({0})", "np.float64"), ("{p0} ** 2", "operator.pow"),
)
BINARY = _t(
    ("{p0} + {p1}", "operator.add"), ("{p0} - {p1}", "operator.sub"), ("{p0} * {p1}", "operator.mul"),
    ("{p0} + {p1}", "operator.add"), ("{p0} * {p1}", "operator.mul"),
    ("{p0} / (2.0 + np.sin({1}))", "operator.truediv"), ("np.add({0}, {1})", "np.add"),
    ("np.subtract({0}, {1})", "np.subtract"), ("np.multiply({0}, {1})", "np.multiply"),
    ("np.divide({0}, 1.5 + np.square({1}))", "np.divide"), ("np.maximum({0}, {1})", "np.maximum"),
    ("np.minimum({0}, {1})", "np.minimum"), ("np.logaddexp({0}, {1})", "np.logaddexp"),
    ("np.hypot({0}, 0.5 + np.square({1}))", "np.hypot"), ("np.arctan2({0}, 2.0 + np.cos({1}))", "np.arctan2"),
    ("np.power(1.5 + np.tanh({0}), np.sin({1}))", "np.power"), ("(1.5 + np.tanh({0})) ** np.cos({1})", "operator.pow"),
    ("np.clip({0}, -0.5 - np.square({1}), 0.6)", "np.clip"), ("np.clip({0}, -0.7, 0.4 + np.square({1}))", "np.clip"),
    ("np.logaddexp2({0}, {1})", "np.logaddexp2"), ("np.fmax({0}, {1})", "np.fmax"), ("np.fmin({0}, {1})", "np.fmin"),
    ("np.mod({0}, 1.5 + np.square({1}))", "np.mod"), ("np.fmod({0}, 1.5 + np.square({1}))", "np.fmod"),
    ("np.copysign({0}, {1})", "np.copysign"),
    ("scipy.special.xlogy(0.5 + np.square({0}), 1.5 + np.square({1}))", "scipy.special.xlogy"),
    ("scipy.special.xlog1py(0.5 + np.square({0}), 0.5 + np.square({1}))", "scipy.special.xlog1py"),
    ("scipy.special.beta(1.5 + np.square({0}), 1.5 + np.square({1}))", "scipy.special.beta"),
    ("scipy.special.betaln(1.5 + np.square({0}), 1.5 + np.square({1}))", "scipy.special.betaln"),
    ("scipy.stats.norm.pdf({0}, {1}, 1.5)", "scipy.stats.norm.pdf"),
)
BINARY_MATH = _t(
    ("max({0}, {1})", "max"), ("min({0}, {1})", "min"), ("math.atan2({0}, 2.0 + math.cos({1}))", "math.atan2"),
    ("math.hypot({0}, 0.5 + {p1} ** 2)", "math.hypot"), ("math.pow(1.5 + math.tanh({0}), {1})", "math.pow"),
    ("{p0} / (2.0 + math.sin({1}))", "operator.truediv"),
)
# conditions over numbers ({0}, {1} numbers); ints: {i} an int name
CONDITIONS = _t(
    ("{p0} > 0.0", "operator.gt"), ("{p0} < 0.2", "operator.lt"), ("{p0} >= -0.1", "operator.ge"),
    ("{p0} <= 0.5", "operator.le"), ("{p0} != 0.3", "operator.ne"), ("{p0} == 0.25", "operator.eq"),
    ("{p0} > {p1}", "operator.gt"), ("not {p0} > 0.1", "operator.not_"),
    ("{p0} > 0.0 and {p1} < 0.5", "operator.gt"), ("{p0} > 0.0 or {p1} > 0.2", "operator.gt"),
    ("-0.5 < {p0} < 0.5", "operator.lt"), ("math.isfinite({0})", "math.isfinite"),
    ("not math.isnan({0})", "math.isnan"), ("not math.isinf({0})", "math.isinf"),
    ("bool({p0} > 0.0)", "bool"), ("isinstance({0}, float)", "isinstance"), ("{0} is not None", "operator.is_not"),
    ("not {0} is None", "operator.is_"),
)
INT_CONDITIONS = _t(
    ("{i} % 2 == 0", "operator.mod operator.eq"), ("{i} == 1", "operator.eq"), ("{i} >= 2", "operator.ge"),
("{i} // 2 == 1", "operator.floordiv"), ("({i} & 1) == 0", "operator.and_"),
    ("({i} | 1) == 1", "operator.or_"), ("({i} ^ 1) == 0", "operator.xor"), ("{i} != 2", "operator.ne"),
)
RARE_CONDITIONS = _t(("{i} in (1, 3)", "operator.contains"))  # (adjoint refuses the tuple: never drawn at random)
# conditions over arrays, for np.where: {0}, {1} arrays
ARRAY_CONDITIONS = _t(
    ("{p0} > 0.0", "operator.gt"), ("{p0} < 0.1", "operator.lt"), ("{p0} >= -0.2", "operator.ge"),
    ("{p0} <= 0.3", "operator.le"), ("({p0} > 0.0) & ({p1} < 0.5)", "operator.and_"),
    ("({p0} > 0.0) | ({p1} < -0.5)", "operator.or_"), ("({p0} > 0.0) ^ ({p1} > 0.2)", "operator.xor"),
    ("~({p0} > 0.0)", "operator.invert"), ("np.isfinite({0})", "np.isfinite"), ("~np.isnan({0})", "np.isnan"),
    ("~np.isinf({0})", "np.isinf"),
)
NONDIFF = _t(
    ("{p0} + 0.1 * np.floor({1})", "np.floor"), ("{p0} + 0.1 * np.ceil({1})", "np.ceil"),
    ("{p0} + 0.1 * np.round({1})", "np.round"), ("{p0} + 0.1 * np.rint({1})", "np.rint"),
    ("{p0} * np.sign({1})", "np.sign"), ("{p0} + 0.1 * np.floor_divide({1}, 0.7)", "np.floor_divide"),
    ("{p0} + 0.1 * np.trunc({1})", "np.trunc"), ("{p0} + 0.1 * np.fix({1})", "np.fix"),
    ("{p0} * np.signbit({1})", "np.signbit"), ("{p0} * np.heaviside({1}, 0.5)", "np.heaviside"),
    ("{p0} * np.logical_and({p1} > 0.0, {p0} < 0.5)", "np.logical_and"),
    ("{p0} * np.logical_or({p1} > 0.0, {p0} < -0.5)", "np.logical_or"), ("{p0} * np.logical_not({p1} > 0.0)",
                                                                          "np.logical_not"),
    ("{p0} * np.logical_xor({p1} > 0.0, {p0} > 0.0)", "np.logical_xor"), ("{p0} * np.greater({1}, 0.1)", "np.greater"),
    ("{p0} * np.less({1}, 0.1)", "np.less"), ("{p0} * np.greater_equal({1}, 0.1)", "np.greater_equal"),
    ("{p0} * np.less_equal({1}, 0.1)", "np.less_equal"), ("{p0} * np.not_equal({1}, 0.1)", "np.not_equal"),
    ("{p0} * np.equal({1}, 0.25)", "np.equal"),
    ("{p0} + 0.1 * ({p1} // 0.7)", "operator.floordiv"), ("{p0} * np.ones_like({1})", "np.ones_like"),
    ("np.zeros_like({1}) + {p0}", "np.zeros_like"),
)
NONDIFF_NUM = _t(
    ("{p0} + 0.1 * math.floor({1})", "math.floor"), ("{p0} + 0.1 * math.ceil({1})", "math.ceil"),
    ("{p0} + 0.1 * math.trunc({1})", "math.trunc"), ("{p0} + 0.1 * round({1})", "round"),
    ("{p0} * int({p1} > 0.0)", "int"), ("{p0} + 0.1 * int(3.0 * {p1})", "int"),
    ("{p0} * float(bool({p1} > 0.0))", "bool"),
)
# reductions: {0} the array; {axis} filled in
# templates of calls that Numba does not compile (adjoint's jit=True then refuses: a JitError)
NUMBA_REFUSES = ("np.matmul(", "(a=", "(x=", "arrays=", "shape=", "np.array({0}", "astype(dtype", "np.asarray({0}, ",
                 "np.copy(a=", "ddof=", "a_min=", "np.nan", "np.median", "np.roll({0}, 1, axis", "np.sort({0}, axis",
                 "np.cumprod(")
_KINKED = "std"  # np.std (and np.linalg.norm) have no derivative where all values are equal
REDUCE_FULL = _t(
    ("np.sum({0})", "np.sum"), ("{p0}.sum()", "ndarray.sum"), ("np.sum(a={0})", "np.sum"),
    ("np.mean({0})", "np.mean"), ("{p0}.mean()", "ndarray.mean"), ("np.max({0})", "np.max"),
    ("{p0}.max()", "ndarray.max"), ("np.min({0})", "np.min"), ("{p0}.min()", "ndarray.min"),
    ("np.amax({0})", "np.amax"), ("np.amin({0})", "np.amin"), ("np.prod({0})", "np.prod"),
    ("{p0}.prod()", "ndarray.prod"), ("np.var({0})", "np.var"), ("{p0}.var()", "ndarray.var"),
    ("np.var({0}, ddof=1)", "np.var"), ("np.std({0})", "np.std"), ("{p0}.std()", "ndarray.std"),
    ("np.std({0}, ddof=1)", "np.std"), ("np.linalg.norm({0})", "np.linalg.norm"),
    ("np.linalg.norm(x={0})", "np.linalg.norm"), ("np.sum({0}) * 0.5", "np.sum"),
    ("np.ptp({0})", "np.ptp"), ("np.nansum({0})", "np.nansum"), ("np.nanmean({0})", "np.nanmean"),
    ("np.median({0})", "np.median"), ("np.average({0})", "np.average"),
    ("scipy.special.logsumexp({0})", "scipy.special.logsumexp"),
)
REDUCE_AXIS = _t(
    ("np.sum({0}, axis={axis})", "np.sum"), ("np.sum({0}, {axis})", "np.sum"), ("{p0}.sum(axis={axis})", "ndarray.sum"),
    ("{p0}.sum({axis})", "ndarray.sum"), ("np.sum(a={0}, axis={axis})", "np.sum"), ("np.mean({0}, axis={axis})", "np.mean"),
    ("{p0}.mean(axis={axis})", "ndarray.mean"), ("np.max({0}, axis={axis})", "np.max"), ("{p0}.max(axis={axis})", "ndarray.max"),
    ("np.min({0}, axis={axis})", "np.min"), ("{p0}.min({axis})", "ndarray.min"), ("np.amax({0}, axis={axis})", "np.amax"),
    ("np.amin({0}, {axis})", "np.amin"), ("np.prod({0}, axis={axis})", "np.prod"), ("{p0}.prod(axis={axis})", "ndarray.prod"),
    ("np.var({0}, axis={axis})", "np.var"), ("np.var({0}, axis={axis}, ddof=1)", "np.var"),
    ("{p0}.var(axis={axis})", "ndarray.var"), ("np.std({0}, axis={axis})", "np.std"),
    ("np.std({0}, {axis}, ddof=1)", "np.std"), ("{p0}.std(axis={axis})", "ndarray.std"),
    ("np.sum({0}, axis={axis})", "np.sum"), ("np.sum({0}, axis={axis})", "np.sum"),
    ("np.ptp({0}, axis={axis})", "np.ptp"), ("np.nansum({0}, axis={axis})", "np.nansum"),
    ("np.nanmean({0}, axis={axis})", "np.nanmean"), ("np.median({0}, axis={axis})", "np.median"),
    ("np.average({0}, axis={axis})", "np.average"), ("scipy.special.logsumexp({0}, axis={axis})",
                                                     "scipy.special.logsumexp"),
)
CUMSUM = _t(("np.cumsum({0}, axis={axis})", "np.cumsum"), ("{p0}.cumsum(axis={axis})", "ndarray.cumsum"),
            ("np.cumsum({0}, {axis})", "np.cumsum"), ("np.cumsum(a={0}, axis={axis})", "np.cumsum"),
            ("np.cumprod(0.5 + 0.5 * np.tanh({0}), axis={axis})", "np.cumprod"),
            ("scipy.special.softmax({0}, axis={axis})", "scipy.special.softmax"),
            ("scipy.special.log_softmax({0}, axis={axis})", "scipy.special.log_softmax"),
            ("np.flip({0}, axis={axis})", "np.flip"), ("np.roll({0}, 1, axis={axis})", "np.roll"),
            ("np.sort({0}, axis={axis})", "np.sort"))
CUMSUM_FLAT = _t(("np.cumsum({0})", "np.cumsum"), ("{p0}.cumsum()", "ndarray.cumsum"),
                 ("np.cumprod(0.5 + 0.5 * np.tanh({0}))", "np.cumprod"))
MATMUL = _t(("{p0} @ {p1}", "operator.matmul"), ("np.dot({0}, {1})", "np.dot"), ("np.matmul({0}, {1})", "np.matmul"),
            ("{p0}.dot({1})", "ndarray.dot"), ("np.dot(a={0}, b={1})", "np.dot"), ("{p0} @ {p1}", "operator.matmul"))
BATCHED = _t(("{p0} @ {p1}", "operator.matmul"), ("np.matmul({0}, {1})", "np.matmul"))
OUTER = _t(("np.outer({0}, {1})", "np.outer"), ("np.outer(a={0}, b={1})", "np.outer"))
TRACE = _t(("np.trace({0})", "np.trace"), ("np.trace(a={0})", "np.trace"))
TRANSPOSE = _t(("{p0}.T", "ndarray.T"), ("np.transpose({0})", "np.transpose"), ("{p0}.transpose()", "ndarray.transpose"),
               ("np.transpose(a={0})", "np.transpose"))
RESHAPE = _t(("{p0}.reshape({shape})", "ndarray.reshape"), ("np.reshape({0}, {shape})", "np.reshape"),
             ("np.reshape({0}, shape={shape})", "np.reshape"), ("{p0}.reshape({minus})", "ndarray.reshape"),
             ("{p0}.reshape({star})", "ndarray.reshape"))
FLATTEN = _t(("np.ravel({0})", "np.ravel"), ("{p0}.ravel()", "ndarray.ravel"), ("{p0}.flatten()", "ndarray.flatten"),
             ("{p0}.reshape(-1)", "ndarray.reshape"), ("np.ravel(a={0})", "np.ravel"))
COPIES = _t(("np.copy({0})", "np.copy"), ("{p0}.copy()", "ndarray.copy"), ("np.array({0})", "np.array"),
            ("np.asarray({0})", "np.asarray"), ("np.asarray({0}, dtype=np.float64)", "np.asarray"),
            ("{p0}.astype(np.float64)", "ndarray.astype"), ("np.copy(a={0})", "np.copy"),
            ("np.array({0}, dtype=np.float64)", "np.array"), ("{p0}.astype(dtype=float)", "ndarray.astype"))
LAMBDA_BODIES = ("np.tanh(z) * 0.5 + z", "z * z + 0.5", "np.sin(z) - 0.3 * z", "1.0 / (1.0 + np.exp(-z))",
                 "np.sqrt(1.0 + z * z)", "np.log(1.5 + np.cos(z))")
CLOSURE_BODIES = ("z * {c}", "np.tanh(z + {c})", "z * z * {c} + z", "np.sin(z * {c})")
CONSTANTS = ("0.5", "1.5", "0.3", "2.0", "0.7", "0.1", "1.2", "0.25", "-0.4", "-1.5")


# statement kinds (the Writer's s_<kind> methods) and their weights, in a loop's body and outside loops
LOOP_STATEMENTS = {"update": 6, "aug": 3, "temp": 4, "invariant": 1.5, "dead": 1, "swap": 1, "chain": 0.4,
                   "write": 3.5, "fresh_buffer": 1.5, "copy": 1.5, "branch": 3, "jump": 1.2, "loop": 1.5,
                   "call_pair": 1, "early_return": 0.3, "local_lambda": 0.2, "split_views": 0.02, "alias": 0.15,
                   "comprehension": 0.4, "grown": 0.2}
TOP_STATEMENTS = {"temp": 4, "update": 2, "fresh_buffer": 1.5, "copy": 1, "write": 2, "branch": 1.5, "loop": 7,
                  "call_pair": 0.7, "chain": 0.3, "dead": 0.5, "swap": 0.4, "early_return": 0.3,
                  "local_lambda": 0.4, "split_views": 0.02, "aug": 1, "alias": 0.08, "comprehension": 0.8,
                  "grown": 0.8}
PACKED = 0.2  # how often the function reads some of its arguments through a dict or tuple it makes of them
HELD_IN_A_DICT = 0.15  # how often the function holds some of its locals in a dict it makes (`S["h"]`)


# ----------------------------------------------------------------------------------------------
# The writer: expressions
# ----------------------------------------------------------------------------------------------

PRODUCTIONS = []  # (weight, method name, rules it may exercise)


def production(weight, covers=()):
    def register(fn):
        rows = set(covers)
        PRODUCTIONS.append((weight, fn.__name__, rows))
        return fn
    return register


def _covers(*tables):
    return {c for table in tables for _, cs in table for c in cs}


class Writer:
    """Writes one program from `rng`, keeping the names in scope and their shapes."""

    LEAF = (0.2, 0.55, 0.8, 0.95, 1.0)  # chance of a leaf at each depth

    def __init__(self, rng, family, focus=None, numba=False):
        self.rng = rng
        self.family = family
        self.focus = focus
        self.numba = numba  # only what Numba compiles (README: Numba facts), for the jit oracle
        self.dims = rng.sample((2, 3, 4, 5), 3)
        self.scope = {}  # name -> Var
        self.ints = {}  # name -> (lo, hi) of a scalar int
        self.int_arrays = {}  # name -> its values (a 1-d int array argument)
        self.helpers = []  # Helper records callable from here
        self.lambdas = []  # names of one-argument elementwise lambdas in scope
        self.used = set()
        self.observe = []  # names the result should read
        self.notes = set()
        self.prelude = []
        self.int_args = {}  # name -> value of an int argument (a loop count)
        self.jumped = False  # the block being written has a break, continue or return so far
        self.leakable = {}  # names the block being written bound before any jump

    # names

    def new_name(self, prefix):
        for k in itertools.count(1):
            name = f"{prefix}{k}"
            if name not in self.used:
                self.used.add(name)
                return name

    def bind(self, name, shape, fresh, kind=None, **flags):
        """Record an assignment to `name` (a new name or one of the same shape)."""
        old = self.scope.get(name)
        kind = kind or ("num" if shape == () else "arr")
        buffer = fresh and kind == "arr" and (old.buffer if old else flags.pop("buffer", True))
        flags.pop("buffer", None)
        self.scope[name] = Var(name, shape, kind, buffer, **flags)
        self.used.add(name)

    def vars(self, pred=lambda v: True):
        return [v for v in self.scope.values() if pred(v)]

    # shapes

    def shapes(self):
        return [v.shape for v in self.scope.values() if v.kind == "arr"]

    def pick_shape(self, rank=None, new=0.1):
        """A shape: one a name in scope has (most often), or a new one of dims in self.dims."""
        have = [s for s in self.shapes() if rank is None or len(s) == rank]
        if have and self.rng.random() > new:
            return self.rng.choice(have)
        if rank is None:
            rank = self.rng.choices((0, 1, 2, 3, 4), (3, 6, 5, 2, 1))[0]
        for _ in range(10):
            shape = tuple(self.rng.choice(self.dims) for _ in range(rank))
            if size(shape) <= MAX_SIZE:
                return shape
        return (2,) * rank

    def dim(self):
        return self.rng.choice(self.dims)

    # ints

    def int_index(self, m):
        """An int expression (text) that is a valid index into a dimension of size m."""
        r = self.rng
        loop_ints = [(n, lh) for n, lh in self.ints.items()]
        if loop_ints and r.random() < 0.55:
            name, (lo, hi) = r.choice(loop_ints)
            forms = [f"{name} % {m}", f"({name} + 1) % {m}", f"{m - 1} - {name} % {m}", f"-1 - {name} % {m}"]
            if 0 <= lo and hi < m:
                forms += [name, name]
            if -m <= lo and hi < m:
                forms.append(name)
            return r.choice(forms)
        j = r.randrange(-m, m)
        return str(j)

    # expressions

    def expr(self, shape, d=0, force=None):
        """An expression of this shape (a number for ()), using `force`'s rule at the top if given."""
        if force is None and (d >= len(self.LEAF) - 1 or self.rng.random() < self.LEAF[d]):
            return self.leaf(shape)
        rows = PRODUCTIONS if force is None else [p for p in PRODUCTIONS if force in p[2]]
        weights = [w for w, _, _ in rows]
        for _ in range(8 if force is None else 40):
            _, method, _ = self.rng.choices(rows, weights)[0]
            e = getattr(self, method)(shape, d + 1, force)
            if e is not None:
                if not e.fresh and not e.bases:  # a view of a view, one of its operands, a call's result
                    e.bases = tuple(b for k in e.kids for b in k.bases)
                return e
        return None if force else self.leaf(shape)

    def sub(self, shape, d):
        return self.expr(shape, d)

    def leaf(self, shape):
        r = self.rng
        names = self.vars(lambda v: v.shape == shape and v.kind != "zd")
        if shape == ():
            options = [_leaf(v.name, ()) for v in names]
            zd = self.vars(lambda v: v.kind == "zd")
            options += [_leaf(r.choice(("float({})", "np.float64({})", "np.sum({})")).format(v.name), (), True)
                        for v in zd]
            if self.ints and r.random() < 0.1:
                i = r.choice(list(self.ints))
                return _leaf(r.choice((f"float({i})", f"0.1 * {i}", f"{i} * 0.25")), (), True)
            if not options or r.random() < 0.12:
                return _leaf(r.choice(CONSTANTS), (), True)
            return r.choice(options)
        if names and r.random() < 0.9:
            v = r.choice(names)
            return _leaf(v.name, shape, base=v.name)
        derived = self.derived_leaves(shape)
        if derived and r.random() < 0.85:
            return r.choice(derived)
        wide = [v for v in self.vars(lambda v: v.kind == "arr") if _broadcast(v.shape, shape) == shape]
        if wide and r.random() < 0.8:
            v = r.choice(wide)
            return Expr(f"{{p0}} * np.ones({_tuple_text(shape)})" if r.random() < 0.5
                        else f"{{p0}} + np.zeros({_tuple_text(shape)})", [_leaf(v.name, v.shape)], shape)
        num = self.leaf(())
        if r.random() < 0.5:
            return Expr(f"np.full({_tuple_text(shape)}, {{0}})", [num], shape)
        return Expr(f"{{p0}} * np.ones({_tuple_text(shape)})", [num], shape)

    def derived_leaves(self, shape):
        """Views of names in scope that have this shape: a row, a slice, a transpose, a reshape."""
        out = []
        for v in self.vars(lambda v: v.kind == "arr"):
            s = v.shape
            if s[1:] == shape:
                out.append(_leaf(f"{v.name}[{self.int_index(s[0])}]", shape, base=v.name))
            if len(s) == len(shape) >= 1 and s[1:] == shape[1:] and s[0] > shape[0]:
                lo = self.rng.randrange(s[0] - shape[0] + 1)
                out.append(_leaf(f"{v.name}[{lo}:{lo + shape[0]}]", shape, base=v.name))
            if len(s) >= 2 and s[::-1] == shape:
                out.append(_leaf(f"{v.name}.T", shape, base=v.name))
            if len(s) != len(shape) and size(s) == size(shape) and shape != () and s != ():
                out.append(_leaf(f"{v.name}.reshape({_tuple_text(shape)})", shape, base=v.name))
        return out

    def condition(self, d=1, force=None):
        """A condition (an Expr of shape None) over numbers, or over loop ints."""
        r = self.rng
        ints = list(self.ints)
        table = CONDITIONS + (INT_CONDITIONS if ints else ())
        if ints and force in _covers(RARE_CONDITIONS):  # (only where the rules family asks for it)
            table = RARE_CONDITIONS
        if force:
            table = [row for row in table if force in row[1]]
            if not table:
                return None
        fmt, _ = r.choice(table)
        if "{i}" in fmt:
            return Expr(fmt.replace("{i}", r.choice(ints)), [], None)
        if " is " in fmt:  # `x is None`: a name, not a literal
            names = self.vars(lambda v: v.shape == ())
            if not names:
                return None if force else Expr("{p0} > 0.0", [self.sub((), d)], None)
            return Expr(fmt, [_leaf(r.choice(names).name, ())], None)
        kids = [self.sub((), d) for _ in range(fmt.count("{p1}") + fmt.count("{1}") + 1)]
        if "{p1}" not in fmt and "{1}" not in fmt:
            kids = kids[:1]
        if r.random() < 0.15 and self.vars(lambda v: v.kind == "arr"):
            v = r.choice(self.vars(lambda v: v.kind == "arr"))
            kids[0] = Expr(r.choice(("np.sum({0})", "np.max({0})", "np.mean({0})")), [self.sub(v.shape, d)], ())
        return Expr(fmt, kids, None)

    def with_axis(self, shape, first=0.0):
        """(a shape with one more axis, where) that drops to `shape`: a name's (most often) or new."""
        r = self.rng
        have = [(s, k) for s in set(self.shapes()) for k in range(len(s)) if s[:k] + s[k + 1:] == shape]
        if r.random() < first:
            have = [(s, k) for s, k in have if k == 0]
        if have and r.random() < 0.85:
            return r.choice(sorted(have))
        k = 0 if r.random() < first else r.randrange(len(shape) + 1)
        return shape[:k] + (self.dim(),) + shape[k:], k

    def _kid_shapes(self, shape):
        """Two shapes that broadcast to `shape`."""
        r = self.rng
        if not shape:
            return (), ()
        u = r.random()
        full = shape
        if u < 0.55:
            other = shape
        elif u < 0.7:
            other = ()
        elif u < 0.82:
            other = shape[r.randrange(1, len(shape) + 1):] if len(shape) > 1 else ()
        else:
            ones = [k for k in range(len(shape)) if r.random() < 0.5] or [0]
            other = tuple(1 if k in ones else n for k, n in enumerate(shape))
            if r.random() < 0.3:  # both partial: (m, 1) and (1, n)
                full = tuple(n if k in ones else 1 for k, n in enumerate(shape))
        pair = (full, other) if r.random() < 0.5 else (other, full)
        return pair

    def pick(self, table, force):
        """A template of `table` (one that exercises `force`, if given)."""
        rows = [row for row in table if (force is None or force in row[1]) and self.compiles(row[0])]
        if not rows:
            return None
        weights = [RARE_KEYWORD if "(a=" in fmt and force is None else 1.0 for fmt, _ in rows]
        return self.rng.choices(rows, weights)[0][0]

    def compiles(self, fmt):
        """Whether Numba compiles a template (always true unless the program is for the jit oracle)."""
        return not self.numba or not any(text in fmt for text in NUMBA_REFUSES) and not (
            "np.clip(" in fmt and "{1}" in fmt) and not ("axis={axis}" in fmt and "sum(" not in fmt) and not (
            "{axis}" in fmt and "sum(" not in fmt and "cumsum(" not in fmt)

    @production(10, _covers(UNARY, UNARY_MATH))
    def unary(self, shape, d, force):
        table = UNARY + (UNARY_MATH if shape == () else ())
        if shape == () and force is None and self.rng.random() < 0.5:
            table = UNARY_MATH
        fmt = self.pick(table, force)
        if fmt is None:
            return None
        return Expr(fmt, [self.sub(shape, d)], shape)

    @production(14, _covers(BINARY, BINARY_MATH))
    def binary(self, shape, d, force):
        table = BINARY + (BINARY_MATH if shape == () else ())
        if shape == () and force is None and self.rng.random() < 0.3:
            table = BINARY_MATH
        fmt = self.pick(table, force)
        if fmt is None:
            return None
        a, b = self._kid_shapes(shape)
        if "np.clip" in fmt and a != shape:
            a, b = b, a
        return Expr(fmt, [self.sub(a, d), self.sub(b, d)], shape)

    @production(3, _covers(CONDITIONS, INT_CONDITIONS, RARE_CONDITIONS, ARRAY_CONDITIONS) | {"np.where"})
    def select(self, shape, d, force):
        """np.where(condition, a, b) over arrays, `a if condition else b` over anything."""
        r = self.rng
        array_ok = shape != () and (force in (None, "np.where") or force in _covers(ARRAY_CONDITIONS))
        scalar_ok = force is None or force in _covers(CONDITIONS) or force in _covers(INT_CONDITIONS, RARE_CONDITIONS) \
            and self.ints
        if not (array_ok or scalar_ok):
            return None
        if array_ok and (not scalar_ok or r.random() < 0.7):
            fmt = self.pick(ARRAY_CONDITIONS, force if force != "np.where" else None)
            cs = [self._kid_shapes(shape)[0] for _ in range(2)]
            kids = [self.sub(cs[0], d), self.sub(cs[1], d)][:2 if "{p1}" in fmt else 1]
            a, b = self._kid_shapes(shape)
            return Expr("np.where({2}, {0}, {1})", [self.sub(a, d), self.sub(b, d), Expr(fmt, kids, None)], shape)
        cond = self.condition(d, force)
        if cond is None:
            return None
        return Expr("{p0} if {2} else {p1}", [self.sub(shape, d), self.sub(shape, d), cond], shape, fresh=False)

    @production(2, _covers(NONDIFF, NONDIFF_NUM) | {"len", "np.size", "np.shape", "np.argmax", "np.argmin",
                                                     "np.argsort", "np.zeros", "np.ones", "np.eye", "np.identity",
                                                     "np.arange", "np.linspace"})
    def nondiff(self, shape, d, force):
        r = self.rng
        forms = []
        for fmt, covers in NONDIFF + (NONDIFF_NUM if shape == () else ()):
            forms.append((fmt, covers, [shape, shape]))
        any_shape = self.pick_shape(r.randint(1, 3))
        forms += [("{p0} * len({1})", ("len",), [shape, any_shape]),
                  ("{p0} * np.size({1})", ("np.size",), [shape, any_shape]),
                  ("{p0} * np.shape({1})[0]", ("np.shape",), [shape, any_shape]),
                  ("{p0} + 0.1 * np.argmax({1})", ("np.argmax",), [shape, any_shape]),
                  ("{p0} - 0.1 * np.argmin({1})", ("np.argmin",), [shape, any_shape]),
                  ("{p0} + 0.01 * np.sum(np.argsort({1}))", ("np.argsort",), [shape, any_shape[:1]])]
        if shape:
            k, text = shape[-1], _tuple_text(shape)
            forms += [(f"{{p0}} + np.zeros({text})", ("np.zeros",), [shape]),
                      (f"{{p0}} * np.ones({text})", ("np.ones",), [shape]),
                      (f"{{p0}} @ np.eye({k})", ("np.eye", "operator.matmul"), [shape]),
                      (f"{{p0}} + 0.1 * np.arange({k})", ("np.arange",), [shape]),
                      (f"{{p0}} * np.linspace(0.5, 1.5, {k})", ("np.linspace",), [shape])]
            if len(shape) >= 2:
                forms.append((f"np.identity({shape[-2]}) @ {{p0}}", ("np.identity", "operator.matmul"), [shape]))
        forms = [f for f in forms if force is None or force in f[1]]
        if not forms:
            return None
        fmt, _, shapes = r.choice(forms)
        return Expr(fmt, [self.sub(s, d) for s in shapes], shape)

    @production(6, _covers(REDUCE_FULL, REDUCE_AXIS, TRACE))
    def reduce(self, shape, d, force):
        r = self.rng
        full_ok = shape == () and (force is None or force in _covers(REDUCE_FULL, TRACE))
        axis_ok = len(shape) < 4 and (force is None or force in _covers(REDUCE_AXIS))
        if full_ok and (not axis_ok or r.random() < 0.75):
            rows = REDUCE_FULL + (TRACE if r.random() < 0.15 or force in _covers(TRACE) else ())
            fmt = self.pick(rows, force)
            if fmt is None:  # (none of the forced rule's forms compiles under Numba)
                return None
            if "trace" in fmt:
                src = (self.dim(), self.dim())
            elif _KINKED in fmt or "norm" in fmt:
                return self.varied_reduction(fmt, None, d)
            else:
                src = self.pick_shape(r.randint(1, 4))
            return Expr(fmt, [self.sub(src, d)], shape)
        if not axis_ok:
            return None
        fmt = self.pick(REDUCE_AXIS, force)
        if fmt is None:
            return None
        if _KINKED in fmt:
            return self.varied_reduction(fmt, shape, d)
        ones = [k for k, s in enumerate(shape) if s == 1]
        if ones and r.random() < 0.4:  # keepdims=True: the axis reduced stays, of length 1
            k = r.choice(ones)
            src = shape[:k] + (self.dim(),) + shape[k + 1:]
            axis = str(k) if r.random() < 0.75 else str(k - len(src))
            if size(src) > MAX_SIZE:
                return None
            fmt = fmt[:-1] + ", keepdims=True)"
            return Expr(fmt.replace("{axis}", axis), [self.sub(src, d)], shape)
        src, k = self.with_axis(shape)
        axis = str(k) if r.random() < 0.75 else str(k - len(src))
        if len(src) <= 3 and r.random() < 0.12 and not self.numba and "ddof" not in fmt and ".sum(" not in fmt and "{axis})" in fmt:
            k2 = r.randrange(len(src) + 1)  # two axes at once
            src = src[:k2] + (self.dim(),) + src[k2:]
            ks = sorted((k if k < k2 else k + 1, k2))
            axis = f"({ks[0]}, {ks[1]})"
        if size(src) > MAX_SIZE:
            return None
        return Expr(fmt.replace("{axis}", axis), [self.sub(src, d)], shape)

    def varied_reduction(self, fmt, shape, d):
        """np.std and np.linalg.norm (of all entries, or along an axis giving `shape`) of values that
        vary along it: an argument's (plus a term). Of equal values they have no derivative."""
        r = self.rng
        args = [v for v in self.vars(lambda v: v.varied and v.kind == "arr")]
        if shape is None:
            options = [(v, None) for v in args]
        else:
            options = [(v, k) for v in args for k in range(len(v.shape))
                       if v.shape[:k] + v.shape[k + 1:] == shape and v.shape[k] >= 2]
        if not options:
            return None
        v, k = r.choice(options)
        leaf = _leaf(v.name, v.shape, base=v.name)
        src = leaf if r.random() < 0.6 else Expr("{p0} + 0.5 * {p1}", [leaf, self.sub(v.shape, d)], v.shape)
        if k is not None:
            fmt = fmt.replace("{axis}", str(k) if r.random() < 0.75 else str(k - len(v.shape)))
        return Expr(fmt, [src], () if shape is None else shape)

    @production(2, _covers(CUMSUM, CUMSUM_FLAT) | {"np.diff"})
    def scan(self, shape, d, force):
        r = self.rng
        if not shape:
            return None
        if force == "np.diff" or force is None and r.random() < 0.3:
            src = shape[:-1] + (shape[-1] + 1,)
            return Expr(r.choice(("np.diff({0})", "np.diff(a={0})")), [self.sub(src, d)], shape)
        if len(shape) == 1 and (force is None and r.random() < 0.35 or force and self.pick(CUMSUM, force) is None):
            fmt = self.pick(CUMSUM_FLAT, force)
            src = [s for s in self.shapes() if size(s) == shape[0] and len(s) >= 1] or [shape]
            return Expr(fmt, [self.sub(r.choice(src), d)], shape)
        fmt = self.pick(CUMSUM, force)
        if fmt is None:
            return None
        k = r.randrange(len(shape))
        axis = str(k) if r.random() < 0.8 else str(k - len(shape))
        return Expr(fmt.replace("{axis}", axis), [self.sub(shape, d)], shape)

    @production(5, _covers(MATMUL, OUTER, TRACE))
    def linalg(self, shape, d, force):
        r = self.rng
        n = len(shape)
        options = []  # (fmt table, kid shapes as a function of the inner dimension k)
        if n == 0:
            options += [(MATMUL, lambda k: [(k,), (k,)]), (TRACE, lambda k: [(k, self.dim())])]
        if n == 1:
            options += [(MATMUL, lambda k: [shape + (k,), (k,)]), (MATMUL, lambda k: [(k,), (k,) + shape])]
        if n == 2:
            m, q = shape
            options += [(MATMUL, lambda k: [(m, k), (k, q)]), (OUTER, lambda k: [(m,), (q,)]),
                        (MATMUL, lambda k: [(k,), (m, k, q)])]
            splits = [(a, m // a) for a in (2, 3) if m % a == 0 and m > a]
            if splits:
                options.append((OUTER, lambda k: [r.choice(splits), (q,)]))
        if n == 3:
            b, m, q = shape
            options += [(MATMUL, lambda k: [(b, m, k), (k, q)]), (BATCHED, lambda k: [(b, m, k), (b, k, q)]),
                        (BATCHED, lambda k: [(m, k), (b, k, q)]),
                        (_t(("np.dot({0}, {1})", "np.dot"), ("{p0}.dot({1})", "ndarray.dot")),
                         lambda k: [(b, k), (m, k, q)])]
        if n == 4:
            a, b, m, q = shape
            options += [(MATMUL, lambda k: [(a, b, m, k), (k, q)]), (BATCHED, lambda k: [(a, b, m, k), (b, k, q)])]
        have = set(self.shapes())
        ks = sorted(set(self.dims) | {x for s in have for x in s})
        pairs = [(t, f(k)) for t, f in options if self.pick(t, force) for k in ks]
        pairs = [(t, kids) for t, kids in pairs if all(size(x) <= MAX_SIZE and (len(x) <= 2 or not self.numba)
                                                       for x in kids)]
        if not pairs:
            return None
        known = [(t, kids) for t, kids in pairs if any(x in have for x in kids)]
        table, kids = r.choice(known if known and r.random() < 0.85 else pairs)
        return Expr(self.pick(table, force), [self.sub(x, d) for x in kids], shape)

    @production(4, _covers(TRANSPOSE, RESHAPE, FLATTEN) | {"np.expand_dims", "np.concatenate", "np.stack"})
    def reshape(self, shape, d, force):
        r = self.rng
        n = len(shape)
        options = []
        if n >= 1:
            options.append("transpose")
            options.append("reshape")
            if n == 1:
                options.append("flatten")
            if 1 in shape:
                options.append("expand")
            options += ["concatenate", "stack"]
        allowed = {"transpose": _covers(TRANSPOSE), "reshape": _covers(RESHAPE), "flatten": _covers(FLATTEN),
                   "expand": {"np.expand_dims"}, "concatenate": {"np.concatenate"}, "stack": {"np.stack"}}
        options = [o for o in options if force is None or force in allowed[o]]
        if not options:
            return None
        return getattr(self, "_" + r.choice(options))(shape, d, force)

    def _transpose(self, shape, d, force):
        fmt = self.pick(TRANSPOSE, force)
        return Expr(fmt, [self.sub(shape[::-1], d)], shape, fresh=False)

    def _reshape(self, shape, d, force):
        r = self.rng
        candidates = [s for s in self.shapes() if size(s) == size(shape) and s != shape]
        if not candidates or r.random() < 0.3:
            candidates.append((size(shape),) if len(shape) > 1 else tuple(self._factor(shape[0])))
        src = r.choice(candidates)
        if src == shape:
            return None
        fmt = self.pick(RESHAPE, force)
        j = r.randrange(len(shape))
        minus = _tuple_text(tuple(-1 if i == j else s for i, s in enumerate(shape)))
        text = fmt.replace("{shape}", _tuple_text(shape)).replace("{minus}", minus)
        text = text.replace("{star}", ", ".join(map(str, shape)))
        return Expr(text, [self.sub(src, d)], shape, fresh=False)

    def _factor(self, m):
        for a in (2, 3, 4, 5):
            if m % a == 0 and m > a:
                return (a, m // a)
        return (m, 1)

    def _flatten(self, shape, d, force):
        srcs = [s for s in self.shapes() if size(s) == shape[0] and len(s) >= 2]
        src = self.rng.choice(srcs) if srcs else self._factor(shape[0])
        fmt = self.pick(FLATTEN, force)
        return Expr(fmt, [self.sub(src, d)], shape, fresh="flatten" in fmt)

    def _expand(self, shape, d, force):
        r = self.rng
        k = r.choice([i for i, s in enumerate(shape) if s == 1])
        src = shape[:k] + shape[k + 1:]
        if not src:
            return None
        forms = [f"np.expand_dims({{0}}, {k})", f"np.expand_dims({{0}}, axis={k})"]
        if force is None:
            index = [":"] * k + [r.choice(("None", "np.newaxis"))]
            forms += ["{p0}[" + ", ".join(index) + "]"] * 2
            if k == len(shape) - 1 and k > 0:
                forms.append("{p0}[..., None]")
        return Expr(r.choice(forms), [self.sub(src, d)], shape, fresh=False)

    def _concatenate(self, shape, d, force):
        r = self.rng
        axes = [k for k, s in enumerate(shape) if s >= 2]
        if not axes:
            return None
        k = r.choice(axes)
        cut = r.randint(1, shape[k] - 1)
        parts = [shape[:k] + (cut,) + shape[k + 1:], shape[:k] + (shape[k] - cut,) + shape[k + 1:]]
        kids = [self.sub(p, d) for p in parts]
        seq = r.choice(("({0}, {1})", "[{0}, {1}]"))
        if k == 0 and r.random() < 0.4:
            fmt = f"np.concatenate({seq})"
        else:
            axis = k if r.random() < 0.8 else k - len(shape)
            fmt = f"np.concatenate({seq}, axis={axis})"
        return Expr(fmt, kids, shape)

    def _stack(self, shape, d, force):
        r = self.rng
        axes = [k for k, s in enumerate(shape) if 2 <= s <= 3]
        if not axes:
            return None
        k = r.choice(axes)
        part = shape[:k] + shape[k + 1:]
        if self.numba and not part:
            return None
        kids = [self.sub(part, d) for _ in range(shape[k])]
        seq = "(" + ", ".join(f"{{{i}}}" for i in range(len(kids))) + ")"
        if k == 0 and r.random() < 0.4:
            fmt = f"np.stack({seq})"
        else:
            fmt = r.choice((f"np.stack({seq}, axis={k})", f"np.stack(arrays={seq}, axis={k})"))
        return Expr(fmt, kids, shape)

    @production(3, _covers(COPIES) | {"np.array", "np.full", "np.linspace", "np.float64", "float"})
    def build(self, shape, d, force):
        r = self.rng
        options = []
        if shape == ():
            options += ["np.float64({0})", "float({0})"]
        if len(shape) == 1 and shape[0] <= 4:
            options += ["array"] * (r.random() < 0.5 or force is not None) + ["linspace"] * (r.random() < 0.2 or force is not None)
        if len(shape) == 2 and shape[0] <= 3 and shape[1] <= 3 and (r.random() < 0.5 or force is not None):
            options += ["nested"]
        if len(shape) == 2 and shape[0] <= 3 and (r.random() < 0.3 or force is not None):
            options.append("rows")
        if shape:
            options += ["full", "full", "copy", "copy", "copy", "copy"]
        allowed = {"array": {"np.array"}, "nested": {"np.array"}, "rows": {"np.array"}, "linspace": {"np.linspace"},
                   "full": {"np.full"}, "copy": _covers(COPIES), "np.float64({0})": {"np.float64"},
                   "float({0})": {"float"}}
        options = [o for o in options if force is None or force in allowed[o]]
        if not options:
            return None
        choice = r.choice(options)
        if choice in ("np.float64({0})", "float({0})"):
            return Expr(choice, [self.sub((), d)], ())
        if choice == "array":
            kids = [self.sub((), d) for _ in range(shape[0])]
            return Expr("np.array([" + ", ".join(f"{{{i}}}" for i in range(len(kids))) + "])", kids, shape)
        if choice == "nested":
            kids = [self.sub((), d) for _ in range(size(shape))]
            rows = ["[" + ", ".join(f"{{{i * shape[1] + j}}}" for j in range(shape[1])) + "]"
                    for i in range(shape[0])]
            return Expr("np.array([" + ", ".join(rows) + "])", kids, shape)
        if choice == "rows":
            kids = [self.sub(shape[1:], d) for _ in range(shape[0])]
            return Expr("np.array([" + ", ".join(f"{{{i}}}" for i in range(len(kids))) + "])", kids, shape)
        if choice == "linspace":
            return Expr(f"np.linspace({{0}}, {{1}}, {shape[0]})", [self.sub((), d), self.sub((), d)], shape)
        if choice == "full":
            text = str(shape[0]) if len(shape) == 1 and r.random() < 0.5 else _tuple_text(shape)
            fmts = [f for f in (f"np.full({text}, {{0}})", f"np.full({text}, fill_value={{0}})",
                                f"np.full(shape={text}, fill_value={{0}}, dtype=np.float64)") if self.compiles(f)]
            return Expr(r.choice(fmts), [self.sub((), d)], shape) if fmts else None
        fmt = self.pick(COPIES, force)
        if fmt is None:  # (the copy asked for is one Numba refuses, in a program for the jit oracle)
            return None
        return Expr(fmt, [self.sub(shape, d)], shape, fresh="asarray" not in fmt)

    @production(6)
    def index(self, shape, d, force):
        r = self.rng
        n = len(shape)
        options = ["int", "slice", "slice"]
        if n <= 2:
            options += ["int2", "int_array", "mask"]
        if n >= 1:
            options += ["int_array", "newaxis"] + (["labels"] if n == 1 else [])
        if n <= 3:
            options += ["int"]
        e = getattr(self, "_index_" + r.choice(options))(shape, d)
        if e is not None and size(e.kids[0].shape) > MAX_SIZE:
            return None
        return e

    def _source(self, shape, d):
        """The array that is indexed: a name (often) or an intermediate value."""
        return self.sub(shape, d + (1 if self.rng.random() < 0.5 else 0))

    def _index_int(self, shape, d):
        r = self.rng
        if len(shape) >= 4:
            return None
        src, k = self.with_axis(shape, first=0.7)
        m = src[k]
        if k == 0:
            fmt = f"{{p0}}[{self.int_index(m)}]"
        elif k == len(src) - 1 and r.random() < 0.4:
            fmt = f"{{p0}}[..., {self.int_index(m)}]"
        else:
            fmt = "{p0}[" + ":, " * k + self.int_index(m) + "]"
        kid = self._source(src, d)
        return Expr(fmt, [kid], shape, fresh=shape == (), bases=kid.bases)

    def _index_int2(self, shape, d):
        m1, m2 = self.dim(), self.dim()
        if self.rng.random() < 0.3:
            fmt = f"{{p0}}[{self.int_index(m1)}][{self.int_index(m2)}]"
        else:
            fmt = f"{{p0}}[{self.int_index(m1)}, {self.int_index(m2)}]"
        kid = self._source((m1, m2) + shape, d)
        return Expr(fmt, [kid], shape, fresh=shape == (), bases=kid.bases)

    def _slice(self, m, want):
        """A slice (text) of a dimension of size m that gives `want` entries, or None."""
        r = self.rng
        forms = []
        if want <= m:
            lo = r.randrange(m - want + 1)
            forms += [f"{lo}:{lo + want}", f"{lo}:{lo + want}"]
            if lo == 0:
                forms.append(f":{want}")
                if want < m:
                    forms.append(f":{want - m}")
            if lo + want == m:
                forms += [f"{lo}:", f"-{want}:"]
            if want == m:
                forms += ["::-1", ":"]
            hi = lo + want - 1
            forms.append(f"{hi}:{lo - 1 if lo else ''}:-1")
        if (m + 1) // 2 == want:
            forms += ["::2", "::-2"]
        if m // 2 == want and want:
            forms.append("1::2")
        return r.choice(forms) if forms else None

    def _index_slice(self, shape, d):
        r = self.rng
        if not shape:
            return None
        have = [(s, k) for s in set(self.shapes()) for k in range(len(s)) if len(s) == len(shape)
                and s[:k] + s[k + 1:] == shape[:k] + shape[k + 1:] and s[k] >= shape[k]]
        if have and r.random() < 0.85:
            src, k = r.choice(sorted(have))
            m = src[k]
        else:
            k = r.randrange(len(shape))
            m = shape[k] + r.choice((0, 1, 1, 2))
            src = shape[:k] + (m,) + shape[k + 1:]
        text = self._slice(m, shape[k])
        if text is None:
            return None
        fmt = "{p0}[" + ":, " * k + text + "]"
        if k > 0 and k == len(shape) - 1 and r.random() < 0.3:
            fmt = "{p0}[..., " + text + "]"
        kid = self._source(src, d)
        return Expr(fmt, [kid], shape, fresh=False, bases=kid.bases)

    def _index_newaxis(self, shape, d):
        """x[lo:hi, np.newaxis]-style: a slice and a new axis at once."""
        r = self.rng
        if len(shape) < 2 or 1 not in shape[1:]:
            return None
        k = r.choice([i for i in range(1, len(shape)) if shape[i] == 1])
        m = shape[0] + r.choice((0, 1, 2))
        text = self._slice(m, shape[0])
        if text is None:
            return None
        src = (m,) + tuple(s for i, s in enumerate(shape) if i not in (0, k))
        index = [text] + [":"] * (k - 1) + [r.choice(("np.newaxis", "None"))]
        kid = self._source(src, d)
        return Expr("{p0}[" + ", ".join(index) + "]", [kid], shape, fresh=False, bases=kid.bases)

    def _index_int_array(self, shape, d):
        """a[idx], a[:, idx], a[idx, lo:hi] with idx an int array (an argument or a literal)."""
        r = self.rng
        if not shape:
            return None
        have = [s[0] for s in self.shapes() if s[1:] == shape[1:]]
        m = r.choice(have) if have and r.random() < 0.8 else self.dim()
        axis = 1 if len(shape) >= 2 and r.random() < 0.3 else 0
        text = self.int_array_of(m, shape[axis])
        if text is None:
            return None
        if axis == 1:
            kid = self._source((shape[0], m) + shape[2:], d)
            return Expr(f"{{p0}}[:, {text}]", [kid], shape)
        if len(shape) >= 2 and r.random() < 0.3:
            m2 = shape[1] + r.choice((0, 1))
            sl = self._slice(m2, shape[1])
            if sl:
                kid = self._source((m, m2) + shape[2:], d)
                return Expr(f"{{p0}}[{text}, {sl}]", [kid], shape)
        kid = self._source((m,) + shape[1:], d)
        return Expr(f"{{p0}}[{text}]", [kid], shape)

    def int_array_of(self, m, length):
        """An int array (text) of `length` entries indexing a dimension of size m, or None."""
        r = self.rng
        args = [n for n, v in self.int_arrays.items() if len(v) == length and v.max() < m and v.min() >= -m]
        if args and r.random() < 0.7:
            return r.choice(args)
        if length > 4:
            return None
        values = ", ".join(str(r.randrange(m)) for _ in range(length))
        return f"[{values}]" if r.random() < 0.25 else f"np.array([{values}])"

    def _index_labels(self, shape, d):
        """logp[np.arange(n), labels]: one entry per row."""
        r = self.rng
        n = shape[0]
        c = self.dim()
        labels = [(name, v) for name, v in self.int_arrays.items() if len(v) == n and v.max() < c and v.min() >= 0]
        if labels and r.random() < 0.6:
            text = r.choice(labels)[0]
        else:
            text = f"np.array([{', '.join(str(r.randrange(c)) for _ in range(n))}])"
        rows = r.choice((f"np.arange({n})", f"[{', '.join(map(str, range(n)))}]"))
        kid = self._source((n, c), d)
        return Expr(f"{{p0}}[{rows}, {text}]", [kid], shape)

    def _index_mask(self, shape, d):
        r = self.rng
        if not shape:
            return None
        count = shape[0]
        m = count + r.randint(0, 2)
        if m > 5:
            return None
        chosen = sorted(r.sample(range(m), count))
        bits = ", ".join("True" if i in chosen else "False" for i in range(m))
        kid = self._source((m,) + shape[1:], d)
        return Expr(f"{{p0}}[np.array([{bits}])]", [kid], shape)

    @production(4)
    def call(self, shape, d, force):
        r = self.rng
        options = [h for h in self.helpers if not h.pairs and h.ret == shape]
        if self.lambdas and r.random() < 0.5:
            name = r.choice(self.lambdas)
            return Expr(f"{name}({{0}})", [self.sub(shape, d)], shape, fresh=False)
        if not options:
            return None
        h = r.choice(options)
        kids = [self.sub(s, d) for s in h.shapes]
        params = [f"{{{i}}}" for i in range(len(kids))]
        if h.default and r.random() < 0.6:
            kids.append(self.sub((), d))
            params.append(r.choice((f"{{{len(kids) - 1}}}", f"c={{{len(kids) - 1}}}")))
        if h.depth:
            params.append(str(h.depth))
        return Expr(f"{h.name}(" + ", ".join(params) + ")", kids, shape)

    # statements

    def block(self, count, ctx, first=None):
        """`count` statements; the names they bind stay in scope after them (the caller restores)."""
        out = []
        table = LOOP_STATEMENTS if ctx.loops else TOP_STATEMENTS
        kinds, weights = zip(*table.items())
        for k in range(count):
            kind = first if k == 0 and first else self.rng.choices(kinds, weights)[0]
            if kind == "loop" and len(ctx.loops) >= 2:
                kind = "update"
            stmts = getattr(self, "s_" + kind)(ctx)
            if stmts is None:
                stmts = self.s_temp(ctx)
            else:
                self.notes.add(kind)
            out += stmts
        return out

    def nested(self, count, ctx, first=None):
        """A block in a scope of its own: (statements, names it bound that the scope outside may
        keep (bound before any jump), whether it jumps (break, continue, return))."""
        saved = (dict(self.scope), dict(self.ints), list(self.lambdas), self.jumped, self.leakable)
        self.jumped, self.leakable = False, {}
        stmts = self.block(count, ctx, first)
        leak = {n: v for n, v in self.leakable.items() if self.scope.get(n) is v}
        jumped = self.jumped
        scope, self.ints, self.lambdas, self.jumped, self.leakable = saved
        for name, v in self.scope.items():  # a buffer rebound in the block to a view is a buffer no more
            if name in scope and not v.buffer:
                scope[name].buffer = False
        self.scope = scope
        return stmts, leak, jumped

    def target(self, stmt_shape=None, allow_new=0.5):
        """A name to assign: an existing local (same shape when given) or a new one."""
        r = self.rng
        olds = self.vars(lambda v: not (v.arg or v.const or v.frozen or v.kind == "zd")
                         and (stmt_shape is None or v.shape == stmt_shape))
        if olds and r.random() > allow_new:
            v = r.choice(olds)
            return v.name, v.shape
        shape = stmt_shape if stmt_shape is not None else self.pick_shape()
        return self.new_name("h" if shape else "s"), shape

    def unshared(self, e, into_buffer=False):
        """e, or a copy of it when it may share memory with a buffer (or goes into one)."""
        shared = [self.scope[b] for b in e.bases if b in self.scope]
        if not e.fresh and e.shape and (into_buffer or any(v.buffer for v in shared)):
            e = Expr(self.rng.choice(("{p0}.copy()", "np.copy({0})", "{p0} * 1.0")), [e], e.shape)
        return e

    def assign(self, name, e, fmt="{0}"):
        """`name = e`, copying e when it would make a view of a buffer (or put a view in a buffer)."""
        old = self.scope.get(name)
        e = self.unshared(e, old is not None and old.buffer)
        fresh = e.fresh or fmt != "{0}"
        self.bind(name, e.shape, fresh)
        self.track(name)
        return Stmt(f"{name} = " + fmt, [e])

    def track(self, name):
        """A name bound: read it in the result; keep it after the loop when that is safe."""
        if name not in self.observe:
            self.observe.append(name)
        if not self.jumped and name not in self.leakable:
            self.leakable[name] = self.scope[name]

    def s_temp(self, ctx):
        name, shape = self.target(allow_new=0.8)
        return [self.assign(name, self.expr(shape))]

    def s_update(self, ctx):
        r = self.rng
        olds = self.vars(lambda v: not (v.arg or v.const or v.frozen or v.kind == "zd"))
        if not olds:
            return None
        v = r.choice(olds)
        e = self.expr(v.shape)
        u = r.random()
        if u < 0.45:
            return [self.assign(v.name, e)]
        if u < 0.75:
            tanh = "math.tanh" if v.shape == () and r.random() < 0.5 else "np.tanh"
            return [self.assign(v.name, Expr(f"{r.choice(('0.5', '0.8'))} * {v.name} + 0.5 * {tanh}({{0}})",
                                             [e], v.shape))]
        return [self.assign(v.name, Expr(f"{v.name} + {r.choice(('0.1', '0.3'))} * {{p0}}", [e], v.shape))]

    def rhs_shape(self, shape):
        """A shape that broadcasts into `shape` (for in-place operators and slice writes)."""
        r = self.rng
        if not shape or r.random() < 0.7:
            return shape
        if r.random() < 0.5:
            return ()
        return shape[r.randrange(1, len(shape) + 1):] if len(shape) > 1 else ()

    def s_aug(self, ctx):
        r = self.rng
        olds = self.vars(lambda v: not (v.arg or v.const or v.frozen) and (v.kind == "num" or v.buffer))
        if not olds:
            return None
        v = r.choice(olds)
        e = self.expr(self.rhs_shape(v.shape))
        op = r.choice(("+=", "-=", "*=", "/=", "+="))
        if op == "*=":
            e = Expr("(1.0 + 0.1 * np.tanh({0}))", [e], e.shape) if r.random() < 0.7 else Expr("0.9", [], ())
        elif op == "/=":
            e = Expr("1.1", [], ())
        elif r.random() < 0.5:
            e = Expr("0.1 * {p0}", [e], e.shape)
        self.track(v.name)
        return [Stmt(f"{v.name} {op} {{0}}", [e])]

    def s_invariant(self, ctx):
        """An assignment that reads only arguments (the same value on every trip), read after the loop."""
        if not ctx.loops:
            return None
        saved_scope, saved_ints = self.scope, self.ints
        self.scope = {n: v for n, v in self.scope.items() if v.arg or v.const}
        self.ints = {}
        shape = self.pick_shape(new=0.2)
        e = self.expr(shape)
        self.scope, self.ints = saved_scope, saved_ints
        name = self.new_name("inv")
        return [self.assign(name, e)]

    def s_dead(self, ctx):
        """A value stored and overwritten before it is read."""
        r = self.rng
        name, shape = self.target(allow_new=0.6)
        if shape == () and r.random() < 0.5:
            first = Expr("math.sqrt(1.0 + {p0} * {p0})" if r.random() < 0.5 else "math.sqrt(1.0 + {p0} ** 2)",
                         [self.expr(())], ())
        else:
            first = self.expr(shape)
        a = self.assign(name, first)
        return [a, self.assign(name, self.expr(shape))]

    def s_swap(self, ctx):
        r = self.rng
        olds = self.vars(lambda v: not (v.arg or v.const or v.frozen or v.buffer or v.kind == "zd"))
        if not olds:
            return None
        a = r.choice(olds)
        pals = [v for v in olds if v.shape == a.shape and v.name != a.name]
        if pals and r.random() < 0.7:
            b = r.choice(pals)
            e = self.expr(a.shape)
            stmt = Stmt(f"{a.name}, {b.name} = {b.name}, {{0}}", [Expr(f"{a.name} + {{p0}}", [e], a.shape)])
            self.bind(a.name, a.shape, fresh=False)
            self.bind(b.name, b.shape, fresh=True, buffer=False)
            self.track(a.name)
            self.track(b.name)
            return [stmt]
        name = self.new_name("q" if a.shape else "w")
        e1, e2 = self.expr(a.shape), self.expr(a.shape)
        if not e1.fresh:
            e1 = Expr("{p0} * 1.0", [e1], e1.shape)
        if not e2.fresh:
            e2 = Expr("{p0} + 0.0", [e2], e2.shape)
        self.bind(a.name, a.shape, fresh=True, buffer=False)
        self.bind(name, a.shape, fresh=True, buffer=False)
        self.track(a.name)
        self.track(name)
        return [Stmt(f"{a.name}, {name} = {{0}}, {{1}}", [e1, e2])]

    def s_chain(self, ctx):
        """a = b = e: both names the same object (so neither is written into)."""
        shape = self.pick_shape()
        e = self.unshared(self.expr(shape))
        a, b = self.new_name("c"), self.new_name("c")
        self.bind(a, shape, fresh=False)
        self.bind(b, shape, fresh=False)
        self.track(a)
        self.track(b)
        return [Stmt(f"{a} = {b} = {{0}}", [e])]

    def write_into(self, v):
        """An element or slice write into the buffer v."""
        r = self.rng
        shape = v.shape
        op = r.choice(("=", "=", "+=", "=", "-=", "*="))
        forms = ["elem", "elem", "slice", "slice"]
        if len(shape) >= 2:
            forms += ["column", "two"]
        forms += ["int_array"] * (1 if shape[0] <= 5 else 0) + ["all"] * 1 + ["mask"] * (shape[0] <= 5)
        form = r.choice(forms)
        if form == "elem":
            index, part = self.int_index(shape[0]), shape[1:]
        elif form == "slice":
            want = r.randint(1, shape[0])
            index, part = self._slice(shape[0], want), (want,) + shape[1:]
            if index is None:
                index, part = ":", shape
        elif form == "column":
            index, part = f":, {self.int_index(shape[1])}", shape[:1] + shape[2:]
        elif form == "two":
            index, part = f"{self.int_index(shape[0])}, {self.int_index(shape[1])}", shape[2:]
        elif form == "int_array":
            length = r.randint(1, 3)
            text = self.int_array_of(shape[0], length)
            index, part = text, (length,) + shape[1:]
        elif form == "mask":
            bits = [r.random() < 0.5 for _ in range(shape[0])]
            bits[r.randrange(shape[0])] = True
            index = "np.array([" + ", ".join(map(str, bits)) + "])"
            part = (sum(bits),) + shape[1:]
        else:
            index, part = r.choice((":", "...")), shape
        if op == "*=":
            e = Expr("(1.0 + 0.1 * np.tanh({0}))", [self.expr(self.rhs_shape(part))], part)
        else:
            e = self.expr(self.rhs_shape(part))
        self.track(v.name)
        return Stmt(f"{v.name}[{index}] {op} {{0}}", [e])

    def s_write(self, ctx):
        buffers = self.vars(lambda v: v.buffer and not v.frozen)
        if not buffers:
            return self.s_fresh_buffer(ctx)
        return [self.write_into(self.rng.choice(buffers))]

    def s_fresh_buffer(self, ctx, form=None):
        r = self.rng
        like = self.vars(lambda v: v.kind == "arr")
        if form == "empty_like" and like:
            shape = r.choice(like).shape
        else:
            shape = self.pick_shape(r.choice((1, 1, 2, 2, 3)), new=0.3)
        if not shape:
            return None
        name = self.new_name("buf")
        text = _tuple_text(shape) if len(shape) > 1 or r.random() < 0.5 else str(shape[0])
        like = [v for v in like if v.shape == shape]
        forms = [f"np.zeros({text})", f"np.zeros({text})", f"np.ones({text})", f"np.full({text}, 0.5)", "empty"]
        if like:
            forms += [f"np.zeros_like({like[0].name})", "empty_like"]
        form = form if form in forms else r.choice(forms)
        stmts = []
        if form in ("empty", "empty_like"):  # (one statement: the shrinker never leaves it unfilled)
            make = f"np.empty({text})" if form == "empty" else f"np.empty_like({like[0].name})"
            fill = self.expr(self.rhs_shape(shape))
            self.bind(name, shape, fresh=True)
            stmts.append(Stmt(f"{name} = {make}\n{name}[:] = {{0}}", [fill]))
        else:
            stmts.append(Stmt(f"{name} = {form}"))
            self.bind(name, shape, fresh=True)
        self.track(name)
        for _ in range(r.randint(1, 2)):
            stmts.append(self.write_into(self.scope[name]))
        return stmts

    def s_copy(self, ctx):
        r = self.rng
        arrays = self.vars(lambda v: v.kind == "arr")
        if not arrays:
            return None
        v = r.choice(arrays)
        fmt = r.choice([f for f in ("{p0}.copy()", "np.copy({0})", "{p0} * 1.0", "np.array({0})", "{p0} + 0.0",
                                    "{p0}.astype(np.float64)") if self.compiles(f)])
        name = self.new_name("y")
        stmts = [self.assign(name, Expr(fmt, [_leaf(v.name, v.shape, base=v.name)], v.shape))]
        if r.random() < 0.6:
            stmts.append(self.write_into(self.scope[name]))
        return stmts

    def s_alias(self, ctx):
        """A second name for a buffer (`w = buf`), read after writes into the buffer change it."""
        buffers = self.vars(lambda v: v.buffer and not v.frozen)
        if not buffers:
            return None
        v = self.rng.choice(buffers)
        name = self.new_name("w")
        self.bind(name, v.shape, fresh=False)
        self.track(name)
        return [Stmt(f"{name} = {v.name}")]

    def s_branch(self, ctx):
        r = self.rng
        cond = self.condition()
        body, _, jumped = self.nested(r.randint(1, 2), ctx)
        orelse = None
        if r.random() < 0.5:
            orelse, _, jumped_else = self.nested(r.randint(1, 2), ctx)
            jumped = jumped or jumped_else
        self.jumped = self.jumped or jumped
        return [Stmt("if {0}:", [cond], body, orelse)]

    def s_jump(self, ctx):
        if not ctx.jumps:
            return None
        self.jumped = True
        return [Stmt("if {0}:", [self.condition()], [Stmt(self.rng.choice(("break", "continue")))])]

    def s_early_return(self, ctx):
        if ctx.out_shape is None:
            return None
        self.jumped = True
        e = self.unshared(self.expr(ctx.out_shape), ctx.in_helper)
        return [Stmt("if {0}:", [self.condition()], [Stmt("return {0}", [e])])]

    def s_local_lambda(self, ctx):
        r = self.rng
        nums = self.vars(lambda v: v.shape == () and v.kind == "num")
        name = self.new_name("fn")
        self.lambdas.append(name)
        if nums and r.random() < 0.6:
            body = r.choice(CLOSURE_BODIES).format(c=r.choice(nums).name)
        else:
            body = r.choice(LAMBDA_BODIES)
        if r.random() < 0.4:
            return [Stmt(f"def {name}(z):", [], [Stmt(f"return {body}")])]
        return [Stmt(f"{name} = lambda z: {body}")]

    def s_split_views(self, ctx):
        """u = np.zeros(m); a, b = u[:k], u[k:]; writes into a and b: views that share no element."""
        r = self.rng
        m = r.choice((4, 5, 6))
        k = r.randint(1, m - 1)
        u, a, b = self.new_name("u"), self.new_name("va"), self.new_name("vb")
        self.bind(u, (m,), fresh=True)
        stmts = [Stmt(f"{u} = np.zeros({m})"), Stmt(f"{a}, {b} = {u}[:{k}], {u}[{k}:]")]
        stmts.append(Stmt(f"{a}[{r.randrange(k)}] = {{0}}", [self.expr(())]))
        stmts.append(Stmt(f"{b}[{r.randrange(m - k)}] += {{0}}", [self.expr(())]))
        self.scope[u].buffer = False
        self.track(u)
        return stmts

    def s_comprehension(self, ctx):
        """A name bound to a comprehension or generator expression over an array's rows or a range:
        sum(...), max(...), np.array([...])."""
        r = self.rng
        arrays = self.vars(lambda v: v.kind == "arr" and not v.buffer and 1 <= v.shape[0] <= 5)
        if not arrays:
            return None
        v = r.choice(arrays)
        m = v.shape[0]
        form = r.choice(("sum", "sum", "array", "max"))
        over_range = r.random() < 0.4
        if over_range:
            var = self.new_name("i")
            self.ints[var] = (0, m - 1)
            source = f"range({r.choice((str(m), f'len({v.name})'))})"
        else:
            var = self.new_name("r")
            self.bind(var, v.shape[1:], fresh=False, frozen=True)
            source = v.name if r.random() < 0.8 else f"reversed({v.name})"
        shape = () if form == "max" or self.numba else self.pick_shape()
        if form == "array" and m * size(shape) > MAX_SIZE:
            shape = ()
        e = self.expr(shape)
        if over_range:
            self.ints.pop(var)
        else:
            del self.scope[var]
        text = {"sum": f"sum({{0}} for {var} in {source})", "max": f"max({{0}} for {var} in {source})",
                "array": f"np.array([{{0}} for {var} in {source}])"}[form]
        out_shape = (m,) + shape if form == "array" else shape
        name = self.new_name("h" if out_shape else "s")
        self.bind(name, out_shape, fresh=True, buffer=False)
        self.track(name)
        return [Stmt(f"{name} = {text}", [e])]

    def s_grown(self, ctx):
        """A list made before a loop, appended to at the end of each run of its body (sometimes where
        a test holds), read after it: np.stack, np.array, sum, its last item or its length."""
        r = self.rng
        lst = self.new_name("items")
        before = set(self.scope)
        header, exprs, loop, ints = self.loop_header(ctx)
        self.ints.update(ints)
        shape = () if r.random() < 0.5 else self.pick_shape(r.choice((1, 1, 2)))
        if (loop.trips + 1) * size(shape) > MAX_SIZE:
            shape = ()
        inner = Ctx(ctx.loops + (loop,), ctx.in_helper, ctx.out_shape, jumps=False)
        body, leak, _ = self.nested(r.randint(0, 2), inner)
        append = Stmt(f"{lst}.append({{0}})", [self.unshared(self.expr(shape), into_buffer=True)])
        sometimes = r.random() < 0.25
        if sometimes:
            append = Stmt("if {0}:", [self.condition()], [append])
        for name in ints:
            self.ints.pop(name, None)
        for name in set(self.scope) - before:
            del self.scope[name]
        if loop.trips >= 1:
            self.keep(leak)
        if loop.trips >= 1 and not sometimes:
            reader, out = r.choice(((f"np.stack({lst})", (loop.trips,) + shape), (f"np.array({lst})",
                                    (loop.trips,) + shape), (f"sum({lst})", shape), (f"{lst}[-1]", shape),
                                    (f"{lst}[0] * len({lst})", shape)))
        else:
            reader, out = f"0.5 * len({lst})", ()
        name = self.new_name("h" if out else "s")
        self.bind(name, out, fresh=True, buffer=False)
        self.track(name)
        return [Stmt(f"{lst} = []"), Stmt(header, exprs, (body or []) + [append]), Stmt(f"{name} = {reader}")]

    def s_call_pair(self, ctx):
        pairs = [h for h in self.helpers if h.pairs]
        if not pairs:
            return None
        h = self.rng.choice(pairs)
        kids = [self.expr(s) for s in h.shapes]
        names = [self.new_name("p") for _ in h.ret]
        for name, shape in zip(names, h.ret):
            self.bind(name, shape, fresh=True, buffer=False)
            self.track(name)
        call = f"{h.name}(" + ", ".join(f"{{{i}}}" for i in range(len(kids))) + ")"
        return [Stmt(f"{', '.join(names)} = {call}", kids)]

    # loops

    def loop_header(self, ctx):
        """(header format, its exprs, Loop, ints it binds, names it binds) of a for loop."""
        r = self.rng
        i = self.new_name("i") if self.rng.random() < 0.3 else next(
            (n for n in ("i", "j", "k", "t") if n not in self.used), None) or self.new_name("i")
        self.used.add(i)
        iterable = self.vars(lambda v: v.kind == "arr" and not v.buffer and v.shape[0] <= 5)
        kinds = ["range", "range", "range_ab", "range_len", "reversed"] + [
            "rows", "enumerate", "zip", "enumerate_zip", "reversed_rows"] * bool(iterable)
        n_args = [name for name, (lo, hi) in self.ints.items() if name in self.int_args]
        if n_args:
            kinds += ["range_n"] * 4
        kind = r.choice(kinds)
        if kind == "range_n":
            n = r.choice(n_args)
            trips = self.int_args[n]
            return f"for {i} in range({n}):", [], Loop(i, "for", trips), {i: (0, trips - 1)}
        if kind == "range":
            c = r.randint(2, 4)
            return f"for {i} in range({c}):", [], Loop(i, "for", c), {i: (0, c - 1)}
        if kind == "reversed":
            a, b = r.randint(0, 2), r.randint(3, 5)
            step = r.choice((1, 2, -1, -2))
            vals = list(range(a, b, step)) if step > 0 else list(range(b - 1, a - 1, step))
            args = f"{a}, {b}" + (f", {step}" if step != 1 else "") if step > 0 else f"{b - 1}, {a - 1}, {step}"
            return f"for {i} in reversed(range({args})):", [], Loop(i, "for", len(vals)), {i: (min(vals), max(vals))}
        if kind == "range_ab":
            a, b = r.randint(0, 2), r.randint(3, 5)
            step = r.choice((1, 2, -1, -2))
            if step > 0:
                vals = list(range(a, b, step))
                text = f"range({a}, {b})" if step == 1 else f"range({a}, {b}, {step})"
            else:
                vals = list(range(b - 1, a - 1, step))
                text = f"range({b - 1}, {a - 1}, {step})"
            return f"for {i} in {text}:", [], Loop(i, "for", len(vals)), {i: (min(vals), max(vals))}
        if kind == "range_len" or kind in ("rows", "enumerate", "zip") and not iterable:
            arrays = self.vars(lambda v: v.kind == "arr" and v.shape[0] <= 5)
            if not arrays:
                c = 3
                return f"for {i} in range({c}):", [], Loop(i, "for", c), {i: (0, c - 1)}
            v = r.choice(arrays)
            m = v.shape[0]
            text = r.choice((f"len({v.name})", f"{v.name}.shape[0]", f"np.shape({v.name})[0]"))
            return f"for {i} in range({text}):", [], Loop(i, "for", m), {i: (0, m - 1)}
        v = r.choice(iterable)
        pals = [w for w in self.vars(lambda w: w.kind == "arr" and w.shape[0] == v.shape[0] and not w.buffer)]
        row = self.new_name("r")
        self.bind(row, v.shape[1:], fresh=False, frozen=True)
        if kind == "rows":
            return f"for {row} in {v.name}:", [], Loop(None, "for", v.shape[0]), {}
        if kind == "reversed_rows":
            return f"for {row} in reversed({v.name}):", [], Loop(None, "for", v.shape[0]), {}
        if kind == "enumerate":
            return f"for {i}, {row} in enumerate({v.name}):", [], Loop(i, "for", v.shape[0]), \
                {i: (0, v.shape[0] - 1)}
        w = r.choice(pals)
        row2 = self.new_name("r")
        self.bind(row2, w.shape[1:], fresh=False, frozen=True)
        if kind == "enumerate_zip":
            return f"for {i}, ({row}, {row2}) in enumerate(zip({v.name}, {w.name})):", [], \
                Loop(i, "for", v.shape[0]), {i: (0, v.shape[0] - 1)}
        return f"for {row}, {row2} in zip({v.name}, {w.name}):", [], Loop(None, "for", v.shape[0]), {}

    def s_loop(self, ctx):
        r = self.rng
        if r.random() < 0.2:
            return self.while_loop(ctx)
        before = set(self.scope)
        header, exprs, loop, ints = self.loop_header(ctx)
        self.ints.update(ints)
        inner = Ctx(ctx.loops + (loop,), ctx.in_helper, ctx.out_shape, jumps=True)
        body, leak, _ = self.nested(r.randint(1, 4), inner)
        for name in ints:
            self.ints.pop(name, None)
        for name in set(self.scope) - before:  # the rows the header bound
            del self.scope[name]
        if loop.trips >= 1:
            self.keep(leak)
        return [Stmt(header, exprs, body)]

    def keep(self, leak):
        """Names a loop bound on every run of its body: read after it (their last value)."""
        for name, v in leak.items():
            if not v.frozen:
                self.scope[name] = v
                if not self.jumped:
                    self.leakable[name] = v

    def while_loop(self, ctx):
        r = self.rng
        k = self.new_name("k")
        trips = r.randint(2, 4)
        first = r.random() < 0.5  # the counter goes up first: `continue` is safe
        nums = self.vars(lambda v: v.shape == () and v.kind == "num" and not v.const)
        cond = f"{k} < {trips}"
        data = nums and r.random() < 0.3
        if data:
            cond += f" and {r.choice(nums).name} < {r.choice(('2.0', '5.0', '0.5'))}"
        loop = Loop(k, "while", trips)
        self.ints[k] = (1, trips) if first else (0, trips - 1)
        inner = Ctx(ctx.loops + (loop,), ctx.in_helper, ctx.out_shape, jumps=first)
        body, leak, _ = self.nested(r.randint(1, 3), inner)
        self.ints.pop(k, None)
        step = Stmt(r.choice((f"{k} += 1", f"{k} = {k} + 1")), keep=True)
        body = [step] + body if first else body + [step]
        if not data:
            self.keep(leak)
        return [Stmt(f"{k} = 0\nwhile {cond}:", [], body)]


    # the module

    def arguments(self):
        """(parameter names, values, wrt): floats, float arrays of 0-4 dimensions, ints, int arrays."""
        r = self.rng
        kinds = r.choices(("float", "1d", "2d", "3d", "4d", "0d"), (3, 3, 2.2, 0.8, 0.5, 0 if self.numba else 0.4),
                          k=r.randint(1, 4))
        names = {"float": ["a", "b", "c", "e"], "1d": ["x", "y", "v", "g"], "2d": ["W", "M", "A", "B"],
                 "3d": ["T", "U", "S", "P"], "4d": ["Q", "R", "K", "L"], "0d": ["z0", "z1", "z2", "z3"]}
        params, values = [], []
        for kind in kinds:
            name = names[kind].pop(0)
            if kind == "float":
                value = _number(r)
                self.bind(name, (), fresh=False, arg=True)
            elif kind == "0d":
                value = np.array(_number(r))
                self.bind(name, (), fresh=False, kind="zd", arg=True)
            else:
                shape = self.pick_shape(int(kind[0]), new=1.0)
                value = np.array([_number(r) for _ in range(size(shape))]).reshape(shape)
                self.bind(name, shape, fresh=False, arg=True, varied=True)
            params.append(name)
            values.append(value)
        wrt = tuple(range(len(params)))
        if len(wrt) > 1 and r.random() < 0.2:
            wrt = tuple(sorted(r.sample(wrt, r.randint(1, len(wrt) - 1))))
        low = min(self.dims)
        if r.random() < 0.6:
            n = r.randint(2, 5)
            params.append("n")
            values.append(n)
            self.int_args["n"] = n
            self.ints["n"] = (n, n)
        if r.random() < 0.25:
            idx = np.array([r.randrange(-low, low) for _ in range(r.randint(1, 4))])
            params.append("idx")
            values.append(idx)
            self.int_arrays["idx"] = idx
        if r.random() < 0.15:
            labels = np.array([r.randrange(low) for _ in range(self.dim())])
            params.append("labels")
            values.append(labels)
            self.int_arrays["labels"] = labels
        return params, tuple(values), wrt

    def module_prelude(self):
        r = self.rng
        if r.random() < 0.2:
            self.prelude.append(Stmt("GAIN = 1.5"))
            self.bind("GAIN", (), fresh=False, const=True)
        if r.random() < 0.03:
            shape = self.pick_shape(r.choice((1, 2)))
            values = [round(r.uniform(-1, 1), 2) for _ in range(size(shape))]
            text = repr(np.array(values).reshape(shape).tolist())
            self.prelude.append(Stmt(f"W0 = np.array({text})"))
            self.bind("W0", shape, fresh=False, const=True)
        if r.random() < 0.2:
            name = self.new_name("LAM")
            self.prelude.append(Stmt(f"{name} = lambda z: {r.choice(LAMBDA_BODIES)}"))
            self.lambdas.append(name)

    def helper(self):
        """A module-level function of 1-3 parameters, with a loop and an early return sometimes."""
        r = self.rng
        outer = (self.scope, self.ints, self.observe, self.jumped, self.leakable, self.int_arrays, self.int_args,
                 list(self.lambdas))
        self.scope = {n: v for n, v in self.scope.items() if v.const}
        self.ints, self.observe, self.jumped, self.leakable, self.int_arrays, self.int_args = {}, [], False, {}, {}, {}
        names = [self.new_name("u") for _ in range(r.randint(1, 3))]
        shapes = tuple(self.pick_shape(r.choice((0, 0, 1, 1, 2, 3)), new=0.1) for _ in names)
        for name, shape in zip(names, shapes):
            self.bind(name, shape, fresh=False, arg=True)
        default = r.random() < 0.25
        params = ", ".join(names)
        if default:
            self.bind("c", (), fresh=False, arg=True)
            params += ", c=0.5"
        pairs = r.random() < 0.2
        ret = (r.choice(shapes), ()) if pairs else r.choice(shapes + ((),))
        if not (pairs or default) and r.random() < 0.15:
            return self.recursive_helper(names, shapes, ret, outer)
        ctx = Ctx(in_helper=True, out_shape=None if pairs else ret)
        body = self.block(r.randint(0, 3), ctx, first="loop" if r.random() < 0.4 else None)
        if pairs:  # (a copy of a parameter, not the parameter: the caller may write into the result)
            body.append(Stmt("return {0}, {1}", [self.unshared(self.expr(ret[0]), True),
                                                 self.unshared(self.expr(ret[1]), True)]))
        else:
            body.append(Stmt("return {0}", [self.unshared(self.expr(ret), True)]))
        name = self.new_name("h")
        self.scope, self.ints, self.observe, self.jumped, self.leakable, self.int_arrays, self.int_args, \
            self.lambdas = outer
        self.helpers.append(Helper(name, shapes, ret, default, pairs))
        return Function(name, params, body)

    def recursive_helper(self, names, shapes, ret, outer):
        """def h(u1, ..., k): if k == 0: return e; return h(e1, ..., k - 1): a recursion of a depth
        known where it is called (README: recursion of constant depth)."""
        name = self.new_name("h")
        base = self.unshared(self.expr(ret), True)
        steps = [Expr("0.5 * np.tanh({0})" if s else "0.5 * math.tanh({0})", [self.expr(s)], s) for s in shapes]
        call = f"{name}(" + "".join(f"{{{i}}}, " for i in range(len(steps))) + "k - 1)"
        body = [Stmt("if k == 0:", [], [Stmt("return {0}", [base])]), Stmt(f"return {call}", steps)]
        self.scope, self.ints, self.observe, self.jumped, self.leakable, self.int_arrays, self.int_args, \
            self.lambdas = outer
        self.helpers.append(Helper(name, shapes, ret, depth=self.rng.randint(1, 3)))
        return Function(name, ", ".join(names) + ", k", body)

    def result(self, shape):
        """The returned value: reads the names the body bound (the latest most often)."""
        r = self.rng
        seen = [n for n in dict.fromkeys(reversed(self.observe)) if n in self.scope]
        chosen = seen[:2] + r.sample(seen[2:], min(len(seen) - 2, r.randint(0, 2))) if len(seen) > 2 else seen
        terms = [self.term(self.scope[n], shape) for n in chosen]
        if not terms or r.random() < 0.25:
            terms.append(self.expr(shape))
        e = terms[0]
        for t in terms[1:]:
            e = Expr(r.choice(("{p0} + {p1}", "{p0} + {p1}", "{p0} - {p1}")), [e, t], shape)
        return e

    def term(self, v, shape):
        r = self.rng
        leaf = _leaf(v.name, v.shape, base=v.name)
        if shape == ():
            if v.shape == ():
                return leaf if r.random() < 0.6 else Expr(r.choice(("0.5 * {p0}", "math.sin({0})")), [leaf], ())
            fmt = r.choice(("np.sum({0})", "np.sum({p0} * {p0})", "np.mean(np.sin({0}))", "np.sum({p0} ** 2)"))
            return Expr(fmt, [leaf], ())
        if v.shape == shape:
            return leaf
        if _broadcast(v.shape, shape) == shape:
            return Expr("{p0} * {p1}", [leaf, self.expr(shape)], shape)
        return Expr("np.sum({0}) * {p1}", [leaf, self.expr(shape)], shape)

    def function(self, name, params, family):
        """The function to differentiate."""
        r = self.rng
        out_shape = () if r.random() < 0.65 else self.pick_shape(r.choice((1, 1, 2, 3)), new=0.1)
        ctx = Ctx(out_shape=out_shape)
        body = []
        if family == "rules":
            body += self.block(r.randint(0, 2), ctx)
            body += self.focus_statements(ctx)
        else:
            body += self.block(r.randint(1, 3), ctx, first=r.choice(("temp", "fresh_buffer", "copy", "update")))
            first = "loop" if r.random() < 0.88 else None
            body += self.block(r.randint(1, 3), ctx, first=first)
        body.append(Stmt("return {0}", [self.result(out_shape)]))
        packed = self.packed(params) if family == "loops" and r.random() < PACKED else None
        state = None
        if family == "loops" and r.random() < HELD_IN_A_DICT and self.observe:
            state = (self.new_name("S"), tuple(r.sample(self.observe, min(len(self.observe), r.randint(1, 3)))))
            self.notes.add("held_in_a_dict")
        return Function(name, ", ".join(params), body, packed, state)

    def packed(self, params):
        """(the container's name, its display, the arguments read through it): some float arguments
        read as `P["x"]` (a dict) or `P[0]` (a tuple) of a container the function makes first."""
        r = self.rng
        floats = [p for p in params if p in self.scope and self.scope[p].arg and self.scope[p].kind != "zd"]
        if not floats:
            return None
        chosen = r.sample(floats, r.randint(1, len(floats)))
        name = self.new_name("P")
        if r.random() < 0.6:
            return name, "{" + ", ".join(f'"{p}": {p}' for p in chosen) + "}", {p: f'{name}["{p}"]' for p in chosen}
        return name, "(" + ", ".join(chosen) + ",)", {p: f"{name}[{k}]" for k, p in enumerate(chosen)}

    def focus_statements(self, ctx):
        """The rules family: a statement that calls the focus rule (in a loop sometimes)."""
        r = self.rng
        if self.focus in ("np.empty", "np.empty_like"):
            stmts = self.s_fresh_buffer(ctx, form=self.focus[3:])
            if not stmts or self.focus not in stmts[0].fmt:
                raise ValueError(f"no buffer made with {self.focus}")
            return stmts
        in_loop = self.focus in ("range", "operator.contains") or r.random() < 0.3
        if in_loop:
            i = self.new_name("i")
            self.ints[i] = (0, 2)
        e = None
        for _ in range(60):
            shape = self.pick_shape(r.choice((0, 1, 1, 2, 2, 3, 4)), new=0.5)
            if r.random() < 0.15 and shape:
                shape = tuple(1 if k == r.randrange(len(shape)) else s for k, s in enumerate(shape))
            e = self.expr(shape, 0, None if self.focus == "range" else self.focus)
            if e is not None:
                break
        if e is None:
            raise ValueError(f"no production makes {self.focus}")
        name = self.new_name("f")
        if not in_loop:
            return [self.assign(name, e)]
        self.ints.pop(i)
        acc = self.new_name("acc")
        self.bind(acc, e.shape, fresh=True)
        init = Stmt(f"{acc} = " + ("0.0" if e.shape == () else f"np.zeros({_tuple_text(e.shape)})"))
        body = [Stmt(f"{name} = {{0}}", [e]), Stmt(f"{acc} = {acc} + {name}")]
        self.track(acc)
        return [init, Stmt(f"for {i} in range(3):", [], body)]


def _number(r):
    """An argument's value: three decimals in [-1, 1], never 0 (the kink of sign, abs, maximum(x, 0), where
    central differences see a jump that no derivative has)."""
    value = round(r.uniform(-1.0, 1.0), 3)
    return value if value != 0 else 0.001


def rule_name(key, rule):
    """A rule's name: its spelling in code ("np.sin", "math.exp", "abs", "ndarray.sum", "operator.add")."""
    if isinstance(key, str):
        return key
    if rule.spelling == "":
        return "operator." + key.__name__
    return rule.spelling


def rule_names():
    """The names of the rules of adjoint's table that user code calls (not the runtime helpers that
    generated code calls, nor the rules a user or a test adds with custom_vjp), in the table's order."""
    from adjoint.rules.table import TABLE
    TABLE.arrived(everything=True)  # (scipy.stats's rules too, in their place)
    names = []
    for key, rule in TABLE.by_key.items():
        if rule.custom or rule.carries or getattr(key, "__module__", "") == "adjoint.runtime" and rule.spelling != "logistic":
            continue
        if isinstance(key, str) and key.startswith("method."):  # (random generators' methods: test_idioms.py)
            continue
        if rule_name(key, rule) not in CHECKED_ELSEWHERE:
            names.append(rule_name(key, rule))
    return names


STATEMENT_RULES = {"range", "np.empty", "np.empty_like"}  # rules exercised by statements (loops, buffers)


OPERATOR_TEXT = {"add": " + ", "sub": " - ", "mul": " * ", "truediv": " / ", "pow": " ** ", "mod": " % ",
                 "matmul": " @ ", "neg": "-", "pos": "+", "floordiv": " // ", "not_": "not ", "lt": " < ",
                 "le": " <= ", "gt": " > ", "ge": " >= ", "eq": " == ", "ne": " != ", "is_": " is ",
                 "is_not": " is not ", "contains": " in (", "and_": " & ", "or_": " | ", "xor": " ^ ", "invert": "~"}


def spelling(name):
    """Text that a program calling the rule `name` contains."""
    if name.startswith("operator."):
        return OPERATOR_TEXT[name.split(".")[1]]
    if name.startswith("ndarray."):
        return "." + name.split(".")[1] + ("" if name == "ndarray.T" else "(")
    if name == "logistic":
        return "1.0 / (1.0 + np.exp(-"
    return name + "("


# rules that tests/test_numpy_functions.py checks on shapes and keywords drawn at random, and that need arguments
# this generator does not draw (square, symmetric or full-rank matrices, index lists, subscripts, pad widths),
# or that make no value with a derivative
CHECKED_ELSEWHERE = {
    "np.linalg.inv", "np.linalg.det", "np.linalg.solve", "np.linalg.cholesky", "np.linalg.slogdet", "np.linalg.eigh",
    "np.linalg.eigvalsh", "np.linalg.svd", "np.linalg.pinv", "np.linalg.matrix_power", "np.linalg.matrix_rank",
    "np.swapaxes", "np.moveaxis", "np.squeeze", "np.broadcast_to", "np.repeat", "np.tile", "np.diag", "np.diagonal",
    "np.tril", "np.triu", "np.take", "np.take_along_axis", "np.pad", "np.atleast_1d", "np.atleast_2d",
    "np.atleast_3d", "np.fliplr", "np.flipud", "np.rot90", "np.append", "np.cov", "np.corrcoef", "np.vdot",
    "np.inner", "np.kron", "np.cross", "np.polyval", "scipy.special.multigammaln", "scipy.special.gammainc",
    "scipy.special.gammaincc", "scipy.special.betainc", "scipy.special.j0", "scipy.special.j1", "scipy.special.y0",
    "scipy.special.y1", "scipy.special.i0", "scipy.special.i1", "scipy.special.jv", "scipy.special.yn",
    "scipy.special.yv", "scipy.special.iv", "scipy.special.ive", "scipy.special.gammasgn", "scipy.special.jn",
    "scipy.stats.t.cdf", "scipy.stats.t.logcdf", "scipy.stats.chi2.cdf", "scipy.stats.gamma.cdf",
    "scipy.stats.beta.cdf", "scipy.stats.poisson.cdf", "scipy.stats.dirichlet.pdf", "scipy.stats.dirichlet.logpdf",
    "scipy.stats.multivariate_normal.pdf", "scipy.stats.multivariate_normal.logpdf",
    "scipy.stats.multivariate_normal.entropy", "np.count_nonzero", "np.searchsorted", "np.digitize", "np.isclose",
    "np.allclose", "np.array_equal", "np.any", "np.all", "np.ndim", "np.tri", "np.random.rand", "np.random.randn",
    "np.random.random", "np.random.normal", "np.random.uniform", "np.random.randint", "np.random.standard_normal",
    "np.random.permutation", "np.random.choice", "np.random.seed", "np.int64", "np.int32", "np.rollaxis", "np.split",
    "np.array_split", "np.hsplit", "np.vsplit", "np.real_if_close", "np.interp", "np.row_stack", "np.iscomplex",
    "np.isreal", "np.iscomplexobj", "np.isrealobj", "np.random.RandomState", "np.random.default_rng",
    "scipy.linalg.solve_triangular", "scipy.linalg.cho_factor", "scipy.linalg.cho_solve", "np.select", "np.gradient",
    "np.linalg.qr", "np.linalg.lstsq", "np.dsplit", "np.partition",
}


def covered_rules():
    """The rules the generator's templates exercise."""
    return set().union(*(covers for _, _, covers in PRODUCTIONS)) | STATEMENT_RULES


def program(seed, family="loops", numba=False):
    """The program of `family` for `seed` (its first attempt that is valid); with numba=True, one
    made only of what Numba compiles (for the jit oracle)."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            p = draw(seed, family, attempt, numba)
        except ValueError:  # (the rules family: no production makes the rule from these arguments)
            continue
        if valid_primal(p) is None:
            return p
    raise RuntimeError(f"no valid {family} program for seed {seed} in {MAX_ATTEMPTS} attempts")


def draw(seed, family, attempt=0, numba=False):
    """One attempt at the program of (family, seed), valid or not."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {FAMILIES}")
    rng = random.Random(f"{family}-{seed}" + ("-numba" if numba else "") + (f"-{attempt}" if attempt else ""))
    focus = None
    if family == "rules":
        names = rule_names()
        focus = names[seed % len(names)]
    w = Writer(rng, family, focus, numba)
    params, args, wrt = w.arguments()
    w.module_prelude()
    helpers = [w.helper() for _ in range(rng.choices((0, 1, 2, 3), (6, 3, 1, 0.3))[0])]
    name = f"{family}_{seed}"
    main = w.function(name, params, family)
    notes = tuple(sorted(w.notes)) + ((f"focus:{focus}",) if focus else ())
    return Program(family, seed, name, w.prelude, helpers, main, args, wrt, notes, numba)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def load(source, name):
    """Run module text in a fresh namespace (for the primal only: adjoint needs a real file)."""
    namespace = {"__name__": name}
    exec(compile(source, f"<{name}>", "exec"), namespace)  # noqa: S102 -- our own generated text
    return namespace[name]


def valid_primal(p, seconds=2.0):
    """None when p's primal runs cleanly within bounds, else why not (a discarded draw)."""
    try:
        f = load(p.source(), p.name)
    except Exception as e:  # noqa: BLE001 -- a generator bug shows here: the draw is discarded
        return f"does not compile: {type(e).__name__}: {e}"
    args = p.make_args()
    old = signal.signal(signal.SIGALRM, _alarm) if seconds else None
    try:
        if seconds:
            signal.setitimer(signal.ITIMER_REAL, seconds)
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"), warnings.catch_warnings():
            warnings.simplefilter("error")
            t0 = time.perf_counter()
            out = f(*args)
            spent = time.perf_counter() - t0
    except _Timeout:
        return "primal: too slow"
    except Exception as e:  # noqa: BLE001
        return f"primal: {type(e).__name__}: {str(e)[:80]}"
    finally:
        if seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    if isinstance(out, np.ndarray):
        if out.dtype.kind != "f":
            return f"result of dtype {out.dtype}"
    elif not isinstance(out, (float, np.floating)):
        return f"result of type {type(out).__name__}"
    if not np.all(np.isfinite(out)) or np.max(np.abs(out)) > 1e6:
        return "result not finite or above 1e6"
    if any(isinstance(a, np.ndarray) and not np.array_equal(a, b) for a, b in zip(args, p.args)):
        return "wrote into an argument"
    if spent > PRIMAL_SECONDS:
        return "primal: too slow"
    return None
