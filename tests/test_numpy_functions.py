"""NumPy's and SciPy's functions beyond the elementwise ones (linear algebra, einsum, shapes, the
reductions and special functions that rules/defined.py writes with other primitives), each through
the oracles (central differences, forward against reverse, and Numba against Python) on shapes,
axes and keywords drawn at random.

A case is a template of one expression over the arguments `a`, `b`, `c`, whose `{...}` fields a
sampler fills with keywords drawn from a seeded Generator; the function is written to a module of
its own (adjoint reads its source), so each keyword is the constant the user's code would have.
`SEEDS` draws per case run in pytest; `ADJOINT_NUMPY_SEEDS=20 pytest tests/test_numpy_functions.py`
draws more, and then every `numba=True` case also runs under Numba (the first seed); by default a
fifth of them do (a fixed sample, by the case's id: Numba's compiles are most of this file's time).
The others use a NumPy form that Numba's nopython mode lacks (an axis known only at run time,
stacks of matrices, SciPy's incomplete gamma and Bessel functions) and run as Python under `jit=None`.

tests/test_rules.py's `test_every_rule_has_a_row` fails when a rule has neither a row there nor a
case here; its `test_every_rule_is_compiled` and `test_every_helper_is_compiled` count the cases
here that run under Numba.
"""

import importlib.util
import os
import sys
import warnings
import zlib
from typing import Callable, NamedTuple

import numpy as np
import pytest

from oracles import failures

SEEDS = int(os.environ.get("ADJOINT_NUMPY_SEEDS", "1"))


class Case(NamedTuple):
    key: str  # the rule's dotted path
    template: str  # one expression over a, b, c and {fields}
    args: Callable  # (rng, fields) -> the arguments
    fields: Callable = lambda rng: {}
    wrt: tuple = (0,)
    numba: bool = True
    id: str = ""
    also: tuple = ()  # the keys of other rules it covers (the primitives a defined function calls)


def pick(*choices):
    return lambda rng: choices[rng.integers(len(choices))]


def fields(**samplers):
    return lambda rng: {k: s(rng) for k, s in samplers.items()}


def shape(rng, ndim, lo=2, hi=4):
    return tuple(int(n) for n in rng.integers(lo, hi + 1, size=ndim))


def normal(*dims):
    return lambda rng, f: tuple(rng.standard_normal(shape(rng, d) if isinstance(d, int) else d) for d in dims)


def positive(ndim, lo=0.2, hi=2.0):
    return lambda rng, f: (rng.uniform(lo, hi, shape(rng, ndim)) if ndim else float(rng.uniform(lo, hi)),)


def distinct(ndim):
    """Entries far apart (no ties for max, sort and median)."""
    def make(rng, f):
        s = shape(rng, ndim)
        return (rng.permutation(np.prod(s)).reshape(s) * 0.5 + rng.uniform(-0.1, 0.1, s),)
    return make


def well_conditioned(rng, n, batch=()):
    return rng.standard_normal(batch + (n, n)) + n * np.eye(n)


def spd(rng, n):
    m = rng.standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


def square(batch=()):
    return lambda rng, f: (well_conditioned(rng, int(rng.integers(2, 5)), batch),)


def symmetric(rng, f):
    """A symmetric positive definite matrix with well-separated eigenvalues."""
    n = int(rng.integers(2, 5))
    q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return (q @ np.diag(np.arange(1.0, n + 1) * 1.5) @ q.T,)


def upper_args(rng, f):
    """A symmetric matrix with well-separated eigenvalues, and a lower triangle (which eigh(UPLO='U') does not read)."""
    a, = symmetric(rng, f)
    return a, np.tril(rng.standard_normal(a.shape), -1)


def solve_args(rhs):
    def make(rng, f):
        n = int(rng.integers(2, 5))
        return well_conditioned(rng, n), rng.standard_normal((n,) if rhs == 1 else (n, int(rng.integers(1, 4))))
    return make


def same(ndim, count=2):
    def make(rng, f):
        s = shape(rng, ndim)
        return tuple(rng.standard_normal(s) for _ in range(count))
    return make


EINSUMS = {"ij,jk->ik": ((3, 4), (4, 2)), "ij,kj": ((3, 4), (2, 4)), "bij,bjk->bik": ((2, 3, 4), (2, 4, 2)),
           "ij,ij->i": ((3, 4), (3, 4)), "i,j->ij": ((3,), (4,)), "ijk,kj->i": ((2, 3, 4), (4, 3)), "i,i": ((4,), (4,))}
