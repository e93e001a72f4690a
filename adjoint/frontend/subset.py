"""The Python that adjoint differentiates: an allowlist of syntax (`check_subset`); anything else is
refused with file:line:col, a caret and a hint."""

import ast

_ALLOWED = (
    ast.FunctionDef, ast.arguments, ast.arg, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return,
    ast.Expr, ast.Pass, ast.If, ast.For, ast.While, ast.Break, ast.Continue, ast.Assert, ast.Raise,
    ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.keyword, ast.Attribute,
    ast.Subscript, ast.Slice, ast.Name, ast.Constant, ast.Tuple, ast.List, ast.Dict, ast.ListComp, ast.GeneratorExp, ast.DictComp, ast.comprehension, ast.IfExp, ast.Lambda,
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
    ast.SetComp: ("a set comprehension cannot be differentiated", "write it as a for loop"),
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
