"""The tape keeps what the reverse sweep reads, and nothing it does not need."""

import ast
import re

import numpy as np
import pytest
from oracles import failures
from tape_programs import PROGRAMS, invariant_in_loop

import adjoint
from adjoint.arguments import bind
from adjoint.backend.dispatch import derivative
from adjoint.runtime import pop_shape, push_shape

JITS = pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])


@JITS
@pytest.mark.parametrize("fn, make, wrt", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_gradient_and_value(fn, make, wrt, jit):
    args = make()
    value, _ = adjoint.value_and_grad(fn, wrt=wrt, jit=jit)(*args)
    assert value == pytest.approx(fn(*make()), rel=1e-12)
    report = adjoint.check_grad(fn, *args, wrt=wrt, jit=jit)
    assert report, f"\n{report}"


def generated(fn, args, wrt):
    values, kinds = bind(fn, wrt, args, {})
    return derivative(fn, wrt, False, True, kinds).text


def test_loop_invariant_value_is_not_taped():
    text = generated(invariant_in_loop, (np.ones(3), 0.1), ("x", "dt"))
    assert "half_tape" not in text and "half = 0.5 * dt" in text


def test_float_tapes_are_arrays_with_room_made_before_the_loop():
    from tape_programs import running_product

    text = generated(running_product, (np.ones(3),), ("x",))
    assert "p_tape = np.zeros(16)" in text and "p_tape_top = 1" in text  # a placeholder: the value before
    assert "p_tape = reserved(p_tape, p_tape_top, 1 * len(range(stop)))\n    for i in range(stop):" in text
    assert "p_tape[p_tape_top] = p\n        p_tape_top += 1" in text
    assert "p_tape_top -= 1\n        p = float(p_tape[p_tape_top - 1])" in text and "restore(" not in text


def test_arrays_of_one_shape_at_every_step_keep_no_shape_tape():
    from tape_programs import stencil_steps

    w = np.linspace(0.1, 1.0, 18).reshape(3, 6)
    text = generated(stencil_steps, (np.ones(6), 0.2, w), ("u0", "c", "w"))
    assert "_shapes" not in text and "push_shape" not in text, text


def test_array_read_only_for_its_shape_keeps_only_its_shape():
    from tape_programs import shape_changes_in_loop

    text = generated(shape_changes_in_loop, (np.ones(4), np.ones(3)), ("x", "b"))
    assert "column_shapes = [((0, 0), 0)]" in text and "column_tape" not in text
    assert "push_shape(column_shapes, column.shape)" in text and "pop_shape(column_shapes)" in text
    assert "summed_to(grid_bar, column_shapes[-1][0])" in text


def shape_tape_replay(shapes):
    """The newest shape after each push, then after each pop, of a shape tape fed `shapes`."""
    tape = [((0, 0), 0)]
    seen = []
    for s in shapes:
        push_shape(tape, s)
        seen.append((tape[-1][0], len(tape)))
    for _ in shapes:
        seen.append((tape[-1][0], len(tape)))
        pop_shape(tape)
    return seen, tape[-1][1]


@JITS
def test_a_shape_tape_keeps_one_entry_per_run_of_equal_shapes(jit):
    import numba

    import adjoint.backend.jit  # noqa: F401 (registers the helpers with Numba)

    shapes = [(2, 3), (2, 3), (2, 3), (4, 1), (2, 3), (2, 3)]
    replay = numba.njit(shape_tape_replay) if jit else shape_tape_replay
    seen, left = replay(numba.typed.List(shapes) if jit else shapes)
    entries = [1, 1, 1, 2, 3, 3]
    assert [tuple(s) for s, _ in seen] == shapes + shapes[::-1]
    assert [n for _, n in seen] == entries + entries[::-1]
    assert left == 0  # all popped: the placeholder's count is 0 again



def test_view_of_an_unchanging_array_is_taken_again_not_taped():
    from tape_programs import shape_changes_in_loop

    text = generated(shape_changes_in_loop, (np.ones(4), np.ones(3)), ("x", "b"))
    assert "x_part_tape" not in text and "x_part_shapes" not in text
    assert text.count("x_part = x[:k]") == 2  # in the forward sweep, and again in the reverse sweep


def test_weight_adjoint_accumulates_in_place():
    from tape_programs import matvec_steps

    text = generated(matvec_steps, (np.ones((2, 2)), np.ones(2)), ("W", "h"))
    assert "add_outer(W_bar, matmul_bar, h)" in text and "h_bar = matmul_bar @ W" in text


@JITS
def test_add_outer_is_a_rank_one_update_and_refuses_other_shapes(jit):
    from adjoint import runtime

    def update(a, g, b):
        runtime.add_outer(a, g, b)
        return a

    if jit:
        import numba

        from adjoint.backend import jit as _  # noqa: F401 -- registers the Numba implementation

        update = numba.njit(update)
    a, g, b = np.ones((3, 2)), np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0])
    np.testing.assert_array_equal(update(a.copy(), g, b), a + np.outer(g, b))
    with pytest.raises(ValueError):
        update(np.ones((2, 2)), g, b)


