"""Comprehensions and generator expressions, lowered to the loops they stand for.

Over containers known when compiling (and ranges of constants) a comprehension is unrolled into a
container (`[h @ W for h in hs]`, `{k: p[k] - lr * g[k] for k in p}`). Over what is known only at
run time it is a loop, shaped by what consumes it:

    sum(e for ...)                     total = 0; for ...: total = total + e
    max(e for ...), min(...)           the first item, then max(best, e); ValueError when empty
    np.array([e for t in x]), np.stack(...), np.sum([...]), ...
                                       an array filled by element writes, one item per index:
                                       np.zeros(n) for numbers, rows_of(the first item, n) for arrays
    [e for ...] kept as a list, or with `if` or two `for`s
                                       the loops appending to a list (grown.py: an array of rows)

Their loop variables get names of their own (a comprehension's names are its own in Python 3).
"""

import ast
import copy

from ..ir.build import clone
from .syntax import Normal, Rows, range_parts

COMPREHENSIONS = (ast.ListComp, ast.GeneratorExp, ast.DictComp)


class Comprehensions:
    """A part of Normalizer (normalizer.py), whose state it reads and writes."""

    def comprehended(self, scope, comp, consumer, start=None):
        """What a comprehension gives its consumer: "list" (a container), "sum", "max" or "min" (an
        atom), "array" (an atom holding the array of its items)."""
        comp = self.own_names(scope, comp)
        if self.known_items(scope, comp):
            container = self.unrolled_comprehension(scope, comp)
            if consumer == "array":
                return self.as_array(container) or self.refuse_comprehension(scope, comp, "its items' kinds are not "
                                                                             "known when compiling")
            if consumer in ("sum", "max", "min"):
                builtin = {"sum": sum, "max": max, "min": min}[consumer]
                return self.fold_items(scope, comp, builtin, list(container.elts), start)
            return container
        if isinstance(comp, ast.DictComp):
            self.refuse_comprehension(scope, comp, "it builds a dict whose keys are known only at run time")
        if consumer == "list" or consumer == "array" and (len(comp.generators) > 1 or comp.generators[0].ifs):
            return self.grown_comprehension(scope, comp, consumer)
        if consumer == "sum":
            return self.summed(scope, comp, start)
        if consumer in ("max", "min"):
            return self.extreme(scope, comp, consumer)
        return self.filled(scope, comp)

    def grown_comprehension(self, scope, comp, consumer):
        """A list comprehension over run-time items kept as a list (or filtered by `if`, or of two
        `for`s): the loops appending to a list that grown.py holds as an array of rows."""
        holder = self.own_name(scope, "items")
        scope.current[holder] = self.made_here(ast.Tuple([], ast.Load()))
        scope.current[holder].is_list = True
        put = ast.Expr(ast.Call(ast.Attribute(ast.Name(holder, ast.Load()), "append", ast.Load()), [comp.elt], []))
        self.run_loops(scope, comp.generators, [put], comp)
        grown = scope.current.pop(holder)
        if isinstance(grown, ast.Tuple):  # (the loops ran when compiling: `for k in range(3)`, items known)
            if consumer == "list":
                return grown
            return self.as_array(grown) or self.refuse_comprehension(scope, comp, "its items' kinds are not known "
                                                                     "when compiling")
        self.grown[grown.rows.id].named = False
        if consumer == "list":
            return grown
        state = self.grown[grown.rows.id]
        if not state.appended:
            self.refuse_comprehension(scope, comp, "it has no items when compiling")
        rows = ast.Subscript(grown.rows, ast.Slice(None, ast.Name(state.count, ast.Load()), None), ast.Load())
        return self.emit(self.namer.fresh("filled"), self.rule_call("np.copy", [self.emit(self.namer.fresh(
            "items"), rows)]))

    def refuse_comprehension(self, scope, comp, why):
        raise self.error(scope, comp, f"this comprehension cannot be differentiated: {why}",
                         "consume it with sum, max, min, np.array or np.stack, or write the loop filling an array "
                         "(`out = np.zeros(n)`, `out[i] = ...`)")

    def own_names(self, scope, comp):
        """A copy of comp whose loop variables have names of their own in the function."""
        original = comp
        comp = clone(comp)
        renames = {}
        for gen, before in zip(comp.generators, original.generators):
            if not any(isinstance(n, ast.Name) and n.id in renames for n in ast.walk(gen.iter)):
                gen.iter = before.iter  # (the user's own node: what reads it is known by its parent)
            if gen.is_async:
                raise self.error(scope, comp, "an async comprehension cannot be differentiated")
            gen.iter = _renamed(gen.iter, renames)
            for n in ast.walk(gen.target):
                if isinstance(n, ast.Name):
                    renames[n.id] = self.namer.fresh(n.id)
                    scope.locals.add(renames[n.id])
                    scope.fixed.add(renames[n.id])
            gen.target = _renamed(gen.target, renames, store=True)
            gen.ifs = [_renamed(c, renames) for c in gen.ifs]
        for part in ("elt", "key", "value"):
            if hasattr(comp, part):
                setattr(comp, part, _renamed(getattr(comp, part), renames))
        return comp

    def known_items(self, scope, comp):
        """Whether each generator goes over a container known when compiling or a range of
        constants (one that reads an earlier generator's variable counts as known: it is, once
        that one is unrolled)."""
        earlier = set()
        for gen in comp.generators:
            reads = {n.id for n in ast.walk(gen.iter) if isinstance(n, ast.Name)}
            if not (reads & earlier or self.known(scope, gen.iter) or _constant_range(gen.iter)):
                return False
            earlier |= {n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
        return True

    def unrolled_comprehension(self, scope, comp):
        """The container a comprehension over known items builds, its loops unrolled."""
        holder = self.namer.fresh("items")
        scope.locals.add(holder)
        if isinstance(comp, ast.DictComp):
            scope.current[holder] = self.made_here(ast.Dict([], []))
            put = ast.Assign([ast.Subscript(ast.Name(holder, ast.Load()), comp.key, ast.Store())], comp.value)
        else:
            scope.current[holder] = self.made_here(ast.Tuple([], ast.Load()))
            scope.current[holder].is_list = True
            put = ast.Expr(ast.Call(ast.Attribute(ast.Name(holder, ast.Load()), "append", ast.Load()), [comp.elt], []))
        self.run_loops(scope, comp.generators, [put], comp)
        return scope.current.pop(holder)

    def run_loops(self, scope, generators, body, where, before=(), after=()):
        """Normalize the statements `before`, the loops (and ifs) of `generators` around the statements
        `body`, then `after`, all located at the comprehension `where`."""
        for gen in reversed(generators):
            for cond in reversed(gen.ifs):
                body = [ast.If(cond, body, [])]
            body = [ast.For(gen.target, gen.iter, body, [])]
        stmts = [*before, *body, *after]
        for s in stmts:
            for n in ast.walk(s):
                if getattr(n, "lineno", None) is None and isinstance(n, (ast.stmt, ast.expr)):
                    ast.copy_location(n, where)
        line = self.line
        try:
            self.statements(scope, stmts)
        finally:
            self.line = line

    def summed(self, scope, comp, start):
        total = self.own_name(scope, "total")
        init = _assign(total, start if start is not None else ast.Constant(0))
        add = _assign(total, ast.BinOp(_load(total), ast.Add(), comp.elt))
        self.run_loops(scope, comp.generators, [add], comp, before=[init])
        return self.atom(scope, _load(total))

    def extreme(self, scope, comp, which):
        """max or min of a generator over run-time items: the first item, then the running max (min)."""
        best, started, item = (self.own_name(scope, n) for n in ("best", "started", "item"))
        pick = ast.If(_load(started), [_assign(best, ast.Call(ast.Name(which, ast.Load()), [_load(best), _load(item)],
                                                              []))],
                      [_assign(best, _load(item)), _assign(started, ast.Constant(True))])
        empty = ast.If(ast.UnaryOp(ast.Not(), _load(started)), [ast.Raise(ast.Call(
            ast.Name("ValueError", ast.Load()), [ast.Constant(f"{which}() arg is an empty sequence")], []), None)], [])
        self.run_loops(scope, comp.generators, [_assign(item, comp.elt), pick], comp,
                       before=[_assign(best, ast.Constant(0.0)), _assign(started, ast.Constant(False))], after=[empty])
        return self.atom(scope, _load(best))

    def filled(self, scope, comp):
        """The array of a list comprehension's items over run-time items (one generator, no `if`):
        an array filled by element writes."""
        gen = comp.generators[0]
        if isinstance(comp.elt, (ast.ListComp, ast.GeneratorExp)):  # a row per item: the inner one's array
            comp.elt = ast.copy_location(Rows(comp.elt), comp.elt)
        count, item = self.items_by_index(scope, gen.iter)
        k = self.own_name(scope, "k")
        kind = self.kind_of_item(scope, ast.Assign([gen.target], item(ast.Constant(0))), comp.elt)
        first_index = 0
        # the array: a name of its own, bound once (each run of a loop around makes a new one)
        if kind == 0:
            out = self.emit(self.namer.fresh("filled"), self.rule_call("np.zeros", [count]))
        else:  # the first item gives the rows their shape (np.stack of no arrays is an error too)
            first, first_index = self.own_name(scope, "first"), 1
            self.append(ast.Assert(ast.Compare(clone(count), [ast.Gt()], [ast.Constant(0)]),
                                   ast.Constant("need at least one item to stack")))
            self.run_loops(scope, [], [ast.Assign([gen.target], item(ast.Constant(0))), _assign(first, comp.elt)], comp)
            out = self.emit(self.namer.fresh("filled"), self.rule_call("rows_of", [self.atom(scope, _load(first)),
                                                                                   count]))
            self.run_loops(scope, [], [_write(Normal(out), ast.Constant(0), _load(first))], comp)
        loop = ast.For(ast.Name(k, ast.Store()), ast.Call(ast.Name("range", ast.Load()),
                                                          [ast.Constant(first_index), Normal(count)], []),
                       [ast.Assign([gen.target], item(_load(k))), _write(Normal(out), _load(k), comp.elt)], [])
        self.run_loops(scope, [], [loop], comp)
        return out

    def items_by_index(self, scope, iterable):
        """(the number of items, a function of an index giving the item) of range, enumerate, zip
        or an array's rows."""
        builtin = self.builtin_of(scope, iterable)
        if builtin is reversed:
            iterable, builtin = self.reversed_iterable(scope, iterable, iterable)
        if builtin is range:
            args = [self.atom(scope, a) for a in iterable.args]
            start, _, step = range_parts(args)
            count = self.trip_count(args, "n")
            return count, lambda k: ast.BinOp(Normal(start), ast.Add(), ast.BinOp(k, ast.Mult(), Normal(step)))
        if builtin in (zip, enumerate) and not iterable.keywords and (builtin is zip or len(iterable.args) == 1):
            seqs = [self.atom(scope, a) for a in iterable.args]
            lengths = [self.emit(self.namer.fresh("n"), self.rule_call("len", [s])) for s in seqs]
            count = lengths[0]
            for n in lengths[1:]:
                count = self.emit(self.namer.fresh("n"), self.rule_call("min", [count, n]))
            rows = lambda k: [ast.Subscript(Normal(s), k, ast.Load()) for s in seqs]  # noqa: E731
            if builtin is zip:
                return count, lambda k: ast.Tuple(rows(k), ast.Load())
            return count, lambda k: ast.Tuple([k] + rows(k), ast.Load())
        seq = self.atom(scope, iterable, "seq")
        count = self.emit(self.namer.fresh("n"), self.rule_call("len", [seq]))
        return count, lambda k: ast.Subscript(Normal(seq), k, ast.Load())

    def kind_of_item(self, scope, bind, elt):
        """The kind of a comprehension's first item (0: a number, d: a d-d array, None: not known),
        found by normalizing it aside: nothing of it is kept."""
        saved = {a: copy.copy(getattr(self, a)) for a in ("constants", "externals", "bindings", "conflicts",
                                                           "read_cache", "rewritten", "user_names", "claimed",
                                                           "outer_containers")}
        saved["loop_writes"] = [list(w) for w in self.loop_writes]
        kinds, current, fixed_names = dict(self.kinds.of), dict(scope.current), dict(scope.fixed_names)
        taken, line, depth = set(self.namer.taken), self.line, len(self.blocks)
        self.open_block()
        try:
            self.statements(scope, [ast.copy_location(bind, elt)])
            value = self.atom(scope, clone(elt))
            kind = 0 if isinstance(value, ast.Constant) else self.kinds.of.get(value.id)
        finally:
            del self.blocks[depth:]
            for a, v in saved.items():
                setattr(self, a, v)
            self.kinds.of, self.namer.taken, self.line = kinds, taken, line
            scope.current.clear()
            scope.current.update(current)
            scope.fixed_names.clear()
            scope.fixed_names.update(fixed_names)
        return kind

    def own_name(self, scope, base):
        name = self.namer.fresh(base)
        scope.locals.add(name)
        scope.fixed.add(name)
        return name


def _load(name):
    return ast.Name(name, ast.Load())


def _assign(name, value):
    return ast.Assign([ast.Name(name, ast.Store())], value)


def _write(array, index, value):
    return ast.Assign([ast.Subscript(array, index, ast.Store())], value)


def _constant_range(e):
    return isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "range" and all(
        isinstance(a, ast.Constant) and type(a.value) is int for a in e.args)


def _renamed(node, renames, store=False):
    class Rename(ast.NodeTransformer):
        def visit_Name(self, n):
            if n.id in renames:
                return ast.copy_location(ast.Name(renames[n.id], n.ctx), n)
            return n

    return Rename().visit(node) if renames else node

