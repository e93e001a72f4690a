"""A corpus of programs with control flow, element writes and calls to user functions.

Each construct of the normal form that is not straight-line code (if/elif/else, conditional
expressions, boolean operators, chained comparisons, for over range/arrays/enumerate/zip, while,
break/continue, early returns, element and slice writes, in-place operators, calls to the user's own
functions, recursion of constant depth) appears in at least one program, most on floats and on
arrays. tests/test_control.py checks every row against central differences on both paths.

The arguments are fixed numbers chosen away from every branch boundary, so central differences
see the same path as the adjoint; rows of one program with different inputs take different paths.
"""

import math

import control_helpers
import control_helpers as ch
import numpy as np
from control_helpers import clipped_step, polar, poly_eval, smooth_abs

DECAY = 0.9


def A(*values):
    return np.array(values, dtype=np.float64)


# --- if / elif / else --------------------------------------------------------------------------------


def tiered_rate(a, b):
    if a > 2.0:
        r = a * b + 1.0
    elif a > 0.5:
        r = math.sin(a) * b * b
    else:
        r = -a * math.exp(b)
    return r


def tiered_array(x, w):
    s = 0.0
    for i in range(len(x)):
        if x[i] > 1.0:
            s = s + w[i] * x[i] ** 2
        elif x[i] > -0.5:
            s = s + math.cos(x[i] * w[i])
        else:
            s = s - w[i] / x[i]
    return s


def bump_if_smaller(a, b):
    r = a * b
    if a < b:
        r = r + math.cos(b) * a
    return r


def scale_if_positive_sum(x):
    y = np.sin(x)
    if np.sum(x) > 0.0:
        y = y * x
    return np.sum(y ** 2)


def quadrant_energy(a, b):
    if a > 0.0:
        if b > 0.0:
            e = a * b
        else:
            e = a - b * b
    else:
        if b > a:
            e = math.exp(a) * b
        else:
            e = a * a * b
    return e


def nested_if_array(x, y):
    s = 0.0
    for i in range(len(x)):
        if x[i] > 0.0:
            if y[i] > x[i]:
                s = s + x[i] * y[i]
            else:
                s = s + x[i] ** 3
        else:
            if y[i] < -1.0:
                s = s - y[i] * math.sin(x[i])
            s = s + 0.1 * x[i]
    return s


def ternary_scalar(a, b):
    c = a * a if a > b else b * math.sin(a)
    d = c + (math.exp(-b) if c > 0.3 else 2.0 * b)
    return c * d


def ternary_array(x):
    s = 0.0
    for v in x:
        s = s + (v * v if v > 0.0 else -0.5 * v)
    z = x * 2.0 if x[0] > 0.0 else np.exp(x)
    return s + np.sum(z * x)


def gated(a, b):
    r = a + b
    if a > 0.0 and not b > 1.0:
        r = r * a
    if a < -1.0 or b > 2.0:
        r = r * b
    return r


def band_logic(x):
    s = 0.0
    for v in x:
        if v > -0.5 and v < 0.5 or not v < 1.5:
            s = s + v * v
        elif not (v > 0.0 or v < -1.0):
            s = s + math.sin(v)
        else:
            s = s - v
    return s


def flag_rebound_in_branch(x):
    s = 0.0
    for v in x:
        c = v > 0.0
        if c:
            s = s + v * v
            c = v > 1.0
        if c:
            s = s * 2.0
    return s


def chained_scalar(a, b):
    if -1.0 < a < b < 3.0:
        return a * b
    return a + b * b


def unit_interval_log(x):
    s = 0.0
    for v in x:
        if 0.0 < v < 1.0:
            s = s + math.log(v) * v
        elif -1.0 <= v <= 0.0:
            s = s + v ** 3
        else:
            s = s + 0.25 * v
    return s


# --- for loops -------------------------------------------------------------------------------------


