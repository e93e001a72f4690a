"""Fit the four Lotka-Volterra parameters of an ODE to noisy data, with adjoint's gradient as jac=.

    python examples/fit_lotka_volterra.py                   # saves fit_lotka_volterra.png in the current folder
    python examples/fit_lotka_volterra.py --samples 60 --plot fit.png   # matplotlib: pip install -e ".[examples]"

The model is an RK4 integrator written as plain loops over steps; adjoint differentiates the
whole loss (integration included) and Numba compiles the adjoint.
"""

import argparse
import os

import numpy as np
from scipy.optimize import minimize

import adjoint

STEPS_PER_SAMPLE = 10
DT = 0.01


def simulate(params, y0, n_samples):
    a, b, c, d = params[0], params[1], params[2], params[3]
    out = np.zeros((n_samples, 2))
    u = y0[0]
    v = y0[1]
    for k in range(n_samples):
        for _ in range(STEPS_PER_SAMPLE):
            k1u = a * u - b * u * v
            k1v = d * u * v - c * v
            k2u = a * (u + 0.5 * DT * k1u) - b * (u + 0.5 * DT * k1u) * (v + 0.5 * DT * k1v)
            k2v = d * (u + 0.5 * DT * k1u) * (v + 0.5 * DT * k1v) - c * (v + 0.5 * DT * k1v)
            k3u = a * (u + 0.5 * DT * k2u) - b * (u + 0.5 * DT * k2u) * (v + 0.5 * DT * k2v)
            k3v = d * (u + 0.5 * DT * k2u) * (v + 0.5 * DT * k2v) - c * (v + 0.5 * DT * k2v)
            k4u = a * (u + DT * k3u) - b * (u + DT * k3u) * (v + DT * k3v)
            k4v = d * (u + DT * k3u) * (v + DT * k3v) - c * (v + DT * k3v)
            u = u + DT / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u)
            v = v + DT / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
        out[k, 0] = u
        out[k, 1] = v
    return out


def loss(params, y0, data):
    model = simulate(params, y0, data.shape[0])
    return np.mean((model - data) ** 2)


def main(n_samples=120, plot="fit_lotka_volterra.png"):
    """Fit, check the gradient at the fit, and save a plot of data and fit at the path `plot` (None: none)."""
    rng = np.random.default_rng(0)
    truth = np.array([1.1, 0.4, 0.4, 0.1])
    y0 = np.array([10.0, 5.0])
    data = simulate(truth, y0, n_samples) + rng.normal(0.0, 0.3, (n_samples, 2))
    value_and_grad = adjoint.value_and_grad(loss, wrt=0, jit=True)
    start = np.array([0.8, 0.3, 0.6, 0.15])
    result = minimize(value_and_grad, start, args=(y0, data), jac=True, method="L-BFGS-B",
                      bounds=[(0.01, 5.0)] * 4)
    print(f"true parameters   {truth}")
    print(f"fitted parameters {np.round(result.x, 3)}  (loss {result.fun:.4f}, {result.nit} iterations)")
    print(adjoint.check_grad(loss, result.x, y0, data[:10]))
    if plot:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("no plot: matplotlib is not installed (pip install -e \".[examples]\")")
            return result
        t = np.arange(1, n_samples + 1) * STEPS_PER_SAMPLE * DT
        fit = simulate(result.x, y0, n_samples)
        plt.plot(t, data[:, 0], ".", label="prey (data)")
        plt.plot(t, data[:, 1], ".", label="predators (data)")
        plt.plot(t, fit[:, 0], label="prey (fit)")
        plt.plot(t, fit[:, 1], label="predators (fit)")
        plt.xlabel("time")
        plt.legend()
        plt.savefig(plot, dpi=120)
        plt.close()
        print(f"plot saved to {os.path.abspath(plot)}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=120)
    parser.add_argument("--plot", default="fit_lotka_volterra.png", help="where to save the plot ('' for none)")
    options = parser.parse_args()
    main(options.samples, options.plot or None)
