"""Programs that adjoint must refuse, for tests/test_errors.py.

Each refused construct is on a line marked with a comment `# <marker>`; the tests find the line
by that marker, so this file can change without breaking them. Only refused programs live here.
"""

import numpy as np


def generator(x):
    y = x * 2.0
    yield y  # <yield>
    return y


def yield_from(x):
    yield from range(3)  # <yield-from>
    return x


def try_except(x):
    try:  # <try>
        y = np.log(x)
    except ValueError:
        y = x
    return y


def with_block(x):
    with open("/dev/null") as fh:  # <with>
        y = x * 2.0
    return y


COUNTER = 0.0


def uses_global(x):
    global COUNTER  # <global>
    COUNTER = COUNTER + 1.0
    return x * 2.0


def make_accumulator():
    total = 0.0

    def accumulate(x):
        nonlocal total  # <nonlocal>
        total = total + x
        return total * x

    return accumulate


def uses_del(x):
    y = x * 2.0
    z = y + 1.0
    del y  # <del>
    return z


async def async_function(x):  # <async>
    return x * 2.0


def class_inside(x):
    class Scaler:  # <class>
        factor = 2.0
    return x * 2.0


def import_inside(x):
    import math  # <import>
    return math.sin(x)


def import_from_inside(x):
    from math import sin  # <import-from>
    return sin(x)


def list_comprehension(x):
    ys = [x * k for k in range(3)]
    return np.sum(np.array(ys))


def set_comprehension(x):
    ys = {x * k for k in range(3)}  # <setcomp>
    return len(ys) * x


def dict_literal(x):
    d = {"a": x}
    return d["a"] * 2.0


def dict_with_a_runtime_key(x, k):
    d = {k: x}  # <dict>
    return d["a"] * 2.0


def walrus(x):
    y = (z := x * 2.0) + 1.0  # <walrus>
    return y * z


def match_statement(x):
    match x:  # <match>
        case 0.0:
            return 1.0
        case _:
            return x


def generator_expression(x):
    s = sum(x * k for k in range(3))
    return s


def set_literal(x):
    s = {x, 2.0}  # <set>
    return x * 2.0


def no_rule_function(x):
    a = x * 2.0
    w, v = np.linalg.eig(a)  # <eig>
    return np.sum(w)


def no_rule_method(x):
    y = x * 2.0
    c = y.partition(1)  # <partition>
    return np.sum(c)


def no_rule_attribute(x):
    y = x * 2.0
    r = y.real  # <real>
    return np.sum(r)


def alias_augassign(x):
    y = x
    y += 1.0  # <alias>
    return np.sum(x * y)


def alias_augassign_in_loop(x, n):
    c = x + 0.1
    s = 0.0
    for t in range(n):
        k = c
        c *= 2.0  # <loop_alias>
        s = s + np.sum(k)
    return s


def undefined_name(x):
    y = x * 2.0
    return np.sum(y * not_defined_anywhere)  # <undefined>


def undefined_function(x):
    y = x * 2.0
    return undefined_helper(y)  # <undefined-call>


def local_used_before_assigned(x):
    y = x * z  # <before-assigned>
    z = 2.0
    return y


def star_args(x, *rest):
    return x * 2.0


def _pair(a, b):
    return a * b


def starred_array(x):
    return _pair(*x)  # <starred>


def code_after_return(x):
    return x * 2.0  # <return-before-dead-code>
    y = x


def dropped_expression(x):
    np.sin(x)  # <dropped>
    return x * 2.0


def overlapping_views_written(x, k):
    u = x * 1.0
    head, tail = u[:k + 1], u[k:]  # (they share u[k])
    tail[0] = 0.5 * tail[0]  # <overlap>
    return np.sum(head * tail[:1])


def rows_of_either_end_written(A):
    B = A * 1.0
    first, last = B[0], B[-1]  # (one row when B has one)
    last[0] = 2.0  # <ends>
    return np.sum(first * last)


def loop_variable_read_after_write(A):
    B = A * 1.0
    s = 0.0
    for row in B:
        s = s + np.sum(row)
    B[1, 0] = 0.0  # <leftover>
    return s + row[0]


def view_rebound_later_in_the_loop(x, n):
    u = x * 1.0
    a, b = u[:2], u[2:]
    s = 0.0
    for t in range(n):
        b[0] = b[0] * 0.5  # <rebound>
        s = s + np.sum(a)
        a = u[1:]  # (from the second run on, a shares u[2] with b)
    return s


def view_carried_into_the_next_write(M, n):
    A = M * 1.0
    w = np.zeros(M.shape[1]) + 0.1
    s = 0.0
    for t in range(n):
        A[t % 2, :] = A[t % 2, :] * 0.9 + w * 0.1  # <carried>
        w[::2] *= 0.9  # (from the second run on, this writes into A)
        s = s + np.sum(A)
        w = A[t % 2, :]
    return s
