"""Read a user function: its source (via linecache, dedented), its syntax tree, where each node sits,
checked to be the code that runs (a file edited since the function was defined is caught here)."""

import __future__

import ast
import inspect
import itertools
import linecache
import re
import sys
import textwrap
import types
from dataclasses import dataclass

from ..errors import AdjointError, Location, SourceError
from ..ir.build import clone, function_def
from .names import fingerprint


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
_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag
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
        module = clone(module)  # (the rewriter changes the tree it is given)
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


