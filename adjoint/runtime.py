"""Helpers that generated code calls, written once for both paths.

Each runs under CPython as it is and under Numba's nopython mode once `adjoint.backend.jit` has registered
it with `register_jitable`. Type dispatch uses `isinstance` and `axis is None`, which Numba resolves
when it compiles, so one text serves floats and arrays of any rank. A branch that uses NumPy
features Numba lacks (`np.moveaxis`, `axis=` on cumsum) is reached only where the primal itself
uses such a feature, so the primal would not compile under Numba either.
"""

import math

import numpy as np

from .errors import MemoryBudgetError


def facts(shape_only=(), **known):
    """Record on a helper what the compiler may assume of it (rules/helpers.py says what each fact
    means and which passes read it): shape_only={1} and linear_in_g, fresh, new_buffer, sums_to_shape,
    in_place set True."""
    def record(fn):
        fn.facts = dict(known, shape_only=frozenset(shape_only))
        return fn
    return record


@facts(shape_only={0}, fresh=True, new_buffer=True)
def zeros_like(x):
    """A float64 zero of x's kind: 0.0 for a number (or None, a variable's value before it holds one),
    an array of x's shape for an array."""
    if x is None or isinstance(x, (float, int)):
        return 0.0
    return np.zeros(x.shape)


@facts(linear_in_g=True, fresh=True, new_buffer=True)
def plus_zeros(g, shape):
    """np.zeros(shape) + g (an array of shape's length), in one pass over g when g has that shape: the same
    bits, as 0.0 + x is x + 0.0 (optimize/in_place.py writes it for an adjoint's first contribution)."""
    if g.shape == shape:
        return g + 0.0
    return np.zeros(shape) + g


@facts(shape_only={1}, linear_in_g=True, sums_to_shape=True)
def unbroadcast(g, x):
    """Sum g over the axes that broadcasting added or stretched, so it takes x's shape.

    Under Numba, `adjoint.backend.jit` dispatches on the types instead, and sums with loops.
    """
    if isinstance(x, (float, int)):
        if isinstance(g, float):
            return g
        return np.sum(g)
    if isinstance(g, float):
        return np.full(x.shape, g)
    return summed_to(g, x.shape)


@facts(linear_in_g=True, sums_to_shape=True)
def summed_to(g, shape):
    """g summed over the axes that broadcasting an array of `shape` to g's shape added or stretched
    (the general case of unbroadcast): g itself when it has that shape."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(k for k in range(g.ndim) if k < lead or (shape[k - lead] == 1 and g.shape[k] != 1))
    return np.sum(g, axis=axes).reshape(shape)


@facts(shape_only={1}, linear_in_g=True, fresh=True)
def unsum(g, a, axis=None):
    """The adjoint of np.sum(a, axis): g spread back over the summed axis."""
    if isinstance(a, (float, int)):
        return g
    if isinstance(g, float):  # all of a was summed (axis None, or the one axis of a vector)
        return np.full(a.shape, g)
    return np.broadcast_to(np.expand_dims(g, axis), a.shape).copy()  # (a new array, even when nothing spreads)


def max_axis(a, axis):
    """np.max(a, axis=axis) for a matrix, as `specialize` writes it (Numba's np.max takes no axis:
    `adjoint.backend.jit` gives it loops)."""
    return np.max(a, axis=axis)


def min_axis(a, axis):
    """np.min(a, axis=axis) for a matrix (see max_axis)."""
    return np.min(a, axis=axis)


def mean_axis(a, axis):
    """np.mean(a, axis=axis) for a matrix (see max_axis)."""
    return np.mean(a, axis=axis)


def sort_axis(a, axis):
    """np.sort(a, axis=axis) of an array of 2 or more dimensions, as `specialize` writes it (see max_axis)."""
    return np.sort(a, axis=axis)


def argsort_axis(a, axis, stable=False):
    """np.argsort(a, axis=axis) of an array of 2 or more dimensions (see sort_axis), stable (specialize writes it
    for kind="stable", the one order of equal entries on both paths) or NumPy's default sort (in Python)."""
    return np.argsort(a, axis=axis, kind="stable" if stable else None)


def put_along(g, indices, axis):
    """An array of g's shape of zeros with g put where `indices` (along `axis`) say: the inverse of
    np.take_along_axis for a permutation along the axis (see sort_axis)."""
    out = np.zeros(g.shape)
    np.put_along_axis(out, indices, g, axis)
    return out


def var_axis(a, axis, ddof):
    """np.var(a, axis=axis, ddof=ddof) for a matrix or more (see max_axis)."""
    return np.var(a, axis=axis, ddof=ddof)


def std_axis(a, axis, ddof):
    """np.std(a, axis=axis, ddof=ddof) for a matrix or more (see max_axis)."""
    return np.std(a, axis=axis, ddof=ddof)


def prod_axis(a, axis):
    """np.prod(a, axis=axis) for a matrix or more (see max_axis)."""
    return np.prod(a, axis=axis)


def sum_axis(a, axis):
    """np.sum(a, axis=axis) for a matrix, as `specialize` writes it: under Numba, `adjoint.backend.jit` gives
    it loops (np.sum with an axis, its checks and their messages cost Numba seconds to compile)."""
    return np.sum(a, axis=axis)


@facts(linear_in_g=True)
def unsum_to(g, shape, axis):
    """unsum for an array a of this shape summed over one axis, from its shape alone (so that the
    tape need not keep a): what `specialize` writes where the kinds are known."""
    return np.broadcast_to(np.expand_dims(g, axis), shape).copy()


@facts(shape_only={1}, linear_in_g=True, fresh=True, new_buffer=True)
def unmean(g, a, axis=None):
    """The adjoint of np.mean(a, axis). (An empty a has an empty adjoint: no division by its size 0.)"""
    if isinstance(a, (float, int)):
        return g
    if isinstance(g, float):
        return np.full(a.shape, g / max(a.size, 1))
    return unsum(g, a, axis) * (g.size / max(a.size, 1))


@facts(linear_in_g=True, fresh=True, new_buffer=True)
def unvar(g, a, axis=None, ddof=0):
    """The adjoint of np.var(a, axis, ddof). The variance of a number is 0 whatever its value (nan
    when ddof leaves it no degree of freedom, as np.var gives), so its derivative is 0 (nan)."""
    if isinstance(a, (float, int)):
        if ddof < 1:
            return g * 0.0
        return g * np.nan
    if isinstance(g, float):  # (no degree of freedom left: the variance is inf or nan, and so its derivative)
        return g * 2.0 * (a - np.mean(a)) / (a.size - ddof if a.size > ddof else 0.0)
    count = a.size // max(g.size, 1)
    return unsum(g, a, axis) * 2.0 * (a - np.expand_dims(mean_axis(a, axis), axis)) / (
        count - ddof if count > ddof else 0.0)


@facts(linear_in_g=True, fresh=True, new_buffer=True)
def unstd(g, a, out, axis=None, ddof=0):
    """The adjoint of np.std(a, axis, ddof), from that of the variance: g / (2 out) times it.

    Where the standard deviation is 0 (a number, one entry, or entries all equal) it is 0: the
    standard deviation of a number is the constant 0, and at equal entries it has a kink like abs
    at 0 (|t| times that of the direction of change), whose central differences give 0 as
    np.sign(0) does; dividing by out would give nan (or raise, for a Python float)."""
    if isinstance(out, float):
        if out == 0.0:
            return unvar(0.0, a, axis, ddof)
        return unvar(g / (2.0 * out), a, axis, ddof)
    nonzero = out != 0.0
    return unvar(np.where(nonzero, g / (2.0 * np.where(nonzero, out, 1.0)), 0.0), a, axis, ddof)


@facts(linear_in_g=True, fresh=True, new_buffer=True)
def unmax(g, a, out, axis=None):
    """The adjoint of np.max / np.min: g shared equally among the entries equal to the result."""
    if isinstance(a, (float, int)):
        return g
    if axis is None:
        mask = (a == out) * 1.0
        return g * mask / np.sum(mask)
    mask = (a == np.expand_dims(out, axis)) * 1.0
    return unsum(g, a, axis) * mask / np.expand_dims(np.sum(mask, axis=axis), axis)


@facts(linear_in_g=True, fresh=True, new_buffer=True)
def unmax_axis(g, a, out, axis):
    """unmax over one axis of a matrix or more, as `specialize` writes it: with sum_axis and unsum_to,
    which Numba compiles as loops (np.sum with an axis costs it seconds)."""
    mask = (a == np.expand_dims(out, axis)) * 1.0
    return unsum_to(g / sum_axis(mask, axis), a.shape, axis) * mask


@facts(linear_in_g=True, fresh=True, new_buffer=True)
def unprod(g, a, axis=None):
    """The adjoint of np.prod(a, axis): g times the product of the other entries (exact at zeros)."""
    if isinstance(a, (float, int)):
        return g
    if axis is None:
        flat = np.ascontiguousarray(a).ravel()
        n = flat.size
        left = np.ones(n)
        right = np.ones(n)
        if n > 1:
            left[1:] = np.cumprod(flat[:-1])
            right[:-1] = np.cumprod(flat[::-1][:-1])[::-1]
        return (g * left * right).reshape(a.shape)
    return _unprod_axes(g, a, axis)


