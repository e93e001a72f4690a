"""Programs that grow lists in loops whose length is known only at run time (`hs.append(h)` over
`range(len(x))`), keep comprehensions over arrays as lists, and carry dicts, tuples and lists from
one run of a loop to the next (`state = step(state)`, `p["w"] -= ...`). Each with a way to make its
arguments and its wrt."""

import numpy as np


def recurrent_states(W, U, xs):
    h = np.zeros(W.shape[0])
    states = []
    for x in xs:
        h = np.tanh(W @ h + U @ x)
        states.append(h)
    H = np.stack(states)
    return np.sum(H[1:] * H[:-1]) + np.sum(states[-1])


def euler_trajectory(y0, rate, steps):
    ys = [y0]
    for _ in range(steps):
        ys.append(ys[-1] - 0.05 * rate * ys[-1] ** 3)
    path = np.array(ys)
    return np.sum(path ** 2) / len(ys)


def kept_where_positive(x, w):
    picked = []
    for i in range(len(x)):
        if x[i] * w > 0.1:
            picked.append(np.exp(-x[i] * w))
    return sum(picked) + 0.5 * len(picked)


def two_appends_a_run(x):
    parts = []
    for i in range(x.shape[0]):
        parts.append(x[i] ** 2)
        parts.append(np.sin(x[i]))
    return np.dot(np.array(parts), np.linspace(0.0, 1.0, len(parts)))


def rows_of_rows(x, reps):
    table = []
    for i in range(reps):
        row = []
        for v in x:
            row.append(v * (i + 1.0) - v ** 2)
        table.append(row)
    M = np.array(table)
    return np.sum(M @ x) + M[-1, 0] * M[0, -1]


def _rollout(x, steps):
    seen = []
    for _ in range(steps):
        x = 0.8 * x + 0.1 * np.cos(x)
        seen.append(x)
    return seen


def helper_returns_a_list(x, steps):
    seen = _rollout(x, steps)
    total = 0.0
    for s in seen:
        total = total + np.sum(s ** 2)
    return total + np.sum(np.vstack(seen)[:, 0]) + np.sum(np.hstack(seen))


def running_means(x):
    so_far, means = [], []
    for v in x:
        so_far.append(v)
        means.append(np.mean(so_far) * v)
    return sum(means) + max(means) - min(so_far)


def counts_down(x):
    out = []
    for t in reversed(range(len(x))):
        out.append(x[t] * (t + 1.0))
    return np.sum(np.concatenate([np.array(out), x]) ** 2) + sum(a * b for a, b in zip(out, x))


def comprehensions_kept(x):
    doubled = [2.0 * v for v in x]
    positive = np.array([v ** 2 for v in x if v > 0])
    rows = [np.sin(v * x) for v in x]
    pairs = [a * b for a in x for b in positive if a != b]
    return (doubled[0] * doubled[-1] + np.sum(positive) + np.sum(np.stack(rows) ** 2) + len(doubled)
            + sum(pairs) + np.sum(np.array([np.cos(a - b) for a in x for b in x[:2]])))


def filter_state(z, q):
    m, p = 0.0, 1.0
    means, variances = [], []
    for t in range(len(z)):
        p = p + q
        gain = p / (p + 0.5)
        m = m + gain * (z[t] - m)
        p = (1.0 - gain) * p
        means.append(m)
        variances.append(p)
    return np.sum((np.array(means) - z) ** 2) + np.sum(np.log(np.array(variances)))


def _cell(carry, x, W):
    h, c = carry
    c = 0.5 * c + np.tanh(W @ x + h)
    return (np.tanh(c) * 0.9, c)


def tuple_carried_through_a_helper(W, xs):
    carry = (np.zeros(W.shape[0]), np.zeros(W.shape[0]))
    for t in range(xs.shape[0]):
        carry = _cell(carry, xs[t], W)
    h, c = carry
    return np.sum(h ** 2) + np.sum(c)


def dict_rebuilt_each_run(x, rate, steps):
    state = {"pos": x, "vel": np.zeros_like(x), "t": 0.0}
    for _ in range(steps):
        acc = -rate * state["pos"]
        state = {"pos": state["pos"] + 0.1 * state["vel"], "vel": state["vel"] + 0.1 * acc, "t": state["t"] + 0.1}
    return np.sum(state["pos"] ** 2) + np.sum(state["vel"]) * state["t"]


