"""The reverse transform: a NormalFunction becomes one function that runs the forward sweep, then
the reverse sweep, and returns the result with the adjoints of the `wrt` parameters.

The reverse sweep mirrors the forward one: statements in reverse order, `if` on the same test,
loops run backwards (`for` from its last index down, `while` as many times as it ran). Each
statement's adjoint comes from the rule table: the formula with the primitive's arguments, `g`
(the result's adjoint) and `out` (the result) substituted, summed back to the argument's shape
where the primitive broadcasts. Reading `y[i]` adds to `y_bar[i]`; writing `y[i] = e` moves
`y_bar[i]` to `e` and clears it.

The tape. When the reverse sweep reaches a statement, every value its formulas read must be the
one the forward sweep had there. Names written once keep their value anyway. For a name written
again (inside a loop, or in several places) whose value the reverse sweep reads, the forward
sweep appends the new value to `<name>_tape` after each write, and the reverse sweep, past that
write's adjoint, drops it and takes back the value before (`v = restore(v_tape, v)`). An element
write to an array whose values the reverse sweep reads saves the old element first and puts it
back after its adjoint. Trip counts of loops (and of inner loops, per outer iteration) are
recorded too. Every tape is a list local to the generated function, so it is freed when the
reverse sweep ends.

The code written here is plain and always correct; `simplify` makes it read well: every adjoint
starts as `v_bar = zeros_like(v)` at the top of the block that holds all uses of v, and every
contribution is `v_bar = v_bar + e`.
"""

import ast
import copy
import itertools
from dataclasses import dataclass

from ..analysis.activity import Transform, activity, assignments, has_break, rule_of
from ..analysis.aliasing import aliases, shown_by, views
from ..backend.emit import comment, is_comment
from ..frontend import function_def
from ..ir.queries import names_in, written
from ..rules.helpers import SHAPE_ONLY, having

_SITE = "__site__"
REVERSE_SWEEP = "reverse sweep"


def name(n, store=False):
    return ast.Name(n, ast.Store() if store else ast.Load())


def call(func, *args):
    return ast.Call(name(func), list(args), [])


def assign(target, value, lineno=None):
    stmt = ast.Assign([target if isinstance(target, ast.AST) else name(target, True)], value)
    stmt.lineno = lineno
    return stmt


def method(obj, meth, *args):
    return ast.Call(ast.Attribute(name(obj), meth, ast.Load()), list(args), [])


def index_value(index):
    """An index as a value to pass to a function: slices become slice(...) calls."""
    if isinstance(index, ast.Slice):
        return ast.Call(name("slice"), [copy.deepcopy(p) if p is not None else ast.Constant(None)
                                        for p in (index.lower, index.upper, index.step)], [])
    if isinstance(index, ast.Tuple):
        return ast.Tuple([index_value(p) for p in index.elts], ast.Load())
    return copy.deepcopy(index)


class Substitute(ast.NodeTransformer):
    """Replaces the free names of a rule formula with the given expressions."""

    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        return copy.deepcopy(self.mapping[node.id]) if node.id in self.mapping else node


def instantiate(formula, mapping):
    return Substitute(mapping).visit(copy.deepcopy(formula))


_LINEAR_IN_G = having("linear_in_g")  # (a zero adjoint gives zero)


def without_zero_terms(rev):
    """rev (straight-line reverse code, in the order it runs) without the additions of terms that
    are a known zero adjoint times something: an adjoint just set by `zeros_like` (the value it
    belongs to was overwritten later, so nothing depends on this one). The term is zero, but
    computing it can divide by zero or give 0 * inf = nan where the dropped value's own derivative is
    infinite (`u = math.sqrt(0.0)`, then `u = x * x`)."""
    zero, out = set(), []
    for s in rev:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            v = s.targets[0].id
            added = s.value.right if isinstance(s.value, ast.BinOp) and isinstance(s.value.op, ast.Add) \
                and isinstance(s.value.left, ast.Name) and s.value.left.id == v else None
            if added is not None and _zero_term(added, zero):
                continue  # `v = v + 0 * ...`
            if isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Name) and s.value.func.id == "zeros_like":
                zero.add(v)
            else:
                zero.discard(v)
        elif isinstance(s, ast.AugAssign) and _zero_term(s.value, zero):
            continue  # `v_bar[i] += 0 * ...`
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Name) \
                and s.value.func.id in ("add_into", "add_at") and _zero_term(s.value.args[-1], zero):
            continue
        else:  # anything else, loops and branches included: what it may write is no longer known zero
            zero -= written(s)
            zero -= {n.id for n in ast.walk(s) if isinstance(n, ast.Name)}  # add_at(v, ..), add_into(v[i], ..)
        out.append(s)
    return out


def _zero_term(e, zero):
    """Whether e is surely zero: a known zero adjoint as a factor."""
    if isinstance(e, ast.Name):
        return e.id in zero
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Mult):
        return _zero_term(e.left, zero) or _zero_term(e.right, zero)
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Div):
        return _zero_term(e.left, zero)
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        return _zero_term(e.operand, zero)
    if isinstance(e, ast.Call) and e.args and (ast.unparse(e.func) in _LINEAR_IN_G):
        return _zero_term(e.args[0], zero)
    return False


def site(kind, var, key=0):
    """A placeholder for a tape operation, decided once the whole reverse sweep is known."""
    return ast.Expr(ast.Call(name(_SITE), [ast.Constant(kind), ast.Constant(var), ast.Constant(key)], []))


def _is_site(stmt):
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
        isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == _SITE


def site_name(stmt):
    """v for a tape site `site(kind, v, key)`, else None."""
    return stmt.value.args[1].value if _is_site(stmt) else None


def _surely_sets(stmts, v):
    """Whether every run of stmts assigns the name v (an if by both branches; a loop may not run)."""
    for s in stmts:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], (ast.Name, ast.Tuple)) and v in names_in(s.targets[0]):
            return True
        if isinstance(s, ast.If) and _surely_sets(s.body, v) and _surely_sets(s.orelse, v):
            return True
    return False


