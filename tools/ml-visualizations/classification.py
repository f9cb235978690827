"""Binary classification: the data and the decision boundary of a scoring function.

Run as a script (two interleaved half-moons and a fixed hand-made score, no training)::

    python tools/ml-visualizations/classification.py --out moons.png
"""

if __package__ in (None, ""):
    import _script  # noqa: F401  (registers this folder as the package mlviz)

import argparse
import sys

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D

from mlviz._checks import as_float_array, check_axes, check_callable, check_int, check_out_path
from mlviz._style import PALETTE, finish_cli, style_context

__all__ = ["make_moons", "plot_decision_boundary"]

#: Colour and marker of each class (-1, +1): colour-blind safe and distinct in grey scale too.
_CLASSES = {-1: (PALETTE["blue"], "o"), 1: (PALETTE["orange"], "s")}


def make_moons(n, noise, rng):
    """Two interleaved half-moons in the plane, labelled -1 and +1.

    The first ``n // 2`` points lie on the upper half of the unit circle, the others on the lower
    half of a unit circle centred at (1, 0.5); Gaussian noise of standard deviation ``noise`` is
    added to both coordinates. Every random number comes from ``rng``, in this order: the angles
    of the first moon, the angles of the second, then the noise.

    Parameters
    ----------
    n : int
        The number of points (at least 2).
    noise : float
        The standard deviation of the noise (>= 0).
    rng : numpy.random.Generator

    Returns
    -------
    X : numpy.ndarray of float64, shape (n, 2)
    y : numpy.ndarray of float64, shape (n,)
        -1.0 for the first moon, +1.0 for the second.

    Raises
    ------
    ValueError
        If ``n < 2``, ``noise`` is negative or not finite, or ``rng`` is not a Generator.
    """
    n = check_int(n, "n", 2)
    noise = float(noise)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0; got {noise!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (np.random.default_rng(seed)); got {type(rng).__name__}")
    first = n // 2
    t1 = np.pi * rng.uniform(0.0, 1.0, first)
    t2 = np.pi * rng.uniform(0.0, 1.0, n - first)
    X = np.vstack([np.column_stack([np.cos(t1), np.sin(t1)]),
                   np.column_stack([1.0 - np.cos(t2), 0.5 - np.sin(t2)])])
    X = X + noise * rng.normal(size=X.shape)
    y = np.concatenate([-np.ones(first), np.ones(n - first)])
    return X, y


def _check_data(X, y):
    X = as_float_array(X, "X")
    y = as_float_array(y, "y")
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] < 1:
        raise ValueError(f"X must have shape (n, 2) with n >= 1; got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), one label per row of X; got shape {y.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must contain only finite numbers")
    if not np.all(np.isin(y, [-1.0, 1.0])):
        raise ValueError(f"y must hold the labels -1 and +1 only; got {sorted(set(y.tolist()))[:6]}")
    return X, y


def plot_decision_boundary(score, X, y, ax=None, grid=40, title=None):
    """Shade the plane by the sign of ``score``, draw the boundary ``score = 0`` and the data.

    Parameters
    ----------
    score : callable
        ``score([x1, x2]) -> number``, called once per grid point with a list of two floats;
        positive means class +1, negative class -1.
    X : array_like, shape (n, 2)
        The data points.
    y : array_like, shape (n,)
        Their labels, -1 or +1.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is created when omitted.
    grid : int, default 40
        Grid points per axis (at least 2); the window is the data's bounding box plus 10 %.
    title : str, optional
        Axes title; default ``"Decision boundary: <k> of <n> points on the right side"``.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        ``ax.collections`` holds the shading, the boundary and one scatter per class (class -1
        first); the legend names the two classes and the boundary.

    Raises
    ------
    ValueError
        If ``score`` is not callable or returns something that is not one finite number, ``X`` or
        ``y`` is malformed, ``grid < 2``, ``title`` is not a string, or ``ax`` is not an Axes.
    """
    check_callable(score, "score", "score([x1, x2]) -> number")
    X, y = _check_data(X, y)
    grid = check_int(grid, "grid", 2)
    if title is not None and not isinstance(title, str):
        raise ValueError(f"title must be a string or None; got {type(title).__name__}")
    check_axes(ax)
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9) + 0.1
    g1 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], grid)
    g2 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], grid)
    G1, G2 = np.meshgrid(g1, g2)
    S = np.empty_like(G1)
    for index in np.ndindex(G1.shape):
        value = score([float(G1[index]), float(G2[index])])
        try:
            S[index] = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"score(point) must return one number; got {type(value).__name__}") from None
    if not np.all(np.isfinite(S)):
        raise ValueError("score(point) returned nan or inf on the plotted grid")
    data_scores = np.array([float(score([float(a), float(b)])) for a, b in X])
    right = int(np.sum(np.where(data_scores > 0, 1.0, -1.0) == y))

    with style_context():
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.5, 5.5), layout="constrained")
        else:
            fig = ax.figure
        shades = ListedColormap([_CLASSES[-1][0], _CLASSES[1][0]])
        ax.contourf(G1, G2, np.where(S > 0, 1.0, 0.0), levels=[-0.5, 0.5, 1.5], cmap=shades, alpha=0.18)
        if S.min() < 0 < S.max():
            ax.contour(G1, G2, S, levels=[0.0], colors=PALETTE["black"], linewidths=2.0)
        for label, (colour, marker) in _CLASSES.items():
            chosen = y == label
            ax.scatter(X[chosen, 0], X[chosen, 1], s=36, c=colour, marker=marker, edgecolors="black",
                       linewidths=0.6, zorder=3)
        handles = [Line2D([], [], linestyle="none", marker=m, markersize=7, markerfacecolor=c,
                          markeredgecolor="black", label=f"class {label:+d}")
                   for label, (c, m) in _CLASSES.items()]
        handles.append(Line2D([], [], color=PALETTE["black"], linewidth=2.0, label="boundary: score = 0"))
        ax.legend(handles=handles, loc="best", fontsize=9)
        ax.set_xlim(g1[0], g1[-1])
        ax.set_ylim(g2[0], g2[-1])
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_title(title if title is not None
                     else f"Decision boundary: {right} of {len(y)} points on the right side")
    return fig, ax


def _hand_made_score(point):
    """A fixed curve through the gap between the moons: positive below it (class +1)."""
    x1, x2 = point
    return 0.25 + 0.5 * np.cos(np.pi * (x1 - 0.5)) - x2 - 0.3 * (x1 - 0.5)


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="Draw two interleaved half-moons and the boundary of a fixed hand-made score "
                    "(a curve through the gap between the moons), to show the picture without training.")
    parser.add_argument("--n", type=int, default=60, help="number of points (default 60)")
    parser.add_argument("--noise", type=float, default=0.1, help="noise of the moons (default 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data (default 0)")
    parser.add_argument("--out", default=None, help="output .png/.svg/.pdf (default: moons.png)")
    args = parser.parse_args(argv)
    try:
        out = check_out_path(args.out or "moons.png", (".png", ".svg", ".pdf"))
        X, y = make_moons(args.n, args.noise, np.random.default_rng(args.seed))
        fig, _ = plot_decision_boundary(_hand_made_score, X, y, title="Two half-moons and a hand-made boundary")
    except ValueError as exc:
        parser.error(str(exc))
    return finish_cli(fig, out)


if __name__ == "__main__":
    sys.exit(main())
