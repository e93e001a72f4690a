"""NumPy and SciPy functions written with other primitives.

A call of one of these (a `define(...)` line in table.py names it) is this definition, inlined as
the user's own functions are: its derivatives, both modes and second derivatives, are those of
its parts, and it compiles under Numba where its parts do. Each is written in the Python adjoint
takes; a branch on a keyword, on `x.ndim` (known when compiling) or on `p is None` is decided when
compiling. A form a definition does not cover raises an error naming it.
"""

import linecache

import numpy as np
import scipy.special

from .. import runtime

LN2 = 0.6931471805599453
SQRT2 = 1.4142135623730951
LOG_SQRT_2PI = 0.9189385332046727  # log(sqrt(2 pi))


# --- ufuncs ----------------------------------------------------------------------------------------


def logaddexp2(x1, x2):
    return np.logaddexp(x1 * LN2, x2 * LN2) / LN2


def fmax(x1, x2):
    return np.where(np.isnan(x2), x1, np.where(np.isnan(x1), x2, np.maximum(x1, x2)))


def fmin(x1, x2):
    return np.where(np.isnan(x2), x1, np.where(np.isnan(x1), x2, np.minimum(x1, x2)))


def mod(x1, x2):
    return x1 % x2


def fmod(x1, x2):
    return x1 - np.trunc(x1 / x2) * x2


def copysign(x1, x2):
    return np.abs(x1) * (1.0 - 2.0 * np.signbit(x2))


def float_power(x1, x2):
    return np.power(x1 * 1.0, x2)


def positive(x):
    return +x


def real(val):
    return val  # (NumPy's is its real input itself: a write into one is seen through the other)


def real_if_close(a, tol=100):
    return a  # (real input: itself)


def row_stack(tup):
    return np.vstack(tup)  # (NumPy's older name, which warns that it is deprecated)


def conjugate(x):
    return x + 0.0


# --- reductions ------------------------------------------------------------------------------------


def ptp(a, axis=None, keepdims=False):
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


def nansum(a, axis=None, keepdims=False):
    return np.sum(np.where(np.isnan(a), 0.0, a), axis=axis, keepdims=keepdims)


def nanmean(a, axis=None, keepdims=False):
    return np.sum(np.where(np.isnan(a), 0.0, a), axis=axis, keepdims=keepdims) / np.sum(
        1.0 - np.isnan(a), axis=axis, keepdims=keepdims)


def average(a, axis=None, weights=None):
    if weights is None:
        return np.mean(a, axis=axis)
    if axis is None:
        return np.sum(a * weights) / np.sum(weights)
    if weights.ndim == a.ndim:
        return np.sum(a * weights, axis=axis) / np.sum(weights, axis=axis)
    if a.ndim == 2 and (axis == 0 or axis == -2):
        return weights @ a / np.sum(weights)
    if a.ndim == 2:
        return a @ weights / np.sum(weights)
    raise NotImplementedError("np.average with 1-d weights along an axis of an array of more than 2 dimensions")


def cov(m, y=None, rowvar=True, bias=False, ddof=None):
    x = m if m.ndim == 2 else m[None, :]
    if not rowvar:
        x = x.T
    if y is not None:
        x2 = y if y.ndim == 2 else y[None, :]
        if not rowvar:
            x2 = x2.T
        x = np.concatenate((x, x2), axis=0)
    centred = x - np.mean(x, axis=1, keepdims=True)
    dof = x.shape[1] - (1 if ddof is None and not bias else 0 if ddof is None else ddof)
    c = centred @ centred.T / dof
    if m.ndim == 1 and y is None:
        return c[0, 0]
    return c


def corrcoef(x, y=None, rowvar=True):
    rows = x if x.ndim == 2 else x[None, :]
    if not rowvar:
        rows = rows.T
    if y is not None:
        rows2 = y if y.ndim == 2 else y[None, :]
        if not rowvar:
            rows2 = rows2.T
        rows = np.concatenate((rows, rows2), axis=0)
    centred = rows - np.mean(rows, axis=1, keepdims=True)
    scale = np.sqrt(np.sum(centred * centred, axis=1))
    return (centred @ centred.T) / np.outer(scale, scale)


# --- products --------------------------------------------------------------------------------------


def vdot(a, b):
    return np.dot(np.ravel(a), np.ravel(b))


def inner(a, b):
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim == 1:
        return a @ b
    if a.ndim == 1:
        return b @ a
    if a.ndim == 2 and b.ndim == 2:
        return a @ b.T
    raise NotImplementedError("np.inner of operands of more than 2 dimensions")


def kron(a, b):
    if a.ndim == 1 and b.ndim == 1:
        return np.ravel(np.outer(a, b))
    if a.ndim == 2 and b.ndim == 2:
        return np.reshape(a[:, None, :, None] * b[None, :, None, :],
                          (a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]))
    raise NotImplementedError("np.kron of operands that are not both vectors or both matrices")


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None or axisa != -1 or axisb != -1 or axisc != -1:
        raise NotImplementedError("np.cross along an axis other than the last")
    if a.ndim == 1 and b.ndim == 1:
        return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])
    if a.ndim == 2 and b.ndim == 2:
        return np.stack((a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1], a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                         a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]), axis=1)
    raise NotImplementedError("np.cross of operands that are not both 3-vectors or both rows of 3-vectors")