CASES = [
    # ufuncs and elementwise functions written with others
    Case("numpy.logaddexp2", "np.logaddexp2(a, b)", same(2), wrt=(0, 1)),
    Case("numpy.fmax", "np.fmax(a, b) + np.fmin(b, a) ** 2", same(2), wrt=(0, 1)),
    Case("numpy.fmin", "np.fmin(a, 2.0 * b)", same(1), wrt=(0, 1)),
    Case("numpy.mod", "np.mod(a, b) + np.remainder(a, 3.5)", lambda rng, f: (
        rng.uniform(-5, 5, shape(rng, 2)), rng.choice([-1, 1]) * rng.uniform(1.1, 2.0)), wrt=(0, 1)),
    Case("numpy.fmod", "np.fmod(a, b)", lambda rng, f: (rng.uniform(-5, 5, 5), rng.uniform(1.1, 2.0, 5)), wrt=(0, 1)),
    Case("numpy.copysign", "np.copysign(a, b)", lambda rng, f: (rng.uniform(0.5, 2, 4) * rng.choice([-1, 1], 4),
                                                                 rng.uniform(0.5, 2, 4) * rng.choice([-1, 1], 4))),
    Case("numpy.float_power", "np.float_power(a, 1.5)", positive(2)),
    Case("numpy.positive", "np.positive(a) * a", normal(2)),
    Case("numpy.real", "np.real(a) * np.conj(a)", normal(1)),
    Case("numpy.conjugate", "np.conjugate(a) ** 2", normal(2)),
    # reductions
    Case("numpy.ptp", "np.ptp(a, axis={axis})", distinct(2), fields(axis=pick(None, 0, 1))),
    Case("numpy.nansum", "np.nansum(a, axis={axis})", normal(2), fields(axis=pick(None, 0, 1))),
    Case("numpy.nanmean", "np.nanmean(a, axis={axis})", normal(2), fields(axis=pick(None, 0, 1))),
    Case("numpy.average", "np.average(a, axis={axis}, weights=b)", lambda rng, f: (
        rng.standard_normal((3, 4)), rng.uniform(0.5, 2, (3, 4) if f["axis"] is None else (3, 4)[f["axis"]])),
        fields(axis=pick(None, 0, 1)), wrt=(0, 1)),
    Case("numpy.median", "np.median(a, axis={axis})", distinct(2), fields(axis=pick(None, 0, 1, -1))),
    Case("numpy.cumprod", "np.cumprod(a, axis={axis})", normal(2), fields(axis=pick(None, 0, 1)), numba=False),
    Case("numpy.cov", "np.cov(a, rowvar={rowvar}, ddof={ddof})", normal(2), fields(rowvar=pick(True, False),
                                                                                  ddof=pick(None, 0, 2))),
    Case("numpy.corrcoef", "np.corrcoef(a)", normal((3, 6))),
    # products
    Case("numpy.vdot", "np.vdot(a, b)", same(2), wrt=(0, 1)),
    Case("numpy.inner", "np.inner(a, b)", lambda rng, f: (rng.standard_normal((3, 4)), rng.standard_normal(f["s"])),
         fields(s=pick((2, 4), (4,))), wrt=(0, 1)),
    Case("numpy.kron", "np.kron(a, b)", lambda rng, f: (rng.standard_normal((2, 3)), rng.standard_normal((3, 2))),
         wrt=(0, 1)),
    Case("numpy.cross", "np.cross(a, b)", lambda rng, f: (rng.standard_normal(f["s"]), rng.standard_normal(f["s"])),
         fields(s=pick((3,), (4, 3))), wrt=(0, 1)),
    Case("numpy.cross", "np.cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None)", lambda rng, f: (
        rng.standard_normal((4, 3)), rng.standard_normal((4, 3))), wrt=(0, 1),
         id="cross-keywords"),
    Case("numpy.real_if_close", "np.real_if_close(a) * np.iscomplex(a) + np.isreal(a) * a", normal(2)),
    Case("numpy.column_stack", "np.column_stack(a)", normal(1), id="column-stack-vector"),
    Case("numpy.interp", "np.interp(a, np.sort(b), c{ends})", lambda rng, f: (
        rng.uniform(-3.0, 3.0, size=6), rng.permutation(5) - 2.0 + rng.uniform(-0.3, 0.3, 5), rng.standard_normal(5)),
         fields(ends=pick("", ", left=-2.0, right=0.5")), wrt=(0, 1, 2)),
    Case("numpy.interp", "np.interp(a, [0.0, 1.0, 3.0], [1.0, -1.0, 2.0])", lambda rng, f: (float(rng.uniform(-1, 4)),),
         id="interp-number"),
    Case("numpy.dstack", "np.dstack({parts})", same(2), fields(parts=pick("[a, b]", "(a, b * 2.0, a)")), wrt=(0, 1)),
    Case("numpy.dstack", "np.dstack([a, b])", same(1), wrt=(0, 1), id="dstack-vectors"),
    Case("scipy.linalg.solve_triangular", "scipy.linalg.solve_triangular(a + 3.0 * np.eye(3), b{kw})", lambda rng, f: (
        rng.standard_normal((3, 3)), rng.standard_normal(f["b"])), fields(b=pick((3,), (3, 2)), kw=pick(
            "", ", lower=True", ", trans='T', unit_diagonal=True", ", trans=1, lower=True")), wrt=(0, 1)),
    Case("scipy.linalg.cho_solve", "scipy.linalg.cho_solve(scipy.linalg.cho_factor(a @ a.T + np.eye(3) + 0.3 * np.triu(a)"
         "{lower}), b) + scipy.linalg.cho_factor(a + 3.0 * np.eye(3){lower})[0][:, :b.shape[-1]]", lambda rng, f: (
             rng.standard_normal((3, 3)), rng.standard_normal((3, 2))), fields(lower=pick("", ", lower=True")),
         wrt=(0, 1), also=("scipy.linalg.cho_factor",)),
    Case("numpy.select", "np.select([a > 0, b > 0.5, a < -1], [a * b, b ** 2, a]{default})", same(2),
         fields(default=pick("", ", default=0.7", ", default=b")), wrt=(0, 1)),
    Case("numpy.gradient", "np.stack(np.gradient(a))", lambda rng, f: (rng.standard_normal(f["shape"]),),
         fields(shape=pick((6,), (4, 5), (3, 4, 5)))),
    Case("numpy.gradient", "np.stack(np.gradient(a, axis={axis}))", normal(3), fields(axis=pick(0, -1, (0, 2), (2, 1, 0))),
         id="gradient-axis"),
    Case("numpy.matmul", "{op}", lambda rng, f: tuple(rng.standard_normal(s) for s in f["shapes"]), fields(
        op=pick("a @ b", "np.matmul(a, b)"), shapes=pick(((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)),
                                                      ((1, 3, 4), (2, 4, 2)))), wrt=(0, 1), id="matmul-stacks"),
    Case("numpy.matmul", "np.tanh(a @ b) @ c", lambda rng, f: (rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 4)),
                                                             rng.standard_normal((2, 4, 2))), wrt=(0, 1, 2),
         id="matmul-stacks-chained"),
    Case("numpy.polyval", "np.polyval(a, b)", lambda rng, f: (rng.standard_normal(4), rng.standard_normal(5)),
         wrt=(0, 1)),
    Case("numpy.einsum", "np.einsum('{s}', a, b)", lambda rng, f: tuple(rng.standard_normal(s) for s in EINSUMS[f["s"]]),
         fields(s=pick(*EINSUMS)), wrt=(0, 1)),
    Case("numpy.einsum", "np.einsum('ij,jk,kl->il', a, b, c)", lambda rng, f: (
        rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal((4, 2))), wrt=(0, 1, 2),
         id="einsum-three"),
    Case("numpy.einsum", "np.einsum('{s}', a, b)", lambda rng, f: (rng.standard_normal((2, 3, 4)),
                                                                   rng.standard_normal((4, 3))),
         fields(s=pick("...ij,jk->...ik", "...j,jk", "bij,j...->bi...")), wrt=(0, 1), id="einsum-ellipsis"),
    Case("numpy.einsum", "np.einsum('{s}', a, b)", lambda rng, f: (rng.standard_normal((3, 3, 3)),
                                                                   rng.standard_normal((3, 3))),
         fields(s=pick("iij,jk->ik", "iii,jj->ij", "bii,bj->bij", "iji,kk", "ijk,ij->jk")), wrt=(0, 1),
         id="einsum-diagonal"),
    Case("numpy.einsum", "np.einsum(a, {lists})", lambda rng, f: (rng.standard_normal((2, 3, 3)),
                                                                   rng.standard_normal((3, 4))),
         fields(lists=pick("[0, 1, 2], b, [2, 3]", "[0, 1, 2], b, [2, 3], [3, 0]", "(Ellipsis, 1, 2), b, (2, 3), "
                           "(Ellipsis, 1, 3)", "[0, 1, 1], b, (1, 3), [0, 3]", "(0, 2, 1)")), wrt=(0, 1),
         id="einsum-sublists"),
    Case("numpy.linspace", "np.linspace(a, b, {n}, endpoint={end})", lambda rng, f: (
        float(rng.standard_normal()), float(rng.standard_normal()) + 3.0), fields(n=pick(1, 2, 7), end=pick(True, False)),
        wrt=(0, 1)),
    Case("numpy.linalg.norm", "np.linalg.norm(a, axis={axes}, keepdims={keep})", normal(3),
         fields(axes=pick((1, 2), (0, -1), (2, 0)), keep=pick(False, True)), id="norm-two-axes"),
    Case("numpy.tensordot", "np.tensordot(a, b, axes={axes})", lambda rng, f: (
        rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4) if f["axes"] in (2, ([1, 2], [0, 1])) else (4, 5))),
        fields(axes=pick(2, 1, ([1, 2], [0, 1]))), wrt=(0, 1)),
    Case("numpy.linalg.matrix_power", "np.linalg.matrix_power(a, {n})", square(), fields(n=pick(0, 1, 3, -2))),
    Case("numpy.linalg.norm", "np.linalg.norm(a, ord={ord}, axis={axis}, keepdims={keep})", normal(2),
         fields(ord=pick(None, 1, 2, 3, "np.inf", "-np.inf"), axis=pick(0, 1, -1), keep=pick(False, True)),
         id="norm-vectors", also=("adjoint.runtime.norm_axis",)),
    Case("numpy.linalg.norm", "np.linalg.norm(a, ord={ord})", normal(2), fields(ord=pick(None, "'fro'", 1, -1, "np.inf")),
         id="norm-matrix", also=("adjoint.runtime.norm",)),
    # linear algebra
    Case("numpy.linalg.inv", "np.linalg.inv(a)", square()),
    Case("numpy.linalg.inv", "np.linalg.inv(a)", square((2,)), id="inv-stack"),
    Case("numpy.linalg.det", "np.linalg.det(a)", square()),
    Case("numpy.linalg.det", "np.linalg.det(a)", square((3,)), numba=False, id="det-stack"),
    Case("numpy.linalg.slogdet", "np.linalg.slogdet(a)[1] * np.linalg.slogdet(a)[0]", square()),
    Case("adjoint.runtime.logabsdet", "np.linalg.slogdet(a)[1]", square((2,)), numba=False, id="slogdet-stack"),
    Case("numpy.linalg.solve", "np.linalg.solve(a, b)", solve_args(1), wrt=(0, 1)),
    Case("numpy.linalg.solve", "np.linalg.solve(a, b)", solve_args(2), wrt=(0, 1), id="solve-matrix"),
    Case("numpy.linalg.svd", "np.sum(np.linalg.svd(a, full_matrices=False)[{k}] ** 2) + np.abs(np.linalg.svd(a, "
         "full_matrices=False)[{j}])", lambda rng, f: (rng.standard_normal(f["s"]),), fields(
             k=pick(0, 1, 2), j=pick(0, 2), s=pick((4, 3), (3, 5), (3, 3))),
         also=("adjoint.runtime.svd_u", "adjoint.runtime.svd_s", "adjoint.runtime.svd_vh")),
    Case("numpy.linalg.svd", "np.linalg.svd(a, compute_uv=False)", normal(2), id="svd-values"),
    Case("numpy.linalg.pinv", "np.linalg.pinv(a)", lambda rng, f: (rng.standard_normal((4, 3)),),
         also=("adjoint.runtime.full_rank",)),
    Case("numpy.linalg.norm", "np.linalg.norm(a, {ord})", normal(2), fields(ord=pick(2, -2, "'nuc'")),
         id="norm-singular-values"),
    Case("numpy.linalg.qr", "np.linalg.qr(a, mode='{mode}')[{k}] ** 2 * 0.5", lambda rng, f: (
        rng.standard_normal(sorted(shape(rng, 2)) if f["mode"] == "complete" else shape(rng, 2)),),
        fields(mode=pick("reduced", "complete"), k=pick(0, 1)),
        also=("adjoint.runtime.qr_q", "adjoint.runtime.qr_r")),
    Case("numpy.linalg.qr", "np.sum(np.linalg.qr(a, mode='r')) + np.linalg.qr(a)[0][..., :1]", lambda rng, f: (
        rng.standard_normal((2,) + shape(rng, 2)),), numba=False, id="qr-stack"),
    Case("numpy.linalg.lstsq", "np.linalg.lstsq(a, b, rcond={rcond})[{k}]", lambda rng, f: (
        rng.standard_normal(f["ashape"]), rng.standard_normal(f["ashape"][:1] + f["bshape"])), fields(
        ashape=pick((5, 3), (3, 3), (2, 4)), bshape=pick((), (2,)), rcond=pick(None, 1e-10), k=pick(0, 0, 3)), wrt=(0, 1),
        also=("adjoint.runtime.full_rank",)),
    Case("numpy.linalg.lstsq", "np.linalg.lstsq(a, b)[1] * np.linalg.lstsq(a, b)[2]", lambda rng, f: (
        rng.standard_normal((5, 3)), rng.standard_normal((5,) + f["bshape"])), fields(bshape=pick((), (2,))), wrt=(0, 1),
        id="lstsq-residuals"),
    Case("numpy.linalg.cholesky", "np.linalg.cholesky(a)", lambda rng, f: (spd(rng, int(rng.integers(2, 5))),)),
    Case("numpy.linalg.eigh", "np.linalg.eigh(a)[0] ** 2 + np.abs(np.linalg.eigh(a)[1])", symmetric),
    Case("numpy.linalg.eigvalsh", "np.linalg.eigvalsh(a)", symmetric, also=("adjoint.runtime.eigh_values",)),
    Case("adjoint.runtime.eigh_values_upper", "np.linalg.eigvalsh(a, UPLO='U') + np.linalg.eigh(a + b, 'U')[0] + "
         "np.linalg.eigh(a + b, UPLO='U')[1][{k}]", upper_args, fields(k=pick(0, -1)), wrt=(0, 1),
         numba=False, id="eigh-upper", also=("adjoint.runtime.eigh_vectors_upper",)),
    Case("adjoint.runtime.eigh_vectors", "np.abs(np.linalg.eigh(a)[1][:, -1])", symmetric, id="eigh-vectors"),
    # shapes
    Case("numpy.repeat", "np.repeat(a, {r}, axis={axis})", normal(2), fields(r=pick(1, 2, 3), axis=pick(None, 0, 1))),
    Case("numpy.repeat", "np.repeat(a, 2)", normal(2), id="repeat-flat"),
    Case("numpy.tile", "np.tile(a, {reps})", normal(2), fields(reps=pick(2, (2, 1), (1, 2, 2)))),
    Case("numpy.tile", "np.tile(a, b)", lambda rng, f: (rng.standard_normal((2, 3)), 2), numba=False,
         id="tile-reps-at-run-time"),
    Case("numpy.roll", "np.roll(a, {shift}, axis={axis})", normal(2), fields(shift=pick(1, -2, 5), axis=pick(None, 0, 1))),
    Case("numpy.roll", "np.roll(a, (1, 2), axis=(0, 1))", normal(2), numba=False, id="roll-tuple"),
    Case("numpy.roll", "np.roll(a, 2)", normal(1), id="roll-vector"),
    Case("numpy.diag", "np.diag(a, {k})", normal(2), fields(k=pick(0, 1, -1))),
    Case("numpy.diag", "np.diag(a, {k})", normal(1), fields(k=pick(0, 1, -2)), id="diag-of-vector"),
    Case("numpy.diagonal", "np.diagonal(a, {k})", normal(2), fields(k=pick(0, 1, -1))),
    Case("adjoint.runtime.diagonal", "np.diagonal(a, 0, {axes})", normal(3), fields(axes=pick("0, 1", "1, 2", "2, 0")),
         numba=False, id="diagonal-axes"),
    Case("numpy.trace", "np.trace(a, {k})", normal(2), fields(k=pick(0, 1, -1))),
    Case("adjoint.runtime.trace", "np.trace(a, 0, {axes})", normal(3), fields(axes=pick("0, 1", "1, 2", "0, 2")),
         numba=False, id="trace-axes"),
    Case("numpy.tril", "np.tril(a, {k}) + np.triu(a, {k}) ** 2", normal(2), fields(k=pick(0, 1, -1))),
    Case("numpy.triu", "np.triu(a)", normal(2)),
    Case("numpy.swapaxes", "np.swapaxes(a, {i}, {j})", normal(3), fields(i=pick(0, 1, -1), j=pick(0, 2))),
    Case("numpy.moveaxis", "np.moveaxis(a, {i}, {j})", normal(3), fields(i=pick(0, 1, 2), j=pick(0, -1))),
    Case("numpy.moveaxis", "np.moveaxis(a, (0, 1), (2, 0))", normal(3), id="moveaxis-axes"),
    Case("numpy.moveaxis", "np.moveaxis(a, b, 0)", lambda rng, f: (rng.standard_normal((2, 3, 4)), 2), numba=False,
         id="moveaxis-at-run-time"),
    Case("numpy.transpose", "np.transpose(a, {axes})", normal(3), fields(axes=pick((1, 2, 0), (2, 0, 1), (0, 2, 1)))),
    Case("numpy.squeeze", "np.squeeze(a)", lambda rng, f: (rng.standard_normal((3, 1, 2)),), numba=False),
    Case("numpy.broadcast_to", "np.broadcast_to(a, (3, 4)) * b", lambda rng, f: (
        rng.standard_normal(f["s"]), rng.standard_normal((3, 4))), fields(s=pick((4,), (3, 1), (1, 4))), wrt=(0, 1)),
    Case("numpy.take", "np.take(a, {idx}, axis={axis})", normal((3, 4)), fields(idx=pick([0, 2, 2], [1]),
                                                                              axis=pick(None, 0, 1)), numba=False),
    Case("numpy.take", "np.take(a, [3, 0, 3])", normal(2), id="take-flat"),
    Case("numpy.take_along_axis", "np.take_along_axis(a, np.argsort(a, axis={axis}, kind='stable'), axis={axis})",
         distinct(3),
         fields(axis=pick(0, 1, 2, -1))),
    Case("numpy.sort", "np.sort(a)", distinct(1)),
    Case("numpy.sort", "np.sort(a, axis=None)", distinct(2), id="sort-flat"),
    Case("numpy.sort", "np.sort(a, axis={axis})", distinct(3), fields(axis=pick(0, 1, 2, -1)),
         id="sort-axis"),
    Case("numpy.pad", "np.pad(a, {w}, constant_values={c})", normal(2), fields(w=pick(1, ((1, 0), (0, 2)), (2,), (1, 2)),
                                                                             c=pick(0.0, 2.5))),
    Case("numpy.pad", "np.pad(a, b)", lambda rng, f: (rng.standard_normal((2, 3)), 1), numba=False,
         id="pad-width-at-run-time"),
    Case("adjoint.runtime.pad", "np.pad(a, 1, constant_values=b)", lambda rng, f: (
        rng.standard_normal((2, 3)), float(rng.standard_normal())), wrt=(0, 1), numba=False, id="pad-value"),
    Case("numpy.atleast_1d", "np.atleast_1d(a)", lambda rng, f: (float(rng.standard_normal()),)),
    Case("numpy.atleast_2d", "np.atleast_2d(a)", normal(1)),
    Case("numpy.atleast_3d", "np.atleast_3d(a)", normal(2)),
    Case("numpy.flip", "np.flip(a, {axis})", normal(2), fields(axis=pick(None, 0, 1, -1))),
    Case("numpy.fliplr", "np.fliplr(a) + np.flipud(a)", normal(2)),
    Case("numpy.flipud", "np.flipud(a)", normal(1)),
    Case("numpy.rot90", "np.rot90(a, {k})", normal(2), fields(k=pick(0, 1, 2, 3, -1))),
    Case("numpy.append", "np.append(a, b, axis={axis})", same(2), fields(axis=pick(None, 0, 1)), wrt=(0, 1)),
    Case("numpy.diff", "np.diff(a, n={n}, axis={axis})", normal(3), fields(n=pick(1, 2), axis=pick(0, 1, -1)),
         also=("adjoint.runtime.diff",)),
    Case("numpy.degrees", "np.degrees(a) * np.radians(a)", normal(2), also=("numpy.radians",)),
    Case("numpy.rollaxis", "np.rollaxis(a, {axis}, {start})", normal(3), fields(axis=pick(0, 1, 2), start=pick(0, 1, 3)),
         numba=False),
    Case("numpy.nan_to_num", "np.nan_to_num(a)", normal(2)),
    Case("numpy.split", "np.{fn}(a, {s}, axis={axis})[{k}]", lambda rng, f: (rng.standard_normal((6, 4)),),
         fields(fn=pick("split", "array_split"), s=pick(2, [1, 3]), axis=pick(0, 1), k=pick(0, 1, -1)),
         also=("numpy.array_split", "adjoint.runtime.section")),
    Case("numpy.array_split", "np.array_split(a, 3)[{k}] ** 2", normal((7,)), fields(k=pick(0, 1, 2))),
    Case("numpy.hsplit", "np.hsplit(a, 2)[0][:2] * np.vsplit(a, 2)[1][:, :2]", normal((4, 4)), also=("numpy.vsplit",)),
    Case("numpy.r_", "np.r_[a, 2.0 * a[1], b] + np.sum(np.c_[a, b])", same(1), wrt=(0, 1), also=("numpy.c_",)),
    Case("numpy.hstack", "np.{fn}(a)", lambda rng, f: (rng.standard_normal(f["s"]),), fields(
        fn=pick("hstack", "vstack"), s=pick((3, 4), (5,))), id="stack-an-array"),
    Case("numpy.column_stack", "np.column_stack(a)", normal(2)),
    Case("numpy.vstack", "np.{fn}(a)", normal(3), fields(fn=pick("hstack", "vstack", "dstack", "column_stack")),
         id="stack-a-3d-array"),
    Case("numpy.dsplit", "np.dsplit(a, {s})[{k}]", lambda rng, f: (rng.standard_normal((2, 3, 4)),),
         fields(s=pick(2, [1, 3]), k=pick(0, -1))),
    Case("numpy.partition", "np.partition(a, {kth}, axis={axis}) * np.arange(1.0, 1.0 + a.size).reshape(a.shape)",
         distinct(2), fields(kth=pick(0, 1, [0, 1]), axis=pick(0, -1)), numba=False,
         also=("adjoint.runtime.partition_order",)),
    Case("numpy.partition", "np.partition(a, 2, axis=None) * np.arange(1.0, 1.0 + a.size)", distinct(2), numba=False,
         id="partition-flat"),
    # SciPy
    Case("scipy.special.expit", "scipy.special.expit(a)", normal(2)),
    Case("scipy.special.logit", "scipy.special.logit(a)", positive(2, 0.1, 0.9)),
    Case("scipy.special.xlogy", "scipy.special.xlogy(a, b)", lambda rng, f: (
        rng.uniform(0.1, 2, 4), rng.uniform(0.1, 2, 4)), wrt=(0, 1)),
    Case("scipy.special.xlog1py", "scipy.special.xlog1py(a, b)", lambda rng, f: (
        rng.uniform(0.1, 2, 4), rng.uniform(0.1, 2, 4)), wrt=(0, 1)),
    Case("scipy.special.logsumexp", "scipy.special.logsumexp(a, axis={axis}, keepdims={keep})", normal(2),
         fields(axis=pick(None, 0, 1), keep=pick(False, True))),
    Case("scipy.special.softmax", "scipy.special.softmax(a, axis={axis})", normal(2), fields(axis=pick(None, 0, 1))),
    Case("scipy.special.log_softmax", "scipy.special.log_softmax(a, axis={axis})", normal(2),
         fields(axis=pick(None, 0, 1))),
    Case("scipy.special.erf", "scipy.special.erf(a)", normal(2), also=("adjoint.runtime.erf",)),
    Case("scipy.special.erfc", "scipy.special.erfc(a)", normal(2), also=("adjoint.runtime.erfc",)),
    Case("scipy.special.gammaln", "scipy.special.gammaln(a)", positive(2, 0.3, 5.0), also=("adjoint.runtime.gammaln",)),
    Case("scipy.special.psi", "scipy.special.digamma(a)", positive(2, 0.3, 5.0), also=("adjoint.runtime.digamma",)),
    Case("scipy.special.ndtr", "scipy.special.ndtr(a)", normal(2)),
    Case("scipy.special.ndtri", "scipy.special.ndtri(a) + scipy.special.erfcinv(a)", positive(1, 0.05, 0.95),
         also=("scipy.special.erfcinv", "adjoint.runtime.erfinv")),
    Case("scipy.special.erfinv", "scipy.special.erfinv(a)", positive(2, -0.95, 0.95)),
    Case("scipy.special.gamma", "scipy.special.gamma(a) + scipy.special.rgamma(a)", lambda rng, f: (
        rng.uniform(0.3, 3.0, 4) * rng.choice([-1, 1], 4),), also=("scipy.special.rgamma", "scipy.special.gammasgn")),
    Case("scipy.special.beta", "scipy.special.beta(a, b) + scipy.special.betaln(a, b)", lambda rng, f: (
        rng.uniform(0.5, 3, 4), rng.uniform(0.5, 3, 4)), wrt=(0, 1), also=("scipy.special.betaln", "adjoint.runtime.betaln")),
    Case("scipy.special.polygamma", "scipy.special.polygamma({n}, a)", positive(1, 0.5, 4.0), fields(n=pick(0, 1)),
         also=("adjoint.runtime.trigamma",)),
    Case("scipy.special.multigammaln", "scipy.special.multigammaln(a, {d})", positive(1, 4.0, 5.0),
         fields(d=pick(1, 2, 3))),
    Case("scipy.special.gammainc", "scipy.special.gammainc({s}, a) + scipy.special.gammaincc({s}, a)",
         positive(1, 0.5, 4.0), fields(s=pick(0.5, 1.0, 2.5)), numba=False,
         also=("scipy.special.gammaincc", "adjoint.runtime.gammainc", "adjoint.runtime.gammaincc")),
    Case("adjoint.runtime.gammainc", "scipy.special.gammainc(a, b) * scipy.stats.poisson.cdf(2.0, b)",
         lambda rng, f: (rng.uniform(0.5, 3.0, (3, 1)), rng.uniform(0.5, 3.0, (1, 4))), wrt=(1,), numba=False,
         id="gammainc-broadcast"),  # (b's derivative summed over the rows it is broadcast along)
    Case("scipy.special.betainc", "scipy.special.betainc({s}, 2.0, a)", positive(1, 0.1, 0.9),
         fields(s=pick(0.5, 3.0)), numba=False, also=("adjoint.runtime.betainc",)),
    Case("scipy.special.jv", "scipy.special.{fn}(a)", positive(1, 0.5, 4.0),
         fields(fn=pick("j0", "j1", "y0", "y1", "i0", "i1")), numba=False,
         also=("scipy.special.j0", "scipy.special.j1", "scipy.special.y0", "scipy.special.y1", "scipy.special.i0",
               "scipy.special.i1", "adjoint.runtime.bessel")),
    Case("scipy.special.iv", "scipy.special.{fn}({v}, a)", positive(1, 0.5, 4.0),
         fields(fn=pick("jv", "yv", "iv", "ive", "jn", "yn"), v=pick(0, 1, 2)), numba=False,
         also=("scipy.special.yv", "scipy.special.ive", "scipy.special.yn")),
    Case("scipy.stats.norm.sf", "scipy.stats.norm.{fn}(a, b, c)", lambda rng, f: (
        rng.uniform(0.1, 0.9, 4), rng.standard_normal(4), rng.uniform(0.5, 2, 4)),
        fields(fn=pick("sf", "logsf", "ppf", "isf")), wrt=(0, 1, 2),
        also=("scipy.stats.norm.logsf", "scipy.stats.norm.ppf", "scipy.stats.norm.isf")),
    Case("scipy.stats.t.pdf", "scipy.stats.t.{fn}(a, b, c, 1.5)", lambda rng, f: (
        rng.standard_normal(4), rng.uniform(2.1, 5, 4), rng.standard_normal(4)),
        fields(fn=pick("pdf", "logpdf")), wrt=(0, 1, 2), also=("scipy.stats.t.logpdf",)),
    Case("scipy.stats.t.cdf", "scipy.stats.t.{fn}(a, 3.5, b)", same(1), fields(fn=pick("cdf", "logcdf")), wrt=(0, 1),
         numba=False, also=("scipy.stats.t.logcdf",)),
    Case("scipy.stats.chi2.pdf", "scipy.stats.{dist}.{fn}(a, b)", lambda rng, f: (
        rng.uniform(0.5, 3, 4), rng.uniform(1.5, 4, 4)), fields(dist=pick("chi2", "gamma"), fn=pick("pdf", "logpdf")),
        wrt=(0, 1), also=("scipy.stats.chi2.logpdf", "scipy.stats.gamma.pdf", "scipy.stats.gamma.logpdf")),
    Case("scipy.stats.chi2.cdf", "scipy.stats.{dist}.cdf(a, 2.5)", positive(1, 0.5, 3), fields(
        dist=pick("chi2", "gamma")), numba=False, also=("scipy.stats.gamma.cdf",)),
    Case("scipy.stats.beta.pdf", "scipy.stats.beta.{fn}(a, b, c)", lambda rng, f: (
        rng.uniform(0.1, 0.9, 4), rng.uniform(1.5, 3, 4), rng.uniform(1.5, 3, 4)), fields(fn=pick("pdf", "logpdf")),
        wrt=(0, 1, 2), also=("scipy.stats.beta.logpdf",)),
    Case("scipy.stats.beta.cdf", "scipy.stats.beta.cdf(a, 2.0, 3.0)", positive(1, 0.1, 0.9), numba=False),
    Case("scipy.stats.poisson.pmf", "scipy.stats.poisson.{fn}(np.array([0.0, 1.0, 4.0]), a)", positive(0, 0.5, 3),
         fields(fn=pick("pmf", "logpmf")), also=("scipy.stats.poisson.logpmf",)),
    Case("scipy.stats.poisson.cdf", "scipy.stats.poisson.cdf(np.array([0.0, 1.0, 4.0]), a)", positive(1, 0.5, 3),
         numba=False),
    Case("scipy.stats.dirichlet.pdf", "scipy.stats.dirichlet.{fn}(a / np.sum(a), b)", lambda rng, f: (
        rng.uniform(0.5, 2, 3), rng.uniform(0.5, 3, 3)), fields(fn=pick("pdf", "logpdf")), wrt=(0, 1),
        also=("scipy.stats.dirichlet.logpdf",)),
    Case("scipy.stats.multivariate_normal.logpdf", "scipy.stats.multivariate_normal.{fn}(a, b, c @ c.T + 3.0 * np.eye(3))",
         lambda rng, f: (rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((3, 3))),
         fields(fn=pick("pdf", "logpdf")), wrt=(0, 1, 2), also=("scipy.stats.multivariate_normal.pdf",)),
    Case("scipy.stats.multivariate_normal.entropy", "scipy.stats.multivariate_normal.entropy(b, a @ a.T + np.eye(3))",
         lambda rng, f: (rng.standard_normal((3, 3)), rng.standard_normal(3))),
    Case("scipy.stats.norm.pdf", "scipy.stats.norm.pdf(a, b, 1.5)", lambda rng, f: (
        rng.standard_normal(4), float(rng.standard_normal())), wrt=(0, 1)),
    Case("scipy.stats.norm.logpdf", "scipy.stats.norm.logpdf(a)", normal(2)),
    Case("scipy.stats.norm.cdf", "scipy.stats.norm.cdf(a, 0.5, b)", lambda rng, f: (
        rng.standard_normal(4), float(rng.uniform(0.5, 2))), wrt=(0, 1)),
    Case("scipy.stats.norm.logcdf", "scipy.stats.norm.logcdf(a)", normal(2)),
]
if hasattr(np, "row_stack"):  # (NumPy's older name for vstack, gone from NumPy 2.5 on)
    CASES.append(Case("numpy.row_stack", "np.row_stack(a)", normal(2)))


