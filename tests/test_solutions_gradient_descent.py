"""Properties of the reference answers of assignment 4, each checked against a second, independent route.

Gradient descent on a quadratic against the eigen-decomposition's closed form, Newton's step against
the minimum computed from the eigenvalues, Newton's iterations against plain descent, and the speed
limit 2 / lambda_max against what descent actually does just below and above it.
"""
from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from solutions import gradient_descent as gd

seeds = st.integers(min_value=0, max_value=10_000)


def _spd(rng, d, low=0.5, high=10.0):
    """A random symmetric positive definite matrix with known eigenvalues: (A, Q, lam)."""
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    lam = rng.uniform(low, high, size=d)
    A = Q @ np.diag(lam) @ Q.T
    return (A + A.T) / 2, Q, lam


@settings(max_examples=30, deadline=None)
@given(seed=seeds, d=st.integers(1, 5), fraction=st.floats(0.05, 0.95), n=st.integers(0, 40))
def test_descent_on_a_quadratic_follows_the_eigen_closed_form(seed, d, fraction, n):
    rng = np.random.default_rng(seed)
    A, Q, lam = _spd(rng, d)
    eta = fraction * 2 / lam.max()
    x0 = rng.normal(0, 3, size=d)
    path = gd.gradient_descent(lambda x: A @ x, x0, eta, n)
    factors = (1 - eta * lam)[None, :] ** np.arange(n + 1)[:, None]
    closed = (factors * (Q.T @ x0)[None, :]) @ Q.T
    # Each step rounds at ~1e-16; over 40 contracting steps the paths agree to ~1e-13.
    np.testing.assert_allclose(path, closed, rtol=1e-9, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, d=st.integers(1, 6))
def test_one_newton_step_lands_on_the_minimum_of_a_quadratic(seed, d):
    rng = np.random.default_rng(seed)
    A, Q, lam = _spd(rng, d, 0.2, 50.0)
    c = rng.normal(0, 3, size=d)
    x = rng.normal(0, 10, size=d)
    minimum = Q @ ((Q.T @ c) / lam)
    got = gd.newton_step(lambda v: A @ v - c, lambda v: A, x)
    # Condition number up to 250: the solve loses up to ~1e-13 relative; rtol 1e-8.
    np.testing.assert_allclose(got, minimum, rtol=1e-8, atol=1e-8)


@settings(max_examples=20, deadline=None)
@given(w0=st.floats(-6, 6), b0=st.floats(-6, 6))
@example(w0=0.0, b0=1.1e-10)   # a start a little outside descent's tolerance: 3 steps, Newton 1
def test_newton_and_descent_agree_on_a_convex_non_quadratic_bowl(w0, b0):
    def grad(v):
        return np.array([2 * v[0] + v[0] ** 3, 10 * v[1] + v[1] ** 3])

    def hess(v):
        return np.diag([2 + 3 * v[0] ** 2, 10 + 3 * v[1] ** 2])

    x_newton, k_newton = gd.newton_iterations(grad, hess, [w0, b0], tol=1e-12)
    x_descent, k_descent = gd.gradient_descent_until(grad, [w0, b0], 0.004, tol=1e-9, max_iterations=20_000)
    # Both reach the only minimum (0, 0); descent stops at a gradient of 1e-9, i.e. within 1e-9 / 2.
    np.testing.assert_allclose(x_newton, [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(x_descent, x_newton, atol=1e-9)
    # Newton needs few steps from anywhere here, never more than descent (which may need none: a
    # start within its tolerance); from a start away from the minimum descent needs many more.
    assert k_newton <= 12, f"Newton took {k_newton} steps"
    assert k_descent == 0 or k_newton <= k_descent, (k_newton, k_descent)
    if np.linalg.norm(grad(np.array([w0, b0]))) > 1e-3:
        assert k_descent >= 12, k_descent


@settings(max_examples=25, deadline=None)
@given(seed=seeds, d=st.integers(1, 4))
def test_the_speed_limit_separates_convergence_from_divergence(seed, d):
    rng = np.random.default_rng(seed)
    A, Q, lam = _spd(rng, d)
    limit = gd.max_stable_learning_rate(A)
    np.testing.assert_allclose(limit, 2 / lam.max(), rtol=1e-10)
    x0 = Q[:, np.argmax(lam)] + 0.1 * rng.normal(size=d)   # a start with a component along the steepest direction
    below = gd.gradient_descent(lambda x: A @ x, x0, 0.9 * limit, 200)[-1]
    above = gd.gradient_descent(lambda x: A @ x, x0, 1.1 * limit, 200)[-1]
    # Below the limit every factor has size < 1 (at most max(0.8, 1 - 0.9 * 2 lam_min / lam_max));
    # above it the steepest factor is -1.2, so after 200 steps the point has grown by ~1.2**200.
    assert np.linalg.norm(below) < np.linalg.norm(x0)
    assert np.linalg.norm(above) > 1e10 * np.linalg.norm(x0)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, d=st.integers(1, 8), max_norm=st.floats(0.01, 100))
def test_clipping_caps_the_norm_and_keeps_the_direction(seed, d, max_norm):
    g = np.random.default_rng(seed).normal(0, 10, size=d)
    clipped = gd.clip_by_norm(g, max_norm)
    norm = np.linalg.norm(g)
    assert np.linalg.norm(clipped) <= max_norm * (1 + 1e-12) or np.allclose(clipped, g)
    # Parallel: the cosine is 1 up to rounding.
    np.testing.assert_allclose(clipped @ g, np.linalg.norm(clipped) * norm, rtol=1e-12)
