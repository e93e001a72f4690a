"""The fixed cost of calling a compiled derivative (issue 19's thin call path): a gradient function's
call against calling its compiled code directly, on inputs so small that the cost is adjoint's own.

    python -m benchmarks.calls
    python -m benchmarks.calls --repeats 50 --json calls.json

Per case, microseconds a call (the median over the repeats of a batch of 1000 calls, the tools in
turn as in benchmarks/run.py):
    compiled         the Numba-compiled adjoint called with the arguments as the generated code takes them
    grad             adjoint.grad(f, jit=True)(*args)
    value_and_grad   adjoint.value_and_grad(f, jit=True)(*args)
The overhead is grad's time less the compiled code's.
"""

import argparse
import json
import math

import numpy as np

import adjoint
from adjoint.backend.dispatch import derivative

from .run import interleaved

SCALE = 2.0


def squares(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * x[i]
    return s


def mixed(x, y, a):
    s = 0.0
    for i in range(x.shape[0]):
        s += np.sin(x[i]) * y[i] + math.exp(-SCALE * a * x[i])
    return s + np.sum(x * y)


def params(p, x):
    return np.sum(np.tanh(p["w"] * x + p["b"]) ** 2)


CASES = {  # name -> (function, arguments, wrt)
    "squares, 4 elements": (squares, (np.linspace(0.1, 1.0, 4),), 0),
    "3 arguments, 2 wrt, globals": (mixed, (np.linspace(0.1, 1.0, 4), np.ones(4), 0.5), (0, 1)),
    "a dict of parameters": (params, ({"w": np.ones(4), "b": np.zeros(4)}, np.linspace(0.0, 1.0, 4)), 0),
}
BATCH = 1000


def batch(call):
    def run():
        for _ in range(BATCH):
            call()
    return run


def case(fn, args, wrt, repeats):
    g, vg = adjoint.grad(fn, wrt=wrt, jit=True), adjoint.value_and_grad(fn, wrt=wrt, jit=True)
    g(*args)
    vg(*args)
    call = adjoint.arguments.bind_call(fn, adjoint.arguments.wrt_names(fn, wrt)[0], args, {})
    d = derivative(fn, call.wrt, True, True, call.kinds, trees=call.trees)
    compiled = d.runner(d.kinds(call.values, (1.0,)))
    values = call.values
    times = interleaved({"compiled": batch(lambda: compiled(*values, 1.0)), "grad": batch(lambda: g(*args)),
                         "value_and_grad": batch(lambda: vg(*args))}, repeats)
    return {tool: t["median_s"] / BATCH * 1e6 for tool, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--json")
    opts = parser.parse_args(argv)
    rows = {}
    print(f"{'case':32} {'compiled µs':>12} {'grad µs':>9} {'value_and_grad µs':>18} {'overhead µs':>12}")
    for name, (fn, args, wrt) in CASES.items():
        r = rows[name] = case(fn, args, wrt, opts.repeats)
        print(f"{name:32} {r['compiled']:12.2f} {r['grad']:9.2f} {r['value_and_grad']:18.2f} "
              f"{r['grad'] - r['compiled']:12.2f}")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
