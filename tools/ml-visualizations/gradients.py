"""Partial derivatives and gradients of a loss f(w, b).

Run as a script::

    python tools/ml-visualizations/gradients.py --kind surface --out surface.png
    python tools/ml-visualizations/gradients.py --kind field --function elongated --out field.png
"""

if __package__ in (None, ""):
    import _script  # noqa: F401  (registers this folder as the package mlviz)

import argparse
import sys

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from mlviz._checks import (
    check_axes, check_callable, check_finite_number, check_int, check_name, check_out_path,
    check_range, evaluate_gradient, evaluate_gradient_pointwise, evaluate_grid,
)
from mlviz._style import CMAP, PALETTE, finish_cli, style_context

__all__ = ["plot_loss_surface_with_slice", "plot_gradient_field"]

#: Fixed camera of the 3-D surface (degrees).
VIEW_ELEV, VIEW_AZIM = 28.0, -58.0


def plot_loss_surface_with_slice(f, w_range=(-10, 10), b_range=(-10, 10), fixed_b=5.0, num=60,
                                 fig=None):
    """Show ∂f/∂w as the slope of a slice through the surface f(w, b).

    Left: the 3-D surface of ``f`` with the curve at ``b = fixed_b`` drawn on it
    in a contrasting colour. Right: that slice, ``z = f(w, fixed_b)``, against
    ``w`` with its tangent at ``w0 = low + 0.75 (high - low)`` of ``w_range``. The
    tangent's slope is the partial derivative ∂f/∂w there, estimated by a central
    difference with step ``1e-6 (high - low)``.

    Parameters
    ----------
    f : callable
        ``f(W, B)`` taking two equally shaped arrays and returning an array of that shape.
    w_range, b_range : tuple of float, default (-10, 10)
        Plotted intervals ``(low, high)`` of ``w`` and ``b``.
    fixed_b : float, default 5.0
        The value of ``b`` at which the slice is taken; must lie in ``b_range``.
    num : int, default 60
        Grid points per axis of the surface (at least 2).
    fig : matplotlib.figure.Figure, optional
        Figure to draw into (its existing axes are left alone); a new one is
        created when omitted.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : tuple of (mpl_toolkits.mplot3d.axes3d.Axes3D, matplotlib.axes.Axes)
        The 3-D surface axes and the 2-D slice axes.

    Raises
    ------
    ValueError
        If ``f`` is not callable or returns the wrong shape, a range is not
        ``(low, high)``, ``fixed_b`` is not a finite number inside ``b_range``,
        ``num < 2``, or ``fig`` is not a Figure.
    """
    check_callable(f, "f", "f(W, B) -> array")
    w_lo, w_hi = check_range(w_range, "w_range")
    b_lo, b_hi = check_range(b_range, "b_range")
    fixed_b = check_finite_number(fixed_b, "fixed_b")
    if not b_lo <= fixed_b <= b_hi:
        raise ValueError(f"fixed_b = {fixed_b:g} must lie inside b_range = ({b_lo:g}, {b_hi:g})")
    num = check_int(num, "num", 2)
    if fig is not None and not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure or None; got {type(fig).__name__}")

    W, B = np.meshgrid(np.linspace(w_lo, w_hi, num), np.linspace(b_lo, b_hi, num))
    Z = evaluate_grid(f, W, B)
    ws = np.linspace(w_lo, w_hi, max(200, num))
    bs = np.full_like(ws, fixed_b)
    zs = evaluate_grid(f, ws, bs)
    w0 = w_lo + 0.75 * (w_hi - w_lo)
    step = 1e-6 * (w_hi - w_lo)
    z_pair = evaluate_grid(f, np.array([w0 - step, w0, w0 + step]), np.full(3, fixed_b))
    slope = (z_pair[2] - z_pair[0]) / (2.0 * step)
    z0 = z_pair[1]
    half = 0.15 * (w_hi - w_lo)

    with style_context():
        if fig is None:
            fig = plt.figure(figsize=(13, 5.5), layout="constrained")
        gs = fig.add_gridspec(1, 2, width_ratios=(1.15, 1.0))
        ax3d = fig.add_subplot(gs[0, 0], projection="3d")
        ax2d = fig.add_subplot(gs[0, 1])

        ax3d.plot_surface(W, B, Z, cmap=CMAP, alpha=0.75, linewidth=0, antialiased=True)
        ax3d.plot(ws, bs, zs, color=PALETTE["vermillion"], linewidth=3.5, zorder=10,
                  label=f"slice $b = {fixed_b:g}$")
        ax3d.view_init(elev=VIEW_ELEV, azim=VIEW_AZIM)
        ax3d.set_xlabel("$w$")
        ax3d.set_ylabel("$b$")
        ax3d.set_zlabel("$f(w, b)$")
        ax3d.set_title("Loss surface $f(w, b)$")
        ax3d.legend(loc="upper left")

        ax2d.plot(ws, zs, color=PALETTE["vermillion"], label=f"$f(w, {fixed_b:g})$")
        seg = np.array([w0 - half, w0 + half])
        ax2d.plot(seg, z0 + slope * (seg - w0), color=PALETTE["blue"], linestyle="--",
                  label=f"tangent, slope = ∂f/∂w ≈ {slope:.3g}")
        ax2d.plot([w0], [z0], "o", color=PALETTE["blue"], markeredgecolor="black", zorder=3,
                  label=f"$w_0 = {w0:g}$")
        ax2d.set_xlabel("$w$")
        ax2d.set_ylabel(f"$f(w, b = {fixed_b:g})$")
        ax2d.set_title(f"Slice at $b = {fixed_b:g}$: the slope is $\\partial f/\\partial w$")
        ax2d.legend(loc="best")
        fig.suptitle("A partial derivative is the slope of a slice")
    return fig, (ax3d, ax2d)


