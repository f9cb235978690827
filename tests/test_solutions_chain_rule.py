"""Property tests of solutions/chain_rule.py against independent second computations (micrograd
style): every hand-written derivative is compared with central differences of the function it
differentiates, and the composed Jacobian with the numerical Jacobian of the composition. The
central differences use h = 1e-6, whose error is ~1e-10 here, so tolerances are 1e-7 unless said.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import chain_rule as c

seeds = st.integers(min_value=0, max_value=10_000)
H = 1e-6


def numeric_grad(func, v):
    """Central differences of a scalar function of the array v (any shape)."""
    v = np.array(v, dtype=np.float64)
    grad = np.zeros(v.shape)
    for pos in np.ndindex(v.shape):
        step = np.zeros(v.shape)
        step[pos] = H
        grad[pos] = (func(v + step) - func(v - step)) / (2 * H)
    return grad


def numeric_jacobian(func, x):
    x = np.array(x, dtype=np.float64)
    return np.stack([(func(x + H * e) - func(x - H * e)) / (2 * H) for e in np.eye(x.size)], axis=1)


def readonly(values, dtype=np.float64):
    array = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array


@settings(max_examples=40, deadline=None)
@given(x=st.floats(min_value=-2, max_value=2), a=st.floats(min_value=-2, max_value=2))
def test_chain_derivative_matches_the_composition(x, a):
    f, fp = np.sin, np.cos
    g, gp = (lambda t: a * t**3 + t), (lambda t: 3 * a * t**2 + 1)
    derivative = c.chain_derivative(fp, g, gp)
    assert derivative(x) == pytest.approx((f(g(x + H)) - f(g(x - H))) / (2 * H), rel=1e-6, abs=1e-6)


def test_sigmoid_matches_tanh_and_is_stable():
    z = readonly(np.concatenate([np.linspace(-40, 40, 81), [-1000, -710, 710, 1000]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning anywhere
        s, ds = c.sigmoid(z), c.sigmoid_derivative(z)
    np.testing.assert_allclose(s, (1 + np.tanh(z / 2)) / 2, rtol=1e-12, atol=1e-15)
    inner = np.abs(z) < 30
    np.testing.assert_allclose(ds[inner], numeric_grad(lambda t: np.sum(c.sigmoid(t)), z[inner]), atol=1e-8)
    assert np.all(np.isfinite(ds)) and ds.max() <= 0.25
    for number in (3, np.array(1.5), -2.0):
        assert np.ndim(c.sigmoid(number)) == 0 and np.asarray(c.sigmoid(number)).dtype == np.float64


def test_relu_and_its_derivative_are_float_everywhere():
    z = readonly([-2, 0, 3], np.int64)
    assert c.relu(z).tolist() == [0.0, 0.0, 3.0] and c.relu(z).dtype == np.float64
    assert c.relu_derivative(z).tolist() == [0.0, 0.0, 1.0] and c.relu_derivative(z).dtype == np.float64
    assert type(c.relu(3)) is np.float64 and type(c.relu_derivative(np.array(-1))) is np.float64


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n=st.integers(min_value=1, max_value=6))
def test_neuron_gradients_match_central_differences(seed, n):
    rng = np.random.default_rng(seed)
    x, w, b = readonly(rng.normal(size=n)), readonly(rng.normal(size=n)), float(rng.normal())
    out = c.neuron_gradients(x, w, b)
    y = lambda xx, ww, bb: float(c.sigmoid(ww @ xx + bb))  # noqa: E731
    assert out["y"] == pytest.approx(y(x, w, b), rel=1e-12)
    np.testing.assert_allclose(out["dw"], numeric_grad(lambda v: y(x, v, b), w), atol=1e-7)
    np.testing.assert_allclose(out["dx"], numeric_grad(lambda v: y(v, w, b), x), atol=1e-7)
    assert out["db"] == pytest.approx((y(x, w, b + H) - y(x, w, b - H)) / (2 * H), abs=1e-7)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n=st.integers(min_value=1, max_value=6), k=st.integers(min_value=0, max_value=5))
def test_softmax_jacobian_and_cross_entropy_gradient_match_central_differences(seed, n, k):
    rng = np.random.default_rng(seed)
    z, k = readonly(rng.normal(0, 3, size=n)), k % n
    np.testing.assert_allclose(c.softmax_jacobian(z), numeric_jacobian(c.softmax, z), atol=1e-7)
    y = np.eye(n)[k]
    loss = lambda t: -np.log(c.softmax(t)[k])  # noqa: E731
    np.testing.assert_allclose(c.softmax_cross_entropy_grad(z, y), numeric_grad(loss, z), atol=1e-7)
    assert c.softmax(z).sum() == pytest.approx(1.0, abs=1e-12)


def test_softmax_is_stable_for_huge_scores():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = c.softmax(readonly([1000.0, 999.0, 998.0]))
    np.testing.assert_allclose(p, c.softmax(np.array([2.0, 1.0, 0.0])), rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, sizes=st.lists(st.integers(min_value=1, max_value=5), min_size=2, max_size=5))
def test_jacobian_chain_matches_the_jacobian_of_the_composition(seed, sizes):
    # Layers x -> tanh(W x): the product of their Jacobians W_k-diag(tanh') must be the Jacobian
    # of the whole composition, evaluated numerically from scratch.
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(m, n)) for n, m in zip(sizes[:-1], sizes[1:])]
    x = rng.normal(size=sizes[0])

    def network(v):
        for W in weights:
            v = np.tanh(W @ v)
        return v

    jacobians, v = [], x
    for W in weights:
        u = W @ v
        jacobians.append(np.diag(1 - np.tanh(u) ** 2) @ W)
        v = np.tanh(u)
    np.testing.assert_allclose(c.jacobian_chain([readonly(J) for J in jacobians]),
                               numeric_jacobian(network, x), atol=1e-7)


def test_jacobian_chain_rejects_shapes_that_do_not_fit_in_either_order():
    with pytest.raises(ValueError, match=r"\(4, 5\)"):
        c.jacobian_chain([np.ones((3, 2)), np.ones((4, 5))])
    assert c.jacobian_chain([np.array([[1, 2], [3, 4]])]).dtype == np.float64


def random_network(rng, n, h, m, scale=1.0):
    return {"W1": scale * rng.normal(size=(h, n)), "b1": rng.normal(size=h),
            "W2": rng.normal(size=(m, h)), "b2": rng.normal(size=m)}


def mean_loss(p, X, Y):
    return np.mean([0.5 * np.sum((p["W2"] @ c.sigmoid(p["W1"] @ x + p["b1"]) + p["b2"] - y) ** 2)
                    for x, y in zip(X, Y)])


@settings(max_examples=20, deadline=None)
@given(seed=seeds, n=st.integers(1, 4), h=st.integers(1, 5), m=st.integers(1, 3),
       scale=st.sampled_from([0.5, 1.0, 10.0]))
def test_two_layer_backward_matches_central_differences_of_the_loss(seed, n, h, m, scale):
    rng = np.random.default_rng(seed)
    p = random_network(rng, n, h, m, scale)
    x, y = rng.normal(size=n), rng.normal(size=m)
    grads = c.two_layer_backward(readonly(x), readonly(y), *(readonly(p[k]) for k in ("W1", "b1", "W2", "b2")))
    for key in p:
        def loss_of(value, key=key):
            return mean_loss({**p, key: value}, [x], [y])
        # Loss of order 1-100: central-difference error ~1e-9 absolute, plus rounding.
        np.testing.assert_allclose(grads["d" + key], numeric_grad(loss_of, p[key]), rtol=1e-6, atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(seed=seeds, N=st.integers(1, 5), lr=st.sampled_from([0.01, 0.1]))
def test_train_step_is_a_step_along_the_numerical_gradient_of_the_mean_loss(seed, N, lr):
    rng = np.random.default_rng(seed)
    p = {k: readonly(v) for k, v in random_network(rng, 2, 3, 2).items()}
    X, Y = readonly(rng.normal(size=(N, 2))), readonly(rng.normal(size=(N, 2)))
    new = c.train_step(p, X, Y, lr)
    for key in p:
        expected = p[key] - lr * numeric_grad(lambda value, key=key: mean_loss({**p, key: value}, X, Y), p[key])
        np.testing.assert_allclose(new[key], expected, rtol=1e-6, atol=1e-8)
        assert not np.shares_memory(new[key], p[key])
    assert mean_loss(new, X, Y) < mean_loss(p, X, Y)  # a short step downhill lowers the loss


def test_training_the_notebooks_network_lowers_the_loss_tenfold():
    # The demo of the notebook: 8 hidden units fitting 16 points of sin x, 300 steps at rate 0.5.
    X = np.linspace(-3.0, 3.0, 16).reshape(-1, 1)
    Y = np.sin(X)
    rng = np.random.default_rng(1)
    p = {"W1": rng.normal(0.0, 1.0, (8, 1)), "b1": rng.normal(0.0, 1.0, 8),
         "W2": rng.normal(0.0, 0.5, (1, 8)), "b2": np.zeros(1)}
    losses = [mean_loss(p, X, Y)]
    for _ in range(300):
        p = c.train_step(p, X, Y, 0.5)
        losses.append(mean_loss(p, X, Y))
    assert losses[-1] < losses[0] / 10
    assert np.all(np.diff(losses) < 0), "at this learning rate every step lowers the loss"
