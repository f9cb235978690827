"""Tests of the picture library ``mlviz`` (tools/ml-visualizations/).

They check structure, not pixels: numbers of axes, lines and arrows, the data
behind them, labels, files written (PNG/GIF magic bytes), byte-for-byte
determinism, the ValueError of every bad input, the widget fallback and every
command-line script (``--help`` and one real run, in a subprocess).
"""

import io
import math
import os
import pathlib
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402
from PIL import Image  # noqa: E402

from mlviz import chain_rule, depth, derivatives, gallery, gradient_descent, gradients, regression  # noqa: E402
from mlviz import _style  # noqa: E402
from mlviz._examples import bowl, bowl_grad, elongated, elongated_grad  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
TOOLS = REPO / "tools" / "ml-visualizations"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PATH = np.array([[8.0, 9.0], [6.4, 7.2], [5.12, 5.76], [4.096, 4.608]])


@pytest.fixture(autouse=True)
def _close_all_figures():
    yield
    plt.close("all")


def png_bytes(fig, dpi=40):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def readonly(arr):
    """A read-only float64 copy: any in-place write by the library would raise."""
    out = np.array(arr, dtype=np.float64)
    out.flags.writeable = False
    return out


def legend_texts(ax):
    legend = ax.get_legend()
    assert legend is not None, "expected a legend"
    return [t.get_text() for t in legend.get_texts()]


def assert_labelled(ax):
    assert ax.get_title(), "missing title"
    assert ax.get_xlabel(), "missing x label"
    assert ax.get_ylabel(), "missing y label"


# ------------------------------------------------------------------ style
def test_palette_is_okabe_ito_and_apply_style_sets_rcparams():
    okabe_ito = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    assert set(_style.PALETTE.values()) == okabe_ito
    assert set(_style.CYCLE) == okabe_ito
    with matplotlib.rc_context():
        _style.apply_style()
        assert matplotlib.rcParams["svg.hashsalt"] == "mlviz"
        assert matplotlib.rcParams["font.size"] >= 11
        assert [c.upper() for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]] == _style.CYCLE


def test_save_figure_rejects_missing_folder_and_bad_suffix(tmp_path):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="does not exist"):
        _style.save_figure(fig, tmp_path / "missing" / "a.png")
    with pytest.raises(ValueError, match=r"\.png"):
        _style.save_figure(fig, tmp_path / "a.jpg")
    out = _style.save_figure(fig, tmp_path / "a.png")
    assert out.read_bytes().startswith(PNG_MAGIC)


# ------------------------------------------------------------------ derivatives
def test_function_and_tangents_structure():
    points = readonly([-1.0, 0.5, 2.0])
    fig, ax = derivatives.plot_function_and_tangents(np.sin, np.cos, x_range=(-3, 3), points=points,
                                                     num=50)
    assert fig is ax.figure
    assert_labelled(ax)
    f_line, df_line = ax.lines[0], ax.lines[1]
    np.testing.assert_allclose(f_line.get_ydata(), np.sin(f_line.get_xdata()))
    np.testing.assert_allclose(df_line.get_ydata(), np.cos(df_line.get_xdata()))
    assert df_line.get_linestyle() == "--"
    tangents = [ln for ln in ax.lines if ln.get_label().startswith("tangent")]
    assert len(tangents) == 3
    for line, p in zip(tangents, points):
        (x0, x1), (y0, y1) = line.get_xdata(), line.get_ydata()
        assert (y1 - y0) / (x1 - x0) == pytest.approx(math.cos(p))
        assert x0 < p < x1
    markers = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert [ln.get_xdata()[0] for ln in markers] == pytest.approx(list(points))
    assert len(legend_texts(ax)) == 5


def test_tangents_accept_scalar_only_functions():
    fig, ax = derivatives.plot_function_and_tangents(math.exp, math.exp, points=(0.0,), num=20)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.exp(np.linspace(-3, 3, 20)))


def test_difference_error_shows_the_v_shape():
    hs = readonly(np.logspace(-16, 0, 33))
    errors = derivatives._demo_errors(np.sin, np.cos, 1.0, hs)
    copies = {k: v.copy() for k, v in errors.items()}
    fig, ax = derivatives.plot_difference_error(hs, errors)
    assert_labelled(ax)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = legend_texts(ax)
    for expected in ("forward", "central", "slope 1", "slope 2", "slope -1"):
        assert expected in labels
    by_label = {ln.get_label(): ln for ln in ax.lines}
    for name in ("forward", "central"):
        np.testing.assert_array_equal(errors[name], copies[name])  # input untouched
        np.testing.assert_allclose(by_label[name].get_ydata(), errors[name])
        minimum = next(ln for lbl, ln in by_label.items() if lbl.startswith(f"{name} minimum"))
        k = int(np.argmin(errors[name]))
        assert 0 < k < len(hs) - 1, "the minimum must be inside the range: the V shape"
        assert minimum.get_xdata()[0] == hs[k]
    # reference lines have the slopes they claim
    for s in (1, 2, -1):
        line = by_label[f"slope {s}"]
        x, y = np.log10(line.get_xdata()), np.log10(line.get_ydata())
        assert (y[-1] - y[0]) / (x[-1] - x[0]) == pytest.approx(s)