def _unprod_axes(g, a, axis):
    """unprod for an int or tuple axis, in Python only (Numba has no np.prod with axis=)."""
    axes = tuple(k % a.ndim for k in (axis if isinstance(axis, tuple) else (axis,)))
    ends = tuple(range(a.ndim - len(axes), a.ndim))
    m = np.moveaxis(a, axes, ends)
    flat = m.reshape(m.shape[:a.ndim - len(axes)] + (math.prod(m.shape[a.ndim - len(axes):]),))  # (not -1: empty)
    left = np.ones(flat.shape)
    right = np.ones(flat.shape)
    left[..., 1:] = np.cumprod(flat[..., :-1], axis=-1)
    right[..., :-1] = np.cumprod(flat[..., :0:-1], axis=-1)[..., ::-1]
    return np.moveaxis((np.expand_dims(g, -1) * left * right).reshape(m.shape), ends, axes)


@facts(linear_in_g=True)
def uncumsum(g, a, axis=None):
    """The adjoint of np.cumsum(a, axis): a reversed cumulative sum."""
    if isinstance(a, (float, int)):  # np.cumsum of a number: one entry (NumPy), or the number (Numba)
        if isinstance(g, float):
            return g
        return np.sum(g)
    if axis is None:
        return np.ascontiguousarray(np.cumsum(np.ascontiguousarray(g).ravel()[::-1])[::-1]).reshape(a.shape)
    backwards = np.cumsum(np.swapaxes(g, 0, axis)[::-1], axis=0)[::-1]
    return np.ascontiguousarray(np.swapaxes(backwards, 0, axis))


def diff(a):
    """np.diff(a): the first differences along the last axis (rules/defined.py gives n and axis)."""
    return np.diff(np.ascontiguousarray(a))  # (Numba's np.diff takes contiguous arrays)


@facts(shape_only={1}, linear_in_g=True, fresh=True, new_buffer=True)
def undiff(g, a):
    """The adjoint of np.diff(a) (first difference along the last axis)."""
    out = np.zeros(a.shape)
    out[..., 1:] += g
    out[..., :-1] -= g
    return out


def _as_rows(a, k):
    """a (a vector or a matrix) as a matrix of rows of k entries: one row for a vector. The sizes
    are given, not -1: reshape cannot infer one from an empty array."""
    rows = 1 if a.ndim == 1 else a.shape[0]
    return np.ascontiguousarray(a).reshape((rows, k))


def _as_cols(b, k):
    """b (a vector or a matrix) as a matrix of k rows: one column for a vector."""
    cols = 1 if b.ndim == 1 else b.shape[-1]
    return np.ascontiguousarray(b).reshape((k, cols))


def _as_grid(g, rows, cols):
    if isinstance(g, float):
        return np.full((rows, cols), g)
    return np.ascontiguousarray(g).reshape((rows, cols))


@facts(linear_in_g=True, fresh=True, new_buffer=True)
def matmul_left(g, a, b):
    """The adjoint of a @ b with respect to a (stacks of matrices broadcast against each other).

    Under Numba (where @ takes 1-d and 2-d operands) `adjoint.backend.jit` calls matmul_left_2d directly.
    """
    if isinstance(a, (float, int)) or isinstance(b, (float, int)) or (a.ndim <= 2 and b.ndim <= 2):
        return matmul_left_2d(g, a, b)
    return _matmul_stacked(g, a, b, True)


@facts(linear_in_g=True, fresh=True, new_buffer=True)
def matmul_right(g, a, b):
    """The adjoint of a @ b with respect to b."""
    if isinstance(a, (float, int)) or isinstance(b, (float, int)) or (a.ndim <= 2 and b.ndim <= 2):
        return matmul_right_2d(g, a, b)
    return _matmul_stacked(g, a, b, False)


def matmul_left_2d(g, a, b):
    """The adjoint of a @ b (or np.dot(a, b), the same there) with respect to a, for vectors and
    matrices (empty ones too), or the product with a number."""
    if isinstance(a, (float, int)):
        return np.sum(g * b)
    if isinstance(b, (float, int)):
        return g * b
    k = a.shape[-1]
    A, B = _as_rows(a, k), _as_cols(b, k)
    return np.dot(_as_grid(g, A.shape[0], B.shape[1]), B.T).reshape(a.shape)


def matmul_right_2d(g, a, b):
    if isinstance(b, (float, int)):
        return np.sum(g * a)
    if isinstance(a, (float, int)):
        return g * a
    k = a.shape[-1]
    A, B = _as_rows(a, k), _as_cols(b, k)
    return np.dot(A.T, _as_grid(g, A.shape[0], B.shape[1])).reshape(b.shape)


def _is_number(x):
    return isinstance(x, (float, int)) or np.ndim(x) == 0


def dot_left(g, a, b):
    """The adjoint of np.dot(a, b) with respect to a.

    np.dot batches unlike @: it sums the last axis of a against the second-to-last of b (the only
    one of a vector b) and keeps every other axis of both, a's first:
    np.dot(a, b)[i, j, k, m] = sum(a[i, j, :] * b[k, :, m]). So with A = a as rows of its last
    axis and B = b with that axis first, as columns, np.dot(a, b) is A @ B reshaped, and the
    adjoints are those of A @ B. A number on either side makes it a product. (Under Numba, whose
    np.dot takes vectors and matrices only, where it is a @ b, `adjoint.backend.jit` calls matmul_left_2d.)
    """
    if _is_number(a):
        return np.sum(g * b)
    if _is_number(b):
        return g * b
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul_left_2d(g, a, b)
    A, B = _dot_rows(a), _dot_cols(b)
    return np.dot(_as_grid(g, A.shape[0], B.shape[1]), B.T).reshape(a.shape)


def dot_right(g, a, b):
    """The adjoint of np.dot(a, b) with respect to b (see dot_left)."""
    if _is_number(b):
        return np.sum(g * a)
    if _is_number(a):
        return g * a
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul_right_2d(g, a, b)
    A, B = _dot_rows(a), _dot_cols(b)
    r = np.dot(A.T, _as_grid(g, A.shape[0], B.shape[1]))  # (k, the entries of b's other axes)
    if b.ndim == 1:
        return r.reshape(b.shape)
    return np.ascontiguousarray(np.moveaxis(r.reshape((b.shape[-2],) + b.shape[:-2] + b.shape[-1:]), 0, -2))


def _dot_rows(a):
    """a as a matrix whose rows run along its last axis (Python only)."""
    return np.ascontiguousarray(a).reshape((math.prod(a.shape[:-1]), a.shape[-1]))


def _dot_cols(b):
    """b as a matrix whose columns run along the axis np.dot sums: its only one, or its second-to-last."""
    if b.ndim == 1:
        return np.ascontiguousarray(b).reshape((b.shape[0], 1))
    k = b.shape[-2]
    return np.ascontiguousarray(np.moveaxis(b, -2, 0)).reshape((k, math.prod(b.shape[:-2]) * b.shape[-1]))


def inv_stacked(a):
    """np.linalg.inv of a stack of matrices (3 dimensions), as `specialize` writes it: Numba's takes a matrix
    (`adjoint.backend.jit` gives it a loop over the stack)."""
    return np.linalg.inv(a)


def matmul_stacked(a, b):
    """a @ b where one is a stack of matrices (3 dimensions) and the other a matrix or such a stack, as
    `specialize` writes it: Numba's @ takes vectors and matrices (`adjoint.backend.jit` gives it a loop
    over the stack)."""
    return a @ b


def _matmul_stacked(g, a, b, left):
    """The adjoint of a @ b for stacks of matrices (Python only), summed over broadcast stack axes."""
    A = a[None, :] if a.ndim == 1 else a
    B = b[:, None] if b.ndim == 1 else b
    G = np.expand_dims(g, -2) if a.ndim == 1 else g
    G = np.expand_dims(G, -1) if b.ndim == 1 else G
    if left:
        r = G @ np.swapaxes(B, -1, -2)
        return summed_to(r[..., 0, :] if a.ndim == 1 else r, a.shape)
    r = np.swapaxes(A, -1, -2) @ G
    return summed_to(r[..., 0] if b.ndim == 1 else r, b.shape)


@facts(linear_in_g=True, fresh=True, new_buffer=True)
def outer_left(g, a, b):
    """The adjoint of np.outer(a, b) (of a.size rows and b.size columns) with respect to a."""
    r = np.dot(np.ascontiguousarray(g), _flat(b))
    if isinstance(a, (float, int)):
        return r[0]
    return r.reshape(a.shape)


@facts(linear_in_g=True, fresh=True, new_buffer=True)
def outer_right(g, a, b):
    """The adjoint of np.outer(a, b) with respect to b."""
    r = np.dot(_flat(a), np.ascontiguousarray(g))
    if isinstance(b, (float, int)):
        return r[0]
    return r.reshape(b.shape)


