"""Every example runs (small sizes) and its own check agrees."""

import importlib.util
import os
import runpy
import sys

import numpy as np
import pytest

HERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def load(name):
    sys.path.insert(0, HERE)
    try:
        return runpy.run_path(os.path.join(HERE, name))
    finally:
        sys.path.remove(HERE)


def test_quickstart():
    assert load("quickstart.py")["main"]() == 0


def test_fit_lotka_volterra_recovers_the_parameters(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = load("fit_lotka_volterra.py")["main"](n_samples=60, plot=str(tmp_path / "fit.png"))
    np.testing.assert_allclose(result.x, [1.1, 0.4, 0.4, 0.1], rtol=0.1)
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "fit.png").stat().st_size > 10_000


def test_nbody_forces_sum_to_zero():
    forces = load("nbody_forces.py")["main"](n=32)
    np.testing.assert_allclose(forces.sum(axis=0), 0.0, atol=1e-9)  # Newton's third law


def test_custom_rule():
    assert load("custom_rule.py")["main"]()


def test_read_generated_code(capsys):
    load("read_generated_code.py")["main"]()
    out = capsys.readouterr().out
    assert "def running_product_vjp" in out and "zeros_like" in out


def test_mlp_classifier_learns_the_spirals():
    loss, accuracy = load("mlp_classifier.py")["main"](n_per_class=30, hidden=12, iterations=80, jit=False)
    assert loss < 0.5 and accuracy > 0.85


def test_mul_in_three_frameworks():
    """The Mul every framework's guide writes a backward for: adjoint's agrees with (g*b, g*a) in each
    framework installed."""
    agree = load("mul_three_frameworks.py")["main"]()
    assert all(agree.values())


def test_train_digits_rnn_learns_and_saves_its_plot(tmp_path):
    pytest.importorskip("torch", reason="PyTorch is not installed: pip install -e '.[torch]'")
    pytest.importorskip("sklearn", reason="scikit-learn is not installed: pip install -e '.[examples]'")
    pytest.importorskip("matplotlib", reason="matplotlib is not installed: pip install -e '.[examples]'")
    losses, accuracy = load("train_digits_rnn.py")["main"](epochs=3, plot_path=str(tmp_path / "loss.png"))
    assert losses[-1] < 0.5 * losses[0] and accuracy > 0.75
    assert (tmp_path / "loss.png").stat().st_size > 10_000
