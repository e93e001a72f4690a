"""Everything that touches Numba: registering the runtime helpers and compiling generated code.

This is the only module that imports Numba.
"""

import ast
import inspect
import linecache
import math
import os
import pickle
import re
import shutil
import sys
import tempfile
import textwrap
import traceback
import types
import warnings

import numba
import numpy as np
from numba import types as nbtypes
from numba.core.caching import NullCache
from numba.extending import overload, register_jitable
from numba.np.unsafe.ndarray import to_fixed_tuple

from .. import runtime
from ..errors import JitError
from . import cache, emit

# (Numba's advice that `@` is faster on contiguous arrays, about the slices and transposes adjoint's
# linear-algebra helpers multiply: not the user's to act on, so not shown for generated modules)
warnings.filterwarnings("ignore", category=numba.NumbaPerformanceWarning, module=r".*adjoint_\w*_[0-9a-f]{16}\Z")

# cache=True: each helper is compiled once per machine and argument types (Numba keeps it beside
# runtime.py), not again in every process whose generated code calls it. Cached code must not call
# functions of another file, whose changes Numba would not see: the runtime helpers call only each
# other, and _summed_to below calls nothing.
for _helper in runtime.HELPERS:
    if _helper is not runtime.saved:
        register_jitable(cache=True)(_helper)


@overload(runtime.saved, jit_options={"cache": True})
def _saved(element):
    """runtime.saved under Numba, which has no order="K": a number itself, else a copy."""
    if isinstance(element, (nbtypes.Float, nbtypes.Integer, nbtypes.Boolean)):
        return lambda element: element
    return lambda element: element.copy()


@overload(runtime.unbroadcast)
def _unbroadcast(g, x):
    """runtime.unbroadcast, chosen by type, so Numba compiles only the branch that runs."""
    if isinstance(x, (nbtypes.Float, nbtypes.Integer)):
        if isinstance(g, nbtypes.Float):
            return lambda g, x: g
        return lambda g, x: np.sum(g)
    if isinstance(g, nbtypes.Float):
        return lambda g, x: np.full(x.shape, g)
    return lambda g, x: runtime.summed_to(g, x.shape)


@overload(runtime.summed_to, jit_options={"cache": True})
def _summed_to_overload(g, shape):
    if isinstance(g, nbtypes.Array) and g.layout == "C" and isinstance(shape, nbtypes.BaseTuple) \
            and len(shape) == g.ndim:
        def same_or_summed(g, shape):  # g itself, with no new array object, when nothing is summed
            if g.shape == shape:
                return g
            return _summed_to(g, shape)
        return same_or_summed
    return _summed_to


@register_jitable(cache=True)
def _summed_to(g, shape):
    """runtime.summed_to as loops: Numba compiles np.sum with an axis (and its error messages) slowly.
    No copy when nothing is summed and g is contiguous."""
    flat = np.ascontiguousarray(g).ravel()
    lead = g.ndim - len(shape)
    before = 1  # entries before axis k, once the axes before it are summed
    for k in range(g.ndim):
        n = g.shape[k]
        if n != 1 and (k < lead or shape[k - lead] == 1):
            after = 1
            for j in range(k + 1, g.ndim):
                after *= g.shape[j]
            summed = np.zeros(before * after)
            for i in range(before):
                for j in range(n):
                    start = (i * n + j) * after
                    for m in range(after):
                        summed[i * after + m] += flat[start + m]
            flat = summed
        else:
            before *= n
    return flat.reshape(shape)


@overload(runtime.spread)
def _spread(d, out):
    """runtime.spread, chosen by type: no copy when d already has out's shape."""
    if isinstance(out, nbtypes.Float):
        return lambda d, out: d
    if isinstance(d, nbtypes.Float):
        return lambda d, out: np.full(out.shape, d)
    if d.ndim == out.ndim and d.layout == "C":
        def same_rank(d, out):
            if d.shape == out.shape:
                return d
            return np.ascontiguousarray(np.broadcast_to(d, out.shape))
        return same_rank
    return lambda d, out: np.ascontiguousarray(np.broadcast_to(d, out.shape))


def _stacked_pair(a, b):
    """Whether a @ b is of a stack of float matrices (3 dimensions) and a matrix or another such stack."""
    return all(isinstance(x, nbtypes.Array) and x.ndim in (2, 3) and isinstance(x.dtype, nbtypes.Float)
               for x in (a, b)) and 3 in (a.ndim, b.ndim)


