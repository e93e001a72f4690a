"""Tapes of numbers as arrays: the last stage of reverse mode.

`place_tape` keeps a number that the reverse sweep needs on a list that starts with a placeholder,
the value before the first write, and every stage after it reads that form:

    x_tape = [0.0]      x_tape.append(x)      x_tape.pop()      x = x_tape[-1]

A list of floats that grows by an eighth at a time and gives memory back as it is popped costs
Numba more than a loop's own arithmetic does (a million steps of the logistic map: about twice the
hand-written adjoint). So here such a tape becomes an array of floats and the count of its entries
in use, and room is made before each `for` loop for all the pushes of its run, outside the loop
(a store into an array that the loop may reallocate is slower still than the list):

    x_tape = np.zeros(16)
    x_tape_top = 1
    x_tape = reserved(x_tape, x_tape_top, 1 * len(range(n)))
    for i in range(n):
        ...
        x_tape[x_tape_top] = x
        x_tape_top += 1
    ...
        x_tape_top -= 1
        x = float(x_tape[x_tape_top - 1])

A push that no room was made for ahead (outside loops, in a `while` loop or a loop that may `break`,
whose runs have no count ahead, or in a loop with a loop inside it that pushes to the same tape)
makes room when the array is full, doubling it:

    if x_tape_top == x_tape.shape[0]:
        x_tape = reserved(x_tape, x_tape_top, 1)

(A `reserved` call at every push costs more than the list, as Numba then counts references to the
array each time; the test alone costs nothing: Newton's iteration in a `while` loop per entry, 20,000
entries: list 10.4 ms, `reserved` at each push 11.2 ms, the test 1.6 ms.) A tape used in any other
way stays a list. The Hessian-vector product is made from the list form (forward mode over the
adjoint follows list tapes), so only the code that runs changes.
"""

import ast

from ..analysis.activity import has_break
from ..ir.build import clone
from ..ir.naming import Namer

START = 16  # entries a number tape holds before it first grows


def stack_tapes(fdef):
    """fdef with its number tapes (lists created as `[0.0]`, flags' as `[False]`, trip counts' as
    `[0]`) as arrays of float64, bool or int64 with a count."""
    fdef = clone(fdef)
    occurrences, fitting = {}, {}  # name -> how often it occurs; -> how often as the array form allows
    for node in ast.walk(fdef):
        if isinstance(node, ast.Name):
            occurrences[node.id] = occurrences.get(node.id, 0) + 1
        t = _fitting(node)
        if t is not None:
            fitting[t] = fitting.get(t, 0) + 1
    candidates = {s.targets[0].id: _creates(s) for s in fdef.body if _creates(s) and fitting[s.targets[0].id]
                  == occurrences[s.targets[0].id] > 1}
    if not candidates:
        return fdef
    namer = Namer(occurrences)
    tops = {t: namer.fresh(f"{t}_top") for t in sorted(candidates)}
    fdef.body = _Stacks(tops, candidates).block(fdef.body, covered=set(), room={t: START - 1 for t in tops})
    return ast.fix_missing_locations(fdef)


_TYPES = {float: "float", bool: "bool", int: "int"}  # a tape's placeholder's type -> what its entries are


def _creates(s):
    """"float", "bool" or "int" for a statement that makes a tape with a placeholder, else None."""
    if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and isinstance(s.value, ast.List) \
            and len(s.value.elts) == 1 and isinstance(s.value.elts[0], ast.Constant) \
            and s.value.elts[0].value in (0, 0.0, False):
        return _TYPES.get(type(s.value.elts[0].value))
    return None


def _fitting(node):
    """The tape a node makes, pushes to, pops or reads the newest entry of, in the list form."""
    if _creates(node):
        return node.targets[0].id
    if (call := _method_call(node)) is not None or (call := _popped(node)) is not None:
        return call.func.value.id
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.ctx, ast.Load) \
            and isinstance(node.slice, ast.Constant) and node.slice.value == -1:
        return node.value.id
    return None


