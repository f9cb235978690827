"""Tests of the pictures added for Newton's method, minibatch descent and the capstone network.

Structure, not pixels: the data behind every line and collection, labels, legends, the ValueError of
each bad input, and the command-line script of ``mlviz.classification``.
"""

import pathlib
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from mlviz import classification, gradient_descent, regression  # noqa: E402
from mlviz._examples import bowl, bowl_grad, elongated  # noqa: E402
from test_mlviz import legend_texts, readonly  # noqa: E402  (the helpers of the main mlviz tests)

TOOLS = pathlib.Path(__file__).resolve().parents[1] / "tools" / "ml-visualizations"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_all_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------ several paths on one contour plot
GD = np.array([[8.0, 9.0], [5.33, -6.0], [3.56, 4.0], [2.37, -2.67]])
NEWTON = np.array([[8.0, 9.0], [0.0, 0.0]])


def test_descent_paths_draw_every_path_with_its_steps():
    fig, ax = gradient_descent.plot_descent_paths(elongated, {"descent": readonly(GD), "Newton": readonly(NEWTON)})
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), GD)
    np.testing.assert_array_equal(ax.lines[1].get_xydata(), NEWTON)
    assert ax.lines[0].get_color() != ax.lines[1].get_color()
    assert legend_texts(ax) == ["descent (3 steps)", "Newton (1 step)", "start"]
    start = next(line for line in ax.lines if line.get_label() == "start")
    np.testing.assert_array_equal(start.get_xydata()[0], GD[0])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$w$", "$b$")
    assert ax.get_title() == "Descent paths compared" and ax.collections


def test_descent_paths_window_covers_all_paths_and_labels_follow_the_text():
    far = np.array([[8.0, 9.0], [-20.0, 30.0]])
    fig, ax = gradient_descent.plot_descent_paths(bowl, {"a": GD, "far": far}, axis_labels=("$x$", "$y$"),
                                                  title="t")
    x_lo, x_hi = ax.get_xlim()
    y_lo, y_hi = ax.get_ylim()
    assert x_lo < -20 < 8 < x_hi and y_lo < -6 < 30 < y_hi
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("$x$", "$y$", "t")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"paths_by_label": {}}, "non-empty dict"),
        ({"paths_by_label": [GD]}, "non-empty dict"),
        ({"paths_by_label": {"a": GD[:, :1]}}, r"shape \(n, 2\)"),
        ({"paths_by_label": {"a": [[1.0, np.nan]]}}, "nan or inf"),
        ({"paths_by_label": {"a": GD}, "axis_labels": ("x",)}, "axis_labels"),
        ({"paths_by_label": {"a": GD}, "title": 5}, "title"),
        ({"paths_by_label": {"a": GD}, "window": (1, 0, 0, 1)}, "window"),
    ],
)
def test_descent_paths_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradient_descent.plot_descent_paths(elongated, **kwargs)
    assert plt.get_fignums() == []


def test_axis_labels_reach_the_single_path_and_the_panels():
    fig, ax = gradient_descent.plot_descent_path(bowl, GD, axis_labels=("$x$", "$y$"))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x$", "$y$")
    paths = [gradient_descent._descend(bowl_grad, (1.0, 0.5), r, 5) for r in (0.1, 0.2)]
    fig, axes = gradient_descent.plot_learning_rate_panels(bowl, paths, [0.1, 0.2], axis_labels=("$x$", "$y$"))
    assert [(a.get_xlabel(), a.get_ylabel()) for a in axes] == [("$x$", "$y$")] * 2
    with pytest.raises(ValueError, match="axis_labels"):
        gradient_descent.plot_learning_rate_panels(bowl, paths, [0.1, 0.2], axis_labels="xy")


def test_loss_curves_take_the_words_of_the_text():
    fig, ax = gradient_descent.plot_loss_curves({"run": [1.0, 0.5]}, xlabel="epoch", ylabel="hinge loss",
                                                title="Training")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "hinge loss", "Training")
    with pytest.raises(ValueError, match="ylabel"):
        gradient_descent.plot_loss_curves({"run": [1.0, 0.5]}, ylabel=None)


# ------------------------------------------------------------------ regression surface: paths and levels
X = np.linspace(0.0, 4.0, 9)
Y = 2.0 * X + 1.0 + 0.3 * np.sin(7 * X)


def test_regression_surface_draws_labelled_paths_and_the_given_path_label():
    path = readonly([[0.0, 0.0], [1.0, 0.5], [1.8, 0.9]])
    noisy = readonly([[0.0, 0.0], [0.5, 1.5], [2.5, 0.2], [1.9, 1.1]])
    fig, ax = regression.plot_regression_loss_surface(X, Y, path=path, path_label="every 10th of 20 steps",
                                                      paths={"batch size 1": noisy}, num=20)
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), path)
    np.testing.assert_array_equal(ax.lines[1].get_xydata(), noisy)
    labels = legend_texts(ax)
    assert labels[:2] == ["every 10th of 20 steps", "batch size 1"] and "start" in labels
    x_lo, x_hi = ax.get_xlim()
    assert x_lo < 0.0 and x_hi > 2.5, "the window holds every path"