def _flat(x):
    """x as a vector (a number as one entry)."""
    if isinstance(x, (float, int)):
        return np.full(1, x)
    return np.ascontiguousarray(x).ravel()


@facts(shape_only={1}, linear_in_g=True, fresh=True, new_buffer=True)
def untrace(g, a, offset=0):
    """The adjoint of np.trace(a, offset): g on that diagonal of the first two axes."""
    out = np.zeros(a.shape)
    for i in range(max(min(a.shape[0] + min(offset, 0), a.shape[1] - max(offset, 0)), 0)):
        out[i - min(offset, 0), i + max(offset, 0)] = g
    return out


@facts(shape_only={1}, linear_in_g=True)
def reshape_like(g, a):
    """g given a's shape (the adjoint of a reshape or a ravel): its one entry for a number."""
    if isinstance(a, (float, int)):
        return np.sum(g)
    return np.ascontiguousarray(g).reshape(a.shape)


@facts(shape_only={2}, linear_in_g=True)
def concat_part(g, offset, part, axis=0):
    """The piece of g that np.concatenate took from `part`, which starts at `offset` along axis
    (for axis None, at `offset` in the flattened result)."""
    if axis is None:
        return np.ascontiguousarray(g[offset:offset + part.size]).reshape(part.shape)
    axis = axis % g.ndim
    n = part.shape[axis]
    return np.ascontiguousarray(np.swapaxes(np.swapaxes(g, 0, axis)[offset:offset + n], 0, axis))


@facts(shape_only={0}, fresh=True, new_buffer=True)
def rows_of(first, n):
    """Zeros for n rows shaped as `first`: the array a list comprehension fills, or a list grown in a
    loop (of arrays; of numbers or arrays when which is not known when compiling). Of bools or ints
    for bools or ints (indices stay indices), of complex numbers for them, else of float64 (a Numba
    overload gives the same, by type)."""
    return np.zeros((n,) + np.shape(first), _row_type(first))


def _row_type(item):
    kind = np.asarray(item).dtype.kind
    return np.bool_ if kind == "b" else np.int64 if kind in "iu" else np.complex128 if kind == "c" else np.float64


@facts(shape_only={1}, fresh=True, new_buffer=True)
def enlarged(rows, item, size):
    """size rows shaped as item, the first ones rows' (the array of a list grown in a while loop, or in
    a loop inside a loop, when it is full)."""
    out = np.zeros((size,) + np.shape(item), _row_type(item))
    if rows.shape[0] > 0:
        out[:rows.shape[0]] = rows
    return out


@facts(shape_only={1}, linear_in_g=True, fresh=True)
def leading(g, rows):
    """The adjoint of enlarged: the first rows of g, as many as rows has."""
    return g[:rows.shape[0]].copy()


def fits(rows, item):
    """Whether item goes into a row of rows (the array that holds a list grown in a loop) as it is: its
    shape, and a type the rows keep (a float in rows of ints would lose its fraction)."""
    return _keeps(rows.dtype.kind, np.asarray(item).dtype.kind) and rows.shape[1:] == np.shape(item)


def _keeps(have, got):
    """Whether rows of dtype kind `have` keep an item of kind `got` as it is (the Numba overload of fits
    asks this too, of the types)."""
    return got == "b" or have == "c" or have == "f" and got in "iuf" or have in "iu" and got in "iu"


@facts(fresh=True)
def numbers(items):
    """The vector of a tuple of numbers: a list of numbers written in the code and used as an array
    (`np.array([x, y])`, `np.sum([a, b])`), which np.stack, Numba's, does not take."""
    return np.array(items)


@facts(linear_in_g=True)
def stack_part(g, k, axis=0):
    """The k-th piece of g along the axis that np.stack added: a number for a vector g (np.stack of
    numbers). Under Numba, `adjoint.backend.jit` chooses by g's number of dimensions."""
    if g.ndim == 1:
        return g[k]
    return _stack_piece(g, k, axis)


def _stack_piece(g, k, axis):
    axis = axis % g.ndim
    piece = np.swapaxes(g, 0, axis)[k]
    for j in range(axis - 1, 0, -1):  # the swap put the first axis at axis - 1: move it back to 0
        piece = np.swapaxes(piece, j, j - 1)
    return np.ascontiguousarray(piece)


# False here; True in the copy of a generated module that Numba compiles (backend/emit.load), which
# takes the loops of optimize/elementwise.py where Python keeps NumPy's vectorised statements
compiled = False


def floats(*values):
    """Whether every value is a float64 array or a float (under Numba: decided by their types)."""
    return all(type(v) is float or type(v) is np.float64
               or type(v) is np.ndarray and v.dtype == np.float64 for v in values)


def reals(*values):
    """Whether every value is a real number: a bool, int or float, NumPy's too (under Numba: by type)."""
    return all(isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)) for v in values)


@facts(in_place=True)
def add_into(view, g):
    """view += g, for a slice of an adjoint (Numba compiles this far faster than `a[i:j] += g`)."""
    view += g


@facts(in_place=True)
def add_at(a, index, g):
    """a[index] += g, where an integer-array index that repeats an entry adds to it as often.

    Under Numba, `adjoint.backend.jit` gives this an implementation with a loop (np.add.at is not supported).
    """
    np.add.at(a, index, g)


def kept_writes(a, index):
    """For `a[index] = value`: True at the positions of a[index] whose write stays in a, False where a
    later position of an integer-array index that repeats an entry writes it again (NumPy keeps the
    last write). Only those positions carry the adjoint of what a holds there back to the value.

    Under Numba, `adjoint.backend.jit` gives this an implementation chosen by the index's type."""
    picked = a[index]
    if np.ndim(picked) == 0:
        return True
    ids = np.arange(picked.size).reshape(picked.shape)
    last = np.full(a.shape, -1)
    last[index] = ids
    return last[index] == ids


def add_outer(a, g, b):
    """a += g[:, None] * b for vectors g and b (the adjoint of W @ h added into W's).

    Under Numba, `adjoint.backend.jit` gives this a double loop, which needs no temporary matrix."""
    a += g[:, None] * b


