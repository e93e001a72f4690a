"""Programs whose top-level loops tests/test_checkpoint.py reverses by checkpointing
(`checkpoint=True`), against the adjoint that stores every iteration: (function, arguments, wrt)."""

import numpy as np


def logistic_sum(r, x0, n):
    x = x0
    s = 0.0
    for i in range(n):
        x = r * x * (1.0 - x)
        s = s + x * x
    return s


def _lotka_volterra(p, u, v):
    return p[0] * u - p[1] * u * v, p[3] * u * v - p[2] * v


def rk4(p, y0, n, dt):
    u, v = y0[0], y0[1]
    for step in range(n):
        k1u, k1v = _lotka_volterra(p, u, v)
        k2u, k2v = _lotka_volterra(p, u + 0.5 * dt * k1u, v + 0.5 * dt * k1v)
        k3u, k3v = _lotka_volterra(p, u + 0.5 * dt * k2u, v + 0.5 * dt * k2v)
        k4u, k4v = _lotka_volterra(p, u + dt * k3u, v + dt * k3v)
        u = u + dt / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u)
        v = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
    return u * v


def heat_in_place(u0, c, n):  # an array written into in place, its views taken again each step
    u = u0.copy()
    t = 0.0
    for k in range(n):
        u[1:-1] = u[1:-1] + c * (u[2:] - 2.0 * u[1:-1] + u[:-2]) * u[1:-1]
        t = t + u[2] * u[1]
    return np.sum(u**2) + t


def euler_arrays(x0, w, n, dt):  # an array rebound each step
    x = x0
    for k in range(n):
        x = x + dt * np.tanh(w @ x)
    return np.sum(x * x)


def inner_loops(x0, a, n):  # a loop inside the checkpointed one keeps its own tape
    x = x0.copy()
    for k in range(n):
        for j in range(x.shape[0]):
            x[j] = np.sin(a * x[j]) + 0.5 * x[(j + 1) % x.shape[0]]
    return np.sum(x)


def branches(x0, a, n):
    x = x0
    y = 0.0
    for k in range(2, n):
        if x > 0.5:
            x = a * x * (1.0 - x)
        else:
            x = x + 0.1 * np.cos(a * x)
            y = y + x
    return x + y


def until_small(x0, a, tol):  # a while loop whose trip count the data decide
    x = x0
    s = 0.0
    while abs(x) > tol:
        x = a * x - 0.1 * np.sin(x)
        s = s + x * x
    return s + x


def until_break(x, a, limit):  # ... and one that leaves by a break
    k = 0
    y = x * 0.5
    while k < 1000:
        y = np.cos(a * y) + 0.5 * y
        if y * y > limit:
            break
        k = k + 1
    return y * k


def for_break(x, a, n, limit):  # a for loop that may leave by a break: counted first, as a while loop
    y = x
    total = 0.0
    for i in range(n):
        y = np.sin(a * y) + 0.9 * y + 0.01 * i
        if y > limit:
            break
        total = total + y * y
    return total + y


def stepped(x0, a, n):  # a loop that steps by 3, and one that counts down
    x = x0
    for i in range(1, n, 3):
        x = x + a * np.sin(x) / i
    for j in range(n, 0, -2):
        x = x * (1.0 - 0.01 * a * j / n)
    return x


def heat_new_array(u0, k, steps):  # each step a new array (u = un): its inner reverse loop runs forward in both
    u = u0.copy()
    n = u.shape[0]
    for s in range(steps):
        un = u.copy()
        for i in range(1, n - 1):
            un[i] = u[i] + k * (u[i - 1] - 2 * u[i] + u[i + 1])
        u = un
    return np.sum(u ** 2)


def newton_rows(a, iters):  # an array carried by a while loop, written into in place
    x = np.ones_like(a)
    k = 0
    while k < iters:
        for j in range(a.shape[0]):
            x[j] = 0.5 * (x[j] + a[j] / x[j])
        k += 1
    return np.sum(x * x)


