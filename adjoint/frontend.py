"""Read a user function: its source, its syntax tree, where each node sits, and what its names mean.

Stages: `read(fn)` (source via linecache, dedented and parsed) and `check_subset(src)` (an
allowlist of syntax; anything else is refused with file:line:col, a caret and a hint).
`resolve(src, expr)` finds the object a name or a dotted name refers to, through the function's
closure cells, its globals and the builtins, so `np.sin`, `numpy.sin`, `from numpy import sin` and
`sin = np.sin` all reach the same object.
"""

import __future__

import ast
import builtins
import copy
import inspect
import itertools
import linecache
import re
import sys
import textwrap
import types
from dataclasses import dataclass

from .errors import AdjointError, Location, SourceError


@dataclass(frozen=True)
class Source:
    fn: object
    filename: str
    firstlineno: int  # file line of the tree's line 1
    indent: int  # columns removed by dedenting
    lines: tuple  # the file's lines as written (not dedented), from firstlineno on
    tree: ast.FunctionDef

    @property
    def name(self):
        return self.tree.name

    def locate(self, node):
        lineno = getattr(node, "lineno", 1)
        text = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        col = getattr(node, "col_offset", -1)
        return Location(self.filename, lineno + self.firstlineno - 1, col + self.indent if col >= 0 else -1, text)

    def line_of(self, lineno):
        """The user's text of tree line `lineno`, stripped."""
        return self.lines[lineno - 1].strip() if 0 < lineno <= len(self.lines) else ""

    def error(self, node, what, hint="", stage=""):
        return SourceError(what, self.locate(node), hint, stage)


def read(fn):
    """Source of `fn` as a parsed FunctionDef (a lambda becomes a def returning its body).

    The text is the one the running code came from: the file's lines are read again when the file
    changed on disk (`linecache.checkcache`), and the def found there must compile to `fn.__code__`
    (line numbers aside); when it does not (the file was edited since the function was imported, or
    an import hook rewrote it), a SourceError says so, rather than a derivative of other code."""
    if inspect.ismethod(fn):
        raise AdjointError(f"{fn.__qualname__} is a bound method: adjoint differentiates plain functions\n"
                           "hint: write the computation as a module-level function of arrays and floats")
    code = getattr(fn, "__code__", None)
    if code is None:
        raise AdjointError(f"{fn!r} is not a Python function: adjoint differentiates functions written in Python\n"
                           "hint: wrap it in a def of your own, or give it a rule with adjoint.custom_vjp")
    if not isinstance(code, types.CodeType):
        raise AdjointError(f"{fn!r} has no Python code object: adjoint differentiates functions written in Python")
    try:
        path, all_lines = _file_lines(fn, code)
        lines, first = _block(all_lines, code.co_firstlineno)
    except (OSError, TypeError) as e:
        raise AdjointError(
            f"the source of {fn.__qualname__} ({code.co_filename}) cannot be read: {e}\n"
            "hint: define the function in a .py file (not in a REPL or with exec), "
            "or give it a rule with adjoint.custom_vjp"
        ) from None
    src, written = _parse(fn, code, lines, first)
    namespace = getattr(fn, "__globals__", None) or {}
    if written is None or not _compiles_to(written, code, "".join(lines), namespace, all_lines):
        found = None if code.co_name == "<lambda>" else _moved(fn, code, all_lines, first)
        if found is None:
            raise _changed(fn, code, lines, first)
        src = found
    return src


def _file_lines(fn, code):
    """(the path, the lines of the file that defines `code`) as linecache has them, read again when
    the file changed on disk since linecache read it."""
    path = inspect.getsourcefile(code)
    if not path:
        raise OSError("could not get source code")
    linecache.checkcache(path)
    return path, linecache.getlines(path, getattr(fn, "__globals__", None))


def _block(lines, firstlineno):
    """(the lines of the block that starts at line `firstlineno`, that line number), as
    `inspect.getsourcelines(code)` gives them (not of fn, which follows `__wrapped__` to another
    function), without its search of every loaded module for the one that holds the code, which
    takes tens of milliseconds once Numba's hundreds of modules are loaded."""
    start = firstlineno - 1
    if not 0 <= start < len(lines):
        raise OSError("could not get source code")
    return inspect.getblock(lines[start:]), start + 1


