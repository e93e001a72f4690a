"""Fuse straight-line elementwise code over vectors (or matrices) into one loop that Numba compiles.

NumPy makes a new array at every step of `out = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + ...)`
and of its adjoint; Numba's array expressions do the same across statements. Where a run of the
function's top-level statements computes vectors of one length elementwise (arithmetic, ufuncs,
`times`, broadcasts of numbers with np.full/zeros/ones, `summed_to` between vectors of that
length) and sums them (np.sum, np.mean, np.dot of two vectors), the run is written a second time
as one loop over the entries, which reads each input once and makes only the arrays read after it
(a run over matrices of one shape is two loops, `for i in range(n): for j in range(m):`, and its
entries `a[i, j]`; slices added into, and np.dot, are the vectors' only):

    if compiled and floats(x_part, x_part_1, out_bar) and x_part.shape[0] == x_part_1.shape[0]:
        n = x_part.shape[0]
        out = 0.0
        x_part_bar = np.empty(n)
        for i in range(n):
            sub_i = x_part[i] - x_part_1[i] ** 2
            ...
            out += add_i
            ...
            x_part_bar[i] = x_part_bar_i
    else:
        <the statements as they were>

`compiled` is False in the module Python runs and True in the one Numba compiles (backend/emit.load):
Python keeps NumPy's vectorised code. Under Numba, `floats` is decided by the arguments' types (every
array float64, every number a float; `reals`: no complex number), and the lengths are compared when the
code runs: vectors of other lengths (one broadcast against another) take the statements as they were.

What the loop leaves out (kept in place, or moved before the run when they do not depend on it and
only bind a name): indexing, matrix products, reductions over axes, anything on arrays of other
kinds. Divisions and powers in the loop are np.divide and np.power, whose numbers behave as NumPy's
arrays do (inf at a division by 0, where Python's numbers raise).
"""

import ast
from collections import Counter

from .. import runtime
from ..ir.build import clone, is_comment, np_call
from ..ir.naming import RESERVED, Namer
from ..ir.queries import dotted, loads, names_in, stores, written
from ..rules.helpers import ENTRYWISE, having

FILLS = {"full": None, "zeros": 0.0, "ones": 1.0}
REDUCTIONS = frozenset({"sum", "mean", "dot"})
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult)
_BOUNDS = (ast.Slice, ast.Constant, ast.Name, ast.Load, ast.UnaryOp, ast.USub, ast.BinOp, ast.Add, ast.Sub)
LEAST_WORK = 3  # array statements a run needs before it is worth a loop (and a second text of its statements)


class _Stop(Exception):
    """The statement cannot join the run."""


def fuse_elementwise(fdef, kinds, floats):
    """fdef with each run of fusable statements also written as one loop (see the module). `floats`: the
    names that hold floats whatever the arguments' dtypes (values that carry a derivative, adjoints)."""
    namer = Namer(names_in(fdef))
    fdef = clone(fdef)
    fdef.body = _Fuser(kinds, namer, floats).block(fdef.body)
    return ast.fix_missing_locations(fdef)


SEEN = "    if compiled and floats("  # (how a fused run starts in the text)


def is_fused(stmt):
    """Whether stmt is the `if compiled ...:` of a fused run (its loop runs only under Numba)."""
    test = getattr(stmt, "test", None)
    return isinstance(stmt, ast.If) and isinstance(test, ast.BoolOp) and isinstance(test.values[0], ast.Name) \
        and test.values[0].id == "compiled"


def unfused(fdef):
    """fdef with each fused run's statements as Python runs them (the else branch) in its place: the code
    as the transforms wrote it, for readers of its structure (explain's tape report)."""
    def block(stmts):
        out = []
        for s in stmts:
            if is_fused(s):
                out += block(s.orelse)
                continue
            for field in ("body", "orelse"):
                if isinstance(getattr(s, field, None), list) and not isinstance(s, ast.FunctionDef):
                    setattr(s, field, block(getattr(s, field)))
            out.append(s)
        return out

    fdef = clone(fdef)
    fdef.body = block(fdef.body)
    return fdef


