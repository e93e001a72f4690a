"""Forces of an n-body system as the gradient of its potential energy (a pairwise double loop).

    python examples/nbody_forces.py
"""

import time

import numpy as np

import adjoint


def potential(pos, mass, eps):
    n = pos.shape[0]
    energy = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            dz = pos[i, 2] - pos[j, 2]
            r = np.sqrt(dx * dx + dy * dy + dz * dz + eps * eps)
            energy = energy - mass[i] * mass[j] / r
    return energy


def main(n=256):
    rng = np.random.default_rng(1)
    pos, mass = rng.normal(size=(n, 3)), rng.uniform(0.5, 1.5, n)
    grad = adjoint.grad(potential, wrt=0, jit=True)
    forces = -grad(pos, mass, 0.01)
    t0 = time.perf_counter()
    grad(pos, mass, 0.01)
    print(f"forces on {n} bodies in {(time.perf_counter() - t0) * 1e3:.2f} ms; net force {forces.sum(axis=0)}")
    print(adjoint.check_grad(potential, pos[:8], mass[:8], 0.01, wrt=(0, 1)))
    return forces


if __name__ == "__main__":
    main()
