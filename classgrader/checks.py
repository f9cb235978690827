"""Checks that the hidden tests of every assignment share.

The hidden test cells import this module (``from classgrader.checks import ...``) instead of
copying comparison code into each notebook. Every check raises ``AssertionError`` with a message
written for the student: what was expected, what came back, by how much they differ, and, where
the returned value matches a catalogued wrong answer, which mistake it looks like.

Design rules
------------
* Types are checked exactly (``type(x) is np.ndarray``) before any comparison, so an object whose
  ``__eq__`` always answers True gains nothing.
* Shape and dtype are checked before values, so "wrong shape" is reported as such instead of as a
  confusing broadcasting error.
* Tolerances are explicit arguments at every call site, next to the reason for them.

This module contains no reference answers: the hidden tests compute their expected values from
closed forms written in the test cells themselves.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from classgrader.model.status import DIAGNOSIS_PREFIX

__all__ = [
    "result_array",
    "result_float",
    "assert_close",
    "assert_unchanged",
    "expect_raises",
    "no_warnings",
    "substitute",
]


def _fmt(value: Any) -> str:
    """Short printable form of a number or array for a failure message."""
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, threshold=12, edgeitems=3, suppress=False):
            return np.array2string(value, separator=", ")
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.9g}"
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def result_array(value: Any, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Check that a function returned a float64 numpy array of the given shape.

    Parameters
    ----------
    value : object
        What the student's function returned.
    name : str
        How to call it in a message, e.g. ``"numerical_gradient(f, [1, 2])"``.
    shape : tuple of int, optional
        The required shape.

    Returns
    -------
    numpy.ndarray
        ``value`` itself, once it has passed.
    """
    if type(value) is not np.ndarray:
        hint = ""
        if isinstance(value, (list, tuple)):
            hint = " Convert it with np.array(...) before returning."
        raise AssertionError(
            f"{name} should return a numpy array, but it returned a {type(value).__name__}.{hint}"
        )
    if shape is not None and value.shape != tuple(shape):
        hint = ""
        if value.size == int(np.prod(shape)):
            hint = " The numbers may be right but arranged differently (a column vector or a transpose?)."
        raise AssertionError(f"{name} should have shape {tuple(shape)}, but it has shape {value.shape}.{hint}")
    if value.dtype != np.float64:
        hint = ""
        if np.issubdtype(value.dtype, np.integer):
            hint = (" An integer array silently truncates every fraction you store in it: create "
                    "the result with dtype=float (or np.zeros(..., dtype=float)).")
        raise AssertionError(f"{name} should have dtype float64, but it has dtype {value.dtype}.{hint}")
    return value


def result_float(value: Any, name: str) -> float:
    """Check that a function returned one real number (Python or numpy, not an array of several).

    Accepts ``float``, ``int`` and numpy real scalars, and a 0-d or one-element numpy array of
    real numbers; rejects booleans, strings, lists and look-alike objects.

    Returns
    -------
    float
        The value as a Python float.
    """
    if isinstance(value, (bool, np.bool_)):
        raise AssertionError(f"{name} should return a number, but it returned a boolean ({value}).")
    if type(value) in (float, int) or type(value) in (np.float64, np.float32, np.float16, np.longdouble):
        return float(value)
    if isinstance(value, np.integer):
        return float(value)
    if type(value) is np.ndarray and value.size == 1 and np.issubdtype(value.dtype, np.number) \
            and not np.iscomplexobj(value):
        return float(value.reshape(()))
    raise AssertionError(
        f"{name} should return a single number (a float), but it returned a "
        f"{type(value).__name__}: {_fmt(value)}"
    )


