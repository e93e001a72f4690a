"""Pins adjoint's error messages: what every refusal raises and what its message says.

Every refusal is an `adjoint.AdjointError` subclass. A construct of the user's source is refused
with an `adjoint.SourceError` whose message reads

    <file>:<line>:<col>: <what>
        <the offending source line>
        <spaces>^
    hint: <what to do>

and whose `filename` and `lineno` are set. The refused programs live in tests/error_programs.py,
each offending line marked with a `# <marker>` comment; the expected line number is found from the
marker, so that file may change without breaking these tests.
"""

import inspect
import math
import os
import re

import error_programs as P
import numpy as np
import pytest

import adjoint

PROGRAMS_FILE = "error_programs.py"


# --- helpers -------------------------------------------------------------------------------------

def marked_line(fn, marker):
    """(file line number, text) of the one line of fn's source that carries `# <marker>`."""
    lines, first = inspect.getsourcelines(fn)
    hits = [i for i, line in enumerate(lines) if f"# <{marker}>" in line]
    assert len(hits) == 1, f"marker <{marker}> found {len(hits)} times in {fn.__qualname__}"
    return first + hits[0], lines[hits[0]].rstrip("\n")


def refused(fn, *args, **kwargs):
    """The SourceError that grad(fn)(*args) raises (jit=False: the refusal comes before any JIT)."""
    with pytest.raises(adjoint.SourceError) as e:
        adjoint.grad(fn, jit=False, **kwargs)(*args)
    return e.value


def check_located(err, where, marker, at, what, hint, caret_under_construct=True):
    """err names error_programs.py:<line>:<col>, shows the line and a caret, says `what` and a hint.

    `where` is the function whose source holds the marker, `at` the text the construct starts with.
    """
    lineno, text = marked_line(where, marker)
    col = text.index(at)  # 0-based column of the construct in the file
    message = str(err)
    header, shown, caret, *rest = message.splitlines()

    assert isinstance(err, adjoint.AdjointError)
    assert isinstance(err, adjoint.SourceError)
    assert os.path.basename(err.filename) == PROGRAMS_FILE
    assert err.lineno == lineno
    assert f"{PROGRAMS_FILE}:" in header
    assert header.startswith(f"{err.filename}:{lineno}:{col + 1}: "), header
    assert what in header, header
    # the offending line, then a caret line under it
    assert shown.strip() == text.strip()
    assert re.fullmatch(r" *\^", caret), caret
    if caret_under_construct:
        assert shown[caret.index("^"):].startswith(at), f"caret not under {at!r}:\n{shown}\n{caret}"
    hints = [line for line in rest if line.startswith("hint: ")]
    assert len(hints) == 1, message
    assert hint in hints[0], hints[0]
    return message


# --- the error classes ---------------------------------------------------------------------------

def test_every_error_kind_is_an_adjoint_error():
    assert issubclass(adjoint.SourceError, adjoint.AdjointError)
    assert issubclass(adjoint.ArgumentError, adjoint.AdjointError)
    assert issubclass(adjoint.JitError, adjoint.AdjointError)
    assert issubclass(adjoint.AdjointError, Exception)
    assert not issubclass(adjoint.AdjointError, (KeyError, AttributeError, TypeError, ValueError))


# --- constructs refused by the subset check --------------------------------------------------------

def test_generator_function_yield():
    err = refused(P.generator, 1.0)
    check_located(err, P.generator, "yield", "yield y", "`yield` makes a generator function",
                  "instead of yielding")


def test_yield_from():
    err = refused(P.yield_from, 1.0)
    check_located(err, P.yield_from, "yield-from", "yield from", "`yield from` makes a generator function",
                  "instead of yielding")


def test_try_except():
    err = refused(P.try_except, 1.0)
    check_located(err, P.try_except, "try", "try:", "`try` cannot be differentiated",
                  "move the try/except out of the differentiated function")


def test_with_block():
    err = refused(P.with_block, 1.0)
    check_located(err, P.with_block, "with", "with open", "`with` cannot be differentiated",
                  "move the with-block out")