def _stack_loop(a3, b3, how):
    """A loop over the stack of a @ b ("product"), of its adjoint for a ("left") or for b ("right"): each
    matrix of a stack, or the one matrix, against each (a stack of 1 broadcast); an adjoint for a matrix
    that the stack broadcast sums over the stack."""
    @register_jitable
    def loop(g, a, b):
        na, nb = (a.shape[0] if a3 else 1), (b.shape[0] if b3 else 1)
        n = max(na, nb)
        if na != nb and na != 1 and nb != 1:
            raise ValueError("matmul: the stacks of matrices do not broadcast")
        if how == "product":
            out = np.empty((n, a.shape[-2], b.shape[-1]))
        elif how == "left":
            out = np.zeros((na,) + a.shape[-2:])
        else:
            out = np.zeros((nb,) + b.shape[-2:])
        for i in range(n):
            ai = np.ascontiguousarray(a[i if na > 1 else 0]) if a3 else np.ascontiguousarray(a)
            bi = np.ascontiguousarray(b[i if nb > 1 else 0]) if b3 else np.ascontiguousarray(b)
            if how == "product":
                out[i] = ai @ bi
            elif how == "left":
                out[i if na > 1 else 0] += np.ascontiguousarray(g[i]) @ bi.T
            else:
                out[i if nb > 1 else 0] += ai.T @ np.ascontiguousarray(g[i])
        return out
    return loop


@overload(runtime.inv_stacked, jit_options={"cache": True})
def _inv_stacked(a):
    if not (isinstance(a, nbtypes.Array) and a.ndim == 3 and isinstance(a.dtype, nbtypes.Float)):
        return None

    def loop(a):
        out = np.empty(a.shape)
        for i in range(a.shape[0]):
            out[i] = np.linalg.inv(np.ascontiguousarray(a[i]))
        return out
    return loop


@overload(runtime.matmul_stacked, jit_options={"cache": True})
def _matmul_stacked(a, b):
    if not _stacked_pair(a, b):
        return None
    loop = _stack_loop(a.ndim == 3, b.ndim == 3, "product")
    return lambda a, b: loop(a, a, b)


@overload(runtime.matmul_left)
def _matmul_left(g, a, b):
    if _stacked_pair(a, b):
        loop = _stack_loop(a.ndim == 3, b.ndim == 3, "left")
        if a.ndim == 3:
            return lambda g, a, b: loop(g, a, b)
        return lambda g, a, b: loop(g, a, b)[0]
    return lambda g, a, b: runtime.matmul_left_2d(g, a, b)


@overload(runtime.matmul_right)
def _matmul_right(g, a, b):
    if _stacked_pair(a, b):
        loop = _stack_loop(a.ndim == 3, b.ndim == 3, "right")
        if b.ndim == 3:
            return lambda g, a, b: loop(g, a, b)
        return lambda g, a, b: loop(g, a, b)[0]
    return lambda g, a, b: runtime.matmul_right_2d(g, a, b)


@overload(runtime.stack_part)
def _stack_part(g, k, axis=0):
    """runtime.stack_part, chosen by g's number of dimensions (a number for a vector)."""
    if g.ndim == 1:
        return lambda g, k, axis=0: g[k]
    return lambda g, k, axis=0: runtime._stack_piece(g, k, axis)


@overload(runtime.zeros_like, jit_options={"cache": True})
def _zeros_like(x):
    """runtime.zeros_like, by type (Numba takes no `x is None` of an array)."""
    if isinstance(x, nbtypes.Array):
        return lambda x: np.zeros(x.shape)
    return lambda x: 0.0


def _row_type(t):
    """runtime._row_type of a value of Numba type t."""
    t = t.dtype if isinstance(t, nbtypes.Array) else t
    return np.bool_ if isinstance(t, nbtypes.Boolean) else np.int64 if isinstance(t, nbtypes.Integer) else \
        np.complex128 if isinstance(t, nbtypes.Complex) else np.float64


@overload(runtime.rows_of)
def _rows_of(first, n):
    kind = _row_type(first)
    return lambda first, n: np.zeros((n,) + np.shape(first), kind)


@overload(runtime.enlarged)
def _enlarged(rows, item, size):
    kind = _row_type(item)

    def enlarged(rows, item, size):
        out = np.zeros((size,) + np.shape(item), kind)
        if rows.shape[0] > 0:
            out[:rows.shape[0]] = rows
        return out
    return enlarged


@overload(runtime.fits)
def _fits(rows, item):
    kept = runtime._keeps(np.dtype(_row_type(rows)).kind, np.dtype(_row_type(item)).kind)
    return lambda rows, item: kept and rows.shape[1:] == np.shape(item)


@overload(runtime.floats)
def _floats(*values):
    known = all(isinstance(t, nbtypes.Array) and t.dtype == nbtypes.float64 or t == nbtypes.float64 for t in values)
    return lambda *values: known


@overload(runtime.reals)
def _reals(*values):
    known = all(isinstance(t, (nbtypes.Boolean, nbtypes.Integer, nbtypes.Float)) for t in values)
    return lambda *values: known