def _parse(fn, code, lines, first):
    """(the Source of the def or lambda in `lines`, its node as written for the compile check: None
    when there is none)."""
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    first_line = lines[0]
    indent = len(first_line) - len(first_line.lstrip())
    try:
        module = ast.parse(dedented)
    except SyntaxError:
        module = None
    if code.co_name == "<lambda>":  # (its code's name: a function given another's code is that code's)
        tree, written = _lambda_def(module, dedented, code)
    else:
        defs = (ast.FunctionDef, ast.AsyncFunctionDef)
        tree = next((n for n in (module.body if module else []) if isinstance(n, defs)), None)
        written = tree
        if tree is not None and indent:  # dedenting changed the strings that span lines (a docstring): as written
            try:
                written = ast.parse("if 1:\n" + text).body[0].body[0]
            except (SyntaxError, IndexError, AttributeError):
                written = None
    if tree is None:
        raise AdjointError(f"cannot find the definition of {fn.__qualname__} in {code.co_filename}:{first}")
    tree.decorator_list = []
    return Source(fn, code.co_filename, first, indent, tuple(line.rstrip("\n") for line in lines), tree), written


def _changed(fn, code, lines, first):
    text = lines[0].rstrip("\n") if lines else ""
    again = f"`module.{fn.__name__}`" if fn.__name__.isidentifier() else "the function"
    return SourceError(
        f"the text of {fn.__qualname__} in this file is not the code that runs: the file changed since the "
        "function was imported (or an import hook rewrote its code)",
        Location(code.co_filename, first, -1, text),
        "reload its module and take the function from it again (`module = importlib.reload(module)`, then "
        f"{again}), or restart Python; adjoint differentiates the code that runs, and reads it from its file",
        "reading the source")


def _moved(fn, code, all_lines, old_first):
    """The Source of fn's def when the file changed on disk above it: another `def <name>` of the
    file whose text compiles to fn's code, or None."""
    pattern = re.compile(rf"\s*(async\s+)?def\s+{re.escape(code.co_name)}\b")
    for i, line in enumerate(all_lines):
        if i + 1 == old_first or not pattern.match(line):
            continue
        try:
            lines, first = _block(all_lines, i + 1)
            src, written = _parse(fn, code, lines, first)
        except (OSError, AdjointError, IndexError):
            continue
        namespace = getattr(fn, "__globals__", None) or {}
        if written is not None and _compiles_to(written, code, "".join(lines), namespace, all_lines):
            return src
    return None


def _lambda_def(module, text, code):
    """(the lambda of `code` found in `text`, as `def <lambda>(args): return body`; the ast.Lambda as
    parsed), or (None, None)."""
    if module is None:  # a lambda inside a larger expression: parse the line alone
        try:
            module = ast.parse(text.strip().rstrip(",").split("=", 1)[-1].strip())
        except SyntaxError:
            return None, None
    params = code.co_varnames[: code.co_argcount]
    found = [n for n in ast.walk(module) if isinstance(n, ast.Lambda) and tuple(a.arg for a in n.args.args) == params]
    if len(found) > 1:
        raise AdjointError(f"{code.co_filename}:{code.co_firstlineno}: more than one lambda with parameters "
                           f"({', '.join(params)}) on this line, and adjoint cannot tell which one it was given\n"
                           "hint: give the function a name with def")
    for node in found:
        body = ast.Return(node.body)
        ast.copy_location(body, node.body)
        fdef = function_def("lambda_", node.args, [body])
        return ast.fix_missing_locations(ast.copy_location(fdef, node)), node
    return None, None


# --- whether a text is the one the running code came from -----------------------------------------------

_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag
_CO_NESTED = inspect.CO_NESTED
_COMPILED = {}  # (code, text) -> whether the text compiles to the code (each is checked once)


