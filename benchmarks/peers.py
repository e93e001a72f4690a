"""The peer tools that benchmarks/run.py times beside adjoint: JAX, PyTorch eager and HIPS autograd.

`PEERS` maps a tool name to `make(kernel, args)`, which returns either a zero-argument callable
computing (value, gradients with respect to kernel.wrt) with that tool, everything prepared (and,
for JAX, compiled) beforehand, or a string saying why the tool is skipped for that kernel. Nothing
here imports jax or torch until a `make` asks for it, so a missing package costs nothing.

Each tool gets its own version of every kernel of benchmarks/kernels.py, the same math written the
way that tool is meant to be used:

- JAX: `jax.jit(jax.value_and_grad(f, argnums=wrt))` in float64, compiled ahead of time. Loops
  are `lax.scan` with `jax.checkpoint` on the body (only the carry is kept per step, as JAX's docs
  recommend for memory); vectorised kernels are plain jnp. gmm_objective's loop over components
  is vectorised over the components (one batched product), and nbody_energy's inner loop over j
  is vectorised (a masked row per step of the scan over i).
- PyTorch eager: float64 tensors with requires_grad, `torch.autograd.grad`, loops as Python loops
  (scalar recurrences for ode_rk4 and logistic_map, over time for lstm_objective, over i for
  nbody_energy with j vectorised; gmm_objective vectorised over the components as for JAX).
- autograd: `autograd.value_and_grad` over autograd.numpy, written functionally (no element
  writes), with the same loops as PyTorch; gmm_objective's triangular factors by a gather.

The eager tools (PyTorch, autograd) pay for every scalar operation of a loop; before handing back
a callable, `make` times the tool on a shortened problem (fewer steps) and returns a "would take
over a minute" string instead when the full call is estimated to exceed `MINUTE` seconds.

`check(size)` compares every tool's value and gradients with adjoint's (`jit=True`) and raises when
one disagrees by more than 1e-8 relative (max |difference| over max |adjoint's|, per gradient).
"""

import importlib.metadata
import importlib.util
import math
import time
from collections import OrderedDict

import numpy as np

MINUTE = 60.0
RTOL = 1e-8


# ---------------------------------------------------------------------------------------------
# shared helpers


def _available(module):
    return importlib.util.find_spec(module) is not None


def _split(kernel, args):
    """The positions passed to the tool's function: arrays and differentiated values. The others
    (step counts, time steps, softening lengths) are closed over as Python constants, so that JAX
    sees a fixed trip count."""
    return [i for i, a in enumerate(args) if i in kernel.wrt or isinstance(a, np.ndarray)]


def _bind(impl, args, dynamic):
    """impl(*args) as a function of the dynamic arguments only, the others closed over."""
    fixed = list(args)

    def f(*values):
        full = list(fixed)
        for i, v in zip(dynamic, values):
            full[i] = v
        return impl(*full)

    return f


def _tril_index(d):
    """(rows, cols) of the strict lower triangle in ADBench's icf order: column by column."""
    rows, cols = [], []
    for i in range(d):
        for j in range(i + 1, d):
            rows.append(j)
            cols.append(i)
    return np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp)


def _gmm_constant(n, d, K, wishart_gamma=1.0, wishart_m=0):
    """The argument-independent part of gmm_objective: -n d / 2 log(2 pi) - K (C - log Gamma_d(dof/2))."""
    dof = d + wishart_m + 1
    log_multigamma = 0.25 * d * (d - 1) * math.log(math.pi) + sum(math.lgamma(0.5 * (dof + 1 - j))
                                                                   for j in range(1, d + 1))
    C = dof * d * math.log(wishart_gamma / math.sqrt(2.0))
    return -0.5 * n * d * math.log(2.0 * math.pi) - K * (C - log_multigamma)


_STEP_ARG = {"ode_rk4": 2, "logistic_map": 2}  # position of the step count, for the eager estimate


