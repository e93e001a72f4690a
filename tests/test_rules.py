"""Every differentiable rule in adjoint's rule table, checked against central differences.

One table, `ROWS`, drives the file (in the manner of JAX's GradTestSpec). A row names the rule it
covers (the dotted path of the primitive, "ndarray.<name>" for a method or attribute, None for
indexing, which the reverse transform handles without a rule), a module-level test function that
calls that primitive, the arguments drawn from a NumPy Generator inside the primitive's domain, and
which arguments are differentiated. Each check is `adjoint.check_grad(fn, *args, wrt=..., jit=...)`.

Every row runs with jit=False; rows with `jit_too=True` also run under Numba (see "Run time" below
for why not all). `nojit=True` marks rows whose primal uses a NumPy feature that Numba's nopython
mode lacks (mostly `axis=` on reductions): under jit they run with jit=None and must fall back to
Python with a warning, not be skipped. A row that fails because adjoint itself is wrong is wrapped
in `bug(row, reason)` (a strict xfail), or carries `jit_bug=reason` when only its jit path is wrong.

`test_every_rule_has_a_row` fails when a differentiable rule (other than a custom_vjp rule) has no
row, `test_every_rule_is_compiled` and `test_every_helper_is_compiled` when a rule or a runtime
helper is never run under Numba, and `test_rows_call_their_primitive` when a row's function does not
call the primitive its row claims to cover.
"""
import ast
import builtins
import contextlib
import inspect
import math
import os
import operator
import signal
import subprocess
import sys
import textwrap
import zlib
from typing import Callable, NamedTuple

import numpy as np
import pytest

import adjoint
from adjoint import runtime
from adjoint.rules import parse_rule, resolve_path
from adjoint.rules.table import TABLE

# --- test functions: one primitive each, written plainly --------------------------------------------

# operators


def f_add(a, b):
    return a + b


def f_sub(a, b):
    return a - b


def f_mul(a, b):
    return a * b


def f_div(a, b):
    return a / b


def f_pow(a, b):
    return a ** b


def f_mod(a, b):
    return a % b


def f_matmul(a, b):
    return a @ b


def f_neg(a):
    return -a


def f_pos(a):
    return +a


# builtins


def f_abs(x):
    return abs(x)


def f_float(x):
    return float(x)


def f_float_of_sum(x):
    return float(np.sum(x))


def f_max(a, b):
    return max(a, b)


def f_min(a, b):
    return min(a, b)


# math


def f_math_sin(x):
    return math.sin(x)


def f_math_cos(x):
    return math.cos(x)


def f_math_tan(x):
    return math.tan(x)


def f_math_exp(x):
    return math.exp(x)


def f_math_log(x):
    return math.log(x)


def f_math_log2(x):
    return math.log2(x)


def f_math_log10(x):
    return math.log10(x)


def f_math_log1p(x):
    return math.log1p(x)


def f_math_expm1(x):
    return math.expm1(x)


def f_math_sqrt(x):
    return math.sqrt(x)


def f_math_tanh(x):
    return math.tanh(x)


def f_math_sinh(x):
    return math.sinh(x)


def f_math_cosh(x):
    return math.cosh(x)


def f_math_asin(x):
    return math.asin(x)


def f_math_acos(x):
    return math.acos(x)


def f_math_atan(x):
    return math.atan(x)


def f_math_atan2(y, x):
    return math.atan2(y, x)


def f_math_hypot(x, y):
    return math.hypot(x, y)


def f_math_pow(x, y):
    return math.pow(x, y)


def f_math_fabs(x):
    return math.fabs(x)


def f_math_erf(x):
    return math.erf(x)


# NumPy elementwise


def f_sin(x):
    return np.sin(x)


def f_sum_sin(x):
    return np.sum(np.sin(x))


def f_cos(x):
    return np.cos(x)


def f_tan(x):
    return np.tan(x)


def f_exp(x):
    return np.exp(x)


def f_log(x):
    return np.log(x)


def f_log2(x):
    return np.log2(x)


def f_log10(x):
    return np.log10(x)


def f_log1p(x):
    return np.log1p(x)


def f_expm1(x):
    return np.expm1(x)


def f_sqrt(x):
    return np.sqrt(x)


def f_tanh(x):
    return np.tanh(x)


def f_sinh(x):
    return np.sinh(x)


def f_logistic(x):
    """The rule the normalizer gives `1 / (1 + np.exp(-x))` (tests/test_golden.py has that spelling)."""
    return runtime.logistic(x)


def f_cosh(x):
    return np.cosh(x)


def f_arcsin(x):
    return np.arcsin(x)


def f_arcsinh(x):
    return np.arcsinh(x)


def f_arccosh(x):
    return np.arccosh(x)


def f_arctanh(x):
    return np.arctanh(x)


def f_cbrt(x):
    return np.cbrt(x)


def f_exp2(x):
    return np.exp2(x)


def f_deg2rad(x):
    return np.deg2rad(x)


def f_rad2deg(x):
    return np.rad2deg(x)


def f_fabs(x):
    return np.fabs(x)


def f_sinc(x):
    return np.sinc(x)


def f_arccos(x):
    return np.arccos(x)


def f_arctan(x):
    return np.arctan(x)


def f_np_abs(x):
    return np.abs(x)


def f_square(x):
    return np.square(x)


def f_reciprocal(x):
    return np.reciprocal(x)


def f_negative(x):
    return np.negative(x)


def f_np_add(x1, x2):
    return np.add(x1, x2)


def f_np_subtract(x1, x2):
    return np.subtract(x1, x2)


def f_np_multiply(x1, x2):
    return np.multiply(x1, x2)


def f_np_divide(x1, x2):
    return np.divide(x1, x2)


def f_np_power(x1, x2):
    return np.power(x1, x2)


def f_arctan2(x1, x2):
    return np.arctan2(x1, x2)


def f_np_hypot(x1, x2):
    return np.hypot(x1, x2)


def f_maximum(x1, x2):
    return np.maximum(x1, x2)


def f_minimum(x1, x2):
    return np.minimum(x1, x2)


def f_logaddexp(x1, x2):
    return np.logaddexp(x1, x2)


def f_where(c, x, y):
    return np.where(c > 0.0, x, y)


def f_clip(a, lo, hi):
    return np.clip(a, lo, hi)


# NumPy reductions and linear algebra


def f_sum(x):
    return np.sum(x)


def f_sum_axis0(x):
    return np.sum(x, axis=0)


def f_sum_axis1(x):
    return np.sum(x, axis=1)


def f_sum_axis_neg(x):
    return np.sum(x, axis=-1)


def f_sum_vector_axis0(x):
    return np.sum(x, axis=0)


def f_mean(x):
    return np.mean(x)


def f_mean_axis0(x):
    return np.mean(x, axis=0)


def f_mean_axis1(x):
    return np.mean(x, axis=1)


def f_mean_vector_axis0(x):
    return np.mean(x, axis=0)


def f_var(x):
    return np.var(x)


def f_var_axis1(x):
    return np.var(x, axis=1)


