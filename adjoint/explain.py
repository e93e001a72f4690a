"""The tape report (`adjoint dump --tape`): what the reverse sweep keeps on its tapes and why, what it
does not keep, which names carry no derivative, and what the simplifier dropped, as plain text.

It decides nothing: it reads what the stages computed (the normal form, the TapePlan with
place_tape's decisions, the generated function) and says it by the user's file, line and names.
"""

import ast
import os
import re
import textwrap

from .analysis.activity import dependence, has_break
from .analysis.aliasing import shown_by
from .errors import size
from .ir.build import is_heading, sweep_start
from .ir.queries import names_in, stores
from .optimize.elementwise import unfused
from .rules.table import TABLE
from .transforms.tape import reads

INTRO = ("The generated function runs {name} forwards, then back through it (the reverse sweep) to collect "
         "the derivatives. Going back, it needs values that the forward run has overwritten since: the "
         "forward run pushes those onto tapes (arrays for numbers, lists for the rest) as it writes them, and "
         "the reverse sweep pops them "
         "in reverse order. Names are those of the generated code, which splits each of your lines into "
         "single operations (the normal form); file:line points to your line.")
RETURNED = "the final return"
CONTROL = "the tests of the reverse sweep's branches and loops"


def tape_report(gen):
    """The report on a pipeline.Generated, as text that is the same on every run."""
    return Report(gen).text()


def _wrap(text, indent):
    return textwrap.fill(text, 100, initial_indent=indent, subsequent_indent=indent + "  ")


def _runs(numbers):
    """'27-30, 34' for [27, 28, 29, 30, 34]."""
    out, first = [], None
    for i, n in enumerate(numbers):
        first = n if first is None else first
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            out.append(str(n) if n == first else f"{first}-{n}")
            first = None
    return ", ".join(out)


def _places(found):
    """Reverse-sweep places ((file, line) pairs, CONTROL or RETURNED) as text."""
    by_file = {}
    for f, n in sorted(p for p in found if isinstance(p, tuple)):
        by_file.setdefault(f, []).append(n)
    lines = ", ".join(f"{f}:{_runs(ns)}" for f, ns in by_file.items())
    parts = ([f"the adjoint of {lines}"] if lines else []) + [p for p in (CONTROL, RETURNED) if p in found]
    return " and ".join(parts) or "nothing: the code that read it was simplified away after the tape was placed"


