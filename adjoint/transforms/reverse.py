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
import itertools
from collections import Counter

from ..analysis.activity import Transform, activity, assignments, has_break
from ..analysis.aliasing import aliases, frozen
from ..errors import AdjointError
from ..ir.build import REVERSE_SWEEP, assign, call, clone, comment, function_def, heading, method, name, total
from ..ir.queries import names_in, stores, surely_bound_before, upward, written
from ..rules.helpers import having
from ..runtime import MEASURED
from .reverse_adjoints import Adjoints
from .reverse_remat import Rematerialize, occurrences
from .reverse_writes import Writes
from .tape import TapePlan, site, tape_placeholder

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


class CannotCheckpoint(AdjointError):
    """A top-level loop that checkpoint=True cannot checkpoint (Reverse.refuse_checkpoint); `why`, in a few words."""

    def __init__(self, message, why):
        super().__init__(message)
        self.why = why


def reverse(nf, wrt, table, checkpoint=False):
    """(the adjoint function of `nf` with respect to the parameter names `wrt`, its TapePlan).
    `checkpoint`: reverse the function's top-level loops by checkpointing (Reverse.checkpointed): True
    (segments of about √n), or a memory budget in bytes for the tapes (arguments.checkpointing).

    The function still holds tape sites; `place_tape` turns them into code."""
    _copy_indices_read_outside(nf)
    return Reverse(nf, wrt, table, checkpoint).run()


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