def has_loops(fdef):
    """Whether fdef has loops other than the fused runs' (which Python does not run)."""
    stack = list(fdef.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.For, ast.While)):
            return True
        if is_fused(node):
            stack += node.orelse
        elif isinstance(node, ast.stmt):
            stack += [s for f in ("body", "orelse", "finalbody") for s in getattr(node, f, None) or []]
    return False


class _Run:
    """A run of statements being gathered, and its loop."""

    def __init__(self, namer, body, around):
        self.namer, self.body, self.around = namer, body, around
        self.seen = []  # every statement taken, in order
        self.original = []  # the statements as they were, but those hoisted (the else branch)
        self.loop = []  # the loop's body
        self.before = []  # the loop's set-up (reductions' zeros)
        self.after = []  # after the loop (a mean's division)
        self.hoisted = []  # statements that do not depend on the run, moved before it
        self.inputs = []  # vectors read from outside the run, in order
        self.floats, self.reals = [], []  # numbers read from outside: fill values, others
        self.outside = set()  # every name read from outside the run
        self.vectors = {}  # vector assigned in the run -> the name of its entry in the loop
        self.alias = {}  # vector assigned another vector of the run (the same object) -> that one
        self.sums = set()  # numbers the run sums
        self.numbers = set()  # numbers the run binds after its loop (sums, what is computed from them)
        self.pinned = set()  # names the statements moved after the loop read (the loop must not bind them)
        self.renamed = set()  # vectors from outside that the run binds again
        self.written = set()  # vectors from outside that the run adds into (add_into(a[lo:hi], g))
        self.views = []  # (name, a[lo:hi]) of each slice added into: its length is checked too
        self.start = None  # the index of the run's first statement in its block
        self.work = 0
        self.rank = None  # 1: vectors of one length; 2: matrices of one shape
        self.n = self.i = self.m = self.j = None

    def keep(self, stmt):
        """stmt is the run's, and stays in the statements as they were."""
        self.original.append(stmt)
        self.seen.append(stmt)

    def snapshot(self):
        return {k: v.copy() if isinstance(v, (list, set, dict)) else v for k, v in vars(self).items()}

    def restore(self, state):
        vars(self).update(state)

    def length(self):
        if self.n is None:
            self.n, self.i = self.namer.fresh("n"), self.namer.fresh("i")
        if self.rank == 2 and self.m is None:
            self.m, self.j = self.namer.fresh("m"), self.namer.fresh("j")
        return self.n

    def of_rank(self, kind):
        """Note that the run holds arrays of `kind` dimensions (1 or 2, the same throughout), or _Stop."""
        if kind not in (1, 2) or self.rank not in (None, kind):
            raise _Stop
        self.rank = kind

    def index(self):
        """The loop's index of an entry: `i`, or `i, j` in a run over matrices."""
        self.length()
        if self.rank == 2:
            return ast.Tuple([ast.Name(self.i, ast.Load()), ast.Name(self.j, ast.Load())], ast.Load())
        return ast.Name(self.i, ast.Load())

    def size(self):
        """How many entries the arrays have: `n`, or `n * m`."""
        n = ast.Name(self.length(), ast.Load())
        return ast.BinOp(n, ast.Mult(), ast.Name(self.m, ast.Load())) if self.rank == 2 else n