def test_global():
    err = refused(P.uses_global, 1.0)
    check_located(err, P.uses_global, "global", "global COUNTER", "`global` cannot be differentiated",
                  "pass the value in as an argument")


def test_nonlocal_in_a_closure():
    accumulate = P.make_accumulator()
    err = refused(accumulate, 1.0)
    # file, line, column and hint are right; the caret's position is pinned separately below
    check_located(err, P.make_accumulator, "nonlocal", "nonlocal total", "`nonlocal` cannot be differentiated",
                  "pass the value in as an argument", caret_under_construct=False)


def test_nonlocal_caret_sits_under_the_construct():
    err = refused(P.make_accumulator(), 1.0)
    check_located(err, P.make_accumulator, "nonlocal", "nonlocal total", "`nonlocal` cannot be differentiated",
                  "pass the value in as an argument", caret_under_construct=True)


def test_del():
    err = refused(P.uses_del, 1.0)
    check_located(err, P.uses_del, "del", "del y", "`del` cannot be differentiated", "remove the del statement")


def test_async_def():
    err = refused(P.async_function, 1.0)
    check_located(err, P.async_function, "async", "async def", "async functions cannot be differentiated",
                  "use a plain def")


def test_class_inside_the_function():
    err = refused(P.class_inside, 1.0)
    check_located(err, P.class_inside, "class", "class Scaler",
                  "a class defined inside the function cannot be differentiated", "define the class at module level")


def test_import_inside_the_function():
    err = refused(P.import_inside, 1.0)
    check_located(err, P.import_inside, "import", "import math",
                  "an import inside the function cannot be differentiated", "import at module level")


def test_from_import_inside_the_function():
    err = refused(P.import_from_inside, 1.0)
    check_located(err, P.import_from_inside, "import-from", "from math import sin",
                  "an import inside the function cannot be differentiated", "import at module level")


def test_comprehensions_are_differentiated():
    assert adjoint.grad(P.list_comprehension, jit=False)(1.0) == 3.0
    assert adjoint.grad(P.generator_expression, jit=False)(1.0) == 3.0


def test_a_set_comprehension():
    err = refused(P.set_comprehension, 1.0)
    check_located(err, P.set_comprehension, "setcomp", "{x * k for", "a set comprehension cannot be differentiated",
                  "write it as a for loop")


def test_a_dict_literal_is_differentiated():
    assert adjoint.grad(P.dict_literal, jit=False)(1.0) == 2.0


def test_a_dict_key_known_only_at_run_time():
    err = refused(P.dict_with_a_runtime_key, 1.0, "a")
    check_located(err, P.dict_with_a_runtime_key, "dict", "k", "a dict's keys must be strs or ints known when "
                  "compiling", "use constant keys, or an array indexed by an int")


def test_set_literal():
    err = refused(P.set_literal, 1.0)
    check_located(err, P.set_literal, "set", "{x, 2.0}", "a set cannot be differentiated", "use a tuple or an array")


def test_walrus():
    err = refused(P.walrus, 1.0)
    check_located(err, P.walrus, "walrus", "z := x", "`:=` cannot be differentiated",
                  "assign the value on a line of its own")


def test_match_statement():
    err = refused(P.match_statement, 1.0)
    check_located(err, P.match_statement, "match", "match x", "`match` cannot be differentiated",
                  "write it with if/elif")


def test_star_args_parameter():
    assert adjoint.grad(P.star_args, jit=False)(1.0) == 2.0
    assert adjoint.grad(P.star_args, wrt=(0, 1), jit=False)(1.0, 3.0, 4.0) == (2.0, (0.0, 0.0))


def test_a_starred_argument_known_only_at_run_time():
    err = refused(P.starred_array, np.ones(2))
    check_located(err, P.starred_array, "starred", "*x", "`*` of what is not a tuple or list known when compiling",
                  "pass the arguments one by one")


# --- calls, methods and attributes without a derivative rule ---------------------------------------