def test_difference_error_skips_zero_errors():
    hs = np.array([1e-3, 1e-2, 1e-1])
    fig, ax = derivatives.plot_difference_error(hs, {"exact": [0.0, 1e-4, 1e-2]}, reference_slopes=())
    np.testing.assert_allclose(ax.lines[0].get_xdata(), hs[1:])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(f=1.0, df=np.cos), "f must be a function"),
        (dict(f=np.sin, df="cos"), "df must be a function"),
        (dict(f=np.sin, df=np.cos, x_range=(3, -3)), "x_range"),
        (dict(f=np.sin, df=np.cos, points=[[1.0]]), "points"),
        (dict(f=np.sin, df=np.cos, num=1), "num"),
        (dict(f=np.sin, df=np.cos, ax="axes"), "ax must be"),
        (dict(f=lambda x: np.ones(3), df=np.cos), "one value per x"),
    ],
)
def test_tangents_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        derivatives.plot_function_and_tangents(**kwargs)
    assert plt.get_fignums() == [], "validation must happen before any figure is created"


@pytest.mark.parametrize(
    "hs, errors, message",
    [
        ([1e-3, 1e-2], {"forward": [1e-3, 1e-2, 1e-1]}, "shape"),
        ([1e-3, -1e-2], {"forward": [1e-3, 1e-2]}, "positive"),
        ([1e-3], {"forward": [1e-3]}, "at least 2"),
        ([1e-3, 1e-2], {}, "non-empty dict"),
        ([1e-3, 1e-2], [1e-3, 1e-2], "non-empty dict"),
        ([1e-3, 1e-2], {"forward": [-1.0, 1e-2]}, "absolute"),
        ([1e-3, 1e-2], {"forward": [0.0, 0.0]}, "log axis"),
    ],
)
def test_difference_error_bad_input(hs, errors, message):
    with pytest.raises(ValueError, match=message):
        derivatives.plot_difference_error(hs, errors)
    assert plt.get_fignums() == []


def test_demo_helper_is_private_and_every_public_name_exists():
    assert callable(getattr(derivatives, "_demo_errors", None)), "the CLI's demo helper exists"
    assert "_demo_errors" not in derivatives.__all__
    missing = [name for name in derivatives.__all__ if not hasattr(derivatives, name)]
    assert not missing, f"__all__ names what the module does not define: {missing}"


# ------------------------------------------------------------------ gradients
def test_loss_surface_with_slice_structure():
    fig, (ax3d, ax2d) = gradients.plot_loss_surface_with_slice(bowl, fixed_b=5.0, num=12)
    assert len(fig.axes) == 2
    assert ax3d.name == "3d" and ax2d.name == "rectilinear"
    assert (ax3d.elev, ax3d.azim) == (gradients.VIEW_ELEV, gradients.VIEW_AZIM)
    assert ax3d.get_title() and ax3d.get_zlabel() == "$f(w, b)$"
    assert_labelled(ax2d)
    slice_line = ax2d.lines[0]
    w = slice_line.get_xdata()
    np.testing.assert_allclose(slice_line.get_ydata(), w**2 + 25.0)
    tangent = next(ln for ln in ax2d.lines if "slope = ∂f/∂w" in ln.get_label())
    (x0, x1), (y0, y1) = tangent.get_xdata(), tangent.get_ydata()
    w0 = 0.5 * (x0 + x1)
    assert (y1 - y0) / (x1 - x0) == pytest.approx(2 * w0, rel=1e-5)  # ∂(w²+b²)/∂w = 2w
    assert len(ax3d.lines) == 1  # the slice on the surface


def test_loss_surface_uses_given_figure():
    fig = plt.figure()
    out, axes = gradients.plot_loss_surface_with_slice(bowl, num=5, fig=fig)
    assert out is fig and len(axes) == 2


