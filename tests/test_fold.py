"""simplify.Fold rewrites expressions into ones that give the same number, to the bit."""

import ast

from hypothesis import example, given, settings
from hypothesis import strategies as st

from adjoint.optimize.fold import Fold

CONSTANTS = [2, 0.5, -4.0, 3.0, 100.0, 0.1, -1]


def expressions():
    leaves = st.sampled_from(["a", "b", "c"] + [repr(c) for c in CONSTANTS])

    constants = st.sampled_from([repr(c) for c in CONSTANTS])

    def extend(inner):
        return st.one_of(
            st.builds(lambda x: f"(-{x})", inner),
            st.builds(lambda x, c, d: f"(({x} * {c}) * {d})", inner, constants, constants),
            st.builds(lambda x, y, op: f"({x} {op} {y})", inner, inner, st.sampled_from(["*", "/", "+", "-"])))
    return st.recursive(leaves, extend, max_leaves=6)


def folded(text):
    return ast.unparse(ast.fix_missing_locations(Fold().visit(ast.parse(text, mode="eval"))))


moderate = st.floats(min_value=1e-30, max_value=1e30) | st.floats(min_value=-1e30, max_value=-1e-30) \
    | st.sampled_from([0.0, -0.0])


@settings(max_examples=400, deadline=None)
@example("(a + (2 - 2))", -0.0, 1.0, 1.0)  # -0.0 + 0 is 0.0: a + 0 is not a
@example("(a - (-0.0))", -0.0, 1.0, 1.0)
@given(expressions(), moderate, moderate, moderate)
def test_folding_keeps_every_bit(text, a, b, c):
    values = {"a": a, "b": b, "c": c}
    try:
        expected = eval(text, {}, values)
    except ZeroDivisionError:
        return
    got = eval(folded(text), {}, values)
    assert float(got).hex() == float(expected).hex(), (text, folded(text))


def test_signs_and_powers_of_two_go_into_the_constants():
    assert folded("-(g * 2 * a)") == "g * -2 * a"
    assert folded("g * 100.0 * 2 * a") == "g * 200.0 * a"
    assert folded("g * 100.0 * 3.0 * a") == "g * 100.0 * 3.0 * a"  # not exact: left as it is
    assert folded("-summed_to(-g, s) * 2 * a") == "summed_to(g, s) * 2 * a"
    assert folded("-(a * b)") == "-(a * b)"
    assert folded("(-a) * (-b)") == "a * b"


def test_a_zero_goes_only_where_it_keeps_the_sign_of_a_zero():
    assert folded("a - 0") == "a"
    assert folded("a + -0.0") == "a"
    assert folded("a + 0") == "a + 0"
    assert folded("a - -0.0") == "a - -0.0"
