"""Shrunk programs that the random programs of tests/random_programs.py found failing, kept as
regression tests (tests/test_random.py::test_regression runs each through the three oracles).

Each case is plain module source, the arguments, `wrt`, whether the jit oracle runs, the oracle
that failed and what was wrong when it was found. `xfail` names a bug that is still open (the
test then must fail: strict xfail).
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Regression:
    name: str
    source: str
    function: str
    args: tuple
    wrt: tuple
    found: str  # the oracle that failed, expected against got
    jit: bool = False
    supported: bool = False  # README says adjoint differentiates it: a refusal fails the test too
    xfail: str = ""


X3 = np.array([0.358, 0.621, -0.218])
W3 = np.array([[0.461, 0.052, -0.799], [-0.635, -0.847, 0.418], [-0.329, -0.535, -0.232]])


def _module(body, header=""):
    return "import math\n\nimport numpy as np\n" + (f"\n{header}" if header else "") + "\n\n" + body


CASES = [
    Regression(
        name="dead_store_sqrt_in_loop",
        found="crash (reverse): ZeroDivisionError in the adjoint of the dead store `u0 = math.sqrt(1.0 + ...)`, "
              "overwritten by the next statement (tests/fuzz_programs.py program('scalar', 595), ADJOINT_FUZZ=1000)",
        function="scalar_595",
        args=(-0.545, -0.359, 4, np.array([0.35, 0.379, -0.277, -0.327])),
        wrt=(0, 1, 3),
        source='''\
import math

import numpy as np


def scalar_595(x, y, n, v):
    s = 0.0
    p = 1.0
    acc = np.zeros(3)
    b1 = 0.0
    u0 = 0.0
    for i in range(n):
        if i % 2 == 0:
            v[i % 4] += math.exp(0.1 * math.sin(u0 / (1.0 + p * p)))
            s = s + 1.5
            b1 = u0 + acc[0] + s / 1.5
        else:
            b1 = b1 * 1.5 + s * s
        u0 = math.sqrt(1.0 + (i + 1) + u0 * (i + 1) + u0)
        t1 = p
        k = 0
        while k < 2:
            t2 = s
            t3 = u0
            k += 1
        u0 = math.exp(-v[i % 4] * v[i % 4])
        t4 = (u0 * 0.5 - 3.0 / (1.0 + x * x))
        t5 = math.sin(t1 * t1)
        s = s + math.sqrt(1.0 + v[0] * v[0]) * 1.5
    return -p + 2.0 * acc[0] + -x + v[1] + -b1
'''),

    # found by tests/random_programs.py (shrunk, then by hand where a smaller program fails the same way)
    Regression(
        name="np_sum_keyword_a",
        found="crash (reverse): IndexError in adjoint/specialize.py visit_Call (args[0]) when the array is passed as "
              "`a=`; loops 65",
        function="f", args=(X3,), wrt=(0,),
        source=_module("def f(x):\n    return np.sum(a=x * x)\n")),
    Regression(
        name="np_cumsum_keyword_a_axis",
        found="crash (reverse): IndexError in adjoint/kinds.py call (kinds[0]) for np.cumsum(a=..., axis=0); loops 3",
        function="f", args=(X3,), wrt=(0,),
        source=_module("def f(x):\n    return np.sum(np.cumsum(a=x, axis=0) ** 2)\n")),
    Regression(
        name="np_max_keyword_a_axis",
        found="crash (reverse): IndexError in adjoint/kinds.py call (kinds[0] - reduced) for np.max(a=..., axis=0); "
              "rules 6",
        function="f", args=(W3,), wrt=(0,),
        source=_module("def f(W):\n    return np.sum(np.max(a=W, axis=0) ** 2)\n")),
    Regression(
        name="np_clip_keyword_a_times_sum",
        found="wrong (reverse, vjp): np.sum(Q) * np.clip(a=..., ...): Q's gradient is not summed over the output "
              "(expected 0.4438 everywhere, got [0.088, -0.092, 0.448] per row; the positional np.clip is right); "
              "loops 22, where it first crashed in np.full(Q.shape, sum_bar)",
        function="f", args=(np.arange(6.0).reshape(2, 3) * 0.1,), wrt=(0,),
        source=_module("def f(Q):\n    return np.sum(Q) * np.clip(a=np.ones(3), a_min=-0.6, a_max=0.7)\n")),
    Regression(
        name="np_clip_keyword_a_times_element",
        found="crash (reverse, vjp): ValueError: setting an array element with a sequence, for x[0] * np.clip(a=...)",
        function="f", args=(X3,), wrt=(0,),
        source=_module("def f(x):\n    return x[0] * np.clip(a=np.ones(3), a_min=-0.6, a_max=0.7)\n")),
    Regression(
        name="int_array_augassign_repeated_index",
        found="wrong (reverse, vjp): buf[[0, 0]] += W[1:3] adds W[2] only (NumPy's buffered +=), the adjoint gave "
              "both rows a gradient (forward and central differences agree with NumPy); rules 1, 6, loops 68",
        function="f", args=(W3, np.array([0.267, -0.427, 0.106])), wrt=(0, 1),
        source=_module("def f(W, y):\n    buf1 = np.zeros((3, 3))\n    buf1[np.array([0, 0])] += W[1:3]\n"
                       "    return np.sum(buf1) * y\n")),
    Regression(
        name="int_array_augassign_repeated_index_in_loop",
        found="wrong (forward vs reverse): the same in a loop over rows; loops 68",
        function="f", args=(np.array([[0.416, 0.729, 0.913, 0.125], [0.043, -0.305, 0.504, -0.741]]),
                            np.array([0.772, -0.201])), wrt=(0, 1),
        source=_module("def f(W, x):\n    for i, r1 in enumerate(W):\n        buf2 = np.empty(2)\n"
                       "        buf2[:] = x\n        buf2[np.array([0, 0, 1])] += r1[1:4]\n"
                       "    return np.mean(np.sin(buf2))\n")),
    Regression(
        name="slice_assignment_of_itself",
        found="wrong (reverse): buf1[:] = buf1 makes the gradient zero (expected 2 * x, got 0); loops 7",
        function="f", args=(np.array([0.416, 0.729, 0.913, 0.125]),), wrt=(0,),
        source=_module("def f(x):\n    buf1 = x * 1.0\n    buf1[:] = buf1\n    return np.sum(buf1 ** 2)\n")),
    Regression(
        name="forward_inplace_multiply_of_a_copy",
        found="wrong (forward): y1 = x + 0.0; y1[1] *= 1.5: the tangent is wrong (central differences and the "
              "reverse mode agree); loops 94",
        function="f", args=(X3,), wrt=(0,),
        source=_module("def f(x):\n    y1 = x + 0.0\n    y1[1] *= 1.5\n    return np.sum(y1) + np.sum(x)\n")),
    Regression(
        name="isinstance_in_conditional_expression",
        found="wrong (value, reverse, forward): `a if isinstance(a, float) else 2.0 * a` takes the else branch in "
              "both generated functions (value -1.908 for -0.954, gradient 2 for 1); loops 215 (numba variant)",
        function="f", args=(-0.954,), wrt=(0,),
        source=_module("def f(a):\n    return a if isinstance(a, float) else 2.0 * a\n")),
    Regression(
        name="isinstance_in_conditional_expression_element_write",
        found="wrong (value, reverse, forward): the program the generator found; loops 215 (numba variant)",
        function="loops_215", args=(np.array([0.336, 0.658]), np.array([[-0.083, 0.551, -0.79, -0.891, -0.41],
                                                                       [0.903, 0.669, -0.633, 0.821, 0.088]]), -0.954),
        wrt=(0, 1, 2),
        source=_module("def loops_215(x, W, a):\n    buf4 = np.zeros((2, 5))\n"
                       "    buf4[0:] += 1.0 if isinstance(1.0, float) else math.atan2(1.0, 2.0 + math.cos(a))\n"
                       "    return np.sum(buf4, axis=-1)\n")),
    Regression(
        name="module_constant_in_conditional_expression_forward",
        found="crash (forward): NameError: name 'GAIN_dot' is not defined, for `b = a if a > 0.3 else GAIN` with "
              "GAIN a module-level float; loops 14",
        function="f", args=(0.606,), wrt=(0,),
        source=_module("def f(a):\n    b = a if a > 0.3 else GAIN\n    return b * np.sum(GAIN * np.ones(3))\n",
                       "GAIN = 1.5\n")),
    Regression(
        name="while_branch_conditional_reassignment",
        found="crash (reverse): UnboundLocalError: cannot access local variable 'h1_1' in the generated reverse "
              "sweep; rules 37",
        function="rules_37", args=(np.array([0.986, 0.586, 0.396, -0.04, -0.061]), 5), wrt=(0,),
        source=_module("""\
