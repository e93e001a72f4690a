"""Hand-written reverse-mode adjoints of the four loop kernels, compiled with Numba.

What adjoint's generated code is measured against: for each of `ode_rk4`, `logistic_map`,
`nbody_energy` and `lstm_objective` (benchmarks/kernels.py), `<name>_value_and_grad(*args)` takes
the kernel's arguments and returns `(value, gradients)`, the gradients a tuple in the order of the
kernel's `wrt`. Each is written the way a careful person writes an adjoint by hand: a forward sweep
that keeps exactly what the reverse sweep needs in preallocated NumPy arrays, then a reverse loop.

- ode_rk4: keeps the state at the start of each step (2 floats a step) and recomputes the four
  stages of that step in the reverse sweep (4 cheap vector-field evaluations).
- logistic_map: keeps x before each step (1 float a step).
- nbody_energy: keeps nothing. The energy is a sum over pairs with no dependence between them, so
  one pass over the pairs accumulates the energy and its gradient together (as every particle code
  computes energy and forces); the reverse sweep has nothing to wait for.
- lstm_objective: keeps h and c before each step, the four gate activations and tanh(c) after it.

`TAPE_BYTES[name](*args)` is the number of bytes those arrays take at the given arguments, and
`check_all(size)` compares every hand-written gradient with central differences and with adjoint.
"""

import inspect
import math

import numba
import numpy as np

try:
    from . import kernels
except ImportError:  # run as a script from benchmarks/, or benchmarks/ is on sys.path
    import kernels

FLOAT = 8  # bytes per float64


# ---------------------------------------------------------------------------------------------
# ode_rk4: Lotka-Volterra with classical RK4

@numba.njit(cache=False)
def _lv(a, b, c, d, x, y):
    return a * x - b * x * y, d * x * y - c * y


@numba.njit(cache=False)
def _lv_bar(a, b, c, d, x, y, fx_bar, fy_bar, p_bar):
    """Adds d(fx_bar fx + fy_bar fy) / d(a, b, c, d) into p_bar; returns the part for (x, y)."""
    p_bar[0] += fx_bar * x
    p_bar[1] -= fx_bar * x * y
    p_bar[2] -= fy_bar * y
    p_bar[3] += fy_bar * x * y
    x_bar = fx_bar * (a - b * y) + fy_bar * d * y
    y_bar = -fx_bar * b * x + fy_bar * (d * x - c)
    return x_bar, y_bar


@numba.njit(cache=False)
def _ode_rk4_forward(params, y0, n_steps, dt):
    a, b, c, d = params[0], params[1], params[2], params[3]
    states = np.empty((n_steps, 2))  # the state at the start of each step
    x = y0[0]
    y = y0[1]
    for step in range(n_steps):
        states[step, 0] = x
        states[step, 1] = y
        k1x, k1y = _lv(a, b, c, d, x, y)
        k2x, k2y = _lv(a, b, c, d, x + 0.5 * dt * k1x, y + 0.5 * dt * k1y)
        k3x, k3y = _lv(a, b, c, d, x + 0.5 * dt * k2x, y + 0.5 * dt * k2y)
        k4x, k4y = _lv(a, b, c, d, x + dt * k3x, y + dt * k3y)
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
    return x + y, states


