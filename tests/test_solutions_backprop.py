"""Properties of the capstone's reference answers, micrograd style: reverse mode (Value) against
forward mode (Dual) and against central differences, on random expressions and on the network.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import backprop as bp

seeds = st.integers(min_value=0, max_value=10_000)
OPS = ["add", "sub", "mul", "div", "square", "tanh", "sigmoid", "exp", "relu", "neg", "cmul", "rsub"]


def _program(rng, n_inputs, steps):
    return [(str(rng.choice(OPS)), int(rng.integers(0, n_inputs + k)), int(rng.integers(0, n_inputs + k)),
             float(rng.uniform(0.5, 2.0))) for k in range(steps)]


def _run(program, xs):
    """The same program on Values, Duals or floats (floats use math; the numbers stay moderate)."""
    nodes = list(xs)
    is_number = isinstance(xs[0], float)
    for op, i, j, c in program:
        p, q = nodes[i], nodes[j]
        if op == "add":
            out = p + q
        elif op == "sub":
            out = p - q
        elif op == "mul":
            out = p * q
        elif op == "div":
            out = p / (q * q + 1.0)
        elif op == "square":
            out = p ** 2
        elif op == "tanh":
            out = math.tanh(p) if is_number else p.tanh()
        elif op == "sigmoid":
            out = 1 / (1 + math.exp(-p)) if is_number else p.sigmoid()
        elif op == "exp":
            out = math.exp(math.tanh(p)) if is_number else p.tanh().exp()
        elif op == "relu":
            out = max(p * c + 0.1, 0.0) if is_number else (p * c + 0.1).relu()
        elif op == "neg":
            out = -p
        elif op == "cmul":
            out = c * p
        else:
            out = c - p
        nodes.append(out)
    return nodes[-1] + nodes[-2] * nodes[-3]


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(2, 5))
def test_reverse_mode_equals_forward_mode_and_finite_differences(seed, n):
    rng = np.random.default_rng(seed)
    program = _program(rng, n, 12)
    point = [float(v) for v in rng.uniform(-1.5, 1.5, n)]
    leaves = [bp.Value(v) for v in point]
    out = _run(program, leaves)
    out.backward()
    reverse = np.array([leaf.grad for leaf in leaves])
    forward = np.array([bp.forward_mode_derivative(lambda xs: _run(program, xs), point, i) for i in range(n)])
    # Both modes apply the same local rules in another order: rounding only.
    np.testing.assert_allclose(reverse, forward, rtol=1e-9, atol=1e-10)
    value = _run(program, point)
    if abs(value) > 1e3:
        return  # central differences lose their digits on huge values
    h = 1e-6
    numeric = np.array([(_run(program, [p + h * (k == i) for k, p in enumerate(point)])
                         - _run(program, [p - h * (k == i) for k, p in enumerate(point)])) / (2 * h)
                        for i in range(n)])
    kink = any(op == "relu" for op, *_ in program)
    # Central differences: error ~h^2 f''' + eps |f| / h ~ 1e-9 for moderate values; a relu kink
    # within h of a point (probability ~1e-6) would break this, hence the looser check there.
    np.testing.assert_allclose(reverse, numeric, rtol=1e-5, atol=1e-5 if not kink else 1e-3)


@settings(max_examples=25, deadline=None)
@given(seed=seeds)
def test_gradients_from_two_graphs_on_shared_leaves_add_up(seed):
    rng = np.random.default_rng(seed)
    p, q, r = (float(v) for v in rng.uniform(-2, 2, 3))
    a, b, c = bp.Value(p), bp.Value(q), bp.Value(r)
    (a * b).backward()
    (a.tanh() * c + b).backward()
    t = math.tanh(p)
    np.testing.assert_allclose([a.grad, b.grad, c.grad], [q + (1 - t * t) * r, p + 1.0, t], rtol=1e-12, atol=1e-15)


def _network_loss(params, shapes, X, y):
    """The hinge loss of an MLP in plain numpy, from a flat parameter vector (weights, then bias)."""
    k, a_all = 0, []
    for x in X:
        a, start = np.asarray(x, dtype=float), 0
        for layer, (n_in, n_out, nonlinear) in enumerate(shapes):
            block = params[start:start + n_out * (n_in + 1)].reshape(n_out, n_in + 1)
            z = block[:, :-1] @ a + block[:, -1]
            a = np.tanh(z) if nonlinear else z
            start += n_out * (n_in + 1)
        a_all.append(a[0])
    return float(np.mean(np.maximum(0.0, 1.0 - np.asarray(y) * np.array(a_all))))


@settings(max_examples=15, deadline=None)
@given(seed=seeds, hidden=st.integers(1, 5))
def test_network_gradients_match_central_differences(seed, hidden):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(6, 2))
    y = np.where(rng.normal(size=6) > 0, 1.0, -1.0)
    model = bp.MLP(2, [hidden, 1], rng)
    params = model.parameters()
    assert len(params) == 3 * hidden + hidden + 1 and len({id(p) for p in params}) == len(params)
    loss = bp.hinge_loss([model(list(x)) for x in X], y)
    loss.backward()
    shapes = [(2, hidden, True), (hidden, 1, False)]
    flat = np.array([p.data for p in params])
    assert math.isclose(loss.data, _network_loss(flat, shapes, X, y), rel_tol=1e-12, abs_tol=1e-12)
    h = 1e-6
    numeric = np.array([(_network_loss(flat + h * e, shapes, X, y) - _network_loss(flat - h * e, shapes, X, y)) / (2 * h)
                        for e in np.eye(flat.size)])
    # The hinge has kinks; a point within ~1e-6 of its margin is a ~1e-6-probability event.
    np.testing.assert_allclose([p.grad for p in params], numeric, rtol=1e-5, atol=1e-6)


@settings(max_examples=10, deadline=None)
@given(seed=seeds)
def test_a_small_training_step_never_raises_the_loss(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(8, 2))
    y = np.where(X[:, 0] + 0.3 * X[:, 1] > 0, 1.0, -1.0)
    model = bp.MLP(2, [3, 1], rng)
    before = bp.train_step(model, X, y, 1e-3)
    after = bp.hinge_loss([model(list(x)) for x in X], y).data
    # A step of 1e-3 along minus the gradient lowers a piecewise-smooth loss by ~1e-3 |g|^2, unless
    # the gradient is 0 (every point beyond the margin), when nothing moves.
    assert after <= before + 1e-12


@settings(max_examples=30, deadline=None)
@given(seed=seeds, max_norm=st.floats(0.01, 50))
def test_global_clipping_caps_the_total_norm_and_keeps_the_direction(seed, max_norm):
    rng = np.random.default_rng(seed)
    grads = [rng.normal(0, 5, size=(3, 2)), rng.normal(0, 5, size=4)]
    clipped = bp.clip_grad_norm(grads, max_norm)
    before = np.concatenate([g.ravel() for g in grads])
    after = np.concatenate([g.ravel() for g in clipped])
    assert np.linalg.norm(after) <= max(max_norm, 0) * (1 + 1e-9) or np.allclose(after, before)
    np.testing.assert_allclose(after @ before, np.linalg.norm(after) * np.linalg.norm(before), rtol=1e-12)
