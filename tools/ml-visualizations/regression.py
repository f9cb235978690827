"""Linear regression y ≈ w x + b: the fit during training and the MSE loss surface.

Run as a script (a seeded synthetic data set, fitted by gradient descent)::

    python tools/ml-visualizations/regression.py --kind fit --out fit.png
    python tools/ml-visualizations/regression.py --kind surface --out loss_surface.png
"""

if __package__ in (None, ""):
    import _script  # noqa: F401  (registers this folder as the package mlviz)

import argparse
import sys

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.colors import LogNorm

from mlviz._checks import (
    check_axes, check_int, check_out_path, check_path, check_range, check_vector,
)
from mlviz._style import CMAP, CYCLE, END_COLOR, PALETTE, PATH_COLOR, START_COLOR, finish_cli, style_context

__all__ = ["plot_fit_during_training", "plot_regression_loss_surface"]


def _check_xy(x, y):
    x = check_vector(x, "x")
    y = check_vector(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape; got {x.shape} and {y.shape}")
    return x, y


def _least_squares(x, y):
    """Minimiser (w*, b*) and minimum of L(w, b) = mean((w x + b - y)^2)."""
    xc = x - x.mean()
    var = np.mean(xc**2)
    if var == 0:
        raise ValueError("x must contain at least two distinct values, "
                         "otherwise the slope w is not determined")
    w = np.mean(xc * (y - y.mean())) / var
    b = y.mean() - w * x.mean()
    return w, b, float(np.mean((w * x + b - y) ** 2))


def _mse_grid(x, y, W, B):
    """L(W, B) on a grid, exactly and without an (grid x data) array.

    L is quadratic, so L(w, b) = L* + [dw, db] H [dw, db]^T with dw = w - w*,
    db = b - b*, H = [[mean(x²), mean(x)], [mean(x), 1]]: vectorised, never
    negative, and independent of the number of data points.
    """
    w_opt, b_opt, l_opt = _least_squares(x, y)
    dw, db = W - w_opt, B - b_opt
    return l_opt + np.mean(x**2) * dw**2 + 2.0 * np.mean(x) * dw * db + db**2


def plot_fit_during_training(x, y, snapshots, ax=None):
    """Scatter the data and draw the line ``y = w x + b`` of every snapshot.

    Lines go from faint (early) to strong (late); the last one is labelled
    with its equation.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        The data, same shape, finite.
    snapshots : sequence of (float, float)
        Parameters ``(w, b)`` in training order, at least one.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is created when omitted.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        ``ax.lines`` holds one line per snapshot, in order.

    Raises
    ------
    ValueError
        If ``x``/``y`` are not finite 1-D arrays of equal shape, ``snapshots`` is
        not a non-empty sequence of finite ``(w, b)`` pairs, or ``ax`` is not an Axes.
    """
    x, y = _check_xy(x, y)
    snaps = check_path(snapshots, "snapshots")
    check_axes(ax)
    pad = 0.05 * (np.ptp(x) or 1.0)
    xs = np.array([x.min() - pad, x.max() + pad])
    alphas = np.linspace(0.15, 1.0, len(snaps)) if len(snaps) > 1 else np.ones(1)

    with style_context():
        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 4.8), layout="constrained")
        else:
            fig = ax.figure
        ax.scatter(x, y, s=22, color=PALETTE["black"], alpha=0.7, label="data", zorder=3)
        for k, ((w, b), alpha) in enumerate(zip(snaps, alphas)):
            last = k == len(snaps) - 1
            if last:
                label = f"final fit: $y = {w:.2f}\\,x {'+' if b >= 0 else '-'} {abs(b):.2f}$"
            else:
                label = "earlier snapshots (faint = early)" if k == 0 else None
            ax.plot(xs, w * xs + b, color=END_COLOR if last else PATH_COLOR, alpha=float(alpha),
                    linewidth=2.5 if last else 1.5, label=label)
        ax.set_xlabel("$x$")
        ax.set_ylabel("$y$")
        ax.set_title(f"Linear fit $y = wx + b$ during training ({len(snaps)} snapshots)")
        ax.legend(loc="best")
    return fig, ax