@numba.njit(cache=False)
def ode_rk4_value_and_grad(params, y0, n_steps, dt):
    a, b, c, d = params[0], params[1], params[2], params[3]
    value, states = _ode_rk4_forward(params, y0, n_steps, dt)
    p_bar = np.zeros(4)
    x_bar = 1.0  # d value / d final prey
    y_bar = 1.0
    h2 = 0.5 * dt
    h6 = dt / 6.0
    for step in range(n_steps - 1, -1, -1):
        x = states[step, 0]
        y = states[step, 1]
        # recompute this step's stages
        k1x, k1y = _lv(a, b, c, d, x, y)
        x2, y2 = x + h2 * k1x, y + h2 * k1y
        k2x, k2y = _lv(a, b, c, d, x2, y2)
        x3, y3 = x + h2 * k2x, y + h2 * k2y
        k3x, k3y = _lv(a, b, c, d, x3, y3)
        x4, y4 = x + dt * k3x, y + dt * k3y
        # x_next = x + dt/6 (k1 + 2 k2 + 2 k3 + k4): x_bar passes through unchanged
        k4x_bar, k4y_bar = h6 * x_bar, h6 * y_bar
        k3x_bar, k3y_bar = 2.0 * h6 * x_bar, 2.0 * h6 * y_bar
        k2x_bar, k2y_bar = 2.0 * h6 * x_bar, 2.0 * h6 * y_bar
        k1x_bar, k1y_bar = h6 * x_bar, h6 * y_bar
        # k4 = f(x + dt k3)
        u_bar, v_bar = _lv_bar(a, b, c, d, x4, y4, k4x_bar, k4y_bar, p_bar)
        x_bar += u_bar
        y_bar += v_bar
        k3x_bar += dt * u_bar
        k3y_bar += dt * v_bar
        # k3 = f(x + dt/2 k2)
        u_bar, v_bar = _lv_bar(a, b, c, d, x3, y3, k3x_bar, k3y_bar, p_bar)
        x_bar += u_bar
        y_bar += v_bar
        k2x_bar += h2 * u_bar
        k2y_bar += h2 * v_bar
        # k2 = f(x + dt/2 k1)
        u_bar, v_bar = _lv_bar(a, b, c, d, x2, y2, k2x_bar, k2y_bar, p_bar)
        x_bar += u_bar
        y_bar += v_bar
        k1x_bar += h2 * u_bar
        k1y_bar += h2 * v_bar
        # k1 = f(x)
        u_bar, v_bar = _lv_bar(a, b, c, d, x, y, k1x_bar, k1y_bar, p_bar)
        x_bar += u_bar
        y_bar += v_bar
    y0_bar = np.empty(2)
    y0_bar[0] = x_bar
    y0_bar[1] = y_bar
    return value, (p_bar, y0_bar)


def ode_rk4_tape_bytes(params, y0, n_steps, dt):
    return 2 * FLOAT * n_steps


# ---------------------------------------------------------------------------------------------
# logistic_map: s = sum of x_{i+1} = r x_i (1 - x_i)

@numba.njit(cache=False)
def _logistic_map_forward(r, x0, n_steps):
    xs = np.empty(n_steps)  # x before each step
    x = x0
    s = 0.0
    for i in range(n_steps):
        xs[i] = x
        x = r * x * (1.0 - x)
        s += x
    return s, xs


@numba.njit(cache=False)
def logistic_map_value_and_grad(r, x0, n_steps):
    s, xs = _logistic_map_forward(r, x0, n_steps)
    r_bar = 0.0
    x_bar = 0.0  # adjoint of x after step i, from the later steps
    for i in range(n_steps - 1, -1, -1):
        x = xs[i]
        x_bar += 1.0  # s += x
        r_bar += x_bar * x * (1.0 - x)
        x_bar = x_bar * r * (1.0 - 2.0 * x)
    return s, (r_bar, x_bar)


def logistic_map_tape_bytes(r, x0, n_steps):
    return FLOAT * n_steps


# ---------------------------------------------------------------------------------------------
# nbody_energy: E = -sum_{i<j} m_i m_j / sqrt(|p_i - p_j|^2 + eps^2)

@numba.njit(cache=False)
def nbody_energy_value_and_grad(pos, mass, eps):
    n = pos.shape[0]
    eps2 = eps * eps
    pos_bar = np.zeros_like(pos)
    mass_bar = np.zeros_like(mass)
    energy = 0.0
    for i in range(n):
        xi, yi, zi, mi = pos[i, 0], pos[i, 1], pos[i, 2], mass[i]
        gx, gy, gz, gm = 0.0, 0.0, 0.0, 0.0  # this body's gradient, accumulated over j
        for j in range(i + 1, n):
            dx = xi - pos[j, 0]
            dy = yi - pos[j, 1]
            dz = zi - pos[j, 2]
            inv_r = 1.0 / math.sqrt(dx * dx + dy * dy + dz * dz + eps2)
            mj = mass[j]
            mm_r = mi * mj * inv_r
            energy -= mm_r
            gm -= mj * inv_r
            mass_bar[j] -= mi * inv_r
            # d(-m_i m_j / r) / d dx = m_i m_j dx / r^3
            s = mm_r * inv_r * inv_r
            gx += s * dx
            gy += s * dy
            gz += s * dz
            pos_bar[j, 0] -= s * dx
            pos_bar[j, 1] -= s * dy
            pos_bar[j, 2] -= s * dz
        pos_bar[i, 0] += gx
        pos_bar[i, 1] += gy
        pos_bar[i, 2] += gz
        mass_bar[i] += gm
    return energy, (pos_bar, mass_bar)


def nbody_energy_tape_bytes(pos, mass, eps):
    return 0