def test_regression_surface_levels_reach_the_valley_floor():
    # Raw-looking data: x far from 0 makes a long, narrow valley. The lowest contour must lie within
    # 1e-3 of the shown range above the minimum, so the valley floor is drawn.
    x = 200.0 + np.linspace(-5, 5, 11)
    y = 0.5 * x - 80.0 + 0.1 * np.cos(x)
    fig, ax = regression.plot_regression_loss_surface(x, y, num=30)
    contour = next(c for c in ax.collections if hasattr(c, "levels"))
    w_opt, b_opt = np.polyfit(x, y, 1)
    l_opt = np.mean((w_opt * x + b_opt - y) ** 2)
    levels = np.asarray(contour.levels)
    assert np.all(np.diff(levels) > 0)
    assert levels[0] - l_opt < 1e-3 * (levels[-1] - l_opt)
    assert isinstance(contour.norm, LogNorm)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"paths": [[0.0, 0.0]]}, "paths must be a dict"),
        ({"paths": {"a": [[0.0]]}}, "paths"),
        ({"path": [[0.0, 0.0]], "path_label": 3}, "path_label"),
    ],
)
def test_regression_surface_bad_paths(kwargs, message):
    with pytest.raises(ValueError, match=message):
        regression.plot_regression_loss_surface(X, Y, **kwargs)
    assert plt.get_fignums() == []


# ------------------------------------------------------------------ classification
def test_make_moons_is_seeded_labelled_and_shaped():
    X1, y1 = classification.make_moons(21, 0.1, np.random.default_rng(3))
    X2, y2 = classification.make_moons(21, 0.1, np.random.default_rng(3))
    np.testing.assert_array_equal(X1, X2)
    assert X1.shape == (21, 2) and X1.dtype == np.float64 and y1.tolist() == [-1.0] * 10 + [1.0] * 11
    X0, _ = classification.make_moons(200, 0.0, np.random.default_rng(0))
    upper, lower = X0[:100], X0[100:]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)          # unit circle around 0
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)  # around (1, 0.5)
    assert np.all(upper[:, 1] >= 0) and np.all(lower[:, 1] <= 0.5)


@pytest.mark.parametrize(
    "args, message",
    [((1, 0.1), "n must be an integer"), ((10, -0.1), "noise"), ((10, float("nan")), "noise")],
)
def test_make_moons_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        classification.make_moons(*args, np.random.default_rng(0))
    with pytest.raises(ValueError, match="Generator"):
        classification.make_moons(10, 0.1, 0)


def test_decision_boundary_shades_by_sign_and_counts_the_right_side():
    X = readonly([[-1.0, 0.0], [-0.5, 1.0], [1.0, 0.0], [0.5, -1.0], [2.0, 2.0]])
    y = readonly([-1.0, -1.0, 1.0, 1.0, -1.0])
    calls = []

    def score(point):
        calls.append(point)
        return point[0]          # positive right of x1 = 0: class +1

    fig, ax = classification.plot_decision_boundary(score, X, y, grid=11)
    assert all(isinstance(p, list) and len(p) == 2 for p in calls), "score receives a list of two floats"
    assert ax.get_title() == "Decision boundary: 4 of 5 points on the right side"
    scatters = [c for c in ax.collections if c.get_offsets().shape[0] in (2, 3)]
    np.testing.assert_array_equal(scatters[0].get_offsets(), X[y == -1])
    np.testing.assert_array_equal(scatters[1].get_offsets(), X[y == 1])
    assert legend_texts(ax) == ["class -1", "class +1", "boundary: score = 0"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")
    x_lo, x_hi = ax.get_xlim()
    assert x_lo < -1.0 and x_hi > 2.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: classification.plot_decision_boundary("f", [[0.0, 0.0]], [1.0]), "score must be a function"),
        (lambda: classification.plot_decision_boundary(sum, [[0.0, 0.0, 0.0]], [1.0]), r"shape \(n, 2\)"),
        (lambda: classification.plot_decision_boundary(sum, [[0.0, 0.0]], [1.0, 1.0]), "one label per row"),
        (lambda: classification.plot_decision_boundary(sum, [[0.0, 0.0]], [0.0]), "-1 and \\+1"),
        (lambda: classification.plot_decision_boundary(sum, [[0.0, 0.0]], [1.0], grid=1), "grid"),
        (lambda: classification.plot_decision_boundary(lambda p: "x", [[0.0, 0.0]], [1.0]), "one number"),
        (lambda: classification.plot_decision_boundary(lambda p: np.inf, [[0.0, 0.0]], [1.0]), "nan or inf"),
    ],
)
def test_decision_boundary_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
    assert plt.get_fignums() == []


def test_classification_cli_writes_a_png(tmp_path):
    out = tmp_path / "moons.png"
    result = subprocess.run([sys.executable, str(TOOLS / "classification.py"), "--n", "30", "--out", str(out)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(PNG_MAGIC) and str(out) in result.stdout
    bad = subprocess.run([sys.executable, str(TOOLS / "classification.py"), "--n", "1", "--out", str(out)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
    assert bad.returncode == 2 and "n must be an integer" in bad.stderr
