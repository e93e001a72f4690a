"""Programs nobody tuned for adjoint (issue 19): ordinary Python/NumPy as a new user writes it.

Unlike benchmarks/kernels.py, nothing here was rewritten to suit adjoint or Numba: no
`@register_jitable`, no buffers hoisted out of loops, no care for which NumPy idioms Numba types.
Each program is a plain module-level function returning a scalar loss, with a `make_<name>(size)`
that returns its argument tuple for size "tiny" (gradients by central differences in well under a
second) or "full" (a realistic size: one primal call takes milliseconds), drawn from
`np.random.default_rng(0)`. `PROGRAMS` lists them with the argument positions that are
differentiated (`wrt`) and whether the code is "loop" or "vectorised".

Arguments that only set a size or a constant come after the differentiated ones, so that "tiny"
and "full" differ only in what `make_<name>` returns; `fn(*make(size))` is always the whole call.
"""

import math

import numpy as np

from .cases import Case, full

# ---------------------------------------------------------------------------------------------
# kalman_nll: negative log-likelihood of a linear-Gaussian state-space model (state 4, obs 2) by
# the Kalman filter, differentiated in the transition matrix and the log noise variances (loop)

def kalman_nll(F, log_q, log_r, H, ys, x0, P0):
    n = F.shape[0]
    m = H.shape[0]
    Q = np.exp(log_q) * np.eye(n)
    R = np.exp(log_r) * np.eye(m)
    x = x0.copy()
    P = P0.copy()
    nll = 0.0
    for t in range(ys.shape[0]):
        # predict
        x = F @ x
        P = F @ P @ F.T + Q
        # update
        v = ys[t] - H @ x
        S = H @ P @ H.T + R
        K = P @ H.T @ np.linalg.inv(S)
        x = x + K @ v
        P = (np.eye(n) - K @ H) @ P
        nll = nll + 0.5 * (np.log(np.linalg.det(S)) + v @ np.linalg.solve(S, v) + m * np.log(2 * np.pi))
    return nll


def make_kalman_nll(size):
    T = 500 if full(size) else 6
    rng = np.random.default_rng(0)
    dt = 0.1
    F_true = np.array([[1.0, 0.0, dt, 0.0],
                       [0.0, 1.0, 0.0, dt],
                       [0.0, 0.0, 1.0, 0.0],
                       [0.0, 0.0, 0.0, 1.0]])
    H = np.array([[1.0, 0.0, 0.0, 0.0],
                  [0.0, 1.0, 0.0, 0.0]])
    x = np.zeros(4)
    ys = np.zeros((T, 2))
    for t in range(T):
        x = F_true @ x + 0.05 * rng.standard_normal(4)
        ys[t] = H @ x + 0.1 * rng.standard_normal(2)
    F = F_true + 0.01 * rng.standard_normal((4, 4))
    return (F, math.log(0.05**2), math.log(0.1**2), H, ys, np.zeros(4), np.eye(4))


# ---------------------------------------------------------------------------------------------
# softmax_xent: softmax cross-entropy of a linear classifier, the row-wise log-sum-exp with the
# max-shift idiom (vectorised)

