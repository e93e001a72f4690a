"""Seeded random loop programs for the fuzz test (tests/test_fuzz.py).

`program(family, seed)` writes one Python function as the text of a module, together with its
arguments and which of them to differentiate. The same (family, seed) always gives the same
program: only `random.Random` is used, seeded by the string "family-seed".

Two families:

- "scalar": floats x, y, s, p carried through `for i in range(n)`, with inner `for j` and
  `while k` loops, `if i % 2 == 0` branches with an `else`, `continue` and `break`, element
  updates `acc[i % 3] += ...` of a local array (and `v[i % 4] += ...` of an argument), and
  expressions built from + - * /, math.sin, math.exp and math.sqrt.
- "array": vectors h, c, g, q, buf (4 elements), a 4x4 matrix W and floats s, x, z, e carried
  through `for t in range(n)`: np.tanh(W @ h + v), slices and slice writes, element writes
  `buf[t % 4] = ...`, in-place `buf *= 0.5`, row views `W[t % 4]`, reductions with axis=,
  np.where, np.maximum, np.clip, np.outer, branches, and sometimes an inner `for j in range(4)`.

The statement pools are the data below; the generators only pick from them and fill in names.
np.mean(..., axis=...) is left out of the array pool: Numba does not support it (a known
limitation of the jit path, not of the derivative).
"""

import random
from dataclasses import dataclass

import numpy as np

FAMILIES = ("scalar", "array")


@dataclass(frozen=True)
class Program:
    """One generated program: `source` is a whole module defining the function `name`."""

    family: str
    seed: int
    source: str
    name: str
    args: tuple  # the arguments; arrays are copied by make_args, since programs write into them
    wrt: tuple

    def make_args(self):
        """Fresh arguments (the programs write into their array arguments)."""
        return tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in self.args)

    def describe_args(self):
        """The arguments as Python source, to paste into a reproduction."""
        return ", ".join(f"np.array({a.tolist()!r})" if isinstance(a, np.ndarray) else repr(a)
                         for a in self.args)


def program(family, seed):
    """The program of `family` ("scalar" or "array") for `seed`."""
    rng = random.Random(f"{family}-{seed}")
    name = f"{family}_{seed}"
    if family == "scalar":
        return _scalar_program(rng, seed, name)
    if family == "array":
        return _array_program(rng, seed, name)
    raise ValueError(f"unknown family {family!r}; choose one of {FAMILIES}")


# ----------------------------------------------------------------------------------------------
# The scalar family
# ----------------------------------------------------------------------------------------------

SCALAR_HEADER = "import math\n\nimport numpy as np\n"

CONSTANTS = ("0.5", "1.5", "2.0", "0.3", "0.1", "3.0", "0.7")

# Expression forms: {a} and {b} are subexpressions, {c} a constant. Every form stays finite on
# finite operands except through growth (products of large numbers).
SCALAR_FORMS = (
    "{a} + {b}",
    "({a} - {b})",
    "{a} * {b}",
    "{a} / (1.0 + {b} * {b})",
    "math.sin({a})",
    "math.exp(-{a} * {a})",
    "math.sqrt(1.0 + {b} * {b})",
    "math.exp(0.1 * math.sin({a}))",
    "{a} / {c}",
    "({a} * {c} - {b})",
)

# Atoms that read a loop counter {q} (an int) or an element of acc (local) or v (the argument).
COUNTER_READS = ("{q}", "({q} + 1)", "float({q})", "{q} * 0.5")
ACC_READS = ("acc[1]", "acc[{q} % 3]", "acc[0]")
V_READS = ("v[1]", "v[{q} % 4]", "v[0]", "v[({q} + 1) % 4]")

