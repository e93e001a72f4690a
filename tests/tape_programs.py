"""Programs where the tape must keep exactly what the reverse sweep reads (tests/test_tape.py)."""

import math

import numpy as np


def buffer_made_in_loop(x, a):
    # a buffer created inside the loop and then written: a new value on every iteration
    s = 0.0
    for k in range(a.shape[0]):
        L = np.zeros(2)
        L[0] = a[k]
        s = s + np.sum(x * L)
    return s


def view_read_then_buffer_written(x, a):
    # v shows buf; the next iteration's write changes what v shows
    s = 0.0
    buf = np.zeros(2)
    for k in range(a.shape[0]):
        buf[0] = a[k]
        v = buf[:]
        s = s + np.sum(x * v)
    return s


def transpose_of_written_buffer(x, a):
    s = 0.0
    buf = np.zeros((2, 2))
    for k in range(a.shape[0]):
        buf[0, 1] = a[k]
        t = buf.T
        s = s + np.sum(x * t)
    return s


def result_set_in_loop(x, level):
    # the result is assigned inside a loop: the reverse sweep restores it, the caller must not see that
    out = level
    for i in range(x.shape[0]):
        if x[i] > level:
            out = x[i] * level + i
    return out


def invariant_in_loop(x, dt):
    s = 0.0
    for i in range(x.shape[0]):
        half = 0.5 * dt
        s = s + half * x[i] * x[i]
    return s


PROGRAMS = [
    (buffer_made_in_loop, lambda: (np.array([1.0, 2.0]), np.array([3.0, 5.0, -1.0])), (0, 1)),
    (view_read_then_buffer_written, lambda: (np.array([1.0, 2.0]), np.array([3.0, 5.0, -1.0])), (0, 1)),
    (transpose_of_written_buffer, lambda: (np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([3.0, 5.0])), (0, 1)),
    (result_set_in_loop, lambda: (np.array([0.1, 1.4, 0.3, 2.5]), 0.9), (0, 1)),
    (invariant_in_loop, lambda: (np.array([0.5, -1.5, 2.0]), 0.1), (0, 1)),
]


def running_product(x):
    p = 1.0
    for i in range(x.shape[0]):
        p = p * x[i]
    return p


PROGRAMS.append((running_product, lambda: (np.array([0.5, -1.5, 2.0, 1.1]),), (0,)))


def shape_changes_in_loop(x, b):
    """Arrays that the reverse sweep reads only for their shape, which changes from step to step."""
    s = 0.0
    for k in range(1, x.shape[0] + 1):
        column = np.sin(x[:k])[:, None]
        grid = column + b
        s = s + np.sum(np.tanh(grid))
    return s


PROGRAMS.append((shape_changes_in_loop, lambda: (np.array([0.5, -1.5, 2.0, 1.1]), np.array([0.3, -0.2, 0.7])), (0, 1)))


def stencil_steps(u0, c, w):
    """Arrays whose shape is the same at every step (slices of one array with constant bounds, a row by
    an int, elementwise results of them): the reverse sweep reads their shapes from their last values."""
    u = u0.copy()
    s = 0.0
    for k in range(3):
        lap = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u[1:-1] = u[1:-1] + c * lap * w[k, 1:-1]
        s = s + np.sum(np.tanh(lap) * w[k, 1:-1])
    return s + np.sum(u * u)


def de_casteljau(p, t):
    """A parameter rebound in a loop to a shorter array: its shape changes at every step (a hunt found
    its shape taken as fixed: wrong gradients, or none of the right shape)."""
    for i in range(p.shape[0] - 1):
        p = (1.0 - t) * p[:-1] + t * p[1:]
    return p[0]


def pyramid(x, c):
    for k in range(3):
        x = c * (x[::2] + x[1::2])
    return x[0]


PROGRAMS.append((de_casteljau, lambda: (np.array([0.0, 1.0, 3.0, 2.0]), 0.3), (0, 1)))
PROGRAMS.append((pyramid, lambda: (np.linspace(-1.0, 2.0, 8) ** 2, 0.6), (0, 1)))
PROGRAMS.append((stencil_steps, lambda: (np.array([0.5, -1.5, 2.0, 1.1, 0.3, 0.9]), 0.2,
                                          np.linspace(0.1, 1.0, 18).reshape(3, 6)), (0, 1, 2)))