def _estimate(tool, kernel, args, build):
    """None when the tool's full call should fit in MINUTE, else the string saying it is skipped.

    build(args) returns the tool's zero-argument call for those arguments. Only the kernels whose
    eager cost grows with a step count are estimated (the others' eager calls are bounded): the
    tool is timed on 1/400 and on 1/100 of the steps. Its cost per step is not constant, it grows
    with the length of the recorded graph (roughly with its logarithm: allocation and garbage
    collection over more live nodes), so the cost per step is extrapolated in log(steps) from
    those two timings, never below the longer one's."""
    position = _STEP_ARG.get(kernel.name)
    if position is None:
        return None
    n_steps = args[position]
    n1 = max(1, n_steps // 400)
    if 4 * n1 >= n_steps:
        return None

    def seconds(steps):
        short = list(args)
        short[position] = steps
        call = build(tuple(short))
        t0 = time.perf_counter()
        call()
        return time.perf_counter() - t0

    seconds(n1)  # warm-up
    t1 = seconds(n1)
    estimate = t1 * n_steps / n1
    timed_on = f"{n1:,}"
    if estimate <= MINUTE:  # else the longer timing can only raise it
        t2 = seconds(4 * n1)
        timed_on += f" and {4 * n1:,}"
        per_step_1, per_step_2 = t1 / n1, t2 / (4 * n1)
        slope = max(0.0, (per_step_2 - per_step_1) / math.log(4.0))
        estimate = n_steps * (per_step_2 + slope * math.log(n_steps / (4 * n1)))
    if estimate > MINUTE:
        return (f"{tool} would take over a minute: ~{estimate:.0f} s estimated "
                f"(timed on {timed_on} of the {n_steps:,} steps)")
    return None


# ---------------------------------------------------------------------------------------------
# JAX

_JAX = {}


def _jax():
    """(jax, the kernel name -> JAX function dict), float64 enabled; imported on first use."""
    if not _JAX:
        import jax

        jax.config.update("jax_enable_x64", True)
        _JAX["jax"] = jax
        _JAX["impls"] = _jax_impls(jax)
    return _JAX["jax"], _JAX["impls"]


def _jax_impls(jax):
    import jax.numpy as jnp
    from jax import lax
    from jax.scipy.special import logsumexp

    def rosenbrock(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def logistic_loss(w, X, y):
        margins = y * (X @ w)
        return jnp.mean(jnp.logaddexp(0.0, -margins)) + 0.5e-3 * jnp.dot(w, w)

    def mlp_loss(W1, b1, W2, b2, X, Y):
        hidden = jnp.tanh(X @ W1 + b1)
        out = hidden @ W2 + b2
        return jnp.mean((out - Y) ** 2)

    def gmm_objective(alphas, means, icf, x):
        n, d = x.shape
        K = alphas.shape[0]
        rows, cols = _tril_index(d)
        log_diag = icf[:, :d]                                               # (K, d)
        Qdiag = jnp.exp(log_diag)
        L = jnp.zeros((K, d, d), dtype=icf.dtype).at[:, rows, cols].set(icf[:, d:])
        xc = x[None, :, :] - means[:, None, :]                              # (K, n, d)
        Lx = Qdiag[:, None, :] * xc + jnp.einsum("knj,kij->kni", xc, L)
        inner = alphas[:, None] + jnp.sum(log_diag, axis=1)[:, None] - 0.5 * jnp.sum(Lx * Lx, axis=2)
        lse = logsumexp(inner, axis=0)                                      # (n,)
        frob = jnp.sum(Qdiag * Qdiag, axis=1) + jnp.sum(icf[:, d:] ** 2, axis=1)
        prior = jnp.sum(0.5 * frob)                                         # gamma = 1, m = 0
        return _gmm_constant(n, d, K) + jnp.sum(lse) - n * logsumexp(alphas) + prior

    def ode_rk4(params, y0, n_steps, dt):
        a, b, c, d = params[0], params[1], params[2], params[3]

        def lv(prey, pred):
            return a * prey - b * prey * pred, d * prey * pred - c * pred

        @jax.checkpoint
        def step(carry, _):
            prey, pred = carry
            k1x, k1y = lv(prey, pred)
            k2x, k2y = lv(prey + 0.5 * dt * k1x, pred + 0.5 * dt * k1y)
            k3x, k3y = lv(prey + 0.5 * dt * k2x, pred + 0.5 * dt * k2y)
            k4x, k4y = lv(prey + dt * k3x, pred + dt * k3y)
            prey = prey + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
            pred = pred + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
            return (prey, pred), None

        (prey, pred), _ = lax.scan(step, (y0[0], y0[1]), None, length=n_steps)
        return prey + pred

    def logistic_map(r, x0, n_steps):
        @jax.checkpoint
        def step(carry, _):
            x, s = carry
            x = r * x * (1.0 - x)
            return (x, s + x), None

        (_, s), _ = lax.scan(step, (x0, jnp.zeros_like(x0)), None, length=n_steps)
        return s

    def nbody_energy(pos, mass, eps):
        n = pos.shape[0]
        index = jnp.arange(n)

        @jax.checkpoint
        def row(energy, i):
            delta = pos[i] - pos                                            # (n, 3)
            r = jnp.sqrt(jnp.sum(delta * delta, axis=1) + eps * eps)
            term = jnp.where(index > i, mass[i] * mass / r, 0.0)            # pairs j > i only
            return energy - jnp.sum(term), None

        energy, _ = lax.scan(row, jnp.zeros((), pos.dtype), index)
        return energy

    def sigmoid(z):
        return 1.0 / (1.0 + jnp.exp(-z))

    def lstm_objective(Wx, Wh, b, xs):
        hidden = Wh.shape[1]

        @jax.checkpoint
        def step(carry, x_t):
            h, c = carry
            gates = Wx @ x_t + Wh @ h + b
            i = sigmoid(gates[:hidden])
            f = sigmoid(gates[hidden:2 * hidden])
            o = sigmoid(gates[2 * hidden:3 * hidden])
            g = jnp.tanh(gates[3 * hidden:])
            c = f * c + i * g
            h = o * jnp.tanh(c)
            return (h, c), None

        zeros = jnp.zeros(hidden, dtype=Wh.dtype)
        (h, _), _ = lax.scan(step, (zeros, zeros), xs)
        return jnp.sum(h * h)

    return {f.__name__: f for f in (rosenbrock, logistic_loss, mlp_loss, gmm_objective, ode_rk4,
                                    logistic_map, nbody_energy, lstm_objective)}


def make_jax(kernel, args):
    if not _available("jax"):
        return "jax not installed"
    jax, impls = _jax()
    if kernel.name not in impls:
        return f"no JAX version of {kernel.name}"
    import jax.numpy as jnp

    dynamic = _split(kernel, args)
    values = [jnp.asarray(args[i], dtype=jnp.float64) if not isinstance(args[i], np.ndarray)
              or args[i].dtype.kind == "f" else jnp.asarray(args[i]) for i in dynamic]
    argnums = tuple(dynamic.index(i) for i in kernel.wrt)
    f = _bind(impls[kernel.name], args, dynamic)
    compiled = jax.jit(jax.value_and_grad(f, argnums=argnums)).lower(*values).compile()

    def call():
        return jax.block_until_ready(compiled(*values))

    return call


# ---------------------------------------------------------------------------------------------
# PyTorch eager

_TORCH = {}


def _torch():
    if not _TORCH:
        import torch

        torch.set_num_threads(1)
        _TORCH["torch"] = torch
        _TORCH["impls"] = _torch_impls(torch)
    return _TORCH["torch"], _TORCH["impls"]


def _torch_impls(torch):
    def rosenbrock(x):
        return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def logistic_loss(w, X, y):
        margins = y * (X @ w)
        return torch.mean(torch.logaddexp(torch.zeros_like(margins), -margins)) + 0.5e-3 * torch.dot(w, w)

    def mlp_loss(W1, b1, W2, b2, X, Y):
        hidden = torch.tanh(X @ W1 + b1)
        out = hidden @ W2 + b2
        return torch.mean((out - Y) ** 2)

    def gmm_objective(alphas, means, icf, x):
        n, d = x.shape
        K = alphas.shape[0]
        rows, cols = _tril_index(d)
        log_diag = icf[:, :d]
        Qdiag = torch.exp(log_diag)
        L = torch.zeros((K, d, d), dtype=icf.dtype)
        L = L.index_put((torch.arange(K)[:, None], torch.from_numpy(rows)[None, :],
                         torch.from_numpy(cols)[None, :]), icf[:, d:])
        xc = x[None, :, :] - means[:, None, :]
        Lx = Qdiag[:, None, :] * xc + torch.einsum("knj,kij->kni", xc, L)
        inner = alphas[:, None] + torch.sum(log_diag, dim=1)[:, None] - 0.5 * torch.sum(Lx * Lx, dim=2)
        lse = torch.logsumexp(inner, dim=0)
        frob = torch.sum(Qdiag * Qdiag, dim=1) + torch.sum(icf[:, d:] ** 2, dim=1)
        prior = torch.sum(0.5 * frob)
        return _gmm_constant(n, d, K) + torch.sum(lse) - n * torch.logsumexp(alphas, dim=0) + prior

    def ode_rk4(params, y0, n_steps, dt):
        a, b, c, d = params[0], params[1], params[2], params[3]

        def lv(prey, pred):
            return a * prey - b * prey * pred, d * prey * pred - c * pred

        prey, pred = y0[0], y0[1]
        for _ in range(n_steps):
            k1x, k1y = lv(prey, pred)
            k2x, k2y = lv(prey + 0.5 * dt * k1x, pred + 0.5 * dt * k1y)
            k3x, k3y = lv(prey + 0.5 * dt * k2x, pred + 0.5 * dt * k2y)
            k4x, k4y = lv(prey + dt * k3x, pred + dt * k3y)
            prey = prey + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
            pred = pred + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        return prey + pred

    def logistic_map(r, x0, n_steps):
        x = x0
        s = torch.zeros((), dtype=x0.dtype)
        for _ in range(n_steps):
            x = r * x * (1.0 - x)
            s = s + x
        return s

    def nbody_energy(pos, mass, eps):
        n = pos.shape[0]
        energy = torch.zeros((), dtype=pos.dtype)
        for i in range(n - 1):
            delta = pos[i] - pos[i + 1:]
            r = torch.sqrt(torch.sum(delta * delta, dim=1) + eps * eps)
            energy = energy - torch.sum(mass[i] * mass[i + 1:] / r)
        return energy

    def lstm_objective(Wx, Wh, b, xs):
        hidden = Wh.shape[1]
        h = torch.zeros(hidden, dtype=Wh.dtype)
        c = torch.zeros(hidden, dtype=Wh.dtype)
        for t in range(xs.shape[0]):
            gates = Wx @ xs[t] + Wh @ h + b
            i = 1.0 / (1.0 + torch.exp(-gates[:hidden]))
            f = 1.0 / (1.0 + torch.exp(-gates[hidden:2 * hidden]))
            o = 1.0 / (1.0 + torch.exp(-gates[2 * hidden:3 * hidden]))
            g = torch.tanh(gates[3 * hidden:])
            c = f * c + i * g
            h = o * torch.tanh(c)
        return torch.sum(h * h)

    return {f.__name__: f for f in (rosenbrock, logistic_loss, mlp_loss, gmm_objective, ode_rk4,
                                    logistic_map, nbody_energy, lstm_objective)}


def make_torch(kernel, args):
    if not _available("torch"):
        return "torch not installed"
    torch, impls = _torch()
    if kernel.name not in impls:
        return f"no PyTorch version of {kernel.name}"

    def build(args):
        dynamic = _split(kernel, args)
        values = [torch.tensor(np.asarray(args[i], dtype=np.float64), requires_grad=i in kernel.wrt)
                  if not isinstance(args[i], np.ndarray) or args[i].dtype.kind == "f"
                  else torch.from_numpy(args[i]) for i in dynamic]
        leaves = [values[dynamic.index(i)] for i in kernel.wrt]
        f = _bind(impls[kernel.name], args, dynamic)

        def call():
            out = f(*values)
            grads = torch.autograd.grad(out, leaves)
            return out.item(), tuple(g.numpy() for g in grads)

        return call

    skip = _estimate("PyTorch eager", kernel, args, build)
    return skip or build(args)


# ---------------------------------------------------------------------------------------------
# HIPS autograd

_AUTOGRAD = {}


def _autograd():
    if not _AUTOGRAD:
        import autograd

        _AUTOGRAD["autograd"] = autograd
        _AUTOGRAD["impls"] = _autograd_impls()
    return _AUTOGRAD["autograd"], _AUTOGRAD["impls"]


def _autograd_impls():
    import autograd.numpy as anp

    def rosenbrock(x):
        return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def logistic_loss(w, X, y):
        margins = y * anp.dot(X, w)
        return anp.mean(anp.logaddexp(0.0, -margins)) + 0.5e-3 * anp.dot(w, w)

    def mlp_loss(W1, b1, W2, b2, X, Y):
        hidden = anp.tanh(anp.dot(X, W1) + b1)
        out = anp.dot(hidden, W2) + b2
        return anp.mean((out - Y) ** 2)

    def logsumexp(a, axis):
        top = anp.max(a, axis=axis, keepdims=True)
        return anp.squeeze(top, axis=axis) + anp.log(anp.sum(anp.exp(a - top), axis=axis))

    def gmm_objective(alphas, means, icf, x):
        n, d = x.shape
        K = alphas.shape[0]
        rows, cols = _tril_index(d)
        # L[k] by a gather (autograd has no element writes): position 0 of the padded icf is 0
        gather = np.zeros((d, d), dtype=np.intp)
        gather[rows, cols] = 1 + np.arange(len(rows))
        log_diag = icf[:, :d]
        Qdiag = anp.exp(log_diag)
        padded = anp.concatenate([anp.zeros((K, 1)), icf[:, d:]], axis=1)
        L = padded[:, gather]                                               # (K, d, d)
        xc = x[None, :, :] - means[:, None, :]
        Lx = Qdiag[:, None, :] * xc + anp.einsum("knj,kij->kni", xc, L)
        inner = alphas[:, None] + anp.sum(log_diag, axis=1)[:, None] - 0.5 * anp.sum(Lx * Lx, axis=2)
        lse = logsumexp(inner, axis=0)
        frob = anp.sum(Qdiag * Qdiag, axis=1) + anp.sum(icf[:, d:] ** 2, axis=1)
        prior = anp.sum(0.5 * frob)
        return _gmm_constant(n, d, K) + anp.sum(lse) - n * logsumexp(alphas, axis=0) + prior

    def ode_rk4(params, y0, n_steps, dt):
        a, b, c, d = params[0], params[1], params[2], params[3]

        def lv(prey, pred):
            return a * prey - b * prey * pred, d * prey * pred - c * pred

        prey, pred = y0[0], y0[1]
        for _ in range(n_steps):
            k1x, k1y = lv(prey, pred)
            k2x, k2y = lv(prey + 0.5 * dt * k1x, pred + 0.5 * dt * k1y)
            k3x, k3y = lv(prey + 0.5 * dt * k2x, pred + 0.5 * dt * k2y)
            k4x, k4y = lv(prey + dt * k3x, pred + dt * k3y)
            prey = prey + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
            pred = pred + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        return prey + pred

    def logistic_map(r, x0, n_steps):
        x = x0
        s = 0.0
        for _ in range(n_steps):
            x = r * x * (1.0 - x)
            s = s + x
        return s

    def nbody_energy(pos, mass, eps):
        n = pos.shape[0]
        energy = 0.0
        for i in range(n - 1):
            delta = pos[i] - pos[i + 1:]
            r = anp.sqrt(anp.sum(delta * delta, axis=1) + eps * eps)
            energy = energy - anp.sum(mass[i] * mass[i + 1:] / r)
        return energy

    def lstm_objective(Wx, Wh, b, xs):
        hidden = Wh.shape[1]
        h = np.zeros(hidden)
        c = np.zeros(hidden)
        for t in range(xs.shape[0]):
            gates = anp.dot(Wx, xs[t]) + anp.dot(Wh, h) + b
            i = 1.0 / (1.0 + anp.exp(-gates[:hidden]))
            f = 1.0 / (1.0 + anp.exp(-gates[hidden:2 * hidden]))
            o = 1.0 / (1.0 + anp.exp(-gates[2 * hidden:3 * hidden]))
            g = anp.tanh(gates[3 * hidden:])
            c = f * c + i * g
            h = o * anp.tanh(c)
        return anp.sum(h * h)

    return {f.__name__: f for f in (rosenbrock, logistic_loss, mlp_loss, gmm_objective, ode_rk4,
                                    logistic_map, nbody_energy, lstm_objective)}


def make_autograd(kernel, args):
    if not _available("autograd"):
        return "autograd not installed"
    autograd, impls = _autograd()
    if kernel.name not in impls:
        return f"no autograd version of {kernel.name}"

    def build(args):
        args = tuple(float(a) if i in kernel.wrt and not isinstance(a, np.ndarray) else a
                     for i, a in enumerate(args))
        impl = impls[kernel.name]

        def f(wrt_values):
            full = list(args)
            for i, v in zip(kernel.wrt, wrt_values):
                full[i] = v
            return impl(*full)

        vg = autograd.value_and_grad(f)
        start = tuple(args[i] for i in kernel.wrt)

        def call():
            value, grads = vg(start)
            return value, tuple(grads)

        return call

    skip = _estimate("autograd", kernel, args, build)
    return skip or build(args)


_MAKERS = OrderedDict([
    ("jax", make_jax),
    ("pytorch eager", make_torch),
    ("autograd", make_autograd),
])


def _reported(tool, make):
    """make, with a failure to prepare returned as the reason the tool is skipped (run.py calls make
    outside its own error handling, and one broken peer should not end the whole run)."""
    def guarded(kernel, args):
        try:
            return make(kernel, args)
        except Exception as e:  # noqa: BLE001
            text = str(e).splitlines()[0][:120] if str(e) else ""
            return f"{tool} failed to prepare: {type(e).__name__}: {text}"

    guarded.__name__ = make.__name__
    return guarded


PEERS = OrderedDict((tool, _reported(tool, make)) for tool, make in _MAKERS.items())


def versions():
    """Installed versions of the peer tools (read from package metadata, nothing imported)."""
    out = {}
    for name in ("jax", "jaxlib", "torch", "autograd"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


# ---------------------------------------------------------------------------------------------
# agreement with adjoint


def _rel_err(got, want):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return math.inf
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    diff = float(np.max(np.abs(got - want))) if want.size else 0.0
    return diff / scale if scale > 0.0 else diff


def check(size="tiny", tools=None, kernels_=None, rtol=RTOL, verbose=False):
    """Compare each peer's value and gradients with adjoint's (jit=True) on every kernel at `size`.

    Returns {(tool, kernel): worst relative error, or the skip string}; raises AssertionError when
    any tool that ran disagrees by more than rtol (max |difference| / max |adjoint's|, for the value
    and for each gradient).
    """
    import adjoint

    from . import kernels as kernel_module

    results = {}
    bad = []
    for kernel in kernel_module.KERNELS:
        if kernels_ and kernel.name not in kernels_:
            continue
        args = kernel.make(size)
        value, grads = adjoint.value_and_grad(kernel.fn, wrt=kernel.wrt, jit=True)(*args)
        grads = grads if isinstance(grads, tuple) else (grads,)
        for tool, make in _MAKERS.items():  # unguarded: a failure to prepare raises here
            if tools and tool not in tools:
                continue
            call = make(kernel, args)
            if isinstance(call, str):
                results[tool, kernel.name] = call
            else:
                got_value, got_grads = call()
                got_grads = tuple(np.asarray(g) for g in got_grads)
                errors = [_rel_err(got_value, value)]
                errors += [_rel_err(g, w) for g, w in zip(got_grads, grads)]
                if len(got_grads) != len(grads):
                    errors.append(math.inf)
                worst = max(errors)
                results[tool, kernel.name] = worst
                if not worst <= rtol:
                    bad.append(f"{tool} on {kernel.name} ({size}): relative error {worst:.3g} > {rtol:g} "
                               f"(value, then each gradient: {', '.join(f'{e:.3g}' for e in errors)})")
            if verbose:
                r = results[tool, kernel.name]
                print(f"  {kernel.name:15s} {tool:14s} " + (f"{r:.2e}" if isinstance(r, float) else r), flush=True)
    if bad:
        raise AssertionError("peers disagree with adjoint:\n  " + "\n  ".join(bad))
    return results