def softmax_xent(W, b, X, Y):
    logits = X @ W + b
    m = np.max(logits, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    log_probs = logits - lse
    return -np.mean(np.sum(Y * log_probs, axis=1))


def make_softmax_xent(size):
    n, d, k = (20_000, 50, 20) if full(size) else (12, 4, 3)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    labels = rng.integers(0, k, n)
    Y = np.zeros((n, k))
    Y[np.arange(n), labels] = 1.0
    W = 0.1 * rng.standard_normal((d, k))
    b = np.zeros(k)
    return (W, b, X, Y)


# ---------------------------------------------------------------------------------------------
# rnn_loss: a vanilla (Elman) RNN over a sequence, squared error of a linear read-out at every
# step (loop)

def rnn_loss(Wxh, Whh, bh, Why, by, xs, ys):
    h = np.zeros(Whh.shape[0])
    loss = 0.0
    for t in range(len(xs)):
        h = np.tanh(Wxh @ xs[t] + Whh @ h + bh)
        y = Why @ h + by
        loss += 0.5 * np.sum((y - ys[t]) ** 2)
    return loss / len(xs)


def make_rnn_loss(size):
    n_in, hidden, n_out, T = (16, 64, 8, 200) if full(size) else (3, 4, 2, 5)
    rng = np.random.default_rng(0)
    Wxh = rng.standard_normal((hidden, n_in)) / math.sqrt(n_in)
    Whh = 0.9 * rng.standard_normal((hidden, hidden)) / math.sqrt(hidden)
    bh = np.zeros(hidden)
    Why = rng.standard_normal((n_out, hidden)) / math.sqrt(hidden)
    by = np.zeros(n_out)
    xs = rng.standard_normal((T, n_in))
    ys = rng.standard_normal((T, n_out))
    return (Wxh, Whh, bh, Why, by, xs, ys)


# ---------------------------------------------------------------------------------------------
# conv2d_loss: a 'valid' 2-D convolution (cross-correlation) written as four nested loops, squared
# error against a target, differentiated in the kernel and the image (loop)

def conv2d_loss(kernel, image, target):
    H, W = image.shape
    kh, kw = kernel.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(H - kh + 1):
        for j in range(W - kw + 1):
            s = 0.0
            for a in range(kh):
                for b in range(kw):
                    s += kernel[a, b] * image[i + a, j + b]
            out[i, j] = s
    return np.sum((out - target) ** 2)


def make_conv2d_loss(size):
    n, k = (64, 5) if full(size) else (6, 3)
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((k, k)) / k
    image = rng.standard_normal((n, n))
    target = rng.standard_normal((n - k + 1, n - k + 1))
    return (kernel, image, target)


# ---------------------------------------------------------------------------------------------
# heat_1d: the explicit (FTCS) scheme for u_t = kappa u_xx with fixed ends, the interior updated
# in place by slices; squared misfit of the final profile, differentiated in the initial profile
# and the diffusivity (loop)

def heat_1d(u0, kappa, target, n_steps, dx, dt):
    u = u0.copy()
    r = kappa * dt / dx**2
    for step in range(n_steps):
        u[1:-1] = u[1:-1] + r * (u[2:] - 2 * u[1:-1] + u[:-2])
    return np.sum((u - target) ** 2) * dx


def make_heat_1d(size):
    n, n_steps = (200, 2000) if full(size) else (8, 10)
    dx = 1.0 / (n - 1)
    dt = 0.4 * dx**2  # r = kappa dt / dx^2 = 0.4 kappa, stable for kappa < 1.25
    x = np.linspace(0.0, 1.0, n)
    rng = np.random.default_rng(0)
    u0 = np.sin(np.pi * x) + 0.1 * rng.standard_normal(n)
    u0[0] = u0[-1] = 0.0
    target = 0.5 * np.sin(np.pi * x)
    return (u0, 1.0, target, n_steps, dx, dt)


# ---------------------------------------------------------------------------------------------
# heat_2d: the same scheme in 2-D with explicit index loops and a new array each step, as one
# writes it from the textbook formula (loop)

def heat_2d(u0, kappa, n_steps, dt):
    n = u0.shape[0]
    u = u0.copy()
    for step in range(n_steps):
        u_new = u.copy()
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                lap = u[i + 1, j] + u[i - 1, j] + u[i, j + 1] + u[i, j - 1] - 4 * u[i, j]
                u_new[i, j] = u[i, j] + kappa * dt * lap
        u = u_new
    return np.sum(u**2)


def make_heat_2d(size):
    n, n_steps = (32, 50) if full(size) else (5, 3)
    rng = np.random.default_rng(0)
    u0 = rng.uniform(0.0, 1.0, (n, n))
    u0[0, :] = u0[-1, :] = u0[:, 0] = u0[:, -1] = 0.0
    return (u0, 1.0, n_steps, 0.2)


# ---------------------------------------------------------------------------------------------
# gauss_newton: one Gauss-Newton step for fitting y = a exp(-b t) + c (Jacobian built in a loop,
# normal equations by np.linalg.solve), then the residual sum of squares at the new parameters;
# differentiated in the starting parameters and the data (loop)

def gauss_newton(theta, y, t):
    a, b, c = theta[0], theta[1], theta[2]
    n = len(t)
    r = np.zeros(n)
    J = np.zeros((n, 3))
    for i in range(n):
        e = np.exp(-b * t[i])
        r[i] = a * e + c - y[i]
        J[i, 0] = e
        J[i, 1] = -a * t[i] * e
        J[i, 2] = 1.0
    step = np.linalg.solve(J.T @ J, J.T @ r)
    theta_new = theta - step
    pred = theta_new[0] * np.exp(-theta_new[1] * t) + theta_new[2]
    return np.sum((pred - y) ** 2)


def make_gauss_newton(size):
    n = 2000 if full(size) else 10
    rng = np.random.default_rng(0)
    t = np.linspace(0.0, 4.0, n)
    y = 2.0 * np.exp(-1.3 * t) + 0.5 + 0.05 * rng.standard_normal(n)
    theta = np.array([1.5, 1.0, 0.3])
    return (theta, y, t)


# ---------------------------------------------------------------------------------------------
# cumtrapz_loss: a cumulative trapezoid integral with a loop, mean square of the running integral,
# differentiated in the samples and the abscissae (loop)

def cumtrapz_loss(y, x):
    n = len(y)
    c = np.zeros(n)
    for i in range(1, n):
        c[i] = c[i - 1] + 0.5 * (x[i] - x[i - 1]) * (y[i] + y[i - 1])
    return np.sum(c**2) / n


def make_cumtrapz_loss(size):
    n = 20_000 if full(size) else 10
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0.0, 10.0, n))
    y = np.sin(x) + 0.1 * rng.standard_normal(n)
    return (y, x)