def test_gradient_field_structure():
    fig, ax = gradients.plot_gradient_field(bowl, bowl_grad, num=20, arrow_every=5)
    assert_labelled(ax)
    quivers = [c for c in ax.collections if isinstance(c, Quiver)]
    assert len(quivers) == 1
    q = quivers[0]
    assert q.U.size == (20 // 5) ** 2
    np.testing.assert_allclose(np.ravel(q.U), 2 * q.X)  # arrows are the gradient (2w, 2b)
    np.testing.assert_allclose(np.ravel(q.V), 2 * q.Y)
    assert ax.get_aspect() == 1.0
    colorbar_axes = [a for a in fig.axes if a is not ax]
    assert len(colorbar_axes) == 1 and colorbar_axes[0].get_ylabel() == "$f(w, b)$"
    assert legend_texts(ax)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(f=bowl, grad=None), "grad must be a function"),
        (dict(f=3, grad=bowl_grad), "f must be a function"),
        (dict(f=bowl, grad=lambda W, B: 2 * W), "pair"),
        (dict(f=bowl, grad=lambda W, B: (W[:1], B)), "dW of shape"),
        (dict(f=lambda W, B: W[:2], grad=bowl_grad), "must return an array of shape"),
        (dict(f=bowl, grad=bowl_grad, arrow_every=0), "arrow_every"),
        (dict(f=bowl, grad=bowl_grad, w_range=(1, 1)), "w_range"),
    ],
)
def test_gradient_field_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradients.plot_gradient_field(**{"num": 10, "arrow_every": 2, **kwargs})
    assert plt.get_fignums() == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(f="bowl"), "f must be a function"),
        (dict(f=bowl, fixed_b=20.0), "inside b_range"),
        (dict(f=bowl, fixed_b=float("nan")), "fixed_b"),
        (dict(f=bowl, fig="figure"), "fig must be"),
        (dict(f=bowl, num=1), "num"),
    ],
)
def test_loss_surface_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradients.plot_loss_surface_with_slice(**kwargs)
    assert plt.get_fignums() == []


# ------------------------------------------------------------------ gradient descent
def test_descent_path_plots_exactly_the_path():
    path = readonly(PATH)
    fig, ax = gradient_descent.plot_descent_path(bowl, path, levels=5)
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), PATH)
    assert ax.lines[0].get_marker() == "o" and ax.lines[0].get_linestyle() == "-"
    labels = legend_texts(ax)
    assert "start" in labels and "end" in labels
    start = next(ln for ln in ax.lines if ln.get_label() == "start")
    end = next(ln for ln in ax.lines if ln.get_label() == "end")
    np.testing.assert_array_equal(start.get_xydata()[0], PATH[0])
    np.testing.assert_array_equal(end.get_xydata()[0], PATH[-1])
    assert start.get_color() == _style.START_COLOR
    assert ax.get_aspect() == 1.0
    assert_labelled(ax)
    assert ax.collections, "contour lines expected"


def test_descent_path_title_levels_and_given_axes():
    fig, ax = plt.subplots()
    out_fig, out_ax = gradient_descent.plot_descent_path(bowl, PATH, ax=ax, levels=[1.0, 10.0, 50.0],
                                                         title="my title")
    assert out_fig is fig and out_ax is ax and ax.get_title() == "my title"


def bowl_runs(rates=(0.01, 0.1, 0.95, 1.05), steps=30):
    return [gradient_descent._descend(bowl_grad, (8.0, 9.0), r, steps) for r in rates]


def test_learning_rate_panels_verdicts_and_clipping():
    rates = [0.01, 0.1, 0.95, 1.05]
    paths = bowl_runs(rates)
    fig, axes = gradient_descent.plot_learning_rate_panels(bowl, paths, rates)
    assert len(axes) == 4 and fig.get_suptitle()
    verdicts = ["slow", "good", "oscillates", "diverges"]
    for ax, rate, word, path in zip(axes, rates, verdicts, paths):
        assert ax.get_title() == f"η = {rate:g}: {word}"
        np.testing.assert_array_equal(ax.lines[0].get_xydata(), path)
        assert ax.get_xlabel() and ax.get_ylabel()
        assert ax.get_xlim() == axes[0].get_xlim(), "all panels share one window"
    # the diverging path leaves the window but is still drawn to its end
    x_hi = axes[3].get_xlim()[1]
    assert paths[3][:, 0].max() > x_hi
    assert axes[0].get_legend() is not None