def f_var_ddof(x):
    return np.var(x, ddof=1)


def f_var_axes(x):
    return np.var(x, axis=(0, 2))


def f_var_vector_ddof(x):
    return x.var(ddof=1) + np.var(x[::2], ddof=1)


def f_std_axes_kept(x):
    return np.sum(np.std(x, axis=(-1, 1), ddof=1, keepdims=True) * x)


def f_std(x):
    return np.std(x)


def f_std_axis0(x):
    return np.std(x, axis=0)


def f_std_ddof(x):
    return np.std(x, ddof=1)


def f_max_all(x):
    return np.max(x)


def f_max_axis0(x):
    return np.max(x, axis=0)


def f_max_axis1(x):
    return np.max(x, axis=1)


def f_min_all(x):
    return np.min(x)


def f_min_axis1(x):
    return np.min(x, axis=1)


def f_amax(x):
    return np.amax(x)


def f_amax_axis0(x):
    return np.amax(x, axis=0)


def f_amin(x):
    return np.amin(x)


def f_amin_axis1(x):
    return np.amin(x, axis=1)


def f_prod(x):
    return np.prod(x)


def f_prod_axis0(x):
    return np.prod(x, axis=0)


def f_prod_axis1(x):
    return np.prod(x, axis=1)


def f_prod_axes(x):
    return np.prod(x, axis=(0, 2))


def f_cumsum(x):
    return np.cumsum(x)


def f_cumsum_axis0(x):
    return np.cumsum(x, axis=0)


def f_cumsum_axis1(x):
    return np.cumsum(x, axis=1)


def f_diff(x):
    return np.diff(x)


def f_diff_2d(x):
    return np.diff(x)


def f_dot(a, b):
    return np.dot(a, b)


def f_matmul_np(x1, x2):
    return np.matmul(x1, x2)


def f_outer(a, b):
    return np.outer(a, b)


def f_trace(a):
    return np.trace(a)


def f_trace_3d(a):
    return np.trace(a)


def f_norm(x):
    return np.linalg.norm(x)


# NumPy shapes and copies


def f_reshape(x):
    return np.reshape(x, (4, 3))


def f_reshape_flat(x):
    return np.reshape(x, -1)


def f_ravel(x):
    return np.ravel(x)


def f_transpose(x):
    return np.transpose(x)


def f_expand_dims(x):
    return np.expand_dims(x, 1)


def f_copy(x):
    return np.copy(x)


def f_array(x):
    return np.array(x)


def f_array_dtype(x):
    return np.array(x, dtype=np.float64)


def f_asarray(x):
    return np.asarray(x)


def f_float64(x):
    return np.float64(x)


def f_full(s):
    return np.full((3, 4), s)


def f_concatenate(a, b):
    return np.concatenate((a, b))


def f_concatenate_axis1(a, b):
    return np.concatenate((a, b), axis=1)


def f_concatenate_three(a, b, c):
    return np.concatenate((a, b, c), axis=0)


def f_concatenate_flat(a, b):
    return np.concatenate((a, b), axis=None)


def f_stack(a, b):
    return np.stack((a, b))


def f_stack_axis1(a, b):
    return np.stack((a, b), axis=1)


def f_stack_axis2(a, b):
    return np.stack((a, b), axis=2)


def f_numbers(a, b):
    """The rule the normalizer gives `np.array([a, b * b, 2.0])` (tests/test_containers.py has that spelling)."""
    return runtime.numbers((a, b * b, 2.0)) * runtime.numbers((b, a)).sum()


def f_enlarged(a, b):
    """The rule a list grown in a while loop gives its rows as it fills them (tests/test_grown.py)."""
    rows = runtime.enlarged(np.stack((a, b)), a, 4)
    return runtime.enlarged(rows, a, 6) * b


# ndarray methods and attributes


def m_sum(x):
    return x.sum()


def m_sum_axis(x):
    return x.sum(axis=0)


def m_mean(x):
    return x.mean()


def m_var(x):
    return x.var()


def m_std(x):
    return x.std()


def m_max(x):
    return x.max()


def m_min(x):
    return x.min()


def m_prod(x):
    return x.prod()


def m_cumsum(x):
    return x.cumsum()


def m_dot(a, b):
    return a.dot(b)


def m_copy(x):
    return x.copy()


def m_ravel(x):
    return x.ravel()


def m_transpose(x):
    return x.transpose()


def m_reshape(x):
    return x.reshape(4, 3)


def m_reshape_tuple(x):
    return x.reshape((2, 6))


def m_flatten(x):
    return x.flatten()


def m_astype(x):
    return x.astype(np.float64)


def m_T(x):
    return x.T


# indexing (no rule: the reverse transform writes `x_bar[index] += g` itself)


def i_int(x):
    return x[1]


def i_negative(x):
    return x[-1]


def i_slice(x):
    return x[1:3]


def i_step(x):
    return x[::-2]


def i_none(x):
    return x[None]


def i_element(x):
    return x[1, 2]


def i_tuple(x):
    return x[1:, -1]


def i_tuple_none(x):
    return x[None, 0, 1:3]


def i_variable(x, i):
    return x[i]


def i_twice(x):
    return x[0] * x[-1]


def i_mixed_apart(x):  # (an int and an array apart: the array's axis first, as NumPy puts it)
    return x[1, 1:, [0, 2, 2]]


def i_mixed_adjacent(x):  # (an int and an array side by side: the array's axis where they are)
    return x[:, None, 2, [3, 1, -1]]


# --- domains: functions of a numpy Generator ---------------------------------------------------------


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def uniform(lo, hi, *shape):
    return lambda rng: rng.uniform(lo, hi, shape)


def scalar(lo, hi):
    return lambda rng: float(rng.uniform(lo, hi))


def nonzero(*shape):
    """|x| in [0.5, 1.5] with a random sign: away from the kink of abs and the zero of prod."""
    return lambda rng: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)


def nonzero_scalar():
    return lambda rng: float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.5))


def distinct(*shape):
    """Entries at least 0.1 apart from each other: max/min have no ties."""
    def make(rng):
        n = int(np.prod(shape))
        grid = np.linspace(-1.0, 1.0, n) + rng.uniform(-0.02, 0.02, n)
        return rng.permutation(grid).reshape(shape)
    return make


def const(value):
    return lambda rng: value


def args(*domains):
    return lambda rng: tuple(d(rng) for d in domains)


def untied_pair(*shape):
    """Two arrays that differ by at least 0.2 everywhere (np.maximum/np.minimum without ties)."""
    def make(rng):
        a = rng.standard_normal(shape)
        return a, a + rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 1.0, shape)
    return make


def untied_scalars():
    def make(rng):
        a = float(rng.standard_normal())
        return a, a + float(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 1.0))
    return make


