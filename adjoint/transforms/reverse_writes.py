"""What the reverse transform knows of the function's writes: which names are written again (so
need a tape), which are the same in every iteration of a loop, where each adjoint is set to zero,
and which arrays share memory with an array whose elements are written."""

import ast
import itertools

from ..analysis.activity import assignments
from ..analysis.aliasing import aliases, views
from ..ir.queries import names_in
from ..rules.helpers import draws


def _surely_sets(stmts, v):
    """Whether every run of stmts assigns the name v (an if by both branches; a loop may not run)."""
    for s in stmts:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], (ast.Name, ast.Tuple)) and v in names_in(s.targets[0]):
            return True
        if isinstance(s, ast.If) and _surely_sets(s.body, v) and _surely_sets(s.orelse, v):
            return True
    return False


class Writes:
    """A part of Reverse (reverse.py), whose state it reads."""

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
                        and writes.get(s.targets[0].id) == 1 and s.targets[0].id not in self.nf.params \
                        and not draws(s.value):
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

    def shares_written_memory(self):
        """Names that may share memory with an array whose elements the function writes."""
        shown = self.views()
        return set().union(*(aliases(y, shown) for y in self.element_written))

    def first_use(self, v):
        for i, n in enumerate(ast.walk(ast.Module(self.nf.body, []))):
            if isinstance(n, ast.Name) and n.id == v:
                return i, v
        return 1 << 30, v

    def views(self):
        """name -> the arrays it may show (analysis.aliasing.views)."""
        return views(self.nf.body, self.table, self.kinds)