# ---------------------------------------------------------------------------------------------
# lstm_objective: one LSTM layer, gate rows in the order input, forget, output, cell candidate;
# the objective is sum(h_T ** 2)

@numba.njit(cache=False)
def _lstm_forward(Wx, Wh, b, xs):
    steps, n_in = xs.shape
    H = Wh.shape[1]
    hs = np.zeros((steps + 1, H))      # h before step t is hs[t]; hs[steps] is the last
    cs = np.zeros((steps + 1, H))      # c likewise
    acts = np.empty((steps, 4 * H))    # the gate activations i, f, o (sigmoid), g (tanh)
    tcs = np.empty((steps, H))         # tanh(c) after each step
    z = np.empty(4 * H)
    for t in range(steps):
        for r in range(4 * H):
            acc = b[r]
            for k in range(n_in):
                acc += Wx[r, k] * xs[t, k]
            for k in range(H):
                acc += Wh[r, k] * hs[t, k]
            z[r] = acc
        for u in range(H):
            i = 1.0 / (1.0 + math.exp(-z[u]))
            f = 1.0 / (1.0 + math.exp(-z[H + u]))
            o = 1.0 / (1.0 + math.exp(-z[2 * H + u]))
            g = math.tanh(z[3 * H + u])
            acts[t, u] = i
            acts[t, H + u] = f
            acts[t, 2 * H + u] = o
            acts[t, 3 * H + u] = g
            c = f * cs[t, u] + i * g
            tc = math.tanh(c)
            cs[t + 1, u] = c
            tcs[t, u] = tc
            hs[t + 1, u] = o * tc
    value = 0.0
    for u in range(H):
        value += hs[steps, u] * hs[steps, u]
    return value, hs, cs, acts, tcs


@numba.njit(cache=False)
def lstm_objective_value_and_grad(Wx, Wh, b, xs):
    steps, n_in = xs.shape
    H = Wh.shape[1]
    value, hs, cs, acts, tcs = _lstm_forward(Wx, Wh, b, xs)
    Wx_bar = np.zeros_like(Wx)
    Wh_bar = np.zeros_like(Wh)
    b_bar = np.zeros_like(b)
    h_bar = 2.0 * hs[steps]
    c_bar = np.zeros(H)
    z_bar = np.empty(4 * H)
    for t in range(steps - 1, -1, -1):
        for u in range(H):
            i = acts[t, u]
            f = acts[t, H + u]
            o = acts[t, 2 * H + u]
            g = acts[t, 3 * H + u]
            tc = tcs[t, u]
            # h = o tanh(c)
            o_bar = h_bar[u] * tc
            cb = c_bar[u] + h_bar[u] * o * (1.0 - tc * tc)
            # c = f c_prev + i g
            z_bar[u] = cb * g * i * (1.0 - i)
            z_bar[H + u] = cb * cs[t, u] * f * (1.0 - f)
            z_bar[2 * H + u] = o_bar * o * (1.0 - o)
            z_bar[3 * H + u] = cb * i * (1.0 - g * g)
            c_bar[u] = cb * f
        # z = Wx x_t + Wh h_prev + b
        for k in range(H):
            h_bar[k] = 0.0
        for r in range(4 * H):
            zr = z_bar[r]
            b_bar[r] += zr
            for k in range(n_in):
                Wx_bar[r, k] += zr * xs[t, k]
            for k in range(H):
                Wh_bar[r, k] += zr * hs[t, k]
                h_bar[k] += zr * Wh[r, k]
    return value, (Wx_bar, Wh_bar, b_bar)


def lstm_objective_tape_bytes(Wx, Wh, b, xs):
    steps = xs.shape[0]
    H = Wh.shape[1]
    return FLOAT * (2 * (steps + 1) * H + steps * 4 * H + steps * H)


# ---------------------------------------------------------------------------------------------

VALUE_AND_GRAD = {
    "ode_rk4": ode_rk4_value_and_grad,
    "logistic_map": logistic_map_value_and_grad,
    "nbody_energy": nbody_energy_value_and_grad,
    "lstm_objective": lstm_objective_value_and_grad,
}

TAPE_BYTES = {
    "ode_rk4": ode_rk4_tape_bytes,
    "logistic_map": logistic_map_tape_bytes,
    "nbody_energy": nbody_energy_tape_bytes,
    "lstm_objective": lstm_objective_tape_bytes,
}