def test_call_without_source_or_rule_names_it_and_suggests_custom_vjp():
    err = refused(P.no_rule_function, np.eye(2) + 1.0)
    message = check_located(err, P.no_rule_function, "eig", "np.linalg.eig",
                            "`np.linalg.eig` has no derivative rule and no Python source", "custom_vjp")
    assert "hint: register a rule for it with adjoint.custom_vjp" in message


def test_method_without_rule():
    err = refused(P.no_rule_method, np.ones(3))
    message = check_located(err, P.no_rule_method, "partition", "y.partition(1)",
                            "the method `.partition()` has no derivative rule", "custom_vjp")
    assert "call the NumPy function instead" in message


def test_attribute_without_rule():
    err = refused(P.no_rule_attribute, np.ones(3))
    check_located(err, P.no_rule_attribute, "real", "y.real", "the attribute `.real` has no derivative rule",
                  "use .T, .shape, .ndim, .size or .dtype")


# --- names and statements refused while normalizing ------------------------------------------------

def test_augmented_assignment_through_a_live_alias():
    err = refused(P.alias_augassign, np.ones(3))
    message = check_located(err, P.alias_augassign, "alias", "y += 1.0", "`y += ...` would change `x` too",
                            ".copy()")
    header = message.splitlines()[0]
    assert "`y" in header and "`x`" in header  # names both the target and the alias that would change


def test_augmented_assignment_through_an_alias_made_in_the_loop():
    err = refused(P.alias_augassign_in_loop, np.ones(3), 2)
    check_located(err, P.alias_augassign_in_loop, "loop_alias", "c *= 2.0", "`c *= ...` would change `k` too",
                  ".copy()")


def test_undefined_name():
    err = refused(P.undefined_name, np.ones(3))
    check_located(err, P.undefined_name, "undefined", "not_defined_anywhere",
                  "`not_defined_anywhere` is not defined", "define it or import it at module level")


def test_call_of_an_undefined_function():
    err = refused(P.undefined_function, np.ones(3))
    check_located(err, P.undefined_function, "undefined-call", "undefined_helper(y)",
                  "`undefined_helper` is not defined", "define it or import it at module level")


def test_local_used_before_it_is_assigned():
    err = refused(P.local_used_before_assigned, 1.0)
    check_located(err, P.local_used_before_assigned, "before-assigned", "z", "`z` is used before it is assigned",
                  "assign it first")


def test_code_after_return():
    err = refused(P.code_after_return, 1.0)
    check_located(err, P.code_after_return, "return-before-dead-code", "return",
                  "code after `return` is unreachable", "delete it")


def test_dropped_expression_value():
    err = refused(P.dropped_expression, 1.0)
    check_located(err, P.dropped_expression, "dropped", "np.sin(x)",
                  "an expression whose value is dropped cannot be differentiated", "assign its value to a name")


# --- every entry point refuses the same way, every time --------------------------------------------

def test_source_and_differentiate_and_vjp_refuse_like_grad():
    lineno, _ = marked_line(P.try_except, "try")
    with pytest.raises(adjoint.SourceError) as by_source:
        adjoint.source(P.try_except)
    with pytest.raises(adjoint.SourceError) as by_decorator:
        adjoint.differentiate(P.try_except, jit=False).grad(1.0)
    with pytest.raises(adjoint.SourceError) as by_vjp:
        adjoint.vjp(P.try_except, 1.0, jit=False)
    for e in (by_source, by_decorator, by_vjp):
        assert e.value.lineno == lineno
        assert f"{PROGRAMS_FILE}:{lineno}:" in str(e.value)


def test_refusal_is_repeated_not_cached_away():
    first = refused(P.uses_del, 1.0)
    second = refused(P.uses_del, 1.0)
    assert str(first) == str(second)


# --- arguments: ArgumentError ----------------------------------------------------------------------

def twice(x):
    return x * 2.0


def scaled(x, n):
    return x * n


def total(x):
    return np.sum(x)


def test_grad_of_an_array_result_names_the_shape():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(twice)(np.ones(3))  # default jit: the check does not depend on the path
    message = str(e.value)
    assert "(3,)" in message
    assert "twice" in message and "scalar" in message