class _Fuser:
    def __init__(self, kinds, namer, floats):
        self.kinds, self.namer, self.float_names = kinds, namer, floats
        self.vectors_read = 0

    def block(self, body, around=None):
        """body with its runs fused, and those of the blocks it nests. `around` counts the names read
        outside body that may run after it: in the statements that follow the loop or branch that holds
        it, and anywhere in that loop (its next iteration); None at the function's top level."""
        out, run = [], None
        k = 0
        while k < len(body):
            stmt = body[k]
            if run is None:
                run = _Run(self.namer, body, around)
                run.start = k
            try:
                self.take(run, stmt)
                k += 1
                continue
            except _Stop:
                pass
            if run.work:
                out += self.close(run, body[k:])
                run = None
                continue  # (the statement may start the next run)
            out += run.seen
            out.append(self.nested(stmt, body[k + 1:], around))
            run = None
            k += 1
        if run is not None:
            out += self.close(run, [])
        return out

    def nested(self, stmt, rest, around):
        """stmt with the blocks it holds fused (a loop's body, a branch), but a fused run's."""
        if not isinstance(stmt, (ast.For, ast.While, ast.If)) or is_fused(stmt):
            return stmt
        inner = tuple(Counter(a) + _counts(rest, values) + _counts(stmt, values)
                      for a, values in zip(around or ((), ()), (False, True)))
        stmt.body = self.block(stmt.body, inner)
        stmt.orelse = self.block(stmt.orelse, inner) if stmt.orelse else stmt.orelse
        return stmt

    # -- one statement -------------------------------------------------------------------------

    def take(self, run, stmt):
        """Add stmt to the run (its loop form, or hoisted before it), or raise _Stop."""
        if is_comment(stmt):
            run.keep(stmt)
            run.loop.append(stmt)
            return
        target = _target(stmt)
        kind = self.kinds.get(target) if target else None
        state = run.snapshot()
        try:
            if isinstance(stmt, ast.Assign) and kind in (1, 2):
                run.of_rank(kind)
                return self.vector(run, target, stmt.value, stmt)
            if isinstance(stmt, ast.Assign) and kind == 0 and _reduction(stmt.value):
                return self.reduction(run, target, stmt.value, stmt)
            if isinstance(stmt, ast.Assign) and kind == 0 and any(_reduction(n) for n in ast.walk(stmt.value)):
                return self.with_sums(run, target, stmt.value, stmt)
            if isinstance(stmt, ast.AugAssign) and kind in (1, 2) and isinstance(stmt.op, _ARITHMETIC + (ast.Div,)):
                run.of_rank(kind)
                return self.update(run, target, stmt)
            if _added_into(stmt):
                return self.add_into(run, stmt)
            if isinstance(stmt, ast.Assign) and kind == 0 and _numbers_read(stmt.value) & run.sums:
                return self.after(run, target, stmt)
        except _Stop:
            run.restore(state)
        try:
            self.hoist(run, stmt, target, kind)
        except _Stop:
            self.sink(run, stmt, target)

    def vector(self, run, target, value, stmt):
        if target in run.alias.values() or target in run.sums or target in run.pinned:
            raise _Stop  # (rebinding a vector that another name is)
        source = self.same_object(run, value)
        if source == target:
            raise _Stop  # (`t = summed_to(t, x.shape)`: t is itself)
        entry = self.vector_entry(run, value)
        if target in run.outside:  # (read as it was before the run: its new array has another name until the end)
            run.renamed.add(target)
        run.alias.pop(target, None)
        if source is not None:
            run.alias[target] = source
        else:
            name = run.vectors.get(target) or self.namer.fresh(f"{target}_i")
            run.loop.append(ast.Assign([ast.Name(name, ast.Store())], entry))
            run.vectors[target] = name
            run.work += 1
        run.keep(stmt)

    def reduction(self, run, target, value, stmt):
        """`s = np.sum(e)` (np.mean, np.dot): s accumulated in the loop."""
        if target in run.sums | run.pinned or target in run.vectors or target in run.alias:
            raise _Stop
        self.accumulate(run, target, value)
        if target in run.outside:
            raise _Stop  # (read in the loop: it would read the partial sums)
        run.sums.add(target)
        run.numbers.add(target)
        run.work += 1
        run.keep(stmt)

    def with_sums(self, run, target, value, stmt):
        """`s = s + np.sum(e) * c` and the like: each sum accumulated in a number of its own in the loop,
        the number s after it (the run reads s only as it was before)."""
        if target in run.vectors or target in run.alias:
            raise _Stop
        rest = _EachSum(lambda call: ast.Constant(0.0)).visit(clone(value))
        if _numbers_read(rest) & (set(run.vectors) | set(run.alias) | run.written) \
                or any(self.kinds.get(v) != 0 for v in _numbers_read(rest) - run.sums):
            raise _Stop  # (the part outside the sums must be a number's expression)

        def total(call):
            name = self.namer.fresh(call.func.attr)
            self.accumulate(run, name, call)
            return ast.Name(name, ast.Load())
        run.after.append(ast.Assign([ast.Name(target, ast.Store())], _EachSum(total).visit(clone(value))))
        run.sums.add(target)
        run.numbers.add(target)
        run.work += 1
        run.keep(stmt)

    def accumulate(self, run, total, call):
        """The number `total` set to 0.0 before the loop, and call's terms (np.sum, np.mean or np.dot of
        vectors) added to it in the loop (a mean divided after it)."""
        terms = [self.vector_entry(run, a) for a in call.args]
        if call.func.attr == "dot" and run.rank != 1:
            raise _Stop  # (np.dot of matrices is a matrix product)
        run.before.append(ast.Assign([ast.Name(total, ast.Store())], ast.Constant(0.0)))
        run.loop.append(ast.AugAssign(ast.Name(total, ast.Store()), ast.Add(),
                                      ast.BinOp(*terms[:1], ast.Mult(), *terms[1:]) if len(terms) == 2 else terms[0]))
        if call.func.attr == "mean":
            run.after.append(ast.Assign([ast.Name(total, ast.Store())], np_call(
                "divide", ast.Name(total, ast.Load()), run.size())))

    def update(self, run, target, stmt):
        root = run.alias.get(target, target)
        if root not in run.vectors or root in run.pinned:
            raise _Stop  # (a vector from outside, written into in place)
        entry = self.entry(run, stmt.value)
        name = run.vectors[root]
        run.loop.append(ast.Assign([ast.Name(name, ast.Store())],
                                   _binop(ast.Name(name, ast.Load()), stmt.op, entry)))
        run.work += 1
        run.keep(stmt)

    def add_into(self, run, stmt):
        """add_into(a[lo:hi], g): a[lo:hi][i] += g's entry, where `a` is an array made for this (a new
        buffer) that nothing but add_into has read since, and the run does not read."""
        (view, g), a = stmt.value.args, stmt.value.args[0].value.id
        run.of_rank(1)
        if self.kinds.get(a) != 1 or a in run.outside or a in run.pinned or a in run.vectors or a in run.alias or a in run.sums \
                or not self.only_added_into(run, a):
            raise _Stop
        entry = self.entry(run, g)
        bounds = names_in(view.slice)
        if not all(isinstance(n, _BOUNDS) for n in ast.walk(view.slice)) or any(self.kinds.get(v) != 0 for v in bounds) or bounds & (set(run.vectors) | run.sums | run.written):
            raise _Stop
        for v in sorted(bounds):
            _add(run.reals, v)
        run.outside |= bounds
        run.length()
        part = self.namer.fresh(f"{a}_part")
        run.views.append((part, clone(view)))
        run.loop.append(ast.AugAssign(ast.Subscript(ast.Name(part, ast.Load()), run.index(), ast.Store()),
                                      ast.Add(), entry))
        run.written.add(a)
        run.work += 1
        run.keep(stmt)

    def only_added_into(self, run, a):
        """Whether `a` was last bound, at this level, to a new buffer (np.zeros, ...), and read since only as
        add_into's first argument or for its shape, so that no other name shares its memory."""
        for stmt in [*reversed(run.hoisted), *reversed(run.body[:run.start])]:  # (from the run back)
            if isinstance(stmt, ast.Assign) and _target(stmt) == a:
                return isinstance(stmt.value, ast.Call) and (dotted(stmt.value.func) or "") in having("new_buffer")
            if a in written(stmt) or _read_otherwise(stmt, a):
                return False
        return False

    def after(self, run, target, stmt):
        """A number computed from the run's sums (and numbers from outside): after the loop."""
        if target in run.vectors or target in run.alias or _numbers_read(stmt.value) & (
                set(run.vectors) | set(run.alias) | run.written) or any(
                self.kinds.get(v) != 0 for v in _numbers_read(stmt.value)):
            raise _Stop
        run.after.append(stmt)
        run.sums.add(target)
        run.numbers.add(target)
        run.keep(stmt)

    def sink(self, run, stmt, target):
        """Move stmt after the loop when it binds a name from values the rest of the run does not change
        (a tape's value put back, `t = restore(t_tape, t)`) or appends to a list the run does not read."""
        if not (isinstance(stmt, ast.Assign) and target and _pure(stmt, also=("restore",))
                or _appended(stmt) and stmt.value.func.value.id not in run.outside):
            raise _Stop
        if target in run.vectors or target in run.alias or target in run.written:
            raise _Stop
        run.after.append(stmt)
        run.pinned |= loads(stmt)
        if target:
            run.sums.add(target)
        run.keep(stmt)

    def hoist(self, run, stmt, target, kind):
        """Move stmt before the run when it only binds a name (a number, or any value by `=`) from
        values the run does not change, and the run does not read that name."""
        if not target or not (isinstance(stmt, ast.Assign) or isinstance(stmt, ast.AugAssign) and kind == 0):
            raise _Stop
        assigned = set(run.vectors) | set(run.alias) | run.sums | run.written
        if loads(stmt) & (assigned | run.pinned) or target in assigned | run.outside | run.pinned or not _pure(stmt):
            raise _Stop  # (nor past a statement moved after the loop that reads what it binds)
        run.hoisted.append(stmt)
        run.seen.append(stmt)

    # -- one expression, entry by entry ------------------------------------------------------------

    def vector_entry(self, run, node):
        """entry(node), for an expression that must have a vector in it (not only numbers)."""
        self.vectors_read = 0
        entry = self.entry(run, node)
        if not self.vectors_read:
            raise _Stop
        return entry

    def entry(self, run, node):
        """The loop's expression for entry i of an elementwise expression (raises _Stop otherwise)."""
        if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            return clone(node)
        if isinstance(node, ast.Name):
            return self.name(run, node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC + (ast.Div, ast.Pow)):
            left, right = self.entry(run, node.left), self.entry(run, node.right)  # (not % or //: Numba's raise at 0)
            if isinstance(node.op, ast.Pow) and not (isinstance(node.right, ast.Constant)
                                                     and type(node.right.value) is int and node.right.value >= 0):
                return np_call("power", left, right)
            return _binop(left, node.op, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return ast.UnaryOp(node.op, self.entry(run, node.operand))
        if isinstance(node, ast.Attribute) and node.attr == "size" and isinstance(node.value, ast.Name):
            self.length_of(run, node.value.id)
            return run.size()
        if isinstance(node, ast.Call) and not node.keywords:
            return self.call(run, node)
        raise _Stop

    def call(self, run, node):
        func = dotted(node.func) or ""
        module, _, attr = func.rpartition(".")
        if func in ENTRYWISE:
            return ast.Call(clone(node.func), [self.entry(run, a) for a in node.args], [])
        if func in ("max", "min") and node.args:
            return ast.Call(clone(node.func), [self.entry(run, a) for a in node.args], [])
        if module == "np" and attr in FILLS and node.args and self.shape_of(run, node.args[0], new=False):
            self.vectors_read += 1
            if attr != "full":
                if len(node.args) != 1:
                    raise _Stop
                return ast.Constant(FILLS[attr])
            fill = node.args[1] if len(node.args) == 2 else None
            numbers = _numbers_read(fill) if fill is not None else set()
            if not (isinstance(fill, ast.Constant) and type(fill.value) is float
                    or numbers and all(self.kinds.get(v) == 0 and v not in run.sums for v in numbers)):
                raise _Stop  # (a fill whose type the guard does not make a float)
            for v in sorted(numbers):
                _add(run.floats, v)
            return self.entry(run, fill)
        if func == "summed_to" and len(node.args) == 2 and self.shape_of(run, node.args[1]) \
                and self.kind_of(node.args[0]) in (1, 2):
            return self.entry(run, node.args[0])
        raise _Stop

    def name(self, run, v):
        if v in run.sums:
            raise _Stop  # (a sum is known only after the loop)
        v = run.alias.get(v, v)
        if v in run.vectors:
            self.vectors_read += 1
            return ast.Name(run.vectors[v], ast.Load())
        kind = self.kinds.get(v)
        if kind in (1, 2):
            run.of_rank(kind)
            if v in run.written:
                raise _Stop  # (read after the run added into it: NumPy's order, not the loop's)
            self.vectors_read += 1
            self.length_of(run, v)
            return ast.Subscript(ast.Name(v, ast.Load()), run.index(), ast.Load())
        if kind == 0:
            if v not in run.floats:
                _add(run.reals, v)
            run.outside.add(v)
            return ast.Name(v, ast.Load())
        raise _Stop

    def length_of(self, run, v):
        """Note that vector v (of the run, or read from outside) has the run's length."""
        v = run.alias.get(v, v)
        if v in run.vectors:
            return
        if v in run.sums:
            raise _Stop
        run.of_rank(self.kinds.get(v))
        run.length()
        _add(run.inputs, v)
        run.outside.add(v)

    def shape_of(self, run, node, new=True):
        """Whether node is `v.shape` of a vector (then v has the run's length). Not `new`: v must be one
        the run has already (a vector of another length filled with zeros is better made before the run)."""
        if isinstance(node, ast.Attribute) and node.attr == "shape" and isinstance(node.value, ast.Name):
            v = run.alias.get(node.value.id, node.value.id)
            if not new and v not in run.vectors and v not in run.inputs:
                raise _Stop
            self.length_of(run, v)
            return True
        return False

    def kind_of(self, node):
        if isinstance(node, ast.Name):
            return self.kinds.get(node.id)
        return 1  # (an expression: `entry` decides whether it is elementwise)

    def same_object(self, run, value):
        """The vector of the run that `value` may be (summed_to between vectors of one length gives
        its first argument itself; a name is its value), else None. A vector from outside: _Stop."""
        if isinstance(value, ast.Call) and dotted(value.func) == "summed_to":
            value = value.args[0] if value.args else None
        if isinstance(value, ast.Name):
            v = run.alias.get(value.id, value.id)
            if v not in run.vectors:
                raise _Stop
            return v
        return None

    # -- the run, written out --------------------------------------------------------------------

    def close(self, run, rest):
        """The run's statements: hoisted ones, then `if compiled ...: loop else: as they were`."""
        if run.work < LEAST_WORK or not run.inputs:
            return run.seen
        later, values = (set(_counts(rest + run.after, only)) for only in (False, True))
        if run.around is not None:  # (in a loop or a branch: read anywhere else in it, or after it)
            for found, around, only in ((later, run.around[0], False), (values, run.around[1], True)):
                within = _counts(run.seen, only)
                found |= {v for v, count in around.items() if count > within[v]}
        named = {s for v, s in run.alias.items() if v in later}
        kept = [v for v in run.vectors if v not in run.alias and (v in later or v in named)]
        if not set(kept) | {v for v in run.alias if v in later} | run.numbers <= self.float_names:
            # (Numba types both branches, and a name read after them has one type: the loop's floats would make
            # an int sum a float, or fail to compile beside an int array; only names that hold floats anyway)
            return run.seen
        shaped = {v for v in kept if v not in values and v not in {s for a, s in run.alias.items() if a in values}}
        run.length()
        first = run.inputs[0]
        dims = [(run.n, run.i)] + ([(run.m, run.j)] if run.rank == 2 else [])
        setup = [ast.Assign([ast.Name(n, ast.Store())], _length(first, axis)) for axis, (n, _) in enumerate(dims)]
        setup += run.before + [ast.Assign([ast.Name(part, ast.Store())], view) for part, view in run.views]
        array = {v: self.namer.fresh(f"{v}_new") if v in run.renamed else v for v in kept}
        shape = ast.Name(run.n, ast.Load()) if run.rank == 1 else ast.Tuple([ast.Name(n, ast.Load()) for n, _ in dims],
                                                                             ast.Load())
        setup += [ast.Assign([ast.Name(array[v], ast.Store())], np_call("empty", clone(shape))) for v in kept]
        body = run.loop + [ast.Assign([ast.Subscript(ast.Name(array[v], ast.Load()), run.index(), ast.Store())],
                                      ast.Name(run.vectors[v], ast.Load()))
                           for v in kept if v not in shaped]  # (an array read after only for its shape: made, not filled)
        for n, i in reversed(dims):
            body = [ast.For(ast.Name(i, ast.Store()), ast.Call(ast.Name("range", ast.Load()), [ast.Name(n, ast.Load())], []),
                            body, [])]
        loop = body[0]
        aliases = [ast.Assign([ast.Name(v, ast.Store())], ast.Name(a, ast.Load())) for v, a in array.items() if v != a]
        aliases += [ast.Assign([ast.Name(v, ast.Store())], ast.Name(s, ast.Load()))
                    for v, s in run.alias.items() if v in later]
        written = sorted({view.value.id for _, view in run.views} - set(run.inputs))
        test = [ast.Name("compiled", ast.Load()), _call("floats", run.inputs + written + run.floats)]
        if run.reals:
            test.append(_call("reals", run.reals))
        for axis in range(run.rank):
            lengths = [_length(v, axis) for v in run.inputs] + [_length(clone(view), axis) for _, view in run.views]
            if len(lengths) > 1:
                test.append(ast.Compare(lengths[0], [ast.Eq()] * (len(lengths) - 1), lengths[1:]))
        return run.hoisted + [ast.If(ast.BoolOp(ast.And(), test), setup + [loop] + aliases + run.after, run.original)]


def _target(stmt):
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    return None


class _EachSum(ast.NodeTransformer):
    """Each np.sum, np.mean or np.dot of a tree (not one inside another) replaced by replace(call)."""

    def __init__(self, replace):
        self.replace = replace

    def visit_Call(self, node):
        return self.replace(node) if _reduction(node) else self.generic_visit(node)


def _shape_reads(tree):
    """The ids of what tree reads only for its shape or size (the `a` of `a.shape`, `a.size`)."""
    return {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in ("shape", "size")}


def _counts(nodes, values=False):
    """How often each name occurs in a node or a list of them (`values`: not as `a.shape` or `a.size`)."""
    tree = ast.Module(list(nodes), []) if isinstance(nodes, list) else nodes
    skip = _shape_reads(tree) if values else set()
    return Counter(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in skip)


def _numbers_read(node):
    """The names node reads as values: not a call's function, nor an array read for its shape or size."""
    skip = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)} | _shape_reads(node)
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in skip}


