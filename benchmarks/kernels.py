"""The kernels of adjoint's benchmark suite, written the way a scientist writes them.

Each kernel is a plain module-level Python/NumPy function returning a scalar (loops left as loops),
with a `make_<name>(size)` that returns its argument tuple for size "tiny" (gradients by central
differences in well under a second) or "full" (the benchmark size), drawn from
`np.random.default_rng(0)`. `KERNELS` lists them with the argument positions that are
differentiated (`wrt`) and whether the kernel is a "loop" or a "vectorised" one.

Helper functions that kernels call are marked `@register_jitable`: it returns the function itself
(adjoint reads and inlines its source as for any user function) and lets `numba.njit(kernel)`
call it, so every kernel also compiles as it stands under Numba, the baseline for the primal.

Arguments that only set a size (step counts) or a constant (a time step, a softening length) are
ordinary arguments after the differentiated ones, so that "tiny" and "full" differ only in what
`make_<name>` returns; `fn(*make(size))` is always the whole call.
"""

import math

import numpy as np
from numba.extending import register_jitable

try:
    from .cases import Case, full
except ImportError:  # run as a script from benchmarks/, or benchmarks/ is on sys.path
    from cases import Case, full


# ---------------------------------------------------------------------------------------------
# rosenbrock: the extended Rosenbrock function, n = 10**6 (vectorised)

def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def make_rosenbrock(size):
    n = 10**6 if full(size) else 20
    rng = np.random.default_rng(0)
    return (rng.uniform(-1.5, 1.5, n),)


# ---------------------------------------------------------------------------------------------
# logistic_loss: L2-regularised logistic regression, X 100,000 x 100, labels +-1 (vectorised)

def logistic_loss(w, X, y):
    margins = y * (X @ w)
    return np.mean(np.logaddexp(0.0, -margins)) + 0.5e-3 * np.dot(w, w)


def make_logistic_loss(size):
    n, p = (100_000, 100) if full(size) else (50, 5)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p))
    w_true = rng.standard_normal(p)
    y = np.where(X @ w_true + 0.5 * rng.standard_normal(n) > 0.0, 1.0, -1.0)
    w = 0.1 * rng.standard_normal(p)
    return (w, X, y)


# ---------------------------------------------------------------------------------------------
# mlp_loss: a two-layer perceptron 64 -> 256 -> 10, tanh hidden layer, batch 4,096, mean squared
# error (vectorised)

def mlp_loss(W1, b1, W2, b2, X, Y):
    hidden = np.tanh(X @ W1 + b1)
    out = hidden @ W2 + b2
    return np.mean((out - Y) ** 2)


def make_mlp_loss(size):
    n_in, n_hidden, n_out, batch = (64, 256, 10, 4096) if full(size) else (4, 8, 3, 16)
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((n_in, n_hidden)) / math.sqrt(n_in)
    b1 = 0.1 * rng.standard_normal(n_hidden)
    W2 = rng.standard_normal((n_hidden, n_out)) / math.sqrt(n_hidden)
    b2 = 0.1 * rng.standard_normal(n_out)
    X = rng.standard_normal((batch, n_in))
    Y = rng.standard_normal((batch, n_out))
    return (W1, b1, W2, b2, X, Y)


# ---------------------------------------------------------------------------------------------
# gmm_objective: the GradBench / ADBench Gaussian mixture objective with the Wishart prior
# (gamma = 1, m = 0), d = 10, K = 25, n = 10,000 (vectorised)
#
# icf[k] holds component k's inverse covariance factor: the log of the diagonal of the
# lower-triangular precision factor Q_k in its first d entries, then the strict lower triangle,
# column by column (ADBench's layout). The objective is
#   sum_i logsumexp_k(alpha_k + sum(log diag Q_k) - 0.5 |Q_k (x_i - mu_k)|^2)
#   - n logsumexp(alpha) - n d / 2 log(2 pi) + log Wishart prior(Q_1..Q_K).