def test_grad_of_a_matrix_result_names_the_shape_without_jit():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(twice, jit=False)(np.ones((2, 3)))
    assert "(2, 3)" in str(e.value)


def row_sums(x):
    return np.sum(np.sin(x), axis=1)


def close_to_itself(x):
    return np.allclose(x, x * 3.0 / 3.0)


def test_grad_of_one_row_sums_names_the_shape():
    """A result known to be an array is refused before the adjoint runs (whose seed 1.0 would not
    fit the axis it sums over: an AxisError from inside adjoint before)."""
    for jit in (False, True):
        with pytest.raises(adjoint.ArgumentError, match=r"shape \(1,\)"):
            adjoint.grad(row_sums, jit=jit)(np.ones((1, 3)))


def test_grad_of_a_truth_value_is_refused():
    with pytest.raises(adjoint.ArgumentError, match="bool"):
        adjoint.grad(close_to_itself, jit=False)(np.ones(3))


class Unhappy(Exception):
    pass


def _never_returns(x):
    raise Unhappy(f"no value for {x}")


def calls_a_function_that_raises(x):
    return _never_returns(x) * x


def test_the_users_own_exception_is_raised():
    """A callee that always raises is the user's raise, of the user's class, on both paths."""
    for jit in (False, True):
        with pytest.raises(Unhappy, match="no value"):
            adjoint.grad(calls_a_function_that_raises, jit=jit)(1.0)


def test_non_scalar_hint_names_only_existing_functions():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(twice, jit=False)(np.ones(3))
    named = re.findall(r"adjoint\.(\w+)", str(e.value))
    assert named
    assert all(hasattr(adjoint, name) for name in named), named


def test_wrt_naming_an_int_argument():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(scaled, wrt=1)(2.0, 3)
    message = str(e.value)
    assert "`n`" in message and "int" in message
    assert "float(n)" in message  # says what to do


def test_wrt_naming_a_missing_parameter_lists_the_parameters():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(scaled, wrt="z")
    message = str(e.value)
    assert "`z`" in message
    assert "x, n" in message


def test_wrt_position_out_of_range_lists_the_parameters():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(scaled, wrt=2)
    message = str(e.value)
    assert "wrt=2" in message
    assert "2 parameters" in message and "x, n" in message


def test_wrt_of_the_wrong_type():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(scaled, wrt=1.5)
    assert "1.5" in str(e.value)


def test_wrt_naming_a_parameter_twice():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(scaled, wrt=(0, "x"))
    assert "twice" in str(e.value)


def test_bad_wrt_fails_when_decorating():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.differentiate(scaled, wrt="q")
    assert "`q`" in str(e.value) and "x, n" in str(e.value)


def test_integer_array_input_names_the_dtype():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(total)(np.arange(3))
    message = str(e.value)
    assert str(np.arange(3).dtype) in message  # int64 (or the platform's int)
    assert "astype(float)" in message


def test_a_list_input_gives_a_list_gradient():
    assert adjoint.grad(total, jit=False)([1.0, 2.0]) == [1.0, 1.0]


def test_a_list_holding_an_object_is_refused():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(total)([1.0, object()])
    message = str(e.value)
    assert "x[1]" in message and "containers (dict, list, tuple, NamedTuple) of numbers and arrays" in message


def test_too_few_arguments():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(scaled)(1.0)
    message = str(e.value)
    assert "scaled" in message and "'n'" in message


def test_too_many_arguments():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(scaled)(1.0, 2.0, 3.0)
    assert "too many" in str(e.value)


def test_bad_jit_value():
    with pytest.raises(adjoint.ArgumentError) as e:
        adjoint.grad(scaled, jit="yes")(1.0, 2.0)
    assert "'yes'" in str(e.value)


def test_vjp_cotangent_of_the_wrong_shape():
    _, pullback = adjoint.vjp(twice, np.ones(3), jit=False)
    with pytest.raises(adjoint.ArgumentError) as e:
        pullback(np.ones(2))
    assert "(2,)" in str(e.value) and "(3,)" in str(e.value)