def matvec_steps(W, h):
    """A weight adjoint summed over the steps of a loop, in place."""
    for t in range(3):
        h = np.tanh(W @ h)
    return np.sum(h * h)


PROGRAMS.append((matvec_steps, lambda: (np.array([[0.5, -0.2], [0.3, 0.8]]), np.array([1.0, -0.5])), (0, 1)))


def _count_up(m):
    out = 0.0
    x = 1.0
    if m % 2 == 1:
        out = 0.5
        x = 0.5
    while x < 0.5 * m:
        out = out + x
        x = x + 1.0
    return out


def constant_from_loops(x, n):
    """A constant computed by branches and loops that carry no derivative (as log_gamma_half in the
    benchmarks' gmm_objective)."""
    c = 0.0
    for j in range(1, n + 1):
        c = c + _count_up(n + 1 - j)
    return x * c


PROGRAMS.append((constant_from_loops, lambda: (0.7, 5), (0,)))


def _field(k, u, v):
    return k * u - u * v, u * v - v


def midpoint_steps(k, u0, v0, dt):
    """An integrator whose stages come from a called function: the stages are copies of the callee's
    results, computed again from the state in the reverse sweep, so only the state is taped."""
    u, v = u0, v0
    for step in range(4):
        fu, fv = _field(k, u, v)
        gu, gv = _field(k, u + 0.5 * dt * fu, v + 0.5 * dt * fv)
        u = u + dt * gu
        v = v + dt * gv
    return u * v


PROGRAMS.append((midpoint_steps, lambda: (1.3, 0.8, 1.1, 0.1), (0, 1, 2)))


def pair_energy(x, q):
    """Several adjoint divisions by one number (from / and math.sqrt), as in a pair potential."""
    e = 0.0
    for i in range(x.shape[0]):
        for j in range(i + 1, x.shape[0]):
            d = x[i] - x[j]
            r = math.sqrt(d * d + 0.01)
            e = e + q[i] * q[j] / r
    return e


PROGRAMS.append((pair_energy, lambda: (np.array([0.3, -1.2, 0.9, 2.0]), np.array([1.0, -0.5, 2.0, 0.7])), (0, 1)))


def triangle_of_products(x):
    """A number taped in an inner loop whose run length changes with the outer loop, and in a branch."""
    s = 0.0
    for i in range(x.shape[0]):
        p = 1.0
        for j in range(i, x.shape[0]):
            p = p * x[j]
            if p > 0.5:
                p = p * 0.9
        s = s + p
    return s


PROGRAMS.append((triangle_of_products, lambda: (np.array([0.9, 1.3, 0.7, 1.1, 0.95]),), (0,)))


def halving_until_small(x):
    """A number taped in a while loop, whose runs have no count ahead."""
    y = x * 1.0
    while y > 0.1:
        y = y * 0.5 + 0.01 * y * y
    return y


PROGRAMS.append((halving_until_small, lambda: (3.7,), (0,)))


def _squash(z):
    return 1.0 / (1.0 + np.exp(-z))


def gated_steps(W, h):
    """An array returned by an inlined call under a second name (gate = the callee's result)."""
    for t in range(3):
        gate = _squash(W @ h)
        h = gate * h + 0.1
    return np.sum(h * h)


PROGRAMS.append((gated_steps, lambda: (np.array([[0.5, -0.2], [0.3, 0.8]]), np.array([1.0, -0.5])), (0, 1)))


def centred_rows(x, m):
    """An array made in each iteration by one elementwise operation on arrays nothing changes
    (x, and a row of m): computed again in the reverse sweep rather than kept for every iteration.
    Its row sums of squares are summed over an axis, whose adjoint needs only the shape."""
    s = 0.0
    for k in range(m.shape[0]):
        xc = x - m[k]
        s = s + np.sum(np.sum(xc * xc, axis=1) * (k + 1.0))
    return s


PROGRAMS.append((centred_rows, lambda: (np.array([[0.5, -1.0], [1.5, 0.3], [0.2, 0.9]]),
                                        np.array([[0.1, 0.2], [-0.4, 0.6]])), (0, 1)))


# Programs a review found wrong or crashing after the recomputation and tape changes (now right).

def keep_old_then_update(x, n):
    """The old value kept under a second name, the name updated, both read after: the copy's value
    is needed by a reader after the update, so it cannot be recomputed at the update."""
    s = 0.0
    for i in range(n):
        t = x
        x = t * 0.8 + 0.1
        s = s + t * x
    return s