def test_learning_rate_panels_overflowing_path_and_given_verdicts():
    overflow = np.array([[1.0, 1.0], [-3.0, -3.0], [np.inf, np.inf]])
    fig, axes = gradient_descent.plot_learning_rate_panels(bowl, [PATH, overflow], [0.1, 2.0])
    assert axes[1].get_title().endswith("diverges")
    np.testing.assert_array_equal(axes[1].lines[0].get_xydata(), overflow[:2])
    fig, axes = gradient_descent.plot_learning_rate_panels(bowl, [PATH], [0.1], verdicts=["nice"])
    assert axes[0].get_title() == "η = 0.1: nice"


def test_learning_rate_panels_into_given_axes():
    fig, axs = plt.subplots(2, 1)
    out, axes = gradient_descent.plot_learning_rate_panels(bowl, [PATH, PATH], [0.1, 0.2], ax=axs)
    assert out is fig and list(axes) == list(axs)


@pytest.mark.parametrize(
    "factor, expected",
    [(0.98, "slow"), (0.8, "good"), (0.0, "good"), (-0.9, "oscillates"), (-1.1, "diverges"),
     (1.1, "diverges")],
)
def test_verdict_rule_on_geometric_runs(factor, expected):
    # gradient descent on w² + b² multiplies the point by (1 - 2η) each step
    path = np.array([[8.0, 9.0]]) * factor ** np.arange(31)[:, None]
    assert gradient_descent._verdict(path) == expected


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(lr=st.floats(1e-3, 0.99) | st.floats(1.01, 1.5), w0=st.floats(0.5, 20), b0=st.floats(0.5, 20))
def test_verdict_diverges_exactly_when_the_bowl_run_grows(lr, w0, b0):
    path = gradient_descent._descend(bowl_grad, (w0, b0), lr, 10)
    grows = abs(1 - 2 * lr) > 1
    assert (gradient_descent._verdict(path) == "diverges") == grows


def test_loss_curves_structure():
    losses = {"η = 0.1": readonly([10.0, 5.0, 1.0, 0.1]), "η = 1.05": [10.0, 12.0, np.inf, 0.0]}
    fig, ax = gradient_descent.plot_loss_curves(losses)
    assert ax.get_yscale() == "log"
    assert legend_texts(ax) == ["η = 0.1", "η = 1.05"]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), losses["η = 0.1"])
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(4))
    assert np.isnan(ax.lines[1].get_ydata()[2:]).all()  # inf and 0 are not drawn
    assert_labelled(ax)


def test_animate_descent_writes_a_multi_frame_gif(tmp_path):
    out = gradient_descent.animate_descent(bowl, PATH[:3], tmp_path / "run.gif", fps=4, dpi=30)
    assert out == tmp_path / "run.gif"
    data = out.read_bytes()
    assert data[:6] in (b"GIF87a", b"GIF89a")
    with Image.open(out) as im:
        assert im.n_frames == 3
    assert plt.get_fignums() == [], "the animation closes its own figure"
    again = gradient_descent.animate_descent(bowl, PATH[:3], tmp_path / "again.gif", fps=4, dpi=30)
    assert again.read_bytes() == data


def test_animate_descent_frames_show_the_point_moving(tmp_path):
    out = gradient_descent.animate_descent(bowl, PATH[:4], tmp_path / "run.gif", fps=4, dpi=40)
    with Image.open(out) as im:
        frames = []
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB"), dtype=np.int16))
    assert len(frames) == 4
    for before, after in zip(frames, frames[1:]):
        changed = np.argwhere(np.abs(after - before).sum(axis=2) > 0)
        assert len(changed) > 0, "every frame moves the point"
        assert len(changed) < 0.5 * before.shape[0] * before.shape[1], "the contours stay where they are"


def test_animate_descent_writes_a_note_when_pictures_are_off(tmp_path, monkeypatch):
    from mlviz._render import RENDER_VARIABLE

    monkeypatch.setenv(RENDER_VARIABLE, "0")
    out = gradient_descent.animate_descent(bowl, PATH, tmp_path / "run.gif")
    with Image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == 1
        assert im.size[0] > 5 * im.size[1], "one line of text"
    with pytest.raises(ValueError, match="fps"):
        gradient_descent.animate_descent(bowl, PATH, tmp_path / "bad.gif", fps=0)


def test_slider_is_the_static_figure_when_pictures_are_off(monkeypatch):
    from mlviz._render import RENDER_VARIABLE

    monkeypatch.setenv(RENDER_VARIABLE, "0")
    monkeypatch.setattr(gradient_descent, "_widgets_available", lambda: True)
    result = gradient_descent.learning_rate_slider(bowl, bowl_grad, (8, 9), steps=5, rates=(0.1, 1.05))
    assert isinstance(result, matplotlib.figure.Figure)


