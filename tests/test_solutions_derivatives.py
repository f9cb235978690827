"""Property tests of solutions/derivatives.py against independent second computations.

Every finite difference is compared with the exact derivative written out by hand, with a
tolerance derived from the truncation error of the formula (stated next to each check); array
handling is compared with one scalar call per element; inputs are read-only arrays, so any write
into the caller's data raises.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import derivatives as d

coefficient = st.floats(min_value=-3, max_value=3, allow_nan=False)
point = st.floats(min_value=-2, max_value=2, allow_nan=False)
step = st.floats(min_value=1e-3, max_value=0.3)


def readonly(values, dtype=np.float64):
    array = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array


@settings(max_examples=60, deadline=None)
@given(a=coefficient, b=coefficient, c=coefficient, x=point, h=step)
def test_differences_of_a_cubic_match_their_closed_forms(a, b, c, x, h):
    # For f = a t^3 + b t^2 + c t the quotients are exact polynomials in h (Taylor stops at t^3):
    # forward = f'(x) + (3a x + b) h + a h^2, backward = f'(x) - (3a x + b) h + a h^2,
    # central = f'(x) + a h^2. Rounding: ~1e-16 * |f| / h <= 1e-12 here.
    f = lambda t: a * t**3 + b * t**2 + c * t  # noqa: E731
    exact = 3 * a * x**2 + 2 * b * x + c
    tol = dict(rel=1e-9, abs=1e-9)
    assert d.forward_difference(f, x, h) == pytest.approx(exact + (3 * a * x + b) * h + a * h**2, **tol)
    assert d.backward_difference(f, x, h) == pytest.approx(exact - (3 * a * x + b) * h + a * h**2, **tol)
    assert d.central_difference(f, x, h) == pytest.approx(exact + a * h**2, **tol)


@pytest.mark.parametrize("x", [-1.3, 0.7, 1.0, 2.4])
def test_orders_of_convergence_are_one_and_two(x):
    # On the truncation side of the V (h from 1e-1 to 1e-3 for sin), the fitted log-log slope is the
    # order: 1 for forward and backward differences, 2 for central ones. Tolerance 0.05 covers the
    # h^2 term next to the leading h term where |sin x| (= |f''|) is not small, as at these points.
    hs = np.logspace(-1, -3, 9)
    for method, order in [("forward", 1), ("backward", 1), ("central", 2)]:
        errors = d.derivative_error(np.sin, np.cos, x, hs, method)
        assert d.convergence_order(hs, errors) == pytest.approx(order, abs=0.05)


def test_best_central_step_sits_near_the_cube_root_of_epsilon():
    # The V's bottom for central differences is near eps^(1/3) ~ 6e-6 (truncation h^2/6 |f'''| against
    # round-off eps |f| / h); on a grid of decades it must be 1e-5 or 1e-6, and forward's ~1e-8.
    hs = list(np.logspace(-1, -13, 13))
    assert round(np.log10(d.best_step(np.sin, np.cos, 1.0, hs, "central"))) in (-5, -6)
    assert round(np.log10(d.best_step(np.sin, np.cos, 1.0, hs, "forward"))) in (-7, -8, -9)


@pytest.mark.parametrize("values, dtype", [([[0.5, -1.0, 2.0], [3e-7, 1.1, -2.2]], np.float64),
                                           ([1, 2, -3, 4], np.int64), (1.5, np.float64), (-2, np.int64)])
def test_arrays_are_handled_elementwise_without_touching_them(values, dtype):
    x = readonly(values, dtype)  # a write into the caller's array would raise here
    for method in (d.forward_difference, d.backward_difference, d.central_difference):
        got = method(np.sin, x, 0.01)
        assert np.asarray(got).dtype == np.float64 and np.shape(got) == x.shape
        one_by_one = np.array([method(np.sin, float(v), 0.01) for v in x.ravel()]).reshape(x.shape)
        np.testing.assert_allclose(got, one_by_one, rtol=1e-15, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(x0=point, h=step)
def test_tangent_uses_the_given_step_and_touches_the_curve(x0, h):
    # For x^3 the central slope with step h is exactly 3 x0^2 + h^2; the line passes through (x0, x0^3).
    slope, intercept = d.tangent_line(lambda t: t**3, x0, h)
    assert slope == pytest.approx(3 * x0**2 + h**2, rel=1e-9, abs=1e-9)
    assert slope * x0 + intercept == pytest.approx(x0**3, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("bad", ["centre", "Central", "", "forwards"])
def test_unknown_methods_name_the_allowed_ones(bad):
    with pytest.raises(ValueError) as info:
        d.derivative_error(np.sin, np.cos, 1.0, [1e-3], bad)
    assert all(name in str(info.value) for name in ("forward", "backward", "central"))


def test_derivative_error_is_the_absolute_difference_for_lists_and_arrays():
    hs = [0.5, 0.1, 0.02]
    for steps in (hs, readonly(hs)):
        errors = d.derivative_error(math.exp, math.exp, 0.3, steps, "forward")
        expected = [abs((math.exp(0.3 + h) - math.exp(0.3)) / h - math.exp(0.3)) for h in hs]
        np.testing.assert_allclose(errors, expected, rtol=1e-12)
    assert hs == [0.5, 0.1, 0.02]