def plot_regression_loss_surface(x, y, path=None, w_range=None, b_range=None, num=80, ax=None,
                                 path_label=None, paths=None):
    """Contours of the mean squared error L(w, b) = mean((w x + b - y)^2).

    The contour values are spaced geometrically above the minimum, from 1e-5 of the shown range
    up, so that the floor of a long narrow valley gets contour lines too.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        The data, same shape, finite; ``x`` needs two distinct values.
    path : array_like, shape (k, 2), optional
        Gradient-descent iterates ``(w, b)`` to draw on top.
    path_label : str, optional
        The legend entry of ``path``; default ``"gradient descent (<k - 1> steps)"``. Say so here
        when the path shows only every m-th step.
    paths : dict of str to array_like, optional
        More labelled paths ``(k_i, 2)`` to draw, each in its own colour (e.g. full-batch and
        minibatch descent side by side); drawn after ``path``.
    w_range, b_range : tuple of float, optional
        Plotted intervals; by default they cover the minimum and the path with
        20 % padding (or ± max(1, |w*|) and ± max(1, |b*|) around the minimum).
    num : int, default 80
        Grid points per axis (at least 2).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is created when omitted.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        The paths come first in ``ax.lines``: ``path`` (if given), then those of ``paths``, each
        holding exactly its points.

    Raises
    ------
    ValueError
        If ``x``/``y`` are malformed or of different shapes, all ``x`` are equal,
        ``path`` or a path of ``paths`` is not a finite ``(k, 2)`` array, a label is not a
        string, a range is not ``(low, high)``, ``num < 2``, or ``ax`` is not an Axes.
    """
    x, y = _check_xy(x, y)
    w_opt, b_opt, l_opt = _least_squares(x, y)
    pts = None if path is None else check_path(path)
    if path_label is not None and not isinstance(path_label, str):
        raise ValueError(f"path_label must be a string or None; got {type(path_label).__name__}")
    if paths is not None and not isinstance(paths, dict):
        raise ValueError(f"paths must be a dict label -> (k, 2) path; got {type(paths).__name__}")
    others = {str(k): check_path(v, f"paths[{k!r}]") for k, v in (paths or {}).items()}
    drawn = ([pts] if pts is not None else []) + list(others.values())
    num = check_int(num, "num", 2)
    check_axes(ax)
    if w_range is None or b_range is None:
        if not drawn:
            auto = (w_opt - max(1.0, abs(w_opt)), w_opt + max(1.0, abs(w_opt)),
                    b_opt - max(1.0, abs(b_opt)), b_opt + max(1.0, abs(b_opt)))
        else:
            both = np.vstack(drawn + [[[w_opt, b_opt]]])
            lo, hi = both.min(axis=0), both.max(axis=0)
            pad = np.maximum(0.2 * (hi - lo), 0.5)
            auto = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    w_lo, w_hi = check_range(w_range, "w_range") if w_range is not None else auto[:2]
    b_lo, b_hi = check_range(b_range, "b_range") if b_range is not None else auto[2:]

    W, B = np.meshgrid(np.linspace(w_lo, w_hi, num), np.linspace(b_lo, b_hi, num))
    L = _mse_grid(x, y, W, B)
    span = max(float(L.max()) - l_opt, 1e-12)
    levels = l_opt + span * np.geomspace(1e-5, 1.0, 16)  # geometric: the valley floor gets lines too
    norm = LogNorm(vmin=levels[0], vmax=levels[-1]) if levels[0] > 0 else None

    with style_context():
        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
        else:
            fig = ax.figure
        if pts is not None:
            ax.plot(pts[:, 0], pts[:, 1], "o-", color=PATH_COLOR, markersize=4, linewidth=1.5,
                    label=path_label or f"gradient descent ({len(pts) - 1} steps)", zorder=4)
        markers = "sD^vP"
        for i, (label, other) in enumerate(others.items()):
            colour = CYCLE[(i + 1) % len(CYCLE)]
            ax.plot(other[:, 0], other[:, 1], "-", marker=markers[i % len(markers)], color=colour,
                    markersize=3.5, linewidth=1.2, alpha=0.9, label=label, zorder=4)
        if drawn:
            ax.plot(drawn[0][0, 0], drawn[0][0, 1], "o", color=START_COLOR, markersize=11,
                    markeredgecolor="black", label="start", zorder=5)
        lines = ax.contour(W, B, L, levels=levels, cmap=CMAP, norm=norm, linewidths=1.0)
        bar = fig.colorbar(lines, ax=ax, label="$L(w, b)$")
        bar.minorticks_off()
        bar.set_ticks(levels[::3], labels=[f"{v:.3g}" for v in levels[::3]])
        ax.plot(w_opt, b_opt, "*", color=PALETTE["orange"], markersize=18, markeredgecolor="black",
                label=f"minimum $(w^*, b^*) = ({w_opt:.2f}, {b_opt:.2f})$", zorder=5)
        ax.set_xlim(w_lo, w_hi)
        ax.set_ylim(b_lo, b_hi)
        ax.set_xlabel("slope $w$")
        ax.set_ylabel("intercept $b$")
        ax.set_title("Mean squared error $L(w, b) = \\mathrm{mean}_i\\,(w x_i + b - y_i)^2$")
        ax.legend(loc="best", fontsize=9)
    return fig, ax


