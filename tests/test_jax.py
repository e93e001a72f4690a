"""adjoint.jax.op: plain Python/NumPy functions as JAX functions with a custom VJP, checked by JAX's own
check_grads (reverse mode against finite differences, in float64), under jax.jit, jax.vmap and pickled.
Skipped where JAX is not installed (`pip install -e ".[jax]"`)."""

import pickle

import numpy as np
import operator_programs as P
import pytest

jax = pytest.importorskip("jax", reason="JAX is not installed: pip install -e '.[jax]'")
import jax.numpy as jnp  # noqa: E402
from jax.test_util import check_grads  # noqa: E402

import adjoint.jax as adjoint_jax  # noqa: E402
from adjoint import ArgumentError  # noqa: E402
from adjoint.operator import Operator  # noqa: E402


@pytest.fixture(autouse=True)
def float64():
    """JAX in float64 for these tests (its default is float32), as before them afterwards."""
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


@pytest.mark.parametrize("fn, spec", P.CASES, ids=[f.__name__ for f, _ in P.CASES])
def test_check_grads(fn, spec):
    op = adjoint_jax.op(fn, jit=False)  # (tests/test_torch.py compiles the same functions with Numba)
    values, call = P.split(spec, jnp.asarray)
    check_grads(lambda *v: call(op, *v), values, order=1, modes=["rev"])


def test_under_jit_and_vmap():
    op = adjoint_jax.op(P.recurrence, jit=False)
    x = jnp.asarray(np.random.default_rng(0).standard_normal((6, 3)))
    loss = jax.jit(jax.grad(lambda x, w: jnp.sum(op(x, w, 4) ** 2), argnums=(0, 1)))
    gx, gw = loss(x, 0.7)
    reference = Operator(P.recurrence, jit=False).backward([np.asarray(x), 0.7, 4], (0, 1), [
        2.0 * P.recurrence(np.asarray(x), 0.7, 4)])
    assert np.allclose(gx, reference[0]) and np.allclose(gw, reference[1])
    many = jax.vmap(lambda x: jnp.sum(op(x, 0.7, 4)))(jnp.stack([x, 2.0 * x]))
    assert np.allclose(many, [np.sum(P.recurrence(np.asarray(x) * s, 0.7, 4)) for s in (1.0, 2.0)])


def test_float32_stays_float32():
    op = adjoint_jax.op(P.mul, jit=False)
    a = jnp.ones(3, dtype=jnp.float32)
    assert jax.grad(lambda a: jnp.sum(op(a, a)))(a).dtype == jnp.float32


def test_forward_mode_is_refused_by_jax():
    op = adjoint_jax.op(P.mul, jit=False)
    a = jnp.ones(3)
    with pytest.raises(TypeError, match="custom_vjp"):
        jax.jvp(lambda a: op(a, a), (a,), (a,))


def test_an_operator_pickles_by_reference():
    op = adjoint_jax.op(P.newton_sqrt, jit=False)
    a = jnp.asarray([0.5, 1.5, 2.5])
    assert np.allclose(pickle.loads(pickle.dumps(op))(a), op(a))


def test_true_and_one_are_different_constants():
    op = adjoint_jax.op(P.branches_on_true, jit=False)
    x = jnp.ones(2)
    assert np.allclose(op(x, True), 2.0) and np.allclose(op(x, 1), 3.0)


@pytest.mark.parametrize("fn, spec", P.CASES, ids=[f.__name__ for f, _ in P.CASES])
def test_float32(fn, spec):
    """float32 arrays in: outputs and gradients in float32, near the float64 function's gradients."""
    args, arrays, reference = P.float32_case(spec)
    op = adjoint_jax.op(fn, jit=False)
    values = [jnp.asarray(args[k], dtype=jnp.float32) for k in arrays]

    def loss(*values):
        given = list(args)
        for k, v in zip(arrays, values):
            given[k] = v
        out = op(*given)
        outs = out if isinstance(out, tuple) else (out,)
        assert all(o.dtype == jnp.float32 for o in outs)
        return sum((k + 1.5) * jnp.sum(o) for k, o in enumerate(outs))
    grads = jax.grad(loss, argnums=tuple(range(len(arrays))))(*values)
    for g, expected in zip(grads, reference(fn)):
        assert g.dtype == jnp.float32 and np.allclose(g, expected, rtol=1e-4, atol=1e-5)


def test_found_by_a_hunt():
    """Each a wrong result or a crash before: an output whose shape a float sets (the stand-in's shape
    came back, filled from another), complex and int arrays taken as floats, a solve of a singular
    stand-in, a dict output."""
    op = adjoint_jax.op(P.branch_shape, jit=False)
    with pytest.raises(Exception, match="depends on the values"):
        np.asarray(op(jnp.ones(4), 2.0))
    with pytest.raises(ArgumentError, match="complex64"):
        adjoint_jax.op(P.mul, jit=False)(jnp.ones(2, dtype=jnp.complex64), jnp.ones(2, dtype=jnp.complex64))
    with pytest.raises(ArgumentError, match="int"):
        adjoint_jax.op(P.mul, jit=False)(jnp.arange(2), jnp.arange(2))
    A = jnp.asarray([[2.0, 1.0], [1.0, 3.0]])
    assert np.allclose(jax.jit(adjoint_jax.op(P.solved, jit=False))(A, jnp.ones(2)), [0.4, 0.2])
    with pytest.raises(ArgumentError, match="flat tuple"):
        adjoint_jax.op(P.nested, jit=False)(jnp.ones(2))