PROGRAMS.append((keep_old_then_update, lambda: (0.7, 4), (0,)))


def set_in_branch_read_after(x, n):
    """A number set inside a branch of a loop body and read after the branch."""
    s = 0.0
    t = 0.0
    for i in range(n):
        if i % 2 == 0:
            t = x * 1.5
            s = s + t * t
        s = s + t * x
        x = x * 0.9 + 0.05
    return s


PROGRAMS.append((set_in_branch_read_after, lambda: (0.7, 4), (0,)))


def product_then_element_written(x, a, n):
    """An elementwise product of unchanging arrays whose element is then written: not recomputable."""
    s = 0.0
    for i in range(n):
        t = a * 2.0
        t[0] = x[0] * x[1]
        s = s + np.sum(t * x)
    return s


PROGRAMS.append((product_then_element_written, lambda: (np.array([0.5, 1.5, -0.7]), np.array([1.0, 2.0, 3.0]), 3),
                 (0,)))


def unpacked_constants_in_loop(x, D, n):
    """A tuple of constants unpacked in a loop, then used elementwise."""
    s = 0.0
    for i in range(n):
        u, v = D * (i + 1.0)
        t = u * 2.0
        s = s + np.sum(t * v * x)
    return s


PROGRAMS.append((unpacked_constants_in_loop, lambda: (np.array([0.5, -1.0]), np.array([[1.0, 2.0], [0.5, 3.0]]), 3),
                 (0,)))


def fixed_point(a, x, max_iter):
    """A loop that stops when it converges, long before range(max_iter) ends."""
    for it in range(max_iter):
        x_new = math.cos(a * x)
        if abs(x_new - x) < 1e-12:
            break
        x = x_new
    return x


PROGRAMS.append((fixed_point, lambda: (0.8, 0.5, 10**12), (0, 1)))


def forced_logistic(r, x0, n):
    """Two numbers computed again at one statement, which also overwrites an input of one of them."""
    x = x0
    for i in range(n):
        x = r * x * (1.0 - x) + 0.01 * i
    return x


PROGRAMS.append((forced_logistic, lambda: (2.5, 0.3, 6), (0, 1)))


def added_at_a_fixed_index(x, k, m):
    """A loop that only adds into x_bar[k], run zero times with k out of range."""
    s = 0.0
    for j in range(m):
        s += x[k] * x[j]
    return s


PROGRAMS.append((added_at_a_fixed_index, lambda: (np.arange(1.0, 6.0), 10, 0), (0,)))
PROGRAMS.append((added_at_a_fixed_index, lambda: (np.arange(1.0, 6.0), 3, 5), (0,)))


# Programs a fuzzer found wrong or crashing (now right).

def index_read_after_its_loop(x, y, n):
    """An inner loop's index read after the inner loop, in an outer loop: the reverse inner loop
    leaves its own last index there, so the forward one is kept."""
    s = 0.0
    for i in range(n):
        for j in range(3):
            x = x * 0.9 + 0.1 * y
        s = s + j * x
    return s


PROGRAMS.append((index_read_after_its_loop, lambda: (0.4, 0.7, 3), (0, 1)))


def pushed_in_and_after_an_inner_loop(x, n):
    """A number taped inside an inner loop and again after it, in each step of an outer loop."""
    for i in range(n):
        for j in range(2):
            x = math.sin(x)
        x = math.sin(x)
    return x


PROGRAMS.append((pushed_in_and_after_an_inner_loop, lambda: (0.4, 9), (0,)))


# Programs a fuzzer of array loops found wrong (now right).

def carried_then_constant(x, n):
    """A loop-carried number read, then set to a constant: the adjoint of the read must reach x."""
    y = x * 1.0
    s = 0.0
    for t in range(n):
        s = s + y
        y = 0.0
    return s


PROGRAMS.append((carried_then_constant, lambda: (0.5, 3), (0,)))
PROGRAMS.append((carried_then_constant, lambda: (0.5, 0), (0,)))


def view_kept_then_base_written(v, n):
    """A view kept for the reverse sweep, then an element of its base written in the same step."""
    c = v * 1.0
    s = 0.0
    for t in range(n):
        c = c + v
        s = s + np.sum(v[:2] * c[:2])
        c[0] = 0.0
    return s


