"""Programs that fill a new array each step and then give it a name (analysis.aliasing.frozen), and
programs that look like them but write an array after a name holds it: tests/test_frozen.py runs
them through the oracles. Each has a note of whether its name is frozen."""

import numpy as np


def stencil_2d(u0, c, n_steps):  # frozen: u
    n, m = u0.shape
    u = u0.copy()
    for step in range(n_steps):
        new = u.copy()
        for i in range(1, n - 1):
            for j in range(1, m - 1):
                lap = u[i + 1, j] + u[i - 1, j] + u[i, j + 1] + u[i, j - 1] - 4 * u[i, j]
                new[i, j] = u[i, j] + c * lap * u[i, j]
        u = new
    return np.sum(u**2)


def slices_1d(u0, r, n_steps):  # frozen: u
    u = u0.copy()
    for step in range(n_steps):
        new = np.zeros_like(u)
        new[1:-1] = u[1:-1] + r * (u[2:] - 2 * u[1:-1] + u[:-2]) * u[1:-1]
        new[0] = u[0] * r
        new[-1] = np.sin(u[-1])
        u = new
    return np.sum(u * u)


def gather(x0, w, n_steps):  # frozen: x; reads at data-dependent indices
    x = x0.copy()
    n = x.shape[0]
    for step in range(n_steps):
        y = np.empty(n)
        for i in range(n):
            k = int(abs(x[i]) * 7) % n
            y[i] = np.tanh(w * x[k] + x[i])
        x = y
    return np.sum(x**3)


def swap(u0, c, n_steps):  # not frozen: the two names trade arrays, and one is written
    u = u0.copy()
    v = np.zeros_like(u0)
    for step in range(n_steps):
        for i in range(1, u.shape[0] - 1):
            v[i] = u[i] + c * (u[i - 1] - u[i]) * u[i + 1]
        u, v = v, u
    return np.sum(u**2)


def written_later(u0, c, n_steps):  # not frozen: the name's own array is written after it holds it
    u = u0.copy()
    t = 0.0
    for step in range(n_steps):
        new = u.copy()
        new[0] = u[1] * c * u[0]
        u = new
        t = t + u[0] * u[1]
        u[0] = u[0] * c
    return np.sum(u**2) + t


def written_after_loop(u0, c, n_steps):  # not frozen: the last array is written after the loop
    u = u0.copy()
    for step in range(n_steps):
        new = u.copy()
        new[0] = u[1] * c * u[0]
        u = new
    t = u[0] * u[1]
    u[1] = u[0] * u[1] * c
    return np.sum(u**2) + t


def given_a_view(u0, c, n_steps):  # not frozen: the name is given a view of the buffer
    u = u0.copy()
    for step in range(n_steps):
        new = u.copy()
        new[0] = u[1] * c * u[0]
        u = new[:]
    return np.sum(u**2)


def branch_buffer(u0, c, n_steps):  # frozen: u; the buffer is made, filled and given in a branch
    u = u0.copy()
    for step in range(n_steps):
        if step % 2 == 0:
            new = u * 1.0
            new[0] = u[1] * u[2] * c
            u = new
        u = u * c + 0.5 * u**2
    return np.sum(u**2)


def summed_inside(u0, c, n_steps):  # frozen: u; starts as the caller's array, read while filling
    u = u0
    t = 0.0
    for step in range(n_steps):
        new = np.empty_like(u)
        for i in range(u.shape[0]):
            new[i] = u[i] * c * u[(i + 1) % u.shape[0]]
            t = t + new[i] * u[i]
        u = new
    return np.sum(u**2) + t


def early_exit(x0, c, tol):  # frozen: x; a while loop that may stop before the name takes the new array
    x = x0.copy()
    k = 0
    while k < 50:
        y = x.copy()
        for i in range(x.shape[0]):
            y[i] = x[i] - c * (x[i] ** 3 - 2.0) / (3 * x[i] ** 2)
        if np.max(np.abs(y - x)) < tol:
            break
        x = y
        k += 1
    return np.sum(x)