def two_loops(x0, a, n):  # two top-level loops, one after the other, and a while loop
    x = x0
    for k in range(n):
        x = np.sin(a * x) + x
    m = 0
    while m < 3:
        x = x * a
        m += 1
    s = 0.0
    for k in range(n):
        s = s + x * np.exp(-k * a)
        x = x * 0.9
    return s


PROGRAMS = [
    (logistic_sum, (2.9, 0.3, 0), (0, 1)),
    (logistic_sum, (2.9, 0.3, 1), (0, 1)),
    (logistic_sum, (2.9, 0.3, 97), (0, 1)),  # (a last segment shorter than the others)
    (logistic_sum, (2.9, 0.3, 400), (0, 1)),
    (logistic_sum, (3.7, 0.3, 400), (0, 1)),  # (chaotic: central differences cannot judge it, the bits can)
    (rk4, (np.array([1.5, 1.0, 3.0, 1.0]), np.array([1.0, 1.2]), 300, 1e-3), (0, 1)),
    (heat_in_place, (np.linspace(0.0, 1.0, 9) ** 2, 0.1, 37), (0, 1)),
    (euler_arrays, (np.array([0.1, -0.3, 0.5]), np.array([[0.5, -0.2, 0.1], [0.3, 0.4, -0.6], [0.0, 0.2, 0.1]]),
                    50, 0.05), (0, 1)),
    (inner_loops, (np.array([0.1, -0.3, 0.5, 0.2]), 0.7, 23), (0, 1)),
    (branches, (0.3, 2.5, 60), (0, 1)),
    (two_loops, (0.4, 0.3, 45), (0, 1)),
    (until_small, (0.9, 0.8, 1e-3), (0, 1)),
    (until_small, (1e-4, 0.8, 1e-3), (0, 1)),  # (no iteration)
    (until_break, (0.3, 1.3, 1.5), (0, 1)),
    (until_break, (0.3, 0.2, 9.0), (0, 1)),  # (no break: the test ends it)
    (newton_rows, (np.array([2.0, 9.0, 0.5]), 6), 0),
    (for_break, (0.3, 1.1, 200, 2.5), (0, 1)),
    (for_break, (0.3, 0.5, 200, 50.0), (0, 1)),  # (no break)
    (for_break, (9.0, 0.5, 200, 5.0), (0, 1)),  # (a break in the first iteration)
    (stepped, (0.4, 0.7, 100), (0, 1)),
    (stepped, (0.4, 0.7, 1), (0, 1)),  # (one iteration up, none down... and then one)
    (heat_new_array, (np.array([0.5, -0.3, 1.2, 0.8, -1.1, 0.4]), 0.2, 7), (0, 1)),  # (found by a hunt)
]


def element_sums(x, a, n):  # x_bar[0] summed in a number, x_bar[i % 3] added into as it comes (found by a hunt)
    s = 0.1
    for i in range(n):
        s = s * a + x[0] * np.sin(s) + x[i % 3]
    return s * x[0]


def arrays_made_inside(a, x, n):  # the loop's own temporaries, and none of them when it does not run
    for i in range(n):
        t = np.tanh(x * a)
        if np.sum(t) > 0.0:
            x = t * t * a + t
        else:
            x = x * a
    return np.sum(x)


def first_bound_conditionally(a, x0, n):  # y is read by every iteration but has no value before the loop
    x = x0
    for i in range(n):
        if i == 0:
            y = a
        x = np.sin(x * y)
    y = 3.0
    return x + y


PROGRAMS += [
    (element_sums, (np.array([0.3, -0.2, 0.5]), 0.9, 29), (0, 1)),
    (arrays_made_inside, (0.9, np.array([0.6, 0.2]), 0), (0, 1)),
    (arrays_made_inside, (0.9, np.array([0.6, -0.9]), 13), (0, 1)),
    (heat_in_place, (np.linspace(0.0, 1.0, 9) ** 2, 0.1, 0), (0, 1)),
    (branches, (0.3, 2.5, 2), (0, 1)),  # (range(2, 2): no iteration)
]