def plot_gradient_field(f, grad, w_range=(-10, 10), b_range=(-10, 10), num=100, arrow_every=10,
                        ax=None, names=("w", "b"), pointwise=False):
    """Draw the gradient ∇f as arrows over the filled contours of ``f``.

    Parameters
    ----------
    f : callable
        ``f(W, B)`` taking two equally shaped arrays and returning that shape.
    grad : callable
        ``grad(W, B) -> (dW, dB)``, the partial derivatives as two arrays; with
        ``pointwise=True`` instead ``grad(w, b) -> [df/dw, df/db]`` for one point,
        called with two Python floats at each arrow.
    w_range, b_range : tuple of float, default (-10, 10)
        Plotted intervals ``(low, high)``.
    num : int, default 100
        Grid points per axis of the contours (at least 2).
    arrow_every : int, default 10
        An arrow at every ``arrow_every``-th grid point per axis, on a sub-grid
        centred in the plot: ``len(range((num - 1) % arrow_every // 2, num,
        arrow_every)) ** 2`` arrows, which is ``(num // arrow_every) ** 2`` when
        ``arrow_every`` divides ``num``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is created when omitted. The colour bar
        takes its space from this axes.
    names : pair of str, default ("w", "b")
        Names of the two inputs in the axis labels, colour bar, title and legend
        (mathtext without dollar signs), e.g. ``("x", "y")``.
    pointwise : bool, default False
        Call ``grad`` once per arrow with two numbers instead of once with the
        grid arrays: for gradient functions written for a single point.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``f`` or ``grad`` is not callable or returns the wrong shape, a range
        is not ``(low, high)``, ``num < 2``, ``arrow_every < 1``, ``names`` is not
        a pair of non-empty strings, or ``ax`` is not an Axes.
    """
    check_callable(f, "f", "f(W, B) -> array")
    check_callable(grad, "grad", "grad(w, b) -> [df/dw, df/db]" if pointwise else "grad(W, B) -> (dW, dB)")
    if not isinstance(names, (tuple, list)) or len(names) != 2:
        raise ValueError(f"names must be a pair of strings such as ('w', 'b'); got {names!r}")
    u, v = (check_name(n, "names") for n in names)
    w_lo, w_hi = check_range(w_range, "w_range")
    b_lo, b_hi = check_range(b_range, "b_range")
    num = check_int(num, "num", 2)
    arrow_every = check_int(arrow_every, "arrow_every", 1)
    check_axes(ax)

    W, B = np.meshgrid(np.linspace(w_lo, w_hi, num), np.linspace(b_lo, b_hi, num))
    Z = evaluate_grid(f, W, B)
    first = ((num - 1) % arrow_every) // 2  # centre the arrow sub-grid in the plot
    Wq, Bq = W[first::arrow_every, first::arrow_every], B[first::arrow_every, first::arrow_every]
    if pointwise:
        dW, dB = evaluate_gradient_pointwise(grad, Wq, Bq)
    else:
        dW, dB = evaluate_gradient(grad, Wq, Bq)

    with style_context():
        if ax is None:
            fig, ax = plt.subplots(figsize=(7.5, 6.5), layout="constrained")
        else:
            fig = ax.figure
        Z = np.ma.masked_invalid(Z)
        filled = ax.contourf(W, B, Z, levels=20, cmap=CMAP, alpha=0.85)
        ax.contour(W, B, Z, levels=filled.levels, colors="black", linewidths=0.5, alpha=0.5)
        ax.quiver(Wq, Bq, dW, dB, color="white", edgecolor="black", linewidth=0.6,
                  angles="xy", pivot="tail", zorder=3)
        fig.colorbar(filled, ax=ax, label=f"$f({u}, {v})$")
        ax.set_aspect("equal")
        ax.set_xlim(w_lo, w_hi)
        ax.set_ylim(b_lo, b_hi)
        ax.set_xlabel(f"${u}$")
        ax.set_ylabel(f"${v}$")
        ax.set_title(f"Gradient $\\nabla f({u}, {v})$: points uphill, across the contours")
        arrow = Line2D([], [], linestyle="none", marker="$\\rightarrow$", markersize=16, color="black",
                       label=f"$\\nabla f = (\\partial f/\\partial {u},\\ \\partial f/\\partial {v})$")
        ax.legend(handles=[arrow], loc="upper right", framealpha=0.9)
        ax.grid(False)
    return fig, ax


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    from mlviz._examples import FUNCTIONS_2D

    parser = argparse.ArgumentParser(
        description="Draw a loss surface with a slice (∂f/∂w) or the gradient field of f(w, b).")
    parser.add_argument("--kind", choices=("surface", "field"), default="surface",
                        help="surface: 3-D surface + slice; field: contours + gradient arrows")
    parser.add_argument("--function", choices=sorted(FUNCTIONS_2D), default="bowl",
                        help="the function f(w, b) (default: bowl, w² + b²)")
    parser.add_argument("--fixed-b", type=float, default=5.0,
                        help="b of the slice (kind=surface; default 5)")
    parser.add_argument("--out", default=None,
                        help="output .png/.svg/.pdf (default: <kind>.png in the current folder)")
    args = parser.parse_args(argv)
    f, grad, _ = FUNCTIONS_2D[args.function]
    try:
        out = check_out_path(args.out or f"{args.kind}.png", (".png", ".svg", ".pdf"))
        if args.kind == "surface":
            fig, _ = plot_loss_surface_with_slice(f, fixed_b=args.fixed_b)
        else:
            fig, _ = plot_gradient_field(f, grad)
    except ValueError as exc:
        parser.error(str(exc))
    return finish_cli(fig, out)


if __name__ == "__main__":
    sys.exit(main())