# what each forward sweep keeps, to check TAPE_BYTES against the arrays themselves
_FORWARD = {
    "ode_rk4": _ode_rk4_forward,
    "logistic_map": _logistic_map_forward,
    "nbody_energy": None,
    "lstm_objective": _lstm_forward,
}


def _central_differences(fn, args, wrt, eps=3e-4):
    """The gradient of the scalar fn(*args) for each position in wrt, by central differences with
    one Richardson step, (4 D(h/2) - D(h)) / 3 with h = eps max(1, |x|): error O(h^4), so that the
    step can be large enough for the rounding in a sum of 10**6 terms not to show."""
    grads = []
    for p in wrt:
        base = np.array(args[p], dtype=np.float64)
        g = np.empty(base.shape)
        for idx in np.ndindex(base.shape):
            h = eps * max(1.0, abs(float(base[idx])))
            d = []
            for step in (h, 0.5 * h):
                vals = []
                for sign in (1.0, -1.0):
                    moved = base.copy()
                    moved[idx] += sign * step
                    a = list(args)
                    a[p] = float(moved) if np.ndim(args[p]) == 0 else moved
                    vals.append(fn(*a))
                d.append((vals[0] - vals[1]) / (2.0 * step))
            g[idx] = (4.0 * d[1] - d[0]) / 3.0
        grads.append(g)
    return tuple(grads)


def _relative(got, want):
    """max |got - want| relative to the largest entry of want (1 if want is all zero)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    return float(np.max(np.abs(got - want))) / (scale if scale > 0.0 else 1.0)


def check_all(size="tiny", rtol=1e-6, jit=True, verbose=True):
    """Compare every hand-written value and gradient with central differences and with adjoint.

    Central differences use the plain Python kernel at "tiny" and its Numba compilation otherwise.
    Raises AssertionError naming every entry that differs by more than rtol relative to the largest
    entry of the reference; returns the table of relative errors otherwise.
    """
    import adjoint

    table = {k.name: k for k in kernels.KERNELS}
    failures, rows = [], []
    if verbose:
        print(f"hand-written adjoints vs central differences and adjoint (jit={jit}), size={size!r}, rtol={rtol:g}")
        print(f"{'kernel':<16} {'argument':<8} {'shape':<10} {'vs central diff':>16} {'vs adjoint':>12} "
              f"{'tape bytes':>12}  result")
    for name, vg in VALUE_AND_GRAD.items():
        k = table[name]
        args = k.make(size)
        value, grads = vg(*args)
        primal = k.fn if size == "tiny" else numba.njit(k.fn)
        want_value = k.fn(*args) if size == "tiny" else primal(*args)
        numeric = _central_differences(primal, args, k.wrt)
        ad_value, ad_grads = adjoint.value_and_grad(k.fn, wrt=k.wrt, jit=jit)(*args)
        tape = TAPE_BYTES[name](*args)
        if _FORWARD[name] is not None:
            kept = _FORWARD[name](*args)[1:]
            if tape != sum(a.nbytes for a in kept):
                failures.append(f"{name}: TAPE_BYTES says {tape}, the forward sweep keeps "
                                f"{sum(a.nbytes for a in kept)}")
        for label, want in (("value vs kernel", want_value), ("value vs adjoint", ad_value)):
            err = _relative(value, want)
            if not err <= rtol:
                failures.append(f"{name}: {label}: {value!r} vs {want!r} (relative {err:.2e})")
        params = list(inspect.signature(k.fn).parameters)
        for p, g, g_num, g_ad in zip(k.wrt, grads, numeric, ad_grads):
            e_num, e_ad = _relative(g, g_num), _relative(g, g_ad)
            ok = e_num <= rtol and e_ad <= rtol and np.shape(g) == np.shape(args[p])
            if not ok:
                failures.append(f"{name}: gradient for {params[p]}: relative error {e_num:.2e} vs central "
                                f"differences, {e_ad:.2e} vs adjoint")
            rows.append((name, params[p], np.shape(g), e_num, e_ad, ok))
            if verbose:
                print(f"{name:<16} {params[p]:<8} {str(np.shape(g)):<10} {e_num:>16.2e} {e_ad:>12.2e} "
                      f"{tape:>12,d}  {'ok' if ok else 'MISMATCH'}")
    if failures:
        raise AssertionError("hand-written adjoints disagree:\n  " + "\n  ".join(failures))
    if verbose:
        print(f"all {len(rows)} gradients agree")
    return rows


if __name__ == "__main__":
    import sys

    check_all(sys.argv[1] if len(sys.argv) > 1 else "tiny")
