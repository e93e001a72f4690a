"""Golden tests: the exact generated source of small functions (reverse mode, simplified)."""

import textwrap

import golden_programs as g
import numpy as np
import pytest

import adjoint
from adjoint.backend.dispatch import last_run

GOLDEN = [
    (g.square, 0, """
        def square_vjp(x, out_bar):
            # return x * x  (golden_programs.py:9)
            out = x * x
            # reverse sweep
            # adjoint of: return x * x  (golden_programs.py:9)
            x_bar = out_bar * 2.0 * x
            return (out, x_bar)
    """),
    (g.sine_of_product, (0, 1), """
        def sine_of_product_vjp(x, y, out_bar):
            # return math.sin(x * y)  (golden_programs.py:13)
            mul = x * y
            out = math.sin(mul)
            # reverse sweep
            # adjoint of: return math.sin(x * y)  (golden_programs.py:13)
            mul_bar = out_bar * math.cos(mul)
            x_bar = unbroadcast(mul_bar * y, x)
            y_bar = unbroadcast(mul_bar * x, y)
            return (out, x_bar, y_bar)
    """),
    (g.rebinding, 0, """
        def rebinding_vjp(x, out_bar):
            # a = x * x  (golden_programs.py:17)
            a = x * x
            # a = a + x  (golden_programs.py:18)
            a_1 = a + x
            # return a * 2.0  (golden_programs.py:19)
            out = a_1 * 2.0
            # reverse sweep
            # adjoint of: return a * 2.0  (golden_programs.py:19)
            a_1_bar = out_bar * 2.0
            # adjoint of: a = a + x  (golden_programs.py:18)
            a_bar = unbroadcast(a_1_bar, a)
            x_bar = unbroadcast(a_1_bar, x)
            # adjoint of: a = x * x  (golden_programs.py:17)
            x_bar = x_bar + a_bar * 2.0 * x
            return (out, x_bar)
    """),
    (g.constant_output, 0, """
        def constant_output_vjp(x, out_bar):
            # return 3.0  (golden_programs.py:23)
            out = 3.0
            # reverse sweep
            x_bar = zeros_like(x)
            return (out, x_bar)
    """),
    (g.unused_input, (0, 1), """
        def unused_input_vjp(x, y, out_bar):
            # return x * 2.0  (golden_programs.py:27)
            out = x * 2.0
            # reverse sweep
            # adjoint of: return x * 2.0  (golden_programs.py:27)
            x_bar = out_bar * 2.0
            y_bar = zeros_like(y)
            return (out, x_bar, y_bar)
    """),
    (g.vector_sum_of_squares, 0, """
        def vector_sum_of_squares_vjp(x, out_bar):
            # return np.sum(x ** 2)  (golden_programs.py:31)
            pow_1 = x ** 2
            out = np.sum(pow_1)
            # reverse sweep
            # adjoint of: return np.sum(x ** 2)  (golden_programs.py:31)
            pow_1_bar = unsum(out_bar, pow_1, None)
            x_bar = pow_1_bar * 2 * x
            return (out, x_bar)
    """),
    (g.sliced, 0, """
        def sliced_vjp(x, out_bar):
            # return np.sum(x[1:] * x[:-1])  (golden_programs.py:35)
            x_part = x[1:]
            x_part_1 = x[:-1]
            mul = x_part * x_part_1
            out = np.sum(mul)
            # reverse sweep
            # adjoint of: return np.sum(x[1:] * x[:-1])  (golden_programs.py:35)
            mul_bar = unsum(out_bar, mul, None)
            x_part_bar = unbroadcast(mul_bar * x_part_1, x_part)
            x_part_1_bar = unbroadcast(mul_bar * x_part, x_part_1)
            x_bar = zeros_like(x)
            add_into(x_bar[:-1], x_part_1_bar)
            add_into(x_bar[1:], x_part_bar)
            return (out, x_bar)
    """),
    (g.broadcast_add, (0, 1), """
        def broadcast_add_vjp(A, b, out_bar):
            # return np.sum(np.tanh(A + b))  (golden_programs.py:39)
            add = A + b
            tanh = np.tanh(add)
            out = np.sum(tanh)
            # reverse sweep
            # adjoint of: return np.sum(np.tanh(A + b))  (golden_programs.py:39)
            tanh_bar = unsum(out_bar, tanh, None)
            add_bar = tanh_bar * (1.0 - tanh * tanh)
            A_bar = unbroadcast(add_bar, A)
            b_bar = unbroadcast(add_bar, b)
            return (out, A_bar, b_bar)
    """),
    (g.matvec, (0, 1), """
        def matvec_vjp(A, x, out_bar):
            # return np.sum(A @ x)  (golden_programs.py:43)
            matmul = A @ x
            out = np.sum(matmul)
            # reverse sweep
            # adjoint of: return np.sum(A @ x)  (golden_programs.py:43)
            matmul_bar = unsum(out_bar, matmul, None)
            A_bar = matmul_left(matmul_bar, A, x)
            x_bar = matmul_right(matmul_bar, A, x)
            return (out, A_bar, x_bar)
    """),
    (g.reduction_axis, 0, """
        def reduction_axis_vjp(A, out_bar):
            # return np.sum(np.sum(A, axis=0) ** 2)  (golden_programs.py:47)
            sum_1 = np.sum(A, axis=0)
            pow_1 = sum_1 ** 2
            out = np.sum(pow_1)
            # reverse sweep
            # adjoint of: return np.sum(np.sum(A, axis=0) ** 2)  (golden_programs.py:47)
            pow_1_bar = unsum(out_bar, pow_1, None)
            sum_1_bar = pow_1_bar * 2 * sum_1
            A_bar = unsum(sum_1_bar, A, 0)
            return (out, A_bar)
    """),
    (g.method_calls, 0, """
        def method_calls_vjp(x, out_bar):
            # return x.reshape(2, 3).T.sum()  (golden_programs.py:51)
            reshape = x.reshape((2, 3))
            transpose = reshape.T
            out = transpose.sum()
            # reverse sweep
            # adjoint of: return x.reshape(2, 3).T.sum()  (golden_programs.py:51)
            transpose_bar = np.full(transpose.shape, out_bar)
            reshape_bar = np.transpose(transpose_bar)
            x_bar = reshape_like(reshape_bar, x)
            return (out, x_bar)
    """),
]


