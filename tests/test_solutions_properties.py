"""Property-based tests of the reference package (an independent check of the answers themselves).

Each property compares the reference implementation with mathematics it must obey, on inputs that
hypothesis draws; the notebooks' hidden tests are checked against these same functions through
the solutions-package submission.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import derivatives as d

finite = st.floats(min_value=-5, max_value=5, allow_nan=False, allow_infinity=False)
steps = st.floats(min_value=1e-3, max_value=0.5)


@settings(max_examples=60, deadline=None)
@given(a=finite, b=finite, c=finite, x=finite, h=steps)
def test_central_difference_is_exact_on_quadratics(a, b, c, x, h):
    # Central difference of a x^2 + b x + c is exactly 2 a x + b (the h^2 term needs f''' != 0).
    f = lambda t: a * t * t + b * t + c  # noqa: E731
    assert np.isclose(d.central_difference(f, x, h), 2 * a * x + b, rtol=1e-9, atol=1e-9 / h)


@settings(max_examples=60, deadline=None)
@given(x=finite, h=steps)
def test_forward_and_backward_average_to_central(x, h):
    f = np.sin
    mean = (d.forward_difference(f, x, h) + d.backward_difference(f, x, h)) / 2
    assert np.isclose(mean, d.central_difference(f, x, h), rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(p=st.floats(min_value=0.5, max_value=4), c=st.floats(min_value=1e-3, max_value=1e3))
def test_convergence_order_recovers_the_power(p, c):
    hs = np.logspace(-1, -4, 8)
    assert np.isclose(d.convergence_order(hs, c * hs**p), p, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(x0=finite)
def test_tangent_touches_the_curve(x0):
    slope, intercept = d.tangent_line(np.exp, x0)
    assert np.isclose(slope * x0 + intercept, np.exp(x0), rtol=1e-9)
    assert np.isclose(slope, np.exp(x0), rtol=1e-8)


def test_derivative_error_rejects_unknown_method():
    try:
        d.derivative_error(np.sin, np.cos, 1.0, [1e-3], "centre")
    except ValueError as err:
        assert "forward" in str(err)
    else:
        raise AssertionError("no ValueError")