def mod_pair(shape_a, shape_b):
    """a % b with a / b at least 0.2 from an integer: away from the jumps of mod."""
    def make(rng):
        b = rng.uniform(1.5, 2.5, shape_b)
        k = rng.integers(-2, 3, np.broadcast_shapes(shape_a, shape_b))
        frac = rng.uniform(0.2, 0.8, k.shape)
        a = (k + frac) * b
        assert a.shape == shape_a, "mod_pair: the first operand must have the broadcast shape"
        return (float(a) if shape_a == () else a), (float(b) if shape_b == () else b)
    return make


def clip_args(shape, bounds_shape):
    """a away from the clip bounds -0.5 and 0.5 (|a -+ 0.5| >= 0.1)."""
    def make(rng):
        a = rng.choice([-1.0, 0.0, 1.0], shape) * 0.8 + rng.uniform(-0.2, 0.2, shape)
        lo, hi = np.full(bounds_shape, -0.5), np.full(bounds_shape, 0.5)
        if bounds_shape == ():
            return a, float(lo), float(hi)
        return a, lo, hi
    return make


def where_args(shape_x, shape_y):
    def make(rng):
        return rng.standard_normal((3, 4)), rng.standard_normal(shape_x), (
            float(rng.standard_normal()) if shape_y == () else rng.standard_normal(shape_y))
    return make


# --- the table ---------------------------------------------------------------------------------------


class Row(NamedTuple):
    key: object  # dotted path of the primitive, "ndarray.<name>", or None for indexing
    fn: Callable
    args: Callable  # numpy Generator -> the positional arguments
    wrt: object = 0
    nojit: bool = False  # Numba's nopython mode lacks the primal: under jit it runs with jit=None, must fall back
    jit_too: bool = False  # also checked under jit (jit=True, or jit=None for a nojit row); see "Run time"
    jit_bug: str = ""  # adjoint's jit path is wrong here (its Python path is right): xfail under jit
    id: str = ""


def bug(row, reason):
    """A row that fails because adjoint itself is wrong (with jit=False already)."""
    return pytest.param(row, marks=pytest.mark.xfail(strict=True, reason=reason))


# Run time. Numba compiles each generated function once per session (conftest gives every session a
# fresh cache folder): about 0.05 s for one on floats but 0.4-1 s for one on arrays, and jit=True on
# every row made this file take about two minutes. So every row runs with jit=False, and `jit_too=True`
# marks the rows that also run under Numba: at least one row per rule (test_every_rule_is_compiled),
# on floats where that is enough to compile the rule's formula, one row per runtime helper
# (test_every_helper_is_compiled), each broadcasting pattern of unbroadcast once, every 1-d/2-d
# pairing of @, each kind of index, and one row per primitive that Numba lacks (the fallback).

MAT, VEC, COL = (3, 4), (4,), (3, 1)
BOTH = (0, 1)