@pytest.mark.parametrize("fn, wrt, expected", GOLDEN, ids=[f.__name__ for f, _, _ in GOLDEN])
def test_generated_function(fn, wrt, expected):
    text = adjoint.source(fn, wrt=wrt)
    assert text[text.index("def "):] == textwrap.dedent(expected).lstrip("\n")


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_source_with_example_arguments_is_the_code_that_runs_for_them(mode):
    x = np.linspace(0.5, 1.5, 4)
    text = adjoint.source(g.with_constant, x, mode=mode)
    assert "For x a 1-d array." in text and text != adjoint.source(g.with_constant, mode=mode)
    if mode == "reverse":
        adjoint.grad(g.with_constant, jit=False)(x)
    else:
        adjoint.jvp(g.with_constant, (x,), x, jit=False)
    ran = last_run(g.with_constant, ("x",), False)
    assert ran.text == text
    assert adjoint.differentiate(g.with_constant).source(x, mode=mode) == text


def test_whole_module_with_a_module_constant():
    text = adjoint.source(g.with_constant)
    assert text == textwrap.dedent('''\
        """Adjoint (reverse mode) of with_constant (golden_programs.py:54) with respect to x.
        For arguments of any kind (adjoint.source(f, *args) shows the code for the kinds of args).

        Generated by adjoint 0.1.0; do not edit: it is written again from the source."""

        import numpy as np
        from adjoint.runtime import unsum

        SCALE = 0.5


        def with_constant_vjp(x, out_bar):
            # return SCALE * np.exp(x).sum()  (golden_programs.py:55)
            exp = np.exp(x)
            sum_1 = exp.sum()
            out = SCALE * sum_1
            # reverse sweep
            # adjoint of: return SCALE * np.exp(x).sum()  (golden_programs.py:55)
            sum_1_bar = out_bar * SCALE
            exp_bar = unsum(sum_1_bar, exp, None)
            x_bar = exp_bar * exp
            return (out, x_bar)
        ''')


def test_scalar_arguments_drop_broadcast_sums():
    """Called with floats, the code that grad runs knows its values are numbers."""
    from adjoint.backend.dispatch import derivative

    text = derivative(g.sine_of_product, ("x", "y"), kinds=(("x", 0), ("y", 0))).text
    assert "unbroadcast" not in text
    assert "x_bar = mul_bar * y" in text