def _synthetic_data(seed, n=40):
    """y = 2x + 1 + noise on [0, 5], from a seeded generator."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 5.0, n)
    return x, 2.0 * x + 1.0 + rng.normal(0.0, 1.0, n)


def _mse_grad(x, y):
    def grad(w, b):
        r = w * x + b - y
        return 2.0 * np.mean(r * x), 2.0 * np.mean(r)
    return grad


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    from mlviz.gradient_descent import _descend

    parser = argparse.ArgumentParser(
        description="Fit y = w x + b to a seeded synthetic data set (y = 2x + 1 + noise) by "
                    "gradient descent and draw the fit during training or the loss surface.")
    parser.add_argument("--kind", choices=("fit", "surface"), default="fit",
                        help="fit: data and lines during training; surface: MSE contours with the path")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    parser.add_argument("--lr", type=float, default=0.08, help="learning rate (default 0.08)")
    parser.add_argument("--steps", type=int, default=150, help="gradient-descent steps (default 150)")
    parser.add_argument("--out", default=None,
                        help="output .png/.svg/.pdf (default: regression_<kind>.png in the current folder)")
    args = parser.parse_args(argv)
    try:
        out = check_out_path(args.out or f"regression_{args.kind}.png", (".png", ".svg", ".pdf"))
        steps = check_int(args.steps, "--steps", 1)
        if not (np.isfinite(args.lr) and args.lr > 0):
            raise ValueError(f"--lr must be a positive finite number; got {args.lr}")
        x, y = _synthetic_data(args.seed)
        path = _descend(_mse_grad(x, y), (-1.0, 6.0), args.lr, steps)
        path = path[np.all(np.isfinite(path), axis=1)]
        if args.kind == "fit":
            picks = np.unique(np.round(np.geomspace(1, len(path), 8)).astype(int) - 1)
            fig, _ = plot_fit_during_training(x, y, path[picks])
        else:
            fig, _ = plot_regression_loss_surface(x, y, path=path)
    except ValueError as exc:
        parser.error(str(exc))
    return finish_cli(fig, out)


if __name__ == "__main__":
    sys.exit(main())