def trip_count(start, stop, step):
    """How many times `for i in range(start, stop, step)` runs."""
    if step > 0:
        return max(0, (stop - start + step - 1) // step)
    return max(0, (start - stop - step - 1) // -step)


def segment_length(n):
    """The length of the segments a checkpointed loop of n iterations is reversed in (transforms/reverse.py
    `checkpointed`): the least k with k * k >= n, so that its snapshots (one a segment) and the tape of
    one segment both grow as the square root of n."""
    k = int(math.sqrt(n))
    while k * k < n:
        k += 1
    return max(k, 1)


def value_bytes(v):
    """About how many bytes v holds: a number, an array, or a tuple or list of numbers."""
    if isinstance(v, (float, int, bool, complex)):
        return 16
    if isinstance(v, (tuple, list)):
        return 16 * len(v)
    return v.nbytes + 96  # (an array's own fields, in Python or Numba)


def tape_bytes(tape):
    """About how many bytes a list tape holds (optimize/tape.py `in_use`)."""
    total = 0
    for v in tape:
        total += value_bytes(v)
    return total


MEASURED = 2  # the iterations of a checkpointed loop that measure a step's tape, one a segment


def schedule(n, step_bytes, snapshot_bytes, in_use, budget, where):
    """The length of the segments of a checkpointed loop of n iterations after its first MEASURED,
    the most of which kept step_bytes of tape (transforms/reverse.py `checkpointed`). budget < 0
    (checkpoint=True): about √(n - MEASURED), so that the snapshots and the tape of one segment both
    grow as √n. Otherwise the tape may hold budget bytes, in_use of them held before the loop: all
    the rest when their tape fits (nothing runs twice), else the length that needs least memory: the
    snapshots of the segments (snapshot_bytes each) and the tapes of one, with the measured ones,
    about 2 √(n step_bytes snapshot_bytes); errors.MemoryBudgetError when even that does not fit."""
    rest = n - MEASURED
    if rest <= 1:
        return 1
    if budget < 0:
        return segment_length(rest)
    step, snap = max(step_bytes, 1), max(snapshot_bytes, 1)
    room = budget - in_use
    if (rest + MEASURED) * step <= room:
        return rest
    length = min(max(int(math.sqrt(rest * snap / step)), 1), rest)
    need = (rest + length - 1) // length * snap + (length + MEASURED) * step
    if need > room:
        raise MemoryBudgetError(where, n, step_bytes, snapshot_bytes, in_use, budget, need)
    return length


@facts(in_place=True)
def restore(tape, value):
    """Drop the newest value on the tape and give back the one before it (value when there is none)."""
    tape.pop()
    if len(tape) > 0:
        return tape[-1]
    return value


@facts(in_place=True)
def push_shape(tape, shape):
    """Keep `shape` on a shape tape, which holds (shape, count) for each run of equal shapes, so a
    loop whose values keep one shape keeps one entry. The tape starts with a placeholder of count 0
    (`[((0,), 0)]`, which gives Numba the entries' type) that the first shape takes over."""
    last, count = tape[-1]
    if count == 0 or last == shape:
        tape[-1] = (shape, count + 1)
    else:
        tape.append((shape, 1))


@facts(in_place=True)
def pop_shape(tape):
    """Drop the newest shape from a shape tape (see push_shape); `tape[-1][0]` reads the newest."""
    last, count = tape[-1]
    if count > 1 or len(tape) == 1:
        tape[-1] = (last, count - 1)
    else:
        tape.pop()


def reserved(tape, top, more):
    """A tape of numbers with room for `more` entries after its first `top`: tape itself, or a longer
    copy (at least twice as long, so that reserving before every run of an inner loop copies little;
    and 16 more, so that a few pushes after a loop do not copy it all again).
    (See adjoint/optimize/stacks.py.)"""
    need = top + more
    if need <= tape.shape[0]:
        return tape
    longer = np.zeros(max(need + 16, 2 * tape.shape[0]), tape.dtype)
    for k in range(top):  # (not a slice assignment, which Numba takes seconds to compile the first time)
        longer[k] = tape[k]
    return longer


@facts(fresh=True, new_buffer=True)
def saved(element):
    """A copy of an array element or slice about to be overwritten (numbers are kept as they are), laid out
    as it is: a copy of a transposed view multiplies as the view does, to the bit (BLAS takes the same
    path; a hunt found a checkpointed loop's last value of `B = A.T` given back as a C-ordered copy, an
    ulp off). Under Numba (adjoint.backend.jit): a copy, as Numba makes them."""
    if isinstance(element, float):
        return element
    if isinstance(element, int):
        return element
    if isinstance(element, np.ndarray):
        return np.array(element, order="K")
    return element.copy()  # (a tape list, in forward mode over the adjoint)


def spread(d, out):
    """A tangent as the value it belongs to: d broadcast to out's shape (d itself when it has it).

    Under Numba, `adjoint.backend.jit` dispatches on the types."""
    if isinstance(out, float):
        return d
    if isinstance(d, float):
        return np.full(out.shape, d)
    if d.shape == out.shape:
        return d
    return np.ascontiguousarray(np.broadcast_to(d, out.shape))


def unit(out):
    """1.0, or an array of ones shaped as out: the cotangent that turns an adjoint into weights."""
    if isinstance(out, float):
        return 1.0
    return np.ones(out.shape)


def logistic(x):
    """1 / (1 + exp(-x)), computed as written. The normalizer turns that expression into this one
    primitive, whose adjoint `g * out * (1 - out)` reads only the result: the tape keeps one array
    where the expression's own steps would keep three. Under Numba, `adjoint.backend.jit` makes it one loop."""
    return 1.0 / (1.0 + np.exp(-x))


def reduce_tangent(w, a_dot, axis=None):
    """The tangent of a reduction whose adjoint at a cotangent of ones is w: w * a_dot, summed."""
    if axis is None:
        return np.sum(w * a_dot)
    return np.sum(w * a_dot, axis=axis)


@facts(linear_in_g=True, fresh=True, new_buffer=True)
def times(g, d):
    """g * d, a cotangent times a partial derivative, but 0 wherever g is 0: a cotangent that is
    exactly zero (the branch np.where did not take, an entry written over or not read) carries no
    derivative, even through a partial derivative that is infinite or nan there, as the
    differentiated program's value does not depend on it (`np.where(x > 0, np.sqrt(x), 0.0)` at
    x <= 0, `1 / r` masked where r is 0). The rules whose partial derivatives can be non-finite where
    their inputs are finite (divisions, logs, roots, powers) multiply with it.

    Under Numba, `adjoint.backend.jit` gives numbers a test and arrays np.where."""
    product = g * d
    if np.ndim(product) == 0:
        return 0.0 if g == 0 else product
    return np.where(g == 0, 0.0, product)


def pow_base(a, b):
    """The base that the adjoint of a ** b with respect to a raises to b - 1: a, but 1 where a and b
    are both 0. There a ** b is the constant 1, whose derivative b * a ** (b - 1) is then the exact
    0 (the formula gives 0 * inf); elsewhere it is a, so that the formula's own derivatives hold
    (at b == 0, d/db of b * a ** (b - 1) is 1 / a). A number comes back as a NumPy number, whose
    ** gives inf at 0 (the derivative of a ** 0.5 there) where a float's raises ZeroDivisionError.
    An array with one exponent other than 0 (x ** 2 in forward mode) is a itself, not a copy.

    Under Numba, `adjoint.backend.jit` dispatches on the types (a itself has a's layout, a copy has C's)."""
    if not isinstance(a, (float, int)) and isinstance(b, (float, int)) and b != 0:
        return a
    return _pow_base(a, b)


def _pow_base(a, b):
    if isinstance(a, (float, int)) and isinstance(b, (float, int)):
        if a == 0 and b == 0:
            return np.float64(1.0)
        return np.float64(a)
    return np.where((a == 0) & (b == 0), 1.0, a)


def log_base(a, b):
    """What the adjoint of a ** b with respect to b takes the log of: a, but 1 where a is 0 and b > 0.
    There a ** b is the constant 0 (0 ** b for every b > 0), whose derivative out * log(a) is then
    the exact 0, not 0 * -inf = nan. A number comes back as a NumPy number (np.log of a negative
    one is nan, as a ** b has no real derivative in b there)."""
    if isinstance(a, (float, int)) and isinstance(b, (float, int)):
        if a == 0 and b > 0:
            return np.float64(1.0)
        return np.float64(a)
    return np.where((a == 0) & (b > 0), 1.0, a)


def norm_slope(x, r):
    """x / r, the derivative of a norm r of x (np.linalg.norm, hypot), but 0 where r is 0 (where every
    x it is the norm of is 0): the norm has a cone's tip there, like abs at 0, and its central
    differences give 0, as np.sign(0) does for abs; x / r would give nan (or raise, for floats)."""
    if isinstance(r, float):
        if r == 0.0:
            return x * 0.0
        return x / r
    return x / np.where(r == 0.0, 1.0, r)


def sinc_slope(x):
    """The derivative of np.sinc: (cos(pi x) - sinc(x)) / x, 0 at x = 0 (sinc is flat there); near 0,
    where that difference cancels, its series -pi^2 x / 3 + pi^4 x^3 / 30."""
    if isinstance(x, float):
        if abs(x) < 1e-4:
            return -3.289868133696453 * x * (1.0 - 0.9869604401089358 * x * x)
        return (math.cos(math.pi * x) - math.sin(math.pi * x) / (math.pi * x)) / x
    small = np.abs(x) < 1e-4
    safe = np.where(small, 1.0, x)
    return np.where(small, -3.289868133696453 * x * (1.0 - 0.9869604401089358 * x * x),
                    (np.cos(np.pi * safe) - np.sinc(safe)) / safe)


def sinc_curve(x):
    """The second derivative of np.sinc: -pi^2 sinc(x) - 2 sinc'(x) / x; near 0 its series
    -pi^2 / 3 + pi^4 x^2 / 10."""
    if isinstance(x, float):
        if abs(x) < 1e-4:
            return -3.289868133696453 + 9.740909103400244 * x * x
        return -math.pi * math.pi * (math.sin(math.pi * x) / (math.pi * x)) - 2.0 * sinc_slope(x) / x
    small = np.abs(x) < 1e-4
    safe = np.where(small, 1.0, x)
    return np.where(small, -3.289868133696453 + 9.740909103400244 * x * x,
                    -np.pi * np.pi * np.sinc(safe) - 2.0 * sinc_slope(safe) / safe)


def norm(x):
    """The 2-norm of all of x (np.linalg.norm without ord and axis, of any number of dimensions)."""
    return np.sqrt(np.sum(x * x))


def norm_axis(x, axis):
    """The 2-norms of x along one axis."""
    return np.sqrt(np.sum(x * x, axis=axis))


@facts(linear_in_g=True, fresh=True, new_buffer=True)
def unnorm(g, x, r, axis):
    """The adjoint of norm_axis: g spread back times x / r, 0 where r is 0 (see norm_slope)."""
    return unsum(g, x, axis) * norm_slope(x, np.expand_dims(r, axis))


def erf(x):
    """scipy.special.erf (under Numba, `adjoint.backend.jit` gives it math.erf, entry by entry)."""
    import scipy.special

    return scipy.special.erf(x)


def erfc(x):
    """scipy.special.erfc (under Numba: math.erfc)."""
    import scipy.special

    return scipy.special.erfc(x)


def gammaln(x):
    """scipy.special.gammaln (under Numba: math.lgamma)."""
    import scipy.special

    return scipy.special.gammaln(x)


def betaln(a, b):
    """scipy.special.betaln, its value to the bit (gammaln(a) + gammaln(b) - gammaln(a + b) differs from it by
    a few ulps of the larger terms; under Numba it is that sum)."""
    import scipy.special

    return scipy.special.betaln(a, b)


def digamma(x):
    """scipy.special.digamma, the derivative of gammaln (under Numba: _digamma)."""
    import scipy.special

    return scipy.special.digamma(x)


def trigamma(x):
    """scipy.special.polygamma(1, x), the derivative of digamma (under Numba: _trigamma)."""
    import scipy.special

    return scipy.special.polygamma(1, x)


def erfinv(y):
    """scipy.special.erfinv (under Numba: _erfinv)."""
    import scipy.special

    return scipy.special.erfinv(y)


def _erfinv(y):
    """erfinv of a float: Giles's approximation, then two Newton steps on math.erf (full precision)."""
    if y <= -1.0 or y >= 1.0:
        return math.copysign(math.inf, y) if abs(y) == 1.0 else math.nan
    w = -math.log((1.0 - y) * (1.0 + y))
    if w < 5.0:
        w -= 2.5
        p = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):
            p = c + p * w
    else:
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):
            p = c + p * w
    x = p * y
    for _ in range(2):
        x -= (math.erf(x) - y) / (1.1283791670955126 * math.exp(-x * x))
    return x