def test_array_arguments_get_the_branch_of_each_helper_that_runs():
    """Called with arrays, the code that grad runs spreads, sums and zeroes directly, without the
    helpers that choose between numbers and arrays; under Numba, the matrix's elementwise run is one
    loop over its entries (optimize/elementwise.py)."""
    from adjoint.backend.dispatch import derivative

    text = derivative(g.broadcast_add, ("A", "b"), kinds=(("A", 2), ("b", 1))).text
    assert text[text.index("def "):] == textwrap.dedent("""\
        def broadcast_add_vjp(A, b, out_bar):
            add = A + b
            if compiled and floats(add, A, out_bar) and (add.shape[0] == A.shape[0]) and (add.shape[1] == A.shape[1]):
                n_1 = add.shape[0]
                m_1 = add.shape[1]
                out = 0.0
                add_bar = np.empty((n_1, m_1))
                for i_1 in range(n_1):
                    for j_1 in range(m_1):
                        # return np.sum(np.tanh(A + b))  (golden_programs.py:39)
                        tanh_i = np.tanh(add[i_1, j_1])
                        out += tanh_i
                        # reverse sweep
                        # adjoint of: return np.sum(np.tanh(A + b))  (golden_programs.py:39)
                        add_bar_i = out_bar * (1.0 - tanh_i * tanh_i)
                        add_bar[i_1, j_1] = add_bar_i
                A_bar = add_bar
                b_bar = summed_to(add_bar, b.shape)
            else:
                # return np.sum(np.tanh(A + b))  (golden_programs.py:39)
                tanh = np.tanh(add)
                out = np.sum(tanh)
                # reverse sweep
                # adjoint of: return np.sum(np.tanh(A + b))  (golden_programs.py:39)
                tanh_bar = np.full(tanh.shape, out_bar)
                add_bar = tanh_bar * (1.0 - tanh * tanh)
                A_bar = summed_to(add_bar, A.shape)
                b_bar = summed_to(add_bar, b.shape)
            return (out, A_bar, b_bar)
    """)


def test_no_optimize_shows_the_plain_accumulations():
    text = adjoint.source(g.square, optimize=False)
    assert "x_bar = zeros_like(x)" in text
    assert "x_bar = x_bar + out_bar * 2.0 * x" in text


# Control flow, with the code specialised to the argument kinds (numbers or arrays) as grad runs it.
CONTROL = [
    (g.loop_sum, (0.5, 3), """
        def loop_sum_vjp(x, n, out_bar):
            # s = 0.0  (golden_programs.py:62)
            s = 0.0
            # adjoint of: return s  (golden_programs.py:65)
            x_bar = 0.0
            for i in range(n):
                # s = s + math.sin(x * i)  (golden_programs.py:64)
                mul = x * i
                sin = math.sin(mul)
                add = s + sin
                s = add
                # adjoint of: s = s + math.sin(x * i)  (golden_programs.py:64)
                x_bar = x_bar + out_bar * math.cos(mul) * i
            # reverse sweep
            return (s, x_bar)
    """),
    (g.halve_until_small, (5.0,), """
        def halve_until_small_vjp(x, out_bar):
            # while x > 1.0:  (golden_programs.py:69)
            cond = x > 1.0
            trips = 0
            while cond:
                trips = trips + 1
                # x = x * 0.5  (golden_programs.py:70)
                mul = x * 0.5
                x = mul
                # while x > 1.0:  (golden_programs.py:69)
                cond = x > 1.0
            # reverse sweep
            # adjoint of: return x  (golden_programs.py:71)
            x_bar = out_bar
            for _ in range(trips):
                # adjoint of: x = x * 0.5  (golden_programs.py:70)
                x_bar = x_bar * 0.5
            return (x, x_bar)
    """),
    (g.branch, (2.0,), """
        def branch_vjp(x, out_bar):
            # if x > 0.0:  (golden_programs.py:75)
            cond = x > 0.0
            if cond:
                # y = x * x  (golden_programs.py:76)
                y = x * x
            else:
                # y = -x  (golden_programs.py:78)
                y = -x
            # reverse sweep
            # adjoint of: return y  (golden_programs.py:79)
            x_bar = 0.0
            if cond:
                # adjoint of: y = x * x  (golden_programs.py:76)
                x_bar = x_bar + out_bar * 2.0 * x
            else:
                # adjoint of: y = -x  (golden_programs.py:78)
                x_bar = x_bar - out_bar
            return (y, x_bar)
    """),
    (g.fill, (np.ones(3),), """
        def fill_vjp(x, out_bar):
            # y = np.zeros(x.shape[0])  (golden_programs.py:83)
            x_shape0 = x.shape[0]
            y = np.zeros(x_shape0)
            # for i in range(x.shape[0]):  (golden_programs.py:84)
            stop = x.shape[0]
            for i in range(stop):
                # y[i] = x[i] * x[i]  (golden_programs.py:85)
                x_i = x[i]
                mul = x_i * x_i
                y[i] = mul
            # return np.sum(y)  (golden_programs.py:86)
            out = np.sum(y)
            # reverse sweep
            # adjoint of: return np.sum(y)  (golden_programs.py:86)
            y_bar = np.full(y.shape, out_bar)
            x_bar = np.zeros(x.shape)
            for i in range(stop - 1, -1, -1):
                # adjoint of: y[i] = x[i] * x[i]  (golden_programs.py:85)
                x_i = x[i]
                mul_bar = y_bar[i]
                y_bar[i] = 0.0
                x_i_bar = mul_bar * 2.0 * x_i
                x_bar[i] += x_i_bar
            return (out, x_bar)
    """),
]