class Reverse(Writes, Rematerialize, Adjoints, Transform):
    def __init__(self, nf, wrt, table, checkpoint=False):
        self.nf, self.wrt, self.table, self.checkpoint = nf, tuple(wrt), table, checkpoint
        self.budget = -1 if checkpoint is True else int(checkpoint)  # (bytes; -1: segments of about √n)
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
        self.frozen = frozen(nf.body, table, self.kinds)
        self.checkpoints = []  # (loop, {carried name: its snapshots} or None, budget, why not) of each top-level loop
        self.remat = set()
        self.occurrences = occurrences(nf.body)
        self.scopes = self.adjoint_scopes()
        self.tapes = []  # tape lists to create at the top, in order
        self.trip_counts = {}  # trip-count name -> (the normal-form loop it counts, its tape or None)

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

    def run(self):
        nf = self.nf
        seeds = [self.bar(r) for r in nf.results]  # (a tuple returned: one cotangent per item)
        fwd, rev = self.block(nf.body[:-1], (), 0)
        entry = [site("push", p) for p in nf.params if p in self.multi]
        # a placeholder of v's kind for the adjoint's start to read where v may be unset (nothing else reads it)
        entry += [assign(v, tape_placeholder(self.kinds.get(v))) for v in sorted(self.active)
                  if v not in nf.results and self.kinds.get(v) != 0 and self.unset_at_scope(v)]
        tail = [assign(self.bar(p), call("zeros_like", name(p))) for p in self.wrt if p not in self.active]
        values = []
        for r in nf.results:  # the reverse sweep may restore one: keep the forward sweep's value
            values.append(self.fresh("value") if r in self.multi else r)
            if values[-1] != r:
                fwd.append(assign(values[-1], name(r)))
        result = name(values[0]) if isinstance(nf.result, str) else ast.Tuple([name(v) for v in values], ast.Load())
        aux = []  # (has_aux: the auxiliary outputs, after the result, kept from the forward sweep as it is)
        for a in nf.aux:
            aux.append(self.fresh(f"{a}_aux") if a in self.multi else a)
            if aux[-1] != a:
                fwd.append(assign(aux[-1], name(a)))
        ret = ast.Return(ast.Tuple([result] + [name(a) for a in aux] + [name(self.bar(p)) for p in self.wrt],
                                   ast.Load()))
        args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in nf.params] + [ast.arg(s) for s in seeds],
                             vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
        body = entry + fwd + [comment(REVERSE_SWEEP)] + rev + tail + [ret]
        primal = set(nf.params) | {t for s in assignments(nf.body) for t in names_in(s.targets[0])} | {
            v for k, v in self.bars.items() if isinstance(k, tuple)}
        plan = TapePlan((self.multi & primal) - self.remat, dict(self.kinds), dict(self.element_sites),
                        list(self.tapes), nf.namer, set(self.active), self.views(), set(self.remat),
                        dict(self.trip_counts), {}, {b for v, b in self.bars.items() if isinstance(v, str)},
                        dict(self.frozen), list(self.checkpoints))
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
        rev = self.headed(reversed([(s, r) for s, r in parts if r]), "adjoint of: ")
        inits = [assign(self.bar(v), call("zeros_like", name(v))) for v in sorted(
            (v for v, p in self.scopes.items() if p == path and v not in self.nf.results), key=self.first_use)]
        return self.headed(fparts, ""), without_zero_terms(inits + rev)

    def headed(self, parts, prefix):
        """The code of (normal-form statement, its code) pairs, under a heading naming the user's line
        wherever that line changes (the line itself in the forward sweep, `adjoint of:` it in the
        reverse sweep): a traceback from generated code lands under the line it came from. The
        heading's lineno is the statement's, as in the normal form."""
        out, last = [], None
        for s, code in parts:
            where = self.nf.locate(s)
            if isinstance(s, (ast.If, ast.For, ast.While)):
                last = None
            elif (where.filename, where.lineno) != last and not isinstance(s, ast.Pass):
                line = heading(prefix, where)
                line.lineno = s.lineno
                out.append(line)
                last = (where.filename, where.lineno)
            out += code
        return out

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
            rev = [ast.If(clone(s.test), r1 or [ast.Pass()], r2)] if r1 or r2 else []
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
        if self.checkpoint and not depth and (has_break(s.body) or not unit):
            made = self.checkpointed_or_kept(s, lambda: self.checkpointed_counted(s, index, start, stop, step, fb, rb))
            if made:
                return made
        if has_break(s.body) or not unit:
            count = self.fresh(f"{index}_trips")
            counts.append(count)
            self.trip_counts[count] = (s, None)
            fwd = self.counted(loop, count) if has_break(s.body) else \
                [assign(count, call("trip_count", clone(start), clone(stop), clone(step))),
                 loop]
            k = self.fresh("k")
            at = ast.BinOp(clone(start), ast.Add(), ast.BinOp(name(k), ast.Mult(), clone(step)))
            rev_loop = ast.For(name(k, True), call("range", ast.BinOp(name(count), ast.Sub(), ast.Constant(1)),
                                                   ast.Constant(-1), ast.Constant(-1)),
                               [assign(name(index, True), at)] + rb, [])
        elif self.checkpoint and not depth and (made := self.checkpointed_or_kept(
                s, lambda: self.checkpointed(s, index, start, stop, fb, rb))):
            return made
        else:
            fwd = [loop]
            rev_loop = ast.For(name(index, True), call(
                "range", ast.BinOp(clone(stop), ast.Sub(), ast.Constant(1)),
                ast.BinOp(clone(start), ast.Sub(), ast.Constant(1)), ast.Constant(-1)), rb, [])
            loop.mirror = rev_loop.mirror = next(self.counter)  # a pair that fusion.fuse_loops may join
        return self.nest(fwd, rev_loop, counts, depth)

    def checkpointed(self, s, index, start, stop, fb, rb, before=(), head=()):
        """A top-level `for i in range(start, stop)` reversed by checkpointing. Its first iterations
        (runtime.MEASURED, one a segment) run with their tapes; the most one of them keeps is taken for
        the tape a step keeps, from which runtime.schedule chooses the length
        of the segments the other iterations run in (√n with checkpoint=True; under a memory budget,
        one segment of them all when their tape fits, else the length that needs least memory). The
        measured segments and the last run with their tapes in the forward sweep; each one between runs
        the loop's own statements, after a snapshot of what an iteration reads from the one before. The
        reverse sweep takes the segments last to first: one between is run again from its snapshot
        with its tapes (`fb`), then each goes back through (`rb`). When the whole tape fits, nothing
        runs twice: the forward sweep is the stored adjoint's.

        A segment's start is written into the names it carries as an assignment would be (their tape
        sites, around the segment's sweeps), so that the first value a restore gives back in the segment
        is its snapshot's. A `while` loop (`index` None) has its iterations counted first, by a run of
        the loop that its snapshot at the start then undoes (`before`). `head`: statements that begin each
        run of the loop's body (a counted loop's index, from the iteration's number: `checkpointed_counted`).
        """
        carried = self.carried(s, index)
        left = self.left_by(s, index)  # (the values the loop leaves, pushed at its end as an assignment would)
        index = index or self.fresh("step")
        n, length, count, k, lo, hi, end, base, step, held = (self.fresh(b) for b in (
            "n_steps", "segment", "segments", "k", "lo", "hi", "end", "tape_before", "step_bytes", "tape_held"))
        snaps = {v: self.fresh(f"{v}_snapshots") for v in carried}
        self.checkpoints.append((s, snaps, self.budget, None))
        where = self.nf.locate(s)
        first = ast.Compare(name(k), [ast.Lt()], [ast.Constant(MEASURED)])  # (a segment of one measured iteration)
        taped_now = ast.BoolOp(ast.Or(), [first, ast.Compare(name(hi), [ast.Eq()], [name(end)])])
        setup = [assign(snaps[v], ast.List([], ast.Load())) for v in carried]
        setup += [assign(n, call("trip_count", clone(start), clone(stop), ast.Constant(1))),
                  assign(end, ast.BinOp(clone(start), ast.Add(), name(n))),
                  assign(base, ast.Constant(0)), assign(step, ast.Constant(0)), assign(held, ast.Constant(0)),
                  assign(length, ast.Constant(1)), assign(k, ast.Constant(0)), assign(lo, clone(start))]
        steps = call("range", name(lo), name(hi))
        primal = ast.For(name(index, True), steps, clone(list(head)) + [clone(b) for b in s.body], [])
        keep = [ast.Expr(method(snaps[v], "append", call("saved", name(v)) if v in self.written_memory else name(v)))
                for v in carried]  # (an array the loop writes into: a copy, which the reverse sweep takes for its own)
        taped = [site("push", v) for v in carried] + [  # (what is in use once the first segment has begun)
            ast.If(clone(first), [assign(base, call("tape_in_use"))], []),
            ast.For(name(index, True), clone(steps), clone(list(head)) + (clone(fb) or [ast.Pass()]), [])]
        carries = total([call("value_bytes", name(v)) for v in carried])
        measure = [ast.If(clone(first), [
            assign(step, call("max", name(step), ast.BinOp(call("tape_in_use"), ast.Sub(), name(base)))),
            ast.If(ast.Compare(name(k), [ast.Eq()], [ast.Constant(0)]), [assign(held, name(base))], [])], []),
            ast.If(ast.Compare(name(k), [ast.Eq()], [ast.Constant(MEASURED - 1)]), [assign(length, call(
                "schedule", name(n), name(step), carries, name(held), ast.Constant(self.budget),
                ast.Constant(f"{where.filename}:{where.lineno}")))], [])]
        segment = [assign(hi, call("min", ast.BinOp(name(lo), ast.Add(), name(length)), name(end))),
                   ast.If(taped_now, taped, keep + [primal])] + measure + [assign(lo, name(hi)),
                   assign(k, ast.BinOp(name(k), ast.Add(), ast.Constant(1)))]
        fwd = list(before) + setup + [ast.While(ast.Compare(name(lo), [ast.Lt()], [name(end)]), segment, []),
                                      assign(count, name(k))]
        ran = ast.Compare(name(n), [ast.Gt()], [ast.Constant(0)])  # (no iteration: nothing it binds was bound)
        fwd += [ast.If(ran, [site("push", v) for v in left], [])] if left else []
        # segment k: [start + k, start + k + 1) while measuring, else [start + M + (k - M) * length, ...)
        later = ast.BinOp(ast.BinOp(clone(start), ast.Add(), ast.Constant(MEASURED)), ast.Add(), ast.BinOp(
            ast.BinOp(name(k), ast.Sub(), ast.Constant(MEASURED)), ast.Mult(), name(length)))
        bounds = [assign(lo, ast.IfExp(clone(first), ast.BinOp(clone(start), ast.Add(), name(k)), later)),
                  assign(hi, call("min", ast.BinOp(name(lo), ast.Add(), ast.IfExp(
                      clone(first), ast.Constant(1), name(length))), name(end)))]
        again = [assign(v, method(snaps[v], "pop")) for v in carried] + [site("push", v) for v in carried]
        again_loop = ast.For(name(index, True), clone(steps), clone(list(head)) + (clone(fb) or [ast.Pass()]), [])
        again_loop.rerun = frozenset(stores(s.body) | written(s.body) | {index})  # (tape.reads: its own values)
        rerun = ast.If(ast.UnaryOp(ast.Not(), clone(taped_now)), again + [again_loop], [])
        back = ast.For(name(index, True), call("range", ast.BinOp(name(hi), ast.Sub(), ast.Constant(1)),
                                               ast.BinOp(name(lo), ast.Sub(), ast.Constant(1)), ast.Constant(-1)),
                       clone(list(head)) + rb, [])
        rev = [ast.For(name(k, True), call("range", ast.BinOp(name(count), ast.Sub(), ast.Constant(1)),
                                           ast.Constant(-1), ast.Constant(-1)),
                       bounds + [rerun, back] + [site("restore", v) for v in reversed(carried)], [])]
        rev[0].segments = True  # (optimize/strength.py sums across them, as across one loop)
        return fwd, ([ast.If(clone(ran), [site("restore", v) for v in reversed(left)], [])] if left else []) + rev

    def left_by(self, s, index):
        """The names a checkpointed loop binds that later code may restore (written again after it, or
        before it): each is pushed once at the loop's end, as its last write would have been. One the
        loop may leave unbound (bound in a branch, with no value before it) that code after the loop
        reads is refused: there would be nothing to push."""
        every = upward(s.body)[1]
        inside = Counter(n.id for n in ast.walk(s) if isinstance(n, ast.Name))
        everywhere = Counter(n.id for n in ast.walk(ast.Module(self.nf.body, [])) if isinstance(n, ast.Name))
        out = []
        for v in sorted(stores(s.body) - {index}):
            if v in self.multi and (v in every or self.bound_before(s, v)):
                out.append(v)
            elif v in self.multi and everywhere[v] > inside[v]:
                self.refuse_checkpoint(s, v, " is read after it, but not every iteration gives it a value and it "
                                             "has none before the loop", "give it a value before the loop")
        return out

    def bound_before(self, loop, v):
        """Whether v holds a value whenever the top-level `loop` starts."""
        return v in self.nf.params or surely_bound_before(self.nf.body, loop, v)

    def refuse_checkpoint(self, loop, v, why, hint):
        where = self.nf.locate(loop)
        if v in self.nf.results:  # (the function's own result: a return inside the loop)
            why, hint = "it returns from inside it", "return after the loop"
        else:
            why = f"`{self.nf.user_names.get(v, v)}`{why}"
        raise CannotCheckpoint(f"adjoint cannot checkpoint the loop at {where.filename}:{where.lineno}: {why}\n"
                               f"hint: {hint}, or differentiate without checkpoint=True", why)

    def checkpointed_or_kept(self, s, make):
        """make(): a top-level loop's checkpointed (forward, reverse). Under a memory budget, a loop that
        cannot be checkpointed gives None instead, and keeps its tape whole (the tape report says why);
        with checkpoint=True it is refused."""
        try:
            return make()
        except CannotCheckpoint as e:
            if self.checkpoint is True:
                raise
            self.checkpoints.append((s, None, self.budget, e.why))
            return None

    def checkpointed_counted(self, s, index, start, stop, step, fb, rb):
        """A top-level `for i in range(start, stop, step)` that may break, or steps by other than 1,
        checkpointed as `for k in range(count)` is, each run of its body starting with i = start + k * step.
        One that may break has its iterations counted first, as a while loop's are (`checkpointed_while`)."""
        count, k = self.fresh(f"{index}_trips"), self.fresh("k")
        at = assign(name(index, True), ast.BinOp(clone(start), ast.Add(), ast.BinOp(name(k), ast.Mult(), clone(step))))
        if not has_break(s.body):
            before = [assign(count, call("trip_count", clone(start), clone(stop), clone(step)))]
        else:
            before = self.counted_first(s, ast.For(clone(s.target), clone(s.iter), [], []), count)
        return self.checkpointed(s, k, ast.Constant(0), name(count), fb, rb, before, [at])

    def checkpointed_while(self, s, fb, rb):
        """A top-level `while` loop checkpointed: its iterations counted first (`counted_first`), then
        reversed as `for step in range(count)` is (checkpointed)."""
        count = self.fresh("trips")
        before = self.counted_first(s, ast.While(clone(s.test), [], []), count)
        return self.checkpointed(s, None, ast.Constant(0), name(count), fb, rb, before)

    def counted_first(self, s, loop, count):
        """Statements that count the iterations of the loop s into `count` by a run of it (`loop`: its
        header, given s's body after `count += 1`) from a copy of what it carries, which it then gives back."""
        carried = self.carried(s, s.target.id if isinstance(s, ast.For) else None)
        entry = {v: self.fresh(f"{v}_entry") for v in carried}
        loop.body = [assign(count, ast.BinOp(name(count), ast.Add(), ast.Constant(1)))] + [clone(b) for b in s.body]
        return [assign(entry[v], call("saved", name(v)) if v in self.written_memory else name(v)) for v in carried] + \
            [assign(count, ast.Constant(0)), loop] + [assign(v, name(entry[v])) for v in carried]

    def carried(self, s, index):
        """The names a loop's iteration may read as the one before left them (written in the body, and
        read there before the iteration binds them): a checkpoint's snapshot. An array whose elements
        may be written is kept as a copy, which the reverse sweep gives the name back: another name that
        shares its memory must be one that each iteration binds before reading it (`u_part = u[1:-1]`),
        so that it never holds the array the copy stands for."""
        body, views = s.body, self.views()
        first = (upward(body)[0] - {index}) | (names_in(s.test) if isinstance(s, ast.While) else set())
        inside = {t for st in assignments(body) for t in names_in(st.targets[0])}
        out = []
        for v in sorted((written(body) - {index}) & first):
            if not self.bound_before(s, v):
                self.refuse_checkpoint(s, v, " may be read before an iteration gives it a value, and is not given "
                                             "one before the loop", "give it a value before the loop")
            if v in self.written_memory and any(a not in inside or a in first for a in aliases(v, views) - {v}):
                self.refuse_checkpoint(s, v, ", which it writes into, shares its memory with another name kept from "
                                             "one iteration to the next", "write into a copy")
            out.append(v)
        return out

    def while_loop(self, s, depth):
        fb, rb = self.block(s.body, (id(s), "body"), depth + 1)
        loop = ast.While(s.test, fb or [ast.Pass()], [])
        if not rb:
            return [loop], []
        if self.checkpoint and not depth and (made := self.checkpointed_or_kept(
                s, lambda: self.checkpointed_while(s, fb, rb))):
            return made
        count = self.fresh("trips")
        self.trip_counts[count] = (s, None)
        fwd = self.counted(loop, count)
        rev_loop = ast.For(name("_", True), call("range", name(count)), rb, [])
        return self.nest(fwd, rev_loop, [count], depth)