def gammainc(a, x):
    """scipy.special.gammainc, the regularized lower incomplete gamma function (Python only)."""
    import scipy.special

    return scipy.special.gammainc(a, x)


def gammaincc(a, x):
    """scipy.special.gammaincc, 1 - gammainc (Python only)."""
    import scipy.special

    return scipy.special.gammaincc(a, x)


def betainc(a, b, x):
    """scipy.special.betainc, the regularized incomplete beta function (Python only)."""
    import scipy.special

    return scipy.special.betainc(a, b, x)


def gammasgn(x):
    """scipy.special.gammasgn, the sign of the gamma function (no derivative)."""
    import scipy.special

    return scipy.special.gammasgn(x)


def tetragamma(x):
    """scipy.special.polygamma(2, x), the derivative of trigamma (Python only)."""
    import scipy.special

    return scipy.special.polygamma(2, x)


def _gammasgn(x):
    """The sign of the gamma function at a float: 1 above 0, alternating between the poles below."""
    if x > 0.0:
        return 1.0
    if x == math.floor(x):
        return math.nan
    return -1.0 if math.ceil(-x) % 2 == 1 else 1.0


def _tetragamma(x):
    """polygamma(2, x) of a float, as _trigamma: the recurrence up to x >= 20, then the asymptotic series."""
    if x <= 0.0 and x == math.floor(x):
        return math.nan
    total = 0.0
    if x < 0.0:  # psi2(x) = psi2(1 - x) - 2 pi^3 cos(pi x) / sin(pi x)^3
        s = math.sin(math.pi * x)
        total = -2.0 * math.pi ** 3 * math.cos(math.pi * x) / (s * s * s)
        x = 1.0 - x
    while x < 20.0:
        total -= 2.0 / (x * x * x)
        x += 1.0
    inv = 1.0 / (x * x)
    return total - inv - inv / x - inv * inv * (0.5 - inv * (1.0 / 6 - inv * (1.0 / 6 - inv * (0.3 - inv * 5.0 / 6))))


def bessel(kind, v, x):
    """scipy.special's Bessel function `kind` ("jv", "yv", "iv", "ive") of order v at x (Python only)."""
    import scipy.special

    return getattr(scipy.special, kind)(v, x)


def bessel_slope(kind, v, x):
    """The derivative in x of bessel(kind, v, x): (f(v-1) -+ f(v+1)) / 2, and for ive the exponential's."""
    if kind == "iv" or kind == "ive":
        slope = 0.5 * (bessel(kind, v - 1, x) + bessel(kind, v + 1, x))
        return slope - np.sign(x) * bessel(kind, v, x) if kind == "ive" else slope
    return 0.5 * (bessel(kind, v - 1, x) - bessel(kind, v + 1, x))


def _digamma(x):
    """digamma of a float: the recurrence up to x >= 20, then the asymptotic series (1e-15 relative);
    the reflection formula below 0."""
    if x <= 0.0 and x == math.floor(x):
        return math.nan
    total = 0.0
    if x < 0.0:  # digamma(x) = digamma(1 - x) - pi / tan(pi x)
        total = -math.pi / math.tan(math.pi * x)
        x = 1.0 - x
    while x < 20.0:
        total -= 1.0 / x
        x += 1.0
    inv = 1.0 / (x * x)
    return total + math.log(x) - 0.5 / x - inv * (1.0 / 12 - inv * (1.0 / 120 - inv * (1.0 / 252 - inv * (
        1.0 / 240 - inv / 132))))


def _trigamma(x):
    """trigamma of a float, as _digamma."""
    if x <= 0.0 and x == math.floor(x):
        return math.nan
    sign, total = 1.0, 0.0
    if x < 0.0:  # trigamma(x) = -trigamma(1 - x) + (pi / sin(pi x))^2
        s = math.pi / math.sin(math.pi * x)
        sign, total, x = -1.0, -s * s, 1.0 - x
    while x < 20.0:
        total += 1.0 / (x * x)
        x += 1.0
    inv = 1.0 / (x * x)
    series = (1.0 / x) * inv * (1.0 / 6 - inv * (1.0 / 30 - inv * (1.0 / 42 - inv / 30)))
    return sign * (total + 1.0 / x + 0.5 * inv + series)


@facts(shape_only={1}, linear_in_g=True, fresh=True, new_buffer=True)
def undiagonal(g, a, offset=0):
    """The adjoint of np.diagonal(a, offset) (of np.diag of a matrix): g on that diagonal of the first
    two axes, 0 elsewhere."""
    out = np.zeros(a.shape)
    for i in range(g.shape[-1]):
        out[i - min(offset, 0), i + max(offset, 0)] = g[..., i]
    return out


@facts(linear_in_g=True)
def undiag(g, v, k=0):
    """The adjoint of np.diag(v, k): its k-th diagonal for a vector v (np.diag made a matrix), that
    diagonal put back in a matrix for a matrix v (np.diag took the diagonal)."""
    if v.ndim == 1:
        return np.diag(g, k)
    return undiagonal(g, v, k)


@facts(shape_only={1}, linear_in_g=True)
def unrepeat(g, a, repeats, axis=None):
    """The adjoint of np.repeat(a, repeats, axis): each entry's copies summed."""
    if not isinstance(repeats, int):  # (a repeat count per entry: Python only)
        flat = axis is None
        a2, g2 = (np.ravel(a), np.ravel(g)) if flat else (np.swapaxes(a, axis, 0), np.swapaxes(g, axis, 0))
        out = np.zeros(a2.shape)
        np.add.at(out, np.repeat(np.arange(a2.shape[0]), repeats), g2)
        return out.reshape(np.shape(a)) if flat else np.swapaxes(out, axis, 0)
    if repeats == 0:
        return np.zeros(np.shape(a))
    if axis is None:
        return np.sum(np.ascontiguousarray(g).reshape((-1, repeats)), axis=1).reshape(np.shape(a))
    moved = np.moveaxis(g, axis, -1)
    summed = np.sum(moved.reshape(moved.shape[:-1] + (moved.shape[-1] // repeats, repeats)), axis=-1)
    return np.moveaxis(summed, -1, axis)


@facts(shape_only={1}, linear_in_g=True)
def untile(g, a, reps):
    """The adjoint of np.tile(a, reps): the tiles summed (Python only)."""
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    shape = np.shape(a)
    d = max(len(shape), len(reps))
    shape, reps = (1,) * (d - len(shape)) + shape, (1,) * (d - len(reps)) + reps
    split = np.reshape(g, tuple(n for pair in zip(reps, shape) for n in pair))
    return np.sum(split, axis=tuple(range(0, 2 * d, 2))).reshape(np.shape(a))


@facts(linear_in_g=True)
def unroll(g, shift, axis=None):
    """The adjoint of np.roll(a, shift, axis): g rolled back."""
    if axis is None:
        return np.roll(g, -shift)
    return np.roll(g, _negated(shift), axis)  # (Python only: Numba's np.roll takes no axis)


def _negated(shift):
    if isinstance(shift, int):
        return -shift
    return tuple([-s for s in shift])


@facts(linear_in_g=True)
def untranspose(g, axes=None):
    """The adjoint of np.transpose(a, axes): g transposed by the inverse permutation."""
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, tuple(int(k) for k in np.argsort([k % g.ndim for k in axes])))


@facts(shape_only={1}, linear_in_g=True, fresh=True, new_buffer=True)
def untake(g, a, indices, axis=None):
    """The adjoint of np.take(a, indices, axis): g added at the indices taken (repeats add up)."""
    if axis is None:
        out = np.zeros(a.size)
        add_at(out, np.ravel(np.asarray(indices)), np.ravel(g))
        return out.reshape(a.shape)
    out = np.zeros(a.shape)  # (Python only from here)
    k = np.ndim(indices)
    axis = axis % a.ndim
    np.add.at(np.moveaxis(out, axis, 0), np.asarray(indices), np.moveaxis(g, list(range(axis, axis + k)),
                                                                          list(range(k))))
    return out


@facts(shape_only={1}, linear_in_g=True, fresh=True, new_buffer=True)
def untake_along(g, a, indices, axis):
    """The adjoint of np.take_along_axis(a, indices, axis): g added where each entry was taken (under Numba,
    `adjoint.backend.jit` gives it loops)."""
    g = np.asarray(g)  # (g has the shape a and indices broadcast to, but a's length along the axis)
    shape = g.shape[:axis % g.ndim] + (a.shape[axis],) + g.shape[axis % g.ndim + 1:]
    out = np.zeros(shape)
    grid = list(np.ix_(*[np.arange(n) for n in g.shape]))
    grid[axis] = np.broadcast_to(indices, g.shape)
    np.add.at(out, tuple(grid), g)
    return summed_to(out, a.shape)


@facts(linear_in_g=True)
def unsort(g, a, axis=-1):
    """The adjoint of np.sort(a, axis): each entry of g back where its value came from (the stable
    order: among equal values, the derivative goes as np.argsort(kind="stable") orders them)."""
    if axis is None:
        out = np.zeros(a.size)
        out[np.argsort(a.ravel(), kind="mergesort")] = np.ravel(g)
        return out.reshape(a.shape)
    if a.ndim == 1:
        out = np.zeros(a.shape)
        out[np.argsort(a, kind="mergesort")] = g
        return out
    return put_along(g, argsort_axis(a, axis, True), axis)


@facts(shape_only={1}, linear_in_g=True, fresh=True, new_buffer=True)
def unpad(g, a, pad_width):
    """The adjoint of np.pad(a, pad_width) (mode "constant"): the part of g where a sits (Python only)."""
    return np.array(g[tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_pairs(pad_width, np.ndim(a)), np.shape(a)))])