@overload(runtime.times)
def _times(g, d):
    """runtime.times: a test for numbers; for arrays, the product, whose entries are put right only where
    one is nan (0 * inf or 0 * nan where g is 0; elsewhere 0 * d is 0 already) by a loop, as np.where
    with broadcasting takes Numba seconds to compile (a quarter of a softmax's adjoint's compile)."""
    number_types = (nbtypes.Float, nbtypes.Integer)
    if isinstance(g, number_types) and isinstance(d, number_types):
        def number(g, d):
            if g == 0:
                return 0.0
            return g * d
        return number
    if isinstance(g, number_types):
        def scaled(g, d):
            product = g * d
            if g == 0:
                product[...] = 0.0
            return product
        return scaled

    def arrays(g, d):
        product = g * d  # (a new C-order array)
        flat = product.reshape(product.size)
        for i in range(flat.size):
            if flat[i] != flat[i]:
                gs = np.ascontiguousarray(np.broadcast_to(g, product.shape)).reshape(product.size)
                for j in range(i, flat.size):
                    if gs[j] == 0:
                        flat[j] = 0.0
                break
        return product
    return arrays


@overload(runtime.kept_writes)
def _kept_writes(a, index):
    """runtime.kept_writes in nopython mode: True for an index that picks one entry, else the mask."""
    if isinstance(index, nbtypes.Integer) or (isinstance(index, nbtypes.BaseTuple) and len(index) == a.ndim
                                              and all(isinstance(t, nbtypes.Integer) for t in index)):
        return lambda a, index: True

    def mask(a, index):
        picked = a[index]
        ids = np.arange(picked.size).reshape(picked.shape)
        last = np.full(a.shape, -1)
        last[index] = ids
        return last[index] == ids
    return mask


def _vectors_or_matrices(*types):
    return all(isinstance(t, nbtypes.Array) and t.ndim <= 2 for t in types)


@overload(runtime.dot_left)
def _dot_left(g, a, b):
    """runtime.dot_left where Numba's np.dot runs (vectors and matrices, where it is a @ b); for
    other operands the primal np.dot does not compile either, and neither does this."""
    if _vectors_or_matrices(a, b):
        return lambda g, a, b: runtime.matmul_left_2d(g, a, b)
    return None


@overload(runtime.dot_right)
def _dot_right(g, a, b):
    if _vectors_or_matrices(a, b):
        return lambda g, a, b: runtime.matmul_right_2d(g, a, b)
    return None


@overload(runtime.pow_base)
def _pow_base(a, b):
    """runtime.pow_base, chosen by type: an array with one exponent is a itself where it is not 0
    (as C-contiguous, the layout of the copy made where it is 0)."""
    if isinstance(a, nbtypes.Array) and isinstance(b, (nbtypes.Number, nbtypes.Boolean)):
        def one_exponent(a, b):
            if b != 0:
                return np.ascontiguousarray(a)
            return np.where(a == 0, 1.0, a)
        return one_exponent
    return lambda a, b: runtime._pow_base(a, b)


@overload(runtime.add_at)
def _add_at(a, index, g):
    """runtime.add_at in nopython mode: a loop for a 1-d integer-array index, plain += otherwise."""
    def int_array(t):
        return isinstance(t, nbtypes.Array) and isinstance(t.dtype, nbtypes.Integer)

    if int_array(index) and index.ndim == 1:
        def loop(a, index, g):
            for k in range(index.shape[0]):
                a[index[k]] += g[k]
        return loop
    if isinstance(index, nbtypes.BaseTuple):
        arrays = [k for k, t in enumerate(index) if int_array(t)]
        if len(arrays) == 1 and index[arrays[0]].ndim == 1 and all(
                isinstance(t, (nbtypes.Integer, nbtypes.SliceType, nbtypes.NoneType)) or int_array(t) for t in index):
            return _add_at_one_array(index, arrays[0])
        if arrays:
            return None  # another advanced-index shape: no implementation, so Numba refuses it
    if int_array(index):
        return None

    def plain(a, index, g):
        a[index] += g
    return plain



_SLAB = {0: lambda g, k: g[k], 1: lambda g, k: g[:, k], 2: lambda g, k: g[:, :, k], 3: lambda g, k: g[:, :, :, k]}
_PICK = {0: lambda t: t[0], 1: lambda t: t[1], 2: lambda t: t[2], 3: lambda t: t[3], 4: lambda t: t[4]}
_PUT = {0: lambda t, v: (v,) + t[1:], 1: lambda t, v: t[:1] + (v,) + t[2:], 2: lambda t, v: t[:2] + (v,) + t[3:],
        3: lambda t, v: t[:3] + (v,) + t[4:], 4: lambda t, v: t[:4] + (v,) + t[5:]}  # (static slices: literal p)