# Statement kinds and their weights (the methods of _ScalarWriter of the same name). A kind that
# does not apply where it is drawn (a branch outside the i loop, a loop inside a loop, ...)
# becomes a "temp" statement.
SCALAR_STATEMENTS = {
    "copy": 2,          # t3 = y
    "temp": 3,          # t4 = <expr>
    "rescale": 1,       # t3 = t3 * <expr>           (a temp written twice in one iteration)
    "relax": 2,         # x = 0.8 * x + 0.3 * <expr>
    "carry": 1,         # s = s + <expr>  or  p = p * (1.0 + 0.1 * math.sin(<expr>))
    "branch": 1,        # if i % 2 == 0: ... b1 = <expr> [else: b1 = b1 * c + <expr>]
    "acc_add": 1,       # acc[i % 3] += <expr>
    "v_add": 1,         # v[j % 4] += <expr>            (acc[1] += ... when there is no v)
    "inner_loop": 1,    # for j in range(2): ...   or   k = 0; while k < 2: ...; k += 1
    "jump": 0.35,       # if i == 2: continue       or   if i == 3: break
    "augmented": 0.5,   # x += <expr>,  s -= <expr>,  y *= (1.0 + 0.1 * math.sin(<expr>))
    "pre_temp": 0.5,    # u0 = <expr>                   (u0 is set before the loop, returned)
    "swap": 0.6,        # t5 = x; x = 0.5 * y + 0.3 * <expr>; [y = t5]
}
DECAYS = ("0.5", "0.8", "0.9")
GAINS = ("0.3", "0.5")
RETURN_SCALES = ("", "0.5 * ", "2.0 * ", "-")


