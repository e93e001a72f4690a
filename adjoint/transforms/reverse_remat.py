"""Rematerialization: values the reverse sweep computes again from what it has, instead of taping
them (a number that an elementwise step of unchanging arrays gives, a view of an unchanging array)."""

import ast

from ..analysis.activity import rule_of
from ..ir.build import assign, clone, name
from ..ir.queries import names_in, written
from .tape import is_site, site_name


def occurrences(stmts):
    """name -> how often it occurs in stmts (with what they nest)."""
    out = {}
    for s in stmts:
        for n in ast.walk(s):
            if isinstance(n, ast.Name):
                out[n.id] = out.get(n.id, 0) + 1
    return out


class Rematerialize:
    """A part of Reverse (reverse.py), whose state it reads."""

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
        here = occurrences(stmts)
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
            body = [r for r in rev if not is_site(r) and not (isinstance(r, ast.Assign) and isinstance(
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
                stmt = assign(name(u, True), clone(stmts[defs[u]].value), -1)
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
                and (value.value.id not in self.written_memory and self.writes.get(value.value.id, 0) <= 1
                     or value.value.id in self.frozen) \
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
