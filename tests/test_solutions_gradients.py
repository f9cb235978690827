"""Property tests of solutions/gradients.py against independent second computations.

Numerical gradients, Jacobians and Hessians are compared with closed forms of random quadratic and
linear maps; the directional derivative with a one-variable central difference along the line;
steepest ascent with a brute-force search over directions; the quadratic model with the function
itself. Tolerances are stated with the reason next to each check. Inputs are read-only arrays, so
any write into the caller's data raises.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import gradients as g

seeds = st.integers(min_value=0, max_value=10_000)
sizes = st.integers(min_value=1, max_value=6)


def readonly(values, dtype=np.float64):
    array = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array


def random_quadratic(rng, n):
    A, b = rng.normal(size=(n, n)), rng.normal(size=n)
    return (lambda v: v @ A @ v + b @ v), (lambda v: (A + A.T) @ v + b), A + A.T


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=sizes)
def test_numerical_gradient_of_a_quadratic_is_its_closed_form(seed, n):
    rng = np.random.default_rng(seed)
    f, grad, _ = random_quadratic(rng, n)
    x = readonly(rng.uniform(-2, 2, n))
    # Central differences are exact for quadratics: only round-off ~1e-16 |f| / h ~ 1e-10 remains.
    np.testing.assert_allclose(g.numerical_gradient(f, x), grad(x), rtol=1e-7, atol=1e-7)
    for i in range(n):
        assert g.partial_derivative(f, x, i) == pytest.approx(grad(x)[i], rel=1e-7, abs=1e-7)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n=sizes, m=sizes)
def test_jacobian_of_a_layer_is_its_weights_and_of_a_squash_is_diagonal(seed, n, m):
    rng = np.random.default_rng(seed)
    W, x = rng.normal(size=(m, n)), readonly(rng.uniform(-2, 2, n))
    np.testing.assert_allclose(g.numerical_jacobian(lambda v: W @ v, x), W, rtol=1e-7, atol=1e-8)
    # tanh elementwise: Jacobian diag(1 - tanh^2); central error h^2/6 |f'''| <= 1e-10.
    np.testing.assert_allclose(g.numerical_jacobian(np.tanh, x), np.diag(1 - np.tanh(x) ** 2), atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n=sizes)
def test_hessian_of_a_quadratic_is_exactly_symmetric_and_right(seed, n):
    rng = np.random.default_rng(seed)
    f, _, hessian = random_quadratic(rng, n)
    H = g.numerical_hessian(f, readonly(rng.uniform(-2, 2, n)))
    assert np.array_equal(H, H.T)
    # Exact for quadratics up to round-off ~1e-16 |f| / h^2 ~ 1e-7 with h = 1e-4.
    np.testing.assert_allclose(H, hessian, rtol=1e-5, atol=1e-5)


def test_integer_points_and_lists_give_the_float_results():
    f = lambda v: v[0] ** 2 * v[1] + np.sin(v[1])  # noqa: E731
    for x in ([1, 2], readonly([1, 2], np.int64)):
        np.testing.assert_array_equal(g.numerical_gradient(f, x), g.numerical_gradient(f, np.array([1.0, 2.0])))
        np.testing.assert_array_equal(g.numerical_hessian(f, x), g.numerical_hessian(f, np.array([1.0, 2.0])))
    assert g.grad_bowl(3, 4).dtype == np.float64 and g.grad_f_xy(1, 2).tolist() == [8.0, 7.0]


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=sizes)
def test_directional_derivative_is_the_slope_along_the_line(seed, n):
    rng = np.random.default_rng(seed)
    f, grad, _ = random_quadratic(rng, n)
    x, v = rng.uniform(-2, 2, n), rng.normal(size=n) * rng.uniform(0.1, 10)
    if np.linalg.norm(v) < 1e-3:
        return
    u = v / np.linalg.norm(v)
    along = (f(x + 1e-4 * u) - f(x - 1e-4 * u)) / 2e-4  # exact for a quadratic, round-off ~1e-11
    assert g.directional_derivative(readonly(grad(x)), readonly(v)) == pytest.approx(along, rel=1e-6, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n=st.integers(min_value=2, max_value=5))
def test_steepest_ascent_beats_every_other_direction(seed, n):
    rng = np.random.default_rng(seed)
    grad = readonly(rng.normal(size=n))
    u = g.steepest_ascent_direction(grad)
    assert np.linalg.norm(u) == pytest.approx(1.0, rel=1e-12)
    others = rng.normal(size=(500, n))
    others /= np.linalg.norm(others, axis=1, keepdims=True)
    assert g.directional_derivative(grad, u) >= np.max(others @ grad) - 1e-12


def test_zero_cases_are_exact_and_silent():
    with np.errstate(all="raise"):
        assert g.steepest_ascent_direction(readonly([0, 0], np.int64)).tolist() == [0.0, 0.0]
        assert g.steepest_ascent_direction(readonly([0, 0], np.int64)).dtype == np.float64
        result = g.relative_error(readonly([0, 0, 0], np.int64), readonly([0.0, -0.0, 0.0]))
    assert result == 0.0 and type(result) is float
    with pytest.raises(ValueError, match="zero"):
        g.directional_derivative(np.array([1.0, 2.0]), np.zeros(2))


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=sizes, scale=st.floats(min_value=1e-6, max_value=1e6))
def test_relative_error_is_symmetric_bounded_and_scale_free(seed, n, scale):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    r = g.relative_error(a, b)
    assert 0.0 <= r <= 1.0
    assert r == pytest.approx(g.relative_error(b, a), rel=1e-12)
    assert g.relative_error(scale * a, scale * b) == pytest.approx(r, rel=1e-9)
    assert g.relative_error(a, -a) == pytest.approx(1.0)


def test_gradient_check_separates_right_from_wrong():
    f = lambda v: np.sum(np.sin(v)) + v[0] * v[1]  # noqa: E731
    right = lambda v: np.cos(v) + np.array([v[1], v[0], 0.0])  # noqa: E731
    wrong = lambda v: np.cos(v)  # noqa: E731 (cross term forgotten)
    rng = np.random.default_rng(5)
    for x in rng.uniform(-2, 2, (5, 3)):
        assert g.gradient_check(f, right, x) < 1e-8  # central differences: ~1e-11 relative
        assert g.gradient_check(f, wrong, x) > 1e-2
    assert g.gradient_check(f, right, [1, 2, 3]) < 1e-8


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=sizes)
def test_quadratic_model_is_exact_for_quadratics(seed, n):
    rng = np.random.default_rng(seed)
    f, grad, hessian = random_quadratic(rng, n)
    x, delta = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    model = g.quadratic_model(f(x), readonly(grad(x)), readonly(hessian), readonly(delta))
    assert type(model) is float
    assert model == pytest.approx(f(x + delta), rel=1e-9, abs=1e-9)


def test_second_order_error_shrinks_like_the_cube_of_the_step():
    # f = sum(exp(v)): gradient exp(v), Hessian diag(exp(v)). Halving the step divides the
    # first-order error by ~4 and the second-order one by ~8 (tolerances 10 % on the ratios).
    f = lambda v: float(np.sum(np.exp(v)))  # noqa: E731
    x, u = np.array([0.3, -0.2]), np.array([0.6, 0.8])
    grad, hessian = np.exp(x), np.diag(np.exp(x))
    errors = {order: [] for order in (1, 2)}
    for t in (0.2, 0.1, 0.05):
        exact = f(x + t * u)
        errors[1].append(abs(g.quadratic_model(f(x), grad, np.zeros((2, 2)), t * u) - exact))
        errors[2].append(abs(g.quadratic_model(f(x), grad, hessian, t * u) - exact))
    for order, power in ((1, 2), (2, 3)):
        ratios = np.array(errors[order][:-1]) / np.array(errors[order][1:])
        np.testing.assert_allclose(ratios, 2.0**power, rtol=0.1)
