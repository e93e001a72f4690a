"""Read a user function: its source, its syntax tree, where each node sits, and what its names mean.

Stages: `read(fn)` (source via linecache, dedented and parsed) and `check_subset(src)` (an
allowlist of syntax; anything else is refused with file:line:col, a caret and a hint).
`resolve(src, expr)` finds the object a name or a dotted name refers to, through the function's
closure cells, its globals and the builtins, so `np.sin`, `numpy.sin`, `from numpy import sin` and
`sin = np.sin` all reach the same object.
"""

import ast
import builtins
import inspect
import linecache
import textwrap
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
    """Source of `fn` as a parsed FunctionDef (a lambda becomes a def returning its body)."""
    if inspect.ismethod(fn):
        raise AdjointError(f"{fn.__qualname__} is a bound method: adjoint differentiates plain functions\n"
                           "hint: write the computation as a module-level function of arrays and floats")
    code = getattr(fn, "__code__", None)
    if code is None:
        raise AdjointError(f"{fn!r} is not a Python function: adjoint differentiates functions written in Python\n"
                           "hint: wrap it in a def of your own, or give it a rule with adjoint.custom_vjp")
    try:
        lines, first = _source_lines(fn, code)
    except (OSError, TypeError) as e:
        raise AdjointError(
            f"the source of {fn.__qualname__} ({code.co_filename}) cannot be read: {e}\n"
            "hint: define the function in a .py file (not in a REPL or with exec), "
            "or give it a rule with adjoint.custom_vjp"
        ) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    first_line = lines[0]
    indent = len(first_line) - len(first_line.lstrip())
    try:
        module = ast.parse(dedented)
    except SyntaxError:
        module = None
    if fn.__name__ == "<lambda>":
        tree = _lambda_def(module, dedented, code)
    else:
        tree = next((n for n in (module.body if module else []) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if tree is None:
        raise AdjointError(f"cannot find the definition of {fn.__qualname__} in {code.co_filename}:{first}")
    tree.decorator_list = []
    return Source(fn, code.co_filename, first, indent, tuple(line.rstrip("\n") for line in lines), tree)


def _source_lines(fn, code):
    """(the lines of the block that defines `code`, its first line number), as
    `inspect.getsourcelines(code)` gives them (not of fn, which follows `__wrapped__` to another
    function), without its search of every loaded module for the one that holds the code, which
    takes tens of milliseconds once Numba's hundreds of modules are loaded."""
    path = inspect.getsourcefile(code)
    lines = linecache.getlines(path, getattr(fn, "__globals__", None)) if path else []
    start = code.co_firstlineno - 1
    if not 0 <= start < len(lines):
        raise OSError("could not get source code")
    return inspect.getblock(lines[start:]), start + 1


def _lambda_def(module, text, code):
    """The lambda of `code` found in `text`, as `def <lambda>(args): return body`."""
    if module is None:  # a lambda inside a larger expression: parse the line alone
        try:
            module = ast.parse(text.strip().rstrip(",").split("=", 1)[-1].strip())
        except SyntaxError:
            return None
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
            return ast.fix_missing_locations(ast.copy_location(fdef, node))
    return None


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