def pad_pairs(pad_width, ndim):
    """np.pad's widths as (before, after) for each of ndim axes: a number, (n,), (before, after) or one pair
    per axis, broadcast as NumPy does."""
    return np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))


def partition_order(a, kth, axis=-1):
    """np.argpartition(a, kth, axis): the order np.partition puts a's entries in (the same selection,
    on indices; Python only: Numba's argpartition is its own)."""
    return np.argpartition(a, kth, axis=axis)


def sort_tangent(a, a_dot, axis=-1):
    """The tangent of np.sort(a, axis): a_dot in the order that sorts a (stable, as unsort)."""
    if axis is None:
        return np.ravel(a_dot)[np.argsort(a.ravel(), kind="mergesort")]
    if a.ndim == 1:
        return a_dot[np.argsort(a, kind="mergesort")]
    return np.take_along_axis(a_dot, argsort_axis(a, axis, True), axis)


def trace(a, offset=0):
    """np.trace(a, offset) over the first two axes (rules/defined.py moves others there first)."""
    return np.trace(a, offset)


def diagonal(a, offset=0):
    """np.diagonal(a, offset) of the first two axes, as a new array (np.diag's for a matrix; Numba has no
    np.diagonal: entry by entry of the diagonal for more dimensions, last as np.diagonal puts it)."""
    if a.ndim == 2:
        return np.diag(a, offset)
    n = max(0, min(a.shape[0] + min(offset, 0), a.shape[1] - max(offset, 0)))
    out = np.empty(a.shape[2:] + (n,))
    for i in range(n):
        out[..., i] = a[i - min(offset, 0), i + max(offset, 0)]
    return out


def pad(array, pad_width, constant_values=0.0):
    """np.pad(array, pad_width, constant_values=...) in mode "constant" (Python only)."""
    return np.pad(array, pad_width, constant_values=constant_values)


def section(a, start, stop, axis=0):
    """a[start:stop] along `axis` (a part np.split gives): a view, as NumPy's."""
    return np.swapaxes(np.swapaxes(a, axis, 0)[start:stop], axis, 0)


@facts(shape_only={1}, linear_in_g=True, fresh=True, new_buffer=True)
def unsection(g, a, start, axis=0):
    """The adjoint of section: g where the part was, 0 elsewhere."""
    out = np.zeros(a.shape)
    np.swapaxes(out, axis, 0)[start:start + g.shape[axis]] = np.swapaxes(g, axis, 0)
    return out


def mT(a):
    """a with its last two axes swapped (a matrix transposed; each matrix of a stack)."""
    return np.swapaxes(a, -1, -2)


def symmetric_of_lower(a):
    """The symmetric matrix whose lower triangle is a's (what eigh and cholesky read of a; lower_of is
    its adjoint)."""
    return np.tril(a) + mT(np.tril(a, -1))


def lower_of(s):
    """The adjoint of reading a symmetric matrix from its lower triangle (np.linalg.eigh, cholesky and
    eigvalsh read only that): s below the diagonal plus its mirror above, s's diagonal, 0 above."""
    return np.tril(s + mT(s), -1) + s * np.eye(s.shape[-1])


@facts(linear_in_g=True)
def det_adjoint(g, a, out):
    """The adjoint of np.linalg.det (out the determinant; 1.0 for slogdet's log|det|): g out a^-T.
    A singular a has no inverse: np.linalg.inv raises LinAlgError there (the derivative, the
    adjugate, exists; adjoint does not compute it yet)."""
    if a.ndim == 2:
        return (g * out) * np.linalg.inv(a).T
    return np.expand_dims(np.expand_dims(g * out, -1), -1) * mT(np.linalg.inv(a))


def det_tangent(a, a_dot, out):
    """The tangent of np.linalg.det: out trace(a^-1 a_dot)."""
    if a.ndim == 2:
        return out * np.trace(np.linalg.solve(a, a_dot))
    return out * np.trace(np.linalg.solve(a, a_dot), axis1=-2, axis2=-1)


def logabsdet(a):
    """log |det a|, np.linalg.slogdet's second result."""
    return np.linalg.slogdet(a)[1]


def det_sign(a):
    """The sign of det a, np.linalg.slogdet's first result (no derivative)."""
    return np.linalg.slogdet(a)[0]


@facts(linear_in_g=True)
def solve_adjoint(g, a, b, out):
    """The adjoint of np.linalg.solve(a, b) with respect to a: -(a^-T g) x^T."""
    y = _solve_transposed(g, a, b)
    if b.ndim == 1:
        return -np.expand_dims(y, -1) * np.expand_dims(out, -2)
    if y.ndim == a.ndim:
        return -(y @ mT(out))
    return summed_to(-(y @ mT(out)), a.shape)  # (a matrix against a stack of b's: summed over the stack)


@facts(linear_in_g=True)
def solve_b_adjoint(g, a, b):
    """The adjoint of np.linalg.solve(a, b) with respect to b: a^-T g, summed over the stack where b
    was broadcast against a stack of matrices."""
    y = _solve_transposed(g, a, b)
    if y.ndim == b.ndim:
        return y
    return summed_to(y, b.shape)


def _solve_transposed(g, a, b):
    """a^-T g, for g of the shape of solve(a, b)."""
    if b.ndim == 1 and a.ndim > 2:  # (b a vector against a stack of matrices: g a stack of vectors)
        return np.linalg.solve(mT(a), np.expand_dims(g, -1))[..., 0]
    return np.linalg.solve(mT(a), g)


def solve_tangent(a, b, out, a_dot, b_dot):
    """The tangent of x = np.linalg.solve(a, b): a^-1 (b_dot - a_dot x); a_dot or b_dot may be 0.0."""
    if isinstance(a_dot, float):
        return np.linalg.solve(a, b_dot)
    if b.ndim == 1:
        change = a_dot @ out if a.ndim == 2 else (a_dot @ np.expand_dims(out, -1))[..., 0]
    else:
        change = a_dot @ out
    if isinstance(b_dot, float):
        return solve_b_tangent(a, b, -change)
    return solve_b_tangent(a, b, b_dot - change)


def solve_b_tangent(a, b, rhs):
    if b.ndim == 1 and a.ndim > 2:
        return np.linalg.solve(a, np.expand_dims(rhs, -1))[..., 0]
    return np.linalg.solve(a, rhs)


def eigh_values(a):
    """np.linalg.eigh(a)[0] (np.linalg.eigvalsh): the eigenvalues, ascending, of the symmetric matrix
    whose lower triangle is a's."""
    return np.linalg.eigh(a)[0]


def eigh_vectors(a):
    """np.linalg.eigh(a)[1]: the eigenvectors, as columns."""
    return np.linalg.eigh(a)[1]


EIGENVALUES_WEIGHED = ("adjoint: np.linalg.eigh's eigenvalues, one by one, have no derivative where they repeat "
                       "and the function weighs them differently (their sum has one)")
EIGENVALUES_APART = ("adjoint: in forward mode, np.linalg.eigh's eigenvalues have no tangent where they repeat "
                     "(use reverse mode, where a function that weighs them alike has a derivative)")
SINGULAR_WEIGHED = ("adjoint: np.linalg.svd's singular values, one by one, have no derivative where they repeat "
                    "and the function weighs them differently (their sum has one)")
SINGULAR_APART = ("adjoint: in forward mode, np.linalg.svd's singular values have no tangent where they repeat "
                  "(use reverse mode, where a function that weighs them alike has a derivative)")


def eigh_upper(a):
    """np.linalg.eigh(a, UPLO="U"): the eigenpairs of the symmetric matrix whose upper triangle is a's
    (Python only: Numba's eigh reads the lower one; LAPACK's results for the two differ in their last
    bits and in the eigenvectors' signs, so the upper one is not the lower one of a's transpose)."""
    return np.linalg.eigh(a, UPLO="U")