def interp(x, xp, fp, left=None, right=None, period=None):
    if period is not None:
        raise NotImplementedError("np.interp with a period")
    xp, fp = np.asarray(xp), np.asarray(fp)
    j = np.minimum(np.maximum(np.searchsorted(xp, x, side="right"), 1), len(xp) - 1) - 1
    dx = xp[j + 1] - xp[j]  # (0 between a repeated knot: no slope there, which np.where leaves unread)
    y = (fp[j + 1] - fp[j]) / np.where(dx == 0.0, 1.0, dx) * (x - xp[j]) + fp[j]  # (NumPy's arithmetic)
    below = fp[0] if left is None else left
    above = fp[-1] if right is None else right
    return np.where(x > xp[-1], above, np.where(x < xp[0], below, np.where(x == xp[-1], fp[-1], y)))  # (NumPy's
    # order of the tests)


def select(condlist, choicelist, default=0):
    out = np.where(condlist[-1], choicelist[-1], default)
    for condition, choice in zip(condlist[-2::-1], choicelist[-2::-1]):  # (the first condition that holds wins)
        out = np.where(condition, choice, out)
    return out


def gradient(f, *varargs, axis=None, edge_order=1):
    if len(varargs) > 0 or edge_order != 1:
        raise NotImplementedError("np.gradient with spacings or edge_order=2")
    if f.ndim == 1 or isinstance(axis, int):
        return _gradient_along(f, 0 if axis is None else axis)
    if axis is None and f.ndim == 2:
        return _gradient_along(f, 0), _gradient_along(f, 1)
    if axis is None and f.ndim == 3:
        return _gradient_along(f, 0), _gradient_along(f, 1), _gradient_along(f, 2)
    if axis is not None and len(axis) == 2:
        return _gradient_along(f, axis[0]), _gradient_along(f, axis[1])
    if axis is not None and len(axis) == 3:
        return _gradient_along(f, axis[0]), _gradient_along(f, axis[1]), _gradient_along(f, axis[2])
    raise NotImplementedError("np.gradient along more than 3 axes")


def _gradient_along(f, axis):
    first = axis % f.ndim == 0
    g = f if first else np.moveaxis(f, axis, 0)
    out = np.concatenate((g[1:2] - g[0:1], (g[2:] - g[:-2]) / 2.0, g[-1:] - g[-2:-1]), axis=0)  # (NumPy's arithmetic)
    return out if first else np.moveaxis(out, 0, axis)


def polyval(p, x):
    y = x * 0.0 + p[0]
    for i in range(1, len(p)):
        y = y * x + p[i]
    return y


def matrix_power(a, n):
    if n == 0:
        return np.eye(a.shape[0])
    base = a if n > 0 else np.linalg.inv(a)
    out = base
    for _ in range(abs(n) - 1):
        out = out @ base
    return out


# --- linear algebra: functions of several results, one primitive per result ------------------------


def slogdet(a):
    return runtime.det_sign(a), runtime.logabsdet(a)


def eigh(a, UPLO="L"):
    if UPLO == "U":
        return runtime.eigh_values_upper(a), runtime.eigh_vectors_upper(a)
    return runtime.eigh_values(a), runtime.eigh_vectors(a)


def eigvalsh(a, UPLO="L"):
    return runtime.eigh_values_upper(a) if UPLO == "U" else runtime.eigh_values(a)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    if not compute_uv:
        return runtime.svd_s(a)
    return runtime.svd_u(a, full_matrices), runtime.svd_s(a), runtime.svd_vh(a, full_matrices)


def pinv(a, rcond=None, hermitian=False):
    if rcond is not None:
        raise NotImplementedError("np.linalg.pinv with rcond (small singular values cut off)")
    u = runtime.svd_u(a, False)
    s = runtime.full_rank(runtime.svd_s(a))
    vh = runtime.svd_vh(a, False)
    return np.swapaxes(vh, -1, -2) @ (np.swapaxes(u, -1, -2) / np.expand_dims(s, -1))


def qr(a, mode="reduced"):
    if mode == "r":
        return runtime.qr_r(a)
    if mode != "reduced" and mode != "complete":
        raise NotImplementedError("np.linalg.qr(a, mode='raw') (LAPACK's Householder reflectors)")
    return runtime.qr_q(a, mode == "complete"), runtime.qr_r(a, mode == "complete")


