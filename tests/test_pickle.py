"""Derivative functions travel: grad, value_and_grad, jacobian and hessian of a module-level
function, and @differentiate functions, pickle by reference and run in worker processes."""

import multiprocessing
import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pickle_programs as P
import pytest

import adjoint

X = np.linspace(-1.0, 1.0, 5)


@pytest.mark.parametrize("make", [adjoint.grad, adjoint.value_and_grad, adjoint.jacobian, adjoint.hessian,
                                  lambda f: adjoint.grad(adjoint.grad(f))])
def test_a_derivative_function_pickles_as_its_call(make):
    made = make(P.loss)
    again = pickle.loads(pickle.dumps(made))
    assert np.allclose(np.hstack([again(0.3, X)]), np.hstack([made(0.3, X)]))
    assert again.__name__ == "loss"


def test_a_pullback_pickles_as_vjp_at_its_point():
    x = X.copy()
    _, pullback = adjoint.vjp(P.loss, 0.3, x, wrt=(0, 1))
    x[:] = 0.0  # (the point is the arguments as vjp had them, not as they are when pickled)
    again = pickle.loads(pickle.dumps(pullback))
    assert all(np.allclose(a, b) for a, b in zip(again(2.0), pullback(2.0)))
    assert not np.allclose(pullback(2.0)[1], 0.0)


def test_options_travel_with_it():
    made = adjoint.grad(P.loss, wrt="x", jit=False)
    again = pickle.loads(pickle.dumps(made))
    assert np.allclose(again(0.3, X), made(0.3, X))
    assert again._call[2] == {"wrt": "x", "jit": False}


def test_a_decorated_function_pickles_by_name():
    again = pickle.loads(pickle.dumps(P.decorated))
    assert again is P.decorated
    assert np.allclose(pickle.loads(pickle.dumps(adjoint.grad(P.decorated)))(0.3, X), P.decorated.grad(0.3, X)[0])


def test_a_lambda_does_not_pickle():
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(adjoint.grad(lambda w: w * 2.0))


def test_gradients_run_in_worker_processes():
    g = adjoint.grad(P.loss)
    ws = [0.1, 0.2, 0.3]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:  # (not fork: pytest's
        # workers run threads)
        remote = list(pool.map(g, ws, [X] * 3))
    assert np.allclose(remote, [g(w, X) for w in ws])


def test_a_differentiate_object_keeps_its_options():
    """One made of a function another @differentiate object wraps (found by a review: it came back as
    that other one, with its wrt)."""
    by_y = adjoint.differentiate(P.decorated.fn, wrt="x")
    again = pickle.loads(pickle.dumps(by_y))
    assert again.wrt == "x" and np.allclose(again.grad(0.3, X), by_y.grad(0.3, X))
    plain = pickle.loads(pickle.dumps(adjoint.differentiate(P.two_inputs, wrt=1)))
    assert plain.wrt == 1 and np.isclose(plain.grad(2.0, 3.0), 12.0)


SCRIPT = '''
import pickle, sys
import numpy as np
import adjoint

def energy(q):
    total = 0.0
    for i in range(q.shape[0] - 1):
        total += (q[i + 1] - q[i]) ** 2
    return total

if __name__ == "__main__":
    sys.stdout.buffer.write(pickle.dumps([adjoint.grad(energy), adjoint.differentiate(energy)]))
'''


def test_a_scripts_function_travels_to_a_process_with_another_main(tmp_path):
    """A function of a script (module __main__), in a process whose main is not that script (a Dask
    worker's): found again by importing the script's file, whose `__main__` block does not run."""
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    sent = subprocess.run([sys.executable, str(script)], capture_output=True, check=True).stdout
    load = ("import pickle, sys, numpy as np; g, d = pickle.loads(sys.stdin.buffer.read()); "
            "print(g(np.array([0.0, 1.0, 3.0])), d.grad(np.array([1.0, 1.0])))")
    out = subprocess.run([sys.executable, "-c", load], input=sent, capture_output=True, check=True).stdout
    assert out.decode().split() == ["[-2.", "-2.", "4.]", "[0.", "0.]"]


def test_gradients_run_in_joblib_workers():
    """joblib's loky workers (cloudpickle, which sends a script's functions by value: adjoint's derivative
    functions go by reference all the same)."""
    joblib = pytest.importorskip("joblib", reason="joblib is not installed")
    g = adjoint.grad(P.loss)
    remote = joblib.Parallel(n_jobs=2, backend="loky")(joblib.delayed(g)(w, X) for w in (0.1, 0.2))
    assert np.allclose(remote, [g(0.1, X), g(0.2, X)])