# --- functions without source ----------------------------------------------------------------------

def test_function_made_with_exec_has_no_source():
    ns = {}
    exec("def f(x):\n    return x * x", ns)
    with pytest.raises(adjoint.AdjointError) as e:
        adjoint.grad(ns["f"])(2.0)
    message = str(e.value)
    assert "cannot be read" in message
    assert "\nhint: " in message and "custom_vjp" in message


def test_builtin_is_refused_as_not_python():
    with pytest.raises(adjoint.AdjointError) as e:
        adjoint.grad(math.sin)(1.0)
    message = str(e.value)
    assert "sin" in message and "not a Python function" in message


def test_builtin_refusal_has_a_hint():
    with pytest.raises(adjoint.AdjointError) as e:
        adjoint.grad(math.sin)(1.0)
    assert "\nhint: " in str(e.value)


def test_builtin_without_signature_is_an_adjoint_error():
    with pytest.raises(adjoint.AdjointError):
        adjoint.grad(max)(1.0, 2.0)


# --- odd inputs: an AdjointError or a right answer, never an internal error --------------------------

lambda_with_default = lambda x, a=2.0: a * x  # noqa: E731
LAMBDA_PAIR = (lambda x: x * 2.0, lambda x: x * 3.0)


def only_pass(x):
    pass
    return 0.0


class Scale:
    def times_two(self, x):
        return x * 2.0


def fancy_rows(x):
    return np.sum(x[[0, 1]])


def test_lambda_with_a_default():
    assert adjoint.grad(lambda_with_default, jit=False)(3.0) == 2.0
    assert adjoint.grad(lambda_with_default, wrt=1, jit=False)(3.0) == 3.0


def test_pass_then_constant_return_has_zero_gradient():
    g = adjoint.grad(only_pass, jit=False)(3.0)
    assert g == 0.0
    assert isinstance(g, float)


def test_source_with_an_unknown_mode():
    with pytest.raises(adjoint.AdjointError) as e:
        adjoint.source(twice, mode="sideways")
    assert "'sideways'" in str(e.value) and "reverse" in str(e.value)


def test_source_with_the_mode_in_the_place_of_an_example_argument():
    with pytest.raises(adjoint.ArgumentError, match="by keyword"):
        adjoint.source(twice, "forward")


def test_second_lambda_on_a_line_is_not_confused_with_the_first():
    try:
        g = adjoint.grad(LAMBDA_PAIR[1], jit=False)(1.0)
    except adjoint.AdjointError:
        return  # refusing is acceptable; a wrong derivative is not
    assert g == 3.0


def test_bound_method_is_differentiated_or_refused():
    try:
        g = adjoint.grad(Scale().times_two, jit=False)(1.0)
    except adjoint.AdjointError:
        return
    assert g == 2.0


def test_list_index_is_differentiated_or_refused():
    x = np.arange(4.0).reshape(2, 2)
    try:
        value, g = adjoint.value_and_grad(fancy_rows, jit=False)(x)
    except adjoint.AdjointError:
        return
    assert value == fancy_rows(x) == 6.0
    np.testing.assert_array_equal(g, np.ones((2, 2)))


def test_a_parameter_named_like_a_runtime_helper_is_refused():
    def f(logistic):
        return np.sum(1.0 / (1.0 + np.exp(-logistic)))

    with pytest.raises(adjoint.errors.SourceError, match="the parameter `logistic` has the name of a helper"):
        adjoint.grad(f)(np.ones(2))


def test_a_local_named_like_a_runtime_helper_gets_a_name_of_its_own():
    def f(x):
        logistic = 1.0 / (1.0 + np.exp(-x))
        unsum = np.sum(logistic * x)
        return unsum

    x = np.array([0.5, -1.0])
    for jit in (False, True):
        adjoint.check_grad(f, x, jit=jit)


def scale_in_place(u):
    u *= 0.9
    return u