class _ScalarWriter:
    """Writes one scalar loop function; `names` in each method are the floats defined there."""

    def __init__(self, rng, with_v):
        self.rng = rng
        self.with_v = with_v
        self.temps = 0
        self.branch_names = []  # set in a branch, so initialised before the loop
        self.pre_temps = []     # initialised before the loop, set in it, returned

    # expressions

    def atom(self, names, counters):
        r = self.rng
        u = r.random()
        if u < 0.12:
            return r.choice(CONSTANTS)
        if u < 0.2:
            return r.choice(COUNTER_READS).format(q=r.choice(counters))
        if u < 0.3:
            return r.choice(ACC_READS + (V_READS if self.with_v else ())).format(q=r.choice(counters))
        return r.choice(names[-3:] if r.random() < 0.5 else names)  # favour the latest names

    def expr(self, names, counters, depth=0):
        if depth >= 2 or self.rng.random() < 0.25:
            return self.atom(names, counters)
        a = self.expr(names, counters, depth + 1)
        b = self.expr(names, counters, depth + 1)
        return self.rng.choice(SCALAR_FORMS).format(a=a, b=b, c=self.rng.choice(CONSTANTS))

    def new_temp(self):
        self.temps += 1
        return f"t{self.temps}"

    # statements: each returns its lines (indented by `pad`), or None if it does not apply

    def copy(self, pad, names, counters, depth, loop):
        t = self.new_temp()
        lines = [f"{pad}{t} = {self.rng.choice(names)}"]
        names.append(t)
        return lines

    def temp(self, pad, names, counters, depth, loop):
        t = self.new_temp()
        lines = [f"{pad}{t} = {self.expr(names, counters)}"]
        names.append(t)
        return lines

    def rescale(self, pad, names, counters, depth, loop):
        temps = [n for n in names if n.startswith("t")]
        if not temps:
            return None
        t = self.rng.choice(temps)
        return [f"{pad}{t} = {t} * {self.expr(names, counters)}"]

    def relax(self, pad, names, counters, depth, loop):
        r = self.rng
        c = r.choice(("x", "y"))
        return [f"{pad}{c} = {r.choice(DECAYS)} * {c} + {r.choice(GAINS)} * {self.expr(names, counters)}"]

    def carry(self, pad, names, counters, depth, loop):
        if self.rng.random() < 0.5:
            return [f"{pad}s = s + {self.expr(names, counters)}"]
        return [f"{pad}p = p * (1.0 + 0.1 * math.sin({self.expr(names, counters)}))"]

    def branch(self, pad, names, counters, depth, loop):
        if loop != "i":
            return None
        r = self.rng
        b = f"b{len(self.branch_names) + 1}"
        self.branch_names.append(b)
        lines = [f"{pad}if i % 2 == 0:"]
        if r.random() < 0.6:
            lines += self.body(pad + "    ", names, counters, r.randint(2, 4), 1, "if")
        lines.append(f"{pad}    {b} = {self.expr(names, counters)}")
        if r.random() < 0.5:
            lines.append(f"{pad}else:")
            lines.append(f"{pad}    {b} = {b} * {r.choice(CONSTANTS)} + {self.expr(names, counters)}")
        names.append(b)
        return lines

    def acc_add(self, pad, names, counters, depth, loop):
        return [f"{pad}acc[{self.rng.choice(counters)} % 3] += {self.expr(names, counters)}"]

    def v_add(self, pad, names, counters, depth, loop):
        if not self.with_v:
            return [f"{pad}acc[1] += {self.expr(names, counters)}"]
        return [f"{pad}v[{self.rng.choice(counters)} % 4] += {self.expr(names, counters)}"]

    def inner_loop(self, pad, names, counters, depth, loop):
        if depth != 0:
            return None
        r = self.rng
        if r.random() < 0.6:
            return ([f"{pad}for j in range(2):"]
                    + self.body(pad + "    ", names, counters + ["j"], r.randint(1, 3), 1, "j"))
        return ([f"{pad}k = 0", f"{pad}while k < 2:"]
                + self.body(pad + "    ", names, counters + ["k"], r.randint(1, 3), 1, "k")
                + [f"{pad}    k += 1"])

    def jump(self, pad, names, counters, depth, loop):
        if depth != 0:
            return None
        if self.rng.random() < 0.5:
            return [f"{pad}if i == {self.rng.randint(1, 3)}:", f"{pad}    continue"]
        return [f"{pad}if i == {self.rng.randint(2, 4)}:", f"{pad}    break"]

    def augmented(self, pad, names, counters, depth, loop):
        r = self.rng
        c = r.choice(("x", "y", "s"))
        op = r.choice(("+=", "-=", "*="))
        e = self.expr(names, counters)
        if op == "*=":
            e = f"(1.0 + 0.1 * math.sin({e}))"
        return [f"{pad}{c} {op} {e}"]

    def pre_temp(self, pad, names, counters, depth, loop):
        if not self.pre_temps:
            return None
        u = self.rng.choice(self.pre_temps)
        lines = [f"{pad}{u} = {self.expr(names, counters)}"]
        names.append(u)
        return lines

    def swap(self, pad, names, counters, depth, loop):
        r = self.rng
        t = self.new_temp()
        c = r.choice(("x", "y"))
        other = "y" if c == "x" else "x"
        lines = [f"{pad}{t} = {c}",
                 f"{pad}{c} = {r.choice(DECAYS[:2])} * {other} + 0.3 * {self.expr(names + [t], counters)}"]
        if r.random() < 0.5:
            lines.append(f"{pad}{other} = {t}")
        names.append(t)
        return lines

    def body(self, pad, names, counters, count, depth, loop):
        """`count` statements; names defined here are visible only after them, in this block."""
        names = list(names)
        kinds, weights = zip(*SCALAR_STATEMENTS.items())
        lines = []
        for _ in range(count):
            kind = self.rng.choices(kinds, weights)[0]
            lines += (getattr(self, kind)(pad, names, counters, depth, loop)
                      or self.temp(pad, names, counters, depth, loop))
        return lines

    def function(self, name):
        r = self.rng
        params = "x, y, n, v" if self.with_v else "x, y, n"
        self.pre_temps = [f"u{k}" for k in range(r.randint(0, 2))]
        loop = self.body("        ", ["x", "y", "s", "p"] + self.pre_temps, ["i"], r.randint(3, 8), 0, "i")
        head = [f"def {name}({params}):", "    s = 0.0", "    p = 1.0", "    acc = np.zeros(3)"]
        head += [f"    {b} = 0.0" for b in self.branch_names + self.pre_temps]
        head.append("    for i in range(n):")
        results = ["x", "y", "s", "p"] + self.pre_temps + self.branch_names + ["acc[0]", "acc[1]", "acc[2]"]
        if self.with_v:
            results += ["v[0]", "v[1]"]
        terms = [r.choice(RETURN_SCALES) + t for t in r.sample(results, r.randint(2, min(5, len(results))))]
        if r.random() < 0.3:
            terms.append("x * y")
        return "\n".join(head + loop + ["    return " + " + ".join(terms)]) + "\n"


