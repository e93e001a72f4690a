"""Normalizing control flow: return, if, for and while loops (their tests computed in one place),
and the refusals that keep a loop's normal form exact (views carried across iterations)."""

import ast

from ..analysis.aliasing import chain_base
from ..frontend.names import MISSING
from ..ir.build import clone
from ..ir.queries import dotted, surely_bound_before
from .containers import STATIC
from .grown import Grown
from .syntax import events_of, range_parts


class ControlFlow:
    """A part of Normalizer (normalizer.py), whose state it reads and writes."""

    def returned(self, scope, stmt):
        if stmt.value is None:  # the structurer's "leave: the result is set"
            return
        value = stmt.value
        if isinstance(value, ast.Constant) and value.value is None and scope is not self.top:
            if scope.result is not None and not (isinstance(scope.result, ast.Constant) and scope.result.value is None):
                raise self.error(scope, stmt, "the function returns None here and a value elsewhere",
                                 "return a value everywhere, or nowhere")
            scope.result = ast.Constant(None)
            if scope.loops:
                self.append(ast.Break())
            return
        if isinstance(scope.result, ast.Constant):
            raise self.error(scope, stmt, "the function returns a value here and None elsewhere",
                             "return a value everywhere, or nowhere")
        if scope.result is None and scope is not self.top and len(self.blocks) == scope.depth and (
                self.grown_of(scope, value) is not None or isinstance(value, ast.ListComp)):
            # a list a loop grew, or a list comprehension, returned by a helper
            scope.result = self.grown_of(scope, value) or self.comprehended(scope, value, "list")
            return
        if scope.result is None and self.returns_container(scope, value):
            if scope is self.top and self.returns not in ("aux", "tuple") or len(self.blocks) != scope.depth:
                raise self.error(scope, stmt, "returning a container (a dict, a nested tuple or list) "
                                 + ("from the function differentiated" if scope is self.top else "from inside "
                                    "if/for/while"), "return one value, or pass has_aux=True when the function "
                                 "returns (value, auxiliary outputs)" if scope is self.top else
                                 "return it once, at the end of the function")
            scope.result = self.container_or_none(scope, value)
            return
        if isinstance(scope.result, (ast.Tuple, ast.Dict)):
            raise self.error(scope, stmt, "the function returns a container here and another value elsewhere",
                             "return once, at the end of the function")
        first = scope.result is None and len(self.blocks) == scope.depth  # (a container may be returned once)
        if scope.result is None:
            base = "out" if scope is self.top else f"{scope.src.name}_out"
            if isinstance(value, (ast.Tuple, ast.List)):
                scope.result = [self.namer.fresh(base) for _ in value.elts]
            else:
                scope.result = self.namer.fresh(base)
        if isinstance(scope.result, list):
            parts = value.elts if isinstance(value, (ast.Tuple, ast.List)) else None
            rhs = self.rhs(scope, value) if parts is None else None
            if parts is None and isinstance(rhs, ast.Tuple):
                parts = rhs.elts
            if parts is None or len(parts) != len(scope.result):
                raise self.error(scope, stmt, "the function returns tuples of different lengths, or a tuple "
                                 "and a single value", "return the same shape of result everywhere")
            for name, part in zip(scope.result, [self.atom(scope, p) for p in parts]):
                self.emit(name, part)
        else:
            if isinstance(value, (ast.Tuple, ast.List)):
                raise self.error(scope, stmt, "the function returns a tuple here and a single value elsewhere",
                                 "return the same shape of result everywhere")
            rhs = self.rhs(scope, value, scope.result)
            if first and (isinstance(rhs, STATIC) and (scope is not self.top or self.returns in ("aux", "tuple"))
                          or isinstance(rhs, Grown) and scope is not self.top):
                scope.result = rhs  # (`return State(q, v)`, `return make()`: the container a call gives)
                return
            if isinstance(rhs, Grown):
                rhs = self.grown_items(scope, value, rhs)  # (refused: a list is not one value)
            if isinstance(rhs, ast.Tuple):
                raise self.error(scope, stmt, "returning a tuple held in a name is not supported",
                                 "return the tuple written out, `return a, b`")
            self.emit(scope.result, rhs)
        if scope.loops:
            self.append(ast.Break())

    def returns_container(self, scope, value):
        """Whether a returned value is a container known when compiling that the result names of
        `return a, b` (one name per item) cannot hold: a dict, a NamedTuple, a container inside a
        tuple, or a name holding one."""
        if isinstance(value, ast.Dict):
            return True
        if isinstance(value, (ast.Tuple, ast.List)):
            return any(isinstance(v, (ast.Tuple, ast.List, ast.Dict)) or self.static_of(scope, v) is not None
                       for v in value.elts)
        return self.static_of(scope, value) is not None

    def branch(self, scope, stmt):
        test = self.atom(scope, stmt.test, "cond")
        if isinstance(test, ast.Constant):  # decided now: only one branch exists
            return self.statements(scope, stmt.body if test.value else stmt.orelse)
        test = self.stable_test(test)
        grown = self.grow_lists(scope, stmt.body + stmt.orelse, lambda: ast.Constant(1))  # (an append runs once)
        self.carry_written(scope, stmt.body + stmt.orelse)
        before = dict(scope.current)
        body = self.nested(scope, stmt.body)
        fixed = set(scope.fixed_names.values())
        for user, atom in list(scope.current.items()):  # the else branch does not see what the body bound
            if before.get(user) is not atom and not (isinstance(atom, ast.Name) and atom.id in fixed):
                if user in before:  # (a name the structurer moved into both branches: `x = x[...]`
                    scope.current[user] = before[user]  # after an `if` that returns)
                else:
                    del scope.current[user]
        orelse = self.nested(scope, stmt.orelse) if stmt.orelse else []
        for state in grown:
            state.open = False
        if orelse == [ast.Pass()]:
            orelse = []
        self.append(ast.If(test, body, orelse))

    def stable_test(self, test):
        """The test of an if, in a name that nothing assigns again, so the reverse sweep sees its value."""
        if test.id in self.rewritten:
            return self.emit(self.namer.fresh("branch"), test)
        return test

    def loop_body(self, scope, stmts):
        """Normalize a loop's body, then refuse an element write in it into an array that the rest of
        the body made share memory with another array read later (`w[0] = ...` then `w = A[t]`: from
        the second run on, the write changes A, an alias the normal form does not have). Only arrays
        that one run can find from the one before count: those bound before the loop, and names that
        the loop assigns again, unless the run surely assigns them before the write."""
        carried = {n.id for b in self.blocks for n in ast.walk(ast.Module(b, []))  # what a run may find
                   if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}  # from before the loop
        self.loop_writes.append([])
        self.statements(scope, stmts)
        for version, before, where, stmt in self.loop_writes.pop():
            if version not in carried and version not in self.rewritten \
                    or surely_bound_before(stmts, stmt, self.user_names.get(version)):
                continue  # an array the run itself bound before writing into it
            sharers = self.sharers(version)
            partners = self.swap_partners(version, sharers)  # (a permutation passes arrays on: no two share one)
            live = sorted(self.user_name(s) for s in sharers - before - partners if self.read_later(s))
            if live:
                name = self.user_name(version)
                raise self.error(where, stmt, f"writing into `{name}` here also changes `{live[0]}` from the loop's "
                                 f"second run on: later in the loop the two are made to share memory",
                                 f"where the loop makes `{live[0]}` or `{name}` a view, make it a copy "
                                 "(`... .copy()`)")

    def carried_views(self, scope, loop):
        """Refuse writing into an array in a loop body, then reading a view of it kept from the previous
        iteration (`a[:] = ...; s += np.sum(w); w = a[:3]`): the normal form has no such alias."""
        views, bound = {}, {}  # name -> arrays it may view; -> whether each assignment makes it a new array
        for node in ast.walk(loop):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                base = chain_base(node.value)
                if base is not None and not self.one_element(scope, node.value):
                    views.setdefault(node.targets[0].id, set()).add(base)
                bound[node.targets[0].id] = bound.get(node.targets[0].id, True) and base is None
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.For, ast.AnnAssign)):
                for n in ast.walk(node.target if not isinstance(node, ast.Assign) else ast.Tuple(node.targets)):
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                        bound[n.id] = False
        if not views:
            return
        written, stored = {}, set()  # array -> its first element write; names assigned so far
        for name, kind, node in events_of(loop.body):
            if kind == "write":
                if bound.get(name) and surely_bound_before(loop.body, node, name):
                    continue  # (into a new array this run made: not the one kept from the run before)
                written.setdefault(name, node)
            elif kind == "store":
                stored.add(name)
            elif name not in stored and views.get(name, set()) & set(written):
                array = sorted(views[name] & set(written))[0]
                raise self.error(scope, written[array], f"writing into `{array}` in this loop also changes `{name}`, "
                                 f"which still views `{array}` from the previous iteration when it is read",
                                 f"keep a copy instead: `{name} = ... .copy()`")

    def one_element(self, scope, value):
        """Whether value is `a[i, j]` with one index per known dimension of a: a number, not a view."""
        if not (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)):
            return False
        atom = scope.current.get(value.value.id)
        ndim = self.kinds.of.get(atom.id) if isinstance(atom, ast.Name) else None
        parts = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
        return ndim is not None and len(parts) == ndim and not any(
            isinstance(p, ast.Slice) or (isinstance(p, ast.Constant) and p.value is None) for p in parts)

    def for_loop(self, scope, stmt):
        if self.unrolled_loop(scope, stmt):
            return
        self.carried_views(scope, stmt)
        iterable, target = stmt.iter, stmt.target
        loop_writes = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        prologue = []  # (user name, how to get it from the index) assigned at the top of the body
        start = None  # enumerate's start
        obj = self.builtin_of(scope, iterable)
        if obj is reversed:
            iterable, obj = self.reversed_iterable(scope, stmt, iterable)
        if obj is range:
            bounds = [self.stable(scope, self.atom(scope, a, "stop"), loop_writes) for a in iterable.args]
            index_name = target
        elif obj in (enumerate, zip):
            index_name = None
            if obj is enumerate:
                if not (isinstance(target, ast.Tuple) and len(target.elts) == 2) or not 1 <= len(
                        iterable.args) + len(iterable.keywords) <= 2:
                    raise self.error(scope, stmt, "enumerate() loops need `for i, v in enumerate(x)`")
                index_name, elem = target.elts
                seqs, elems = [iterable.args[0]], [elem]
                start = (iterable.args[1:] or [k.value for k in iterable.keywords if k.arg == "start"] or [None])[0]
                if start is not None:  # (the loop counts from 0; the name the user reads is i + start)
                    prologue.append((index_name, start))
                    index_name = None
                if self.builtin_of(scope, seqs[0]) is zip:  # for i, (a, b) in enumerate(zip(x, y))
                    if not isinstance(elem, ast.Tuple) or len(elem.elts) != len(seqs[0].args):
                        raise self.error(scope, stmt, "zip() loops need one name per sequence")
                    seqs, elems = seqs[0].args, elem.elts
            else:
                if not isinstance(target, ast.Tuple) or len(target.elts) != len(iterable.args):
                    raise self.error(scope, stmt, "zip() loops need one name per sequence")
                seqs, elems = iterable.args, target.elts
            seqs = [self.reversed_iterable(scope, stmt, s)[0] if self.builtin_of(scope, s) is reversed else s
                    for s in seqs]  # (reversed(x) of an array: x[::-1])
            atoms = [self.stable(scope, self.atom(scope, s, "seq"), loop_writes) for s in seqs]
            lengths = [self.emit(self.namer.fresh("n"), self.rule_call("len", [a])) for a in atoms]
            stop = lengths[0]
            for n in lengths[1:]:
                stop = self.emit(self.namer.fresh("n"), self.rule_call("min", [stop, n]))
            bounds = [stop]
            if start is not None:
                prologue = [(prologue[0][0], ast.BinOp(None, ast.Add(), self.stable(scope, self.atom(
                    scope, start, "start"), loop_writes)))]
            prologue += list(zip(elems, atoms))
        else:
            seq = self.stable(scope, self.atom(scope, iterable, "seq"), loop_writes)
            bounds = [self.emit(self.namer.fresh("n"), self.rule_call("len", [seq]))]
            prologue, index_name = [(target, seq)], None
        grown = self.grow_lists(scope, stmt.body, lambda: self.trip_count(bounds) if obj is range else bounds[0])
        self.carry_written(scope, stmt.body)
        if index_name is None:
            index_name = ast.Name(self.namer.fresh("i"), ast.Store())
            scope.fixed.add(index_name.id)
        if not isinstance(index_name, ast.Name):
            raise self.error(scope, stmt, "the loop variable must be a name", "unpack inside the loop body")
        index = self.bind_name(scope, index_name.id)
        self.kinds.of[index] = 0
        scope.loops += 1
        self.open_block()
        self.pending.append((scope, [stmt]))
        for elem, seq in prologue:
            if not isinstance(elem, ast.Name):
                raise self.error(scope, stmt, "the loop variable must be a name", "unpack inside the loop body")
            if isinstance(seq, ast.BinOp):  # enumerate's count from `start`
                self.emit(self.bind_name(scope, elem.id), ast.BinOp(ast.Name(index, ast.Load()), ast.Add(), seq.right))
                self.kinds.of[scope.current[elem.id].id] = 0
                continue
            self.emit(self.bind_name(scope, elem.id), ast.Subscript(seq, ast.Name(index, ast.Load()), ast.Load()))
        self.loop_body(scope, stmt.body)
        for state in grown:
            state.open = False
        self.pending.pop()
        body = self.close_block() or [ast.Pass()]
        scope.loops -= 1
        self.line = self.origin(scope, stmt)  # the loop's own line, not its body's last
        rng = ast.Call(ast.Name("range", ast.Load()), bounds, [])
        self.append(ast.For(ast.Name(index, ast.Store()), rng, body, []))

    def trip_count(self, bounds, name="runs"):
        """The atom of how many times `for ... in range(*bounds)` runs."""
        parts = range_parts([clone(b) for b in bounds])
        return self.emit(self.namer.fresh(name), self.rule_call("trip_count", parts))

    def builtin_of(self, scope, e):
        """The builtin a call e makes (range, zip, enumerate, reversed), else MISSING."""
        if not (isinstance(e, ast.Call) and dotted(e.func)):
            return MISSING
        return self.resolve(scope, e.func, scope.locals)

    def reversed_iterable(self, scope, stmt, inner):
        """(iterable, the builtin it calls) for `reversed(...)`: of a range, the range that counts down
        (a step known when compiling); of an array, `x[::-1]`."""
        if len(inner.args) != 1 or inner.keywords:
            raise self.error(scope, stmt, "reversed() takes one sequence")
        inner = inner.args[0]
        if self.builtin_of(scope, inner) is not range:
            return ast.copy_location(ast.Subscript(inner, ast.Slice(None, None, ast.Constant(-1)), ast.Load()),
                                     inner), MISSING
        args = inner.args
        start, stop, step = (ast.Constant(0), args[0], ast.Constant(1)) if len(args) == 1 else (
            args[0], args[1], args[2] if len(args) > 2 else ast.Constant(1))
        step = self.atom(scope, step)
        if not (isinstance(step, ast.Constant) and type(step.value) is int and step.value != 0):
            raise self.error(scope, stmt, "reversed(range(...)) with a step known only at run time",
                             "write the range that counts down, range(last, first - 1, -step)")
        s = step.value
        # the last value a range takes: start + ((stop - start - 1) // s) * s for s > 0, and
        # start - ((start - stop - 1) // -s) * -s for s < 0
        sign = 1 if s > 0 else -1
        span = ast.BinOp(ast.BinOp(stop, ast.Sub(), start) if s > 0 else ast.BinOp(start, ast.Sub(), stop),
                         ast.Sub(), ast.Constant(1))
        count = ast.BinOp(span, ast.FloorDiv(), ast.Constant(abs(s)))
        last = ast.BinOp(start, ast.Add() if s > 0 else ast.Sub(), ast.BinOp(count, ast.Mult(), ast.Constant(abs(s))))
        end = ast.BinOp(start, ast.Sub(), ast.Constant(sign))
        return ast.copy_location(ast.Call(ast.Name("range", ast.Load()), [last, end, ast.Constant(-s)], []),
                                 inner), range

    def stable(self, scope, atom, loop_writes):
        """atom, copied to a fresh name if the loop body may assign it (the bounds are fixed at entry)."""
        if isinstance(atom, ast.Name) and any(
                isinstance(scope.current.get(w), ast.Name) and scope.current[w].id == atom.id for w in loop_writes):
            return self.emit(self.namer.fresh(f"{atom.id}_start"), atom)
        return atom

    def while_loop(self, scope, stmt):
        self.carried_views(scope, stmt)
        grown = self.grow_lists(scope, stmt.body)
        self.carry_written(scope, stmt.body)
        scope.loops += 1
        test = self.test_value(scope, stmt.test)
        if isinstance(test, ast.Constant) and not test.value:
            scope.loops -= 1
            return
        cond = None
        if not isinstance(test, ast.Constant):
            cond = self.namer.fresh("cond")
            scope.fixed.add(cond)
            self.rewritten.add(cond)
            self.emit(cond, test)
        self.open_block()
        self.pending.append((scope, [stmt]))
        self.loop_body(scope, stmt.body)
        for state in grown:
            state.open = False
        if cond is not None and not self.ends_in_break():
            self.line = self.origin(scope, stmt)
            self.emit(cond, self.test_value(scope, stmt.test))
        self.pending.pop()
        body = self.close_block() or [ast.Pass()]
        scope.loops -= 1
        self.line = self.origin(scope, stmt)
        self.append(ast.While(ast.Name(cond, ast.Load()) if cond else ast.Constant(True), body, []))

    def test_value(self, scope, test):
        """A while loop's test: one comparison or call stays a right-hand side, the rest an atom."""
        if isinstance(test, ast.Compare) and len(test.ops) == 1 or isinstance(test, ast.Call):
            value = self.rhs(scope, test)
            folded = self.fold(value)
            return folded if folded is not None else value
        return self.atom(scope, test, "cond")

    def ends_in_break(self):
        return bool(self.out) and isinstance(self.out[-1], ast.Break)