@register_jitable
def log_gamma_half(m):
    """log Gamma(m / 2) for an integer m >= 1, from Gamma(1) = 1, Gamma(1/2) = sqrt(pi) and
    Gamma(x + 1) = x Gamma(x). (It stands in for math.lgamma, which adjoint refuses to read: it has
    no derivative rule, even where its argument is a constant.)"""
    out = 0.0
    x = 1.0
    if m % 2 == 1:
        out = 0.5 * math.log(math.pi)
        x = 0.5
    while x < 0.5 * m:
        out = out + math.log(x)
        x = x + 1.0
    return out


@register_jitable
def log_multigamma_half(m, p):
    """log of the multivariate gamma function Gamma_p(m / 2), for an integer m > p - 1."""
    out = 0.25 * p * (p - 1) * math.log(math.pi)
    for j in range(1, p + 1):
        out = out + log_gamma_half(m + 1 - j)
    return out


def gmm_objective(alphas, means, icf, x):
    n, d = x.shape
    K = alphas.shape[0]
    wishart_gamma = 1.0
    wishart_m = 0
    inner = np.zeros((n, K))
    # The strict lower triangle of Q_k, transposed (Lt[i, j] = Q_k[j, i] for j > i), in one buffer
    # that every component overwrites. (Not `L = np.zeros((d, d))` inside the loop with `xc @ L.T`:
    # adjoint 0.1.0 takes a buffer made in a loop and filled by element writes for loop-invariant,
    # and keeps the view `L.T` on its tape while later writes change it, so its gradient for
    # `means` comes out wrong there.)
    Lt = np.zeros((d, d))
    prior = 0.0
    for k in range(K):
        log_diag = icf[k, :d]
        Qdiag = np.exp(log_diag)
        idx = d
        for i in range(d):
            for j in range(i + 1, d):
                Lt[i, j] = icf[k, idx]
                idx += 1
        xc = x - means[k]
        Lx = Qdiag * xc + xc @ Lt  # each row is Q_k (x_i - mu_k)
        inner[:, k] = alphas[k] + np.sum(log_diag) - 0.5 * np.sum(Lx * Lx, axis=1)
        frob = np.sum(Qdiag * Qdiag) + np.sum(icf[k, d:] ** 2)
        prior = prior + 0.5 * wishart_gamma * wishart_gamma * frob - wishart_m * np.sum(log_diag)

    # log-sum-exp over the components, for every point, shifted by the largest term
    top = inner[:, 0]
    for k in range(1, K):
        top = np.maximum(top, inner[:, k])
    total = np.zeros(n)
    for k in range(K):
        total = total + np.exp(inner[:, k] - top)
    lse = top + np.log(total)

    alpha_top = np.max(alphas)
    lse_alphas = alpha_top + math.log(np.sum(np.exp(alphas - alpha_top)))

    dof = d + wishart_m + 1
    C = dof * d * math.log(wishart_gamma / math.sqrt(2.0))
    log_prior = prior - K * (C - log_multigamma_half(dof, d))
    return -0.5 * n * d * math.log(2.0 * math.pi) + np.sum(lse) - n * lse_alphas + log_prior