def dict_items_swapped(x, steps):
    s = {"u": x, "v": 2.0 * x}
    for _ in range(steps):
        s = {"u": s["v"], "v": 1.5 * s["u"]}
    return np.sum(s["u"] * x) + np.sum(s["v"])


def dict_written_in_a_loop(x, steps):
    acc = {"y": x * 1.0, "total": 0.0}
    for _ in range(steps):
        acc["y"] = np.sin(acc["y"]) + x
        acc["total"] += np.sum(acc["y"] ** 2)
    return acc["total"]


def gradient_steps_on_a_dict(params, x, y):
    p = dict(params)
    for _ in range(len(x)):
        err = p["w"] * x + p["b"] - y
        p["w"] -= 0.1 * np.mean(err * x)
        p["b"] = p["b"] - 0.1 * np.mean(err)
    return np.mean((p["w"] * x + p["b"] - y) ** 2)


def dict_values_scaled_in_a_loop_over_it(params, s):
    for k in params:
        params[k] = params[k] * s
    return sum(np.sum(v ** 2) for v in params.values())


def written_in_a_branch(x):
    d = {"a": x * 1.0, "b": 0.0}
    if x[0] > 0:
        d["a"] = d["a"] * 2.0
        d["b"] = np.sum(x)
    return np.sum(d["a"] ** 2) + d["b"]


def keys_added_after_the_loop(x, steps):
    S = {}
    S["y"] = x * 1.0
    for _ in range(steps):
        S["y"] = 0.5 * S["y"] + np.sin(S["y"])
    S["z"] = S["y"] ** 2
    pair = [S["z"], x]
    for _ in range(steps):
        pair = [pair[1] * 0.5, pair[0] + 1.0]
    pair.append(np.cos(x))
    return np.sum(S["z"]) + np.sum(S["y"]) + np.sum(pair[0] * pair[2]) + np.sum(pair[1])


def copies_keep_their_values(x, steps):
    d = {"a": x, "b": (x[0], x[1])}
    for _ in range(steps):
        d["a"] = d["a"] * 1.5
        d["b"] = (d["b"][1], d["b"][0] * 0.5)
    before = dict(d)
    pair = list(before["b"])
    d["a"] = d["a"] ** 2
    return np.sum(before["a"]) + np.sum(d["a"]) + pair[0] * pair[1]


def dicts_swapped_in_a_loop(x, steps):
    a, b = {"h": x}, {"h": 2.0 * x}
    for _ in range(steps):
        a, b = b, a
        a["h"] = a["h"] + 1.0
    return np.sum(a["h"] * 3.0) + np.sum(b["h"])


def indices_and_masks_collected(x):
    picked, mask = [], []
    for i in range(len(x)):
        if x[i] > 0:
            picked.append(i)
        mask.append(x[i] > -0.5)
    return np.sum(x[np.array(picked)] ** 2) + np.sum(x[np.array(mask)]) + x[picked[-1]]


def argument_dict_reassigned_in_a_loop(p, lr):
    for _ in range(3):
        p = {k: p[k] - lr * np.sin(p[k]) for k in p}
    return np.sum(p["a"] ** 2) + p["b"]


def argument_list_reassigned_in_a_branch(ws, k):
    if k > 0:
        ws = [w * k for w in ws]
    return sum(np.sum(w ** 2) for w in ws)


def _leapfrog(state, k):
    q, v = state
    v = v - 0.05 * k * q
    return (q + 0.1 * v, v)


def argument_tuple_stepped_by_a_helper(state, k):
    for _ in range(4):
        state = _leapfrog(state, k)
    return np.sum(state[0] ** 2) + np.sum(state[1])


def _scaled_again(p, n):
    for _ in range(n):
        p = {"w": p["w"] * 1.5}
    return p["w"]


def helper_reassigns_its_dict_parameter(x, n):
    p = {"w": x}
    return np.sum(_scaled_again(p, n)) + np.sum(p["w"] ** 2)


def items_unpacked_into(x, steps):
    S = {"a": x * 1.0}
    q = 0.0
    for _ in range(steps):
        S["a"], q = S["a"] * 0.9 + 0.1, np.sum(S["a"]) + q
    return np.sum(S["a"] ** 2) + q


