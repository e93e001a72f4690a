"""A PyTorch model whose one custom layer is a plain-Python recurrent loop, made into a PyTorch operator
by adjoint (its backward is adjoint's compiled adjoint, written by nobody), trained on scikit-learn's
handwritten digits read row by row (pip install -e ".[torch,examples]").

    python examples/train_digits_rnn.py                   # saves train_digits_rnn.png here
    python examples/train_digits_rnn.py --plot out.png --epochs 30

It prints the loss as it trains, the test accuracy, and the layer's forward and backward time against
PyTorch autograd running the same loop written with torch operations.
"""

import argparse
import os
import time

import numpy as np
import torch

import adjoint.torch


def recurrent(x, W, U, b):
    """The last hidden state of a tanh recurrent cell over the steps of x (batch, steps, features)."""
    h = np.zeros((x.shape[0], U.shape[0]))
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t, :] @ W + h @ U + b)
    return h


def recurrent_in_torch(x, W, U, b):
    """The same loop in torch operations, for PyTorch autograd to record step by step."""
    h = torch.zeros((x.shape[0], U.shape[0]), dtype=x.dtype)
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t, :] @ W + h @ U + b)
    return h


class Reader(torch.nn.Module):
    """The recurrent layer (adjoint's operator, or the torch loop) and a linear read-out to 10 classes."""

    def __init__(self, features, hidden, layer):
        super().__init__()
        self.layer = layer
        self.W = torch.nn.Parameter(torch.randn(features, hidden) / features ** 0.5)
        self.U = torch.nn.Parameter(torch.randn(hidden, hidden) / hidden ** 0.5 * 0.5)
        self.b = torch.nn.Parameter(torch.zeros(hidden))
        self.out = torch.nn.Linear(hidden, 10)

    def forward(self, x):
        return self.out(self.layer(x, self.W, self.U, self.b))


def digits():
    """scikit-learn's 8x8 digits as sequences of 8 rows of 8 pixels in [0, 1]: train and test halves."""
    from sklearn.datasets import load_digits
    data = load_digits()
    x = torch.tensor(data.images / 16.0, dtype=torch.float32)
    y = torch.tensor(data.target)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    train, test = order[:1200], order[1200:]
    return x[train], y[train], x[test], y[test]


def train(epochs=20, hidden=32, batch=64, seed=0):
    """The model trained by Adam; returns it, the loss after each epoch, and the test accuracy."""
    torch.manual_seed(seed)
    x, y, x_test, y_test = digits()
    model = Reader(8, hidden, adjoint.torch.op(recurrent, jit=True))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for epoch in range(epochs):
        order = torch.randperm(len(y))
        total = 0.0
        for start in range(0, len(y), batch):
            rows = order[start:start + batch]
            loss = torch.nn.functional.cross_entropy(model(x[rows]), y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        losses.append(total / len(y))
        print(f"epoch {epoch + 1:3}  loss {losses[-1]:.4f}")
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    return model, losses, accuracy


def timed(layer, x, params, repeats=50):
    """Median seconds of the layer's forward and backward (gradients of all its inputs)."""
    times = []
    for _ in range(repeats):
        inputs = [p.detach().requires_grad_() for p in (x, *params)]
        start = time.perf_counter()
        layer(*inputs).sum().backward()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def compare(model, x):
    """The layer's forward and backward by adjoint's operator against PyTorch autograd on the loop."""
    params = (model.W, model.U, model.b)
    ours, theirs = timed(model.layer, x, params), timed(recurrent_in_torch, x, params)
    inputs = [p.detach().double().requires_grad_() for p in (x, *params)]
    mine = torch.autograd.grad(model.layer(*inputs).sum(), inputs)
    reference = torch.autograd.grad(recurrent_in_torch(*inputs).sum(), inputs)
    assert all(torch.allclose(a, b, atol=1e-10) for a, b in zip(mine, reference))
    return ours, theirs


def plot(losses, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no plot: matplotlib is not installed (pip install -e \".[examples]\")")
        return None
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(range(1, len(losses) + 1), losses, marker="o")
    ax.set(xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log",
           title="digits, rows through a recurrent layer by adjoint")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"loss curve saved to {os.path.abspath(path)}")
    return path


def main(epochs=20, plot_path="train_digits_rnn.png"):
    model, losses, accuracy = train(epochs)
    print(f"test accuracy {accuracy:.3f}")
    x = digits()[0][:64]
    ours, theirs = compare(model, x)
    print(f"recurrent layer, batch of 64, forward and backward: adjoint.torch.op {ours * 1e3:.2f} ms, "
          f"PyTorch autograd on the same loop {theirs * 1e3:.2f} ms")
    if plot_path:
        plot(losses, plot_path)
    return losses, accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--plot", default="train_digits_rnn.png", help="where to save the loss curve ('' for none)")
    options = parser.parse_args()
    main(options.epochs, options.plot)