def _method_call(stmt):
    """The call of a statement `t.append(v)` or `t.pop()`, else None."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        call = stmt.value
        if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and not call.keywords \
                and (call.func.attr, len(call.args)) in (("append", 1), ("pop", 0)):
            return call
    return None


def _popped(stmt):
    """The call of a statement `v = t.pop()` (a trip count given back), else None."""
    if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.Call):
        return _method_call(ast.Expr(stmt.value))
    return None


def _pushed(stmt, tapes):
    call = _method_call(stmt)
    if call is not None and call.func.attr == "append" and call.func.value.id in tapes:
        return call.func.value.id
    return None


def _counted(loop):
    """The arguments of a loop `for i in range(...)` whose bounds are names or constants and that
    runs to the end (no `break` of its own: `for it in range(10**9)` that stops when it converges
    must not reserve room for a billion), else None."""
    if isinstance(loop, ast.For) and not loop.orelse and isinstance(loop.iter, ast.Call) \
            and isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "range" and not loop.iter.keywords \
            and all(isinstance(a, (ast.Name, ast.Constant)) for a in loop.iter.args) and not has_break(loop.body):
        return loop.iter.args
    return None


def _pushed_in_loops(stmts, tapes):
    """The tapes pushed to inside loops nested in stmts."""
    out = set()
    for s in stmts:
        if isinstance(s, (ast.For, ast.While)):
            out |= {_pushed(n, tapes) for n in ast.walk(s)} - {None}
        elif isinstance(s, ast.If):
            out |= _pushed_in_loops(s.body, tapes) | _pushed_in_loops(s.orelse, tapes)
    return out


def _pushes_per_run(stmts, tapes):
    """tape -> the push statements in one run of stmts, not counting those in loops inside."""
    counts = {}
    for s in stmts:
        if (t := _pushed(s, tapes)) is not None:
            counts[t] = counts.get(t, 0) + 1
        elif isinstance(s, ast.If):
            for part in (s.body, s.orelse):
                for t, n in _pushes_per_run(part, tapes).items():
                    counts[t] = counts.get(t, 0) + n  # (at most one branch runs: this reserves enough)
    return counts


class _Stacks:
    def __init__(self, tops, types):
        self.tops, self.types = tops, types

    def block(self, stmts, covered, room=None):
        """stmts with the tapes as arrays; `covered`: the tapes for whose pushes here room was made
        before the loop these statements are the body of (every other push makes room for itself);
        `room` (the function's own body): tape -> entries it surely has room for here, as it was
        made (before the first loop or branch that pushes to it)."""
        out, room = [], room or {}
        for s in stmts:
            if room and isinstance(s, (ast.For, ast.While, ast.If)):
                for t in {_pushed(n, self.tops) for n in ast.walk(s)} - {None}:
                    room[t] = 0
            if _creates(s) and s.targets[0].id in self.tops:
                t = s.targets[0].id
                dtype = [] if self.types[t] == "float" else [ast.keyword("dtype", ast.Attribute(
                    _load("np"), "bool_" if self.types[t] == "bool" else "int64", ast.Load()))]
                zeros = ast.Call(ast.Attribute(_load("np"), "zeros", ast.Load()), [ast.Constant(START)], dtype)
                out += [_at(_assign(t, zeros), s), _at(_assign(self.tops[t], ast.Constant(1)), s)]
                continue
            if isinstance(s, (ast.For, ast.While)):
                inner = set()
                if isinstance(s, ast.For) and _counted(s) is not None:
                    # room for a whole run of the loop, unless a loop inside it pushes to the same
                    # tape (its pushes would use that room): then each push here makes its own
                    trips = ast.Call(_load("len"), [clone(s.iter)], [])
                    nested = _pushed_in_loops(s.body, self.tops)
                    for t, n in sorted(_pushes_per_run(s.body, self.tops).items()):
                        if t not in nested:
                            more = ast.BinOp(ast.Constant(n), ast.Mult(), clone(trips))
                            out.append(_at(self.reserve(t, more), s))
                            inner.add(t)
                s.body = self.block(s.body, inner)
                s.orelse = self.block(s.orelse, set())
                out.append(s)
                continue
            if isinstance(s, ast.If):
                s.body, s.orelse = self.block(s.body, covered), self.block(s.orelse, covered)
                out.append(s)
                continue
            call = _method_call(s)
            if call is not None and call.func.value.id in self.tops:
                t = call.func.value.id
                top = self.tops[t]
                if call.func.attr == "append":
                    if t not in covered and room.get(t, 0) > 0:
                        room[t] -= 1
                    elif t not in covered:
                        full = ast.Compare(_load(top), [ast.Eq()], [ast.Subscript(
                            ast.Attribute(_load(t), "shape", ast.Load()), ast.Constant(0), ast.Load())])
                        out.append(_at(ast.If(full, [self.reserve(t, ast.Constant(1))], []), s))
                    value = _Newest(self.tops, self.types).visit(call.args[0])
                    out += [_at(_assign(ast.Subscript(_load(t), _load(top), ast.Store()), value), s),
                            _at(ast.AugAssign(ast.Name(top, ast.Store()), ast.Add(), ast.Constant(1)), s)]
                else:
                    out.append(_at(ast.AugAssign(ast.Name(top, ast.Store()), ast.Sub(), ast.Constant(1)), s))
                continue
            call = _popped(s)
            if call is not None and call.func.value.id in self.tops:  # v = t.pop()
                t = call.func.value.id
                out += [_at(ast.AugAssign(ast.Name(self.tops[t], ast.Store()), ast.Sub(), ast.Constant(1)), s),
                        _at(_assign(s.targets[0].id, _entry(t, self.types[t], _load(self.tops[t]))), s)]
                continue
            out.append(_Newest(self.tops, self.types).visit(s))
        return out

    def reserve(self, t, more):
        return _assign(t, ast.Call(_load("reserved"), [_load(t), _load(self.tops[t]), more], []))


class _Newest(ast.NodeTransformer):
    """`t[-1]` -> `float(t[t_top - 1])` (bool, int: as the tape's entries are) for the tapes that became arrays."""

    def __init__(self, tops, types):
        self.tops, self.types = tops, types

    def visit_Subscript(self, node):
        if isinstance(node.value, ast.Name) and node.value.id in self.tops:
            t = node.value.id
            return _entry(t, self.types[t], ast.BinOp(_load(self.tops[t]), ast.Sub(), ast.Constant(1)))
        return self.generic_visit(node)


def _entry(t, kind, at):
    """`float(t[at])`: an entry of a tape as a plain number of its type (a NumPy scalar is slower in Python)."""
    return ast.Call(_load(kind), [ast.Subscript(_load(t), at, ast.Load())], [])


def _load(name):
    return ast.Name(name, ast.Load())


def _assign(target, value):
    return ast.Assign([ast.Name(target, ast.Store()) if isinstance(target, str) else target], value)


def _at(stmt, where):
    return ast.copy_location(stmt, where)