@pytest.mark.parametrize(
    "out_name, fps, message",
    [("missing/run.gif", 5, "does not exist"), ("run.png", 5, r"\.gif"), ("run.gif", 0, "fps"),
     ("run.gif", float("inf"), "fps")],
)
def test_animate_descent_bad_input(tmp_path, out_name, fps, message):
    with pytest.raises(ValueError, match=message):
        gradient_descent.animate_descent(bowl, PATH, tmp_path / out_name, fps=fps)
    assert not (tmp_path / out_name).exists()


def test_slider_falls_back_without_ipywidgets(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets -> ImportError
    result = gradient_descent.learning_rate_slider(bowl, bowl_grad, (8, 9), steps=5, rates=(0.1, 1.05))
    assert isinstance(result, matplotlib.figure.Figure)
    assert [ax.get_title() for ax in result.axes] == ["η = 0.1: slow", "η = 1.05: diverges"]


def test_slider_falls_back_without_a_kernel():
    # pytest has ipywidgets but no Jupyter kernel, so no comms
    result = gradient_descent.learning_rate_slider(bowl, bowl_grad, (8, 9), steps=5)
    assert isinstance(result, matplotlib.figure.Figure)
    assert len(result.axes) == 5


def test_slider_falls_back_when_the_widget_fails(monkeypatch):
    ipywidgets = pytest.importorskip("ipywidgets")
    monkeypatch.setattr(gradient_descent, "_widgets_available", lambda: True)

    def broken(*args, **kwargs):
        raise RuntimeError("no comm")

    monkeypatch.setattr(ipywidgets, "SelectionSlider", broken)
    with pytest.warns(RuntimeWarning, match="no comm"):
        result = gradient_descent.learning_rate_slider(bowl, bowl_grad, (8, 9), steps=5)
    assert isinstance(result, matplotlib.figure.Figure)


def test_slider_returns_a_widget_when_comms_exist(monkeypatch, capsys):
    ipywidgets = pytest.importorskip("ipywidgets")
    monkeypatch.setattr(gradient_descent, "_widgets_available", lambda: True)
    rates = (0.1, 0.95, 1.05)
    widget = gradient_descent.learning_rate_slider(bowl, bowl_grad, (8, 9), steps=5, rates=rates)
    assert isinstance(widget, ipywidgets.VBox)
    slider = widget.children[0]
    assert isinstance(slider, ipywidgets.SelectionSlider)
    assert tuple(slider.options) == tuple((f"{r:g}", r) for r in rates)
    slider.value = 1.05  # redraws; the drawn figure is closed again
    assert plt.get_fignums() == []


@pytest.mark.parametrize("bad_rate", [0.0, -0.1, float("nan"), float("inf"), "0.1", True, None])
def test_bad_learning_rates_raise(bad_rate):
    with pytest.raises(ValueError, match="positive finite number"):
        gradient_descent.learning_rate_slider(bowl, bowl_grad, (8, 9), rates=(0.1, bad_rate))
    with pytest.raises(ValueError, match="positive finite number"):
        gradient_descent.plot_learning_rate_panels(bowl, [PATH], [bad_rate])
    assert plt.get_fignums() == []


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: gradient_descent.learning_rate_slider(bowl, bowl_grad, (8, 9, 1)), "exactly 2 coordinates"),
        (lambda: gradient_descent.learning_rate_slider(bowl, bowl_grad, 8), "exactly 2 coordinates"),
        (lambda: gradient_descent.learning_rate_slider(bowl, "grad", (8, 9)), "grad must be a function"),
        (lambda: gradient_descent.learning_rate_slider(bowl, bowl_grad, (8, 9), steps=0), "steps"),
        (lambda: gradient_descent.learning_rate_slider(bowl, bowl_grad, (8, 9), rates=()), "at least one"),
        (lambda: gradient_descent.plot_descent_path(None, PATH), "f must be a function"),
        (lambda: gradient_descent.plot_descent_path(bowl, PATH[:, :1]), r"shape \(n, 2\)"),
        (lambda: gradient_descent.plot_descent_path(bowl, [[1.0, np.nan]]), "nan or inf"),
        (lambda: gradient_descent.plot_descent_path(bowl, PATH, levels=0), "levels"),
        (lambda: gradient_descent.plot_descent_path(bowl, PATH, levels=[3.0, 1.0]), "levels"),
        (lambda: gradient_descent.plot_descent_path(bowl, PATH, title=3), "title"),
        (lambda: gradient_descent.plot_descent_path(bowl, PATH, window=(1, 0, 0, 1)), "window"),
        (lambda: gradient_descent.plot_learning_rate_panels(bowl, [PATH, PATH], [0.1]), "one rate per path"),
        (lambda: gradient_descent.plot_learning_rate_panels(bowl, [], []), "at least one"),
        (lambda: gradient_descent.plot_learning_rate_panels(bowl, PATH, [0.1]), "list of"),
        (lambda: gradient_descent.plot_learning_rate_panels(bowl, [PATH[:1]], [0.1]), "n >= 2"),
        (lambda: gradient_descent.plot_learning_rate_panels(bowl, [PATH], [0.1], verdicts=["a", "b"]),
         "verdicts"),
        (lambda: gradient_descent.plot_loss_curves({"a": [[1.0]]}), "1-D"),
        (lambda: gradient_descent.plot_loss_curves({"a": [-1.0, 0.0]}), "log axis"),
    ],
)
def test_gradient_descent_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
    assert plt.get_fignums() == []