def _added_into(stmt):
    """Whether stmt is `add_into(a[lo:hi], g)`, a a name, the slice's step left out."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if not (isinstance(call, ast.Call) and dotted(call.func) == "add_into" and len(call.args) == 2
            and not call.keywords):
        return False
    view = call.args[0]
    return isinstance(view, ast.Subscript) and isinstance(view.value, ast.Name) and isinstance(view.slice, ast.Slice) \
        and view.slice.step is None


def _read_otherwise(stmt, a):
    """Whether stmt reads `a` other than for its shape or size, or as add_into's first argument's array."""
    allowed = _shape_reads(stmt) | {id(n.args[0].value) for n in ast.walk(stmt) if isinstance(n, ast.Call)
                                    and dotted(n.func) == "add_into" and n.args and isinstance(n.args[0], ast.Subscript)}
    return any(isinstance(n, ast.Name) and n.id == a and isinstance(n.ctx, ast.Load) and id(n) not in allowed
               for n in ast.walk(stmt))


def _reduction(value):
    if not (isinstance(value, ast.Call) and not value.keywords and isinstance(value.func, ast.Attribute)
            and dotted(value.func) == f"np.{value.func.attr}" and value.func.attr in REDUCTIONS):
        return False
    return len(value.args) == (2 if value.func.attr == "dot" else 1)


def _pure(stmt, also=()):
    """Whether stmt only binds its target, by calls that compute values (see _computes)."""
    return _computes(stmt, also) and stores(stmt) == {_target(stmt)}


def _computes(node, also=()):
    """Whether node's calls only compute values: NumPy's and math's functions (no `out=`), the builtins
    generated code uses and runtime helpers that write into nothing (add_into writes into its first
    argument); and the helpers `also`."""
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            func = dotted(n.func) or ""
            if any(k.arg == "out" for k in n.keywords) or not (
                    func.startswith(("np.", "math.")) and not func.startswith("np.random") or func in also
                    or func in RESERVED or func in runtime.EXPORTED and func not in having("in_place")):
                return False
    return True


def _appended(stmt):
    """Whether stmt is `name.append(value)`, value's calls computing values only."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "append" \
        and isinstance(call.func.value, ast.Name) and len(call.args) == 1 and not call.keywords \
        and _computes(call.args[0])


def _binop(left, op, right):
    if isinstance(op, ast.Div):
        return np_call("divide", left, right)
    return ast.BinOp(left, op, right)


def _call(func, names):
    return ast.Call(ast.Name(func, ast.Load()), [ast.Name(v, ast.Load()) for v in names], [])


def _length(v, axis=0):
    """`v.shape[axis]`, v a name or an expression."""
    v = ast.Name(v, ast.Load()) if isinstance(v, str) else v
    return ast.Subscript(ast.Attribute(v, "shape", ast.Load()), ast.Constant(axis), ast.Load())


def _add(names, v):
    if v not in names:
        names.append(v)
