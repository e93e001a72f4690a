"""Programs on which adjoint once gave a wrong derivative with no error, each held against the three
oracles (tests/oracles.py), and the wrong results' neighbours: the same mechanism in another shape.

Each group names the mechanism that was wrong. A program here failed on the code before its fix.
"""

import math

import numpy as np
import pytest
import scipy.special
from oracles import failures

# --- an assignment ends the life of its target's adjoint, in every loop ------------------------
# (the reverse loop added the adjoint of `t = ...` once per trip when the loop does not read t)


def invariant_in_for(x):
    for i in range(5):
        t = 0.5 * np.sum(x)
    return t


def invariant_number(x):
    for i in range(4):
        t = 0.5 * x
        s = t * 2.0
    return s + t


def copy_in_while(x):
    k = 0
    while k < 3:
        a = x.copy()
        k += 1
    return np.sum(a * a)


def _twice_sin(y):
    return np.sin(y) * 2.0


def helper_in_loop(x):
    for i in range(3):
        b = _twice_sin(x)
    return np.sum(b)


def tuple_target_in_loop(x, y):
    for i in range(3):
        a, b = x * 2.0, y + 1.0
    return a * b


def assigned_in_a_branch(x):
    t = 0.0
    u = 0.0
    for i in range(4):
        if i % 2 == 0:
            t = x * x
        else:
            u = x + 1.0
    return t + u


def inner_loop_last_value(x):
    s = 0.0
    for i in range(3):
        for j in range(2):
            t = x * float(j + 1)
        s = s + t
    return s


# --- an adjoint added into by add_at or add_into is not zero afterwards ------------------------
# (integer-array indexing of an intermediate, or a copy read through np.newaxis, lost its adjoint)


def integer_arrays_of_an_intermediate(logits):
    logp = logits * 2.0
    return np.sum(logp[np.arange(3), np.array([0, 2, 1])] ** 2)


def repeated_index_of_an_intermediate(x):
    e = np.exp(x)
    return np.sum(e[np.array([0, 2, 2])])


def copy_read_through_newaxis(x, W):
    y = x.copy()
    return np.sum(W * y[0:2, np.newaxis])


def scaled_copy_read_through_index(x):
    y = x * 1.0
    return np.sum(y[np.array([1, 1, 0])] * y[0])


# --- a write through an integer-array index keeps the last of repeated entries ----------------
# (every source of a repeated entry took its adjoint, though only the last write stays)


def repeated_index_write(x):
    y = np.zeros(3)
    y[np.array([0, 0, 2])] = x
    return np.sum(y * y)


def repeated_index_added(x):
    y = np.zeros(5)
    y[[4, -1, 0]] += x * 2.0
    return np.sum(y * y)


def repeated_pairs_of_indices(v):
    B = np.zeros((3, 4))
    B[np.array([0, 0, 2]), np.array([1, 1, 3])] = v
    return np.sum(B * B)


def read_then_written_through_a_repeated_index(x):
    y = x.copy()
    idx = np.array([1, 1, 2])
    y[idx] = y[idx] * 2.0
    return np.sum(y ** 2)


def repeated_rows_from_a_number(s, M):
    B = M * 1.0
    B[np.array([1, 1]), :] = s * 3.0
    return np.sum(B * B)


# --- a cast to ints or bools has a zero derivative (the rule of np.asarray passed it through) ---


def cast_to_ints(x):
    return np.sum(np.asarray(x, dtype=np.int64) * 3.0 + x.astype(int) * x + np.array(x, dtype="int32"))


def cast_to_floats(x):
    return np.sum(x.astype(np.float64) * x + np.asarray(x, dtype=float))


def full_of_ints(v):
    return np.sum(np.full(3, v, dtype=int) * v)  # (Numba kept floats for `dtype=int`: now np.int64)


# --- np.trace of a 3-d array is a vector; np.full's fill may be an array ---------------------------


def trace_of_a_stack(A):
    return np.sum(np.trace(A) * np.arange(4.0))


def full_from_a_row(v):
    return np.sum(np.full((3, 2), v) * np.arange(6.0).reshape(3, 2))