def test_descend_and_verdict_are_private():
    assert {"_descend", "_verdict"}.isdisjoint(gradient_descent.__all__)
    path = gradient_descent._descend(bowl_grad, (8.0, 9.0), 0.1, 3)
    np.testing.assert_allclose(path, PATH)


# ------------------------------------------------------------------ chain rule
def test_cs231n_circuit_values_and_gradients():
    nodes, edges = chain_rule.cs231n_circuit()
    by = {n["name"]: n for n in nodes}
    assert {k: by[k]["value"] for k in "xyzqf"} == {"x": -2, "y": 5, "z": -4, "q": 3, "f": -12}
    assert (by["x"]["grad"], by["y"]["grad"], by["z"]["grad"]) == (-4, -4, 3)
    assert by["q"]["grad"] == -4 and by["f"]["grad"] == 1
    assert set(edges) == {("x", "q"), ("y", "q"), ("q", "f"), ("z", "f")}
    # the gradients agree with central differences of f = (x + y) z
    func = lambda x, y, z: (x + y) * z  # noqa: E731
    point = np.array([by[k]["value"] for k in "xyz"])
    for i, name in enumerate("xyz"):
        e = np.zeros(3)
        e[i] = 1e-6
        numeric = (func(*(point + e)) - func(*(point - e))) / 2e-6
        assert by[name]["grad"] == pytest.approx(numeric)


def test_computational_graph_structure():
    nodes, edges = chain_rule.cs231n_circuit()
    fig, ax = chain_rule.plot_computational_graph(nodes, edges)
    from matplotlib.patches import Circle, FancyArrowPatch

    circles = [p for p in ax.patches if isinstance(p, Circle)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(circles) == 5
    assert len(arrows) == len(edges) + 1  # one output wire for f
    texts = {(t.get_text(), matplotlib.colors.to_hex(t.get_color()).upper()) for t in ax.texts}
    fwd, bwd = _style.FORWARD_COLOR, _style.BACKWARD_COLOR
    assert fwd != bwd
    for value in ("-2", "5", "-4", "3", "-12"):
        assert (value, fwd) in texts
    for grad in ("-4", "3", "1"):
        assert (grad, bwd) in texts
    assert ("+", "#000000") in texts and ("×", "#000000") in texts
    assert len(legend_texts(ax)) == 2
    assert ax.get_title() and ax.get_xlabel()


@pytest.mark.parametrize(
    "nodes, edges, message",
    [
        ([], [], "non-empty"),
        ([{"name": "a"}], [], "'name' and 'pos'"),
        ([{"name": "a", "pos": (0, 0)}, {"name": "a", "pos": (1, 0)}], [], "twice"),
        ([{"name": "a", "pos": (0, np.inf)}], [], "pos"),
        ([{"name": "a", "pos": (0, 0), "value": "x"}], [], "'value'"),
        ([{"name": "a", "pos": (0, 0)}], [("a", "b")], "unknown node 'b'"),
        ([{"name": "a", "pos": (0, 0)}], [("a", "a")], "itself"),
        ([{"name": "a", "pos": (0, 0)}, {"name": "b", "pos": (0, 0)}], [("a", "b")], "same position"),
        ([{"name": "a", "pos": (0, 0)}], [("a",)], "pair"),
    ],
)
def test_computational_graph_bad_input(nodes, edges, message):
    with pytest.raises(ValueError, match=message):
        chain_rule.plot_computational_graph(nodes, edges)
    assert plt.get_fignums() == []


# ------------------------------------------------------------------ regression
X = np.linspace(0.0, 4.0, 9)
Y = 2.0 * X + 1.0 + 0.3 * np.sin(7 * X)


def test_fit_during_training_structure():
    snaps = readonly([[0.0, 0.0], [1.0, 0.5], [2.0, 1.0]])
    fig, ax = regression.plot_fit_during_training(readonly(X), readonly(Y), snaps)
    assert_labelled(ax)
    assert len(ax.lines) == 3
    for line, (w, b) in zip(ax.lines, snaps):
        np.testing.assert_allclose(line.get_ydata(), w * line.get_xdata() + b)
    alphas = [line.get_alpha() for line in ax.lines]
    assert alphas == sorted(alphas) and alphas[-1] == 1.0 and alphas[0] < 0.5
    labels = legend_texts(ax)
    assert labels[0] == "data" and labels[-1].startswith("final fit")
    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.column_stack([X, Y]))


