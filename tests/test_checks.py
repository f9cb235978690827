"""The shared hidden-test checks: each must fail on what it guards against, with a useful message."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from classgrader.checks import (assert_close, assert_unchanged, call_or_explain, call_unchanged, central_gradient,
                                expect_raises, no_warnings, result_array, result_dict, result_float, result_float64,
                                substitute)


class AlwaysEqual(np.ndarray):
    def __eq__(self, other):  # noqa: D105 - the trick a grader must not fall for
        return True


class LooksLikeFloat(float):
    def __eq__(self, other):
        return True


def test_result_array_rejects_lookalikes_lists_and_wrong_shapes():
    with pytest.raises(AssertionError, match="numpy array"):
        result_array(np.zeros(3).view(AlwaysEqual), "f(x)")
    with pytest.raises(AssertionError, match="np.array"):
        result_array([1.0, 2.0], "f(x)")
    with pytest.raises(AssertionError, match=r"shape \(3,\).*\(3, 1\).*column vector"):
        result_array(np.zeros((3, 1)), "f(x)", shape=(3,))
    with pytest.raises(AssertionError, match="truncates"):
        result_array(np.zeros(3, dtype=int), "f(x)", shape=(3,))
    value = np.ones(2)
    assert result_array(value, "f(x)", shape=(2,)) is value


def test_result_float_accepts_numbers_and_rejects_the_rest():
    assert result_float(np.float64(1.5), "f") == 1.5
    assert result_float(2, "f") == 2.0
    assert result_float(np.array([3.0]), "f") == 3.0
    for bad in (True, "1.0", [1.0], np.ones(2), LooksLikeFloat(1.0), None):
        with pytest.raises(AssertionError):
            result_float(bad, "f")


def test_assert_close_reports_difference_and_names_a_known_mistake():
    assert_close(1.0 + 1e-12, 1.0, "x", rtol=1e-9, atol=0)
    with pytest.raises(AssertionError) as err:
        assert_close(4.0, 2.0, "slope", rtol=1e-9, atol=1e-9, mistakes={"you doubled it": 4.0, "halved": 1.0})
    text = str(err.value)
    assert "expected: 2" in text and "got:      4" in text and "you doubled it" in text and "halved" not in text
    with pytest.raises(AssertionError, match="NaN"):
        assert_close(np.array([np.nan]), np.array([1.0]), "v", rtol=0, atol=1)


def test_assert_unchanged_detects_mutation_and_type_change():
    before = np.array([1.0, 2.0])
    assert_unchanged(before, before.copy(), "f")
    with pytest.raises(AssertionError, match="changed its input"):
        assert_unchanged(before, np.array([1.0, 2.5]), "f")
    with pytest.raises(AssertionError, match="changed its input"):
        assert_unchanged([1.0, 2.0], np.array([1.0, 2.0]), "f")


def test_expect_raises_distinguishes_wrong_exception_and_no_exception():
    def raise_value(x):
        raise ValueError("bad")

    assert isinstance(expect_raises(ValueError, raise_value, 1, name="g"), ValueError)
    with pytest.raises(AssertionError, match="returned 1"):
        expect_raises(ValueError, lambda: 1, name="g")
    with pytest.raises(AssertionError, match="raised KeyError"):
        expect_raises(ValueError, lambda: {}["k"], name="g")


def test_no_warnings_turns_numpy_overflow_into_a_failure():
    assert no_warnings(np.exp, 1.0, name="exp") == np.exp(1.0)
    with pytest.raises(AssertionError, match="overflow"):
        no_warnings(np.exp, 1000.0, name="exp")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AssertionError, match="RuntimeWarning"):
            no_warnings(lambda: warnings.warn("careful", RuntimeWarning), name="f")


def test_substitute_replaces_and_restores_even_on_error():
    namespace = {"f": "student", "keep": 1}
    with pytest.raises(RuntimeError):
        with substitute(namespace, f="reference", new="temporary"):
            assert namespace["f"] == "reference" and namespace["new"] == "temporary"
            raise RuntimeError
    assert namespace == {"f": "student", "keep": 1}


def test_central_gradient_matches_a_known_gradient_and_leaves_x_alone():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    grad = central_gradient(lambda v: np.sum(v**3) + v[0, 1] * v[1, 0], x)
    exact = 3 * x**2 + np.array([[0.0, x[1, 0]], [x[0, 1], 0.0]])
    assert grad.shape == x.shape and grad.dtype == np.float64
    assert np.allclose(grad, exact, rtol=1e-8, atol=1e-8)
    assert np.array_equal(x, before)
    assert not np.allclose(central_gradient(lambda v: np.sum(v**2), x), exact, atol=1e-3)


def test_result_float64_is_stricter_than_result_float():
    assert result_float64(1.5, "f") == 1.5 and result_float64(np.array(2.0), "f") == 2.0
    for bad in (1, np.float32(1.0), np.array([1.0]), np.int64(3)):
        with pytest.raises(AssertionError):
            result_float64(bad, "f")


def test_result_dict_names_the_missing_keys():
    assert result_dict({"a": 1, "b": 2}, ("a",), "g") == {"a": 1, "b": 2}
    with pytest.raises(AssertionError, match="should return a dict"):
        result_dict([("a", 1)], ("a",), "g")
    with pytest.raises(AssertionError, match=r"missing the key\(s\) \['b'\]"):
        result_dict({"a": 1}, ("a", "b"), "g")


def test_call_unchanged_names_the_argument_that_changed():
    def scale_in_place(x, y):
        y *= 2
        return x + y

    x, y = np.ones(2), np.ones(2)
    with pytest.raises(AssertionError, match=r"g \(argument y\) changed its input"):
        call_unchanged(scale_in_place, x, y, name="g", arg_names=("x", "y"))
    assert np.array_equal(call_unchanged(lambda a: a + 1, np.zeros(2), name="g"), np.ones(2))

    def fail_after_appending(values):
        values.append(0.0)
        raise TypeError("lists are not supported")

    with pytest.raises(TypeError):
        call_unchanged(fail_after_appending, [1.0], name="g")
    with pytest.raises(AssertionError, match="changed its input"):
        call_unchanged(fail_after_appending, [1.0], name="g", ignore_errors=True)


def test_call_or_explain_turns_the_named_error_into_advice():
    assert call_or_explain(lambda: 3, "a + 2", "define __radd__") == 3
    with pytest.raises(AssertionError, match=r"2 \+ a raised TypeError \(.*\)\. define __radd__"):
        call_or_explain(lambda: 2 + object(), "2 + a", "define __radd__")
    with pytest.raises(ZeroDivisionError):
        call_or_explain(lambda: 1 / 0, "a / 0", "unrelated advice")