def one_sided_clips(x, lo):
    return np.sum(np.clip(x, None, 0.5) ** 2 + np.clip(x, lo, None) ** 3)  # (the adjoint read `x >= None`)


# --- a loop that only sets its index, read after it (forward mode dropped the loop: NameError) ----


def index_of_an_empty_loop(x):
    for i in range(3):
        pass
    return x * i


# --- a zero cotangent carries no derivative, through an infinite or nan partial derivative too --
# (the branch np.where did not take, an entry overwritten or not read: 0 * inf gave nan)


def root_where_positive(x):
    return np.sum(np.where(x > 0, np.sqrt(x), 0.0) + np.where(x > 0, x ** 0.5, 0.0))


def sinc_by_where(x):
    return np.sum(np.where(x != 0, np.sin(x) / x, 1.0))


def log_likelihood_by_where(p, y):
    return -np.sum(np.where(y == 1, np.log(p), np.log(1.0 - p)))


def inverse_distances_off_the_diagonal(X):
    D = X[:, None] - X[None, :]
    r = np.sqrt(D * D)
    return np.sum(np.where(r > 0, 1.0 / r, 0.0))


def root_of_zero_not_read(x):
    r = np.sqrt(x)
    return np.sum(1.0 / r[1:])


def root_of_zero_overwritten(x):
    y = np.sqrt(x)
    y[0] = 1.0
    return np.sum(y * y)


# --- array functions of numbers, 0-d arrays, an int that becomes an array (raw crashes before) ---


def shapes_of_a_number(a, x):
    return np.sum(np.expand_dims(a, 0) * x + np.reshape(a, (1,)) * x + np.ravel(a) * x) + np.var(a) + np.std(a)


def stack_of_numbers(a, b):
    return np.sum(np.stack([a, b]) ** 2) + np.sum(np.cumsum(a) * b)


def element_of_a_0d_array(x):
    return x[()] * 2.0 + np.sum(x * x)


def int_accumulator_becomes_an_array(x):
    s = 0
    for i in range(3):
        s = s + x ** 2
    return np.sum(s)


# --- a new array stays new: folding `x * 1` to `x`, or a tangent `x_dot` for `x + 0.0`, shared the array -


def write_into_a_product_by_one(x):
    y = x * 1
    y[0] = 5.0
    z = x - 0
    z[1] = 2.0 * z[0]
    return np.sum(y * x) + np.sum(z * x)


def write_into_a_sum_with_zero_then_read_the_original(x):
    y = x + 0.0
    y[1] = 2.0 * x[0]
    y[2] *= 1.5
    return np.sum(y * y) + np.sum(x)


GAIN = 1.5
TABLE = np.array([[-0.55, -0.37, 0.6], [-0.59, -0.69, -0.24]])


def module_values_in_branches(a, n):
    b = a if a > 0.3 else GAIN
    h = TABLE[n % 2][np.array([1, 2, 0, 0])]  # (a copy: the tangent of TABLE was read, never made)
    h[np.array([2, 3])] += a
    return b * np.sum(GAIN * np.ones(3)) + np.sum(h ** 2)


# --- found by the random programs (tests/random_programs.py) -------------------------------------


def early_return_then_a_conditional_expression(x, n):
    if n > 5:  # (the reverse sweep read a name only the other branch of this `if` sets: UnboundLocalError)
        return x * 2.0
    return x * 3.0 if n > 5 else x * 4.0


def set_only_in_a_loop_in_a_branch(x, n):
    y = np.ones(4)
    if n < 0:  # (the adjoint of v started before the if, reading v, unset when this branch ran)
        pass
    else:
        for k in range(3, 0, -2):
            v = x * 2.0
        y = v * y
    return np.sum(y)


def set_in_a_loop_left_by_a_return(W, n):
    s = 0.0
    for i in range(3):
        if i > n:  # (a return in the first run leaves h unset, which the start of h's adjoint read)
            return s
        h = W * 2.0
        s = s + np.sum(h)
    return np.sum(h) * s


