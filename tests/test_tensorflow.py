"""adjoint.tensorflow.op: plain Python/NumPy functions as TensorFlow functions with a custom gradient,
checked by TensorFlow's own tf.test.compute_gradient (the Jacobian from the gradient against finite
differences) in float64, in float32 training with a tf.Variable, inside tf.function (also of an unknown
batch size), and pickled. Skipped where TensorFlow is not installed (`pip install -e ".[tensorflow]"`)."""

import os
import pickle

import numpy as np
import operator_programs as P
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow", reason="TensorFlow is not installed: pip install -e '.[tensorflow]'")
import adjoint.tensorflow as adjoint_tf  # noqa: E402
from adjoint import ArgumentError  # noqa: E402
from adjoint.operator import Operator  # noqa: E402


def _one(out):
    """One tensor of a function's outputs (several outputs weighed and summed: each one's gradient counts)."""
    if isinstance(out, tuple):
        return sum((k + 1.5) * tf.reduce_sum(o) for k, o in enumerate(out))
    return out


@pytest.mark.parametrize("fn, spec", P.CASES, ids=[f.__name__ for f, _ in P.CASES])
def test_compute_gradient(fn, spec):
    op = adjoint_tf.op(fn, jit=False)  # (tests/test_torch.py compiles the same functions with Numba)
    values, call = P.split(spec, tf.constant)
    theoretical, numerical = tf.test.compute_gradient(lambda *v: _one(call(op, *v)), values)
    for t, n in zip(theoretical, numerical):
        assert np.allclose(t, n, rtol=1e-5, atol=1e-6)


def test_float32_variable_trained():
    """A float32 tf.Variable: outputs and gradients in float32, the gradient the float64 one's, and a
    step of gradient descent lowers the energy."""
    op = adjoint_tf.op(P.spring_chain, jit=False)
    q = tf.Variable(np.linspace(0.0, 6.5, 6), dtype=tf.float32)  # (springs of rest length 1, stretched)
    k = tf.fill((5,), 2.0)
    with tf.GradientTape() as tape:
        energy = op(q, k)
    assert energy.dtype == tf.float32
    gq = tape.gradient(energy, q)
    assert gq.dtype == tf.float32
    reference = Operator(P.spring_chain, jit=False).backward([q.numpy().astype(float), k.numpy().astype(float)], (0,),
                                                             [1.0])[0]
    assert np.allclose(gq.numpy(), reference, atol=1e-5)
    q.assign_sub(0.05 * gq)
    assert op(q, k).numpy() < energy.numpy()


def test_inside_tf_function_of_unknown_batch():
    op = adjoint_tf.op(P.logsumexp_rows, jit=False)

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float64)])
    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(op(x) ** 2)
        return tape.gradient(y, x)
    x = np.random.default_rng(1).standard_normal((3, 4))
    reference = Operator(P.logsumexp_rows, jit=False).backward([x], (0,), [2.0 * P.logsumexp_rows(x)])[0]
    assert np.allclose(gradient(tf.constant(x)).numpy(), reference)
    assert gradient(tf.constant(x[:2])).shape == (2, 4)


def test_constants_and_two_outputs():
    op = adjoint_tf.op(P.recurrence, jit=False)
    x = tf.constant(np.random.default_rng(2).standard_normal((6, 3)))
    w = tf.constant(0.7, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([x, w])
        y = tf.reduce_sum(op(x, w, 4))
    gx, gw = tape.gradient(y, [x, w])
    assert np.all(gx.numpy()[4:] == 0.0) and gw.shape == ()
    a, b = adjoint_tf.op(P.two_outputs, jit=False)(tf.ones(3), tf.fill((3,), 2.0))
    assert np.allclose(a.numpy(), 2.0) and np.isclose(b.numpy(), 5.0)


def test_forward_mode_and_second_derivatives_are_refused():
    """TensorFlow differentiates the backward for both: refused with a message, never a None taken as zero."""
    op = adjoint_tf.op(P.mul, jit=False)
    a = tf.constant([1.0, 2.0, 3.0])
    with pytest.raises(ArgumentError, match="forward mode"):
        with tf.autodiff.ForwardAccumulator(a, tf.ones_like(a)):
            op(a, a)
    with pytest.raises(ArgumentError, match="second derivatives"):
        with tf.GradientTape() as outer:
            outer.watch(a)
            with tf.GradientTape() as inner:
                inner.watch(a)
                y = tf.reduce_sum(op(a, a) ** 2)
            g = inner.gradient(y, a)
        outer.gradient(g, a)


def test_bad_arguments():
    op = adjoint_tf.op(P.mul, jit=False)
    with pytest.raises(ArgumentError, match="int32 tensor"):
        op(tf.constant([1, 2]), tf.constant([1, 2]))
    with pytest.raises(ArgumentError, match="takes its 2 arguments"):
        op(tf.ones(2))


def test_an_operator_pickles_by_reference():
    op = adjoint_tf.op(P.newton_sqrt, jit=False)
    a = tf.constant([0.5, 1.5, 2.5], dtype=tf.float64)
    assert np.allclose(pickle.loads(pickle.dumps(op))(a).numpy(), np.sqrt(a.numpy()))


@pytest.mark.parametrize("fn, spec", P.CASES, ids=[f.__name__ for f, _ in P.CASES])
def test_float32(fn, spec):
    """float32 tensors in: outputs and gradients in float32, near the float64 function's gradients."""
    args, arrays, reference = P.float32_case(spec)
    given = [tf.constant(a, dtype=tf.float32) if k in arrays else a for k, a in enumerate(args)]
    watched = [given[k] for k in arrays]
    with tf.GradientTape() as tape:
        tape.watch(watched)
        out = adjoint_tf.op(fn, jit=False)(*given)
        outs = out if isinstance(out, tuple) else (out,)
        loss = sum((k + 1.5) * tf.reduce_sum(o) for k, o in enumerate(outs))
    assert all(o.dtype == tf.float32 for o in outs)
    for g, expected in zip(tape.gradient(loss, watched), reference(fn)):
        assert g.dtype == tf.float32 and np.allclose(g.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_found_by_a_hunt():
    """Each a wrong result or a crash before: an output whose shape a float sets, in tf.function (a
    static shape of 4 on 2 values), a function indexing entries of an unknown size (its stand-in had
    one), a Keras layer of an unknown batch (no rank was set, and a Keras variable was refused)."""
    op = adjoint_tf.op(P.branch_shape, jit=False)
    with pytest.raises(Exception, match="depends on the values"):
        tf.function(lambda x, t: op(x, t))(tf.ones(4), tf.constant(2.0))
    pair = tf.function(adjoint_tf.op(P.pair_diff, jit=False), input_signature=[tf.TensorSpec([None], tf.float64)])
    assert pair(tf.constant([1.0, 2.0, 3.0, 9.0], dtype=tf.float64)).numpy() == -5.0
    keras = pytest.importorskip("keras")
    mul = adjoint_tf.op(P.mul, jit=False)

    class Scale(keras.layers.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1],), initializer="ones")

        def call(self, x):
            return mul(x, self.w)
    model = keras.Sequential([keras.Input((3,)), Scale()])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=False)
    x = np.random.default_rng(0).standard_normal((32, 3)).astype(np.float32)
    history = model.fit(x, 2.0 * x, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