@pytest.mark.parametrize("fn, args, expected", CONTROL, ids=[f.__name__ for f, _, _ in CONTROL])
def test_control_flow(fn, args, expected):
    from adjoint.arguments import bind
    from adjoint.backend.dispatch import derivative

    values, kinds = bind(fn, ("x",), args, {})
    text = derivative(fn, ("x",), False, True, kinds).text
    assert text[text.index("def "):] == textwrap.dedent(expected).lstrip("\n")


def test_the_logistic_expression_is_one_primitive_whose_adjoint_reads_its_result():
    text = adjoint.source(g.logistic_loss)
    assert text[text.index("def "):] == textwrap.dedent("""
        def logistic_loss_vjp(x, out_bar):
            # return np.sum(1.0 / (1.0 + np.exp(-x)))  (golden_programs.py:90)
            logistic_1 = logistic(x)
            out = np.sum(logistic_1)
            # reverse sweep
            # adjoint of: return np.sum(1.0 / (1.0 + np.exp(-x)))  (golden_programs.py:90)
            logistic_1_bar = unsum(out_bar, logistic_1, None)
            x_bar = logistic_1_bar * logistic_1 * (1.0 - logistic_1)
            return (out, x_bar)
    """).lstrip("\n")
    assert "logistic(" not in adjoint.source(g.not_logistic)  # 2 + exp(-x): not the logistic function


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_spellings_of_the_logistic_function(jit, mode):
    x = np.array([-40.0, -2.0, -0.3, 0.0, 0.7, 3.0, 40.0])
    text = adjoint.source(g.logistic_spellings, wrt=(0, 1), mode=mode)
    assert text.count("logistic(") == 2 and "math.exp(" in text, text
    adjoint.check_grad(g.logistic_spellings, x, 0.8, wrt=(0, 1), jit=jit, mode=mode)
    np.testing.assert_array_equal(  # the primal as NumPy computes the expression, bit for bit
        adjoint.value_and_grad(g.logistic_spellings, wrt=(0, 1), jit=False)(x, 0.8)[0], g.logistic_spellings(x, 0.8))


def test_second_derivatives_of_the_logistic_function():
    x = np.array([-2.0, 0.1, 1.5])
    h = adjoint.hessian(g.logistic_loss, jit=False)(x)
    s = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(h, np.diag(s * (1 - s) * (1 - 2 * s)), rtol=1e-12, atol=1e-15)