def _compiles_to(node, code, text, namespace, file_lines=()):
    """Whether the def or lambda `node` (parsed from `text`) compiles to `code`, line numbers aside:
    compiled where it was written (inside a class for a method, whose private names the class
    mangles; inside a def binding the names it reads from enclosing functions, for a closure; in a
    module that imports the names whose methods it calls, which Python compiles differently from
    other names: first those of `namespace`, the function's globals, that look imported, then those
    that the file's import statements bind, then each choice of them)."""
    key = (code, text)
    known = _COMPILED.get(key)
    if known is None:
        if len(_COMPILED) > 10_000:  # (a long session that replaced code many times)
            _COMPILED.clear()
        known = _COMPILED[key] = any(_compiles_with(node, code, imported)
                                     for imported in _import_choices(node, code, namespace, file_lines))
    return known


def _compiles_with(node, code, imported):
    try:
        compiled = _compile_alone(node, code, imported)
    except (SyntaxError, ValueError, TypeError, RecursionError):
        return False
    want = fingerprint(code)
    return any(fingerprint(c) == want for c in compiled)


def _import_choices(node, code, namespace, file_lines):
    """The sets of names to compile `node` as imported, likeliest first, each once."""
    module = namespace.get("__name__")

    def looks_imported(name):
        value = namespace.get(name)
        return isinstance(value, types.ModuleType) or callable(value) and getattr(value, "__module__", module) != module

    first = frozenset(n for n in _names_of(code) if looks_imported(n))
    yield first
    seen = {first}
    # the names whose methods it calls: the only ones for which being imported changes the code
    bases = sorted({n.func.value.id for n in ast.walk(node) if isinstance(n, ast.Call)
                    and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)})
    more = [frozenset(b for b in bases if looks_imported(b))]
    if bases and file_lines:
        more += [frozenset(bases) & _imported_names(file_lines, top) for top in (False, True)]
    if len(bases) <= 4:
        more += [frozenset(c) for r in range(len(bases) + 1) for c in itertools.combinations(bases, r)]
    for imported in more:
        if imported not in seen:
            seen.add(imported)
            yield imported


_IMPORT = re.compile(r"^([ \t]*)(?:import[ \t]+([^\n#;]*)"
                     r"|from[ \t]+[\w.]+[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*))", re.M)


def _imported_names(lines, top_only):
    """The names that the import statements of a file's lines bind (only those not indented, when
    `top_only`)."""
    names = set()
    for m in _IMPORT.finditer("".join(lines)):
        if top_only and m.group(1):
            continue
        for part in (m.group(2) or m.group(3) or "").strip("()").replace("\\", " ").split(","):
            words = part.split()
            if len(words) == 3 and words[1] == "as":
                names.add(words[2])
            elif len(words) == 1:
                names.add(words[0].split(".")[0])
    return names


def _compile_alone(node, code, imported):
    """The code objects that compiling `node` where it was written gives for it (candidates, each at
    the depth where it sits), in a module that imports the names `imported`."""
    qualname = getattr(code, "co_qualname", None) or ""
    parts = qualname.split(".")[:-1]
    owner = parts[-1] if parts and parts[-1] != "<locals>" else None
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        body = [node]
    else:  # a lambda
        body = [ast.copy_location(ast.Expr(node), node)]
    depth = 1
    if owner is not None and owner.isidentifier():
        fields = {"type_params": []} if "type_params" in ast.ClassDef._fields else {}
        body = [_placed(ast.ClassDef(name=owner, bases=[], keywords=[], body=[], decorator_list=[], **fields), body)]
        depth += 1
    else:
        owner = None
    free = [v for v in code.co_freevars if not (owner and v == "__class__")]
    if free or "<locals>" in parts:
        assign = [_placed(ast.Assign([ast.Name(v, ast.Store()) for v in free], ast.Constant(None)))] if free else []
        body = [_placed(function_def("__adjoint_enclosing__", _no_arguments(), []), assign + body)]
        depth += 1
    imports = [_placed(ast.Import([ast.alias(name)])) for name in sorted(imported)]
    module = ast.Module(body=imports + body, type_ignores=[])
    rewriter = sys.modules.get("_pytest.assertion.rewrite")
    if rewriter is not None and _names_of(code) & {"@pytest_ar", "@py_builtins"}:  # pytest rewrote its asserts
        module = copy.deepcopy(module)  # (the rewriter changes the tree it is given)
        rewriter.rewrite_asserts(module, b"", code.co_filename)
        module = ast.fix_missing_locations(module)
    compiled = compile(module, code.co_filename, "exec", flags=code.co_flags & _FUTURE_FLAGS, dont_inherit=True)
    level = [compiled]
    for _ in range(depth):
        level = [c for parent in level for c in parent.co_consts if isinstance(c, types.CodeType)]
    return [c for c in level if c.co_name == code.co_name]