def stacked_sideways(A, B, x):
    return (np.sum(np.vstack([A, B]) ** 2) + np.sum(np.hstack((A, 2.0 * B)) * x[0])
            + np.sum(np.column_stack((x, x ** 2))[:, 1]) + np.sum(np.hstack([x[0], x[1] * 3.0]) ** 2))


def adaptive_steps(y0, rate, horizon):
    t, y, h = 0.0, y0, 0.05
    times, values = [], [y0]
    while t < horizon:
        y = y + h * (np.sin(t) - rate * y)
        t = t + h
        h = min(1.5 * h, 0.3)
        times.append(t)
        values.append(y)
    return np.sum(np.array(values) ** 2) + 0.01 * len(times) + sum(times) * 0.001


def pairs_from_an_inner_loop(x):
    products = []
    for i in range(len(x)):
        for j in range(i):
            products.append(x[i] * x[j])
    return sum(products) + np.sum(np.array(products) ** 2)


def states_until_settled(x):
    h = x
    states = []
    n = 0
    while n < 30 and np.sum(np.abs(h)) > 0.05:
        h = np.tanh(0.7 * h) - 0.01
        states.append(h)
        n += 1
    return np.sum(np.stack(states) ** 2) + len(states)


PROGRAMS = [
    (recurrent_states, lambda r: (0.5 * r.normal(size=(3, 3)), r.normal(size=(3, 2)), r.normal(size=(5, 2))), (0, 1, 2)),
    (euler_trajectory, lambda r: (r.normal(size=2), 1.3, 6), (0, 1)),
    (kept_where_positive, lambda r: (r.normal(size=8), 0.7), (0, 1)),
    (two_appends_a_run, lambda r: (r.normal(size=4),), 0),
    (rows_of_rows, lambda r: (r.normal(size=3), 3), 0),
    (helper_returns_a_list, lambda r: (r.normal(size=3), 4), 0),
    (running_means, lambda r: (r.normal(size=5),), 0),
    (counts_down, lambda r: (r.normal(size=4),), 0),
    (comprehensions_kept, lambda r: (r.normal(size=5),), 0),
    (filter_state, lambda r: (r.normal(size=6), 0.3), (0, 1)),
    (tuple_carried_through_a_helper, lambda r: (0.5 * r.normal(size=(3, 3)), r.normal(size=(4, 3))), (0, 1)),
    (dict_rebuilt_each_run, lambda r: (r.normal(size=3), 1.7, 5), (0, 1)),
    (dict_items_swapped, lambda r: (r.normal(size=3), 3), 0),
    (dict_written_in_a_loop, lambda r: (r.normal(size=3), 3), 0),
    (gradient_steps_on_a_dict, lambda r: ({"w": 0.5, "b": 0.1}, r.normal(size=5), r.normal(size=5)), 0),
    (dict_values_scaled_in_a_loop_over_it, lambda r: ({"u": r.normal(size=3), "v": r.normal(size=2)}, 1.3), (0, 1)),
    (written_in_a_branch, lambda r: (np.abs(r.normal(size=3)),), 0),
    (adaptive_steps, lambda r: (0.7, 1.3, 2.0), (0, 1)),
    (pairs_from_an_inner_loop, lambda r: (r.normal(size=4),), 0),
    (states_until_settled, lambda r: (r.normal(size=3),), 0),
    (keys_added_after_the_loop, lambda r: (r.normal(size=3), 3), 0),
    (copies_keep_their_values, lambda r: (r.normal(size=3), 2), 0),
    (dicts_swapped_in_a_loop, lambda r: (r.normal(size=3), 3), 0),
    (indices_and_masks_collected, lambda r: (np.array([0.3, -0.7, 1.1, 0.2]),), 0),
    (argument_dict_reassigned_in_a_loop, lambda r: ({"a": r.normal(size=3), "b": 0.4}, 0.3), (0, 1)),
    (argument_list_reassigned_in_a_branch, lambda r: ([r.normal(size=2), r.normal(size=3)], 1.3), (0, 1)),
    (argument_tuple_stepped_by_a_helper, lambda r: ((r.normal(size=2), r.normal(size=2)), 1.7), (0, 1)),
    (helper_reassigns_its_dict_parameter, lambda r: (r.normal(size=3), 2), 0),
    (items_unpacked_into, lambda r: (r.normal(size=3), 3), 0),
    (stacked_sideways, lambda r: (r.normal(size=(2, 3)), r.normal(size=(2, 3)), r.normal(size=3)), (0, 1, 2)),
]