def test_in_place_only_into_a_buffer_no_other_name_holds():
    import ast
    import textwrap

    from adjoint.optimize.in_place import accumulate_in_place

    fdef = ast.parse(textwrap.dedent("""
        def f(x, g):
            a = np.zeros(x.shape)
            b = summed_to(g, x.shape)
            c = np.zeros(x.shape)
            d = c
            e = np.zeros(x.shape)
            add_into(a[1:], e)
            a = a + g
            b = b + g
            c = c + g
            e = e + g
            x = x + g
            return (a, b, d, e, x)
    """)).body[0]
    text = ast.unparse(accumulate_in_place(fdef, "abcdegx"))
    assert "a += g" in text and "e += g" in text  # their own buffers (add_into copies e's values)
    assert "b = b + g" in text  # may be g's buffer
    assert "c = c + g" in text  # d shows the same buffer
    assert "x = x + g" in text  # the caller's buffer



def test_tape_that_nothing_reads_goes():
    from tape_programs import constant_from_loops

    text = generated(constant_from_loops, (0.7, 5), ("x",))
    assert "_tape" not in text and "trips" not in text and "x_bar = out_1_bar * c\n    return" in text


def test_values_copied_from_a_callee_are_computed_again_from_the_state():
    from tape_programs import midpoint_steps

    text = generated(midpoint_steps, (1.3, 0.8, 1.1, 0.1), ("k", "u0", "v0"))
    tapes = sorted(line.split(" = ")[0].strip() for line in text.splitlines() if line.endswith("_tape = np.zeros(16)"))
    assert tapes == ["u_tape", "v_tape"]


def test_adjoint_divides_once_by_a_number_it_divides_by_often():
    from tape_programs import pair_energy

    text = generated(pair_energy, (np.ones(4), np.ones(4)), ("x", "q"))
    assert text.count("r_inv = np.divide(1.0, r)") == 1  # (np.divide: inf at 0, where `/` raises)
    divisions = [line.strip() for line in text.splitlines() if (" / r" in line or ", r)" in line) and "#" not in line]
    assert len(divisions) == 2 and divisions[0].startswith("div = "), divisions  # the primal keeps its own


def test_room_for_an_inner_loop_is_made_before_each_of_its_runs():
    from tape_programs import triangle_of_products

    text = generated(triangle_of_products, (np.ones(5),), ("x",))
    # inside the outer loop, room for two pushes (one in a branch) on each step of the inner loop
    assert re.search(r"\n        p_tape = reserved\(p_tape, p_tape_top, 2 \* len\(range\(i, (\w+)\)\)\)\n"
                     r"        for j in range\(i, \1\):", text), text


FULL_THEN_ROOM = ("if {t}_top == {t}.shape[0]:\n{indent}    {t} = reserved({t}, {t}_top, 1)\n"
                  "{indent}{t}[{t}_top] = {v}\n{indent}{t}_top += 1")


def test_a_number_taped_in_a_while_loop_makes_room_when_its_array_is_full():
    from tape_programs import halving_until_small

    text = generated(halving_until_small, (3.7,), ("x",))
    assert "y_tape = np.zeros(16)" in text and "len(range" not in text, text
    assert FULL_THEN_ROOM.format(t="y_tape", v="y", indent=" " * 8) in text, text


def test_a_second_name_for_an_array_is_set_again_not_taped():
    from tape_programs import gated_steps

    text = generated(gated_steps, (np.eye(2), np.ones(2)), ("W", "h"))
    assert "_squash_out_tape" in text and "gate_tape" not in text
    assert text.count("gate = _squash_out") == 2  # in the forward sweep, and again in the reverse sweep