def test_regression_loss_surface_marks_least_squares_and_path():
    path = readonly([[0.0, 0.0], [1.0, 0.5], [1.8, 0.9]])
    fig, ax = regression.plot_regression_loss_surface(X, Y, path=path, num=20)
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), path)
    w_star, b_star = np.polyfit(X, Y, 1)
    minimum = next(ln for ln in ax.lines if ln.get_label().startswith("minimum"))
    np.testing.assert_allclose(minimum.get_xydata()[0], [w_star, b_star])
    assert_labelled(ax)
    assert any(a.get_ylabel() == "$L(w, b)$" for a in fig.axes if a is not ax)  # colour bar


def test_regression_loss_surface_default_ranges_without_path():
    fig, ax = regression.plot_regression_loss_surface(X, Y, w_range=(0, 4), num=10)
    assert ax.get_xlim() == (0.0, 4.0)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(w=st.floats(-50, 50), b=st.floats(-50, 50), seed=st.integers(0, 100))
def test_mse_grid_equals_the_direct_mean(w, b, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=7), rng.normal(size=7)
    direct = np.mean((w * x + b - y) ** 2)
    assert regression._mse_grid(x, y, np.array([w]), np.array([b]))[0] == pytest.approx(direct, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: regression.plot_fit_during_training(X, Y[:-1], [(1, 1)]), "same shape"),
        (lambda: regression.plot_fit_during_training(X, Y, []), "snapshots"),
        (lambda: regression.plot_fit_during_training(X, Y, [(1, 2, 3)]), "snapshots"),
        (lambda: regression.plot_regression_loss_surface(np.ones(5), np.arange(5.0)), "distinct"),
        (lambda: regression.plot_regression_loss_surface(X, Y, path=[[1.0]]), "path"),
        (lambda: regression.plot_regression_loss_surface(X, Y, b_range=(2, 1)), "b_range"),
        (lambda: regression.plot_regression_loss_surface(X, [[1.0]]), "y must be a 1-D"),
    ],
)
def test_regression_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
    assert plt.get_fignums() == []


# ------------------------------------------------------------------ depth
def test_gradient_norms_through_depth():
    norms = {"sigmoid / small": readonly(0.25 ** np.arange(6)), "relu / He": np.ones(6)}
    fig, ax = depth.plot_gradient_norms_through_depth(norms)
    assert ax.get_yscale() == "log"
    assert legend_texts(ax) == list(norms)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(1, 7))
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), norms["sigmoid / small"])
    assert_labelled(ax)


@pytest.mark.parametrize("bad", [{}, {"a": []}, {"a": [0.0]}, [1.0, 2.0], {"a": "x"}])
def test_gradient_norms_bad_input(bad):
    with pytest.raises(ValueError, match="norms_by_label"):
        depth.plot_gradient_norms_through_depth(bad)


# ------------------------------------------------------------------ determinism, no mutation
RENDERERS = {
    "tangents": lambda: derivatives.plot_function_and_tangents(np.sin, np.cos, num=50)[0],
    "difference_error": lambda: derivatives.plot_difference_error(
        np.logspace(-12, 0, 13), derivatives._demo_errors(np.sin, np.cos, 1.0, np.logspace(-12, 0, 13)))[0],
    "surface": lambda: gradients.plot_loss_surface_with_slice(bowl, num=10)[0],
    "field": lambda: gradients.plot_gradient_field(elongated, elongated_grad, num=20, arrow_every=4)[0],
    "path": lambda: gradient_descent.plot_descent_path(bowl, PATH)[0],
    "panels": lambda: gradient_descent.plot_learning_rate_panels(bowl, bowl_runs(steps=5), [0.01, 0.1, 0.95, 1.05])[0],
    "graph": lambda: chain_rule.plot_computational_graph(*chain_rule.cs231n_circuit())[0],
    "regression": lambda: regression.plot_regression_loss_surface(X, Y, num=15)[0],
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_rendering_is_deterministic(name):
    first = png_bytes(RENDERERS[name]())
    plt.close("all")
    second = png_bytes(RENDERERS[name]())
    assert first.startswith(PNG_MAGIC)
    assert first == second


def test_svg_output_is_deterministic(tmp_path):
    a = _style.save_figure(RENDERERS["path"](), tmp_path / "a.svg").read_bytes()
    b = _style.save_figure(RENDERERS["path"](), tmp_path / "b.svg").read_bytes()
    assert a == b and b"<svg" in a


def test_style_is_not_leaked_into_global_rcparams():
    before = matplotlib.rcParams["svg.hashsalt"], matplotlib.rcParams["font.size"]
    RENDERERS["path"]()
    assert (matplotlib.rcParams["svg.hashsalt"], matplotlib.rcParams["font.size"]) == before


# ------------------------------------------------------------------ gallery
def test_gallery_rejects_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="not an existing folder"):
        gallery.write_gallery(tmp_path / "nope")