def test_a_cotangent_read_once_is_computed_where_it_is_read_with_signs_in_the_constants():
    text = adjoint.source(g.valley)
    assert text[text.index("# reverse sweep"):] == textwrap.dedent("""
        # reverse sweep
            # adjoint of: return np.sum(3.0 * (x[1:] - x[:-1]) ** 2 - (0.5 - x[1:]) ** 2)  (golden_programs.py:105)
            sub_2_bar = unsum(out_bar, sub_2, None)
            mul_bar = unbroadcast(sub_2_bar, mul)
            x_part_bar = unbroadcast(sub_2_bar, pow_2) * 2 * sub_1
            sub_bar = mul_bar * 6.0 * sub
            x_part_bar = x_part_bar + unbroadcast(sub_bar, x_part)
            x_part_1_bar = -unbroadcast(sub_bar, x_part_1)
            x_bar = zeros_like(x)
            add_into(x_bar[:-1], x_part_1_bar)
            add_into(x_bar[1:], x_part_bar)
            return (out, x_bar)
    """).strip() + "\n"
    x = np.array([0.3, -1.2, 2.0, 0.7, 0.1])
    adjoint.check_grad(g.valley, x)


def _body(text):
    """The generated function of a module's text, without the docstring and imports above it."""
    return text[text.index("\ndef "):].strip()


def test_a_dict_of_parameters_reads_as_parameters_of_their_own():
    r = np.random.default_rng(0)
    params = {"W1": r.normal(size=(3, 4)), "b1": r.normal(size=4), "W2": r.normal(size=(4, 2))}
    assert _body(adjoint.source(g.mlp, params, r.normal(size=(5, 3)))) == textwrap.dedent("""
        def mlp_vjp(params_W1, params_b1, params_W2, x, out_bar):
            # h = np.tanh(x @ params["W1"] + params["b1"])  (golden_programs.py:109)
            matmul = x @ params_W1
            add = matmul + params_b1
            h = np.tanh(add)
            # return np.sum(h @ params["W2"])  (golden_programs.py:110)
            matmul_1 = h @ params_W2
            out = np.sum(matmul_1)
            # reverse sweep
            # adjoint of: return np.sum(h @ params["W2"])  (golden_programs.py:110)
            matmul_1_bar = np.full(matmul_1.shape, out_bar)
            h_bar = matmul_1_bar @ params_W2.T
            params_W2_bar = h.T @ matmul_1_bar
            # adjoint of: h = np.tanh(x @ params["W1"] + params["b1"])  (golden_programs.py:109)
            add_bar = h_bar * (1.0 - h * h)
            matmul_bar = summed_to(add_bar, matmul.shape)
            params_b1_bar = summed_to(add_bar, params_b1.shape)
            params_W1_bar = x.T @ matmul_bar
            return (out, params_W1_bar, params_b1_bar, params_W2_bar)""").strip()


def test_a_list_appended_to_in_a_loop_of_constant_length_is_unrolled():
    r = np.random.default_rng(0)
    text = _body(adjoint.source(g.rnn, r.normal(size=3), r.normal(size=(3, 3)), wrt=(0, 1)))
    assert "stack = np.stack((h_1, h))" in text and "for " not in text