def test_an_inner_loop_adds_into_an_element_it_does_not_move_in_a_number():
    from tape_programs import pair_energy

    text = generated(pair_energy, (np.ones(4), np.ones(4)), ("x", "q"))
    # q_bar[i] and x_bar[i] are summed over j in numbers, added into the arrays after the j loop;
    # q_bar[j] and x_bar[j] move with j and stay as they are
    body = text[text.index("for j in range"):]
    assert re.search(r"\n {8}q_bar_sum = 0\.0\n", text)
    assert re.search(r"\n {8}if q_bar_sum != 0\.0:\n {12}q_bar\[i\] \+= q_bar_sum\n", text)
    assert "q_bar[j] += " in body and "x_bar[j] += " in body and "x_bar[i] += x_bar_sum" in body
    assert "q_bar[i] += q_i_bar" not in text and "x_bar_sum += " in body


def test_an_elementwise_array_of_unchanging_arrays_is_computed_again_not_taped():
    from tape_programs import centred_rows

    text = generated(centred_rows, (np.ones((3, 2)), np.ones((2, 2))), ("x", "m"))
    assert "xc_tape" not in text and text.count("xc = x - m_k") == 2
    # the product summed over an axis is read only for its shape, the same at each step: no tape at all
    assert "mul_shapes" not in text and "unsum_to(" in text and "mul_tape" not in text
    assert "unsum_to(sum_1_bar, mul.shape, 1)" in text


@JITS
def test_sum_axis_is_np_sum_over_an_axis_of_a_matrix(jit):
    from adjoint import runtime

    def sums(a, axis):
        return runtime.sum_axis(a, axis)

    if jit:
        import numba

        from adjoint.backend import jit as _  # noqa: F401 -- registers the Numba implementation

        sums = numba.njit(sums)
    a = np.arange(12.0).reshape(3, 4) ** 1.5
    for axis in (0, 1, -1, -2):
        np.testing.assert_allclose(sums(a, axis), np.sum(a, axis=axis), rtol=1e-15)
    np.testing.assert_allclose(sums(a[:, ::2], 0), np.sum(a[:, ::2], axis=0), rtol=1e-15)  # not contiguous
    with pytest.raises((ValueError, np.exceptions.AxisError)):
        sums(a, 2)


def test_a_matrix_summed_over_an_axis_is_written_as_sum_axis():
    from tape_programs import centred_rows

    text = generated(centred_rows, (np.ones((3, 2)), np.ones((2, 2))), ("x", "m"))
    code = [line for line in text.splitlines() if not line.strip().startswith("#")]
    assert any("= sum_axis(mul, 1)" in line for line in code) and not any("axis=" in line for line in code)


def test_a_loop_that_may_break_makes_no_room_ahead():
    from tape_programs import fixed_point

    text = generated(fixed_point, (0.8, 0.5, 10**12), ("a", "x"))
    assert "len(range" not in text, text  # no room for 10**12 numbers: room when full
    assert FULL_THEN_ROOM.format(t="x_tape", v="x", indent=" " * 12) in text, text


def test_elements_are_saved_only_where_the_reverse_sweep_reads_them_back():
    from tape_programs import read_before_elements_written, running_sum_not_read_again
    assert "saved" not in generated(running_sum_not_read_again, (np.ones(4), np.ones(4)), ("y", "x"))
    assert "y_saved1.append(saved(y[i]))" in generated(read_before_elements_written, (np.ones(4),), ("x",))


def test_an_array_filled_anew_each_step_is_kept_by_reference():
    """u is given a new array each step that nothing writes after (analysis.aliasing.frozen): its
    tape holds the arrays themselves, not copies of them and not the numbers read from them."""
    from tape_programs import rebound_linear_steps
    text = generated(rebound_linear_steps, (np.ones(6), 0.2, 3), ("u0", "kappa"))
    copies = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call) and ast.unparse(n.func).endswith(".copy")]
    assert "u_tape.append(u)" in text and len(copies) == 2 and "saved(" not in text, text
    assert "_tape_top" not in text and "add_tape" not in text, text  # (no number is taped)


def test_flags_and_trip_counts_go_on_arrays_of_their_own_type():
    from tape_programs import fixed_point
    text = generated(fixed_point, (0.8, 0.5, 10), ("a", "x"))
    assert "cond_tape = np.zeros(16, dtype=np.bool_)" in text and "cond = bool(cond_tape[cond_tape_top - 1])" in text
    assert "restore(" not in text and "[]" not in text, text


@JITS
def test_a_trip_count_tape_gives_back_each_count(jit):
    from tape_programs import halvings_per_step
    text = generated(halvings_per_step, (np.array([3.0, 0.5, 9.0]),), ("x",))
    assert "trips_tape = np.zeros(16, dtype=np.int64)" in text and "trips = int(trips_tape[trips_tape_top])" in text
    assert not failures(halvings_per_step, (np.array([3.0, 0.5, 9.0, 40.0]),), jit=jit)
