"""Containers and names that share an array, where a write or an update through one must be seen
through the others, or be refused (found by a review of the change that brought containers: each
gave a wrong gradient before)."""

import numpy as np

OUTER = {"a": np.array([1.0, 2.0, 3.0])}


def update_seen_through_a_dict(x):
    y = x * 2.0
    d = {"a": y}
    y += x  # NumPy changes the array d["a"] holds
    return np.sum(d["a"] * d["a"])


def update_seen_through_a_tuple(x):
    y = x * 2.0
    t = (y, 1.0)
    y += x
    return np.sum(t[0] * t[0])


def parameter_kept_in_a_dict_then_reassigned(x, n):
    d = {"a": x}
    for _ in range(n):
        x = np.sin(x)
    return np.sum(d["a"] * x)


def _bump(buf, v):
    buf += v
    return np.sum(buf)


def comprehension_over_a_display_computed_once(x):
    acc = x * 1.0
    s = sum(t * t for t in [_bump(acc, x), 1.0])
    return s + np.sum(acc * acc)


def _local_named_like_a_leaf(x):
    OUTER_a = x * 3.0
    return OUTER_a


def comprehension_over_a_module_dict(x, n):
    total = 0.0
    for k in range(n):
        if k > 0:
            s = np.array([np.sum(OUTER["a"] * x[i]) for i in range(len(x))])
            total = total + np.sum(s * s)
        total = total + np.sum(_local_named_like_a_leaf(x))
    return total


# refused: a view written into while a container holds its array; one array swapped with itself;
# a container changed inside a loop over it

def view_written_while_a_dict_holds_the_array(x):
    y = x * 2.0
    d = {"a": y}
    z = y[1:]
    z[0] = x[0] ** 2
    return np.sum(np.sin(d["a"]))


def one_array_swapped_with_itself(x):
    a = x * 1.0
    b = a
    a, b = b, a
    a[0] = x[1] * x[2]
    return np.sum(np.sin(b))


def list_changed_inside_a_loop_over_it(x):
    ws = [x, x * 2.0, x * 3.0, x]
    for i, w in enumerate(ws):
        ws[(i + 1) % 4] = w * 1.5
    return np.sum(ws[0] * ws[3])


X = np.array([0.3, 0.7, 1.1])
AGREE = [(update_seen_through_a_dict, (X,), 0), (update_seen_through_a_tuple, (X,), 0),
         (parameter_kept_in_a_dict_then_reassigned, (X, 2), 0), (comprehension_over_a_display_computed_once, (X,), 0),
         (comprehension_over_a_module_dict, (X, 2), 0)]
REFUSED = [(view_written_while_a_dict_holds_the_array, "would also change `y`"),
           (one_array_swapped_with_itself, "would also change `b`"),
           (list_changed_inside_a_loop_over_it, "a container changed inside a loop over it")]