def lstsq(a, b, rcond=None):
    # (full rank only, by QR; where NumPy's SVD drops singular values below rcond, the value jumps)
    s = runtime.svd_s(a)
    cutoff = 2.220446049250313e-16 * max(a.shape[0], a.shape[1]) if rcond is None else rcond
    rank = runtime.full_rank(s, 2.220446049250313e-16 if cutoff < 0 else cutoff).shape[0]  # (NumPy's, for -1)
    if a.shape[0] >= a.shape[1]:
        q, r = np.linalg.qr(a)
        x = np.linalg.solve(r, q.T @ b)
        if a.shape[0] > a.shape[1]:
            residual = b - a @ x
            return x, np.sum(residual * residual, axis=0, keepdims=b.ndim == 1), rank, s
        return x, np.zeros(0), rank, s
    q, r = np.linalg.qr(a.T)
    return q @ np.linalg.solve(r.T, b), np.zeros(0), rank, s


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True):
    t = np.tril(a) if lower else np.triu(a)  # (the triangle LAPACK reads; np.linalg.solve's LU solves it)
    if unit_diagonal:
        t = t - np.diag(np.diag(t)) + np.eye(a.shape[0])
    if trans == 1 or trans == "T":
        t = t.T
    elif trans != 0 and trans != "N":
        raise NotImplementedError("scipy.linalg.solve_triangular with trans='C'")
    return np.linalg.solve(t, b)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    # (the factor in the triangle LAPACK reads and writes, a's own entries in the other, as LAPACK leaves them)
    if lower:
        return np.linalg.cholesky(a) + np.triu(a, 1), lower
    return np.linalg.cholesky(a.T).T + np.tril(a, -1), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    factor = np.tril(c) if lower else np.triu(c).T
    return np.linalg.solve(factor.T, np.linalg.solve(factor, b))


# --- norms -----------------------------------------------------------------------------------------


def norm(x, ord=None, axis=None, keepdims=False):
    if axis is None and (ord is None or ord == "fro" or ord == "f" or x.ndim == 1 and ord == 2):
        if keepdims and x.ndim == 1:
            return np.full((1,), runtime.norm(x))
        if keepdims and x.ndim == 2:
            return np.full((1, 1), runtime.norm(x))
        if keepdims:
            raise NotImplementedError("np.linalg.norm(x, keepdims=True) of an array of more than 2 dimensions")
        return runtime.norm(x)
    if x.ndim == 1:
        return vector_norm(x, ord, None, keepdims)
    if isinstance(axis, int):
        return vector_norm(x, ord, axis, keepdims)
    if x.ndim > 2 and axis is not None and len(axis) == 2 and (ord is None or ord == "fro"):
        high = max(axis[0] % x.ndim, axis[1] % x.ndim)
        low = min(axis[0] % x.ndim, axis[1] % x.ndim)
        out = runtime.norm_axis(runtime.norm_axis(x, high), low)
        return np.expand_dims(np.expand_dims(out, low), high) if keepdims else out
    if x.ndim == 2 and (axis is None or axis[0] % 2 == 0 and axis[1] % 2 == 1):
        return matrix_norm(x, ord, keepdims)
    if x.ndim == 2 and axis[0] % 2 == 1 and axis[1] % 2 == 0:
        return matrix_norm(x.T, ord, keepdims)
    raise NotImplementedError("np.linalg.norm over two axes of an array of more than 2 dimensions")