def _id(case):
    return case.id or case.key.split(".")[-1]


def _function(template, count, tmp_path):
    """A function of `count` arguments returning np.sum(np.sin(template)), from a module of its own."""
    text = (f"import numpy as np\nimport scipy.linalg\nimport scipy.special\nimport scipy.stats\n\n\n"
            f"def f({', '.join('abc'[:count])}):\n    return np.sum(np.sin({template}))\n")
    name = f"numpy_case_{zlib.crc32(text.encode()):08x}"
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.f, text


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_case(case, tmp_path):
    for seed in range(SEEDS):
        rng = np.random.default_rng(zlib.crc32(f"{_id(case)}-{seed}".encode()))
        values = case.fields(rng)
        args = case.args(rng, values)
        f, text = _function(case.template.format(**values), len(args), tmp_path)
        jit = case.numba and seed == 0 and (SEEDS > 1 or zlib.crc32(_id(case).encode()) % 5 == 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            found = failures(f, args, case.wrt if len(case.wrt) > 1 else case.wrt[0], jit=jit)
        assert not found, f"{_id(case)} seed {seed} (jit={jit}):\n{text}\n" + "\n".join(found)


def test_einsum_refuses_what_it_does_not_write(tmp_path):
    """Subscripts or lists of axes known only at run time are refused with a SourceError at the user's call."""
    import adjoint

    for call in ("np.einsum(str(a.shape[0]), a)", "np.einsum(a, [0, a.shape[0] - 2])"):
        f, _ = _function(call, 1, tmp_path)
        with pytest.raises(adjoint.AdjointError, match="einsum"):
            adjoint.grad(f, jit=False)(np.ones((3, 3)))