def _add_at_one_array(index, p):
    """add_at for a tuple index of ints, slices and None with one 1-d integer array, at position p: a loop over
    the array's entries, each adding its slab of g. NumPy puts the array's axis of a[index] where the advanced
    indices (the array and the ints) are, if they are adjacent, else first."""
    advanced = [k for k, t in enumerate(index) if not isinstance(t, (nbtypes.SliceType, nbtypes.NoneType))]
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
    lead = sum(1 for t in index[:advanced[0]] if isinstance(t, (nbtypes.SliceType, nbtypes.NoneType))) \
        if adjacent else 0
    if lead not in _SLAB or p not in _PICK:
        return None
    slab, pick, put = register_jitable(_SLAB[lead]), register_jitable(_PICK[p]), register_jitable(_PUT[p])

    def loop(a, index, g):
        entries = pick(index)
        for k in range(entries.shape[0]):
            a[put(index, entries[k])] += slab(g, k)
    return loop


@overload(runtime.sum_axis, jit_options={"cache": True})
def _sum_axis(a, axis):
    """runtime.sum_axis as loops, for a float matrix or array of more dimensions (anything else: np.sum itself)."""
    if isinstance(a, nbtypes.Array) and a.ndim > 2 and isinstance(a.dtype, nbtypes.Float):
        return _nd_reduction("sum", a.ndim)
    if not (isinstance(a, nbtypes.Array) and a.ndim == 2 and isinstance(a.dtype, nbtypes.Float)):
        return lambda a, axis: np.sum(a, axis=axis)

    def loops(a, axis):
        rows, cols = a.shape
        if axis == 0 or axis == -2:
            out = np.zeros(cols)
            for i in range(rows):
                for j in range(cols):
                    out[j] += a[i, j]
            return out
        if axis == 1 or axis == -1:
            out = np.zeros(rows)
            for i in range(rows):
                total = 0.0
                for j in range(cols):
                    total += a[i, j]
                out[i] = total
            return out
        raise ValueError("sum_axis: the axis of a matrix is 0, 1, -1 or -2")
    return loops


def _nd_reduction(how, ndim):
    """max_axis, min_axis, mean_axis or sum_axis of a float array of ndim > 2: the array seen as
    (before, along, after) and reduced along the middle."""
    shape = _without_axis(ndim)

    def loops(a, axis):
        m, ax = _along(a, axis)
        before, n, after = m.shape
        if n == 0 and (how == "max" or how == "min"):
            raise ValueError("zero-size array to reduction operation which has no identity")
        out = np.zeros((before, after)) if how == "mean" or how == "sum" else m[:, 0, :].copy()
        for i in range(before):
            for j in range(n):
                for k in range(after):
                    v = m[i, j, k]
                    if how == "max":
                        if v > out[i, k] or v != v:
                            out[i, k] = v
                    elif how == "min":
                        if v < out[i, k] or v != v:
                            out[i, k] = v
                    else:
                        out[i, k] += v
        if how == "mean":
            out /= n
        return out.reshape(shape(a, ax))
    return loops


def _matrix_reduction(how):
    """The Numba form of runtime.max_axis, min_axis or mean_axis: loops over a float matrix, or over
    an array of more dimensions (_nd_reduction); for anything else, none: Numba's own error says
    what it lacks."""
    def typed(a, axis):
        if isinstance(a, nbtypes.Array) and a.ndim > 2 and isinstance(a.dtype, nbtypes.Float):
            return _nd_reduction(how, a.ndim)
        if not (isinstance(a, nbtypes.Array) and a.ndim == 2 and isinstance(a.dtype, nbtypes.Float)):
            return None

        def loops(a, axis):
            rows, cols = a.shape
            if axis not in (0, 1, -1, -2):
                raise ValueError("the axis of a matrix is 0, 1, -1 or -2")
            by_row = axis == 1 or axis == -1  # one result per row
            n_out, n_in = (rows, cols) if by_row else (cols, rows)
            if n_in == 0 and how != "mean":
                raise ValueError("zero-size array to reduction operation which has no identity")
            out = np.empty(n_out)
            for i in range(n_out):
                out[i] = a[i, 0] if by_row else a[0, i]
            if how == "mean":
                out[:] = 0.0
            for r in range(rows):
                for c in range(cols):
                    o, v = (r, a[r, c]) if by_row else (c, a[r, c])
                    if how == "max":
                        if v > out[o] or v != v:
                            out[o] = v
                    elif how == "min":
                        if v < out[o] or v != v:
                            out[o] = v
                    else:
                        out[o] += v
            if how == "mean":
                out /= n_in
            return out
        return loops
    return typed


for _how in ("max", "min", "mean"):
    overload(getattr(runtime, f"{_how}_axis"), jit_options={"cache": True})(_matrix_reduction(_how))


@register_jitable(cache=True)
def _along(a, axis):
    """a (contiguous) seen as (before, along, after) around one axis, and that axis made positive."""
    ax = axis % a.ndim
    c = np.ascontiguousarray(a)
    before, after = 1, 1
    for k in range(ax):
        before *= c.shape[k]
    for k in range(ax + 1, a.ndim):
        after *= c.shape[k]
    return c.reshape((before, c.shape[ax], after)), ax


