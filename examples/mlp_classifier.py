"""Train a small neural network written in plain NumPy, with its parameters in a dict.

The loss returns (loss, {"accuracy": ...}): `has_aux=True` differentiates the loss and hands the
accuracy back as computed. The gradient comes back as a dict shaped like the parameters, and
SciPy's L-BFGS (`minimize(jac=True)`) trains on it. The data: three interleaved spirals.

    python examples/mlp_classifier.py
"""

import numpy as np
from scipy.optimize import minimize

import adjoint


def loss_and_accuracy(params, x, labels):
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    shifted = logits - np.max(logits, axis=1, keepdims=True)  # a stable softmax
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -np.sum(log_p * labels) / x.shape[0]
    loss = loss + 1e-4 * sum(np.sum(params[k] ** 2) for k in ("W1", "W2"))
    accuracy = np.mean(np.argmax(log_p, axis=1) == np.argmax(labels, axis=1))
    return loss, {"accuracy": accuracy}


def spirals(n_per_class, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x, y = [], []
    for c in range(classes):
        r = np.linspace(0.1, 1.0, n_per_class)
        t = np.linspace(c * 4.0, (c + 1) * 4.0, n_per_class) + rng.normal(0.0, 0.2, n_per_class)
        x.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        y.append(np.full(n_per_class, c))
    return np.concatenate(x), np.eye(classes)[np.concatenate(y)]


def init(hidden, classes=3, seed=1):
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0.0, 1.0, (2, hidden)), "b1": np.zeros(hidden),
            "W2": rng.normal(0.0, 1.0 / np.sqrt(hidden), (hidden, classes)), "b2": np.zeros(classes)}


def pack(params):
    return np.concatenate([params[k].ravel() for k in sorted(params)])


def unpack(theta, like):
    out, start = {}, 0
    for k in sorted(like):
        out[k] = theta[start:start + like[k].size].reshape(like[k].shape)
        start += like[k].size
    return out


def main(n_per_class=100, hidden=32, iterations=300, jit=None):
    x, labels = spirals(n_per_class)
    params = init(hidden)
    value_and_grad = adjoint.value_and_grad(loss_and_accuracy, has_aux=True, jit=jit)
    history = []

    def objective(theta):
        (loss, aux), grads = value_and_grad(unpack(theta, params), x, labels)
        history.append((loss, aux["accuracy"]))
        return loss, pack(grads)

    result = minimize(objective, pack(params), jac=True, method="L-BFGS-B", options={"maxiter": iterations})
    trained = unpack(result.x, params)
    loss, aux = loss_and_accuracy(trained, x, labels)
    print(f"{len(history)} evaluations: loss {history[0][0]:.3f} -> {loss:.3f}, "
          f"accuracy {history[0][1]:.2f} -> {aux['accuracy']:.2f}")
    print(adjoint.check_grad(lambda_free_loss, trained, x, labels, jit=False))
    return loss, aux["accuracy"]


def lambda_free_loss(params, x, labels):
    """The loss alone, for adjoint.check_grad (which compares one output)."""
    return loss_and_accuracy(params, x, labels)[0]


if __name__ == "__main__":
    main()
