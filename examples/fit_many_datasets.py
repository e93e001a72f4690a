"""Fit one model to many independent datasets at once, on a Dask cluster: each worker runs SciPy's
L-BFGS-B with adjoint's gradient of a plain-loop simulation (pip install -e ".[dask]").

    python examples/fit_many_datasets.py                      # a LocalCluster of 2 worker processes
    python examples/fit_many_datasets.py --datasets 200 --workers 4
    python examples/fit_many_datasets.py --address tcp://scheduler:8786   # a real cluster

Each dataset is a damped oscillator's noisy positions; its damping and frequency are unknown. The
gradient function `adjoint.value_and_grad(loss)` travels to the workers by pickle (by reference to
`loss`, with its options): each worker makes it again and loads the compiled code from adjoint's cache
folder (compiling once where the folder is new to it). On a real cluster the workers need this file's
functions importable (the same file on each, or `client.upload_file`) and adjoint installed.
"""

import argparse
import time

import numpy as np
from scipy.optimize import minimize

import adjoint

DT = 0.02


def simulate(params, x0, n):
    """Positions of x'' = -2 damping x' - frequency^2 x, by semi-implicit Euler steps."""
    damping, frequency = params[0], params[1]
    x, v = x0, 0.0
    out = np.empty(n)
    for k in range(n):
        v = v - DT * (2.0 * damping * v + frequency * frequency * x)
        x = x + DT * v
        out[k] = x
    return out


def loss(params, data):
    return np.mean((simulate(params, 1.0, data.shape[0]) - data) ** 2)


LOSS_AND_GRADIENT = adjoint.value_and_grad(loss, jit=True)


def fit(data):
    """The damping and frequency that fit one dataset, and the number of L-BFGS-B iterations."""
    result = minimize(LOSS_AND_GRADIENT, np.array([0.5, 2.0]), args=(data,), jac=True, method="L-BFGS-B",
                      bounds=[(0.0, 5.0), (0.1, 10.0)])
    return result.x, result.nit


def datasets(count, n=300, seed=0):
    """count noisy datasets, and the parameters that made each."""
    rng = np.random.default_rng(seed)
    truth = np.column_stack([rng.uniform(0.1, 0.6, count), rng.uniform(1.5, 3.5, count)])
    return [simulate(p, 1.0, n) + rng.normal(0.0, 0.02, n) for p in truth], truth


def main(count=32, workers=2, address=None):
    from dask.distributed import Client, LocalCluster

    data, truth = datasets(count)
    cluster = None if address else LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
    with Client(address or cluster) as client:
        start = time.perf_counter()
        fitted = client.gather(client.map(fit, data))
        seconds = time.perf_counter() - start
    if cluster is not None:
        cluster.close()
    found = np.array([x for x, _ in fitted])
    error = np.max(np.abs(found - truth) / truth, axis=0)
    where = f"{workers} local workers" if cluster else "the cluster's workers"
    print(f"{count} datasets fitted by {where} in {seconds:.1f} s "
          f"({sum(nit for _, nit in fitted)} L-BFGS-B iterations)")
    print(f"largest relative error: damping {error[0]:.3f}, frequency {error[1]:.4f}")
    return found, truth


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--address", help="a Dask scheduler's address (default: a LocalCluster)")
    options = parser.parse_args()
    main(options.datasets, options.workers, options.address)