def _without_axis(ndim):
    """A jitable that gives an array's shape without one axis, as a tuple of ndim - 1."""
    kept = ndim - 1

    @register_jitable
    def shape(a, ax):
        dims = np.empty(kept, np.int64)
        j = 0
        for k in range(ndim):
            if k != ax:
                dims[j] = a.shape[k]
                j += 1
        return to_fixed_tuple(dims, kept)
    return shape


def _with_axis(ndim):
    """A jitable that gives an array's shape with one axis's length changed."""
    @register_jitable
    def shape(a, axis, length):
        dims = np.empty(ndim, np.int64)
        for k in range(ndim):
            dims[k] = a.shape[k]
        dims[axis % ndim] = length
        return to_fixed_tuple(dims, ndim)
    return shape


def _float_array(a, least=2):
    return isinstance(a, nbtypes.Array) and a.ndim >= least and isinstance(a.dtype, nbtypes.Float)


@overload(runtime.var_axis, jit_options={"cache": True})
def _var_axis(a, axis, ddof):
    """runtime.var_axis as loops: the mean along the axis, then the mean square of the deviations."""
    if not _float_array(a):
        return None
    shape = _without_axis(a.ndim)

    def loops(a, axis, ddof):
        m, ax = _along(a, axis)
        before, n, after = m.shape
        out = np.zeros((before, after))
        for i in range(before):
            for k in range(after):
                if n == 0:
                    out[i, k] = np.nan  # (NumPy's, with a warning)
                    continue
                total = 0.0  # (about the first entry: exactly 0 for equal entries, as NumPy's pairwise sum)
                for j in range(n):
                    total += m[i, j, k] - m[i, 0, k]
                mean = m[i, 0, k] + total / n
                squares = 0.0
                for j in range(n):
                    d = m[i, j, k] - mean
                    squares += d * d
                out[i, k] = squares / (n - ddof) if n > ddof else (np.inf if squares > 0.0 else np.nan)  # (NumPy's)
        return out.reshape(shape(a, ax))
    return loops


@overload(runtime.std_axis, jit_options={"cache": True})
def _std_axis(a, axis, ddof):
    if not _float_array(a):
        return None
    return lambda a, axis, ddof: np.sqrt(runtime.var_axis(a, axis, ddof))


@overload(runtime.prod_axis, jit_options={"cache": True})
def _prod_axis(a, axis):
    if not _float_array(a):
        return None
    shape = _without_axis(a.ndim)

    def loops(a, axis):
        m, ax = _along(a, axis)
        before, n, after = m.shape
        out = np.ones((before, after))
        for i in range(before):
            for j in range(n):
                for k in range(after):
                    out[i, k] *= m[i, j, k]
        return out.reshape(shape(a, ax))
    return loops


@overload(runtime._unprod_axes, jit_options={"cache": True})
def _unprod_axes(g, a, axis):
    """The adjoint of np.prod over one axis as loops: g times the products to the left and to the right
    of each entry along the axis (exact at zeros)."""
    if not (_float_array(a) and isinstance(axis, nbtypes.Integer)):
        return None

    def loops(g, a, axis):
        m, ax = _along(a, axis)
        before, n, after = m.shape
        gm = np.ascontiguousarray(g).reshape((before, after))
        out = np.empty((before, n, after))
        for i in range(before):
            for k in range(after):
                left = gm[i, k]
                for j in range(n):
                    out[i, j, k] = left
                    left *= m[i, j, k]
                right = 1.0
                for j in range(n - 1, -1, -1):
                    out[i, j, k] *= right
                    right *= m[i, j, k]
        return out.reshape(a.shape)
    return loops


@overload(runtime.sort_axis, jit_options={"cache": True})
def _sort_axis(a, axis):
    """runtime.sort_axis as loops: each line along the axis sorted."""
    if not _float_array(a):
        return None

    def loops(a, axis):
        m, ax = _along(a, axis)
        before, n, after = m.shape
        out = np.empty((before, n, after))
        for i in range(before):
            for k in range(after):
                out[i, :, k] = np.sort(m[i, :, k])
        return out.reshape(a.shape)
    return loops


@overload(runtime.argsort_axis, jit_options={"cache": True})
def _argsort_axis(a, axis, stable=False):
    """runtime.argsort_axis as loops: a merge sort of each line where `stable`, else Numba's default sort
    (which orders equal entries otherwise than NumPy's: specialize writes only the stable form)."""
    if not _float_array(a):
        return None

    def loops(a, axis, stable=False):
        m, ax = _along(a, axis)
        before, n, after = m.shape
        out = np.empty((before, n, after), np.int64)
        for i in range(before):
            for k in range(after):
                if stable:
                    out[i, :, k] = np.argsort(m[i, :, k], kind="mergesort")
                else:
                    out[i, :, k] = np.argsort(m[i, :, k])
        return out.reshape(a.shape)
    return loops