def _placeholder(kind):
    """A value of a kind (number of dimensions; None: unknown) that no result depends on: 0.0, or an
    empty float array of that many dimensions (so Numba gives the name one type on every path)."""
    if not kind:
        return ast.Constant(0.0)
    shape = ast.Tuple([ast.Constant(0)] * kind, ast.Load())
    return ast.Call(ast.Attribute(name("np"), "zeros", ast.Load()), [shape], [])


def _occurrences(stmts):
    """name -> how often it occurs in stmts (with what they nest)."""
    out = {}
    for s in stmts:
        for n in ast.walk(s):
            if isinstance(n, ast.Name):
                out[n.id] = out.get(n.id, 0) + 1
    return out


def _same(a, b):
    """Whether two atoms name the same value (so the same shape)."""
    return isinstance(a, ast.Name) and isinstance(b, ast.Name) and a.id == b.id


def reverse(nf, wrt, table):
    """(the adjoint function of `nf` with respect to the parameter names `wrt`, its TapePlan).

    The function still holds tape sites; `place_tape` turns them into code."""
    _copy_indices_read_outside(nf)
    return Reverse(nf, wrt, table).run()


def _copy_indices_read_outside(nf):
    """A loop index read outside its loop (`for j in range(3): ...`, then `s = s + j * x`) becomes a
    copy made in the loop body from a fresh index. The reverse loop sets its index again, so a read
    after the loop would meet the reverse loop's last value, not the forward loop's; the copy is an
    ordinary name, kept on a tape when the reverse sweep reads it."""
    outside = {}  # name -> its occurrences outside the loops it is the index of

    def tally(node, indices):
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id not in indices:
                outside[n.id] = outside.get(n.id, 0) + 1

    def count(stmts, indices):
        for s in stmts:
            if isinstance(s, ast.For):
                tally(s.iter, indices)  # (evaluated before the loop sets its index)
                count(s.body, indices | ({s.target.id} if isinstance(s.target, ast.Name) else set()))
                count(s.orelse, indices)
            elif isinstance(s, (ast.If, ast.While)):
                tally(s.test, indices)
                count(s.body, indices)
                count(s.orelse, indices)
            else:
                tally(s, indices)

    count(nf.body, set())

    def visit(stmts):
        for s in stmts:
            if isinstance(s, ast.For) and isinstance(s.target, ast.Name):
                j = s.target.id
                if outside.get(j):
                    index = nf.namer.fresh(j)
                    s.target = ast.Name(index, ast.Store())
                    copied = ast.Assign([ast.Name(j, ast.Store())], ast.Name(index, ast.Load()))
                    copied.lineno = s.lineno
                    s.body.insert(0, copied)
            for part in (s.body, s.orelse) if isinstance(s, (ast.If, ast.For, ast.While)) else ():
                visit(part)

    visit(nf.body)