def vector_norm(x, ord, axis, keepdims):
    if (ord is None or ord == 2) and axis is None:
        return np.full((1,), runtime.norm(x)) if keepdims else runtime.norm(x)
    if ord is None or ord == 2:
        out = runtime.norm_axis(x, axis)
        return np.expand_dims(out, axis) if keepdims else out
    if ord == np.inf:
        return np.max(np.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return np.min(np.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return np.sum(x != 0, axis=axis, keepdims=keepdims) * 1.0
    if ord == 1:
        return np.sum(np.abs(x), axis=axis, keepdims=keepdims)
    return np.sum(np.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def matrix_norm(x, ord, keepdims):
    if ord is None or ord == "fro" or ord == "f":
        out = runtime.norm(x)
    elif ord == 1:
        out = np.max(np.sum(np.abs(x), axis=0))
    elif ord == -1:
        out = np.min(np.sum(np.abs(x), axis=0))
    elif ord == np.inf:
        out = np.max(np.sum(np.abs(x), axis=1))
    elif ord == -np.inf:
        out = np.min(np.sum(np.abs(x), axis=1))
    elif ord == 2:
        out = np.max(runtime.svd_s(x))
    elif ord == -2:
        out = np.min(runtime.svd_s(x))
    elif ord == "nuc":
        out = np.sum(runtime.svd_s(x))
    else:
        raise NotImplementedError("np.linalg.norm of a matrix with this ord")
    if keepdims:
        return np.full((1, 1), out)
    return out


# --- scipy.special and scipy.stats.norm ------------------------------------------------------------


def expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def logit(x):
    return np.log(x) - np.log1p(-x)


def xlogy(x, y):
    return x * np.log(np.where((x == 0) & (y == 0), 1.0, y))  # (0 where x is 0, with x's derivative log y)


def xlog1py(x, y):
    return x * np.log1p(np.where((x == 0) & (y == -1), 0.0, y))


def logsumexp(a, axis=None, b=None, keepdims=False):
    top = np.max(a, axis=axis, keepdims=True)
    shifted = np.exp(a - top) if b is None else b * np.exp(a - top)
    return np.log(np.sum(shifted, axis=axis, keepdims=keepdims)) + np.max(a, axis=axis, keepdims=keepdims)


def softmax(x, axis=None):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=None):
    return x - scipy.special.logsumexp(x, axis=axis, keepdims=True)


def erf(z):
    return runtime.erf(z)


def erfc(x):
    return runtime.erfc(x)


def gammaln(x):
    return runtime.gammaln(x)


def psi(x):
    return runtime.digamma(x)


def ndtr(x):
    return 0.5 * runtime.erfc(-x / SQRT2)


def norm_pdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.exp(-0.5 * z * z - LOG_SQRT_2PI) / scale


def norm_logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return -0.5 * z * z - LOG_SQRT_2PI - np.log(scale)


def norm_cdf(x, loc=0.0, scale=1.0):
    return 0.5 * runtime.erfc(-(x - loc) / (scale * SQRT2))


def norm_logcdf(x, loc=0.0, scale=1.0):
    return np.log(0.5 * runtime.erfc(-(x - loc) / (scale * SQRT2)))


# --- shapes ----------------------------------------------------------------------------------------


def trace(a, offset=0, axis1=0, axis2=1):
    if axis1 % a.ndim == 0 and axis2 % a.ndim == 1:
        return runtime.trace(a, offset)
    return runtime.trace(np.moveaxis(a, (axis1, axis2), (0, 1)), offset)


def diagonal(a, offset=0, axis1=0, axis2=1):
    if axis1 % a.ndim == 0 and axis2 % a.ndim == 1:
        return runtime.diagonal(a, offset)
    return runtime.diagonal(np.moveaxis(a, (axis1, axis2), (0, 1)), offset)


def pad(array, pad_width, mode="constant", constant_values=0.0):
    if mode != "constant":
        raise NotImplementedError("np.pad with a mode other than 'constant'")
    return runtime.pad(array, pad_width, constant_values)


def atleast_1d(ary):
    if ary.ndim == 0:
        return np.full((1,), ary)
    return ary


def atleast_2d(ary):
    if ary.ndim == 0:
        return np.full((1, 1), ary)
    if ary.ndim == 1:
        return ary[None, :]
    return ary


def atleast_3d(ary):
    if ary.ndim == 0:
        return np.full((1, 1, 1), ary)
    if ary.ndim == 1:
        return ary[None, :, None]
    if ary.ndim == 2:
        return ary[:, :, None]
    return ary


def flip(m, axis=None):
    if m.ndim == 1 or axis is not None and axis % m.ndim == 0:
        return m[::-1]
    if axis is None and m.ndim == 2:
        return m[::-1, ::-1]
    if axis is None and m.ndim == 3:
        return m[::-1, ::-1, ::-1]
    if axis % m.ndim == 1:
        return m[:, ::-1]
    if axis % m.ndim == 2:
        return m[:, :, ::-1]
    raise NotImplementedError("np.flip of an array of more than 3 dimensions")


def fliplr(m):
    return m[:, ::-1]


def flipud(m):
    return m[::-1]


def rot90(m, k=1, axes=None):
    if m.ndim != 2 or axes is not None and (axes[0] % 2 != 0 or axes[1] % 2 != 1):
        raise NotImplementedError("np.rot90 of an array that is not a matrix, or with other axes")
    if k % 4 == 0:
        return m[:, :]  # (NumPy's is a view)
    if k % 4 == 1:
        return m[:, ::-1].T
    if k % 4 == 2:
        return m[::-1, ::-1]
    return m.T[:, ::-1]


def partition(a, kth, axis=-1, kind="introselect", order=None):
    if axis is None:
        flat = np.ravel(a)
        return np.take_along_axis(flat, runtime.partition_order(flat, kth, 0), 0)
    return np.take_along_axis(a, runtime.partition_order(a, kth, axis), axis)


def median(a, axis=None):
    if axis is None:
        s = np.sort(np.ravel(a))
        n = s.shape[0]
        return 0.5 * (s[(n - 1) // 2] + s[n // 2])
    s = np.sort(a, axis=axis)
    n = a.shape[axis]
    return 0.5 * (np.take(s, (n - 1) // 2, axis=axis) + np.take(s, n // 2, axis=axis))


def cumprod(a, axis=None):
    if axis is None:
        x = np.ravel(a)
    elif axis % a.ndim == 0:
        x = a
    else:
        x = np.swapaxes(a, axis, 0)
    out = np.zeros(x.shape)
    out[0] = x[0]
    for i in range(1, x.shape[0]):
        out[i] = out[i - 1] * x[i]
    if axis is None or axis % a.ndim == 0:
        return out
    return np.swapaxes(out, axis, 0)


def append(arr, values, axis=None):
    if axis is None:
        return np.concatenate((np.ravel(arr), np.ravel(values)))
    return np.concatenate((arr, values), axis=axis)


# --- np.einsum and np.tensordot: a definition written for each subscripts string ---------------------

_EINSUMS = {}


def einsum_definition(subscripts, count):
    """A Python definition of `np.einsum(subscripts, *operands)` for these subscripts (a constant) and
    `count` operands, which the normalizer inlines: a matrix product where the subscripts are one
    (`ij,jk->ik`, `i,ij->j`, `ij,kj->ik`), otherwise each operand's axes put in one order, broadcast
    against the others, multiplied, summed over the indices that the output lacks. Its derivatives are
    those of the transposes, products and sums; an index repeated within one operand (`ii->i`, `ii`,
    `iij,j->i`) takes that operand's diagonal first. Raises NotImplementedError for `...` (which
    expanded_ellipsis writes out)."""
    key = (subscripts.replace(" ", ""), count)
    if key not in _EINSUMS:
        _EINSUMS[key] = _einsum_function(*key)
    return _EINSUMS[key]


def tensordot_subscripts(ndim_a, ndim_b, axes):
    """The einsum subscripts of np.tensordot(a, b, axes) for operands of these numbers of dimensions."""
    if isinstance(axes, int):
        axes_a, axes_b = list(range(ndim_a - axes, ndim_a)), list(range(axes))
    else:
        axes_a, axes_b = ([axes[0]] if isinstance(axes[0], int) else list(axes[0]),
                          [axes[1]] if isinstance(axes[1], int) else list(axes[1]))
    axes_a, axes_b = [k % ndim_a for k in axes_a], [k % ndim_b for k in axes_b]
    a = [chr(ord("a") + k) for k in range(ndim_a)]
    b = [chr(ord("a") + ndim_a + k) for k in range(ndim_b)]
    for ka, kb in zip(axes_a, axes_b):
        b[kb] = a[ka]
    out = [c for k, c in enumerate(a) if k not in axes_a] + [c for k, c in enumerate(b) if k not in axes_b]
    return f"{''.join(a)},{''.join(b)}->{''.join(out)}"


def expanded_ellipsis(subscripts, ndims):
    """The subscripts with each `...` written out in letters the subscripts do not use, from the
    operands' numbers of dimensions (aligned from the right, as NumPy broadcasts them)."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    terms = inputs.split(",")
    widths = [n - len(t.replace("...", "")) for t, n in zip(terms, ndims) if "..." in t]
    width = max(widths, default=0)
    spare = "".join([c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in subscripts][:width])
    terms = [t.replace("...", spare[width - (n - len(t.replace("...", ""))):]) for t, n in zip(terms, ndims)]
    if arrow:
        output = output.replace("...", spare)
    else:
        joined = "".join(terms)
        output = spare + "".join(sorted(c for c in set(joined) if joined.count(c) == 1 and c not in spare))
    return ",".join(terms) + "->" + output


def _einsum_function(subscripts, count):
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if "." in subscripts:
        raise NotImplementedError("np.einsum with '...': write the indices out")
    if len(terms) != count:
        raise ValueError(f"np.einsum: {len(terms)} operands in {subscripts!r}, {count} given")
    if not arrow:
        output = "".join(sorted(c for c in set(inputs) - {","} if inputs.count(c) == 1))
    if len(set(output)) != len(output) or not set(output) <= set(inputs):
        raise ValueError(f"np.einsum: the output {output!r} repeats an index or has one no operand has")
    names = [f"a{k}" for k in range(count)]
    for k, t in enumerate(terms):  # an index twice in one operand: its diagonal (np.diagonal puts it last)
        while len(set(t)) != len(t):
            c = next(c for c in t if t.count(c) > 1)
            p, q = t.index(c), t.index(c, t.index(c) + 1)
            names[k] = f"np.diagonal({names[k]}, 0, {p}, {q})"
            t = t[:p] + t[p + 1:q] + t[q + 1:] + c
        terms[k] = t
    body = _as_matmul(terms, output, names) if count == 2 else None
    if body is None:
        body = _as_broadcast(terms, output, names)
    return written(f"def einsum(subscripts, {', '.join(f'a{k}' for k in range(count))}):\n    return {body}\n")


def written(text):
    """The function a definition's text defines, its source kept where adjoint reads it (linecache,
    under a name that says what wrote it), once per text."""
    if text not in _WRITTEN:
        filename = f"<adjoint: definition {len(_WRITTEN)}>"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        namespace = {"np": np}
        exec(compile(text, filename, "exec"), namespace)
        _WRITTEN[text] = next(v for k, v in namespace.items() if k != "np" and not k.startswith("__"))
    return _WRITTEN[text]


_WRITTEN = {}


def _permuted(name, have, want):
    if list(have) == list(want):
        return name
    if len(have) == 2:
        return f"{name}.T"
    return f"np.transpose({name}, {tuple(have.index(c) for c in want)})"


def _as_matmul(terms, output, names):
    a, b = terms
    common = set(a) & set(b)
    if common & set(output) or len(common) != 1 or len(set(a) - common) > 1 or len(set(b) - common) > 1 \
            or not (set(a) | set(b)) - common <= set(output):
        return None
    (c,) = common
    left, right = [x for x in a if x != c] + [c], [c] + [x for x in b if x != c]
    product = f"{_permuted(names[0], a, left)} @ {_permuted(names[1], b, right)}"
    return _permuted(f"({product})", left[:-1] + right[1:], output)


def _as_broadcast(terms, output, names):
    letters = []
    for t in terms:
        letters += [c for c in t if c not in letters]
    factors = []
    for name, t in zip(names, terms):
        if not t:
            factors.append(name)
            continue
        ordered = [c for c in letters if c in t]
        index = ", ".join(":" if c in t else "None" for c in letters)
        factors.append(f"{_permuted(name, t, ordered)}[{index}]")
    expr = " * ".join(factors)
    kept = list(letters)
    for k in reversed(range(len(letters))):
        if letters[k] not in output:
            expr = f"np.sum({expr}, axis={k})"
            kept.pop(k)
    return _permuted(f"({expr})" if kept else expr, kept, output)


# --- more of scipy.special -------------------------------------------------------------------------


def ndtri(y):
    return SQRT2 * runtime.erfinv(2.0 * y - 1.0)


def erfinv(y):
    return runtime.erfinv(y)


def erfcinv(y):
    return runtime.erfinv(1.0 - y)


def gammasgn(x):
    return runtime.gammasgn(x)


def gamma(z):
    return runtime.gammasgn(z) * np.exp(runtime.gammaln(z))


def rgamma(z):
    return runtime.gammasgn(z) * np.exp(-runtime.gammaln(z))


def betaln(a, b):
    return runtime.betaln(a, b)


def beta(a, b):
    return np.exp(runtime.gammaln(a) + runtime.gammaln(b) - runtime.gammaln(a + b))


def polygamma(n, x):
    if n == 0:
        return runtime.digamma(x)
    if n == 1:
        return runtime.trigamma(x)
    raise NotImplementedError("scipy.special.polygamma of an order above 1")


def multigammaln(a, d):
    total = runtime.gammaln(a) + 0.25 * d * (d - 1) * 1.1447298858494002  # log(pi)
    for j in range(1, d):
        total = total + runtime.gammaln(a - 0.5 * j)
    return total


def gammainc(a, x):
    return runtime.gammainc(a, x)


def gammaincc(a, x):
    return runtime.gammaincc(a, x)


def betainc(a, b, x):
    return runtime.betainc(a, b, x)


def j0(x):
    return runtime.bessel("jv", 0.0, x)


def j1(x):
    return runtime.bessel("jv", 1.0, x)


def y0(x):
    return runtime.bessel("yv", 0.0, x)


def y1(x):
    return runtime.bessel("yv", 1.0, x)


def i0(x):
    return runtime.bessel("iv", 0.0, x)


def i1(x):
    return runtime.bessel("iv", 1.0, x)


def jv(v, z):
    return runtime.bessel("jv", v, z)


def yn(n, x):
    return runtime.bessel("yv", n, x)


def yv(v, z):
    return runtime.bessel("yv", v, z)


def iv(v, z):
    return runtime.bessel("iv", v, z)


def ive(v, z):
    return runtime.bessel("ive", v, z)


# --- scipy.stats: more of norm, and t, chi2, gamma, beta, poisson, dirichlet, multivariate_normal -------


def norm_sf(x, loc=0.0, scale=1.0):
    return 0.5 * runtime.erfc((x - loc) / (scale * SQRT2))


def norm_logsf(x, loc=0.0, scale=1.0):
    return np.log(0.5 * runtime.erfc((x - loc) / (scale * SQRT2)))


def norm_ppf(q, loc=0.0, scale=1.0):
    return loc + scale * SQRT2 * runtime.erfinv(2.0 * q - 1.0)


def norm_isf(q, loc=0.0, scale=1.0):
    return loc - scale * SQRT2 * runtime.erfinv(2.0 * q - 1.0)


def t_logpdf(x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return (runtime.gammaln(0.5 * (df + 1.0)) - runtime.gammaln(0.5 * df) - 0.5 * np.log(df * np.pi) - np.log(scale)
            - 0.5 * (df + 1.0) * np.log1p(z * z / df))


def t_pdf(x, df, loc=0.0, scale=1.0):
    return np.exp(t_logpdf(x, df, loc, scale))


def t_cdf(x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    tail = 0.5 * runtime.betainc(0.5 * df, 0.5, df / (df + z * z))
    return np.where(z > 0, 1.0 - tail, tail)


def t_logcdf(x, df, loc=0.0, scale=1.0):
    return np.log(t_cdf(x, df, loc, scale))


def chi2_logpdf(x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return (0.5 * df - 1.0) * np.log(z) - 0.5 * z - 0.5 * df * LN2 - runtime.gammaln(0.5 * df) - np.log(scale)


def chi2_pdf(x, df, loc=0.0, scale=1.0):
    return np.exp(chi2_logpdf(x, df, loc, scale))


def chi2_cdf(x, df, loc=0.0, scale=1.0):
    return runtime.gammainc(0.5 * df, 0.5 * (x - loc) / scale)


def gamma_logpdf(x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return (a - 1.0) * np.log(z) - z - runtime.gammaln(a) - np.log(scale)


def gamma_pdf(x, a, loc=0.0, scale=1.0):
    return np.exp(gamma_logpdf(x, a, loc, scale))


def gamma_cdf(x, a, loc=0.0, scale=1.0):
    return runtime.gammainc(a, (x - loc) / scale)


def beta_logpdf(x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return ((a - 1.0) * np.log(z) + (b - 1.0) * np.log1p(-z) - runtime.gammaln(a) - runtime.gammaln(b)
            + runtime.gammaln(a + b) - np.log(scale))


def beta_pdf(x, a, b, loc=0.0, scale=1.0):
    return np.exp(beta_logpdf(x, a, b, loc, scale))


def beta_cdf(x, a, b, loc=0.0, scale=1.0):
    return runtime.betainc(a, b, (x - loc) / scale)


def poisson_logpmf(k, mu, loc=0):
    n = np.floor(k - loc)  # (k is a count: SciPy's pmf is 0 between counts, so no derivative in k)
    return np.where(n == k - loc, scipy.special.xlogy(n, mu) - mu - runtime.gammaln(n + 1.0), -np.inf)


def poisson_pmf(k, mu, loc=0):
    return np.exp(poisson_logpmf(k, mu, loc))


def poisson_cdf(k, mu, loc=0):
    return runtime.gammaincc(np.floor(k - loc) + 1.0, mu)


def dirichlet_logpdf(x, alpha):
    return (np.sum(np.log(x).T * (alpha - 1.0), axis=-1) + runtime.gammaln(np.sum(alpha))
            - np.sum(runtime.gammaln(alpha)))


def dirichlet_pdf(x, alpha):
    return np.exp(dirichlet_logpdf(x, alpha))


def multivariate_normal_logpdf(x, mean=None, cov=1.0, allow_singular=False):
    if cov.ndim != 2:
        raise NotImplementedError("scipy.stats.multivariate_normal with a cov that is not a matrix")
    centred = x if mean is None else x - mean
    if centred.ndim == 1:
        quadratic = np.dot(centred, np.linalg.solve(cov, centred))
    else:
        quadratic = np.sum(centred * np.linalg.solve(cov, centred.T).T, axis=-1)
    return -0.5 * (cov.shape[0] * 1.8378770664093453 + np.linalg.slogdet(cov)[1] + quadratic)  # log(2 pi)


def multivariate_normal_pdf(x, mean=None, cov=1.0, allow_singular=False):
    return np.exp(multivariate_normal_logpdf(x, mean, cov, allow_singular))


def multivariate_normal_entropy(mean=None, cov=1.0):
    if cov.ndim != 2:
        raise NotImplementedError("scipy.stats.multivariate_normal with a cov that is not a matrix")
    return 0.5 * cov.shape[0] * 2.8378770664093453 + 0.5 * np.linalg.slogdet(cov)[1]  # (1 + log(2 pi))


def diff(a, n=1, axis=-1):
    last = axis % a.ndim == a.ndim - 1
    x = a if last else np.swapaxes(a, axis, -1)
    for _ in range(n):
        x = runtime.diff(x)
    return x if last else np.swapaxes(x, axis, -1)


def degrees(x):
    return np.rad2deg(x)


def radians(x):
    return np.deg2rad(x)


def rollaxis(a, axis, start=0):
    axis, start = axis % a.ndim, start % (a.ndim + 1)
    return np.moveaxis(a, axis, start if start <= axis else start - 1)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    if not copy:
        raise NotImplementedError("np.nan_to_num(..., copy=False), which writes into its argument: "
                                  "write `x = np.nan_to_num(x)`")
    high = 1.7976931348623157e308 if posinf is None else posinf
    low = -1.7976931348623157e308 if neginf is None else neginf
    return np.where(np.isnan(x), nan, np.where(np.isinf(x), np.where(x > 0, high, low), x))


def split(ary, indices_or_sections, axis=0):
    if isinstance(indices_or_sections, int):
        return array_split(ary, indices_or_sections, axis)
    cuts = indices_or_sections
    first = runtime.section(ary, 0, cuts[0], axis)
    middle = tuple(runtime.section(ary, cuts[k], cuts[k + 1], axis) for k in range(len(cuts) - 1))
    parts = (first, *middle, runtime.section(ary, cuts[-1], ary.shape[axis], axis))
    return parts


def array_split(ary, indices_or_sections, axis=0):
    if not isinstance(indices_or_sections, int):
        return split(ary, indices_or_sections, axis)
    n = ary.shape[axis]
    size = n // indices_or_sections
    extra = n % indices_or_sections
    return tuple(runtime.section(ary, k * size + min(k, extra), (k + 1) * size + min(k + 1, extra), axis)
                 for k in range(indices_or_sections))


def hsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, 1 if ary.ndim > 1 else 0)


def vsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, 2)


def r_(*arrays):
    parts = tuple(np.atleast_1d(a) for a in arrays)
    return np.concatenate(parts)


def c_(*arrays):
    parts = tuple(a[:, None] if a.ndim == 1 else a for a in arrays)
    return np.concatenate(parts, axis=1)


# --- functions written for the arguments' number of dimensions and constant keywords ---------------------
# Each writer gets the first argument's number of dimensions and the other arguments (their values
# where known when compiling, else RUN_TIME) and gives the text of a definition, or None to leave the
# call to the function's rule (which Numba may not compile: np.roll with an axis, np.moveaxis).

RUN_TIME = object()


def _index(ndim, axis, part):
    return "[" + ", ".join(part if k == axis else ":" for k in range(ndim)) + "]"


def _moveaxis(ndim, source, destination):
    if RUN_TIME in (source, destination):
        return None
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    source, destination = [s % ndim for s in source], [d % ndim for d in destination]
    order = [k for k in range(ndim) if k not in source]
    for d, s in sorted(zip(destination, source)):
        order.insert(d, s)
    return f"def moveaxis(a, source, destination):\n    return np.transpose(a, {tuple(order)})\n"


def _roll(ndim, shift, axis=None):
    if axis is None or axis is RUN_TIME or not isinstance(shift, int) and shift is not RUN_TIME:
        return None
    k = axis % ndim
    return (f"def roll(a, shift, axis=None):\n    s = shift % a.shape[{k}]\n"
            f"    return np.concatenate((a{_index(ndim, k, '-s:')}, a{_index(ndim, k, ':-s')}), axis={k})\n")


def _repeat(ndim, repeats, axis=None):
    if axis is None or axis is RUN_TIME or not (isinstance(repeats, int) or repeats is RUN_TIME):
        return None
    k = axis % ndim
    ones = ", ".join("repeats" if j == k + 1 else "1" for j in range(ndim + 1))
    shape = ", ".join(f"a.shape[{j}] * repeats" if j == k else f"a.shape[{j}]" for j in range(ndim))
    return (f"def repeat(a, repeats, axis=None):\n"
            f"    return np.reshape(np.expand_dims(a, {k + 1}) * np.ones(({ones},)), ({shape},))\n")


def _take(ndim, indices, axis=None):
    if axis is None or axis is RUN_TIME:
        return None
    known = isinstance(indices, (list, tuple)) and all(isinstance(i, int) for i in indices)
    index = str(list(indices)) if known else "indices"  # (a list display: an int array index)
    return f"def take(a, indices, axis=None):\n    return a{_index(ndim, axis % ndim, index)}\n"


def _tile(ndim, reps):
    if reps is RUN_TIME:
        return None
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    d = max(ndim, len(reps))
    reps = (1,) * (d - len(reps)) + reps
    lead = d - ndim  # (axes NumPy puts before a's)
    sizes = ["1"] * lead + [f"A.shape[{j}]" for j in range(ndim)]
    spread = ", ".join("None, :" if j >= lead else "None, None" for j in range(d))
    ones = ", ".join(f"{r}, 1" for r in reps)
    shape = ", ".join(f"{r} * {n}" for r, n in zip(reps, sizes))
    return (f"def tile(A, reps):\n"
            f"    return np.reshape(A[{spread}] * np.ones(({ones},)), ({shape},))\n")


def _squeeze(ndim, axis=None):
    if axis is None or axis is RUN_TIME:
        return None
    axes = {k % ndim for k in ((axis,) if isinstance(axis, int) else axis)}
    shape = ", ".join(f"a.shape[{j}]" for j in range(ndim) if j not in axes)
    return f"def squeeze(a, axis=None):\n    return np.reshape(a, ({shape}{',' if ndim - len(axes) == 1 else ''}))\n"


def _pad(ndim, pad_width, mode="constant", constant_values=0.0):
    if RUN_TIME in (pad_width, mode) or mode != "constant":
        return None
    widths = runtime.pad_pairs(pad_width, ndim)
    lines = ["def pad(array, pad_width, mode='constant', constant_values=0.0):", "    out = array"]
    for k, (lo, hi) in enumerate(widths):
        for width, first in ((lo, True), (hi, False)):
            if width:
                shape = ", ".join(str(width) if j == k else f"out.shape[{j}]" for j in range(ndim))
                block = f"np.full(({shape},), constant_values * 1.0)"
                pair = f"({block}, out)" if first else f"(out, {block})"
                lines.append(f"    out = np.concatenate({pair}, axis={k})")
    return "\n".join(lines + ["    return out", ""])


WRITERS = {np.moveaxis: _moveaxis, np.roll: _roll, np.repeat: _repeat, np.take: _take, np.tile: _tile,
           np.squeeze: _squeeze, np.pad: _pad}


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    if retstep or dtype is not None or axis != 0 or start.ndim != 0 or stop.ndim != 0:
        raise NotImplementedError("np.linspace with retstep, dtype, axis or array bounds")
    div = num - 1 if endpoint else num
    step = (stop - start) / max(div, 1)
    y = np.arange(num) * step + start  # (as NumPy computes it, to the bit)
    if endpoint and num > 1:
        y[num - 1] = stop
    return y