class Report:
    def __init__(self, gen):
        if gen.stages is None:  # (text from the cache: the stages, and the normal form their plan names, again)
            gen = gen.redo()
        self.nf, self.plan, self.wrt = gen.nf, gen.plan, gen.wrt
        body = unfused(gen.fdef).body  # (a fused run's loop as the statements it stands for)
        start = sweep_start(body)
        self.forward, self.reverse = body[:start], body[start:]
        self.in_code = {n.id for n in ast.walk(gen.fdef) if isinstance(n, ast.Name)}  # (a later pass may drop a
        self.placed = {t: vk for t, vk in self.plan.placed.items() if t in self.in_code}  # tape the plan placed)
        self.order, self.loops = [], {}  # normal-form statements in order; id -> enclosing loops, innermost first
        self.visit(self.nf.body, ())
        self.read_at = self.readers()
        self.taped = {v for v, key in self.placed.values() if key is None}
        self.dropped = {t for s in self.assigns() for t in names_in(s.targets[0])} - stores(self.forward)
        self.element_writes = {id(s.targets[0].slice): s for s in self.order  # element-site index -> its write
                               if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Subscript)}

    def visit(self, stmts, loops):
        for s in stmts:
            self.order.append(s)
            self.loops[id(s)] = loops
            for part in (s.body, s.orelse) if isinstance(s, (ast.If, ast.For, ast.While)) else ():
                self.visit(part, (s,) + loops if isinstance(s, (ast.For, ast.While)) else loops)

    def assigns(self):
        """The normal form's assignments to names, in order."""
        return [s for s in self.order if isinstance(s, ast.Assign) and isinstance(s.targets[0], (ast.Name, ast.Tuple))]

    def readers(self):
        """name -> {(place in the reverse sweep that reads it, whether for its value)}, tape operations aside."""
        tapes = set(self.placed) | {t for _, t in self.plan.trip_counts.values() if t}
        shapes = {t: v for t, (v, _) in self.placed.items() if re.fullmatch(rf"{re.escape(v)}_shapes(_\d+)?", t)}
        found = {}

        def note(node, place):
            by_value, by_shape, _ = reads([node])  # the shape of a number is no reason to keep it
            used = by_value | {n for n in by_shape if self.plan.kinds.get(n) != 0}
            if not isinstance(node, ast.Expr):  # (not a tape's push or pop; `a_shapes[-1][0]` is a's shape)
                by_value, used = by_value - set(shapes), (used - set(shapes)) | {shapes[t] for t in used & set(shapes)}
            if not used & tapes:
                for n in used:
                    found.setdefault(n, set()).add((place, n in by_value))

        def visit(stmts):
            at, before = None, []  # code before the first heading of a block (adjoints starting at zero)
            for s in stmts:
                if is_heading(s) and s.value.args[0].value.startswith("adjoint of"):
                    where = self.nf.locate(s)
                    at = (os.path.basename(where.filename), where.lineno)
                    for b in before:  # serves the code under the headings that follow
                        note(b, at)
                    before = []
                elif isinstance(s, (ast.If, ast.For, ast.While)):
                    note(s.iter if isinstance(s, ast.For) else s.test, CONTROL)
                    visit(s.body)
                    visit(s.orelse)
                    at = None
                elif isinstance(s, ast.Return):
                    note(s, RETURNED)
                elif at is None:
                    before.append(s)
                else:
                    note(s, at)

        visit(self.reverse)
        return found

    # --- how to say things -----------------------------------------------------------------------

    def line(self, stmt):
        where = self.nf.locate(stmt)
        return f"{os.path.basename(where.filename)}:{where.lineno}  {where.text.strip()}"

    def label(self, v):
        user = self.nf.user_names.get(v, v if v in self.nf.params else None)
        kind = {0: "a number", None: "a number or an array"}.get(self.plan.kinds.get(v), "an array")
        return f"{user if user else 'an intermediate value'}, {kind} (normal-form name {v})"

    def how_often(self, what, stmt, indent):
        """Lines saying how often `what` (pushed, saved) happens at stmt: once, or per iteration of which loops."""
        loops = self.loops[id(stmt)]
        if not loops:
            return [f"{indent}{what} once"]
        inner, *outer = loops
        return [f"{indent}{what} on every iteration of the loop at {self.line(inner)}"] + [
            f"{indent}  inside the loop at {self.line(s)}" for s in outer]

    def rank(self, v):
        """Where v is first written (parameters first), to list names in the order the code has them."""
        if v in self.nf.params:
            return -1, self.nf.params.index(v)
        return next((i for i, s in enumerate(self.order) if isinstance(s, ast.Assign) and v in names_in(
            s.targets[0]) or isinstance(s, ast.For) and s.target.id == v), len(self.order)), 0

    def grouped(self, rows):
        """Lines for (statement, reason, name) rows: by user line, then reason."""
        groups = {}
        for stmt, why, v in rows:
            reasons = groups.setdefault(self.line(stmt), {})
            if v not in reasons.setdefault(why, []):
                reasons[why].append(v)
        out = []
        for where, reasons in groups.items():
            out.append(f"  {where}")
            out += [_wrap(f"{why}: {', '.join(names)}", "    ") for why, names in reasons.items()]
        return out or ["  none"]

    # --- the sections ----------------------------------------------------------------------------

    def text(self):
        wrt = ", ".join(self.wrt)
        title = f"Tape report: {self.nf.name}, reverse mode with respect to {wrt}"
        sections = [
            ("Values on a tape", self.values()),
            ("Array elements saved before a write over them (and put back after its adjoint)", self.elements()),
            ("Loop trip counts (a loop that may stop early runs back as many times as it ran)", self.trips()),
            ("Checkpointed loops (checkpoint=True, memory=)", self.checkpointed()),
            ("Written again but not taped", self.not_taped()),
            ("Dropped from the forward sweep by the simplifier", self.dropped_rows()),
            ("No derivative (inactive: the adjoint has no code for them)", self.inactive()),
        ]
        out = [title, "=" * len(title), "", textwrap.fill(INTRO.format(name=self.nf.name), 100)]
        for head, lines in sections:
            if lines:  # (a section with nothing to say is left out only where it says nothing in any report)
                out += ["", head] + lines
        return "\n".join(out) + "\n"

    def checkpointed(self):
        out = []
        for loop, snaps, budget, why in self.plan.checkpoints:
            if snaps is None:
                out += [f"  {self.line(loop)}", _wrap(f"not checkpointed, its tape kept whole outside the memory budget "
                                                      f"of {size(budget)}: {why}", "    ")]
                continue
            kept = ", ".join(v for v, t in snaps.items() if t in self.in_code) or "nothing"
            counted = isinstance(loop, ast.While) or has_break(loop.body)  # (run once first, to count them)
            segments = ("its first two iterations run with their tapes, and the most either keeps is taken for the tape "
                        "a step keeps; the others run in segments of ")
            if budget < 0:
                segments += "about √n of its n iterations (runtime.schedule)"
                runs = "three times (the first counts its iterations)" if counted else "twice"
                grows = "; snapshots and tapes grow as √n"
            else:
                segments = (f"under a memory budget of {size(budget)} for the tapes: " + segments +
                            "one when the whole loop's tape fits in it (nothing runs twice), else of the length that "
                            "needs least memory, about √(n × snapshot / step) iterations (runtime.schedule); "
                            "MemoryBudgetError before the loop runs on when even that does not fit")
                runs = ("twice (the first counts its iterations), three times" if counted else "once, twice") + \
                    " when checkpointed"
                grows = ""
            out += [f"  {self.line(loop)}",
                    _wrap(segments + "; the measured segments and the last keep their tapes from the forward sweep, one "
                          f"between runs again from a snapshot of what an iteration reads from the one before ({kept}) "
                          "with its tapes, last to first, then back through", "    "),
                    f"    its statements run {runs}{grows}"]
        return out

    def values(self):
        out = []
        for tape, v in sorted(((t, v) for t, (v, key) in self.placed.items() if key is None),
                              key=lambda tv: (self.rank(tv[1]), tv[1])):
            out.append(f"  {tape}: {self.label(v)}")
            if v in self.nf.params:
                out.append("    the argument's value, pushed once at the start")
            for s in self.assigns():
                if v in names_in(s.targets[0]):
                    out += [f"    written at {self.line(s)}"] + self.how_often("pushed", s, "      ")
            out.append(_wrap(f"needed by {_places({p for p, _ in self.read_at.get(v, ())})}", "    "))
        return out or ["  none"]

    def elements(self):
        out = []
        for tape, (y, key) in sorted(((t, vk) for t, vk in self.placed.items() if vk[1] is not None),
                                     key=lambda t: t[1][1]):
            stmt = self.element_writes[id(self.plan.element_sites[key][1])]
            viewers = {y} | {n for n in self.plan.views if y in shown_by([n], self.plan.views)}  # their values, not shapes
            found = {p for n in viewers for p, by_value in self.read_at.get(n, ()) if by_value}
            out += [f"  {tape}: {ast.unparse(stmt.targets[0])}, an element of {self.label(y)}",
                    f"    written at {self.line(stmt)}", *self.how_often("saved", stmt, "      "),
                    _wrap(f"the array's values are needed by {_places(found)}", "    ")]
        return out or ["  none"]

    def trips(self):
        out = []
        used = {n.id for s in self.forward for n in ast.walk(s) if isinstance(n, ast.Name)}
        for count, (loop, tape) in self.plan.trip_counts.items():
            if count in used:
                out += [f"  {self.line(loop)}", f"    counted in {count}"]
                out += self.how_often(f"    pushed on {tape}", loop, "") if tape in self.in_code else []
        return out or ["  none"]

    def not_taped(self):
        _, by_shape, _ = reads(self.reverse)
        again = stores(self.reverse)
        rows = []
        for s in self.assigns():
            for t in sorted(names_in(s.targets[0]) - self.taped - self.dropped, key=lambda t: (self.rank(t), t)):
                if t in self.plan.recomputed and t in again:
                    rows.append((s, "computed again by the reverse sweep, from values it has", t))
                elif t in self.plan.written_again | self.plan.recomputed:
                    rows.append((s, "the reverse sweep needs its type, not its value" if t in by_shape
                                 else "the reverse sweep does not read it", t))
                elif self.loops[id(s)]:
                    rows.append((s, "the same value on every iteration", t))
        rows += [(s, "a loop index, which the reverse loop sets again", s.target.id) for s in self.order
                 if isinstance(s, ast.For)]
        saved = {key for _, key in self.placed.values()}
        for key, (y, index) in self.plan.element_sites.items():
            if key not in saved:
                stmt = self.element_writes[id(index)]
                rows.append((stmt, f"an element write, not saved: the reverse sweep does not read {y}'s values",
                             ast.unparse(stmt.targets[0])))
        return self.grouped(sorted(rows, key=lambda r: self.order.index(r[0])))

    def dropped_rows(self):
        rows = []
        for s in self.assigns():
            for t in sorted(names_in(s.targets[0]) & self.dropped, key=lambda t: (self.rank(t), t)):
                why = "only the reverse sweep needs it, and computes it itself" if t in self.plan.recomputed \
                    else "neither the result nor the reverse sweep needs it"
                rows.append((s, why, t))
        return self.grouped(rows)

    def inactive(self):
        varied, _ = dependence(self.nf, self.wrt, TABLE)  # inactive and varied: not useful
        names = list(self.nf.params) + sorted((n for n in self.nf.user_names if n not in self.nf.params),
                                              key=lambda n: (self.rank(n), n))
        groups = {f"no derivative reaches them from {', '.join(self.wrt)}": [],
                  "their derivative does not reach the result": []}
        for n in names:
            if n not in self.plan.active:
                user = self.nf.user_names.get(n, n)
                label = n if user == n else f"{user} (as {n})"
                groups[list(groups)[n in varied]].append(label)
        return [_wrap(f"{why}: {', '.join(names)}", "  ") for why, names in groups.items() if names] or ["  none"]
