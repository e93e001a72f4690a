"""Hessians: adjoint's (forward mode over its generated adjoint) against central differences of the
gradient and, when installed, JAX's `jax.hessian` (forward over reverse too), compiled.

    python -m benchmarks.second                  # Rosenbrock at n = 100
    python -m benchmarks.second -n 30 --repeats 5

Single-threaded, float64; times are medians over repeats after a warm-up call, in ms.
"""

import argparse
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402

import adjoint  # noqa: E402

from .kernels import rosenbrock  # noqa: E402


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def fd_hessian(x):
    g = adjoint.grad(rosenbrock, jit=True)
    h = 1e-5
    return np.stack([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(x.size)], axis=-1)


def jax_hessian(x):
    """A zero-argument callable computing jax.hessian of Rosenbrock at x, compiled; None without JAX."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def f(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    xj = jnp.asarray(x)
    compiled = jax.jit(jax.hessian(f)).lower(xj).compile()
    return lambda: np.asarray(compiled(xj))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=9)
    opts = ap.parse_args(argv)
    x = np.random.default_rng(0).uniform(-1.5, 1.5, opts.n)
    hessian = adjoint.hessian(rosenbrock, jit=True)
    t0 = time.perf_counter()
    H = hessian(x)
    first = time.perf_counter() - t0
    want = fd_hessian(x)
    err = float(np.max(np.abs(H - want)) / np.max(np.abs(want)))
    print(f"Rosenbrock, n = {opts.n}: Hessian {H.shape}, max |adjoint - central differences| / max |H| = {err:.1e}")
    print(f"{'tool':<34} {'first call s':>12} {'median ms':>10}")
    print(f"{'adjoint.hessian (jit=True)':<34} {first:12.2f} {median_ms(lambda: hessian(x), opts.repeats):10.3f}")
    jax_fn = jax_hessian(x)
    if jax_fn is None:
        print(f"{'jax.jit(jax.hessian)':<34} {'not installed':>12}")
    else:
        diff = float(np.max(np.abs(jax_fn() - H)) / np.max(np.abs(H)))
        print(f"{'jax.jit(jax.hessian)':<34} {'':>12} {median_ms(jax_fn, opts.repeats):10.3f}"
              f"   (differs from adjoint's by {diff:.1e})")
    return 0 if err < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