def range_stop_weighted(x):
    s = 0.0
    for i in range(len(x)):
        s = s + (i + 1.0) * x[i] ** 2
    return s


def range_start_stop_products(x):
    s = 0.0
    for i in range(1, len(x)):
        s = s + x[i] * x[i - 1]
    return s


def range_step_pairs(x):
    s = 0.0
    for i in range(0, len(x), 2):
        s = s + math.sin(x[i]) * x[i + 1]
    return s


def backward_discount(r, gamma):
    g = 0.0
    out = 0.0
    for t in range(len(r) - 1, -1, -1):
        g = r[t] + gamma * g
        out = out + g * g
    return out


def odd_positions_backward(x):
    s = 1.0
    for i in range(len(x) - 1, 0, -2):
        s = s * (1.0 + x[i]) + x[i - 1]
    return s


def strided_sweeps(x, step):
    s = 0.0
    for i in range(0, len(x), step):
        s = s + x[i] ** 2
    for j in range(len(x) - 1, -1, -step):
        s = s * 0.5 + math.cos(x[j]) * s
    return s


def softplus_over_elements(x):
    s = 0.0
    for v in x:
        s = s + math.log1p(math.exp(v))
    return s


def row_norms_product(M):
    p = 1.0
    for row in M:
        p = p * np.sqrt(np.sum(row * row) + 1.0)
    return p


def rows_accumulate(M, w):
    acc = np.zeros(M.shape[1])
    for row in M:
        acc = acc * 0.5 + np.tanh(row * w)
    return np.sum(acc ** 2)


def enumerate_weighted(x):
    s = 0.0
    for i, v in enumerate(x):
        s = s + v ** 2 / (i + 1.0) + s * 0.1
    return s