def make_gmm_objective(size):
    d, K, n = (10, 25, 10_000) if full(size) else (3, 4, 20)
    rng = np.random.default_rng(0)
    alphas = rng.standard_normal(K)
    means = rng.standard_normal((K, d))
    icf = 0.5 * rng.standard_normal((K, d * (d + 1) // 2))
    x = rng.standard_normal((n, d))
    return (alphas, means, icf, x)


# ---------------------------------------------------------------------------------------------
# ode_rk4: Lotka-Volterra predator-prey, classical RK4, 100,000 steps of dt = 1e-4 (loop)

@register_jitable
def lotka_volterra(params, prey, pred):
    a, b, c, d = params[0], params[1], params[2], params[3]
    return a * prey - b * prey * pred, d * prey * pred - c * pred


def ode_rk4(params, y0, n_steps, dt):
    prey = y0[0]
    pred = y0[1]
    for step in range(n_steps):
        k1x, k1y = lotka_volterra(params, prey, pred)
        k2x, k2y = lotka_volterra(params, prey + 0.5 * dt * k1x, pred + 0.5 * dt * k1y)
        k3x, k3y = lotka_volterra(params, prey + 0.5 * dt * k2x, pred + 0.5 * dt * k2y)
        k4x, k4y = lotka_volterra(params, prey + dt * k3x, pred + dt * k3y)
        prey = prey + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        pred = pred + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
    return prey + pred


def make_ode_rk4(size):
    n_steps, dt = (100_000, 1e-4) if full(size) else (50, 0.02)
    rng = np.random.default_rng(0)
    params = np.array([1.5, 1.0, 3.0, 1.0]) * rng.uniform(0.9, 1.1, 4)
    y0 = np.array([1.0, 1.0]) * rng.uniform(0.9, 1.1, 2)
    return (params, y0, n_steps, dt)


# ---------------------------------------------------------------------------------------------
# logistic_map: the running sum of x <- r x (1 - x) over 10**6 steps (loop); r = 2.9 converges to
# the fixed point 1 - 1/r, so neither the value nor its derivatives blow up

def logistic_map(r, x0, n_steps):
    x = x0
    s = 0.0
    for i in range(n_steps):
        x = r * x * (1.0 - x)
        s = s + x
    return s


def make_logistic_map(size):
    n_steps = 10**6 if full(size) else 50
    return (2.9, 0.3, n_steps)


# ---------------------------------------------------------------------------------------------
# nbody_energy: softened gravitational potential energy of N = 512 bodies in 3-d, pairwise double
# loop with scalar arithmetic (loop)

def nbody_energy(pos, mass, eps):
    n = pos.shape[0]
    energy = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            dz = pos[i, 2] - pos[j, 2]
            r = math.sqrt(dx * dx + dy * dy + dz * dz + eps * eps)
            energy = energy - mass[i] * mass[j] / r
    return energy


def make_nbody_energy(size):
    n = 512 if full(size) else 8
    rng = np.random.default_rng(0)
    pos = rng.standard_normal((n, 3))
    mass = rng.uniform(0.5, 1.5, n)
    return (pos, mass, 0.05)


# ---------------------------------------------------------------------------------------------
# lstm_objective: one LSTM layer (hidden 32, input 16) over 100 time steps, Python loop over time;
# gate rows of Wx, Wh and b in the order input, forget, output, cell candidate (loop)

@register_jitable
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_objective(Wx, Wh, b, xs):
    hidden = Wh.shape[1]
    h = np.zeros(hidden)
    c = np.zeros(hidden)
    for t in range(xs.shape[0]):
        gates = Wx @ xs[t] + Wh @ h + b
        i = sigmoid(gates[:hidden])
        f = sigmoid(gates[hidden:2 * hidden])
        o = sigmoid(gates[2 * hidden:3 * hidden])
        g = np.tanh(gates[3 * hidden:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return np.sum(h * h)


def make_lstm_objective(size):
    hidden, n_in, steps = (32, 16, 100) if full(size) else (4, 3, 5)
    rng = np.random.default_rng(0)
    Wx = rng.standard_normal((4 * hidden, n_in)) / math.sqrt(n_in)
    Wh = rng.standard_normal((4 * hidden, hidden)) / math.sqrt(hidden)
    b = 0.1 * rng.standard_normal(4 * hidden)
    xs = rng.standard_normal((steps, n_in))
    return (Wx, Wh, b, xs)


KERNELS = [
    Case("rosenbrock", rosenbrock, make_rosenbrock, (0,), "vectorised"),
    Case("logistic_loss", logistic_loss, make_logistic_loss, (0,), "vectorised"),
    Case("mlp_loss", mlp_loss, make_mlp_loss, (0, 1, 2, 3), "vectorised"),
    Case("gmm_objective", gmm_objective, make_gmm_objective, (0, 1, 2), "vectorised"),
    Case("ode_rk4", ode_rk4, make_ode_rk4, (0, 1), "loop"),
    Case("logistic_map", logistic_map, make_logistic_map, (0, 1), "loop"),
    Case("nbody_energy", nbody_energy, make_nbody_energy, (0, 1), "loop"),
    Case("lstm_objective", lstm_objective, make_lstm_objective, (0, 1, 2), "loop"),
]