def _scalar_program(rng, seed, name):
    with_v = rng.random() < 0.3
    text = _ScalarWriter(rng, with_v).function(name)
    x, y = round(rng.uniform(-0.8, 0.8), 3), round(rng.uniform(-0.8, 0.8), 3)
    n = rng.choice((4, 5, 17))
    args = (x, y, n)
    if with_v:
        args += (np.array([round(rng.uniform(-0.5, 0.5), 3) for _ in range(4)]),)
    wrt = (0, 1, 3) if with_v else (0, 1)
    return Program("scalar", seed, f"{SCALAR_HEADER}\n\n{text}", name, args, wrt)


# ----------------------------------------------------------------------------------------------
# The array family
# ----------------------------------------------------------------------------------------------

ARRAY_HEADER = "import numpy as np\n"

# Before the loop: every name a statement may read is defined, with its final shape.
ARRAY_PROLOGUE = """\
h = v * 0.5
c = v + 0.1
g = v * 0.0 + 0.5
k = h
a = h[1:]
b = W[0]
q = np.zeros(4)
buf = np.zeros(4)
s = 0.0
x = 0.0
z = 0.0
e = 0.0"""

ARRAY_RESULT = "np.sum(h * h) + s + np.sum(buf)"

# Statements of the `for t in range(n)` body (a statement may span lines).
ARRAY_STATEMENTS = (
    "h = np.tanh(W @ h + v)",
    "g = 1.0 / (1.0 + np.exp(-h))",
    "c = g * c + (1.0 - g) * h",
    "k = h.copy()",
    "k = c * 1.0",
    "s = s + np.sum(k * g)",
    "a = h[1:] * 1.0",
    "s = s + np.sum(a * c[:3])",
    "b = W[t % 4]",
    "h = h + 0.1 * b",
    "s = s + np.sum(b * c)",
    "h = h * 0.9 + c * 0.1",
    "c = c * 0.5 + 0.2 * h * g",
    "g = g * h - 0.3",
    "h = 0.5 * np.sum(W * h, axis=1)",
    "c = np.tanh(np.sum(W * c, axis=1) + h)",
    "s = s + np.mean(c)",
    "s = s + 0.1 * np.sum(h)",
    "buf[t % 4] = np.sum(h * c)",
    "buf[t % 4] = buf[t % 4] + np.sum(g * h)",
    "buf[1:3] = h[:2] * 0.5",
    "buf[:2] = buf[2:] * 0.5 + c[1:3]",
    "x = x + np.sum(h * h) * 0.1",
    "x = x + s * 0.1",
    "s = s + x * 0.05",
    "h = h + x * 0.01",
    "c = c * (1.0 + 0.1 * x)",
    "if t % 2 == 0:\n    z = np.sum(h * c)\n    q = h * 2.0",
    "if t % 2 == 0:\n    z = z + np.mean(g)\nelse:\n    q = c + 0.5",
    "if t % 2 == 0:\n    q = g * h\n    k = q * 1.0",
    "s = s + z * 0.3",
    "h = h + 0.1 * q",
    "c = c + 0.2 * q * h",
    "s = s + np.sum(buf * h) * 0.1",
    "h = np.tanh(h + buf * 0.1)",
    "c += 0.1 * h",
    "h *= 0.9",
    "k = h.copy()",
    "h = k * 0.5 + h",
    "a = c[1:] * 1.0\ns = s + np.sum(a * h[:3])",
    "W2 = W * 0.1\nh = np.tanh(W2 @ c + h)",
    "u = W.T @ h\ns = s + np.sum(u * g)",
    "k = h\nh = np.tanh(W @ h + v)\ns = s + np.sum(k * h)",
    "a = buf[1:] * 0.5 + h[:3]",
    "e = buf[t % 4]",
    "s = s + e * 0.5",
    "s = s + np.sum(a * a)",
    "buf[t % 4] += np.mean(h)",
    "buf *= 0.5",
    "buf[::2] = c[1::2] * h[::2]",
    "buf[-1] = buf[0] * h[-1]",
    "q[:] = h * c",
    "q = np.where(h > 0.0, h, 0.1 * h)",
    "c = np.maximum(c, h)",
    "h = np.clip(h + c, -0.8, 0.8)",
    "s = s + np.sum(np.sum(W, axis=0) * h)",
    "W = W + 0.1 * np.outer(h, c)",
    "v = v * 0.9 + 0.1 * c",
    "if np.sum(h) > 0.0:\n    z = np.sum(h * g)\n    b = W[(t + 1) % 4]",
    "if t % 2 == 0:\n    a = h[1:] + 0.0\nelse:\n    a = c[:3] * 2.0",
    "if t % 2 == 0:\n    k = h + 0.0\nelse:\n    k = c + 0.0",
    "m2 = W[:, t % 4]\nc = c + 0.1 * m2 * h",
    "W[t % 4, t % 4] = W[t % 4, t % 4] * 0.5 + np.sum(h)",
    "v[t % 4] = v[t % 4] + 0.1 * np.sum(c)",
    "buf[1:3] += h[2:] * c[:2]",
    "x = x * 0.9 + np.sum(buf) * 0.1",
    "hs = h[None, :] * W\ns = s + np.sum(hs.T @ c)",
    "M = np.outer(h, c)\nh = np.tanh(np.sum(M * W, axis=0) + v)",
    "if t % 2 == 0:\n    x = x + np.sum(h * c)\n    buf[(t + 1) % 4] = x * 0.1",
    "if t % 3 == 1:\n    c = c * 0.5\n    s = s + np.sum(c * g)",
    "h = np.tanh(W @ h + v + buf * 0.2)",
    "c = c + np.sum(W * c[:, None], axis=0) * 0.1",
    "s = s + np.mean(W @ W @ h)",
    "buf[t % 4:] = buf[t % 4:] * 0.5 + h[t % 4:]",
    "s = s + np.sum(buf[t % 4:]) * np.sum(h)",
    "y2 = np.sum(W[1:3] * h, axis=1)\ns = s + np.sum(y2 * c[1:3])",
)