# ------------------------------------------------------------------ command-line scripts
SCRIPTS = ["derivatives", "gradients", "gradient_descent", "chain_rule", "regression", "gallery"]


def run(args, cwd):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("script", SCRIPTS)
def test_cli_help(script, tmp_path):
    result = run([str(TOOLS / f"{script}.py"), "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
    assert ("OUTDIR" if script == "gallery" else "--out") in result.stdout


@pytest.mark.parametrize(
    "script, args, name",
    [
        ("derivatives", ["--function", "sin", "--x", "1.0"], "error.png"),
        ("gradients", ["--kind", "field"], "field.png"),
        ("gradient_descent", ["--lr", "0.1", "--steps", "30", "--start", "8", "9"], "path.png"),
        ("chain_rule", [], "circuit.png"),
        ("regression", ["--kind", "surface", "--steps", "20"], "loss.png"),
    ],
)
def test_cli_writes_a_file(script, args, name, tmp_path):
    out = tmp_path / name
    result = run([str(TOOLS / f"{script}.py"), *args, "--out", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(PNG_MAGIC)
    assert str(out) in result.stdout


def test_gallery_module_writes_reproducible_pictures(tmp_path):
    result = run(["-m", "mlviz.gallery", str(tmp_path)], REPO)
    assert result.returncode == 0, result.stderr
    in_process = tmp_path / "again"
    in_process.mkdir()
    gallery.write_gallery(in_process)
    for name in gallery.NAMES:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert data == (in_process / name).read_bytes(), f"{name} is not reproducible"


@pytest.mark.parametrize(
    "module, argv, message",
    [
        (gradient_descent, ["--lr", "-1", "--out", "p.png"], "positive finite number"),
        (gradient_descent, ["--start", "1", "2", "3", "--out", "p.png"], "unrecognized arguments"),
        (gradient_descent, ["--kind", "panels", "--out", "p.gif"], "only available for --kind path"),
        (derivatives, ["--out", "missing/e.png"], "does not exist"),
        (chain_rule, ["--out", "circuit.jpg"], ".png"),
        (gallery, [], "OUTDIR"),
    ],
)
def test_cli_bad_input_exits_with_a_message(module, argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        module.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir()), "nothing may be written"
    assert plt.get_fignums() == []


@pytest.mark.parametrize(
    "module, argv, name",
    [
        (derivatives, ["--kind", "tangents", "--points", "0", "1"], "tangents.png"),
        (gradients, ["--kind", "surface", "--function", "elongated"], "surface.svg"),
        (gradient_descent, ["--kind", "panels", "--function", "elongated", "--steps", "8"], "panels.png"),
        (gradient_descent, ["--kind", "curves", "--steps", "8", "--rates", "0.1", "1.05"], "curves.png"),
        (gradient_descent, ["--lr", "0.1", "--steps", "3", "--start", "8", "9"], "path.gif"),
        (regression, ["--kind", "fit", "--steps", "10"], "fit.pdf"),
    ],
)
def test_cli_main_other_kinds(module, argv, name, tmp_path, capsys):
    assert module.main([*argv, "--out", str(tmp_path / name)]) == 0
    data = (tmp_path / name).read_bytes()
    magic = {".png": PNG_MAGIC, ".svg": b"<?xml", ".gif": b"GIF89a", ".pdf": b"%PDF"}[pathlib.Path(name).suffix]
    assert data.startswith(magic)
    if name.endswith(".gif"):
        with Image.open(tmp_path / name) as im:
            assert im.n_frames == 4
    assert str(tmp_path / name) in capsys.readouterr().out
    assert plt.get_fignums() == [], "the CLI closes the figures it made"
