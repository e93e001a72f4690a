"""The backward nobody writes: one plain Python function, made into an operator of PyTorch, JAX and
TensorFlow, whose backward is the adjoint adjoint writes (the `Mul` each framework's custom-operator
guide asks its reader to write by hand, with backward `(g * b, g * a)`).

    python examples/mul_three_frameworks.py      # the frameworks installed: pip install -e ".[torch,jax,tensorflow]"
"""

import importlib.util
import os

import numpy as np


def mul(a, b):
    return a * b


def with_torch(a, b, g):
    import torch

    import adjoint.torch
    op = adjoint.torch.op(mul)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    op(ta, tb).backward(torch.tensor(g))
    return ta.grad.numpy(), tb.grad.numpy()


def with_jax(a, b, g):
    import jax

    import adjoint.jax
    op = adjoint.jax.op(mul)
    _, pullback = jax.vjp(op, a.astype(np.float32), b.astype(np.float32))  # (JAX's default: float32)
    return tuple(np.asarray(x) for x in pullback(g.astype(np.float32)))


def with_tensorflow(a, b, g):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    import adjoint.tensorflow
    op = adjoint.tensorflow.op(mul)
    ta, tb = tf.constant(a), tf.constant(b)
    with tf.GradientTape() as tape:
        tape.watch([ta, tb])
        y = op(ta, tb)
    return tuple(x.numpy() for x in tape.gradient(y, [ta, tb], output_gradients=tf.constant(g)))


def main():
    a, b, g = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), np.array([1.0, 0.5, 0.25])
    hand_written = (g * b, g * a)
    agree = {}
    for name, module, run in [("PyTorch", "torch", with_torch), ("JAX", "jax", with_jax),
                              ("TensorFlow", "tensorflow", with_tensorflow)]:
        if importlib.util.find_spec(module) is None:
            print(f"{name:10} not installed (pip install -e \".[{module}]\")")
            continue
        grads = run(a, b, g)
        agree[name] = all(np.allclose(x, y) for x, y in zip(grads, hand_written))
        print(f"{name:10} grad a = {grads[0]}, grad b = {grads[1]}  ({'=' if agree[name] else '!='} (g*b, g*a))")
    return agree


if __name__ == "__main__":
    raise SystemExit(0 if all(main().values()) else 1)
