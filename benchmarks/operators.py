"""What a framework operator made by adjoint costs per call over calling adjoint directly, and what a
worker process pays for its first gradient when the cache folder already holds the compiled code.

    python -m benchmarks.operators                # every framework installed
    python -m benchmarks.operators --repeats 2000 --json operators.json

Per function, the median time of one forward and backward (the gradients of every array input):
    adjoint      Operator.forward then Operator.backward on NumPy arrays: what every wrapper calls
    torch        adjoint.torch.op on float64 tensors, y.sum().backward() (eager)
    jax          adjoint.jax.op under jax.jit(jax.grad(sum of the op)), float64
    tensorflow   adjoint.tensorflow.op, eager, tf.GradientTape
The overhead of a wrapper is its time less adjoint's. The worker line: a new process that imports
adjoint, unpickles adjoint.grad(f) and calls it once, with the native module an earlier process built.
"""

import argparse
import importlib.util
import json
import os
import pickle
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import operator_programs as P  # noqa: E402

from adjoint.operator import Operator  # noqa: E402

CASES = {  # name -> (function, its arguments)
    "mul, 8 elements": (P.mul, [np.linspace(0.1, 1.0, 8), np.linspace(1.0, 2.0, 8)]),
    "spring_chain, 100 masses": (P.spring_chain, [np.linspace(0.0, 120.0, 100), np.full(99, 2.0)]),
    "recurrence, 64 steps x 32": (P.recurrence, [np.random.default_rng(0).standard_normal((64, 32)), 0.7, 64]),
}


def median_us(run, repeats):
    run()
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def direct(fn, args):
    operator = Operator(fn, jit=True)
    wrt = tuple(k for k, a in enumerate(args) if isinstance(a, np.ndarray))

    def run():
        outs = operator.forward(args)
        operator.backward(args, wrt, [np.ones(np.shape(o)) for o in outs])
    return run


def with_torch(fn, args):
    import torch

    import adjoint.torch
    op = adjoint.torch.op(fn, jit=True)
    tensors = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]

    def run():
        given = [t.detach().requires_grad_() if isinstance(t, torch.Tensor) else t for t in tensors]
        op(*given).sum().backward()
    return run


def with_jax(fn, args):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    import adjoint.jax
    op = adjoint.jax.op(fn, jit=True)
    arrays = [k for k, a in enumerate(args) if isinstance(a, np.ndarray)]

    def loss(*values):
        given = list(args)
        for k, v in zip(arrays, values):
            given[k] = v
        return jnp.sum(op(*given))
    gradient = jax.jit(jax.grad(loss, argnums=tuple(range(len(arrays)))))
    values = [jnp.asarray(args[k]) for k in arrays]
    return lambda: jax.block_until_ready(gradient(*values))


def with_tensorflow(fn, args):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    import adjoint.tensorflow
    op = adjoint.tensorflow.op(fn, jit=True)
    given = [tf.constant(a) if isinstance(a, np.ndarray) else a for a in args]
    watched = [g for g in given if isinstance(g, tf.Tensor)]

    def run():
        with tf.GradientTape() as tape:
            tape.watch(watched)
            y = tf.reduce_sum(op(*given))
        tape.gradient(y, watched)
    return run


WRAPPERS = {"torch": with_torch, "jax": with_jax, "tensorflow": with_tensorflow}


WORKER = """
import time
start = time.perf_counter()
import pickle, sys
import numpy as np
import adjoint
imported = time.perf_counter()
g = pickle.loads(sys.stdin.buffer.read())
g(np.linspace(0.0, 120.0, 100), np.full(99, 2.0))
print(imported - start, time.perf_counter() - imported, "numba" in sys.modules)
"""


def worker_first_call():
    """(seconds to import adjoint, seconds to unpickle a gradient function and make its first call, whether
    Numba was imported) in a new process, the cache folder holding the function's native module."""
    import adjoint
    from adjoint.backend import cache, native
    g = adjoint.grad(P.spring_chain, jit=True)
    g(np.linspace(0.0, 120.0, 100), np.full(99, 2.0))
    for _ in range(600):  # (the native module builds in the background)
        if not native.building(cache.folder()):
            break
        time.sleep(0.5)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(P.__file__), *sys.path]))
    done = subprocess.run([sys.executable, "-c", WORKER], input=pickle.dumps(g), capture_output=True, env=env,
                          check=True)
    imported, first, numba = done.stdout.decode().split()
    return float(imported), float(first), numba == "True"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=500)
    parser.add_argument("--json", help="write the results here")
    options = parser.parse_args(argv)
    tools = [name for name in WRAPPERS if importlib.util.find_spec(name)]
    results = {}
    print(f"| function | adjoint (µs) | {' | '.join(f'{t} (µs, overhead)' for t in tools)} |")
    print("|---|---:|" + "---:|" * len(tools))
    for name, (fn, args) in CASES.items():
        row = results[name] = {"adjoint": median_us(direct(fn, args), options.repeats)}
        for tool in tools:
            row[tool] = median_us(WRAPPERS[tool](fn, args), options.repeats)
        cells = [f"{row[t]:.0f} (+{row[t] - row['adjoint']:.0f})" for t in tools]
        print(f"| {name} | {row['adjoint']:.0f} | {' | '.join(cells)} |")
    imported, first, numba = worker_first_call()
    results["worker"] = {"import adjoint (ms)": imported * 1e3, "first gradient (ms)": first * 1e3, "numba imported": numba}
    print(f"a new process: import adjoint {imported * 1e3:.0f} ms; unpickle adjoint.grad(spring_chain) and its first "
          f"call {first * 1e3:.1f} ms ({'Numba imported' if numba else 'the native module, Numba not imported'})")
    if options.json:
        with open(options.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
