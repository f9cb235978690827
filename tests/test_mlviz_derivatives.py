"""Tests of mlviz.derivatives beyond tests/test_mlviz.py: variable names in the labels, and the
Taylor picture (first- and second-order approximations around a point).

Like the other picture tests they check the data behind the figure and its labels, not pixels.
"""

import io
import math
import pathlib
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlviz import derivatives  # noqa: E402

TOOLS = pathlib.Path(__file__).resolve().parents[1] / "tools" / "ml-visualizations"


@pytest.fixture(autouse=True)
def _close_all_figures():
    yield
    plt.close("all")


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40, metadata={"Software": None})
    return buf.getvalue()


# ------------------------------------------------------------------ tangents with other names
def test_tangent_labels_use_the_given_names():
    sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    dsigmoid = lambda z: sigmoid(z) * (1.0 - sigmoid(z))  # noqa: E731
    fig, ax = derivatives.plot_function_and_tangents(sigmoid, dsigmoid, x_range=(-6, 6), points=(0.0, 2.0),
                                                     variable="z", name="\\sigma", num=30)
    labels = legend_texts(ax)
    assert labels[0] == "$\\sigma(z)$"
    assert labels[1].startswith("$\\sigma'(z)$")
    assert "tangent at $z = 0$ (slope 0.25)" in labels
    assert ax.get_xlabel() == "$z$"
    assert "x" not in ax.get_xlabel() and "f" not in ax.get_title().replace("of", "")
    png(fig)  # the mathtext must render


def test_tangent_labels_default_to_f_of_x():
    fig, ax = derivatives.plot_function_and_tangents(np.sin, np.cos, points=(1.0,), num=20)
    assert legend_texts(ax)[0] == "$f(x)$" and ax.get_xlabel() == "$x$"


@pytest.mark.parametrize("kwargs, message", [(dict(variable=""), "variable"), (dict(name=3), "name"),
                                             (dict(variable=None), "variable")])
def test_tangent_names_are_checked_before_drawing(kwargs, message):
    with pytest.raises(ValueError, match=message):
        derivatives.plot_function_and_tangents(np.sin, np.cos, **kwargs)
    assert plt.get_fignums() == []


# ------------------------------------------------------------------ Taylor approximants
def test_taylor_lines_are_the_two_approximations():
    x0, slope, curvature = 0.5, math.exp(0.5), math.exp(0.5)
    fig, ax = derivatives.plot_taylor_approximants(np.exp, x0, slope, curvature, x_range=(-1.5, 2.5), num=81)
    f_line, first, second, marker = ax.lines[:4]
    xs = f_line.get_xdata()
    np.testing.assert_allclose(f_line.get_ydata(), np.exp(xs))
    f0 = math.exp(x0)
    np.testing.assert_allclose(first.get_ydata(), f0 + slope * (xs - x0))
    np.testing.assert_allclose(second.get_ydata(), f0 + slope * (xs - x0) + 0.5 * curvature * (xs - x0) ** 2)
    np.testing.assert_allclose(marker.get_xydata(), [[x0, f0]])
    labels = legend_texts(ax)
    assert labels[1].startswith("first order") and labels[2].startswith("second order")
    assert "0.5" in ax.get_title() and ax.get_xlabel() == "$x$"
    png(fig)


def test_second_order_hugs_the_curve_longer_than_the_tangent():
    # The error of the first-order approximation shrinks like t^2, that of the second like t^3.
    x0 = 0.3
    fig, ax = derivatives.plot_taylor_approximants(np.cos, x0, -math.sin(x0), -math.cos(x0), num=401)
    f_line, first, second = ax.lines[:3]
    xs = f_line.get_xdata()
    near = (np.abs(xs - x0) > 0.05) & (np.abs(xs - x0) < 0.5)
    err1 = np.abs(first.get_ydata() - f_line.get_ydata())[near]
    err2 = np.abs(second.get_ydata() - f_line.get_ydata())[near]
    assert np.all(err2 < err1)
    t = np.abs(xs[near] - x0)
    assert np.all(err1 / t**2 < 0.6) and np.all(err2 / t**3 < 0.2)  # |f''|/2 <= 1/2, |f'''|/6 <= 1/6


def test_taylor_y_axis_follows_the_function_not_the_runaway_parabola():
    fig, ax = derivatives.plot_taylor_approximants(np.sin, 0.0, 1.0, 50.0, x_range=(-3, 3))
    low, high = ax.get_ylim()
    assert -2.0 < low < -1.0 and 1.0 < high < 2.0  # sin's range with a 30 % margin, not the parabola's 225


def test_taylor_accepts_scalar_only_functions_and_default_range():
    fig, ax = derivatives.plot_taylor_approximants(math.log1p, 2.0, 1 / 3, -1 / 9, num=20)
    assert ax.get_xlim() == (0.0, 4.0)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.log1p(np.linspace(0.0, 4.0, 20)))


def test_taylor_with_other_names():
    fig, ax = derivatives.plot_taylor_approximants(np.exp, 0.0, 1.0, 1.0, variable="t", name="g", num=10)
    labels = legend_texts(ax)
    assert labels[0] == "$g(t)$" and "g'(t_0)" in labels[1] and "g''(t_0)" in labels[2]
    assert ax.get_xlabel() == "$t$"
    png(fig)


def test_taylor_uses_a_given_axes_and_is_deterministic():
    fig, ax = plt.subplots()
    out_fig, out_ax = derivatives.plot_taylor_approximants(np.exp, 0.0, 1.0, 1.0, ax=ax, num=30)
    assert out_fig is fig and out_ax is ax
    first = png(derivatives.plot_taylor_approximants(np.exp, 0.0, 1.0, 1.0, num=30)[0])
    second = png(derivatives.plot_taylor_approximants(np.exp, 0.0, 1.0, 1.0, num=30)[0])
    assert first == second


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("exp", 0.0, 1.0, 1.0), {}, "f must be a function"),
        ((np.exp, float("nan"), 1.0, 1.0), {}, "x0"),
        ((np.exp, 0.0, "1", 1.0), {}, "slope"),
        ((np.exp, 0.0, 1.0, float("inf")), {}, "curvature"),
        ((np.exp, 0.0, 1.0, 1.0), dict(x_range=(1, 2)), "strictly inside"),
        ((np.exp, 0.0, 1.0, 1.0), dict(x_range=(2, -2)), "x_range"),
        ((np.exp, 0.0, 1.0, 1.0), dict(num=1), "num"),
        ((np.exp, 0.0, 1.0, 1.0), dict(variable=""), "variable"),
        ((np.exp, 0.0, 1.0, 1.0), dict(ax="axes"), "ax must be"),
        ((lambda x: np.log(x), -1.0, 1.0, 1.0), {}, "f\\(x0\\) must be finite"),
    ],
)
def test_taylor_bad_input(args, kwargs, message):
    with np.errstate(invalid="ignore"):
        with pytest.raises(ValueError, match=message):
            derivatives.plot_taylor_approximants(*args, **kwargs)
    assert plt.get_fignums() == []


def test_cli_draws_the_taylor_picture(tmp_path):
    out = tmp_path / "taylor.png"
    result = subprocess.run([sys.executable, str(TOOLS / "derivatives.py"), "--kind", "taylor", "--function",
                             "exp", "--x", "0", "--out", str(out)], capture_output=True, text=True, timeout=120,
                            env={"MPLBACKEND": "Agg", "PATH": ""})
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"\x89PNG") and str(out) in result.stdout