def test_an_in_place_update_of_a_callers_array_is_seen_there_and_one_through_a_view_is_refused():
    def f(x):
        v = x * 1.0
        z = scale_in_place(v)  # changes v too, as NumPy does
        return np.sum(z * v)

    def h(x):
        v = x * 1.0
        w = v[1:]
        z = scale_in_place(v)  # changes the view w too: refused
        return np.sum(z * v) + np.sum(w)

    def g(x):
        z = scale_in_place(x * 1.0)  # nothing else holds the array
        return np.sum(z)

    x = np.array([0.3, 0.5, 0.7])
    np.testing.assert_allclose(adjoint.grad(f, jit=False)(x), 2 * 0.81 * x)
    with pytest.raises(adjoint.errors.SourceError, match=r"`u \*= \.\.\.` would change `v` too"):
        adjoint.grad(h)(np.ones(3))
    adjoint.check_grad(g, np.array([0.3, 0.5, 0.7]), jit=False)


def test_a_view_carried_from_the_previous_iteration_then_written_through_is_refused():
    def f(v):
        a = v * 1.0
        w = np.zeros(3)
        s = 0.0
        for t in range(2):
            a[:] = a * 2.0
            s = s + np.sum(w * w)  # w views a as the last iteration left it: the write above changed it
            w = a[:3]
        return s

    def g(v):  # an element, not a view, carried over: fine
        buf = v * 1.0
        e = 0.0
        s = 0.0
        for t in range(3):
            buf[t % 4] = e * 2.0 + v[t % 4]
            s = s + e
            e = buf[(t + 1) % 4]
        return s + np.sum(buf)

    with pytest.raises(adjoint.errors.SourceError, match="still views `a` from the previous iteration"):
        adjoint.grad(f)(np.ones(4))
    adjoint.check_grad(g, np.array([0.1, 0.2, 0.3, 0.4]), jit=False)


@pytest.mark.parametrize("fn, args, marker, at, what", [
    (P.overlapping_views_written, (np.arange(4.0), 1), "overlap", "tail[0] = ", "writing into `tail` would also "
                                                                                  "change `head`, which shares"),
    (P.rows_of_either_end_written, (np.ones((3, 2)),), "ends", "last[0] = ", "writing into `last` would also "
                                                                               "change `first`, which shares"),
    (P.loop_variable_read_after_write, (np.ones((3, 2)),), "leftover", "B[1, 0] = ", "writing into `B` would also "
                                                                                     "change `row`, which shares"),
    (P.view_rebound_later_in_the_loop, (np.ones(4), 2), "rebound", "b[0] = ", "writing into `b` would also "
                                                                              "change `a`, which shares"),
])
def test_writing_into_a_view_that_may_overlap_another_view_read_later(fn, args, marker, at, what):
    name = at.split("[")[0]
    check_located(refused(fn, *args), fn, marker, at, what, f"write into a copy: `{name} = {name}.copy()` first")


def test_an_element_write_into_an_array_that_the_loop_later_makes_share_memory():
    err = refused(P.view_carried_into_the_next_write, np.ones((2, 3)), 3)
    check_located(err, P.view_carried_into_the_next_write, "carried", "A[t % 2, :] = ",
                  "writing into `A` here also changes `w` from the loop's second run on", "make it a copy")


def test_a_numpy_function_replaced_after_import_is_refused(monkeypatch):
    """(Found by a helper's hunt.) With np.sin = np.cos, the derivative of cos, which calls np.sin, called
    cos: the gradient came out -cos(x) instead of -sin(x)."""
    def f(x):
        return np.sum(np.sin(x))

    monkeypatch.setattr(np, "sin", np.cos)
    with pytest.raises(adjoint.AdjointError, match=r"`np\.sin` is not the function it was when adjoint was imported"):
        adjoint.grad(f, jit=False)(np.array([0.1, 0.5]))
    monkeypatch.undo()
    np.testing.assert_allclose(adjoint.grad(f, jit=False)(np.array([0.1, 0.5])), np.cos([0.1, 0.5]), rtol=1e-15)