def written_in_a_loop_after_a_broadcast_sum(W):
    h = np.add(W, np.ones((3, 5)))  # (forward mode's tangent, spread(W_dot, h), was W_dot itself)
    k = 0
    while k < 2:
        k += 1
        h[2] *= W[k % 3]
    return np.sum(np.sin(h))


def loop_of_continue_in_an_else(x, a):
    if a < 0.2:
        pass
    else:
        for v in x:  # (structure skipped an if without jumps of its own: `continue` reached the normalizer)
            continue
    return a * 2.0 + x[0]


def view_of_an_array_written_then_rebound_in_a_loop(a, x):
    y = x * 1.0
    y[:] *= 1.0 + a  # (the reverse sweep put y's elements back into the loop's last y, not this one)
    for i in range(2):
        y = np.tanh(y)
        y -= x
    return np.sum(y)


# --- `a = b = e` --------------------------------------------------------------------------------


def chained(x):
    a = b = x * 2.0
    return a * b


def chained_in_loop(x):
    s = 0.0
    for i in range(3):
        p = q = x * float(i)
        s = s + p * q
    return s


def chained_elements(x):
    y = np.zeros(3)
    y[0] = y[1] = x * 2.0
    return np.sum(y * y) + math.sin(x)


# --- the number of dimensions of a reduction over a tuple of axes, and of np.cumsum with an axis --
# (taken as one fewer, and as 1: an element of the result was then taken for a row)


def sum_over_two_axes_then_index(B):
    s = np.sum(B, axis=(0, 2))
    t = s[0]
    return np.sum(t * s)


def cumsum_along_rows_then_index(A):
    c = np.cumsum(A, axis=1)
    r = c[1]
    return np.sum(r * r * c[0, 2])


# --- a negative number printed under a power or an attribute (ast.unparse writes -1.5 ** 2) ----------


def power_of_a_negative_constant(x):
    c = (-1.5) ** 2
    return c * np.sum(x) + np.sum(x ** 2) * (-2.0) ** 3


def power_of_a_negative_name(x, a):
    b = -3.0
    return np.sum(x * b ** 2) + a * (-1) ** 3


# --- an array unpacked into its rows: the rows are views (`a, b = A` gave an untracked runtime tuple) -


def rows_unpacked_and_read(A):
    a, b = A
    return np.sum(a * b) + np.sum(A[0])


def pair_unpacked_in_a_loop(s, w):
    total = 0.0
    for k in range(3):
        x, v = s * (k + 1.0)
        total = total + x * v ** 2 - w * x
    return total


# --- an int to a negative int power: Python gives a float, Numba gave an int (0 for 2 ** -1) -----------


def int_to_negative_powers(x, n):
    return x * n ** -1 + x * 2 ** -n


def series_of_inverse_squares(x, n):
    s = 0.0
    for k in range(1, n):
        s = s + x ** k * k ** -2
    return s


# --- a number indexed by None or ...: its adjoint is a number, which the adjoint once indexed ----------


def array_of_a_number_indexed(s):
    a = np.array(s)
    b = np.sin(s)
    return np.sum(a[None] ** 2) + np.sum(b[...] * 2.0) + np.sum(np.copy(s)[None, None] * 3.0)


def sum_indexed_by_none(x):
    a = np.sum(x)
    return np.sum(a[None] * x)


def written_0d_arrays(s):
    a = np.array(s)  # a 0-d array, not a number: writes change it
    a[...] = 2.0 * s
    b = np.zeros(())
    b[...] = s * s
    return np.sum(a * s) + np.sum(b * 2.0)


# --- a name that shows one of two arrays, by branch: the reverse sweep knew only the last assignment's ---


def alias_by_branch_then_overwritten(y):
    buf = np.zeros((3, 5))
    c = buf if y[0] < 10.0 else buf + 1.0  # c is buf itself here
    buf[...] = np.outer(y, np.matmul(y, c))  # the adjoint of matmul needs c as it was
    buf[0] += 1.0
    return np.sum(buf)