def eigh_values_upper(a):
    return eigh_upper(a)[0]


def eigh_vectors_upper(a):
    return eigh_upper(a)[1]


def upper_of(s):
    """The adjoint of reading a symmetric matrix from its upper triangle (eigh with UPLO="U")."""
    return mT(lower_of(mT(s)))


def _values_cotangent(g, v):
    """The symmetric matrix cotangent of eigenvalues with cotangent g: v diag(g) v^T."""
    return (v * np.expand_dims(g, -2)) @ mT(v)


def _vectors_cotangent(g, w, v):
    """The symmetric matrix cotangent of eigenvectors v with cotangent g: v (F o v^T g) v^T, F_ij =
    1 / (w_j - w_i) (the standard formula; undefined at repeated eigenvalues: _eigen_gaps)."""
    return v @ (_eigen_gaps(w) * (mT(v) @ g)) @ mT(v)


def _values_tangent(v, m):
    """The tangent of the eigenvalues for the symmetric direction m: the diagonal of v^T m v."""
    return np.sum(v * (m @ v), axis=-2)


def _vectors_tangent(w, v, m):
    """The tangent of the eigenvectors for the symmetric direction m: v (F o v^T m v)."""
    return v @ (_eigen_gaps(w) * (mT(v) @ m @ v))


@facts(linear_in_g=True)
def eigh_values_adjoint(g, a):
    """The adjoint of eigh_values, read back into a's lower triangle."""
    w, v = np.linalg.eigh(a)
    return lower_of(_values_cotangent(_weighed_alike(w, g, EIGENVALUES_WEIGHED), v))


@facts(linear_in_g=True)
def eigh_values_upper_adjoint(g, a):
    w, v = eigh_upper(a)
    return upper_of(_values_cotangent(_weighed_alike(w, g, EIGENVALUES_WEIGHED), v))


def _eigen_gaps(w):
    """1 / (w_j - w_i) off the diagonal, 0 on it; a ValueError where two eigenvalues are equal, where
    the eigenvectors have no derivative (any basis of the eigenspace is one)."""
    _apart(w, "adjoint: np.linalg.eigh's eigenvectors have no derivative where eigenvalues repeat")
    return (1.0 - np.eye(w.shape[-1])) / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + np.eye(w.shape[-1]))


def _weighed_alike(w, g, what):
    """g, the cotangent of eigenvalues or singular values w, after checking that values equal within
    _negligible get equal cotangents (then any basis of their space gives one adjoint; else the values,
    taken one by one, have no derivative there: a ValueError)."""
    unlike = np.abs(np.expand_dims(g, -2) - np.expand_dims(g, -1)) > 1e-8 * np.max(np.abs(g))
    if np.any(_close(w) & unlike):
        raise ValueError(what)
    return g


def _apart(w, what):
    """w, eigenvalues or singular values, after checking that no two are equal within _negligible: their
    tangents, one by one, depend on the basis LAPACK picks of a repeated one's space (a ValueError)."""
    if np.any(_close(w) & (np.eye(w.shape[-1]) == 0.0)):
        raise ValueError(what)
    return w


def _close(w):
    """Which pairs of w (eigenvalues or singular values) are equal within _negligible: w_i, w_j at [i, j]."""
    return np.abs(np.expand_dims(w, -2) - np.expand_dims(w, -1)) <= _negligible(w)


@facts(linear_in_g=True)
def eigh_vectors_adjoint(g, a):
    """The adjoint of eigh_vectors, read back into a's lower triangle."""
    w, v = np.linalg.eigh(a)
    return lower_of(_vectors_cotangent(g, w, v))


@facts(linear_in_g=True)
def eigh_vectors_upper_adjoint(g, a):
    w, v = eigh_upper(a)
    return upper_of(_vectors_cotangent(g, w, v))


def eigh_values_tangent(a, a_dot):
    """The tangent of eigh_values, m the symmetric matrix of a_dot's lower triangle."""
    w, v = np.linalg.eigh(a)
    _apart(w, EIGENVALUES_APART)
    return _values_tangent(v, symmetric_of_lower(a_dot))


def eigh_values_upper_tangent(a, a_dot):
    w, v = eigh_upper(a)
    _apart(w, EIGENVALUES_APART)
    return _values_tangent(v, symmetric_of_lower(mT(a_dot)))


def eigh_vectors_tangent(a, a_dot):
    w, v = np.linalg.eigh(a)
    return _vectors_tangent(w, v, symmetric_of_lower(a_dot))


def eigh_vectors_upper_tangent(a, a_dot):
    w, v = eigh_upper(a)
    return _vectors_tangent(w, v, symmetric_of_lower(mT(a_dot)))


def _thin_svd(a, full):
    """np.linalg.svd(a, full_matrices=False); a ValueError where full_matrices=True would differ (a
    matrix that is not square), whose extra singular vectors have no derivative."""
    if full and a.shape[-1] != a.shape[-2]:
        raise ValueError("adjoint: np.linalg.svd of a matrix that is not square has derivatives with "
                         "full_matrices=False only")
    return np.linalg.svd(a, full_matrices=False)


def svd_u(a, full=True):
    """np.linalg.svd(a)[0]."""
    return _thin_svd(a, full)[0]


def svd_s(a):
    """np.linalg.svd(a)[1] (np.linalg.svd(a, compute_uv=False)): the singular values, descending."""
    return np.linalg.svd(a, full_matrices=False)[1]  # (Numba's svd has no compute_uv)


def svd_vh(a, full=True):
    """np.linalg.svd(a)[2]."""
    return _thin_svd(a, full)[2]


def full_rank(s, cutoff=1e-15):
    """s, the singular values of a matrix, after checking that none is below cutoff times the largest
    (np.linalg.pinv's 1e-15, lstsq's rcond), where pinv and lstsq drop it and their value and derivative
    jump: a ValueError there."""
    if np.any(s <= cutoff * np.max(s)):
        raise ValueError("adjoint: np.linalg.pinv or lstsq of a matrix without full rank has no derivative")
    return s


def _svd_gaps(s):
    """1 / (s_j^2 - s_i^2) off the diagonal, 0 on it; a ValueError where two singular values are equal
    (or one is 0), where the singular vectors have no derivative."""
    squares = s * s
    gaps = np.expand_dims(squares, -2) - np.expand_dims(squares, -1)
    off = 1.0 - np.eye(s.shape[-1])
    tiny = _negligible(s)
    if np.any((np.abs(gaps) <= tiny * np.max(s)) & (off > 0.0)) or np.any(s <= tiny):
        raise ValueError("adjoint: np.linalg.svd's singular vectors have no derivative where singular values "
                         "repeat or are 0")
    return off / (gaps + np.eye(s.shape[-1]))


@facts(linear_in_g=True)
def svd_s_adjoint(g, a):
    """The adjoint of svd_s: u diag(g) vh."""
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return (u * np.expand_dims(_weighed_alike(s, g, SINGULAR_WEIGHED), -2)) @ vh


@facts(linear_in_g=True)
def svd_u_adjoint(g, a, full=True):
    """The adjoint of svd_u (Townsend 2016): u (F o (u^T g - g^T u)) s v^T + (I - u u^T) g s^-1 v^T."""
    u, s, vh = _thin_svd(a, full)
    f = _svd_gaps(s)
    inner = mT(u) @ g
    core = (f * (inner - mT(inner))) * np.expand_dims(s, -2)
    outside = g - u @ inner
    return u @ core @ vh + (outside / np.expand_dims(s, -2)) @ vh


@facts(linear_in_g=True)
def svd_vh_adjoint(g, a, full=True):
    """The adjoint of svd_vh: u s (F o (v^T gv - gv^T v)) v^T + u s^-1 gv^T (I - v v^T), gv = g^T."""
    u, s, vh = _thin_svd(a, full)
    f = _svd_gaps(s)
    inner = vh @ mT(g)  # v^T gv
    core = np.expand_dims(s, -1) * (f * (inner - mT(inner)))
    outside = g - (g @ mT(vh)) @ vh  # gv^T (I - v v^T)
    return u @ core @ vh + u @ (outside / np.expand_dims(s, -1))


def svd_tangents(a, a_dot, full=True):
    """(u_dot, s_dot, vh_dot) of the thin SVD at a in the direction a_dot."""
    u, s, vh = _thin_svd(a, full)
    v = mT(vh)
    dp = mT(u) @ a_dot @ v
    s_dot = np.sum(dp * np.eye(s.shape[-1]), axis=-1)
    f = _svd_gaps(s)
    sr, sc = np.expand_dims(s, -2), np.expand_dims(s, -1)  # (s along rows: times columns j; along columns)
    u_dot = u @ (f * (dp * sr + sc * mT(dp))) + (a_dot @ v - u @ dp) / sr
    v_dot = v @ (f * (sc * dp + mT(dp) * sr)) + (mT(a_dot) @ u - v @ mT(dp)) / sr
    return u_dot, s_dot, mT(v_dot)