@overload(runtime.put_along, jit_options={"cache": True})
def _put_along(g, indices, axis):
    if not _float_array(g, 1):
        return None

    def loops(g, indices, axis):
        m, ax = _along(g, axis)
        at, _ = _along(indices, axis)
        before, n, after = m.shape
        out = np.zeros((before, n, after))
        for i in range(before):
            for j in range(n):
                for k in range(after):
                    out[i, at[i, j, k], k] = m[i, j, k]
        return out.reshape(g.shape)
    return loops


@overload(runtime.untake_along, jit_options={"cache": True})
def _untake_along(g, a, indices, axis):
    if not (_float_array(g, 1) and isinstance(axis, nbtypes.Integer)):
        return None

    shape = _with_axis(g.ndim)

    def loops(g, a, indices, axis):  # (g has the shape a and indices broadcast to, but a's length along the axis)
        out = np.zeros(shape(g, axis, a.shape[axis]))
        m, ax = _along(out, axis)  # (a view of out: out is contiguous)
        at, _ = _along(np.broadcast_to(indices, g.shape), axis)
        gm, _ = _along(g, axis)
        before, n, after = gm.shape
        for i in range(before):
            for j in range(n):
                for k in range(after):
                    p = at[i, j, k]
                    m[i, p + m.shape[1] if p < 0 else p, k] += gm[i, j, k]
        return runtime.summed_to(out, a.shape)
    return loops


@overload(runtime.logistic, jit_options={"cache": True})
def _logistic(x):
    """runtime.logistic as one loop for a float64 vector: one new array, not four."""
    if not (isinstance(x, nbtypes.Array) and x.ndim == 1 and x.dtype == nbtypes.float64):
        return lambda x: 1.0 / (1.0 + np.exp(-x))

    def loop(x):
        out = np.empty(x.shape[0])
        for k in range(x.shape[0]):
            out[k] = 1.0 / (1.0 + np.exp(-x[k]))
        return out
    return loop


@overload(runtime.add_outer)
def _add_outer(a, g, b):
    """runtime.add_outer as loops: a rank-one update with no temporary matrix."""
    def loops(a, g, b):
        if a.shape[0] != g.shape[0] or a.shape[1] != b.shape[0]:
            raise ValueError("add_outer: the shapes of a, g and b do not match")
        for i in range(g.shape[0]):
            gi = g[i]
            for j in range(b.shape[0]):
                a[i, j] += gi * b[j]
    return loops


def _misordered_index(fn):
    """The line of the generated function `fn` holding an index (a read, a write, add_at's or kept_writes's)
    with None between the ints and integer arrays it holds (x[0, None, idx]), else None. NumPy puts the
    array's axis first there, Numba does not: its result would be another array. (A name in such an index
    may be an int: refused too.)"""
    def plain(part):  # (a slice, None or ...: not an advanced index)
        return isinstance(part, ast.Slice) or isinstance(part, ast.Constant) and part.value in (None, Ellipsis) or (
            isinstance(part, ast.Call) and isinstance(part.func, ast.Name) and part.func.id == "slice")

    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(fn)))):
        index = node.slice if isinstance(node, ast.Subscript) else node.args[1] if isinstance(node, ast.Call) and \
            isinstance(node.func, ast.Name) and node.func.id in ("add_at", "kept_writes") and len(node.args) > 1 \
            else None
        if not isinstance(index, ast.Tuple):
            continue
        advanced = [k for k, part in enumerate(index.elts) if not plain(part)]
        if len(advanced) > 1 and any(not isinstance(index.elts[k], ast.Constant) for k in advanced) and any(
                isinstance(p, ast.Constant) and p.value is None for p in index.elts[advanced[0]:advanced[-1]]):
            return fn.__code__.co_firstlineno + node.lineno - 1
    return None


def compile_function(fn):
    """A Numba dispatcher for the generated function `fn`, compiled on first call. Numba keeps what
    it compiles on disk (cache=True) only when the module's file is in the cache folder and Numba's
    folder for it, and the folder that holds it, are the user's own that only the user can write
    (NUMBA_CACHE_DIR may put it elsewhere: Numba reads its files with pickle); else it compiles in
    each process."""
    path = fn.__code__.co_filename
    line = _misordered_index(fn)
    if line is not None:
        raise ValueError("an index with None between its ints and integer arrays (x[0, None, idx]), whose axes "
                         f"Numba orders otherwise than NumPy\nFile \"{path}\", line {line}")
    if emit.in_memory(path) or not os.path.isfile(path):
        return numba.njit(fn)
    try:
        dispatcher = numba.njit(cache=True)(fn)
    except RuntimeError:  # ("no locator available": the file went since)
        return numba.njit(fn)
    where = _cache_folder(dispatcher)
    if where is None or not (cache.owned(where, folder=True) and cache.owned(os.path.dirname(where), folder=True)):
        cache.warn(f"adjoint: Numba's cache folder {where} is not a folder of the user's own that only the user "
                   "can write: generated code is compiled again in each process (set NUMBA_CACHE_DIR to a "
                   "private folder, or unset it)")
        return numba.njit(fn)
    return dispatcher