def view_by_branch_then_written(x, t):
    a = x * 2.0
    if t > 0:
        v = a[1:]
    else:
        v = a[:-1] + 0.0
    s = np.sum(v * v)
    a[1] = 5.0
    return s + np.sum(a)


# --- what the structurer moves into both branches of an if that returns: each branch binds it anew ----


def rebound_after_a_return_then_written(x, a):
    buf = np.full((2, 3), 0.5)
    if a > 0.0:
        if a >= -0.1:
            return np.sum(x)
    else:
        buf[1::2] -= x
    buf = buf[np.array([0, 0]), ::-1]
    shape = (3, 2)  # a tuple there stays a tuple
    return np.sum(np.reshape(buf, shape) ** 2) * np.sum(x)


# --- the tape's copy of a value must not be the array that later element writes change ----------------


def rescaled_after_a_row_update(W):
    h = np.negative(W)
    for j in range(2):
        h[j] += W[j]  # in the second run, h is the first run's quotient, which the tape kept
        h = h / (1.5 + W * W)
    return np.sum(h)


X3 = np.array([0.3, -1.2, 0.8])
M3 = np.arange(9.0).reshape(3, 3) / 10 + 0.1
B234 = np.sin(np.arange(24.0)).reshape(2, 3, 4)


# --- an element read is computed again in the reverse sweep only from memory no write changes ---
# (`w = y` then `y[i] = ...`: w[i] was read again after y[i] changed, since w itself is never
# element-written; the test now asks whether w shares memory with a written array)
def element_of_a_second_name_then_written(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = x[i] * x[i]
        w = y
        y[i] = w[i] * x[i] + 1.0
    return np.sum(y * y)


# (loops 730350 of a random run: `h1[:, k] = W[..., j]` in a loop, whose adjoint adds a column into
# W_bar[..., j] on each run, was summed in a number, `if W_bar_sum != 0.0` then raising on the array)
def column_added_into_the_same_place_each_run(W, n):
    h = np.zeros_like(W)
    for i in range(n):
        h[:, i % 2] = W[..., 1]
    return np.sum(h * h)


# (loops 50133 of a random run: `h3 = helper(...)` names the helper's result, `h3[idx] = T` then overwrote
# what the reverse sweep read as the result, as `g = h; g[idx] = ...` did: the elements were not saved)
def written_through_another_name(x, idx):
    h = np.exp(x)
    g = h
    y = h.astype(np.float64)
    g[idx] = x[0]
    return np.sum(y)


def _exp_of_square(x):
    return np.exp(x * x)


def helper_result_written(x, idx):
    h = _exp_of_square(x)
    y = h.astype(np.float64)
    h[idx] = x[0]
    return np.sum(y * y)


# --- a function adjoint writes in place of the user's must compute what the user's computes -----------
# (np.argsort along an axis was written as a stable sort: at ties NumPy's default orders otherwise, and
# the value and gradient were of another program; np.take_along_axis of indices that broadcast against
# the array had its adjoint written past the array's end under Numba; the standard deviation of equal
# entries summed under Numba to 1e-17, not 0, and took a derivative where np.std's is taken as 0)


def reordered_by_argsort(A, B):
    return np.sum(np.take_along_axis(B, np.argsort(A, axis=1), axis=1) * np.arange(B.shape[1]))


def rows_taken_by_broadcast_indices(x, idx):
    rows = np.take_along_axis(x[None, :], idx, axis=1)
    return np.sum(rows * np.arange(1.0, rows.size + 1.0).reshape(rows.shape))


def spread_of_equal_entries(A):
    return np.sum(np.std(A, axis=1)) + np.sum(np.var(A, axis=0) * A[0])


# --- a random draw is another value on each run, and advances its generator --------------------------
# (a draw in a loop was taken as loop-invariant and not taped: the reverse sweep read the last draw on
# every trip; a draw whose value is unused was dropped as dead code, so the draws after it were others)


def draws_in_a_loop(x):
    rng = np.random.default_rng(0)
    s = 0.0
    for i in range(3):
        z = rng.normal()
        s = s + x * z
    return s


def unused_draw_then_another(x):
    rng = np.random.default_rng(1)
    skipped = rng.normal(size=2)
    k = 0
    s = 0.0
    while k < 2:
        s = s + np.sin(x * rng.normal())
        k += 1
    return s


# --- np.einsum's lists of axes name axis 0 A and axis 26 a, as NumPy does; np.dstack of an array ------


def einsum_of_lists_past_26(a, w):
    return np.sum(np.einsum(a, [0, 26]) * w) + np.sum(np.einsum(a, [27, 1], [1, 27]) * w)


def dstack_of_an_array(A):
    return np.sum(np.dstack(A) * np.arange(6.0).reshape(1, 3, 2)) + np.sum(np.dstack(A[0]) ** 2)


def interpolated_at_a_repeated_knot(x):  # (0/0 slope of the repeated knot's empty segment, masked: nan)
    return np.interp(x, np.array([0.0, 0.0, 1.0, 2.0]), np.array([5.0, 1.0, 2.0, 3.0])) * 2.0


def log_beta_fed_back(a):  # (betaln written as gammaln(a) + gammaln(b) - gammaln(a + b): a few ulps off SciPy's,
    for _ in range(4):  # grown by each trip to 1e-10: the value was not the primal's; long random run 62490)
        a = scipy.special.betaln(1.5 + a * a, 1.5 + np.mean(a) ** 2)
    return np.sum(a)


TIES = np.array([[1.0, 0, 1, 0, 1, 0, 1, 0], [2, 2, 2, 2, 1, 1, 1, 1]])


CASES = [
    (draws_in_a_loop, (2.0,), 0),
    (unused_draw_then_another, (0.7,), 0),
    (einsum_of_lists_past_26, (np.arange(9.0).reshape(3, 3) ** 2 / 10, np.arange(9.0).reshape(3, 3)), 0),
    (dstack_of_an_array, (np.array([[1.0, 2, 3], [4, 5, 6]]),), 0),
    (interpolated_at_a_repeated_knot, (-1.0,), 0),
    (interpolated_at_a_repeated_knot, (0.5,), 0),
    (reordered_by_argsort, (TIES, np.arange(16.0).reshape(2, 8) / 10), 1),
    (rows_taken_by_broadcast_indices, (np.array([1.0, 2, 3, 4]), np.array([[0, 1, 2, 3], [3, 2, 1, 0], [1, 1, 0, 2]])),
     0),
    (spread_of_equal_entries, (np.full((2, 10), 0.1),), 0),
    (written_through_another_name, (np.arange(1.0, 7.0).reshape(2, 3) / 4.0, np.array([-2, 0])), 0),
    (helper_result_written, (np.arange(1.0, 7.0).reshape(2, 3) / 4.0, np.array([0, 1])), 0),
    (column_added_into_the_same_place_each_run, (np.arange(1.0, 7.0).reshape(3, 2), 3), 0),
    (invariant_in_for, (X3,), 0),
    (invariant_number, (1.5,), 0),
    (copy_in_while, (X3,), 0),
    (helper_in_loop, (X3,), 0),
    (tuple_target_in_loop, (1.5, 2.5), (0, 1)),
    (assigned_in_a_branch, (1.5,), 0),
    (inner_loop_last_value, (1.5,), 0),
    (integer_arrays_of_an_intermediate, (M3,), 0),
    (repeated_index_of_an_intermediate, (X3,), 0),
    (copy_read_through_newaxis, (X3, np.array([[1.0], [10.0]])), (0, 1)),
    (scaled_copy_read_through_index, (X3,), 0),
    (repeated_index_write, (X3,), 0),
    (repeated_index_added, (X3,), 0),
    (repeated_pairs_of_indices, (X3,), 0),
    (read_then_written_through_a_repeated_index, (X3,), 0),
    (repeated_rows_from_a_number, (1.5, M3[:, :2]), (0, 1)),
    (cast_to_ints, (np.array([1.7, -2.3]),), 0),
    (cast_to_floats, (np.array([1.7, -2.3]),), 0),
    (index_of_an_empty_loop, (0.7,), 0),
    (full_of_ints, (2.5,), 0),
    (one_sided_clips, (np.array([0.3, -1.2, 0.8, 0.1]), -0.4), (0, 1)),
    (trace_of_a_stack, (B234.reshape(2, 2, 6)[:, :, :4] + 0.5,), 0),
    (full_from_a_row, (np.array([0.5, -0.2]),), 0),
    (root_where_positive, (np.array([0.5, 0.1, -0.3, -1.0, -0.2]),), 0),
    (sinc_by_where, (np.array([0.0, 0.5, -1.2]),), 0),
    (log_likelihood_by_where, (np.array([1.0, 0.3, 0.0]), np.array([1, 0, 0])), 0),
    (inverse_distances_off_the_diagonal, (np.array([0.3, 1.2, -0.5]),), 0),
    (root_of_zero_not_read, (np.array([0.0, 0.3, 1.2]),), 0),
    (root_of_zero_overwritten, (np.array([0.0, 0.3, 1.2]),), 0),
    (shapes_of_a_number, (0.7, np.array([0.3, 1.2])), (0, 1)),
    (stack_of_numbers, (0.7, 1.3), (0, 1)),
    (element_of_a_0d_array, (np.array(0.7),), 0),
    (int_accumulator_becomes_an_array, (X3,), 0),
    (write_into_a_product_by_one, (X3,), 0),
    (write_into_a_sum_with_zero_then_read_the_original, (X3,), 0),
    (module_values_in_branches, (0.606, 3), 0),
    (module_values_in_branches, (0.2, 2), 0),
    (early_return_then_a_conditional_expression, (X3, 7), 0),
    (set_only_in_a_loop_in_a_branch, (np.array([-0.606, 0.59, 0.431, 0.307]), -3), 0),
    (set_only_in_a_loop_in_a_branch, (np.array([-0.606, 0.59, 0.431, 0.307]), 3), 0),
    (set_in_a_loop_left_by_a_return, (M3, -1), 0),
    (set_in_a_loop_left_by_a_return, (M3, 1), 0),
    (written_in_a_loop_after_a_broadcast_sum, (np.sin(np.arange(15.0)).reshape(3, 5),), 0),
    (loop_of_continue_in_an_else, (X3, 0.48), (0, 1)),
    (view_of_an_array_written_then_rebound_in_a_loop, (-0.412, X3), (0, 1)),
    (chained, (1.5,), 0),
    (chained_in_loop, (1.5,), 0),
    (chained_elements, (1.5,), 0),
    (sum_over_two_axes_then_index, (B234,), 0),
    (cumsum_along_rows_then_index, (M3,), 0),
    (power_of_a_negative_constant, (X3,), 0),
    (power_of_a_negative_name, (X3, 0.5), (0, 1)),
    (rows_unpacked_and_read, (M3[:2],), 0),
    (pair_unpacked_in_a_loop, (np.array([0.3, 0.8]), 1.3), (0, 1)),
    (int_to_negative_powers, (0.7, 2), 0),
    (series_of_inverse_squares, (0.7, 5), 0),
    (array_of_a_number_indexed, (0.7,), 0),
    (sum_indexed_by_none, (X3,), 0),
    (written_0d_arrays, (0.7,), 0),
    (alias_by_branch_then_overwritten, (np.array([-0.615, 0.604, -0.306]),), 0),
    (view_by_branch_then_written, (X3, 1.0), 0),
    (view_by_branch_then_written, (X3, -1.0), 0),
    (rebound_after_a_return_then_written, (X3, -0.2), (0, 1)),
    (rebound_after_a_return_then_written, (X3, 0.2), (0, 1)),
    (rescaled_after_a_row_update, (M3,), 0),
    (element_of_a_second_name_then_written, (X3,), 0),
]
# Numba refuses the primal too (two integer-array indices, np.sum over axes, np.trace of 3-d, ...)
NO_NUMBA = {reordered_by_argsort, draws_in_a_loop, unused_draw_then_another, rebound_after_a_return_then_written, alias_by_branch_then_overwritten, array_of_a_number_indexed, sum_indexed_by_none, written_0d_arrays, integer_arrays_of_an_intermediate, sum_over_two_axes_then_index, cast_to_ints, cast_to_floats,
            trace_of_a_stack, full_from_a_row, shapes_of_a_number, stack_of_numbers, element_of_a_0d_array,
            int_accumulator_becomes_an_array}


IDS = [c[0].__name__ + ("" if k == 0 else f"-{k + 1}") for c, k in
       ((c, [d[0] for d in CASES[:i]].count(c[0])) for i, c in enumerate(CASES))]


@pytest.mark.parametrize("fn, args, wrt", CASES, ids=IDS)
def test_three_oracles_agree(fn, args, wrt):
    assert failures(fn, args, wrt, jit=fn not in NO_NUMBA) == []


def test_argsort_along_an_axis_is_numpys_at_ties():
    import adjoint

    A, B = TIES, np.arange(16.0).reshape(2, 8) / 10
    value, grad = adjoint.value_and_grad(reordered_by_argsort, wrt=1, jit=False)(A, B)
    assert value == reordered_by_argsort(A, B)
    expected = np.zeros_like(B)
    np.put_along_axis(expected, np.argsort(A, axis=1), np.arange(8.0)[None, :], axis=1)
    np.testing.assert_array_equal(grad, expected)


def test_draws_are_the_primal_s():
    import adjoint

    assert adjoint.grad(draws_in_a_loop, jit=False)(2.0) == np.sum(np.random.default_rng(0).normal(size=3))
    value, _ = adjoint.value_and_grad(unused_draw_then_another, jit=False)(0.7)
    assert value == unused_draw_then_another(0.7)


def test_log_beta_is_scipys_to_the_bit():
    import adjoint

    x = np.array([0.3, 1.7, 2.9])
    assert adjoint.value_and_grad(log_beta_fed_back, jit=False)(x)[0] == log_beta_fed_back(x)
    assert failures(log_beta_fed_back, (x,), 0, jit=True) == []


def none_between_an_int_and_an_array(x):  # (NumPy puts the array's axis first, Numba did not: another value
    return np.sum(x[0, None, np.array([0, 2, 2])] * np.arange(15.0).reshape(3, 1, 5))  # and gradient under Numba)


def test_an_index_numba_orders_otherwise_runs_as_python():
    import adjoint

    x = np.arange(60.0).reshape(3, 4, 5) / 10
    with pytest.raises(adjoint.AdjointError, match="Numba orders otherwise than NumPy"):
        adjoint.grad(none_between_an_int_and_an_array, jit=True)(x)
    with pytest.warns(UserWarning, match="as Python"):
        value, grad = adjoint.value_and_grad(none_between_an_int_and_an_array)(x)
    assert value == none_between_an_int_and_an_array(x)
    assert failures(none_between_an_int_and_an_array, (x,), 0, jit=False) == []


def test_the_issue_numbers():
    """The values the report gave: 0.5 per entry, not 2.5; [1, 10, 0], not zeros."""
    import adjoint

    np.testing.assert_allclose(adjoint.grad(invariant_in_for, jit=False)(np.array([1.0, 2.0])), [0.5, 0.5])
    gx = adjoint.grad(copy_read_through_newaxis, jit=False)(np.array([1.0, 2.0, 3.0]), np.array([[1.0], [10.0]]))
    np.testing.assert_allclose(gx, [1.0, 10.0, 0.0])


# --- a differentiated value that no rule carries is refused, never taken as a constant ----------


def noise_around_inputs(x, y):
    return np.sum(np.random.normal(x, y, 5) ** 2)


def arange_from_input(x):
    return np.sum(np.arange(x, x + 3.0))


def variance_with_a_differentiated_ddof(x, d):
    return np.var(x, ddof=d)


@pytest.mark.parametrize("fn, args, wrt, what", [
    (noise_around_inputs, (1.0, 2.0), (0, 1), "`np.random.normal` makes an array from its arguments"),
    (arange_from_input, (1.5,), 0, "`np.arange` makes an array from its arguments"),
    (variance_with_a_differentiated_ddof, (X3, 0.5), (0, 1), "`np.var` has no derivative rule for its argument `ddof`"),
], ids=lambda v: getattr(v, "__name__", None))
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_lost_derivative_is_refused(fn, args, wrt, what, mode):
    import adjoint

    with pytest.raises(adjoint.SourceError, match=what) as e:
        if mode == "reverse":
            adjoint.grad(fn, wrt=wrt, jit=False)(*args)
        else:
            adjoint.jvp(fn, args, tuple(args[w] for w in wrt) if isinstance(wrt, tuple) else args[wrt], wrt=wrt,
                        jit=False)
    assert "would be lost" in str(e.value) and "test_wrong_results.py" in str(e.value)


def constants_made_from_inputs(x, y):
    grid = np.linspace(0.0, 1.0, 4)  # bounds that carry no derivative
    zero = np.zeros_like(x)  # only x's shape
    picked = np.where(x > 0.0, x, -x)  # a condition: a zero derivative
    return np.sum(grid * y) + np.sum(zero + picked * np.sign(x) + np.floor(x))


# --- writes through views that the alias check did not see: rows unpacked, views read by closures ------


def rows_unpacked_then_written(x0, v0):
    state = np.zeros((2, 3))
    pos, vel = state
    pos[:] = x0
    vel[:] = v0
    return np.sum(state ** 2)


def rows_of_a_transpose_written(B):
    a, b = B.T
    a[0] = 3.0 * a[0]
    return np.sum(B)


def view_read_by_a_closure(x):
    C = np.zeros(3)
    v = C[1:]

    def energy():
        return np.sum(v * v)
    for i in range(3):
        C[i] = x * (i + 1)
    return energy()


def view_read_by_a_lambda_through_another(x):
    C = np.zeros(2)
    v = C[:]
    inner = lambda: np.sum(v)  # noqa: E731
    outer = lambda: 2.0 * inner()  # noqa: E731
    C[0] = x
    return outer()


@pytest.mark.parametrize("fn, args, wrt", [
    (rows_unpacked_then_written, (X3, np.array([0.5, 0.5, 0.5])), (0, 1)),
    (rows_of_a_transpose_written, (M3[:, :2].copy(),), 0),
    (view_read_by_a_closure, (0.7,), 0),
    (view_read_by_a_lambda_through_another, (0.7,), 0),
], ids=lambda v: getattr(v, "__name__", None))
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_write_through_an_unseen_view_is_refused(fn, args, wrt, mode):
    import adjoint

    with pytest.raises(adjoint.SourceError, match="shares its memory"):
        if mode == "reverse":
            adjoint.grad(fn, wrt=wrt, jit=False)(*args)
        else:
            adjoint.jvp(fn, args, tuple(args[w] for w in wrt) if isinstance(wrt, tuple) else args[wrt], wrt=wrt,
                        jit=False)


def test_piecewise_constant_calls_pass():
    assert failures(constants_made_from_inputs, (np.array([1.2, -2.3, 0.5, 3.1]), 1.5), (0, 1)) == []


# --- a copy on the tape misses the writes into its array's own elements: refused ----------------
# (loops 132654: h2 was kept as a copy because a conditional expression linked it with an array
# written element by element; the adjoint then read h2 from before its own element write)
def element_written_array_linked_by_a_branch(x):
    h = x @ np.full((2, 2), 1.0)
    for r in x:
        h[np.array([True, False])] = x[1:2]
        other = np.ones(2)
        other[:] = x
        h = np.arccos(0.9 * np.sin(h))
    unused = (other if np.max(x) > 0.0 else h) @ x  # noqa: F841 (the branch that links the names is the point)
    return h


def test_a_tape_copy_that_would_miss_its_own_element_writes_is_refused():
    import adjoint

    with pytest.raises(adjoint.AdjointError, match="cannot be sure of the derivative: `h` is written into element"):
        adjoint.vjp(element_written_array_linked_by_a_branch, np.array([0.719, -0.162]), jit=False)
