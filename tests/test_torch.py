"""adjoint.torch.op: plain Python/NumPy functions as PyTorch operators, checked by PyTorch's own
gradcheck (reverse and forward mode against finite differences), in float32 training-like use, under
torch.compile, and pickled. Skipped where PyTorch is not installed (`pip install -e ".[torch]"`)."""

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: pip install -e '.[torch]'")
import adjoint.torch as adjoint_torch  # noqa: E402
from adjoint import ArgumentError  # noqa: E402


def mul(a, b):
    return a * b


def recurrence(x, w, steps):
    h = np.zeros(x.shape[1])
    out = np.empty((steps, x.shape[1]))
    for t in range(steps):
        h = np.tanh(w * h + x[t])
        out[t] = h
    return out


def spring_chain(q, k):
    energy = 0.0
    for i in range(q.shape[0] - 1):
        d = q[i + 1] - q[i] - 1.0
        energy += 0.5 * k[i] * d * d
    return energy


def newton_sqrt(a):
    x = a + 1.0
    for _ in range(20):
        x = 0.5 * (x + a / x)
    return x


def until_small(x):
    y = x * 1.0
    n = 0
    while np.max(np.abs(y)) > 0.1 and n < 50:
        y = 0.7 * y + 0.01 * np.sin(y)
        n += 1
    return y


def buffer_writes(x):
    out = np.zeros(x.shape[0] + 1)
    for i in range(x.shape[0]):
        out[i + 1] = out[i] * 0.5 + x[i] ** 2
    return out


def two_outputs(a, b):
    return a * b, np.sum(a ** 2) + b[0]


def matrix_step(A, v):
    for _ in range(3):
        v = np.tanh(A @ v)
    return v


def scaled(x, scale, clip):
    y = x * scale
    if clip:
        y = np.clip(y, -1.0, 1.0)
    return np.sum(y ** 2)


def logsumexp_rows(x):
    m = np.max(x, axis=1, keepdims=True)
    return np.log(np.sum(np.exp(x - m), axis=1)) + m[:, 0]


def rk4(y0, rate):
    y = y0 * 1.0
    dt = 0.05
    for _ in range(40):
        k1 = -rate * y
        k2 = -rate * (y + 0.5 * dt * k1)
        k3 = -rate * (y + 0.5 * dt * k2)
        k4 = -rate * (y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


def _t(*shape, seed=0, positive=False):
    g = torch.Generator().manual_seed(seed + len(shape) * 7 + sum(shape))
    x = torch.rand(shape, generator=g, dtype=torch.float64) + 0.5 if positive else \
        torch.randn(shape, generator=g, dtype=torch.float64)
    return x.requires_grad_()


CASES = [
    (mul, lambda: (_t(4), _t(4, seed=1))),
    (recurrence, lambda: (_t(6, 3), _t(seed=2), 4)),
    (spring_chain, lambda: (_t(5), _t(4, positive=True))),
    (newton_sqrt, lambda: (_t(3, positive=True),)),
    (until_small, lambda: (_t(4),)),
    (buffer_writes, lambda: (_t(5),)),
    (two_outputs, lambda: (_t(3), _t(3, seed=3))),
    (matrix_step, lambda: (_t(3, 3), _t(3, seed=4))),
    (scaled, lambda: (_t(4), 0.7, True)),
    (logsumexp_rows, lambda: (_t(3, 4),)),
    (rk4, lambda: (_t(3), _t(3, positive=True))),
]


@pytest.mark.parametrize("fn, args", CASES, ids=[f.__name__ for f, _ in CASES])
def test_gradcheck(fn, args):
    """PyTorch's gradcheck: the backward (adjoint's adjoint) and the forward-mode derivative (its
    tangent code) against PyTorch's finite differences, in float64."""
    op = adjoint_torch.op(fn, jit=True)
    assert torch.autograd.gradcheck(op, args(), check_forward_ad=True)


def test_values_are_the_functions():
    x, w = _t(6, 3), _t(seed=2)
    out = adjoint_torch.op(recurrence)(x, w, 4)
    assert np.allclose(out.detach().numpy(), recurrence(x.detach().numpy(), w.item(), 4))


def test_float32_in_a_training_step():
    """float32 tensors: outputs and gradients in float32, the gradient that of the float64 function."""
    op = adjoint_torch.op(spring_chain)
    q = torch.linspace(0.0, 6.5, 6, requires_grad=True)  # (springs of rest length 1, stretched)
    k = torch.full((5,), 2.0, requires_grad=True)
    optimizer = torch.optim.SGD([q], lr=0.05)
    energy = op(q, k)
    assert energy.dtype == torch.float32
    energy.backward()
    assert q.grad.dtype == torch.float32
    qd = q.detach().double().requires_grad_()
    reference, = torch.autograd.grad(_torch_spring(qd, k.detach().double()), qd)
    assert torch.allclose(q.grad.double(), reference, atol=1e-5)
    optimizer.step()
    assert op(q, k).item() < energy.item()


def _torch_spring(q, k):
    d = q[1:] - q[:-1] - 1.0
    return torch.sum(0.5 * k * d * d)


def test_torch_compile_keeps_the_operator_whole():
    op = adjoint_torch.op(recurrence)
    x, w = _t(6, 3), _t(seed=2)
    op(x, w, 4).sum().backward()
    eager = x.grad.clone()
    x.grad = None
    compiled = torch.compile(lambda x, w: op(x, w, 4).sum(), backend="aot_eager", fullgraph=True)
    compiled(x, w).backward()
    assert torch.allclose(x.grad, eager)


def test_jvp():
    op = adjoint_torch.op(mul)
    a, b = torch.randn(3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    _, tangent = torch.func.jvp(lambda a: op(a, b), (a,), (torch.ones(3, dtype=torch.float64),))
    assert torch.allclose(tangent, b)


def test_a_second_derivative_is_refused():
    op = adjoint_torch.op(mul)
    a, b = _t(3), _t(3, seed=1)
    g, = torch.autograd.grad(op(a, b).sum(), a, create_graph=True)
    with pytest.raises(RuntimeError, match="autograd formula"):
        torch.autograd.grad(g.sum(), b)


def test_an_operator_pickles_by_reference():
    op = adjoint_torch.op(newton_sqrt)
    again = pickle.loads(pickle.dumps(op))
    a = _t(3, positive=True)
    assert torch.allclose(again(a), op(a))


def test_bad_arguments_are_refused():
    op = adjoint_torch.op(mul)
    with pytest.raises(ArgumentError, match="by position"):
        op(torch.ones(2))
    with pytest.raises(ArgumentError, match="tensors, ints, floats or bools"):
        op(torch.ones(2), "two")