def _numba_files(dispatcher):
    """[the index, the data files] of Numba's cache for a dispatcher, or [] (Numba's own layout)."""
    file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    if file is None or not hasattr(file, "_index_path"):
        return []
    return _files_of(file)


def _files_of(file):
    stem = file._index_name[:-len(".nbi")] + "."
    try:
        data = [os.path.join(file._cache_path, n) for n in os.listdir(file._cache_path)
                if n.startswith(stem) and n.endswith(".nbc")]
    except OSError:
        data = []
    return [file._index_path, *data]


def build_native():
    """Build the native module that native.request described (a pickle on stdin; in a process of its
    own, which holds the folder's build lock): the generated function compiled by numba.pycc for the
    argument types there, with the return type Numba's own compile gives it. A build that fails
    leaves a `.failed` file saying why, so that it is not tried again; when no build can work here
    (no numba.pycc, no C compiler) a folder-wide `native.unavailable` says so instead."""
    from . import native

    spec = pickle.load(sys.stdin.buffer)
    where = os.path.dirname(spec["out"])
    native.remove_leftovers(where)  # (of builds killed before they ended: this build holds the lock)
    folder = tempfile.mkdtemp(dir=where, prefix="native-build-")
    tempfile.tempdir = folder  # (pycc leaves its own build folder behind when it fails: it goes with ours)
    try:
        try:
            from numba.pycc import CC
            from numba.pycc.platform import Toolchain
            Toolchain()  # raises when there is no working C compiler
        except Exception:  # noqa: BLE001 -- whatever says that pycc cannot build here
            native.failed(spec["unavailable"], traceback.format_exc())
            return
        text = emit.read_text(spec["module"], spec["path"])
        if text is None:
            raise RuntimeError(f"{spec['path']} is not the generated module {spec['module']}")
        module = emit.load(spec["module"], spec["path"], text, compiled=True)  # (as Derivative.dispatcher: its cache)
        fn = getattr(module, spec["entry"])
        argtypes = tuple(spec["argtypes"])
        dispatcher = compile_function(fn)
        compile_for(dispatcher, argtypes)
        cc = CC(spec["native"], source_module=module)
        cc.output_dir, cc.output_file, cc.target_cpu = folder, os.path.basename(spec["out"]), "host"
        cc.export(spec["entry"], dispatcher.overloads[argtypes].signature)(fn)
        cc.compile()
        built = os.path.join(folder, cc.output_file)
        os.chmod(built, 0o600)
        os.replace(built, spec["out"])
        cache.grew(where, os.path.getsize(spec["out"]))
    except Exception:  # noqa: BLE001 -- whatever stopped the build: say it, and do not try again
        native.failed(spec["failed"], traceback.format_exc())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def signature(args):
    return tuple(numba.typeof(a) for a in args)


def compile_for(dispatcher, sig):
    """Compile the dispatcher for a signature now, so that a failure to compile (Numba raises more
    than NumbaError from its typing code) is told apart from an error while running.

    Numba's cache files for it are checked first (a file that is not the user's own private file is
    removed before Numba unpickles it). One that Numba cannot read (damaged, cut short) is removed and
    the code compiled again; when Numba cannot write its cache (a full disk), or reading fails again,
    the code is compiled without it. The files Numba wrote are made private (0600)."""
    files = _numba_files(dispatcher)
    before = _size(files)
    for attempt in range(3):
        for f in files:
            if os.path.lexists(f) and not cache.owned(f):
                cache.remove(f)
        try:
            dispatcher.compile(sig)
            break
        except Exception as e:  # noqa: BLE001 -- whatever Numba raised while reading its cache or compiling
            trouble = _cache_trouble(e.__traceback__)
            if trouble is None or attempt == 2:
                raise
            if trouble == "read" and attempt == 0:
                for f in files:
                    cache.remove(f)
            else:
                if trouble == "write" and isinstance(e, OSError) and cache.folder() and \
                        _cache_folder(dispatcher) == _ours():
                    cache.unwritable(cache.folder(), e)  # (a full disk: the cache folder is off for this process)
                # (another failure saving, such as Numba's "no compiled object yet": this function compiles
                # again without the cache; it read e.errno and failed to compile, found by the outside suite)
                dispatcher._cache = NullCache()
            files = _numba_files(dispatcher)
    files = _numba_files(dispatcher)
    for f in files:
        try:
            os.chmod(f, 0o600)
        except OSError:
            pass
    grown = _size(files) - before
    if grown > 0 and _cache_folder(dispatcher) == _ours():
        cache.grew(cache.folder(), grown)


