"""adjoint.check_grad's verdicts: agree, MISMATCH where adjoint is off, and UNJUDGED where central
differences cannot judge (their results at two step sizes as far apart as they are large: a chaotic map),
which is not agreement: forward against reverse mode is reported there, but it cannot see a wrong rule,
which both modes share."""

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


def fast_wrong(x):
    return np.sum(doubled_sine(300.0 * x))


def chaotic_pair(r):
    x = logistic_map(r, 0.3, 100)
    return x, 2.0 * x


def test_smooth_agrees():
    report = adjoint.check_grad(logistic_map, 2.7, 0.3, 100, jit=False)
    assert report and report.rows[0].result == "ok" and "agree" in str(report)


def test_a_wrong_derivative_is_a_mismatch():
    report = adjoint.check_grad(with_a_wrong_rule, np.array([0.3, 1.2]), jit=False)
    assert not report and report.rows[0].judged and "MISMATCH" in str(report) and "DISAGREE" in str(report)


def test_where_central_differences_cannot_judge_the_modes_are_compared_but_nothing_is_verified():
    report = adjoint.check_grad(logistic_map, 3.7, 0.3, 100, jit=False)
    row = report.rows[0]
    assert not row.judged and row.modes_agree and not report and row.result == "UNJUDGED"
    text = str(report)
    assert "central differences cannot judge r" in text and "forward and reverse mode agree" in text
    assert "not the rules they share" in text and "NOT VERIFIED" in text and "MISMATCH" not in text
    forward = adjoint.check_grad(logistic_map, 3.7, 0.3, 100, mode="forward", jit=False)
    assert not forward and not forward.rows[0].judged


def test_a_wrong_rule_on_a_fast_oscillation_is_a_mismatch():
    """The larger step misses the curvature of sin(300 x) by 1e-4, which is no reason to doubt central
    differences against an adjoint that is off by a factor (found by a review: called unjudged, and
    'agree' where both modes shared the wrong rule)."""
    report = adjoint.check_grad(fast_wrong, np.array([1.0, 0.5]), jit=False)
    assert not report and report.rows[0].result == "MISMATCH"


def test_the_modes_comparison_takes_what_forward_mode_takes():
    """Tuple outputs, in forward mode (found by a review: the reverse half of the comparison raised)."""
    report = adjoint.check_grad(chaotic_pair, 3.7, mode="forward", jit=False)
    assert not report and not report.rows[0].judged


def test_unjudged_without_forward_mode_is_not_agreement():
    report = adjoint.check_grad(chaotic_with_a_wrong_rule, 3.7, jit=False)
    assert not report and not report.rows[0].judged