PROGRAMS.append((view_kept_then_base_written, lambda: (np.array([1.0, 2.0, 3.0, 4.0]), 2), (0,)))


def element_written_then_scaled(v, n):
    """An element written, the array read, then the whole array rebound: the reverse sweep must read
    it with the element written (its tape keeps the array itself, not a copy taken before the write)."""
    h = v * 0.5
    buf = np.zeros(4)
    s = 0.0
    for t in range(n):
        buf[t % 4] += np.mean(h)
        s = s + np.sum(buf * h) * 0.1
        buf *= 0.5
    return np.sum(h * h) + s + np.sum(buf)


PROGRAMS.append((element_written_then_scaled, lambda: (np.array([-0.3, 0.2, 0.4, -0.1]), 3), (0,)))


def dead_store_in_loop(x, n):
    """A value overwritten before any read: the forward sweep must still compute what its tape keeps
    (it dropped the sqrt, and the reverse sweep divided by the stale 0.0 it had taped)."""
    u = 0.0
    for i in range(n):
        u = math.sqrt(1.0 + u)
        u = x * x
    return u


PROGRAMS.append((dead_store_in_loop, lambda: (0.3, 4), (0,)))


def dead_store_at_a_kink(x, n):
    """A value overwritten before any read, where its own derivative is infinite (sqrt at 0): its
    adjoint is a known zero, and the term 0 * 0.5 / 0 must not be computed (ZeroDivisionError)."""
    u = 0.0
    for i in range(n):
        u = math.sqrt(x - x)
        u = x * x
    return u


PROGRAMS.append((dead_store_at_a_kink, lambda: (0.3, 3), (0,)))


def swap_in_loop(a, n):
    """`p, q = q, p` in a loop, where each name keeps one variable: both parts are read first."""
    p = a
    q = 0.0
    for t in range(n):
        p, q = q, p
    return p * p + 10.0 * q


PROGRAMS.append((swap_in_loop, lambda: (0.7, 3), (0,)))


def rotate_arrays_in_loop(x, n):
    v = x * 1.0
    buf = np.zeros(3)
    for t in range(n):
        buf[t % 3] = np.sum(v)
        v, buf = buf, v
    return np.sum(v * v) + np.sum(buf)


PROGRAMS.append((rotate_arrays_in_loop, lambda: (np.array([0.3, 0.5, 0.7]), 3), (0,)))


def view_in_expression_then_base_written(m, n):
    """A view inside an expression (B[1:]), then B written and rebound: the reverse sweep must read
    the view's values as the expression saw them, not as the write left them."""
    B = np.zeros(3)
    s = 0.0
    for t in range(n):
        s = s + np.sum(B[1:] * m[:2])
        B[1] = B[1] + m[1]
        B = B * 1.0
    return s


PROGRAMS.append((view_in_expression_then_base_written, lambda: (np.array([0.3, 0.5, 0.7]), 2), (0,)))


def shrinking_in_loop(x, n):
    """An array that changes shape each iteration: its adjoint is cleared to the shape it had before."""
    v = x * 1.0
    for t in range(n):
        v = v[1:] * 2.0
    return np.sum(v)


PROGRAMS.append((shrinking_in_loop, lambda: (np.array([0.3, 0.5, 0.7, 0.2]), 2), (0,)))


def growing_in_loop(x, n):
    acc = x * 1.0
    for t in range(n):
        acc = np.concatenate((acc, acc[-1:] * 2.0))
    return np.sum(acc * acc)


PROGRAMS.append((growing_in_loop, lambda: (np.array([0.3, 0.5, 0.7, 0.2]), 2), (0,)))


def disjoint_views_written(x, k):
    """Views of one array that share no element: writing into one leaves the others as they were."""
    u = x * 1.0
    head, tail = u[:k], u[k:]
    tail[0] = tail[0] * head[0]
    B = np.outer(x, x[:3])
    left, right = B[:, :1], B[:, 1:]
    right[0, 0] = right[0, 0] + 1.5 * left[1, 0]
    C = np.outer(x[1:], x)
    top, bottom = C[0], C[2]
    bottom[1] = bottom[1] * top[2]
    return np.sum(head * head) + np.sum(tail * tail) + np.sum(left * right[:, :1]) + np.sum(top * bottom)