def _placed(node, body=None):
    """A node made here, placed at line 1 (not walking into `body`, the user's nodes, given after)."""
    node = ast.fix_missing_locations(ast.copy_location(node, _LINE_1))
    if body is not None:
        node.body = body
    return node


_LINE_1 = ast.Pass(lineno=1, col_offset=0, end_lineno=1, end_col_offset=0)


def _names_of(code):
    """The global names that code and the code nested in it read."""
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _names_of(c)
    return names


def _no_arguments():
    return ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                         defaults=[])


def fingerprint(code):
    """What a code object computes, as a tuple of text, numbers and bytes that holds no line number,
    file name or address: two code objects with equal fingerprints run the same bytecode on the
    same constants and names (the same in every process, so it may key the text cache)."""
    return (code.co_name, code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount,
            code.co_flags & ~_CO_NESTED, code.co_code, code.co_names, code.co_varnames, code.co_freevars,
            code.co_cellvars, getattr(code, "co_exceptiontable", b""), tuple(_constant(c) for c in code.co_consts))


def _constant(value):
    if isinstance(value, types.CodeType):
        return fingerprint(value)
    if isinstance(value, tuple):
        return ("tuple", tuple(_constant(v) for v in value))
    if isinstance(value, frozenset):
        return ("frozenset", tuple(sorted(repr(_constant(v)) for v in value)))
    return (type(value).__name__, repr(value))  # (repr: 0.0 and -0.0, 1 and True, nan are told apart)


def functions_read(fn, bindings):
    """(function, its code) for fn and every Python function a derivative of it was made from: those
    whose names it resolved and those they named (`bindings`, NormalFunction.bindings), a custom
    rule's functions, a `differentiate`d function's own."""
    from .custom import CustomVJP

    out = {}

    def add(obj):
        if isinstance(obj, CustomVJP):
            for f in (obj.fn, obj.fwd, obj.bwd):
                add(f)
        elif type(obj).__name__ == "Differentiated":
            add(getattr(obj, "fn", None))
        elif isinstance(obj, types.FunctionType):
            out.setdefault(obj, obj.__code__)

    add(fn)
    for (scope_fn, _), obj in bindings.items():
        add(scope_fn)
        add(obj)
    return tuple(out.items())


def function_def(name, args, body):
    """An ast.FunctionDef on every supported Python (3.12 added type_params)."""
    fields = {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}
    return ast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None, **fields)


# --- the supported subset -------------------------------------------------------------------------

_ALLOWED = (
    ast.FunctionDef, ast.arguments, ast.arg, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return,
    ast.Expr, ast.Pass, ast.If, ast.For, ast.While, ast.Break, ast.Continue, ast.Assert, ast.Raise,
    ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.keyword, ast.Attribute,
    ast.Subscript, ast.Slice, ast.Name, ast.Constant, ast.Tuple, ast.List, ast.IfExp, ast.Lambda,
    ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.Starred, ast.JoinedStr,
    ast.FormattedValue,
)