def svd_u_tangent(a, a_dot, full=True):
    return svd_tangents(a, a_dot, full)[0]


def svd_s_tangent(a, a_dot):
    """The tangent of svd_s: the diagonal of u^T a_dot v."""
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    _apart(s, SINGULAR_APART)
    return np.sum((mT(u) @ a_dot) * vh, axis=-1)


def svd_vh_tangent(a, a_dot, full=True):
    return svd_tangents(a, a_dot, full)[2]


def _qr(a, complete=False):
    """np.linalg.qr(a) (the reduced factors); a ValueError where mode="complete" would differ (a tall
    matrix, whose extra columns of Q have no derivative) or where R has a 0 on its diagonal (a matrix
    without full rank: Q is not unique there and R^-1, which the derivative needs, does not exist)."""
    if complete and a.shape[-2] > a.shape[-1]:
        raise ValueError("adjoint: np.linalg.qr(a, mode='complete') of a tall matrix has derivatives with "
                         "mode='reduced' only")
    q, r = np.linalg.qr(a)
    k = min(a.shape[-2], a.shape[-1])
    diagonal = np.abs(np.sum(r[..., :k] * np.eye(k), axis=-1))
    if np.any(diagonal <= _negligible(diagonal)):
        raise ValueError("adjoint: np.linalg.qr of a matrix without full rank has no derivative")
    return q, r


def _negligible(values):
    """1e-10 of the largest of values: a gap between eigenvalues or singular values, or a pivot of R,
    no larger counts as 0. LAPACK computes them to about 1e-16 of the largest, so a derivative that
    divides by one this small keeps at most 6 digits (at an exact repeat or rank loss, it would be
    noise of size 1e14 and more), and adjoint refuses it there."""
    return 1e-10 * np.max(np.abs(values))


def qr_q(a, complete=False):
    """np.linalg.qr(a)[0]."""
    return _qr(a, complete)[0]


def qr_r(a, complete=False):
    """np.linalg.qr(a)[1]."""
    return _qr(a, complete)[1]


def _qr_tall_adjoint(gq, gr, q, r):
    """The adjoint of the QR factors of a matrix with at least as many rows as columns:
    (gq + q copyutl(B)) r^-T, B = gr r^T - q^T gq, copyutl(B) = triu(B) + tril(B^T, -1) (the transpose
    of qr_tangents' map from x = q^T a_dot r^-1 to the upper u = triu(x) + tril(x, -1)^T)."""
    b = gr @ mT(r) - mT(q) @ gq
    return mT(np.linalg.solve(r, mT(gq + q @ (np.triu(b) + np.tril(mT(b), -1)))))


def _qr_adjoint(gq, gr, a):
    """The adjoint of np.linalg.qr(a) for the cotangents gq of Q and gr of R. A wide a = [x | y] has
    q, u = qr(x) and R = [u | q^T y]: the square part's adjoint with gq + y gv^T, and q gv for y."""
    q, r = _qr(a)
    m = a.shape[-2]
    if m >= a.shape[-1]:
        return _qr_tall_adjoint(gq, gr, q, r)
    gv = gr[..., m:]
    gx = _qr_tall_adjoint(gq + a[..., m:] @ mT(gv), gr[..., :m], q, r[..., :m])
    return np.concatenate((gx, q @ gv), axis=a.ndim - 1)


@facts(linear_in_g=True)
def qr_q_adjoint(g, a):
    """The adjoint of qr_q."""
    return _qr_adjoint(g, np.zeros(_qr(a)[1].shape), a)


@facts(linear_in_g=True)
def qr_r_adjoint(g, a):
    """The adjoint of qr_r."""
    return _qr_adjoint(np.zeros(_qr(a)[0].shape), g, a)


def _qr_tall_tangents(q, r, a_dot):
    """(q_dot, r_dot) of a matrix with at least as many rows as columns: x = q^T a_dot r^-1 is a skew
    part q^T q_dot and an upper part r_dot r^-1, so u = triu(x) + tril(x, -1)^T is r_dot r^-1."""
    x = mT(np.linalg.solve(mT(r), mT(a_dot) @ q))
    u = np.triu(x) + mT(np.tril(x, -1))
    return mT(np.linalg.solve(mT(r), mT(a_dot))) - q @ u, u @ r


def qr_tangents(a, a_dot):
    """(q_dot, r_dot) of np.linalg.qr at a in the direction a_dot."""
    q, r = _qr(a)
    m = a.shape[-2]
    if m >= a.shape[-1]:
        return _qr_tall_tangents(q, r, a_dot)
    q_dot, u_dot = _qr_tall_tangents(q, r[..., :m], a_dot[..., :m])
    v_dot = mT(q_dot) @ a[..., m:] + mT(q) @ a_dot[..., m:]
    return q_dot, np.concatenate((u_dot, v_dot), axis=a.ndim - 1)


def qr_q_tangent(a, a_dot):
    return qr_tangents(a, a_dot)[0]


def qr_r_tangent(a, a_dot):
    return qr_tangents(a, a_dot)[1]


def _below_half(x):
    """x's lower triangle with its diagonal halved (the Phi of the Cholesky factor's derivative)."""
    return np.tril(x) - 0.5 * x * np.eye(x.shape[-1])


@facts(linear_in_g=True)
def cholesky_adjoint(g, out):
    """The adjoint of np.linalg.cholesky (out = L, a = L L^T read from its lower triangle):
    L^-T Phi(L^T g) L^-1 read back into the lower triangle (Murray 2016)."""
    inner = _below_half(mT(out) @ g)
    return lower_of(np.linalg.solve(mT(out), mT(np.linalg.solve(mT(out), mT(inner)))))


def cholesky_tangent(out, a_dot):
    """The tangent of np.linalg.cholesky: L Phi(L^-1 m L^-T), m the symmetric matrix of a_dot's lower triangle."""
    m = symmetric_of_lower(a_dot)
    left = np.linalg.solve(out, m)  # L^-1 m
    return out @ _below_half(mT(np.linalg.solve(out, mT(left))))


HELPERS = (
    zeros_like, plus_zeros, unsum, unsum_to, unmean, unvar, unstd, unmax, unmax_axis, unprod, uncumsum, undiff,
    _as_rows, _as_cols, _as_grid, matmul_left_2d, matmul_right_2d, outer_left, outer_right, untrace,
    reshape_like, concat_part, _stack_piece, trip_count, segment_length, value_bytes, tape_bytes, schedule, restore, push_shape, pop_shape, reserved, saved, add_into,
    unit, reduce_tangent, _flat, _pow_base, log_base, norm_slope, sinc_slope, sinc_curve, numbers, rows_of,
    fits, enlarged, leading, norm, norm_axis, unnorm, _digamma, _trigamma, mT, symmetric_of_lower, lower_of,
    det_adjoint, det_tangent,
    logabsdet, det_sign, solve_tangent, solve_b_tangent, eigh_values, eigh_vectors,
    eigh_values_adjoint, _eigen_gaps, eigh_vectors_adjoint, eigh_values_tangent, eigh_vectors_tangent, _below_half,
    eigh_upper, eigh_values_upper, eigh_vectors_upper, upper_of, _values_cotangent, _vectors_cotangent,
    _values_tangent, _vectors_tangent, eigh_values_upper_adjoint, eigh_vectors_upper_adjoint,
    eigh_values_upper_tangent, eigh_vectors_upper_tangent,
    cholesky_adjoint, cholesky_tangent, undiagonal, undiag, unrepeat, untile, unroll, untranspose, untake,
    unsort, unpad, partition_order, sort_tangent, trace, diagonal, pad, _erfinv, gammainc, gammaincc, betainc,
    bessel, bessel_slope, _gammasgn, _tetragamma, _thin_svd, svd_u, svd_s, svd_vh, full_rank, diff, section,
    unsection, _svd_gaps, svd_s_adjoint,
    svd_u_adjoint, svd_vh_adjoint, svd_tangents, svd_u_tangent, svd_s_tangent, svd_vh_tangent,
    _qr, _negligible, _weighed_alike, _apart, _close, qr_q, qr_r, _qr_tall_adjoint, _qr_adjoint, qr_q_adjoint, qr_r_adjoint, _qr_tall_tangents,
    qr_tangents, qr_q_tangent, qr_r_tangent,
)
EXPORTED = tuple(f.__name__ for f in HELPERS if not f.__name__.startswith("_")) + (
    "unbroadcast", "summed_to", "add_at", "kept_writes", "add_outer", "sum_axis", "matmul_left", "matmul_right",
    "dot_left", "dot_right", "spread", "logistic", "pow_base", "times", "stack_part", "max_axis", "min_axis",
    "mean_axis", "var_axis", "std_axis", "prod_axis", "matmul_stacked", "inv_stacked", "sort_axis", "argsort_axis",
    "put_along", "untake_along", "erf", "erfc", "gammaln", "digamma", "trigamma", "erfinv", "gammasgn", "tetragamma",
    "solve_adjoint", "solve_b_adjoint", "betaln", "compiled", "floats", "reals")