PROGRAMS.append((disjoint_views_written, lambda: (np.array([0.3, -0.5, 0.7, 1.2]), 2), (0,)))


def loop_variable_left_over(A, n):
    """`row` still shows B's last row after the inner loop, but every later read follows a new `for row`."""
    s = 0.0
    B = A * 1.0
    for t in range(n):
        for row in B:
            s = s + np.sum(row * row)
        B[0, 0] = B[0, 0] * 0.5
    return s


PROGRAMS.append((loop_variable_left_over, lambda: (np.array([[0.3, -0.5], [0.7, 1.2]]), 2), (0,)))


def boundary_then_new_array(x, n):
    """An element write each step into an array the step then replaces by a new one (no alias)."""
    u = x * 1.0
    for t in range(n):
        u[0] = 0.5 * u[-1]
        u = np.sin(u) + 0.1 * u
    return np.sum(u * u)


PROGRAMS.append((boundary_then_new_array, lambda: (np.array([0.3, -0.5, 0.7, 1.2]), 3), (0,)))


def fresh_then_view_each_run(x, n):
    """p2 is made anew before each write; later in the run it views v, which the next run's write
    cannot reach (p2 is bound again first)."""
    v = x * 1.0
    s = 0.0
    for t in range(n):
        p2 = v[1:] * 1.0
        p2[0] = p2[0] * 0.5
        s = s + np.sum(p2)
        p2 = v[2:]
        s = s + np.sum(p2 * p2)
    return s


PROGRAMS.append((fresh_then_view_each_run, lambda: (np.array([0.3, -0.5, 0.7, 1.2]), 3), (0,)))


def views_bound_after_an_inner_break(x, n):
    """A break inside an inner loop ends that loop only: the views bound after it are surely bound
    again before the next run reads them, so the write into v is allowed."""
    v = x * 1.0
    s = 0.0
    for t in range(n):
        for j in range(v.shape[0]):
            if v[j] > 0.6:
                break
            s = s + v[j] * 0.1
        a, b = v[:2], v[2:]
        s = s + np.sum(a) * np.sum(b) * 0.1
        v[t % 4] += 0.5 * s
    return s + np.sum(v * v)


PROGRAMS.append((views_bound_after_an_inner_break, lambda: (np.array([0.3, -0.5, 0.7, 1.2]), 3), (0,)))


# Element saves are kept only where the reverse sweep reads the array after the element is put back
# (transforms/tape.read_after_loads): before the loop that writes, in the next iteration of a loop
# around it, in a branch, through a view. Each of these needs its saves.

def read_before_elements_written(x):
    y = x.copy()
    before = np.sum(y * y)  # (its adjoint runs after the loop's: it reads y as it was)
    for i in range(1, y.shape[0]):
        y[i] = 0.5 * (y[i] + y[i - 1])
    return before + np.sum(y * y)


PROGRAMS.append((read_before_elements_written, lambda: (np.array([0.5, -1.5, 2.0, 1.1]),), (0,)))


def read_at_each_outer_step(x, n):
    y = x.copy()
    s = 0.0
    for k in range(n):
        s = s + np.sum(np.sin(y))  # (read in each outer iteration, before the inner loop writes)
        for i in range(1, y.shape[0]):
            y[i] = y[i] + 0.3 * y[i - 1]
    return s + np.sum(y)


PROGRAMS.append((read_at_each_outer_step, lambda: (np.array([0.5, -1.5, 2.0, 1.1]), 3), (0,)))


def read_after_each_outer_step(x, n):
    y = x.copy()
    s = 0.0
    for k in range(n):
        for i in range(1, y.shape[0]):
            y[i] = y[i] + 0.3 * y[i - 1]
        s = s + np.sum(np.sin(y))  # (its adjoint comes first in each reverse iteration: the next one reads
    return s  # the elements the inner loop's adjoint put back)


PROGRAMS.append((read_after_each_outer_step, lambda: (np.array([0.5, -1.5, 2.0, 1.1]), 3), (0,)))


def written_in_one_branch_read_in_the_other(x, n):
    y = x.copy()
    s = 0.0
    for k in range(n):
        if k % 2 == 0:
            y[k % 4] = 0.5 * y[k % 4] + y[(k + 1) % 4]
        else:
            s = s + np.sum(np.sin(y))
    return s + np.sum(y)