def zip_pairs(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * b + math.sin(a - b)
    for u, v in zip(x[1:], x[:-1]):
        s = s + (u - v) ** 2
    return s


def triangular_pairs(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(i):
            s = s + x[i] * x[j] * (i - j)
    return s


def upper_band(x, w):
    total = 0.0
    for i in range(len(x)):
        inner = 0.0
        for j in range(i, len(x)):
            inner = inner + w[j - i] * x[j]
        total = total + inner ** 2
    return total


def zero_trip_loops(x, n):
    s = np.sum(x * x)
    for i in range(n):
        s = s + x[i] * s
    for j in range(3, 3):
        s = s * 100.0
    for v in x[len(x):]:
        s = s + v
    k = 0
    while k < n:
        s = s * x[0]
        k += 1
    return s + x[0]


# --- while, break, continue, return ---------------------------------------------------------------


def newton_sqrt(a):
    y = a
    while abs(y * y - a) > 1e-13 * a:
        y = 0.5 * (y + a / y)
    return y * 3.0


def grow_until(a, s0):
    s = s0
    k = 0
    while s < 10.0:
        s = s * a + 0.1
        k = k + 1
    return s * k


def fixed_point_cos(x):
    y = np.zeros_like(x)
    err = 1.0
    while err > 1e-12:
        y_new = np.cos(y) * x
        err = np.max(np.abs(y_new - y))
        y = y_new
    return np.sum(y * y)


def compound_until(a, rate):
    s = a
    while True:
        s = s * (1.0 + rate) + 0.5
        if s > 20.0:
            break
    return s


def sum_until_large(x, limit):
    s = 0.0
    for v in x:
        if v > limit:
            break
        s = s + v * v
    return s


def skip_and_stop(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] < 0.0:
            continue
        if x[i] > 0.5:
            if s > 1.0:
                break
            s = s + x[i] ** 2
        else:
            s = s + math.sqrt(x[i])
    return s


def nested_break(M):
    s = 0.0
    for i in range(M.shape[0]):
        for j in range(M.shape[1]):
            if M[i, j] < 0.0:
                break
            s = s + M[i, j] * (j + 1.0)
        s = s * 0.9
    return s


def first_crossing(x, level):
    for i in range(len(x)):
        if x[i] > level:
            return x[i] * level + i
    return level * level


def running_total_exit(x):
    acc = 0.0
    for v in x:
        acc = acc + v
        if acc > 1.0:
            return acc * v
    return -acc


def classify(a, b):
    if a > b:
        return a - b
    elif a * b > 1.0:
        return math.log(a * b)
    if b > 5.0:
        return b * 0.5
    return a * b * b


def while_search_return(x, target):
    i = 0
    s = 0.0
    while i < len(x):
        s = s + x[i] * x[i]
        if s > target:
            return s * x[i]
        i += 1
    return s


# --- array mutation --------------------------------------------------------------------------------


def element_assign(x):
    n = len(x)
    y = np.zeros(n)
    for i in range(n):
        y[i] = x[i] * x[(i + 1) % n]
    return np.sum(y * np.arange(n))


def rbf_kernel_quad(x, w):
    n = len(x)
    K = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            K[i, j] = math.exp(-(x[i] - x[j]) ** 2)
    return w @ (K @ w)


def slice_assign(x):
    y = np.zeros(8)
    y[2:6] = x[:4] ** 2
    y[:2] = np.sin(x[4:6])
    y[6:] = y[2:4] * x[0]
    return np.sum(y * y)


def row_assign(M, v):
    m = M.shape[0]
    B = np.zeros((m, M.shape[1]))
    for i in range(m):
        B[i, :] = np.tanh(M[i, :] * v) * (i + 1.0)
    B[0, :] = B[0, :] + B[m - 1, :]
    return np.sum(B ** 2)


def column_assign(M):
    C = M.copy()
    for j in range(1, M.shape[1]):
        C[:, j] = C[:, j - 1] * 0.5 + np.sin(C[:, j])
    return np.sum(C * M)


def scatter_mod(x):
    y = np.zeros(3)
    for i in range(len(x)):
        y[i % 3] += x[i] ** 2
    z = np.ones(len(x))
    for i in range(len(x)):
        z[i] *= x[i] + y[i % 3]
    return np.sum(y * y) + np.sum(z)


def inplace_ops(x, s):
    y = x.copy()
    y *= s
    y += x
    z = x * 1.0
    z *= 2.0
    z -= y * 0.5
    return np.sum(y * z)


def buffers_filled(x):
    n = len(x)
    a = np.zeros(n)
    b = np.empty(n)
    c = np.zeros_like(x)
    d = x.copy()
    for i in range(n):
        a[i] = x[i] ** 2
        b[i] = math.sin(x[i])
        c[i] = a[i] * b[i]
        d[i] = d[i] * c[i]
    return np.sum(a + b + c + d)


def smoothing_recurrence(x, alpha):
    y = x.copy()
    for i in range(1, len(y)):
        y[i] = alpha * y[i - 1] + (1.0 - alpha) * math.sin(y[i])
    return np.sum(y ** 2)


def overwrite_then_read(x):
    y = x * 1.0
    s = 0.0
    for i in range(len(y)):
        y[i] = y[i] * y[i] + 0.5
        s = s + y[i] * math.cos(y[i])
        y[i] = y[i] - s * 0.1
    return s + np.sum(y * x)


def scale_argument_in_place(x, c):
    for i in range(len(x)):
        x[i] = x[i] * c + 1.0
    x[0] = x[0] ** 2
    return np.sum(np.sin(x))


def prefix_products(x):
    y = np.empty(len(x))
    p = 1.0
    for i in range(len(x)):
        p = p * (1.0 + 0.5 * x[i])
        y[i] = p
    return y


# --- calls to user functions ----------------------------------------------------------------------


def _quad_plus(a, b):
    return a * a + b


def _sum_diff(p, q):
    return p + q, p - q


def _power(x, n):
    return 1.0 if n == 0 else x * _power(x, n - 1)


def _tree(x, depth):
    if depth == 0:
        return np.sin(x)
    return _tree(x * 0.5, depth - 1) + _tree(x + 0.1, depth - 1) * 0.5


def same_module_call(x):
    s = 0.0
    for v in x:
        s = _quad_plus(v, s) * 0.5
    return s + _quad_plus(x[0], x[1])


def module_calls(x, w):
    a = control_helpers.weighted_norm2(x, w)
    b = ch.weighted_norm2(x, shift=0.5)
    c = smooth_abs(x[0]) + smooth_abs(x[1], eps=0.1)
    return a * b + c


def keyword_defaults_scalar(a, b):
    u = ch.clipped_step(a * 3.0)
    v = clipped_step(b, hi=0.5)
    w = clipped_step(lo=-2.0, v=a - b)
    return u * v + w


def tuple_returns(a, b):
    r, t = polar(a, b)
    u, v = _sum_diff(r, t)
    return u * v + r


def tuple_returns_array(x):
    head, tail = _sum_diff(x[:3], x[3:])
    return np.sum(head * tail) + np.sum(head ** 2)


def closure_reads_outer(x, k):
    scale = k * 2.0

    def term(v):
        return math.tanh(scale * v)

    s = 0.0
    for v in x:
        s = s + term(v) * v
    return s


def lambda_in_body(x, a):
    f = lambda v: a * v * v + math.sin(v)  # noqa: E731
    g = lambda y: np.sum(y ** 3)  # noqa: E731
    s = f(x[0])
    for i in range(1, len(x)):
        s = s + f(x[i]) * s * 0.1
    return s + g(x * a)


def helper_with_loop(c, t):
    return control_helpers.poly_eval(c, t) * poly_eval(c, -t)


def helper_in_loop(c, ts):
    s = 0.0
    for t in ts:
        s = s + poly_eval(c, t) ** 2
    return s


def recursive_power(a):
    return _power(a, 5) + _power(a * 0.5, 2)


def recursive_power_array(x):
    return np.sum(_power(x, 3)) + np.sum(_tree(x, 3))


# --- loop-heavy models -----------------------------------------------------------------------------


def oscillator_euler(p, y0, dt, steps):
    state = np.zeros((steps + 1, 2))
    state[0, 0] = y0[0]
    state[0, 1] = y0[1]
    for t in range(steps):
        x = state[t, 0]
        v = state[t, 1]
        state[t + 1, 0] = x + dt * v
        state[t + 1, 1] = v + dt * (-p[0] * x - p[1] * v)
    return np.sum(state[:, 0] ** 2)


def pendulum_rk2(theta0, omega0, g, dt, steps):
    y = np.empty(2)
    y[0] = theta0
    y[1] = omega0
    energy = 0.0
    for _ in range(steps):
        k1a = y[1]
        k1b = -g * math.sin(y[0])
        ma = y[0] + 0.5 * dt * k1a
        mb = y[1] + 0.5 * dt * k1b
        y[0] = y[0] + dt * mb
        y[1] = y[1] - dt * g * math.sin(ma)
        energy = energy + 0.5 * y[1] ** 2 - g * math.cos(y[0])
    return energy


def logistic_running_sum(r, x0, n):
    x = x0
    s = 0.0
    for i in range(n):
        x = r * x * (1.0 - x)
        s = s + x * DECAY ** i
    return s / n


def tiny_rnn(W, U, x, h0):
    h = h0.copy()
    loss = 0.0
    for t in range(len(x)):
        h = np.tanh(W @ h + U * x[t])
        loss = loss + np.sum(h * h) * 0.5
    return loss


# --- the table -------------------------------------------------------------------------------------
# (id, function, make arguments (fresh arrays on each call), wrt)

_RNN_W = A(0.3, -0.2, 0.1, 0.05, 0.4, -0.3, -0.1, 0.2, 0.25).reshape(3, 3)
_M34 = A(0.5, -0.2, 0.9, 1.3, -0.7, 0.4, 0.1, 0.8, 1.1, -0.6, 0.3, 0.2).reshape(3, 4)

PROGRAMS = [
    # if / elif / else
    ("tiered_rate-if", tiered_rate, lambda: (2.5, 0.7), (0, 1)),
    ("tiered_rate-elif", tiered_rate, lambda: (1.1, 0.7), (0, 1)),
    ("tiered_rate-else", tiered_rate, lambda: (0.2, 0.7), (0, 1)),
    ("tiered_array", tiered_array, lambda: (A(1.5, 0.2, -0.9, 2.2, -0.3, -1.7), A(0.5, 1.2, -0.4, 0.8, 1.1, 0.6)),
     (0, 1)),
    ("bump_if_smaller-taken", bump_if_smaller, lambda: (0.4, 1.3), (0, 1)),
    ("bump_if_smaller-skipped", bump_if_smaller, lambda: (1.7, 1.3), (0, 1)),
    ("scale_if_positive_sum-taken", scale_if_positive_sum, lambda: (A(0.5, -0.2, 0.9, 0.3),), (0,)),
    ("scale_if_positive_sum-skipped", scale_if_positive_sum, lambda: (A(-0.5, -0.2, 0.4, -0.3),), (0,)),
    ("quadrant_energy-pp", quadrant_energy, lambda: (0.8, 1.4), (0, 1)),
    ("quadrant_energy-pn", quadrant_energy, lambda: (0.8, -0.6), (0, 1)),
    ("quadrant_energy-np", quadrant_energy, lambda: (-0.8, 0.3), (0, 1)),
    ("quadrant_energy-nn", quadrant_energy, lambda: (-0.8, -1.6), (0, 1)),
    ("nested_if_array", nested_if_array, lambda: (A(0.5, 1.2, -0.4, -0.9, 0.3), A(0.9, 0.7, -1.5, 0.2, -2.0)), (0, 1)),
    ("ternary_scalar-a", ternary_scalar, lambda: (1.3, 0.4), (0, 1)),
    ("ternary_scalar-b", ternary_scalar, lambda: (0.2, 0.9), (0, 1)),
    ("ternary_array-pos", ternary_array, lambda: (A(0.4, -0.7, 1.1, -0.2),), (0,)),
    ("ternary_array-neg", ternary_array, lambda: (A(-0.4, -0.7, 1.1, 0.6),), (0,)),
    ("gated-and", gated, lambda: (0.7, 0.4), (0, 1)),
    ("gated-or", gated, lambda: (-1.5, 0.4), (0, 1)),
    ("gated-neither", gated, lambda: (0.7, 1.4), (0, 1)),
    ("band_logic", band_logic, lambda: (A(0.2, 2.0, -0.7, 1.0, -1.4, 0.45),), (0,)),
    ("flag_rebound_in_branch", flag_rebound_in_branch, lambda: (A(0.5, 1.5, 0.3, -0.4),), (0,)),
    ("chained_scalar-inside", chained_scalar, lambda: (0.5, 1.5), (0, 1)),
    ("chained_scalar-outside", chained_scalar, lambda: (0.5, 3.5), (0, 1)),
    ("unit_interval_log", unit_interval_log, lambda: (A(0.3, 0.8, -0.5, -0.9, 1.7, -2.1),), (0,)),
    # for loops
    ("range_stop_weighted", range_stop_weighted, lambda: (A(0.5, -1.2, 0.3, 2.0),), (0,)),
    ("range_start_stop_products", range_start_stop_products, lambda: (A(0.5, -1.2, 0.3, 2.0, 0.7),), (0,)),
    ("range_step_pairs", range_step_pairs, lambda: (A(0.5, -1.2, 0.3, 2.0, 0.7, 0.1),), (0,)),
    ("backward_discount", backward_discount, lambda: (A(1.0, -0.5, 0.25, 2.0, 0.3), 0.9), (0, 1)),
    ("odd_positions_backward", odd_positions_backward, lambda: (A(0.2, 0.5, -0.3, 0.8, 0.4, -0.1, 0.6),), (0,)),
    ("strided_sweeps", strided_sweeps, lambda: (A(0.2, 0.5, -0.3, 0.8, 0.4, -0.1, 0.6), 3), (0,)),
    ("softplus_over_elements", softplus_over_elements, lambda: (A(0.2, -1.5, 0.8, 3.0),), (0,)),
    ("row_norms_product", row_norms_product, lambda: (_M34.copy(),), (0,)),
    ("rows_accumulate", rows_accumulate, lambda: (_M34.copy(), A(0.5, -1.0, 0.7, 1.2)), (0, 1)),
    ("enumerate_weighted", enumerate_weighted, lambda: (A(0.7, -0.4, 1.1, 0.3, -0.9),), (0,)),
    ("zip_pairs", zip_pairs, lambda: (A(0.7, -0.4, 1.1, 0.3), A(0.2, 0.5, -0.8, 1.4)), (0, 1)),
    ("triangular_pairs", triangular_pairs, lambda: (A(0.7, -0.4, 1.1, 0.3, 0.9),), (0,)),
    ("upper_band", upper_band, lambda: (A(0.7, -0.4, 1.1, 0.3, 0.9), A(1.0, 0.5, -0.25, 0.1, 0.05)), (0, 1)),
    ("zero_trip_loops", zero_trip_loops, lambda: (A(0.7, -0.4, 1.1), 0), (0,)),
    # while, break, continue, return
    ("newton_sqrt", newton_sqrt, lambda: (2.7,), (0,)),
    ("grow_until", grow_until, lambda: (1.6, 0.8), (0, 1)),
    ("fixed_point_cos", fixed_point_cos, lambda: (A(0.2, 0.5, 0.8, 0.35),), (0,)),
    ("compound_until", compound_until, lambda: (1.3, 0.25), (0, 1)),
    ("sum_until_large", sum_until_large, lambda: (A(0.3, -0.8, 0.6, 1.9, 0.2), 1.5), (0, 1)),
    ("sum_until_large-no-break", sum_until_large, lambda: (A(0.3, -0.8, 0.6, 1.2, 0.2), 1.5), (0, 1)),
    ("skip_and_stop", skip_and_stop, lambda: (A(0.9, -0.3, 0.2, 0.8, -1.0, 0.7, 0.6, 0.9),), (0,)),
    ("nested_break", nested_break, lambda: (_M34.copy(),), (0,)),
    ("first_crossing-found", first_crossing, lambda: (A(0.1, 0.4, 1.2, 2.5), 0.9), (0, 1)),
    ("first_crossing-none", first_crossing, lambda: (A(0.1, 0.4, 0.2, 0.5), 0.9), (0, 1)),
    ("running_total_exit-early", running_total_exit, lambda: (A(0.3, 0.5, 0.4, 0.9),), (0,)),
    ("running_total_exit-late", running_total_exit, lambda: (A(0.3, -0.5, 0.4, 0.2),), (0,)),
    ("classify-first", classify, lambda: (2.0, 0.5), (0, 1)),
    ("classify-elif", classify, lambda: (1.5, 2.0), (0, 1)),
    ("classify-third", classify, lambda: (0.1, 6.0), (0, 1)),
    ("classify-last", classify, lambda: (0.1, 1.5), (0, 1)),
    ("while_search_return", while_search_return, lambda: (A(0.5, 0.7, 0.9, 1.1), 1.0), (0,)),
    # array mutation
    ("element_assign", element_assign, lambda: (A(0.7, -0.4, 1.1, 0.3, 0.9),), (0,)),
    ("rbf_kernel_quad", rbf_kernel_quad, lambda: (A(0.1, 0.7, -0.4, 1.2), A(1.0, -0.5, 0.3, 0.8)), (0, 1)),
    ("slice_assign", slice_assign, lambda: (A(0.7, -0.4, 1.1, 0.3, 0.9, -0.6),), (0,)),
    ("row_assign", row_assign, lambda: (_M34.copy(), A(0.5, -1.0, 0.7, 1.2)), (0, 1)),
    ("column_assign", column_assign, lambda: (_M34.copy(),), (0,)),
    ("scatter_mod", scatter_mod, lambda: (A(0.7, -0.4, 1.1, 0.3, 0.9, -0.6, 0.2),), (0,)),
    ("inplace_ops", inplace_ops, lambda: (A(0.7, -0.4, 1.1, 0.3), 1.7), (0, 1)),
    ("buffers_filled", buffers_filled, lambda: (A(0.7, -0.4, 1.1, 0.3),), (0,)),
    ("smoothing_recurrence", smoothing_recurrence, lambda: (A(0.7, -0.4, 1.1, 0.3, 0.9), 0.6), (0, 1)),
    ("overwrite_then_read", overwrite_then_read, lambda: (A(0.7, -0.4, 1.1, 0.3),), (0,)),
    ("scale_argument_in_place", scale_argument_in_place, lambda: (A(0.7, -0.4, 1.1, 0.3), 0.8), (0, 1)),
    ("prefix_products", prefix_products, lambda: (A(0.7, -0.4, 1.1, 0.3),), (0,)),
    # calls to user functions
    ("same_module_call", same_module_call, lambda: (A(0.7, -0.4, 1.1, 0.3),), (0,)),
    ("module_calls", module_calls, lambda: (A(0.7, -0.4, 1.1, 0.3), A(1.0, 2.0, 0.5, 1.5)), (0, 1)),
    ("keyword_defaults_scalar", keyword_defaults_scalar, lambda: (0.2, 0.9), (0, 1)),
    ("keyword_defaults_scalar-clipped", keyword_defaults_scalar, lambda: (0.7, -1.4), (0, 1)),
    ("tuple_returns", tuple_returns, lambda: (0.6, 1.3), (0, 1)),
    ("tuple_returns_array", tuple_returns_array, lambda: (A(0.7, -0.4, 1.1, 0.3, 0.9, -0.6),), (0,)),
    ("closure_reads_outer", closure_reads_outer, lambda: (A(0.7, -0.4, 1.1, 0.3), 0.6), (0, 1)),
    ("lambda_in_body", lambda_in_body, lambda: (A(0.7, -0.4, 1.1, 0.3), 0.6), (0, 1)),
    ("helper_with_loop", helper_with_loop, lambda: (A(0.5, -1.0, 0.3, 0.2), 0.7), (0, 1)),
    ("helper_in_loop", helper_in_loop, lambda: (A(0.5, -1.0, 0.3, 0.2), A(0.7, -0.2, 1.3)), (0, 1)),
    ("recursive_power", recursive_power, lambda: (1.3,), (0,)),
    ("recursive_power_array", recursive_power_array, lambda: (A(0.7, -0.4, 1.1),), (0,)),
    # loop-heavy models
    ("oscillator_euler", oscillator_euler, lambda: (A(2.0, 0.3), A(1.0, 0.0), 0.05, 40), (0, 1, 2)),
    ("pendulum_rk2", pendulum_rk2, lambda: (0.8, 0.1, 9.81, 0.02, 50), (0, 1, 2, 3)),
    ("logistic_running_sum", logistic_running_sum, lambda: (2.8, 0.3, 25), (0, 1)),
    ("tiny_rnn", tiny_rnn, lambda: (_RNN_W.copy(), A(0.5, -0.3, 0.8), A(0.2, -0.7, 1.0, 0.4, -0.1), A(0.1, 0.0, -0.2)),
     (0, 1, 2, 3)),
]