def two_names(u0, c, n_steps):  # frozen: u and v, which take the same buffer
    u = u0.copy()
    v = u0.copy()
    for step in range(n_steps):
        new = u.copy()
        for i in range(1, u.shape[0]):
            new[i] = u[i - 1] * c + v[i] * u[i]
        u = new
        v = new
    return np.sum(u**2 + v)


def returned_buffer(u0, c, n_steps):  # frozen: u; the buffer's last array is also returned through it
    u = u0.copy()
    for step in range(n_steps):
        new = np.empty_like(u)
        for i in range(u.shape[0]):
            new[i] = u[i] * u[(i + 1) % u.shape[0]] * c
        u = new
    return u


CASES = {  # name -> (function, arguments, wrt, the names frozen)
    "stencil_2d": (stencil_2d, lambda r: (r.uniform(size=(6, 5)), 0.1, 4), (0, 1), {"u"}),
    "slices_1d": (slices_1d, lambda r: (r.uniform(size=7), 0.3, 5), (0, 1), {"u"}),
    "gather": (gather, lambda r: (r.uniform(0.1, 1.0, size=6), 0.7, 4), (0, 1), {"x"}),
    "swap": (swap, lambda r: (r.uniform(size=6), 0.3, 5), (0, 1), set()),
    "written_later": (written_later, lambda r: (r.uniform(size=4), 0.8, 4), (0, 1), set()),
    "written_after_loop": (written_after_loop, lambda r: (r.uniform(size=4), 0.8, 4), (0, 1), set()),
    "given_a_view": (given_a_view, lambda r: (r.uniform(size=4), 0.8, 4), (0, 1), set()),
    "branch_buffer": (branch_buffer, lambda r: (r.uniform(size=4), 0.9, 4), (0, 1), {"u"}),
    "summed_inside": (summed_inside, lambda r: (r.uniform(size=5), 0.9, 4), (0, 1), {"u"}),
    "early_exit": (early_exit, lambda r: (r.uniform(1.0, 2.0, size=4), 0.5, 1e-3), (0, 1), {"x"}),
    "two_names": (two_names, lambda r: (r.uniform(size=5), 0.4, 4), (0, 1), {"u", "v"}),
    "returned_buffer": (returned_buffer, lambda r: (r.uniform(size=5), 1.1, 3), (0, 1), {"u"}),
}


def real_step(u0, c, n_steps):  # np.real of a real array is that array: `new` is not a new buffer
    u = u0.copy()
    for step in range(n_steps):
        new = np.real(u)
        new[1] = u[0] * c
        new[0] = u[1] * c
        u = new
    return np.sum(u**2)


def rot90_step(u0, c, n_steps):  # not frozen: np.rot90(u, 4) is a view of u, which the writes change
    u = u0.copy()
    for step in range(n_steps):
        new = np.rot90(u, 4)
        new[0, 1] = u[1, 0] * c
        u = new
    return np.sum(u**2)


def real_if_close_once(u0, c):
    u = u0.copy()
    new = np.real_if_close(u)
    new[0] = c
    return np.sum(u**2)


def nan_to_num_in_place(u0, c):
    u = u0 * c
    np.nan_to_num(u, copy=False)
    return np.sum(u**2)


CASES["rot90_step"] = (rot90_step, lambda r: (r.uniform(size=(3, 3)), 0.4, 3), (0, 1), set())

GIVEN_BACK = {  # calls whose NumPy result is their argument or a view of it (found by a helper's hunt)
    "real_step": (real_step, (np.array([0.5, 0.8, 0.3]), 0.4, 2)),
    "real_if_close_once": (real_if_close_once, (np.array([0.5, 0.8, 0.3]), 0.4)),
    "nan_to_num_in_place": (nan_to_num_in_place, (np.array([0.5, 0.8, 0.3]), 0.4)),
}
