"""Tests of mlviz.gradients beyond tests/test_mlviz.py: the names of the two inputs in every label
of the gradient field, and gradients written for a single point (what the course asks students to
write), which the figure must call with plain numbers only.
"""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402

from mlviz import gradients  # noqa: E402


@pytest.fixture(autouse=True)
def _close_all_figures():
    yield
    plt.close("all")


def saddle(X, Y):
    return X**2 + 3 * X * Y + Y**2


def quiver_of(ax):
    (q,) = [c for c in ax.collections if isinstance(c, Quiver)]
    return q


def test_field_labels_use_the_given_names():
    fig, ax = gradients.plot_gradient_field(saddle, lambda X, Y: (2 * X + 3 * Y, 3 * X + 2 * Y),
                                            w_range=(-3, 3), b_range=(-3, 3), num=12, arrow_every=3,
                                            names=("x", "y"))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x$", "$y$")
    (colorbar,) = [a for a in fig.axes if a is not ax]
    assert colorbar.get_ylabel() == "$f(x, y)$"
    (legend,) = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "\\partial x" in legend and "\\partial y" in legend
    assert "w" not in legend and "b" not in legend.replace("nabla", "")
    assert "f(x, y)" in ax.get_title()
    fig.savefig(io.BytesIO(), format="png", dpi=30)  # the mathtext must render


def test_field_default_names_are_w_and_b():
    fig, ax = gradients.plot_gradient_field(saddle, lambda X, Y: (2 * X + 3 * Y, 3 * X + 2 * Y), num=8,
                                            arrow_every=4)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$w$", "$b$")


def test_pointwise_gradient_gets_only_numbers():
    seen = []

    def grad_at_a_point(x, y):
        seen.append((type(x), type(y)))
        return np.array([float(2 * x + 3 * y), float(3 * x + 2 * y)])  # breaks on arrays

    fig, ax = gradients.plot_gradient_field(saddle, grad_at_a_point, w_range=(-3, 3), b_range=(-3, 3),
                                            num=20, arrow_every=5, pointwise=True)
    q = quiver_of(ax)
    assert len(seen) == q.U.size == 16
    assert set(seen) == {(float, float)}
    np.testing.assert_allclose(np.ravel(q.U), 2 * q.X + 3 * q.Y)
    np.testing.assert_allclose(np.ravel(q.V), 3 * q.X + 2 * q.Y)


def test_grid_mode_still_calls_the_gradient_once_with_arrays():
    calls = []

    def grad_on_grid(W, B):
        calls.append(np.shape(W))
        return 2 * W, 2 * B

    fig, ax = gradients.plot_gradient_field(lambda W, B: W**2 + B**2, grad_on_grid, num=20, arrow_every=5)
    assert calls == [(4, 4)]


def test_a_point_gradient_without_pointwise_gets_a_clear_error():
    def grad_at_a_point(x, y):
        return np.array([float(2 * x), float(2 * y)])

    with pytest.raises(ValueError, match="failed on arrays"):
        gradients.plot_gradient_field(saddle, grad_at_a_point, num=10, arrow_every=5)
    assert plt.get_fignums() == []


@pytest.mark.parametrize(
    "grad, kwargs, message",
    [
        (lambda x, y: np.array([x, y, 0.0]), {}, "two numbers"),
        (lambda x, y: [x], {}, "two numbers"),
        (lambda x, y: 1 / 0, {}, None),
        (lambda x, y: "ab", {}, "failed at the point"),
        (lambda x, y: [x, y], dict(names=("x",)), "names must be a pair"),
        (lambda x, y: [x, y], dict(names=("x", "")), "names"),
        (lambda x, y: [x, y], dict(names="xy"), "names must be a pair"),
    ],
)
def test_pointwise_bad_input(grad, kwargs, message):
    if message is None:  # an exception other than TypeError/ValueError is not hidden
        with pytest.raises(ZeroDivisionError):
            gradients.plot_gradient_field(saddle, grad, num=10, arrow_every=5, pointwise=True, **kwargs)
    else:
        with pytest.raises(ValueError, match=message):
            gradients.plot_gradient_field(saddle, grad, num=10, arrow_every=5, pointwise=True, **kwargs)
    assert plt.get_fignums() == []