# Further statements for the body of an inner `for j in range(4)`: they index with j.
ARRAY_INNER_STATEMENTS = ARRAY_STATEMENTS + (
    "buf[j] = buf[j] + h[j] * c[j]",
    "s = s + h[j] * g[j]",
    "x = x + W[j, t % 4] * h[j]",
    "s = s + np.sum(W[j] * c) * 0.1",
    "c[j] = c[j] * 0.5 + h[j]",
    "buf[j] = np.sum(W[j] * h)",
    "h[j] = np.tanh(h[j] + v[j])",
    "s = s + buf[j] * x * 0.01",
    "buf[j] += h[j] * 0.5",
    "q[j] = h[(j + 1) % 4] * c[j]",
    "s = s + np.sum(W[:, j] * h) * q[j]",
    "b = W[j]\ns = s + np.sum(b * h) * 0.1",
    "if j % 2 == 0:\n    z = z + h[j] * c[j]",
    "if h[j] > 0.0:\n    buf[j] = buf[j] + h[j]",
    "e = buf[j]\nbuf[j] = e * 0.5 + h[j]\ns = s + e",
)


def _indent(statement, pad):
    return [pad + line for line in statement.split("\n")]


def _array_program(rng, seed, name):
    count = rng.randint(3, 7)
    inner_at = rng.randrange(count + 1) if rng.random() < 0.4 else -1  # where `for j` goes, if any
    loop = []
    for position in range(count + 1):
        if position == inner_at:
            loop.append("        for j in range(4):")
            for _ in range(rng.randint(1, 3)):
                loop += _indent(rng.choice(ARRAY_INNER_STATEMENTS), " " * 12)
        if position < count:
            loop += _indent(rng.choice(ARRAY_STATEMENTS), " " * 8)
    lines = ([f"def {name}(v, W, n):"] + _indent(ARRAY_PROLOGUE, "    ")
             + ["    for t in range(n):"] + loop + [f"    return {ARRAY_RESULT}"])
    v = np.array([round(rng.uniform(-0.5, 0.5), 4) for _ in range(4)])
    W = np.array([[round(rng.gauss(0.0, 0.4), 4) for _ in range(4)] for _ in range(4)])
    n = rng.choice((3, 5))
    source = ARRAY_HEADER + "\n\n" + "\n".join(lines) + "\n"
    return Program("array", seed, source, name, (v, W, n), (0, 1))