ROWS = [
    # operators, on floats
    Row("operator.add", f_add, args(scalar(-2, 2), scalar(-2, 2)), BOTH, id="add-scalars", jit_too=True),
    Row("operator.sub", f_sub, args(scalar(-2, 2), scalar(-2, 2)), BOTH, id="sub-scalars", jit_too=True),
    Row("operator.mul", f_mul, args(scalar(-2, 2), scalar(-2, 2)), BOTH, id="mul-scalars", jit_too=True),
    Row("operator.truediv", f_div, args(scalar(-2, 2), nonzero_scalar()), BOTH, id="div-scalars", jit_too=True),
    Row("operator.pow", f_pow, args(scalar(0.5, 2), scalar(-2, 2)), BOTH, id="pow-scalars", jit_too=True),
    Row("operator.mod", f_mod, mod_pair((), ()), BOTH, id="mod-scalars", jit_too=True),
    Row("operator.neg", f_neg, args(scalar(-2, 2)), id="neg-scalar", jit_too=True),
    Row("operator.pos", f_pos, args(scalar(-2, 2)), id="pos-scalar", jit_too=True),
    # operators, on arrays of one shape
    Row("operator.add", f_add, args(normal(*MAT), normal(*MAT)), BOTH, id="add-arrays"),
    Row("operator.sub", f_sub, args(normal(*MAT), normal(*MAT)), BOTH, id="sub-arrays"),
    Row("operator.mul", f_mul, args(normal(*MAT), normal(*MAT)), BOTH, id="mul-arrays"),
    Row("operator.truediv", f_div, args(normal(*MAT), nonzero(*MAT)), BOTH, id="div-arrays"),
    Row("operator.pow", f_pow, args(uniform(0.5, 2, *MAT), normal(*MAT)), BOTH, id="pow-arrays"),
    Row("operator.pow", f_pow, args(normal(*MAT), const(3)), id="pow-array-int", jit_too=True),
    Row("operator.mod", f_mod, mod_pair(MAT, MAT), BOTH, id="mod-arrays"),
    Row("operator.neg", f_neg, args(normal(*MAT)), id="neg-array"),
    Row("operator.pos", f_pos, args(normal(*MAT)), id="pos-array"),
    # operators, broadcasting (3,4) with (4,), with (3,1), and with a float
    Row("operator.add", f_add, args(normal(*MAT), normal(*VEC)), BOTH, id="add-mat-vec", jit_too=True),
    Row("operator.add", f_add, args(normal(*COL), normal(*MAT)), BOTH, id="add-col-mat", jit_too=True),
    Row("operator.add", f_add, args(normal(*MAT), scalar(-2, 2)), BOTH, id="add-mat-float", jit_too=True),
    Row("operator.sub", f_sub, args(normal(*VEC), normal(*MAT)), BOTH, id="sub-vec-mat"),
    Row("operator.sub", f_sub, args(normal(*MAT), normal(*COL)), BOTH, id="sub-mat-col"),
    Row("operator.sub", f_sub, args(scalar(-2, 2), normal(*MAT)), BOTH, id="sub-float-mat"),
    Row("operator.mul", f_mul, args(normal(*MAT), normal(*VEC)), BOTH, id="mul-mat-vec"),
    Row("operator.mul", f_mul, args(normal(*MAT), normal(*COL)), BOTH, id="mul-mat-col"),
    Row("operator.mul", f_mul, args(scalar(-2, 2), normal(*MAT)), BOTH, id="mul-float-mat"),
    Row("operator.mul", f_mul, args(normal(*COL), normal(*VEC)), BOTH, id="mul-col-vec", jit_too=True),
    Row("operator.truediv", f_div, args(normal(*MAT), nonzero(*VEC)), BOTH, id="div-mat-vec"),
    Row("operator.truediv", f_div, args(normal(*COL), nonzero(*MAT)), BOTH, id="div-col-mat"),
    Row("operator.truediv", f_div, args(scalar(-2, 2), nonzero(*MAT)), BOTH, id="div-float-mat"),
    Row("operator.truediv", f_div, args(normal(*MAT), nonzero_scalar()), BOTH, id="div-mat-float"),
    Row("operator.pow", f_pow, args(uniform(0.5, 2, *MAT), normal(*VEC)), BOTH, id="pow-mat-vec"),
    Row("operator.pow", f_pow, args(uniform(0.5, 2, *MAT), scalar(1.5, 3)), BOTH, id="pow-mat-float"),
    Row("operator.pow", f_pow, args(scalar(0.5, 2), normal(*COL)), BOTH, id="pow-float-col", jit_too=True),
    Row("operator.mod", f_mod, mod_pair(MAT, VEC), BOTH, id="mod-mat-vec", jit_too=True),
    Row("operator.mod", f_mod, mod_pair(MAT, ()), BOTH, id="mod-mat-float"),
    # @ for every pairing of 1-d and 2-d operands
    Row("operator.matmul", f_matmul, args(normal(4), normal(4)), BOTH, id="matmul-op-1d-1d", jit_too=True),
    Row("operator.matmul", f_matmul, args(normal(3, 4), normal(4)), BOTH, id="matmul-op-2d-1d", jit_too=True),
    Row("operator.matmul", f_matmul, args(normal(3), normal(3, 4)), BOTH, id="matmul-op-1d-2d", jit_too=True),
    Row("operator.matmul", f_matmul, args(normal(3, 4), normal(4, 2)), BOTH, id="matmul-op-2d-2d", jit_too=True),
    Row("operator.matmul", f_matmul, args(normal(2, 3, 4), normal(2, 4, 5)), BOTH, id="matmul-op-3d-3d"),
    Row("operator.matmul", f_matmul, args(normal(2, 3, 4), normal(4)), BOTH, id="matmul-op-3d-1d"),
    Row("operator.matmul", f_matmul, args(normal(4), normal(2, 4, 5)), BOTH, id="matmul-op-1d-3d"),
    Row("operator.matmul", f_matmul, args(normal(2, 3, 4), normal(4, 5)), BOTH, id="matmul-op-3d-2d"),
    # builtins, on floats (abs also on an array, which Numba's abs() does not take)
    Row("builtins.abs", f_abs, args(nonzero_scalar()), id="abs-scalar", jit_too=True),
    Row("builtins.abs", f_abs, args(nonzero(*MAT)), nojit=True, id="abs-array", jit_too=True),
    Row("builtins.float", f_float, args(scalar(-2, 2)), id="float-scalar", jit_too=True),
    Row("builtins.float", f_float_of_sum, args(normal(*MAT)), id="float-of-sum", jit_too=True),
    Row("builtins.max", f_max, untied_scalars(), BOTH, id="max-scalars", jit_too=True),
    Row("builtins.min", f_min, untied_scalars(), BOTH, id="min-scalars", jit_too=True),
    # math, on floats
    Row("math.sin", f_math_sin, args(scalar(-3, 3)), jit_too=True),
    Row("math.cos", f_math_cos, args(scalar(-3, 3)), jit_too=True),
    Row("math.tan", f_math_tan, args(scalar(-1.2, 1.2)), jit_too=True),
    Row("math.exp", f_math_exp, args(scalar(-2, 2)), jit_too=True),
    Row("math.log", f_math_log, args(scalar(0.2, 3)), jit_too=True),
    Row("math.log2", f_math_log2, args(scalar(0.2, 3)), jit_too=True),
    Row("math.log10", f_math_log10, args(scalar(0.2, 3)), jit_too=True),
    Row("math.log1p", f_math_log1p, args(scalar(-0.8, 3)), jit_too=True),
    Row("math.expm1", f_math_expm1, args(scalar(-2, 2)), jit_too=True),
    Row("math.sqrt", f_math_sqrt, args(scalar(0.2, 3)), jit_too=True),
    Row("math.tanh", f_math_tanh, args(scalar(-2, 2)), jit_too=True),
    Row("math.sinh", f_math_sinh, args(scalar(-2, 2)), jit_too=True),
    Row("math.cosh", f_math_cosh, args(scalar(-2, 2)), jit_too=True),
    Row("math.asin", f_math_asin, args(scalar(-0.9, 0.9)), jit_too=True),
    Row("math.acos", f_math_acos, args(scalar(-0.9, 0.9)), jit_too=True),
    Row("math.atan", f_math_atan, args(scalar(-3, 3)), jit_too=True),
    Row("math.atan2", f_math_atan2, args(scalar(-2, 2), nonzero_scalar()), BOTH, jit_too=True),
    Row("math.hypot", f_math_hypot, args(nonzero_scalar(), nonzero_scalar()), BOTH, jit_too=True),
    Row("math.pow", f_math_pow, args(scalar(0.5, 2), scalar(-2, 2)), BOTH, jit_too=True),
    Row("math.fabs", f_math_fabs, args(nonzero_scalar()), jit_too=True),
    Row("math.erf", f_math_erf, args(scalar(-2, 2)), jit_too=True),
    # NumPy elementwise, on arrays; under Numba on floats (0.05 s to compile, against 0.4 s on arrays)
    Row("numpy.sin", f_sin, args(normal(*MAT)), jit_too=True),
    Row("numpy.sin", f_sum_sin, args(normal(*MAT))),
    Row("numpy.sin", f_sin, args(scalar(-3, 3)), id="f_sin-float", jit_too=True),
    Row("numpy.cos", f_cos, args(normal(*MAT))),
    Row("numpy.cos", f_cos, args(scalar(-3, 3)), id="f_cos-float", jit_too=True),
    Row("numpy.tan", f_tan, args(uniform(-1.2, 1.2, *MAT))),
    Row("numpy.tan", f_tan, args(scalar(-1.2, 1.2)), id="f_tan-float", jit_too=True),
    Row("numpy.exp", f_exp, args(normal(*MAT))),
    Row("numpy.exp", f_exp, args(scalar(-2, 2)), id="f_exp-float", jit_too=True),
    Row("numpy.log", f_log, args(uniform(0.2, 3, *MAT))),
    Row("numpy.log", f_log, args(scalar(0.2, 3)), id="f_log-float", jit_too=True),
    Row("numpy.log2", f_log2, args(uniform(0.2, 3, *MAT))),
    Row("numpy.log2", f_log2, args(scalar(0.2, 3)), id="f_log2-float", jit_too=True),
    Row("numpy.log10", f_log10, args(uniform(0.2, 3, *MAT))),
    Row("numpy.log10", f_log10, args(scalar(0.2, 3)), id="f_log10-float", jit_too=True),
    Row("numpy.log1p", f_log1p, args(uniform(-0.8, 3, *MAT))),
    Row("numpy.log1p", f_log1p, args(scalar(-0.8, 3)), id="f_log1p-float", jit_too=True),
    Row("numpy.expm1", f_expm1, args(normal(*MAT))),
    Row("numpy.expm1", f_expm1, args(scalar(-2, 2)), id="f_expm1-float", jit_too=True),
    Row("numpy.sqrt", f_sqrt, args(uniform(0.2, 3, *MAT)), jit_too=True),
    Row("numpy.tanh", f_tanh, args(normal(*MAT))),
    Row("numpy.tanh", f_tanh, args(scalar(-2, 2)), id="f_tanh-float", jit_too=True),
    Row("adjoint.runtime.logistic", f_logistic, args(normal(*MAT))),
    Row("adjoint.runtime.logistic", f_logistic, args(normal(*VEC)), id="f_logistic-vector", jit_too=True),
    Row("adjoint.runtime.logistic", f_logistic, args(scalar(-3, 3)), id="f_logistic-float", jit_too=True),
    Row("numpy.sinh", f_sinh, args(normal(*MAT))),
    Row("numpy.sinh", f_sinh, args(scalar(-2, 2)), id="f_sinh-float", jit_too=True),
    Row("numpy.cosh", f_cosh, args(normal(*MAT))),
    Row("numpy.cosh", f_cosh, args(scalar(-2, 2)), id="f_cosh-float", jit_too=True),
    Row("numpy.arcsinh", f_arcsinh, args(normal(*MAT))),
    Row("numpy.arcsinh", f_arcsinh, args(scalar(-2, 2)), id="f_arcsinh-float", jit_too=True),
    Row("numpy.arccosh", f_arccosh, args(uniform(1.2, 4, *MAT))),
    Row("numpy.arccosh", f_arccosh, args(scalar(1.2, 4)), id="f_arccosh-float", jit_too=True),
    Row("numpy.arctanh", f_arctanh, args(uniform(-0.9, 0.9, *MAT))),
    Row("numpy.arctanh", f_arctanh, args(scalar(-0.9, 0.9)), id="f_arctanh-float", jit_too=True),
    Row("numpy.cbrt", f_cbrt, args(uniform(0.3, 3, *MAT))),
    Row("numpy.cbrt", f_cbrt, args(scalar(-3, -0.3)), id="f_cbrt-float", jit_too=True),
    Row("numpy.exp2", f_exp2, args(normal(*MAT))),
    Row("numpy.exp2", f_exp2, args(scalar(-2, 2)), id="f_exp2-float", jit_too=True),
    Row("numpy.deg2rad", f_deg2rad, args(normal(*MAT))),
    Row("numpy.deg2rad", f_deg2rad, args(scalar(-2, 2)), id="f_deg2rad-float", jit_too=True),
    Row("numpy.rad2deg", f_rad2deg, args(normal(*MAT))),
    Row("numpy.rad2deg", f_rad2deg, args(scalar(-2, 2)), id="f_rad2deg-float", jit_too=True),
    Row("numpy.fabs", f_fabs, args(nonzero(*MAT))),
    Row("numpy.sinc", f_sinc, args(uniform(-2.5, 2.5, *MAT))),
    Row("numpy.sinc", f_sinc, args(scalar(-2.5, 2.5)), id="f_sinc-float", jit_too=True),
    Row("numpy.fabs", f_fabs, args(scalar(-2, -0.2)), id="f_fabs-float", jit_too=True),
    Row("numpy.arcsin", f_arcsin, args(uniform(-0.9, 0.9, *MAT))),
    Row("numpy.arcsin", f_arcsin, args(scalar(-0.9, 0.9)), id="f_arcsin-float", jit_too=True),
    Row("numpy.arccos", f_arccos, args(uniform(-0.9, 0.9, *MAT))),
    Row("numpy.arccos", f_arccos, args(scalar(-0.9, 0.9)), id="f_arccos-float", jit_too=True),
    Row("numpy.arctan", f_arctan, args(normal(*MAT))),
    Row("numpy.arctan", f_arctan, args(scalar(-3, 3)), id="f_arctan-float", jit_too=True),
    Row("numpy.abs", f_np_abs, args(nonzero(*MAT)), jit_too=True),
    Row("numpy.square", f_square, args(normal(*MAT))),
    Row("numpy.square", f_square, args(scalar(-2, 2)), id="f_square-float", jit_too=True),
    Row("numpy.reciprocal", f_reciprocal, args(nonzero(*MAT))),
    Row("numpy.reciprocal", f_reciprocal, args(nonzero_scalar()), id="f_reciprocal-float", jit_too=True),
    Row("numpy.negative", f_negative, args(normal(*MAT))),
    Row("numpy.negative", f_negative, args(scalar(-2, 2)), id="f_negative-float", jit_too=True),
    Row("numpy.add", f_np_add, args(normal(*MAT), normal(*VEC)), BOTH, id="np_add-mat-vec"),
    Row("numpy.add", f_np_add, args(normal(*MAT), scalar(-2, 2)), BOTH, id="np_add-mat-float"),
    Row("numpy.add", f_np_add, args(scalar(-2, 2), scalar(-2, 2)), BOTH, id="np_add-floats", jit_too=True),
    Row("numpy.subtract", f_np_subtract, args(normal(*COL), normal(*MAT)), BOTH, id="np_subtract-col-mat"),
    Row("numpy.subtract", f_np_subtract, args(scalar(-2, 2), scalar(-2, 2)), BOTH, id="np_subtract-floats",
        jit_too=True),
    Row("numpy.multiply", f_np_multiply, args(normal(*MAT), normal(*COL)), BOTH, id="np_multiply-mat-col",
        jit_too=True),
    Row("numpy.multiply", f_np_multiply, args(normal(*MAT), normal(*MAT)), BOTH, id="np_multiply-mat-mat"),
    Row("numpy.divide", f_np_divide, args(normal(*MAT), nonzero(*VEC)), BOTH, id="np_divide-mat-vec"),
    Row("numpy.divide", f_np_divide, args(scalar(-2, 2), nonzero_scalar()), BOTH, id="np_divide-floats",
        jit_too=True),
    Row("numpy.power", f_np_power, args(uniform(0.5, 2, *MAT), normal(*MAT)), BOTH, id="np_power-mat-mat"),
    Row("numpy.power", f_np_power, args(uniform(0.5, 2, *MAT), normal(*COL)), BOTH, id="np_power-mat-col"),
    Row("numpy.power", f_np_power, args(scalar(0.5, 2), scalar(-2, 2)), BOTH, id="np_power-floats", jit_too=True),
    Row("numpy.arctan2", f_arctan2, args(normal(*MAT), nonzero(*VEC)), BOTH, id="arctan2-mat-vec"),
    Row("numpy.arctan2", f_arctan2, args(scalar(-2, 2), nonzero_scalar()), BOTH, id="arctan2-floats",
        jit_too=True),
    Row("numpy.hypot", f_np_hypot, args(nonzero(*MAT), nonzero(*MAT)), BOTH, id="np_hypot"),
    Row("numpy.hypot", f_np_hypot, args(nonzero_scalar(), nonzero_scalar()), BOTH, id="np_hypot-floats",
        jit_too=True),
    Row("numpy.maximum", f_maximum, untied_pair(*MAT), BOTH, id="maximum", jit_too=True),
    Row("numpy.maximum", f_maximum, untied_scalars(), BOTH, id="maximum-floats", jit_too=True),
    Row("numpy.minimum", f_minimum, untied_pair(*MAT), BOTH, id="minimum"),
    Row("numpy.minimum", f_minimum, untied_scalars(), BOTH, id="minimum-floats", jit_too=True),
    Row("numpy.logaddexp", f_logaddexp, args(normal(*MAT), normal(*VEC)), BOTH, id="logaddexp-mat-vec"),
    Row("numpy.logaddexp", f_logaddexp, args(scalar(-2, 2), scalar(-2, 2)), BOTH, id="logaddexp-floats",
        jit_too=True),
    Row("numpy.where", f_where, where_args(MAT, MAT), (1, 2), id="where"),
    Row("numpy.where", f_where, where_args(VEC, COL), (1, 2), id="where-vec-col", jit_too=True),
    Row("numpy.where", f_where, where_args(MAT, ()), (1, 2), id="where-mat-float"),
    Row("numpy.clip", f_clip, clip_args(MAT, ()), (0, 1, 2), id="clip-float-bounds"),
    Row("numpy.clip", f_clip, clip_args(MAT, VEC), (0, 1, 2), id="clip-vec-bounds", jit_too=True),
    # reductions, without and with axis=
    Row("numpy.sum", f_sum, args(normal(*MAT)), jit_too=True),
    Row("numpy.sum", f_sum_axis0, args(normal(*MAT)), jit_too=True),
    Row("numpy.sum", f_sum_axis1, args(normal(*MAT))),
    Row("numpy.sum", f_sum_axis_neg, args(normal(2, 3, 4))),
    Row("numpy.sum", f_sum_vector_axis0, args(normal(5)), jit_too=True),
    Row("numpy.mean", f_mean, args(normal(*MAT)), jit_too=True),
    Row("numpy.mean", f_mean_axis0, args(normal(*MAT)), jit_too=True),
    Row("numpy.mean", f_mean_axis1, args(normal(*MAT))),
    Row("numpy.mean", f_mean_vector_axis0, args(normal(5)), nojit=True),
    Row("numpy.var", f_var, args(normal(*MAT)), jit_too=True),
    Row("numpy.var", f_var_axis1, args(normal(*MAT)), jit_too=True),
    Row("numpy.var", f_var_ddof, args(normal(*MAT)), jit_too=True),  # (over all axes merged: var_axis's loops)
    Row("numpy.var", f_var_axes, args(normal(2, 3, 4)), jit_too=True),
    Row("numpy.var", f_var_vector_ddof, args(normal(5))),
    Row("numpy.std", f_std_axes_kept, args(normal(2, 3, 2, 3)), jit_too=True),
    Row("numpy.std", f_std, args(normal(*MAT)), jit_too=True),
    Row("numpy.std", f_std_axis0, args(normal(*MAT)), jit_too=True),
    Row("numpy.std", f_std_ddof, args(normal(*MAT)), jit_too=True),
    Row("numpy.max", f_max_all, args(distinct(*MAT)), jit_too=True),
    Row("numpy.max", f_max_axis0, args(distinct(*MAT)), jit_too=True),
    Row("numpy.max", f_max_axis1, args(distinct(*MAT))),
    Row("numpy.min", f_min_all, args(distinct(*MAT))),
    Row("numpy.min", f_min_axis1, args(distinct(*MAT)), jit_too=True),
    Row("numpy.amax", f_amax, args(distinct(*MAT))),
    Row("numpy.amax", f_amax_axis0, args(distinct(*MAT)), jit_too=True),  # (loops under Numba: max_axis)
    Row("numpy.amin", f_amin, args(distinct(*MAT))),
    Row("numpy.amin", f_amin_axis1, args(distinct(*MAT)), jit_too=True),
    Row("numpy.prod", f_prod, args(nonzero(*MAT)), jit_too=True),
    Row("numpy.prod", f_prod, args(const(np.array([[1.5, 0.0, -2.0], [0.5, 0.7, 1.2]]))),
        id="f_prod-a-zero"),
    Row("numpy.prod", f_prod_axis0, args(nonzero(*MAT)), jit_too=True),
    Row("numpy.prod", f_prod_axis1, args(nonzero(*MAT))),
    Row("numpy.prod", f_prod_axes, args(nonzero(2, 3, 4)), nojit=True),
    Row("numpy.cumsum", f_cumsum, args(normal(*MAT)), jit_too=True),
    Row("numpy.cumsum", f_cumsum_axis0, args(normal(*MAT)), jit_too=True),  # Numba 0.68 has cumsum's axis=
    Row("numpy.cumsum", f_cumsum_axis1, args(normal(*MAT))),
    Row("numpy.diff", f_diff, args(normal(6))),
    Row("numpy.diff", f_diff_2d, args(normal(*MAT)), jit_too=True),
    # linear algebra (Numba has no np.matmul function, only the @ operator)
    Row("numpy.dot", f_dot, args(normal(4), normal(4)), BOTH, id="dot-1d-1d"),
    Row("numpy.dot", f_dot, args(normal(3, 4), normal(4)), BOTH, id="dot-2d-1d"),
    Row("numpy.dot", f_dot, args(normal(3), normal(3, 4)), BOTH, id="dot-1d-2d"),
    Row("numpy.dot", f_dot, args(normal(3, 4), normal(4, 2)), BOTH, id="dot-2d-2d", jit_too=True),
    Row("numpy.dot", f_dot, args(scalar(-2, 2), normal(4)), BOTH, id="dot-float-1d"),
    Row("numpy.dot", f_dot, args(normal(3, 4), normal(2, 4, 5)), BOTH, id="dot-2d-3d"),  # np.dot's own batching
    Row("numpy.dot", f_dot, args(normal(2, 3, 4), normal(2, 4, 5)), BOTH, id="dot-3d-3d"),
    Row("numpy.matmul", f_matmul_np, args(normal(4), normal(4)), BOTH, id="matmul-1d-1d"),
    Row("numpy.matmul", f_matmul_np, args(normal(3, 4), normal(4)), BOTH, id="matmul-2d-1d"),
    Row("numpy.matmul", f_matmul_np, args(normal(3), normal(3, 4)), BOTH, id="matmul-1d-2d"),
    Row("numpy.matmul", f_matmul_np, args(normal(3, 4), normal(4, 2)), BOTH, jit_too=True, id="matmul-2d-2d"),
    Row("numpy.outer", f_outer, args(normal(3), normal(4)), BOTH, jit_too=True),
    Row("numpy.trace", f_trace, args(normal(3, 4)), jit_too=True),
    Row("numpy.trace", f_trace_3d, args(normal(3, 3, 2)), nojit=True),
    Row("numpy.linalg.norm", f_norm, args(normal(5)), id="norm-vector", jit_too=True),
    Row("numpy.linalg.norm", f_norm, args(normal(*MAT)), id="norm-matrix"),
    # shapes and copies
    Row("numpy.reshape", f_reshape, args(normal(*MAT)), jit_too=True),
    Row("numpy.reshape", f_reshape_flat, args(normal(*MAT))),
    Row("numpy.ravel", f_ravel, args(normal(*MAT)), jit_too=True),
    Row("numpy.transpose", f_transpose, args(normal(*MAT)), jit_too=True),
    Row("numpy.expand_dims", f_expand_dims, args(normal(*MAT)), jit_too=True),
    Row("numpy.copy", f_copy, args(normal(*MAT)), jit_too=True),
    Row("numpy.array", f_array, args(normal(*MAT)), jit_too=True),  # (a copy: np.copy, which Numba takes)
    Row("numpy.array", f_array_dtype, args(normal(*MAT)), nojit=True),
    Row("numpy.asarray", f_asarray, args(normal(*MAT)), jit_too=True),
    Row("numpy.float64", f_float64, args(scalar(-2, 2)), jit_too=True),
    Row("numpy.full", f_full, args(scalar(-2, 2)), jit_too=True),
    Row("numpy.concatenate", f_concatenate, args(normal(2, 4), normal(3, 4)), BOTH),
    Row("numpy.concatenate", f_concatenate_axis1, args(normal(3, 2), normal(3, 4)), BOTH, jit_too=True),
    Row("numpy.concatenate", f_concatenate_three, args(normal(2), normal(3), normal(1)), (0, 1, 2)),
    Row("numpy.concatenate", f_concatenate_flat, args(normal(2, 3), normal(4)), BOTH, nojit=True, jit_too=True),
    Row("numpy.stack", f_stack, args(normal(*MAT), normal(*MAT)), BOTH),
    Row("numpy.stack", f_stack_axis1, args(normal(*MAT), normal(*MAT)), BOTH, jit_too=True),
    Row("numpy.stack", f_stack_axis1, args(normal(5), normal(5)), BOTH, id="f_stack_axis1-1d"),
    Row("numpy.stack", f_stack_axis2, args(normal(*MAT), normal(*MAT)), BOTH),
    Row("adjoint.runtime.numbers", f_numbers, args(scalar(-2, 2), scalar(-2, 2)), BOTH, jit_too=True),
    Row("adjoint.runtime.enlarged", f_enlarged, args(normal(3), normal(3)), BOTH, jit_too=True),
    # ndarray methods and the .T attribute
    Row("ndarray.sum", m_sum, args(normal(*MAT)), jit_too=True),
    Row("ndarray.sum", m_sum_axis, args(normal(*MAT))),
    Row("ndarray.mean", m_mean, args(normal(*MAT)), jit_too=True),
    Row("ndarray.var", m_var, args(normal(*MAT)), jit_too=True),
    Row("ndarray.std", m_std, args(normal(*MAT)), jit_too=True),
    Row("ndarray.max", m_max, args(distinct(*MAT)), jit_too=True),
    Row("ndarray.min", m_min, args(distinct(*MAT)), jit_too=True),
    Row("ndarray.prod", m_prod, args(nonzero(*MAT)), jit_too=True),
    Row("ndarray.cumsum", m_cumsum, args(normal(*MAT)), jit_too=True),
    Row("ndarray.dot", m_dot, args(normal(3, 4), normal(4)), BOTH, id="m_dot-2d-1d", jit_too=True),
    Row("ndarray.dot", m_dot, args(normal(3, 4), normal(4, 2)), BOTH, id="m_dot-2d-2d"),
    Row("ndarray.dot", m_dot, args(normal(5, 3), normal(5, 3, 4)), BOTH, id="m_dot-2d-3d"),
    Row("ndarray.copy", m_copy, args(normal(*MAT)), jit_too=True),
    Row("ndarray.ravel", m_ravel, args(normal(*MAT)), jit_too=True),
    Row("ndarray.transpose", m_transpose, args(normal(*MAT)), jit_too=True),
    Row("ndarray.reshape", m_reshape, args(normal(*MAT)), jit_too=True),
    Row("ndarray.reshape", m_reshape_tuple, args(normal(*MAT))),
    Row("ndarray.flatten", m_flatten, args(normal(*MAT)), jit_too=True),
    Row("ndarray.astype", m_astype, args(normal(*MAT)), jit_too=True),
    Row("ndarray.T", m_T, args(normal(*MAT)), jit_too=True),
    # indexing by int, negative int, slice, None and tuples of those
    Row(None, i_int, args(normal(*MAT)), jit_too=True),
    Row(None, i_negative, args(normal(*MAT))),
    Row(None, i_slice, args(normal(*MAT)), jit_too=True),
    Row(None, i_step, args(normal(5))),
    Row(None, i_none, args(normal(*MAT)), jit_too=True),
    Row(None, i_element, args(normal(*MAT)), jit_too=True),
    Row(None, i_tuple, args(normal(*MAT))),
    Row(None, i_tuple_none, args(normal(*MAT)), jit_too=True),
    Row(None, i_variable, args(normal(*MAT), const(2)), jit_too=True),
    Row(None, i_twice, args(normal(5))),
    Row(None, i_mixed_apart, args(normal(2, 3, 4)), jit_too=True),
    Row(None, i_mixed_adjacent, args(normal(2, 3, 4)), jit_too=True),
]