class Reverse(Transform):
    stage = "reverse transform"

    def __init__(self, nf, wrt, table):
        self.nf, self.wrt, self.table = nf, tuple(wrt), table
        self._names = {}  # id of a normal-form statement -> (it, the names in it)
        self.active = activity(nf, wrt, table)
        self.kinds = dict(nf.kinds)  # and, as they are made, adjoints: an adjoint has its primal's kind
        self.bars = {}
        self.element_sites = {}  # key -> (array name, index)
        self.counter = itertools.count(1)
        self.multi = self.written_again()
        self.in_loops = {t for loop in ast.walk(ast.Module(nf.body, [])) if isinstance(loop, (ast.For, ast.While))
                         for st in assignments(loop.body) for t in names_in(st.targets[0])
                         if isinstance(st.targets[0], (ast.Name, ast.Tuple))}
        self.writes, self.values = {}, {}  # name -> how often it is assigned; -> the value of `name = value`
        for st in assignments(nf.body):
            for t in names_in(st.targets[0]) if isinstance(st.targets[0], (ast.Name, ast.Tuple)) else ():
                self.writes[t] = self.writes.get(t, 0) + 1
            if isinstance(st.targets[0], ast.Name):
                self.values[st.targets[0].id] = st.value
        self.element_written = {st.targets[0].value.id for st in assignments(nf.body)
                                if isinstance(st.targets[0], ast.Subscript)}
        self.written_memory = self.shares_written_memory()
        self.remat = set()
        self.occurrences = _occurrences(nf.body)
        self.scopes = self.adjoint_scopes()
        self.tapes = []  # tape lists to create at the top, in order
        self.trip_counts = {}  # trip-count name -> (the normal-form loop it counts, its tape or None)

    # --- names -----------------------------------------------------------------------------------

    def names(self, stmt):
        """names_in(stmt), computed once per statement of the normal form (which does not change)."""
        if id(stmt) not in self._names:
            self._names[id(stmt)] = stmt, names_in(stmt)
        return self._names[id(stmt)][1]

    def bar(self, v):
        if v not in self.bars:
            self.bars[v] = self.nf.namer.fresh(f"{v}_bar")
            self.kinds[self.bars[v]] = self.kinds.get(v)
        return self.bars[v]

    def fresh(self, base):
        return self.nf.namer.fresh(base)

    # --- what the forward sweep writes more than once, and where each adjoint lives ----------------

    def written_again(self):
        """Names that may be assigned more than once in one run, with different values: in a loop
        (unless loop-invariant), twice on one path, or a parameter assigned at all. Exclusive
        branches of an if count once."""
        invariant = self.loop_invariant()

        def counts(stmts, in_loop):
            total = {}
            for s in stmts:
                if isinstance(s, ast.If):
                    a, b = counts(s.body, in_loop), counts(s.orelse, in_loop)
                    here = {t: max(a.get(t, 0), b.get(t, 0)) for t in a.keys() | b.keys()}
                elif isinstance(s, (ast.For, ast.While)):
                    here = {t: 1 if t in invariant else 2 for t in counts(s.body, True)}
                elif isinstance(s, ast.Assign) and isinstance(s.targets[0], (ast.Name, ast.Tuple)):
                    here = {t: 2 if in_loop and t not in invariant else 1 for t in names_in(s.targets[0])}
                else:
                    here = {}
                for t, c in here.items():
                    total[t] = total.get(t, 0) + c
            return total

        found = counts(self.nf.body, False)
        return {t for t, c in found.items() if c > 1 or t in self.nf.params}

    def loop_invariant(self):
        """Names assigned once, inside loops, from values that no enclosing loop changes: the same
        value on every iteration, so the tape need not keep them (e.g. `half = 0.5 * dt`)."""
        writes = {}
        for s in assignments(self.nf.body):
            for t in names_in(s.targets[0]) if isinstance(s.targets[0], ast.Name) else ():
                writes[t] = writes.get(t, 0) + 1
        candidates = []  # (statement, names written by its enclosing loops)

        def visit(stmts, loop_writes):
            for s in stmts:
                if isinstance(s, (ast.For, ast.While)):
                    inner = loop_writes | {n.id for n in ast.walk(s) if isinstance(n, ast.Name)
                                           and isinstance(n.ctx, ast.Store)} | {
                        t.targets[0].value.id for t in assignments(s.body) if isinstance(t.targets[0], ast.Subscript)}
                    visit(s.body, inner)
                elif isinstance(s, ast.If):
                    visit(s.body, loop_writes)
                    visit(s.orelse, loop_writes)
                elif loop_writes and isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) \
                        and writes.get(s.targets[0].id) == 1 and s.targets[0].id not in self.nf.params:
                    candidates.append((s, loop_writes))

        visit(self.nf.body, set())
        written_in_place = {s.targets[0].value.id for s in assignments(self.nf.body)
                            if isinstance(s.targets[0], ast.Subscript)}
        candidates = [(s, w) for s, w in candidates if s.targets[0].id not in written_in_place]
        invariant, changed = set(), True
        while changed:
            changed = False
            for s, loop_writes in candidates:
                t = s.targets[0].id
                if t not in invariant and not (names_in(s.value) & loop_writes) - invariant:
                    invariant.add(t)
                    changed = True
        return invariant

    def adjoint_scopes(self):
        """name -> the block (a tuple path) whose reverse starts with `name_bar = zeros_like(name)`."""
        paths = {}

        def visit(stmts, path):
            for s in stmts:
                if isinstance(s, ast.If):
                    touch(names_in(s.test), path)
                    visit(s.body, path + ((id(s), "body"),))
                    visit(s.orelse, path + ((id(s), "orelse"),))
                elif isinstance(s, (ast.For, ast.While)):
                    touch(names_in(s.iter if isinstance(s, ast.For) else s.test), path)
                    visit(s.body, path + ((id(s), "body"),))
                else:
                    touch(names_in(s), path)

        def touch(names, path):  # each name's path narrows to the blocks common to all its uses
            for n in names:
                old = paths.get(n)
                paths[n] = path if old is None else tuple(
                    a for a, _ in itertools.takewhile(lambda ab: ab[0] == ab[1], zip(old, path)))

        visit(self.nf.body, ())
        blocks = {(): self.nf.body}
        for n in ast.walk(ast.Module(self.nf.body, [])):
            if isinstance(n, ast.If):
                blocks[(id(n), "body")], blocks[(id(n), "orelse")] = n.body, n.orelse
            elif isinstance(n, (ast.For, ast.While)):
                blocks[(id(n), "body")] = n.body
        loops = {id(n) for n in ast.walk(ast.Module(self.nf.body, [])) if isinstance(n, (ast.For, ast.While))}
        scopes, self.scope_paths = {}, {}
        for v in self.active:
            path = paths.get(v, ())
            while path and not self.starts_fresh(v, blocks[path[-1]]) and not (
                    all(key not in loops for key, _ in path) and self.only_in(v, blocks[path[-1]])):
                path = path[:-1]
            scopes[v] = path[-1] if path else ()
            self.scope_paths[v] = path
        return scopes

    def unset_at_scope(self, v):
        """Whether v may be unset where its adjoint starts, at the end of its scope block's forward run
        (a loop that may not run sets it, or one branch of an if, or a loop left early by a return)."""
        if v in self.nf.params:
            return False
        stmts = self.nf.body
        for key, field in self.scope_paths.get(v, ()):
            for s in stmts:
                if id(s) == key:
                    break
                if _surely_sets([s], v):
                    return False
            stmts = getattr(s, field)
        return not _surely_sets(stmts, v)

    def only_in(self, v, block):
        """Whether every assignment of v is inside block (v is not a parameter): then v cannot come into
        a run of the block from before it, and in a block that runs once (no loop around it) its
        adjoint can start there, where v is set (before it, v may be unset)."""
        inside = sum(isinstance(s.targets[0], (ast.Name, ast.Tuple)) and v in names_in(s.targets[0])
                     for s in assignments(block))
        return v not in self.nf.params and inside == self.writes.get(v, 0)

    def starts_fresh(self, v, block):
        """Whether every run of block writes v before anything in it reads v (v does not carry over)."""
        return self.written_first(v, block) is not False

    def written_first(self, v, stmts):
        """True when every run of stmts assigns v before reading it, False when a run may read v first,
        None when a run may do neither (an `if` both of whose branches assign v assigns it)."""
        for s in stmts:
            if v not in self.names(s):
                continue
            if isinstance(s, ast.If) and v not in names_in(s.test):
                body, orelse = self.written_first(v, s.body), self.written_first(v, s.orelse)
                if body is False or orelse is False:
                    return False
                if body and orelse:
                    return True
                continue  # (a run through the branch that does not touch v goes on)
            return isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and \
                s.targets[0].id == v and v not in names_in(s.value)
        return None

    # --- the sweeps ------------------------------------------------------------------------------

    def run(self):
        nf = self.nf
        seed = self.bar(nf.result)
        fwd, rev = self.block(nf.body[:-1], (), 0)
        entry = [site("push", p) for p in nf.params if p in self.multi]
        # a placeholder of v's kind for the adjoint's start to read where v may be unset (nothing else reads it)
        entry += [assign(v, _placeholder(self.kinds.get(v))) for v in sorted(self.active)
                  if v != nf.result and self.kinds.get(v) != 0 and self.unset_at_scope(v)]
        tail = [assign(self.bar(p), call("zeros_like", name(p))) for p in self.wrt if p not in self.active]
        result = nf.result
        if result in self.multi:  # the reverse sweep may restore it: keep the forward sweep's value
            result = self.fresh("value")
            fwd.append(assign(result, name(nf.result)))
        ret = ast.Return(ast.Tuple([name(result)] + [name(self.bar(p)) for p in self.wrt], ast.Load()))
        args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in nf.params] + [ast.arg(seed)],
                             vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
        body = entry + fwd + [comment(REVERSE_SWEEP)] + rev + tail + [ret]
        primal = set(nf.params) | {t for s in assignments(nf.body) for t in names_in(s.targets[0])} | {
            v for k, v in self.bars.items() if isinstance(k, tuple)}
        plan = TapePlan((self.multi & primal) - self.remat, dict(self.kinds), dict(self.element_sites),
                        list(self.tapes), nf.namer, set(self.active), self.views(), set(self.remat),
                        dict(self.trip_counts), {}, {b for v, b in self.bars.items() if isinstance(v, str)})
        return function_def(f"{nf.name}_vjp", args, body), plan

    def block(self, stmts, path, depth):
        """(forward statements, reverse statements) of a block of normal-form statements."""
        fparts, parts = [], []
        for s in stmts:
            f, r = self.statement(s, depth)
            fparts.append((s, f))
            parts.append((s, r))
        if depth:
            parts = self.rematerialize(stmts, parts)
        rev = self.headed(reversed([(s, r) for s, r in parts if r]))
        inits = [assign(self.bar(v), call("zeros_like", name(v))) for v in sorted(
            (v for v, p in self.scopes.items() if p == path and v != self.nf.result), key=self.first_use)]
        return self.headed(fparts), without_zero_terms(inits + rev)

    def headed(self, parts):
        """The code of (normal-form statement, its code) pairs, under an `# adjoint of:` heading naming
        the user's line wherever that line changes, in both sweeps: a traceback from generated code
        lands under the line it came from. The heading's lineno is the statement's, as in the normal form."""
        out, last = [], None
        for s, code in parts:
            where = self.nf.locate(s)
            if isinstance(s, (ast.If, ast.For, ast.While)):
                last = None
            elif (where.filename, where.lineno) != last and not isinstance(s, ast.Pass):
                heading = comment(f"adjoint of: {where.text.strip()}  ({where.filename.rsplit('/', 1)[-1]}:"
                                  f"{where.lineno})")
                heading.lineno = s.lineno
                out.append(heading)
                last = (where.filename, where.lineno)
            out += code
        return out

    def rematerialize(self, stmts, parts):
        """Recompute cheap numbers inside a loop body instead of taping them.

        A number computed once per iteration by a cheap primitive (arithmetic, a math function, an
        element of an array the function never writes), and read only by later statements of the
        same block, is computed again at the start of the adjoint of its last reader, together with
        the cheap numbers it is computed from, provided every input still holds its value there. A
        reader that itself overwrites an input gets that input restored before its adjoint instead
        of after (its adjoint must not read the new value). The tape then keeps only the inputs, as
        a person writing the adjoint would.
        """
        defs = {}
        here = _occurrences(stmts)
        for i, d in enumerate(stmts):
            t = self.cheap_definition(d)
            if t is not None and not any(t in self.names(s) for s in stmts[:i]) \
                    and here.get(t) == self.occurrences.get(t):  # (not read after the block, either)
                defs[t] = i
        parts, chains = list(parts), {}  # reader index -> names recomputed there, in forward order
        lasts = {}
        for t, i in defs.items():
            readers = [j for j in range(i + 1, len(stmts)) if t in self.names(stmts[j])]
            if readers and all(isinstance(stmts[j], ast.Assign) for j in readers):
                lasts[t] = readers[-1]
        at = {}  # name -> the reader where it is computed again (the reverse sweep meets later ones first)
        for t in sorted(lasts, key=lambda t: (-lasts[t], defs[t])):
            last = lasts[t]
            if t in at or self.read_back_after(t, last, parts):
                continue
            chain = self.chain(t, last, stmts, defs, {u for u, p in at.items() if p > last}, parts)
            if chain is None:
                continue
            reader, rev = parts[last]
            done = chains.get(last, [])
            # (with what an earlier chain computes again here: its restores stay in front of both)
            inputs = set().union(*(names_in(stmts[defs[u]].value) for u in set(chain) | set(done)))
            overwritten = inputs & written(reader)
            body = [r for r in rev if not _is_site(r) and not (isinstance(r, ast.Assign) and isinstance(
                r.targets[0], ast.Name) and r.targets[0].id in done)]
            if overwritten and (not isinstance(reader.targets[0], ast.Name)
                                or any(overwritten & names_in(r) for r in body)):
                continue
            moved = [r for r in rev if site_name(r) in overwritten
                     and r.value.args[0].value == "restore"]
            rest = [r for r in rev if r not in moved and not (isinstance(r, ast.Assign) and isinstance(
                r.targets[0], ast.Name) and r.targets[0].id in done and r.lineno == -1)]
            names = sorted(set(done) | set(chain), key=defs.get)
            again = []
            for u in names:
                stmt = assign(name(u, True), copy.deepcopy(stmts[defs[u]].value), -1)
                again.append(stmt)
            chains[last] = names
            parts[last] = (reader, moved + again + rest)
            self.remat |= set(chain)
            at.update({u: last for u in chain})
        for reader, rev in parts:
            for r in rev:
                if isinstance(r, ast.Assign) and r.lineno == -1:
                    r.lineno = reader.lineno
        return parts

    def chain(self, t, last, stmts, defs, seen, parts):
        """The cheap numbers to compute again at stmts[last] to have t there (t last), or None.

        A number t is computed from is computed again with it only if the reverse code of no later
        statement reads it (their adjoints, and what is computed again there): the reverse sweep
        meets those first, so the number must keep its value for them."""
        if t in seen:  # already computed again at a later reader, so still valid here
            return []
        seen.add(t)
        i = defs[t]
        out = []
        for u in sorted(names_in(stmts[i].value)):
            if u in defs and defs[u] < i and (u in seen or not self.read_back_after(u, last, parts)):
                sub = self.chain(u, last, stmts, defs, seen, parts)
                if sub is None:
                    return None
                out += [v for v in sub if v not in out]
            elif any(u in written(s) for s in stmts[i + 1:last]):
                return None  # an input changes before the reader: its value there is not the one t used
        return out + [t]

    def read_back_after(self, v, last, parts):
        """Whether the reverse code of a statement after stmts[last] reads v."""
        return any(v in self.names(r) for _, rev in parts[last + 1:] for r in rev)

    def cheap_definition(self, stmt):
        """The name a statement defines, if it is cheap to compute again, else None: a number from a
        cheap primitive or a copy of another, a view of an array whose value never changes
        (`xs_t = xs[t]`: a view costs no copy, and keeping xs costs no tape), or a second name for
        an array whose elements are never written (`i = sigmoid_out`, from an inlined call)."""
        if not (isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)):
            return None
        t, value = stmt.targets[0].id, stmt.value
        if t not in self.multi or self.writes.get(t) != 1 or t in self.nf.params:
            return None
        if self.kinds.get(t) != 0:
            if t in self.written_memory:  # its elements are written after: the value set again is not it
                return None
            view = isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) \
                and value.value.id not in self.multi | self.written_memory
            same = isinstance(value, ast.Name) and value.id not in self.written_memory  # another name for it
            return t if view or same or self.elementwise_of_unchanging(value) else None
        if isinstance(value, (ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant)):
            return t
        if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) \
                and value.value.id not in self.element_written and self.writes.get(value.value.id, 0) <= 1 \
                and not any(isinstance(n, ast.Slice) for n in ast.walk(value.slice)):
            return t
        if isinstance(value, ast.Call):
            rule, _ = rule_of(value, self.table)
            if rule is not None and not rule.custom and rule.spelling.startswith(("math.", "np.")) \
                    and (rule.broadcast or len(rule.params) == 1) and not any(
                        isinstance(a, ast.Tuple) for a in value.args):
                return t
        return None

    def elementwise_of_unchanging(self, value):
        """Whether value is one elementwise operation (+ - * / -x) on constants and arrays that nothing
        changes (assigned once in a run, or views of such taken again in each iteration): one more
        pass over them in the reverse sweep instead of keeping an array per iteration."""
        if isinstance(value, ast.UnaryOp):
            operands = [value.operand]
        elif isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            operands = [value.left, value.right]
        else:
            return False
        return all(isinstance(o, ast.Constant) or isinstance(o, ast.Name) and o.id not in self.written_memory
                   and (o.id not in self.multi or self.view_of_unchanging(o.id)) for o in operands)

    def view_of_unchanging(self, v):
        """Whether v's one assignment makes it a view of an array that nothing changes (`means_k = means[k]`)."""
        value = self.values.get(v) if self.writes.get(v) == 1 else None
        return isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) \
            and value.value.id not in self.multi | self.written_memory

    def shares_written_memory(self):
        """Names that may share memory with an array whose elements the function writes."""
        shown = self.views()
        return set().union(*(aliases(y, shown) for y in self.element_written))

    def first_use(self, v):
        for i, n in enumerate(ast.walk(ast.Module(self.nf.body, []))):
            if isinstance(n, ast.Name) and n.id == v:
                return i, v
        return 1 << 30, v

    def statement(self, s, depth):
        if isinstance(s, ast.Assign):
            target = s.targets[0]
            if isinstance(target, ast.Subscript):
                key = next(self.counter)
                self.element_sites[key] = (target.value.id, target.slice)
                rev = self.store_adjoint(s) + [site("load", target.value.id, key)]
                return [site("save", target.value.id, key), s], rev
            written = [t for t in names_in(target) if t in self.multi]
            rev, reset = self.adjoint(s) if names_in(target) & self.active else ([], [])
            s = self.with_residuals(s)
            if len(names_in(s.targets[0])) > len(names_in(target)) and written:  # a custom rule's residuals
                written.append(self.residual(target.id))
                self.multi.add(written[-1])
            return [s] + [site("push", t) for t in written], rev + [site("restore", t) for t in written] + reset
        if isinstance(s, ast.If):
            f1, r1 = self.block(s.body, (id(s), "body"), depth)
            f2, r2 = self.block(s.orelse, (id(s), "orelse"), depth)
            rev = [ast.If(copy.deepcopy(s.test), r1 or [ast.Pass()], r2)] if r1 or r2 else []
            return [ast.If(s.test, f1 or [ast.Pass()], f2)], rev
        if isinstance(s, ast.For):
            return self.for_loop(s, depth)
        if isinstance(s, ast.While):
            return self.while_loop(s, depth)
        return [s], []

    def counted(self, fwd_loop, count):
        """Forward statements around a loop whose iterations are counted in `count`."""
        fwd = [assign(count, ast.Constant(0)), fwd_loop]
        fwd_loop.body.insert(0, assign(count, ast.BinOp(name(count), ast.Add(), ast.Constant(1))))
        return fwd

    def nest(self, fwd, rev_loop, counts, depth):
        """Inside another loop, each recorded count goes on a tape per outer iteration."""
        rev = [rev_loop]
        for count in counts if depth else ():
            tape = self.tape(f"{count}_tape")
            self.trip_counts[count] = (self.trip_counts[count][0], tape)
            fwd = fwd + [ast.Expr(method(tape, "append", name(count)))]
            rev = [assign(count, method(tape, "pop"))] + rev
        return fwd, rev

    def for_loop(self, s, depth):
        fb, rb = self.block(s.body, (id(s), "body"), depth + 1)
        bounds = s.iter.args
        start, stop, step = (ast.Constant(0), bounds[0], ast.Constant(1)) if len(bounds) == 1 else \
            (bounds[0], bounds[1], bounds[2] if len(bounds) > 2 else ast.Constant(1))
        index = s.target.id
        loop = ast.For(s.target, s.iter, fb or [ast.Pass()], [])
        if not rb:
            return [loop], []
        unit = isinstance(step, ast.Constant) and step.value == 1
        counts = []
        if has_break(s.body) or not unit:
            count = self.fresh(f"{index}_trips")
            counts.append(count)
            self.trip_counts[count] = (s, None)
            fwd = self.counted(loop, count) if has_break(s.body) else \
                [assign(count, call("trip_count", copy.deepcopy(start), copy.deepcopy(stop), copy.deepcopy(step))),
                 loop]
            k = self.fresh("k")
            at = ast.BinOp(copy.deepcopy(start), ast.Add(), ast.BinOp(name(k), ast.Mult(), copy.deepcopy(step)))
            rev_loop = ast.For(name(k, True), call("range", ast.BinOp(name(count), ast.Sub(), ast.Constant(1)),
                                                   ast.Constant(-1), ast.Constant(-1)),
                               [assign(name(index, True), at)] + rb, [])
        else:
            fwd = [loop]
            rev_loop = ast.For(name(index, True), call(
                "range", ast.BinOp(copy.deepcopy(stop), ast.Sub(), ast.Constant(1)),
                ast.BinOp(copy.deepcopy(start), ast.Sub(), ast.Constant(1)), ast.Constant(-1)), rb, [])
            loop.mirror = rev_loop.mirror = next(self.counter)  # a pair that fusion.fuse_loops may join
        return self.nest(fwd, rev_loop, counts, depth)

    def while_loop(self, s, depth):
        fb, rb = self.block(s.body, (id(s), "body"), depth + 1)
        loop = ast.While(s.test, fb or [ast.Pass()], [])
        if not rb:
            return [loop], []
        count = self.fresh("trips")
        self.trip_counts[count] = (s, None)
        fwd = self.counted(loop, count)
        rev_loop = ast.For(name("_", True), call("range", name(count)), rb, [])
        return self.nest(fwd, rev_loop, [count], depth)

    def views(self):
        """name -> the arrays it may show (analysis.aliasing.views)."""
        return views(self.nf.body, self.table, self.kinds)

    def with_residuals(self, stmt):
        """A custom rule's call as the forward sweep runs it: `out, out_res = f_fwd(...)`."""
        if isinstance(stmt.value, ast.Call) and isinstance(stmt.targets[0], ast.Name):
            rule, _ = rule_of(stmt.value, self.table)
            target = stmt.targets[0].id
            if rule is not None and rule.custom and target in self.active:
                value = copy.deepcopy(stmt.value)
                value.func = name(f"{rule.spelling}_fwd")
                pair = ast.Tuple([name(target, True), name(self.residual(target), True)], ast.Store())
                return assign(pair, value, stmt.lineno)
        return stmt

    def tape(self, base):
        t = self.fresh(base)
        self.tapes.append(t)
        return t

    # --- adjoints of single statements -----------------------------------------------------------

    def accumulate(self, atom, expr, lineno):
        v = self.bar(atom.id)
        return [assign(v, ast.BinOp(name(v), ast.Add(), expr), lineno)]

    def adjoint(self, stmt):
        """(statements that push the adjoint of stmt's target to its arguments, the statement that then
        clears the adjoint of a name written again, to come after its old value is restored: the
        value before may have another shape)."""
        target, value, line = stmt.targets[0], stmt.value, stmt.lineno
        if not isinstance(target, ast.Name):
            raise self.error(stmt, "unpacking a tuple that carries a derivative is not supported",
                             "assign each part separately")
        v = target.id
        g = name(self.bar(v))
        block = []
        if v in self.multi and v in names_in(value):  # the value reads its own old version
            held = self.fresh(f"{v}_bar_in")
            self.kinds[held] = self.kinds.get(v)
            block = [assign(held, g, line), assign(self.bar(v), call("zeros_like", g), line)]
            g = name(held)
        block += self.contributions(stmt, g)
        # the assignment ends the life of v's adjoint: what the reverse sweep meets next (an earlier
        # trip of a loop around, an earlier write) belongs to another value of v
        if (v in self.multi or v in self.in_loops) and v not in names_in(value):
            if self.kinds.get(v) == 0:  # a number: nothing to wait for
                return block + [assign(self.bar(v), call("zeros_like", name(self.bar(v))), line)], []
            return block, [assign(self.bar(v), call("zeros_like", name(v)), line)]
        return block, []

    def contributions(self, stmt, g):
        value, line, target = stmt.value, stmt.lineno, stmt.targets[0]
        if isinstance(value, ast.Name):
            return self.accumulate(value, g, line) if self.is_active(value) else []
        if isinstance(value, ast.Subscript):
            if not self.is_active(value.value):
                return []
            bar = self.bar(value.value.id)
            if self.kinds.get(value.value.id) == 0:  # a number's `a[None]`, `a[...]`: one entry, summed back
                return self.accumulate(value.value, call("unbroadcast", g, name(value.value.id)), line)
            if all(self.scalar(name(n)) for n in names_in(value.slice)):
                part = ast.Subscript(name(bar), copy.deepcopy(value.slice), ast.Load())
                if self.is_view(value):
                    out = ast.Expr(call("add_into", part, g))
                else:
                    part.ctx = ast.Store()
                    out = ast.AugAssign(part, ast.Add(), g)
            else:  # the index may be an integer array that repeats entries
                out = ast.Expr(call("add_at", name(bar), index_value(value.slice), g))
            out.lineno = line
            return [out]
        if isinstance(value, ast.Tuple):
            raise self.error(stmt, "a tuple that carries a derivative is not supported", "assign each part separately")
        rule, bound = rule_of(value, self.table)
        if rule is None:
            return []
        if rule.custom:
            return self.custom_adjoint(rule, bound, target.id, g, line)
        if rule.carries:
            raise self.error(stmt, f"`{rule.spelling}` is a helper of generated adjoints, which reverse mode does "
                             "not differentiate again", "use adjoint.hessian or adjoint.hvp (forward over reverse)")
        found = []  # (argument, its contribution)
        for param, formula in zip(rule.params, rule.adjoints):
            if formula is None:
                continue
            arg = bound[param]
            parts = list(enumerate(arg.elts)) if rule.sequence else [(None, arg)]
            for k, part in parts:
                if not self.is_active(part):  # (a tuple that carries a derivative is refused before: analysis)
                    continue
                mapping = dict(bound, g=g, out=name(target.id))
                if rule.sequence:
                    mapping.update(part=part, k=ast.Constant(k), offset=self.offset(arg.elts[:k], bound))
                expr = instantiate(formula, mapping)
                others = [a for p, a in bound.items() if p != param and isinstance(a, (ast.Name, ast.Constant))]
                if rule.broadcast and not all(self.scalar(a) or _same(a, part) for a in others):
                    expr = call("unbroadcast", expr, copy.deepcopy(part))
                found.append((part, expr))
        block = []
        keys = [ast.dump(part) + ast.dump(expr) for part, expr in found]
        for k, (part, expr) in enumerate(found):
            if keys[k] in keys[:k]:
                continue
            if keys.count(keys[k]) > 1:  # `x * x`: one contribution `g * 2.0 * x`, exactly `g * x + g * x`
                factor = ast.Constant(float(keys.count(keys[k])))
                if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):  # g * 2.0 is shared by
                    expr = ast.BinOp(ast.BinOp(expr.left, ast.Mult(), factor), ast.Mult(), expr.right)  # all x * x
                else:
                    expr = ast.BinOp(expr, ast.Mult(), factor)
            block += self.accumulate(part, expr, line)
        return block

    def is_view(self, subscript):
        """Whether reading subscript surely gives a view (a slice, a new axis, or fewer indices than dims)."""
        index = subscript.slice
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        if any(isinstance(p, ast.Slice) or (isinstance(p, ast.Constant) and p.value is None) for p in parts):
            return True
        ndim = self.kinds.get(subscript.value.id) if isinstance(subscript.value, ast.Name) else None
        return ndim is not None and len(parts) < ndim

    def store_adjoint(self, stmt):
        """The adjoint of `y[index] = e`: e gets what y[index] had, and y[index] is cleared."""
        target, value, line = stmt.targets[0], stmt.value, stmt.lineno
        y = target.value.id
        if y not in self.active:
            return []
        bar = self.bar(y)
        # (y of unknown kind may be a 0-d array, whose adjoint arithmetic made a number: an array again)
        block = [assign(bar, ast.Call(ast.Attribute(name("np"), "asarray", ast.Load()), [name(bar)], []), line)] \
            if self.kinds.get(y) is None else []
        clear = assign(ast.Subscript(name(bar), copy.deepcopy(target.slice), ast.Store()), ast.Constant(0.0), line)
        if self.is_active(value):
            part = ast.Subscript(name(bar), copy.deepcopy(target.slice), ast.Load())
            parts = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
            elem_scalar = len(parts) == self.kinds.get(y) and all(self.scalar(p) for p in parts)  # (not `...`)
            if self.may_repeat(target.slice):  # an integer-array index: where it repeats an entry, the
                part = ast.Call(ast.Attribute(name("np"), "where", ast.Load()),  # last write is the one kept
                                [call("kept_writes", name(bar), index_value(target.slice)), part, ast.Constant(0.0)],
                                [])
            elif not elem_scalar:  # a slice of y_bar is about to be cleared: take a copy, not a view
                part = call("saved", part)
            expr = part if elem_scalar and self.scalar(value) else call("unbroadcast", part, copy.deepcopy(value))
            if value.id == y:  # `y[:] = y`: what e gets is taken before y_bar[index], the same adjoint, is cleared
                held = self.fresh(f"{bar}_part")
                self.kinds[held] = None
                return [assign(held, expr, line), clear] + self.accumulate(value, name(held), line)
            block += self.accumulate(value, expr, line)
        return block + [clear]

    def may_repeat(self, index):
        """Whether an index may hold an integer array, which can name one entry more than once."""
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        return not all(isinstance(p, (ast.Slice, ast.Constant)) or self.scalar(p) for p in parts)

    def offset(self, before, bound):
        axis = bound.get("axis", ast.Constant(0))
        if isinstance(axis, ast.Constant) and axis.value is None:  # np.concatenate(..., axis=None) flattens
            terms = [ast.Attribute(copy.deepcopy(p), "size", ast.Load()) for p in before]
        else:
            terms = [ast.Subscript(ast.Attribute(copy.deepcopy(p), "shape", ast.Load()), copy.deepcopy(axis),
                                   ast.Load()) for p in before]
        expr = terms[0] if terms else ast.Constant(0)
        for t in terms[1:]:
            expr = ast.BinOp(expr, ast.Add(), t)
        return expr

    def custom_adjoint(self, rule, bound, target, g, line):
        args = [bound[p] for p in rule.params]
        grads = [self.fresh(f"{a.id}_grad") if self.is_active(a) else "_" for a in args]
        block = [assign(ast.Tuple([name(n, True) for n in grads], ast.Store()),
                        ast.Call(name(f"{rule.spelling}_bwd"), [name(self.residual(target)), g], []), line)]
        for a, n in zip(args, grads):
            if self.is_active(a):
                block += self.accumulate(a, name(n), line)
        return block

    def residual(self, target):
        key = ("res", target)
        if key not in self.bars:
            self.bars[key] = self.fresh(f"{target}_res")
        return self.bars[key]