def _cache_folder(dispatcher):
    """The folder Numba keeps the dispatcher's compiled code in, or None."""
    return getattr(getattr(dispatcher, "_cache", None), "_cache_path", None)


def _ours():
    """Numba's folder in the cache folder (its `__pycache__`), or None."""
    where = cache.folder()
    return where and os.path.join(where, "__pycache__")


def _size(files):
    total = 0
    for f in files:
        try:
            total += os.lstat(f).st_size
        except OSError:
            pass
    return total


_WRITING = {"save_overload", "_save_overload", "save", "_save_index", "_save_data", "_open_for_write"}


def _cache_trouble(tb):
    """"write" or "read" when the traceback `tb` passes through Numba's cache code
    (numba/core/caching.py) writing or reading its files, else None (a failure to compile)."""
    names = [frame.f_code.co_name for frame, _ in traceback.walk_tb(tb)
             if frame.f_code.co_filename.endswith(os.path.join("numba", "core", "caching.py"))]
    if not names:
        return None
    return "write" if _WRITING & set(names) else "read"


def jit_externals(externals):
    """Externals ready for nopython code: plain Python functions become Numba dispatchers."""
    return {k: numba.njit(v) if isinstance(v, types.FunctionType) else v for k, v in externals.items()}


def explain(error, path):
    """A JitError naming the generated line that Numba refused."""
    text = str(error)
    hits = re.findall(r'File "([^"]+)", line (\d+)', text)
    line = next((int(n) for f, n in reversed(hits) if f.endswith(path.rsplit("/", 1)[-1])), None)
    reason = next((ln.strip() for ln in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines() if ln.strip()), "")
    where = ""
    lines = linecache.getlines(path)
    if line is not None and 0 < line <= len(lines):
        where = f"\n{path}:{line}:\n    {lines[line - 1].strip()}"
    return JitError(f"Numba could not compile the generated code: {reason}{where}\n"
                    "hint: pass jit=False (or jit=None to fall back by itself) to run it as Python")


def _entrywise(fn):
    """An overload of a runtime helper that is a SciPy ufunc in Python: fn on a float, or entry by entry."""
    def typed(x):
        if isinstance(x, (nbtypes.Float, nbtypes.Integer)):
            return lambda x: fn(x)

        def loop(x):
            flat = x.ravel()
            out = np.empty(flat.size)
            for k in range(flat.size):
                out[k] = fn(flat[k])
            return out.reshape(x.shape)
        return loop
    return typed


for _name, _fn in (("erf", math.erf), ("erfc", math.erfc), ("gammaln", math.lgamma), ("digamma", runtime._digamma),
                   ("trigamma", runtime._trigamma), ("erfinv", runtime._erfinv),
                   ("gammasgn", runtime._gammasgn), ("tetragamma", runtime._tetragamma)):
    overload(getattr(runtime, _name), jit_options={"cache": True})(_entrywise(_fn))


@overload(runtime.betaln, jit_options={"cache": True})
def _betaln(a, b):
    return lambda a, b: runtime.gammaln(a) + runtime.gammaln(b) - runtime.gammaln(a + b)


def _inverse_permutation(n):
    """np.transpose of g by the inverse of an n-axis permutation (Numba's transpose takes a tuple of n ints)."""
    def permuted(g, axes=None):
        inverse = np.empty(n, np.int64)
        for i in range(n):
            inverse[axes[i] % n] = i
        if n == 2:
            return np.transpose(g, (inverse[0], inverse[1]))
        if n == 3:
            return np.transpose(g, (inverse[0], inverse[1], inverse[2]))
        return np.transpose(g, (inverse[0], inverse[1], inverse[2], inverse[3]))
    return permuted


@overload(runtime.untranspose)
def _untranspose(g, axes=None):
    if axes is None or isinstance(axes, (nbtypes.NoneType, nbtypes.Omitted)):
        return lambda g, axes=None: np.transpose(g)
    if isinstance(axes, nbtypes.BaseTuple) and 2 <= len(axes) <= 4:
        return _inverse_permutation(len(axes))
    return None


@overload(runtime.solve_adjoint)
def _solve_adjoint(g, a, b, out):
    """runtime.solve_adjoint for a matrix a (Numba's solve takes no stacks): -(a^-T g) x^T."""
    if not (isinstance(a, nbtypes.Array) and a.ndim == 2):
        return None
    if b.ndim == 1:
        return lambda g, a, b, out: -np.outer(np.linalg.solve(a.T, g), out)
    return lambda g, a, b, out: -(np.linalg.solve(a.T, g) @ out.T)


@overload(runtime.solve_b_adjoint)
def _solve_b_adjoint(g, a, b):
    """runtime.solve_b_adjoint for a matrix a: a^-T g."""
    if not (isinstance(a, nbtypes.Array) and a.ndim == 2):
        return None
    return lambda g, a, b: np.linalg.solve(a.T, g)