def _unwrap(entry):
    """(row, marks) of a table entry, a Row or a pytest.param around one."""
    if isinstance(entry, Row):
        return entry, ()
    return entry.values[0], tuple(entry.marks)


def _row_id(row):
    return row.id or row.fn.__name__


def _rows():
    return [_unwrap(entry)[0] for entry in ROWS]


def _params():
    """(row, jit) for every row with jit=False, and with jit=True for the `jit_too` rows."""
    params = []
    for entry in ROWS:
        row, marks = _unwrap(entry)
        for jit in (False, True):
            if jit and not row.jit_too:
                continue
            row_marks = list(marks)
            if jit and row.jit_bug:
                row_marks.append(pytest.mark.xfail(strict=True, reason=row.jit_bug))
            params.append(pytest.param(row, jit, id=f"{_row_id(row)}-{'jit' if jit else 'py'}", marks=row_marks))
    return params


def _key(path):
    return path if path.startswith("ndarray.") else resolve_path(path)


TIME_LIMIT = 60  # seconds per row; generating and compiling one adjoint takes about a second


@contextlib.contextmanager
def time_limit(seconds):
    """Raise TimeoutError in the test after `seconds`, so a hang in adjoint fails one row, not the run."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"gave up after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- the tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("row, jit", _params())
def test_rule(row, jit):
    rng = np.random.default_rng(zlib.crc32(_row_id(row).encode()))
    values = row.args(rng)
    with time_limit(TIME_LIMIT):
        if jit and row.nojit:
            # Numba cannot compile this primal: jit=None must say so and run the adjoint as Python.
            with pytest.warns(UserWarning, match="as Python"):
                report = adjoint.check_grad(row.fn, *values, wrt=row.wrt, jit=None)
        else:
            report = adjoint.check_grad(row.fn, *values, wrt=row.wrt, jit=jit)
    assert report, f"{_row_id(row)} (jit={jit}) disagrees with central differences:\n{report}"


@pytest.mark.parametrize("row, jit", [p for p in _params() if p.values[1] == p.values[0].jit_too])
def test_rule_tangent(row, jit):
    """Forward mode: each rule's tangent form (the table's `tangent`) against central differences,
    once per row: under Numba where the row runs there too (the same text runs as Python elsewhere)."""
    rng = np.random.default_rng(zlib.crc32(_row_id(row).encode()))
    values = row.args(rng)
    with time_limit(TIME_LIMIT):
        if jit and row.nojit:
            with pytest.warns(UserWarning, match="as Python"):
                report = adjoint.check_grad(row.fn, *values, wrt=row.wrt, jit=None, mode="forward")
        else:
            report = adjoint.check_grad(row.fn, *values, wrt=row.wrt, jit=jit, mode="forward")
    assert report, f"{_row_id(row)} (jit={jit}) disagrees with central differences:\n{report}"


def _differentiable_keys():
    """The rules user code reaches (runtime helpers' forward-only rules are checked by tests/test_second.py)."""
    TABLE.arrived(everything=True)  # (scipy.stats's rules too)
    return {key: rule for key, rule in TABLE.by_key.items()
            if rule.differentiable and not rule.custom and not rule.carries}


def _cases(numba):
    """The rule keys that tests/test_numpy_functions.py's cases cover, under Numba or as Python only."""
    from test_numpy_functions import CASES

    return {resolve_path(k) for case in CASES if case.numba == numba for k in (case.key, *case.also)}


def test_every_rule_has_a_row():
    """Each differentiable rule has a row here or a case in tests/test_numpy_functions.py."""
    covered = {_key(row.key) for row in _rows() if row.key is not None} | _cases(True) | _cases(False)
    missing = sorted(rule.spelling or repr(key) for key, rule in _differentiable_keys().items() if key not in covered)
    assert not missing, f"differentiable rules with no row in tests/test_rules.py: {missing}"


def test_every_rule_is_compiled():
    """Each rule goes through Numba in at least one row (or, where Numba lacks it, through the fallback; or
    it is one of tests/test_numpy_functions.py's Python-only cases, whose NumPy form Numba lacks)."""
    compiled = {_key(row.key) for row in _rows() if row.key is not None and row.jit_too} | _cases(True) | _cases(
        False)
    missing = sorted(rule.spelling or repr(key) for key, rule in _differentiable_keys().items() if key not in compiled)
    assert not missing, f"rules that no row checks under jit: {missing}"


def _helpers(rule):
    """The runtime helpers that a rule's adjoint code calls."""
    names = {n.id for f in rule.adjoints if f is not None for n in ast.walk(f) if isinstance(n, ast.Name)}
    return (names & set(runtime.EXPORTED)) | ({"unbroadcast"} if rule.broadcast else set())


def test_every_helper_is_compiled():
    """Every runtime helper that a rule uses goes through Numba in at least one jit_too row."""
    python_only = _cases(False) - _cases(True)
    needed = set().union(*(_helpers(rule) for key, rule in _differentiable_keys().items() if key not in python_only))
    compiled = set().union(*(_helpers(TABLE.by_key[_key(row.key)]) for row in _rows()
                             if row.key is not None and row.jit_too and not row.nojit and not row.jit_bug),
                           *(_helpers(TABLE.by_key[key]) for key in _cases(True) if key in TABLE.by_key))
    assert not needed - compiled, f"helpers that no row compiles with Numba: {sorted(needed - compiled)}"


def test_the_table_is_consistent():
    rows = _rows()
    ids = [_row_id(row) for row in rows]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    # the fallback warning comes once per (function, wrt): each nojit row needs a function of its own
    nojit = [(row.fn, row.wrt) for row in rows if row.nojit]
    assert len(nojit) == len(set(nojit))
    for row in rows:
        assert row.fn.__module__ == __name__ and row.fn.__qualname__ == row.fn.__name__, row  # module level
        assert not row.jit_bug or row.jit_too, row


_OPERATOR_NODES = {
    operator.add: ast.Add, operator.sub: ast.Sub, operator.mul: ast.Mult, operator.truediv: ast.Div,
    operator.pow: ast.Pow, operator.mod: ast.Mod, operator.matmul: ast.MatMult, operator.neg: ast.USub,
    operator.pos: ast.UAdd,
}


def _uses(fn):
    """(operator node types, called dotted names, attribute names) in fn's source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    ops, calls, attrs = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            ops.add(type(node.op))
        elif isinstance(node, ast.Call):
            calls.add(ast.unparse(node.func))
        elif isinstance(node, ast.Attribute):
            attrs.add(node.attr)
    return ops, calls, attrs


def _resolve(fn, dotted):
    head, *rest = dotted.split(".")
    obj = fn.__globals__.get(head, getattr(builtins, head, None))
    for attr in rest:
        obj = getattr(obj, attr, None)
    return obj


@pytest.mark.parametrize("row", [r for r in _rows() if r.key is not None], ids=_row_id)
def test_rows_call_their_primitive(row):
    key = _key(row.key)
    ops, calls, attrs = _uses(row.fn)
    if key in _OPERATOR_NODES:
        assert _OPERATOR_NODES[key] in ops, f"{row.fn.__name__} does not use the operator of {row.key}"
    elif isinstance(key, str):
        assert key.split(".", 1)[1] in attrs, f"{row.fn.__name__} does not use {key}"
    else:
        assert any(_resolve(row.fn, c) is key for c in calls), f"{row.fn.__name__} does not call {row.key}"


def test_unknown_name_in_a_formula_is_refused():
    with pytest.raises(ValueError, match="bogus"):
        parse_rule("np.foo", "np.foo", "x", ("g * bogus(x)",))


def test_every_call_with_facts_is_a_runtime_helper_or_a_numpy_function():
    """rules/helpers.py names calls that generated code makes: a misspelt name would silently give
    its call none of the facts."""
    import numpy as np

    from adjoint import runtime
    from adjoint.rules.helpers import FACTS

    for name in FACTS:
        assert name in runtime.EXPORTED or name.startswith("np.") and hasattr(np, name[3:]), name


def test_scipy_stats_rules_wait_for_scipy_stats_and_take_their_place(tmp_path):
    """`import adjoint` does not import scipy.stats (a third of a second); a function that uses it, imported
    after adjoint, has its rules, which stand where table.py lists them."""
    program = textwrap.dedent('''
        import sys
        import numpy as np
        import adjoint
        assert "scipy.stats" not in sys.modules
        import scipy.stats

        def f(x):
            return np.sum(scipy.stats.norm.logpdf(x, 0.5, 2.0))

        x = np.array([0.1, 1.0, -2.0])
        print(np.abs(adjoint.grad(f)(x) - (-(x - 0.5) / 4.0)).max() < 1e-12)
    ''')
    (tmp_path / "uses_stats.py").write_text(program)
    assert subprocess.run([sys.executable, str(tmp_path / "uses_stats.py")], capture_output=True, text=True,
                          check=True, env={**os.environ, "ADJOINT_QUIET": "1"}).stdout.split() == ["True"]
    import scipy.stats
    TABLE.arrived(everything=True)
    keys = list(TABLE.by_key)
    assert keys.index(np.reshape) == keys.index(scipy.stats.multivariate_normal.entropy) + 1
    assert keys.index(scipy.stats.norm.pdf) == keys.index(resolve_path("scipy.linalg.cho_solve")) + 1 + \
        hasattr(np, "row_stack")