PROGRAMS.append((written_in_one_branch_read_in_the_other, lambda: (np.array([0.5, -1.5, 2.0, 1.1]), 5), (0,)))


def view_read_before_elements_written(x):
    y = x.copy()
    head = y[:2]
    before = np.sum(head * head)
    for i in range(y.shape[0]):
        y[i] = 2.0 * y[i]
    return before + np.sum(y)


PROGRAMS.append((view_read_before_elements_written, lambda: (np.array([0.5, -1.5, 2.0, 1.1]),), (0,)))


def running_sum_not_read_again(y, x):
    """A cumulative integral: the reverse sweep never reads c's values after its loop, so no element is
    saved (it saved every c[i] on a list, a tenth of the gradient's time)."""
    c = np.zeros(len(y))
    for i in range(1, len(y)):
        c[i] = c[i - 1] + 0.5 * (x[i] - x[i - 1]) * (y[i] + y[i - 1])
    return np.sum(c * c)


PROGRAMS.append((running_sum_not_read_again, lambda: (np.array([0.5, -1.5, 2.0, 1.1]), np.array([0.0, 0.3, 0.5, 1.2])),
                 (0, 1)))


# A name written again is put back only where the reverse sweep reads it after one of its restores
# (transforms/tape.read_after); where only its shape is read after them, only its shapes are kept.

def rebound_then_read_each_step(x, n):
    u = x.copy()
    s = 0.0
    for k in range(n):
        u = 0.5 * u + x
        s = s + np.sum(np.sin(u))  # (its adjoint, first in each reverse iteration, reads u as the next
    return s  # iteration's restore left it)


PROGRAMS.append((rebound_then_read_each_step, lambda: (np.array([0.5, -1.5, 2.0, 1.1]), 3), (0,)))


def rebound_linear_steps(u0, kappa, n):
    """A linear step on an array rebound each time, whose final value the reverse sweep reads before
    its loop: each step's array is kept as it is (it copied every step's array once)."""
    u = u0.copy()
    for k in range(n):
        u_new = u.copy()
        for i in range(1, u.shape[0] - 1):
            u_new[i] = u[i] + kappa * (u[i + 1] - 2.0 * u[i] + u[i - 1])
        u = u_new
    return np.sum(u * u)


PROGRAMS.append((rebound_linear_steps, lambda: (np.array([0.0, 0.5, -1.5, 2.0, 1.1, 0.0]), 0.2, 3), (0, 1)))


def halvings_per_step(x):
    """A while loop inside a loop whose reverse is not fused into it (the sum carries from one step to
    the next): each step's trip count goes on a tape of ints."""
    s = 1.0
    for k in range(x.shape[0]):
        s = s + x[k]
        while s > 2.0:
            s = 0.5 * s + 0.1 * np.sin(s)
    return s


PROGRAMS.append((halvings_per_step, lambda: (np.array([3.0, 0.5, 9.0, 40.0]),), (0,)))


# Found by a helper's hunt of the flow-sensitive tape placement:

def parameter_rebound_to_a_comparison(x, p):
    """A parameter later given only comparisons: its entry value (2.5) is not a flag (it came back True)."""
    s = 0.0
    for i in range(3):
        s = s + x * p
        p = s > 1.0
    return s


PROGRAMS.append((parameter_rebound_to_a_comparison, lambda: (0.7, 2.5), (0,)))


def index_of_a_saved_write_read_after_its_loop(x):
    """The loop index, read after the loop (so a name written again), indexes an element write whose old
    values are put back: the load sites read it (every old element went back into y[3])."""
    y = np.ones(4)
    s = 0.0
    for j in range(4):
        y[j] = y[j] * 2.0 + 0.5
        s = s + np.sum(np.sin(x * y))
    return s + x * j


PROGRAMS.append((index_of_a_saved_write_read_after_its_loop, lambda: (0.7,), (0,)))


def index_of_a_saved_write_chosen_by_a_branch(x, c):
    """(Wrong before the flow-sensitive placement too: nothing else read k.)"""
    w = np.ones(4)
    s = 0.0
    for t in range(4):
        if c * t > 1.0:
            k = t
        else:
            k = 3 - t
        w[k] = w[k] * 1.5 + 0.25
        s = s + np.sum(np.sin(x * w))
    return s


PROGRAMS.append((index_of_a_saved_write_chosen_by_a_branch, lambda: (0.7, 0.5), (0,)))