def test_a_list_appended_to_in_a_loop_of_any_length_is_an_array_of_rows():
    r = np.random.default_rng(0)
    assert _body(adjoint.source(g.rnn_of_any_length, r.normal(size=(4, 3)), r.normal(size=(3, 3)), wrt=(0, 1))) == \
        textwrap.dedent("""
        def rnn_of_any_length_vjp(xs, W, out_bar):
            h_tape = []
            hs_rows_shapes = [((0, 0), 0)]
            hs_count_tape = []
            matmul_shapes = [((0,), 0)]
            hs_empty_tape = np.zeros(16, dtype=np.bool_)
            hs_empty_tape_top = 1
            # h = np.zeros(W.shape[0])  (golden_programs.py:127)
            W_shape0 = W.shape[0]
            h = np.zeros(W_shape0)
            h_tape.append(h)
            # for x in xs:  (golden_programs.py:129)
            n = len(xs)
            hs_rows = np.zeros((0, 0))
            push_shape(hs_rows_shapes, hs_rows.shape)
            hs_count = 0
            hs_count_tape.append(hs_count)
            hs_empty_tape = reserved(hs_empty_tape, hs_empty_tape_top, 1 * len(range(n)))
            for i in range(n):
                x = xs[i]
                # h = np.tanh(W @ h + x)  (golden_programs.py:130)
                matmul = W @ h
                push_shape(matmul_shapes, matmul.shape)
                add = matmul + x
                h = np.tanh(add)
                h_tape.append(h)
                # hs.append(h)  (golden_programs.py:131)
                hs_empty = hs_count == 0
                hs_empty_tape[hs_empty_tape_top] = hs_empty
                hs_empty_tape_top += 1
                if hs_empty:
                    hs_rows = rows_of(h, n)
                    push_shape(hs_rows_shapes, hs_rows.shape)
                assert hs_count < hs_rows.shape[0], 'more items appended to `hs` than counted'
                assert fits(hs_rows, h), 'the items appended to `hs` have different shapes'
                hs_rows[hs_count] = h
                hs_count_1 = hs_count + 1
                hs_count = hs_count_1
                hs_count_tape.append(hs_count)
            # return np.sum(np.stack(hs))  (golden_programs.py:132)
            assert hs_count > 0, '`hs` is an empty list of arrays here, which adjoint holds as an array of rows'
            hs_1 = hs_rows[:hs_count]
            stack = np.copy(hs_1)
            out = np.sum(stack)
            # reverse sweep
            # adjoint of: return np.sum(np.stack(hs))  (golden_programs.py:132)
            stack_bar = np.full(stack.shape, out_bar)
            hs_rows_bar = np.zeros(hs_rows_shapes[-1][0])
            add_into(hs_rows_bar[:hs_count], stack_bar)
            W_bar = np.zeros(W.shape)
            xs_bar = np.zeros(xs.shape)
            h_bar = np.zeros(h.shape)
            for i in range(n - 1, -1, -1):
                # adjoint of: hs.append(h)  (golden_programs.py:131)
                hs_count = restore(hs_count_tape, hs_count)
                h_bar += summed_to(saved(hs_rows_bar[hs_count]), h.shape)
                hs_rows_bar[hs_count] = 0.0
                if hs_empty:
                    pop_shape(hs_rows_shapes)
                    hs_rows_bar = np.zeros(hs_rows_shapes[-1][0])
                hs_empty_tape_top -= 1
                hs_empty = bool(hs_empty_tape[hs_empty_tape_top - 1])
                # adjoint of: h = np.tanh(W @ h + x)  (golden_programs.py:130)
                add_bar = h_bar * (1.0 - h * h)
                h = restore(h_tape, h)
                x = xs[i]
                matmul_bar = summed_to(add_bar, matmul_shapes[-1][0])
                x_bar = summed_to(add_bar, x.shape)
                add_outer(W_bar, matmul_bar, h)
                h_bar = matmul_bar @ W
                pop_shape(matmul_shapes)
                # adjoint of: for x in xs:  (golden_programs.py:129)
                add_into(xs_bar[i], x_bar)
            hs_count = restore(hs_count_tape, hs_count)
            pop_shape(hs_rows_shapes)
            # adjoint of: h = np.zeros(W.shape[0])  (golden_programs.py:127)
            h = restore(h_tape, h)
            return (out, xs_bar, W_bar)""").strip()


def test_a_generator_summed_is_a_loop():
    r = np.random.default_rng(0)
    assert _body(adjoint.source(g.generator_sum, r.normal(size=3), r.normal(size=3), wrt=(0, 1))) == \
        textwrap.dedent("""
        def generator_sum_vjp(w, x, out_bar):
            # return sum(w[i] * x[i] for i in range(len(x)))  (golden_programs.py:123)
            total = 0
            stop = len(x)
            # adjoint of: return sum(w[i] * x[i] for i in range(len(x)))  (golden_programs.py:123)
            w_bar = np.zeros(w.shape)
            x_bar = np.zeros(x.shape)
            for i_1 in range(stop):
                # return sum(w[i] * x[i] for i in range(len(x)))  (golden_programs.py:123)
                w_i_1 = w[i_1]
                x_i_1 = x[i_1]
                mul = w_i_1 * x_i_1
                add = total + mul
                total = add
                # adjoint of: return sum(w[i] * x[i] for i in range(len(x)))  (golden_programs.py:123)
                w_i_1_bar = out_bar * x_i_1
                x_i_1_bar = out_bar * w_i_1
                x_bar[i_1] += x_i_1_bar
                w_bar[i_1] += w_i_1_bar
            # reverse sweep
            return (total, w_bar, x_bar)""").strip()
