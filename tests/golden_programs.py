"""Small functions whose generated adjoints tests/test_golden.py pins exactly."""

import math

import numpy as np


def square(x):
    return x * x


def sine_of_product(x, y):
    return math.sin(x * y)


def rebinding(x):
    a = x * x
    a = a + x
    return a * 2.0


def constant_output(x):
    return 3.0


def unused_input(x, y):
    return x * 2.0


def vector_sum_of_squares(x):
    return np.sum(x ** 2)


def sliced(x):
    return np.sum(x[1:] * x[:-1])


def broadcast_add(A, b):
    return np.sum(np.tanh(A + b))


def matvec(A, x):
    return np.sum(A @ x)


def reduction_axis(A):
    return np.sum(np.sum(A, axis=0) ** 2)


def method_calls(x):
    return x.reshape(2, 3).T.sum()


def with_constant(x):
    return SCALE * np.exp(x).sum()


SCALE = 0.5


def loop_sum(x, n):
    s = 0.0
    for i in range(n):
        s = s + math.sin(x * i)
    return s


def halve_until_small(x):
    while x > 1.0:
        x = x * 0.5
    return x


def branch(x):
    if x > 0.0:
        y = x * x
    else:
        y = -x
    return y


def fill(x):
    y = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        y[i] = x[i] * x[i]
    return np.sum(y)


def logistic_loss(x):
    return np.sum(1.0 / (1.0 + np.exp(-x)))


def not_logistic(x):
    return np.sum(1.0 / (2.0 + np.exp(-x)))


def logistic_spellings(x, y):
    a = 1 / (1 + np.exp(-x))  # ints
    b = 1.0 / (np.exp(-(x * y)) + 1.0)  # the sum the other way round
    c = 1.0 / (1.0 + math.exp(-y))  # math.exp: kept as written (it raises on overflow where np.exp does not)
    return np.sum(a * b) + c


def valley(x):
    return np.sum(3.0 * (x[1:] - x[:-1]) ** 2 - (0.5 - x[1:]) ** 2)


def mlp(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    return np.sum(h @ params["W2"])


def rnn(x, W):
    h = x
    hs = []
    for t in range(2):
        h = np.tanh(W @ h)
        hs.append(h)
    return np.sum(np.stack(hs))


def generator_sum(w, x):
    return sum(w[i] * x[i] for i in range(len(x)))


def rnn_of_any_length(xs, W):
    h = np.zeros(W.shape[0])
    hs = []
    for x in xs:
        h = np.tanh(W @ h + x)
        hs.append(h)
    return np.sum(np.stack(hs))
