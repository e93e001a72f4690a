"""Reading what adjoint generates: the adjoint of a loop, before and after simplification.

    python examples/read_generated_code.py
    adjoint dump examples/read_generated_code.py:running_product     # the same, from the shell
"""

import numpy as np

import adjoint


def running_product(x):
    p = 1.0
    for i in range(x.shape[0]):
        p = p * x[i]
    return p


def main():
    print("Simplified (what runs):\n")
    print(adjoint.source(running_product))
    print("Before simplification (--no-optimize):\n")
    print(adjoint.source(running_product, optimize=False))
    x = np.array([0.5, 2.0, -1.5])
    print("gradient:", adjoint.grad(running_product)(x))


if __name__ == "__main__":
    main()