@dataclass
class TapePlan:
    """What `place_tape` needs to turn tape sites into pushes and restores, what the tape report
    (`explain`) reads of the reverse transform's and place_tape's decisions, and what later stages
    read (the kinds and the adjoints' names)."""

    written_again: set  # primal names that may be written more than once in a run
    kinds: dict
    element_sites: dict  # key -> (array name, index) of each element write
    counters: list  # tapes of loop trip counts, already in use
    namer: object
    active: set  # names that carry a derivative (so hold floats)
    views: dict  # name -> the arrays it may share memory with
    recomputed: set  # numbers the reverse sweep computes again instead of taping
    trip_counts: dict  # trip-count name -> (the normal-form loop it counts, its tape or None)
    placed: dict  # filled in by place_tape: tape -> (the name it keeps, its element-site key or None)
    adjoints: set  # names of the adjoints (which hold floats)


def place_tape(fdef, plan):
    """Replace the tape sites with pushes and restores wherever the reverse sweep reads the values.

    A name written again is kept on its tape when the reverse sweep reads its value, or reads its
    shape and it is not a number; an array's overwritten elements are saved when the reverse sweep
    reads the array's values. Called after simplification, so adjoints that were simplified away do
    not keep values alive.

    An array that the reverse sweep reads only as `a.shape` keeps just its shapes, on `a_shapes`,
    and those reads become `a_shapes[-1][0]`: the array itself is freed as soon as the forward sweep
    is done with it. A shape tape keeps one entry per run of equal shapes (runtime.push_shape), so
    a loop whose arrays keep their shape keeps one entry, not one per iteration.

    A float that carries a derivative goes on a list that starts with a placeholder (`[0.0]`, the
    value "before the first write"), so its restore is a plain pop and a read with no test, which
    Numba runs several times faster than `restore`; other values (arrays, ints, flags) use `restore`.
    The tapes it makes go into `plan.placed`.
    """
    body = fdef.body
    start = next(i for i, s in enumerate(body) if is_comment(s) and _comment_text(s) == REVERSE_SWEEP)
    by_value, by_shape, by_shape_attribute = reads(body[start:-1])  # the return reads the forward result
    shapes = {v for v in plan.written_again if v in by_shape_attribute and plan.kinds.get(v)}
    restore = {v for v in plan.written_again if v in by_value or (v in by_shape and plan.kinds.get(v) != 0)}
    restore -= shapes
    seen = shown_by(by_value, plan.views)  # reading a view reads the array it shows
    save = {y for y, _ in plan.element_sites.values() if y in seen}
    # elements put back into y must go into the array y was when they were taken out: y itself is restored
    shapes -= save
    restore |= save & plan.written_again
    floats = {v for v in restore if plan.kinds.get(v) == 0 and v in plan.active}
    # arrays that may share memory with an array whose elements are written: the tape keeps a copy,
    # or a later write into the shared memory would change the kept value (a view `c[:2]`, then `c[0] = 0`)
    element_written = {y for y, _ in plan.element_sites.values()}
    snapshots = {v for v in restore if plan.kinds.get(v) != 0 and (aliases(v, plan.views) - {v}) & element_written}
    tapes, names, placeholder = list(plan.counters), {}, {}

    def tape_of(v, suffix, key=None):
        if (v, suffix) not in names:
            names[(v, suffix)] = plan.namer.fresh(f"{v}_{suffix}")
            tapes.append(names[(v, suffix)])
            plan.placed[names[(v, suffix)]] = (v, key)
            if v in floats and suffix == "tape":
                placeholder[names[(v, suffix)]] = [ast.Constant(0.0)]
            if suffix == "shapes":  # see runtime.push_shape
                no_shape = ast.Tuple([ast.Constant(0)] * plan.kinds[v], ast.Load())
                placeholder[names[(v, suffix)]] = [ast.Tuple([no_shape, ast.Constant(0)], ast.Load())]
        return names[(v, suffix)]

    def replace(stmts):
        out = []
        for s in stmts:
            for field in ("body", "orelse"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, replace(getattr(s, field)) or ([ast.Pass()] if field == "body" else []))
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
                    and isinstance(s.value.func, ast.Name) and s.value.func.id == _SITE):
                out.append(s)
                continue
            kind, v, key = (a.value for a in s.value.args)
            if kind == "restore" and v in floats:
                tape = tape_of(v, "tape")
                out += [ast.Expr(method(tape, "pop")),
                        assign(v, ast.Subscript(name(tape), ast.Constant(-1), ast.Load()))]
            elif kind == "push" and v in shapes:
                out.append(ast.Expr(call("push_shape", name(tape_of(v, "shapes")), ast.Attribute(name(v), "shape",
                                                                                                  ast.Load()))))
            elif kind == "restore" and v in shapes:
                out.append(ast.Expr(call("pop_shape", name(tape_of(v, "shapes")))))
            elif kind == "push" and v in restore:
                # a copy where v may share memory with an array whose elements are written: a later write,
                # into the array v views or into a name that views v, cannot change what the tape keeps
                kept = call("saved", name(v)) if v in snapshots else name(v)
                out.append(ast.Expr(method(tape_of(v, "tape"), "append", kept)))
            elif kind == "restore" and v in restore:
                out.append(assign(v, call("restore", name(tape_of(v, "tape")), name(v))))
            elif kind in ("save", "load") and v in save:
                index = plan.element_sites[key][1]
                tape = tape_of(v, f"saved{key}", key)
                element = ast.Subscript(name(v), copy.deepcopy(index), ast.Load())
                if kind == "save":
                    out.append(ast.Expr(method(tape, "append", call("saved", element))))
                else:
                    out.append(assign(ast.Subscript(name(v), copy.deepcopy(index), ast.Store()), method(tape, "pop")))
        return out

    fdef = copy.deepcopy(fdef)
    result = fdef.body[-1].value.elts[0]
    if aliases(result.id, plan.views) & save:  # the reverse sweep puts old elements back: keep a copy
        kept = plan.namer.fresh("value")
        fdef.body.insert(start, assign(kept, ast.Call(ast.Attribute(name(result.id), "copy", ast.Load()), [], [])))
        result.id = kept
    body = replace(fdef.body)
    start = next(i for i, s in enumerate(body) if is_comment(s) and _comment_text(s) == REVERSE_SWEEP)
    last_shape = {v: ast.Subscript(ast.Subscript(name(tape_of(v, "shapes")), ast.Constant(-1), ast.Load()),
                                   ast.Constant(0), ast.Load()) for v in shapes}
    body[start:] = [_ShapeReads(last_shape).visit(s) for s in body[start:]]
    fdef.body = [assign(t, ast.List(placeholder.get(t, []), ast.Load())) for t in tapes] + body
    return fdef