# ---------------------------------------------------------------------------------------------
# newton_sqrt: square roots by Newton's iteration with a tolerance test (a `while` loop per
# entry), summed; differentiated in the radicands (loop)

def newton_sqrt(a):
    total = 0.0
    for k in range(len(a)):
        x = max(1.0, a[k])
        while abs(x * x - a[k]) > 1e-12 * a[k]:
            x = 0.5 * (x + a[k] / x)
        total += x
    return total


def make_newton_sqrt(size):
    n = 2000 if full(size) else 6
    rng = np.random.default_rng(0)
    return (rng.uniform(0.1, 100.0, n),)


# ---------------------------------------------------------------------------------------------
# spring_chain: a chain of masses on springs (fixed left end), symplectic Euler with a loop over the
# springs for the forces; squared distance of the final positions from a target, differentiated in
# the spring constants and the initial positions (loop)

def spring_chain(k, x0, target, n_steps, dt):
    n = len(x0)
    x = x0.copy()
    v = np.zeros(n)
    rest = 1.0
    for step in range(n_steps):
        f = np.zeros(n)
        # spring 0 ties mass 0 to the wall at 0
        f[0] -= k[0] * (x[0] - rest)
        for i in range(1, n):
            stretch = x[i] - x[i - 1] - rest
            f[i] -= k[i] * stretch
            f[i - 1] += k[i] * stretch
        v = v + dt * f
        x = x + dt * v
    return np.sum((x - target) ** 2)


def make_spring_chain(size):
    n, n_steps = (20, 500) if full(size) else (4, 8)
    rng = np.random.default_rng(0)
    k = rng.uniform(5.0, 15.0, n)
    x0 = np.arange(1, n + 1) * 1.0 + 0.1 * rng.standard_normal(n)
    target = np.arange(1, n + 1) * 1.05
    return (k, x0, target, n_steps, 0.01)


# ---------------------------------------------------------------------------------------------
# huber_regression: the Huber loss of a linear model's residuals with a small ridge term, by
# np.where (vectorised)

def huber_regression(w, X, y, delta):
    r = X @ w - y
    a = np.abs(r)
    loss = np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta))
    return np.mean(loss) + 1e-3 * np.sum(w**2)


def make_huber_regression(size):
    n, d = (100_000, 20) if full(size) else (15, 3)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = X @ w_true + 0.3 * rng.standard_t(2, n)
    w = 0.1 * rng.standard_normal(d)
    return (w, X, y, 1.0)


PROGRAMS = [
    Case("kalman_nll", kalman_nll, make_kalman_nll, (0, 1, 2), "loop"),
    Case("softmax_xent", softmax_xent, make_softmax_xent, (0, 1), "vectorised"),
    Case("rnn_loss", rnn_loss, make_rnn_loss, (0, 1, 2, 3, 4), "loop"),
    Case("conv2d_loss", conv2d_loss, make_conv2d_loss, (0, 1), "loop"),
    Case("heat_1d", heat_1d, make_heat_1d, (0, 1), "loop"),
    Case("heat_2d", heat_2d, make_heat_2d, (0, 1), "loop"),
    Case("gauss_newton", gauss_newton, make_gauss_newton, (0, 1), "loop"),
    Case("cumtrapz_loss", cumtrapz_loss, make_cumtrapz_loss, (0, 1), "loop"),
    Case("newton_sqrt", newton_sqrt, make_newton_sqrt, (0,), "loop"),
    Case("spring_chain", spring_chain, make_spring_chain, (0, 1), "loop"),
    Case("huber_regression", huber_regression, make_huber_regression, (0,), "vectorised"),
]
