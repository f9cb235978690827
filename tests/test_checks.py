"""The shared hidden-test checks: each must fail on what it guards against, with a useful message."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from classgrader.checks import (assert_close, assert_unchanged, expect_raises, no_warnings, result_array,
                                result_float, substitute)


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