class _ShapeReads(ast.NodeTransformer):
    """`a.shape` -> the expression that holds a's shape there."""

    def __init__(self, shapes):
        self.shapes = shapes

    def visit_Attribute(self, node):
        if node.attr == "shape" and isinstance(node.value, ast.Name) and node.value.id in self.shapes:
            return copy.deepcopy(self.shapes[node.value.id])
        return self.generic_visit(node)


def _comment_text(stmt):
    return stmt.value.args[0].value


def reads(rev):
    """(names read for their values, names read only for their shape, and of those the ones read
    only as `a.shape`) in reverse-sweep code."""
    by_value, by_shape, by_other = set(), set(), set()

    def visit(node, shape_only=False):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            (by_shape if shape_only else by_value).add(node.id)
            if shape_only:
                by_other.add(node.id)
            return
        if isinstance(node, ast.Attribute) and node.attr == "shape" and isinstance(node.value, ast.Name):
            by_shape.add(node.value.id)
            return
        if isinstance(node, ast.Attribute) and node.attr in ("size", "ndim"):
            visit(node.value, True)
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SHAPE_ONLY:
            for i, a in enumerate(node.args):
                visit(a, i in SHAPE_ONLY[node.func.id])
            return
        for child in ast.iter_child_nodes(node):
            visit(child, shape_only)

    for s in rev:
        visit(s)
    return by_value, by_shape - by_value, by_shape - by_value - by_other