def rules_37(x, n):
    k1 = 0
    while k1 < 4:
        h1 = x * np.ones((3, 5))
        h1 = np.concatenate([x.reshape((1, 5)), h1[1:3]])
        if n % 2 == 0:
            h1 = h1 if x.min(0) < 0.2 else np.minimum(1.0 * np.ones((1, 5)), 1.0 * np.ones((3, 1)))
        k1 = k1 + 1
    return np.sum(h1)
""")),
    Regression(
        name="continue_alone_in_a_loop_in_an_else",
        found="refused (reverse): SourceError: `Continue` cannot be differentiated, for a loop whose body is only "
              "`continue`, in an else branch (README: continue is supported); loops 214 (numba variant)",
        function="f", args=(np.array([0.07, 0.613, -0.506, -0.158]), 0.481), wrt=(0, 1), supported=True,
        source=_module("def f(x, a):\n    if a < 0.2:\n        pass\n    else:\n        for j, r1 in enumerate(x):\n"
                       "            continue\n    return a * 2.0\n")),
    Regression(
        name="np_dot_with_3d_second_argument",
        found="wrong (reverse): np.dot(A, B) with B of 3 dimensions (known class; the generator draws "
              "np.dot((b, k), (m, k, q)))",
        function="f", args=(np.array([[0.461, -0.635], [0.052, -0.847], [-0.799, 0.418]]),
                            np.array([[[0.1, 0.2], [-0.7, 0.8]], [[0.3, -0.4], [0.9, 0.15]],
                                      [[0.5, 0.6], [0.25, -0.35]]])), wrt=(0, 1),
        source=_module("def f(A, B):\n    return np.sum(np.dot(A, B) ** 2)\n")),
    # known classes the task named (each fixed or refused by now): kept so that they stay so
    Regression(
        name="loop_invariant_assignment_read_after_the_loop",
        found="wrong (reverse): an assignment in a loop whose target the loop does not read got its adjoint once "
              "per trip",
        function="f", args=(X3, 3), wrt=(0,), supported=True,
        source=_module("def f(x, n):\n    t = 0.0\n    for i in range(n):\n        t = 0.5 * np.sum(x)\n"
                       "    return t\n")),
    Regression(
        name="integer_array_index_of_an_intermediate",
        found="wrong (reverse): logp[np.arange(n), labels] of an intermediate array gave a zero gradient",
        function="f", args=(X3, W3[:2]), wrt=(0, 1), supported=True,
        source=_module("def f(x, W):\n    logp = W * x\n    return np.sum(logp[np.arange(2), np.array([2, 0])])\n")),
    Regression(
        name="copy_sliced_with_newaxis",
        found="wrong (reverse): y = x.copy(); y[0:2, np.newaxis] dropped the copy's adjoint",
        function="f", args=(X3,), wrt=(0,), supported=True,
        source=_module("def f(x):\n    y = x.copy()\n    return np.sum(y[0:2, np.newaxis] * x)\n")),
    Regression(
        name="chained_assignment",
        found="crash (reverse): a = b = expr",
        function="f", args=(X3,), wrt=(0,), supported=True,
        source=_module("def f(x):\n    a = b = x * 2.0\n    return np.sum(a * b)\n")),
    Regression(
        name="linspace_of_differentiated_ends",
        found="wrong (reverse): np.linspace(x, y, n) gave zero gradients (now refused)",
        function="f", args=(X3, 0.7), wrt=(0, 1),
        source=_module("def f(x, a):\n    return np.sum(np.linspace(x[0], a, 4) ** 2)\n")),
    Regression(
        name="nested_array_literal",
        found="wrong (reverse): np.array([[a, b], [c, d]]) of differentiated numbers gave zero (now refused)",
        function="f", args=(X3, 0.7), wrt=(0, 1),
        source=_module("def f(x, a):\n    M = np.array([[a, x[0]], [x[1], 2.0 * a]])\n    return np.sum(M @ M)\n")),
]
