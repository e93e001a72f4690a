"""Structure jumps so that each one ends the statement list it is in (a pass over the user's AST).

After `structure(body)`:

- nothing follows a `return`, `break` or `continue` in its list, and nothing follows an `if`
  that contains one: the statements after such an `if` move into its branches that fall through;
- `continue` is gone: the rest of the loop body now sits in the branch that did not continue;
- a `return` inside a loop is preceded by setting a flag, and the loop is followed by
  `if flag: <leave>` with the rest of the code in its else branch (<leave> is `break` inside
  another loop, and a bare `return` -- "the result is already set" -- at the top).

So the reverse sweep mirrors plain nested if/for/while blocks, and a branch that breaks simply
stops. For example

    for i in range(n):                     for i in range(n):
        if x[i] < 0.0:                         if x[i] < 0.0:
            continue              ->               pass
        s = s + x[i]                           else:
                                                   s = s + x[i]
"""

import ast

from ..ir.queries import jumps

FLAG = "__returned__"  # the flag set before a return inside a loop


def _contains(node, kinds, through_loops):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, kinds):
            return True
        if isinstance(child, (ast.FunctionDef, ast.Lambda)):
            continue
        if isinstance(child, (ast.For, ast.While)) and not through_loops:
            if _contains(child, (ast.Return,), True):
                return True
            continue
        if _contains(child, kinds, through_loops):
            return True
    return False


def _located(node, like):
    return ast.copy_location(node, like)


def structure(stmts, in_loop=False):
    """The structured form of a statement list (see the module docstring)."""
    out = []
    for i, s in enumerate(stmts):
        rest = stmts[i + 1:]
        if isinstance(s, ast.Return):
            if in_loop:
                out.append(_located(ast.Assign([ast.Name(FLAG, ast.Store())], ast.Constant(True)), s))
            out.append(s)
            return out
        if isinstance(s, ast.Break):
            out.append(s)
            return out
        if isinstance(s, ast.Continue):
            return out
        if isinstance(s, ast.If) and _contains(s, (ast.Return, ast.Break, ast.Continue), False):
            body = s.body if jumps(s.body) else s.body + rest
            orelse = s.orelse if jumps(s.orelse) else s.orelse + rest
            out.append(_located(ast.If(s.test, structure(body, in_loop) or [ast.Pass()],
                                       structure(orelse, in_loop)), s))
            return out
        if isinstance(s, (ast.For, ast.While)):
            returns = _contains(s, (ast.Return,), True)
            if returns:
                out.append(_located(ast.Assign([ast.Name(FLAG, ast.Store())], ast.Constant(False)), s))
            loop = _located(type(s)(**{**{f: getattr(s, f) for f in s._fields}, "body": structure(s.body, True)}), s)
            out.append(loop)
            if returns:
                leave = [_located(ast.Break(), s)] if in_loop else [_located(ast.Return(None), s)]
                out.append(_located(ast.If(ast.Name(FLAG, ast.Load()), leave, structure(rest, in_loop)), s))
                return out
            continue
        if isinstance(s, ast.If):  # no jump out of it, but perhaps loops with their own inside
            s = _located(ast.If(s.test, structure(s.body, in_loop) or [ast.Pass()], structure(s.orelse, in_loop)), s)
        out.append(s)
    return out
