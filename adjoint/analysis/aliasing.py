"""Which names may share memory: the one answer that normalize (refusing a write that another name
would see), reverse and tape placement (what a saved value or a restored element may show), forward
mode (a write through a view) and `dump --tape` read.

An assignment `target = value` makes `target` show the memory of another array when value is the
array's name (a copy of the name), a subscript of it (a slice, a row, an element of an array of
arrays), an attribute (`.T`) or a call whose rule is a view (`reshape`, `ravel`, ...). A number
shows no memory, and neither does an integer-array index, which copies.
"""

import ast

from .activity import assignments, rule_of


def view_source(target, value, table, kinds):
    """The name of the array whose memory `target = value` may make target show, or None."""
    if not isinstance(target, ast.Name) or kinds.get(target.id) == 0:
        return None
    if isinstance(value, ast.Name):
        return value.id
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
        parts = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
        if any(isinstance(p, ast.Name) and (kinds.get(p.id) or 0) >= 1 for p in parts):
            return None  # (an integer-array index copies)
        return value.value.id
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
        return value.value.id
    rule, bound = rule_of(value, table)
    first = next(iter(bound.values()), None) if rule is not None and rule.view else None
    return first.id if isinstance(first, ast.Name) else None


def links(stmt, table, kinds):
    """(name, the array it may show) for each name an assignment binds: view_source for one name;
    for `a, b = t`, which unpacks a tuple at run time, each name that may be an array with t."""
    target, value = stmt.targets[0], stmt.value
    if isinstance(target, ast.Tuple):
        if not isinstance(value, ast.Name):
            return []
        return [(n.id, value.id) for n in target.elts if isinstance(n, ast.Name) and kinds.get(n.id) != 0]
    base = view_source(target, value, table, kinds)
    return [] if base is None else [(target.id, base)]


def views(body, table, kinds):
    """name -> the arrays its assignments in body may make it show: a set, as a name assigned in two
    branches may show either (`c = a if t else b[1:]`)."""
    shown = {}
    for s in assignments(body):
        for name, base in links(s, table, kinds):
            shown.setdefault(name, set()).add(base)
    return shown


def aliases(v, shown):
    """v and every name that may share memory with it, following `shown` (from `views`) both ways."""
    pairs = [(a, base) for a, bases in shown.items() for base in sorted(bases)]
    out, changed = {v}, True
    while changed:
        changed = False
        for a, base in pairs:
            if (a in out) != (base in out):
                out |= {a, base}
                changed = True
    return out


def shown_by(names, shown):
    """The names and every array they show (reading a view reads the array it shows)."""
    seen, frontier = set(names), list(names)
    while frontier:
        for base in shown.get(frontier.pop(), ()):
            if base not in seen:
                seen.add(base)
                frontier.append(base)
    return seen


def chain_base(value):
    """In the user's code (before normalizing): the name of the array that an expression may be a view
    of (a name, a subscript, .T or a reshape of one, however nested), or None."""
    while True:
        if isinstance(value, ast.Name):
            return value.id
        if isinstance(value, ast.Subscript) or (isinstance(value, ast.Attribute) and value.attr == "T"):
            value = value.value
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                and value.func.attr in ("reshape", "ravel", "transpose", "view"):
            value = value.func.value
        else:
            return None


def disjoint_subscripts(a, b):
    """Whether subscripts a and b (of one array) select no common element: along some axis they are
    apart (`u[:k]` and `u[k:]`, `A[0]` and `A[1]`, `A[:, :2]` and `A[:, 2:]`, `B[0, :2]` and `B[2, 1:]`),
    the axes lined up (a `None` or `...` only where both have it)."""
    ia, ib = (list(i.elts) if isinstance(i, ast.Tuple) else [i] for i in (a, b))
    if len(ia) != len(ib):
        return False
    differ = [(x, y) for x, y in zip(ia, ib) if ast.dump(x) != ast.dump(y)]
    if any(isinstance(p, ast.Constant) and (p.value is None or p.value is Ellipsis) for pair in differ for p in pair):
        return False
    return any(_apart(x, y) for x, y in differ)


