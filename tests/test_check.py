"""adjoint.check_grad's verdicts: agree, MISMATCH where adjoint is off, and where central differences
cannot judge (their results at two step sizes disagree: a chaotic map), forward against reverse mode."""

import numpy as np

import adjoint


def logistic_map(r, x0, n):
    x = x0
    for _ in range(n):
        x = r * x * (1.0 - x)
    return x


@adjoint.custom_vjp
def doubled_sine(x):
    return np.sin(x)


def _doubled_sine_fwd(x):
    return np.sin(x), x


def _doubled_sine_bwd(x, g):
    return (2.0 * g * np.cos(x),)  # (wrong on purpose: twice the derivative)


doubled_sine.defvjp(_doubled_sine_fwd, _doubled_sine_bwd)


def with_a_wrong_rule(x):
    return np.sum(doubled_sine(x))


def chaotic_with_a_wrong_rule(r):
    return logistic_map(r, 0.3, 100) + doubled_sine(r)


def test_smooth_agrees():
    report = adjoint.check_grad(logistic_map, 2.7, 0.3, 100, jit=False)
    assert report and report.rows[0].result == "ok" and "agree" in str(report)


def test_a_wrong_derivative_is_a_mismatch():
    report = adjoint.check_grad(with_a_wrong_rule, np.array([0.3, 1.2]), jit=False)
    assert not report and report.rows[0].judged and "MISMATCH" in str(report) and "DISAGREE" in str(report)


def test_where_central_differences_cannot_judge_the_modes_are_compared():
    report = adjoint.check_grad(logistic_map, 3.7, 0.3, 100, jit=False)
    row = report.rows[0]
    assert not row.judged and row.modes_agree and report  # (the gradient is right: forward mode agrees)
    assert "central differences cannot judge r" in str(report) and "forward and reverse mode agree" in str(report)
    assert adjoint.check_grad(logistic_map, 3.7, 0.3, 100, mode="forward", jit=False)


def test_unjudged_without_forward_mode_is_not_agreement():
    report = adjoint.check_grad(chaotic_with_a_wrong_rule, 3.7, jit=False)
    assert not report and not report.rows[0].judged
