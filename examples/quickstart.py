"""Quickstart: the gradient of a NumPy function, the code adjoint wrote for it, and a check.

    python examples/quickstart.py
"""

import numpy as np

import adjoint


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def main():
    x = np.array([-1.2, 1.0, 0.5, 0.8])
    g = adjoint.grad(rosenbrock)(x)  # Numba-compiled when it can be
    print("gradient:", g)
    print(adjoint.source(rosenbrock))  # the generated adjoint, as Python
    report = adjoint.check_grad(rosenbrock, x)  # against central differences
    print(report)
    return 0 if report else 1


if __name__ == "__main__":
    raise SystemExit(main())