_REFUSED = {
    ast.Yield: ("`yield` makes a generator function, which cannot be differentiated",
                "return the result (an array or a tuple) instead of yielding it"),
    ast.YieldFrom: ("`yield from` makes a generator function, which cannot be differentiated",
                    "return the result instead of yielding it"),
    ast.Try: ("`try` cannot be differentiated",
              "move the try/except out of the differentiated function"),
    ast.With: ("`with` cannot be differentiated",
               "move the with-block out of the differentiated function"),
    ast.AsyncWith: ("`async with` cannot be differentiated", "use a plain function"),
    ast.AsyncFor: ("`async for` cannot be differentiated", "use a plain for loop"),
    ast.AsyncFunctionDef: ("async functions cannot be differentiated", "use a plain def"),
    ast.Await: ("`await` cannot be differentiated", "use a plain function"),
    ast.Global: ("`global` cannot be differentiated",
                 "pass the value in as an argument and return its new value"),
    ast.Nonlocal: ("`nonlocal` cannot be differentiated",
                   "pass the value in as an argument and return its new value"),
    ast.Delete: ("`del` cannot be differentiated", "remove the del statement; names end with the function"),
    ast.ClassDef: ("a class defined inside the function cannot be differentiated",
                   "define the class at module level"),
    ast.Import: ("an import inside the function cannot be differentiated", "import at module level"),
    ast.ImportFrom: ("an import inside the function cannot be differentiated", "import at module level"),
    ast.ListComp: ("a list comprehension cannot be differentiated", "write it as a for loop filling an array"),
    ast.SetComp: ("a set comprehension cannot be differentiated", "write it as a for loop"),
    ast.DictComp: ("a dict comprehension cannot be differentiated", "write it as a for loop"),
    ast.GeneratorExp: ("a generator expression cannot be differentiated", "write it as a for loop"),
    ast.Dict: ("a dict cannot be differentiated", "pass arrays or floats instead"),
    ast.Set: ("a set cannot be differentiated", "use a tuple or an array"),
    ast.NamedExpr: ("`:=` cannot be differentiated", "assign the value on a line of its own"),
    ast.Match: ("`match` cannot be differentiated", "write it with if/elif"),
}
if hasattr(ast, "TryStar"):
    _REFUSED[ast.TryStar] = _REFUSED[ast.Try]


def check_subset(src):
    """Refuse, with a located SourceError, any node outside the allowlist."""
    for node in ast.walk(src.tree):
        if node is not src.tree and isinstance(node, ast.FunctionDef):
            continue  # nested defs are closures: their bodies are checked where they are called
        if type(node) in _REFUSED:
            what, hint = _REFUSED[type(node)]
            raise src.error(node, what, hint, "checking the supported subset")
        if not isinstance(node, _ALLOWED):
            raise src.error(node, f"`{type(node).__name__}` syntax is not supported",
                            "rewrite it with assignments, calls, if and for", "checking the supported subset")
    args = src.tree.args
    if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
        wrapped = getattr(src.fn, "__wrapped__", None)
        hint = (f"this is a decorator's wrapper of {getattr(wrapped, '__qualname__', wrapped)} (functools.wraps): "
                f"differentiate `{src.fn.__name__}.__wrapped__` if the decorator does not change what it computes"
                if wrapped is not None else "list every parameter by name")
        raise src.error(src.tree, "*args, **kwargs and keyword-only parameters are not supported", hint,
                        "checking the supported subset")


# --- names ---------------------------------------------------------------------------------------

_MISSING = object()


def lookup(fn, name):
    """The object that the free name `name` of `fn` refers to, or _MISSING."""
    code = fn.__code__
    if name in code.co_freevars and fn.__closure__:
        cell = fn.__closure__[code.co_freevars.index(name)]
        try:
            return cell.cell_contents
        except ValueError:
            return _MISSING
    if name in fn.__globals__:
        return fn.__globals__[name]
    return getattr(builtins, name, _MISSING)


def dotted(expr):
    """'np.linalg.norm' for that chain of Names and Attributes, else None."""
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return ".".join(reversed(parts))


def resolve(fn, expr, local_names=()):
    """The object a Name or dotted Attribute chain refers to, or _MISSING (also for local names)."""
    path = dotted(expr)
    if path is None or path.split(".")[0] in local_names:
        return _MISSING
    return resolve_path(fn, path)


def still_bound(bindings):
    """Whether each (function, dotted name) of `bindings` refers to the same object as it did (or,
    for a number or string, to an equal one: a property may make a new float on each access)."""
    for (fn, path), then in bindings.items():
        now = resolve_path(fn, path)
        if now is not then and not (type(now) is type(then) and type(now) in _VALUES and now == then):
            return False
    return True


_VALUES = (int, float, bool, complex, str)


def resolve_path(fn, path):
    """The object that the dotted name `path` refers to in fn, or _MISSING; a path that starts with
    a dot is an attribute of fn itself (`.__defaults__`)."""
    if path.startswith("."):
        return getattr(fn, path[1:], _MISSING)
    head, *rest = path.split(".")
    obj = lookup(fn, head)
    for attr in rest:
        if obj is _MISSING:
            break
        obj = getattr(obj, attr, _MISSING)
    return obj


MISSING = _MISSING
