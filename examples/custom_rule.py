"""A hand-written backward rule with custom_vjp: a numerically safe log(1 + exp(x)).

    python examples/custom_rule.py
"""

import numpy as np

import adjoint


@adjoint.custom_vjp
def softplus(x):
    return np.logaddexp(0.0, x)


def softplus_fwd(x):
    return np.logaddexp(0.0, x), x  # the output and what the backward rule needs


def softplus_bwd(x, g):
    return (g / (1.0 + np.exp(-x)),)  # one gradient per input, as a tuple


softplus.defvjp(softplus_fwd, softplus_bwd)


def loss(w, X):
    return np.sum(softplus(X @ w))


def main():
    rng = np.random.default_rng(0)
    w, X = rng.normal(size=3), rng.normal(size=(50, 3))
    print(adjoint.grad(loss)(w, X))
    print(adjoint.source(loss))  # the generated code calls softplus_fwd and softplus_bwd
    report = adjoint.check_grad(loss, w, X)
    print(report)
    return report


if __name__ == "__main__":
    main()
