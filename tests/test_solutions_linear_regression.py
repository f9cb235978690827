"""Properties of the reference answers of assignment 5, each against an independent second route.

The hand-derived gradient against central differences of the loss, descent against the closed form,
full-batch "minibatch" SGD against the plain training loop, and the batches of an epoch against the
definition of a partition.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import linear_regression as lr

seeds = st.integers(min_value=0, max_value=10_000)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n=st.integers(2, 30), d=st.integers(1, 4))
def test_gradient_matches_central_differences(seed, n, d):
    rng = np.random.default_rng(seed)
    X, y, w, b = rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d), float(rng.normal())
    dw, db = lr.mse_gradients(X, y, w, b)
    h = 1e-5

    def loss(w_, b_):
        return lr.mse_loss(lr.predict(X, w_, b_), y)

    numeric_w = np.array([(loss(w + h * e, b) - loss(w - h * e, b)) / (2 * h) for e in np.eye(d)])
    numeric_b = (loss(w, b + h) - loss(w, b - h)) / (2 * h)
    # The loss is quadratic, so central differences have no truncation error: only rounding,
    # ~1e-16 * L / h ~ 1e-10 here.
    np.testing.assert_allclose(dw, numeric_w, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(db, numeric_b, rtol=1e-6, atol=1e-7)


@settings(max_examples=20, deadline=None)
@given(seed=seeds, n=st.integers(5, 40), d=st.integers(1, 3))
def test_descent_on_standardized_data_reaches_the_closed_form(seed, n, d):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d)) * rng.uniform(1, 50, size=d) + rng.uniform(-100, 100, size=d)
    X, _, _ = lr.standardize(Z)
    if np.linalg.matrix_rank(np.column_stack([X, np.ones(n)])) < d + 1:
        return  # a degenerate draw has no unique least-squares answer
    y = X @ rng.normal(size=d) + rng.normal() + 0.1 * rng.normal(size=n)
    w_exact, b_exact = lr.closed_form_fit(X, y)
    w, b, losses = lr.train_linear_regression(X, y, 0.1, 3000)
    # Standardized columns keep the Hessian's eigenvalues within ~[2 / n-ish, 2 d + 2]; 3000 steps
    # shrink the error far below 1e-6 unless the columns are nearly collinear.
    cond = np.linalg.cond(np.column_stack([X, np.ones(n)]))
    if cond < 30:
        np.testing.assert_allclose(w, w_exact, atol=1e-6)
        np.testing.assert_allclose(b, b_exact, atol=1e-6)
    # Below 2 / lambda_max the loss never rises (up to rounding, ~1e-15 of its size).
    assert np.all(np.diff(losses) <= 1e-12 * losses[0])


@settings(max_examples=25, deadline=None)
@given(seed=seeds, n=st.integers(1, 20), d=st.integers(1, 3), epochs=st.integers(0, 15))
def test_full_batch_sgd_without_momentum_is_the_training_loop(seed, n, d, epochs):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)
    path = lr.minibatch_sgd(X, y, 0.05, n, epochs, np.random.default_rng(seed))
    w, b, _ = lr.train_linear_regression(X, y, 0.05, epochs)
    # One batch of all rows: the same gradients in a shuffled order of the sums (rounding ~1e-15).
    np.testing.assert_allclose(path[-1], np.append(w, b), rtol=1e-10, atol=1e-12)
    assert path.shape == (epochs + 1, d + 1)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, n=st.integers(1, 40), batch_size=st.integers(1, 50))
def test_the_batches_of_an_epoch_are_a_partition_in_permutation_order(seed, n, batch_size):
    batches = lr.minibatches(n, batch_size, np.random.default_rng(seed))
    flat = np.concatenate(batches)
    np.testing.assert_array_equal(flat, np.random.default_rng(seed).permutation(n))
    assert all(len(b) == batch_size for b in batches[:-1]) and 1 <= len(batches[-1]) <= batch_size


@settings(max_examples=20, deadline=None)
@given(seed=seeds, momentum=st.floats(0.0, 0.95))
def test_momentum_written_either_way_gives_the_same_path(seed, momentum):
    """v = m v + g, w -= lr v  equals  u = m u - lr g, w += u  (u = -lr v), step for step."""
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(12, 2)), rng.normal(size=12)
    path = lr.minibatch_sgd(X, y, 0.03, 4, 3, np.random.default_rng(seed), momentum=momentum)
    shuffler = np.random.default_rng(seed)
    w, b, u_w, u_b, rows = np.zeros(2), 0.0, np.zeros(2), 0.0, [np.zeros(3)]
    for _ in range(3):
        order = shuffler.permutation(12)
        for batch in (order[0:4], order[4:8], order[8:12]):
            r = X[batch] @ w + b - y[batch]
            u_w = momentum * u_w - 0.03 * (2 / 4) * (X[batch].T @ r)
            u_b = momentum * u_b - 0.03 * (2 / 4) * r.sum()
            w, b = w + u_w, b + u_b
            rows.append(np.append(w, b))
    np.testing.assert_allclose(path, np.array(rows), rtol=1e-10, atol=1e-12)