def _apart(x, y):
    """Whether two parts of a subscript select no common position along their axis: two numbers
    of one sign that differ, or two slices (no step) one of which ends where the other starts or
    before."""
    if isinstance(x, ast.Slice) and isinstance(y, ast.Slice):
        if x.step is not None or y.step is not None:
            return False
        return _at_or_before(x.upper, y.lower or ast.Constant(0)) or _at_or_before(y.upper, x.lower or ast.Constant(0))
    return _number(x) is not None and _number(y) is not None and (_number(x) < 0) == (_number(y) < 0) \
        and _number(x) != _number(y)


def _at_or_before(end, start):
    """Whether slice bound `end` is at or before bound `start` for any length of the axis: the same
    name, or numbers of one sign in order (`None`, the axis's end, is before nothing)."""
    if end is None:
        return False
    if isinstance(end, ast.Name) and isinstance(start, ast.Name):
        return end.id == start.id
    a, b = _number(end), _number(start)
    return a is not None and b is not None and (a < 0) == (b < 0) and a <= b


def _number(node):
    """The int a subscript part is, when it is a literal (`-2` included), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def frozen(body, table, kinds):
    """name -> its buffers, for the array names whose memory nothing writes once the name holds it:
    a step that fills a new array and then gives it the name (`new = u.copy()`, `new[i, j] = ...`,
    `u = new`), so that each array the name held keeps its values for good. The reverse sweep can
    then read an element of the name where it is restored, rather than tape every element read.

    A buffer b is bound once in the whole function, to a new array (no view of anything); every
    element write into b is in the statements of b's block between that binding and the first that
    holds a `u = b` (in a branch, say); and nothing but the `u = b` after the binding in its block
    makes another name show b. The name u is frozen
    when every name that may share its memory and is written into is one of its buffers."""
    shown = views(body, table, kinds)
    bound, elements, links_to = {}, {}, {}
    for s in assignments(body):
        target = s.targets[0]
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            elements[target.value.id] = elements.get(target.value.id, 0) + 1
        for n in (target.elts if isinstance(target, ast.Tuple) else [target]):
            if isinstance(n, ast.Name):
                bound[n.id] = bound.get(n.id, 0) + 1
        for a, base in links(s, table, kinds):
            links_to.setdefault(base, []).append(s)
    loop_targets = {n.target.id for n in ast.walk(ast.Module(list(body), []))
                    if isinstance(n, ast.For) and isinstance(n.target, ast.Name)}
    buffers = {}  # u -> the buffers it is given
    for block in _blocks(body):
        for i, s in enumerate(block):
            if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)):
                continue
            b = s.targets[0].id
            if bound.get(b) != 1 or b in loop_targets or not kinds.get(b) or b in shown:
                continue  # (bound once, an array, to a new one: a view of nothing)
            gives = {j: [n for n in ast.walk(block[j]) if isinstance(n, ast.Assign) and isinstance(
                n.targets[0], ast.Name) and isinstance(n.value, ast.Name) and n.value.id == b]
                for j in range(i + 1, len(block))}
            given = [n for j in sorted(gives) for n in gives[j]]
            if not given or {id(x) for x in links_to.get(b, [])} != {id(n) for n in given}:
                continue
            window = ast.Module(block[i + 1:min(j for j in gives if gives[j])], [])
            inside = sum(1 for n in ast.walk(window) if isinstance(n, ast.Assign) and isinstance(
                n.targets[0], ast.Subscript) and isinstance(n.targets[0].value, ast.Name)
                and n.targets[0].value.id == b)
            if inside == elements.get(b, 0):
                for n in given:
                    buffers.setdefault(n.targets[0].id, set()).add(b)
    out = {}
    for u, own in buffers.items():
        if u not in elements and all(a in own or a not in elements for a in aliases(u, shown)):
            out[u] = own
    return out


def _blocks(body):
    """body and every block nested in it."""
    yield body
    for s in body:
        for part in (s.body, s.orelse) if isinstance(s, (ast.If, ast.For, ast.While)) else ():
            yield from _blocks(part)
