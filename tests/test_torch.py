"""adjoint.torch.op: plain Python/NumPy functions as PyTorch operators, checked by PyTorch's own
gradcheck (reverse and forward mode against finite differences), in float32 training-like use, under
torch.compile, and pickled. Skipped where PyTorch is not installed (`pip install -e ".[torch]"`)."""

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: pip install -e '.[torch]'")
import adjoint.torch as adjoint_torch  # noqa: E402
from operator_programs import mul, newton_sqrt, recurrence, spring_chain  # noqa: E402
import operator_programs as P  # noqa: E402
from adjoint import ArgumentError  # noqa: E402


def _t(*shape, seed=0, positive=False):
    g = torch.Generator().manual_seed(seed + len(shape) * 7 + sum(shape))
    x = torch.rand(shape, generator=g, dtype=torch.float64) + 0.5 if positive else \
        torch.randn(shape, generator=g, dtype=torch.float64)
    return x.requires_grad_()


def _tensors(spec):
    """A case's arguments: its arrays as float64 tensors (a float stays a constant, as the operator takes it)."""
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) if isinstance(a, np.ndarray) else a
            for a in P.arguments(spec)]


@pytest.mark.parametrize("fn, spec", P.CASES, ids=[f.__name__ for f, _ in P.CASES])
def test_gradcheck(fn, spec):
    """PyTorch's gradcheck: the backward (adjoint's adjoint) and the forward-mode derivative (its
    tangent code) against PyTorch's finite differences, in float64."""
    op = adjoint_torch.op(fn, jit=fn in (recurrence, P.until_small, P.buffer_writes))  # (three compiled by Numba,
    # the others on the Python path: the suite's time)
    assert torch.autograd.gradcheck(op, _tensors(spec), check_forward_ad=True)


def test_values_are_the_functions():
    x, w = _t(6, 3), _t(seed=2)
    out = adjoint_torch.op(recurrence, jit=False)(x, w, 4)
    assert np.allclose(out.detach().numpy(), recurrence(x.detach().numpy(), w.item(), 4))


def test_float32_in_a_training_step():
    """float32 tensors: outputs and gradients in float32, the gradient that of the float64 function."""
    op = adjoint_torch.op(spring_chain, jit=False)
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
    op = adjoint_torch.op(recurrence, jit=False)
    x, w = _t(6, 3), _t(seed=2)
    op(x, w, 4).sum().backward()
    eager = x.grad.clone()
    x.grad = None
    compiled = torch.compile(lambda x, w: op(x, w, 4).sum(), backend="aot_eager", fullgraph=True)
    compiled(x, w).backward()
    assert torch.allclose(x.grad, eager)


def test_jvp():
    op = adjoint_torch.op(mul, jit=False)
    a, b = torch.randn(3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    _, tangent = torch.func.jvp(lambda a: op(a, b), (a,), (torch.ones(3, dtype=torch.float64),))
    assert torch.allclose(tangent, b)


def test_a_second_derivative_is_refused():
    op = adjoint_torch.op(mul, jit=False)
    a, b = _t(3), _t(3, seed=1)
    g, = torch.autograd.grad(op(a, b).sum(), a, create_graph=True)
    with pytest.raises(RuntimeError, match="autograd formula"):
        torch.autograd.grad(g.sum(), b)


def test_an_operator_pickles_by_reference():
    op = adjoint_torch.op(newton_sqrt, jit=False)
    again = pickle.loads(pickle.dumps(op))
    a = _t(3, positive=True)
    assert torch.allclose(again(a), op(a))


def test_bad_arguments_are_refused():
    op = adjoint_torch.op(mul, jit=False)
    with pytest.raises(ArgumentError, match="by position"):
        op(torch.ones(2))
    with pytest.raises(ArgumentError, match="tensors, ints, floats or bools"):
        op(torch.ones(2), "two")


def test_operators_of_functions_with_one_name_are_their_own():
    two, three = adjoint_torch.op(P.scaler(2.0), jit=False), adjoint_torch.op(P.scaler(3.0), jit=False)
    x = torch.ones(3, dtype=torch.float64)
    assert torch.allclose(two(x), 2.0 * x) and torch.allclose(three(x), 3.0 * x)


@adjoint_torch.op
def decorated(x):
    return np.sin(x)


def test_a_decorated_operator_pickles():
    again = pickle.loads(pickle.dumps(decorated))
    x = torch.linspace(0.0, 1.0, 4, dtype=torch.float64)
    assert torch.allclose(again(x), decorated(x))


@pytest.mark.parametrize("fn, spec", P.CASES, ids=[f.__name__ for f, _ in P.CASES])
def test_float32(fn, spec):
    """float32 tensors in: outputs and gradients in float32, near the float64 function's gradients."""
    args, arrays, reference = P.float32_case(spec)
    given = [torch.tensor(a, dtype=torch.float32, requires_grad=True) if k in arrays else a
             for k, a in enumerate(args)]
    out = adjoint_torch.op(fn, jit=False)(*given)
    outs = out if isinstance(out, tuple) else (out,)
    assert all(o.dtype == torch.float32 for o in outs)
    sum((k + 1.5) * o.sum() for k, o in enumerate(outs)).backward()
    for k, expected in zip(arrays, reference(fn)):
        assert given[k].grad.dtype == torch.float32
        assert np.allclose(given[k].grad.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_found_by_a_hunt():
    """Each a wrong result or a crash before: a complex tensor after a first call of the pattern, a
    nested tuple output (a segfault), a solve (stand-ins were singular), a float constant that sets
    the shape under torch.compile (the first float's shape was reused), NumPy's float64 as a constant."""
    op = adjoint_torch.op(P.pair_diff, jit=False)
    op(torch.ones(3))
    with pytest.raises(ArgumentError, match="complex64"):
        op(torch.ones(3, dtype=torch.complex64))
    with pytest.raises(ArgumentError, match="flat tuple"):
        adjoint_torch.op(P.nested, jit=False)(torch.ones(2))
    A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    solve = adjoint_torch.op(P.solved, jit=False)
    solve(A, A[0])  # (a pattern's first call registers it, outside a graph: fullgraph=True after it)
    solved = torch.compile(solve, backend="aot_eager", fullgraph=True)
    assert torch.allclose(solved(A, torch.ones(2, dtype=torch.float64)), torch.tensor([0.4, 0.2], dtype=torch.float64))
    branch = adjoint_torch.op(P.branch_shape, jit=False)
    x = torch.tensor([-1.0, 2.0, -3.0, 4.0])
    assert branch(x, 2.0).shape == (2,)
    compiled = torch.compile(lambda x, t: branch(x, t).sum() / branch(x, t).shape[0], backend="aot_eager",
                             fullgraph=True)
    assert torch.isclose(compiled(x, 0.5), torch.tensor(0.25))
    assert torch.allclose(branch(x, np.float64(0.5)), 0.5 * x)