def assert_close(
    actual: Any,
    expected: Any,
    name: str,
    *,
    rtol: float,
    atol: float,
    mistakes: Mapping[str, Any] | None = None,
    advice: str = "",
) -> None:
    """Check that ``actual`` equals ``expected`` within ``|a - e| <= atol + rtol * |e|``.

    Call :func:`result_array` or :func:`result_float` on ``actual`` first: this function compares
    values only.

    Parameters
    ----------
    actual, expected : float or numpy.ndarray
        The student's value and the independently computed reference.
    name : str
        What is being compared, for the message.
    rtol, atol : float
        Relative and absolute tolerance (numpy's ``isclose`` rule).
    mistakes : mapping of str to value, optional
        Known wrong answers: message -> the value that mistake produces. When ``actual`` is close
        to one of them (same tolerances), the message names that mistake.
    advice : str, optional
        A sentence added to every failure, e.g. the formula that was expected.
    """
    actual_arr = np.asarray(actual, dtype=np.float64)
    expected_arr = np.asarray(expected, dtype=np.float64)
    if actual_arr.shape != expected_arr.shape:
        raise AssertionError(f"{name}: expected shape {expected_arr.shape}, got {actual_arr.shape}.")
    if np.allclose(actual_arr, expected_arr, rtol=rtol, atol=atol, equal_nan=False):
        return
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(actual_arr - expected_arr)
    worst = float(np.nanmax(diff)) if diff.size and not np.all(np.isnan(diff)) else float("nan")
    lines = [
        f"{name} is wrong.",
        f"  expected: {_fmt(expected if isinstance(expected, np.ndarray) else float(expected_arr) if expected_arr.ndim == 0 else expected_arr)}",
        f"  got:      {_fmt(actual if isinstance(actual, np.ndarray) else float(actual_arr) if actual_arr.ndim == 0 else actual_arr)}",
        f"  largest difference {worst:.3g} (allowed: {atol:g} + {rtol:g} * |expected|)",
    ]
    if np.any(np.isnan(actual_arr)) and not np.any(np.isnan(expected_arr)):
        lines.append("  Your result contains NaN: look for 0/0, inf - inf or an overflow.")
    for message, wrong in (mistakes or {}).items():
        wrong_arr = np.asarray(wrong, dtype=np.float64)
        if wrong_arr.shape == actual_arr.shape and np.allclose(actual_arr, wrong_arr, rtol=rtol, atol=atol):
            lines.append(f"  {DIAGNOSIS_PREFIX}{message}")
    if advice:
        lines.append(f"  Hint: {advice}")
    raise AssertionError("\n".join(lines))


def assert_unchanged(before: Any, after: Any, name: str) -> None:
    """Check that a function left its input exactly as it was.

    Parameters
    ----------
    before : numpy.ndarray or list
        A deep copy of the input taken before the call.
    after : numpy.ndarray or list
        The same object the function received, looked at after the call.
    """
    same_type = type(before) is type(after)
    b = np.asarray(before)
    a = np.asarray(after)
    if not same_type or a.shape != b.shape or a.dtype != b.dtype or not np.array_equal(a, b):
        raise AssertionError(
            f"{name} changed its input: before the call it was {_fmt(before)}, after the call it "
            f"is {_fmt(after)}. Work on a copy (x = np.array(x, dtype=float) makes one) and leave "
            f"the caller's array alone; if you perturb an entry, restore it."
        )


def expect_raises(exc_type: type[BaseException], func: Callable[..., Any], *args: Any,
                  name: str, why: str = "", **kwargs: Any) -> BaseException:
    """Check that ``func(*args, **kwargs)`` raises ``exc_type``.

    Returns
    -------
    BaseException
        The exception that was raised, for further checks.
    """
    try:
        result = func(*args, **kwargs)
    except exc_type as err:
        return err
    except Exception as err:  # noqa: BLE001 - reported to the student
        raise AssertionError(
            f"{name} should raise {exc_type.__name__}{' (' + why + ')' if why else ''}, "
            f"but it raised {type(err).__name__}: {err}"
        ) from None
    raise AssertionError(
        f"{name} should raise {exc_type.__name__}{' (' + why + ')' if why else ''}, "
        f"but it returned {_fmt(result)}."
    )


def no_warnings(func: Callable[..., Any], *args: Any, name: str, advice: str = "", **kwargs: Any) -> Any:
    """Call ``func`` and fail if it emits any warning (for example numpy's overflow warning).

    ``advice`` is added to the message (e.g. how to avoid dividing by zero).

    Returns
    -------
    object
        Whatever ``func`` returned.
    """
    # Underflow to zero (exp(-1000) == 0.0) is harmless and numpy ignores it by default.
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    if caught:
        first = caught[0]
        raise AssertionError(
            f"{name} emitted a warning: {first.category.__name__}: {first.message}. "
            + (advice or "A numerically stable version produces no overflow or invalid-value warnings.")
        )
    return result


@contextlib.contextmanager
def substitute(namespace: dict[str, Any], **replacements: Any) -> Iterator[None]:
    """Temporarily replace names in a namespace (the notebook's ``globals()``).

    A hidden test uses this to grade one skill on its own: while ``tangent_line`` is tested,
    ``central_difference`` is replaced by a correct version, so a mistake in one function costs
    the points of that function only.
    """
    missing = object()
    saved = {key: namespace.get(key, missing) for key in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is missing:
                namespace.pop(key, None)
            else:
                namespace[key] = value

