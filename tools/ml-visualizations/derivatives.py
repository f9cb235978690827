"""Derivatives: tangent lines, Taylor approximations, and the error of finite differences.

Run as a script::

    python tools/ml-visualizations/derivatives.py --function sin --x 1.0 --out error.png
    python tools/ml-visualizations/derivatives.py --kind tangents --out tangents.png
    python tools/ml-visualizations/derivatives.py --kind taylor --function exp --x 0 --out taylor.png
"""

if __package__ in (None, ""):
    import _script  # noqa: F401  (registers this folder as the package mlviz)

import argparse
import sys

import numpy as np
import matplotlib.pyplot as plt

from mlviz._checks import (
    check_axes, check_callable, check_finite_number, check_int, check_name, check_out_path,
    check_range, check_series_dict, check_vector, evaluate_1d,
)
from mlviz._style import CYCLE, PALETTE, save_figure, style_context

__all__ = ["plot_function_and_tangents", "plot_taylor_approximants", "plot_difference_error"]


def _curve(f, lo, hi, num, ax, variable, name):
    """Check the arguments every one-variable picture shares; return the sampled curve and names."""
    num = check_int(num, "num", 2)
    check_axes(ax)
    var = check_name(variable, "variable")
    fn = check_name(name, "name")
    xs = np.linspace(lo, hi, num)
    return xs, evaluate_1d(f, xs, "f"), var, fn


def plot_function_and_tangents(f, df, x_range=(-3, 3), points=(-1.0, 0.5, 2.0), num=400, ax=None,
                               variable="x", name="f"):
    """Plot ``f``, its derivative ``df`` (dashed) and a tangent segment at each point.

    Parameters
    ----------
    f : callable
        The function, ``f(x)``; vectorised (``np.sin``) or scalar-only (``math.sin``).
    df : callable
        Its derivative ``f'(x)``, same conventions.
    x_range : tuple of float, default (-3, 3)
        Interval ``(low, high)`` on which ``f`` and ``df`` are drawn.
    points : sequence of float, default (-1.0, 0.5, 2.0)
        The x positions of the tangent lines (one marker each).
    num : int, default 400
        Number of sample points of the curves (at least 2).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is created when omitted.
    variable : str, default "x"
        Name of the input in the labels, e.g. ``"z"`` for an activation function
        (mathtext, without the dollar signs).
    name : str, default "f"
        Name of the function in the labels, e.g. ``"\\sigma"`` (mathtext).

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``f`` or ``df`` is not callable, ``x_range`` is not ``(low, high)``,
        ``points`` is not a non-empty 1-D array of finite numbers, ``num < 2``,
        ``variable`` or ``name`` is not a non-empty string, or ``ax`` is not an
        Axes.
    """
    check_callable(f, "f", "f(x)")
    check_callable(df, "df", "df(x) (the derivative of f)")
    lo, hi = check_range(x_range, "x_range")
    pts = check_vector(points, "points")
    xs, ys, var, fn = _curve(f, lo, hi, num, ax, variable, name)
    dys = evaluate_1d(df, xs, "df")
    f_pts = evaluate_1d(f, pts, "f")
    slopes = evaluate_1d(df, pts, "df")
    half = 0.12 * (hi - lo)

    with style_context():
        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 4.5))
        else:
            fig = ax.figure
        ax.plot(xs, ys, color=PALETTE["black"], label=f"${fn}({var})$")
        ax.plot(xs, dys, color=PALETTE["sky_blue"], linestyle="--",
                label=f"${fn}'({var})$ (derivative)")
        tangent_colors = [c for c in CYCLE if c not in (PALETTE["black"], PALETTE["sky_blue"])]
        for i, (x0, y0, m) in enumerate(zip(pts, f_pts, slopes)):
            color = tangent_colors[i % len(tangent_colors)]
            seg = np.array([x0 - half, x0 + half])
            ax.plot(seg, y0 + m * (seg - x0), color=color, linewidth=2.5,
                    label=f"tangent at ${var} = {x0:g}$ (slope {m:.2f})")
            ax.plot([x0], [y0], "o", color=color, markeredgecolor="black", zorder=3)
        ax.axhline(0.0, color="0.5", linewidth=0.8)
        ax.set_xlabel(f"${var}$")
        ax.set_ylabel("$y$")
        ax.set_title(f"${fn}({var})$, its derivative ${fn}'({var})$ and tangent lines")
        ax.legend(loc="best")
    return fig, ax


def plot_taylor_approximants(f, x0, slope, curvature, x_range=None, num=400, ax=None,
                             variable="x", name="f"):
    """Plot ``f`` with its first- and second-order Taylor approximations around ``x0``.

    First order (the tangent): ``f(x0) + f'(x0) (x - x0)``. Second order:
    ``f(x0) + f'(x0) (x - x0) + 1/2 f''(x0) (x - x0)**2``, a parabola that also
    follows the bending of ``f``. Near ``x0`` both hug the curve; further away the
    tangent leaves it first. The y-axis is fitted to ``f`` (with a margin), so
    approximants that run far away are cut at the frame instead of squashing ``f``.

    Parameters
    ----------
    f : callable
        The function, ``f(x)``; vectorised (``np.exp``) or scalar-only (``math.exp``).
    x0 : float
        The point of expansion.
    slope, curvature : float
        ``f'(x0)`` and ``f''(x0)``.
    x_range : tuple of float, optional
        Interval ``(low, high)`` drawn; it must contain ``x0`` strictly inside.
        Default ``(x0 - 2, x0 + 2)``.
    num : int, default 400
        Number of sample points (at least 2).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is created when omitted.
    variable : str, default "x"
        Name of the input in the labels (mathtext, without dollar signs).
    name : str, default "f"
        Name of the function in the labels (mathtext).

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        ``ax.lines`` holds, in order: ``f``, the first-order approximation, the
        second-order approximation and the marker at ``(x0, f(x0))``.

    Raises
    ------
    ValueError
        If ``f`` is not callable or not finite at ``x0``, ``x0``, ``slope`` or
        ``curvature`` is not a finite number, ``x_range`` is not ``(low, high)``
        around ``x0``, ``num < 2``, a name is not a non-empty string, or ``ax``
        is not an Axes.
    """
    check_callable(f, "f", "f(x)")
    x0 = check_finite_number(x0, "x0")
    slope = check_finite_number(slope, "slope")
    curvature = check_finite_number(curvature, "curvature")
    lo, hi = check_range((x0 - 2.0, x0 + 2.0) if x_range is None else x_range, "x_range")
    if not lo < x0 < hi:
        raise ValueError(f"x_range = ({lo:g}, {hi:g}) must contain x0 = {x0:g} strictly inside")
    xs, ys, var, fn = _curve(f, lo, hi, num, ax, variable, name)
    f0 = float(evaluate_1d(f, np.array([x0]), "f")[0])
    if not np.isfinite(f0):
        raise ValueError(f"f(x0) must be finite; got f({x0:g}) = {f0!r}")
    first = f0 + slope * (xs - x0)
    second = first + 0.5 * curvature * (xs - x0) ** 2
    shown = ys[np.isfinite(ys)]
    low, high = (shown.min(), shown.max()) if shown.size else (f0 - 1.0, f0 + 1.0)
    margin = 0.3 * (high - low) if high > low else 1.0

    with style_context():
        if ax is None:
            fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
        else:
            fig = ax.figure
        ax.plot(xs, ys, color=PALETTE["black"], linewidth=2.5, label=f"${fn}({var})$")
        ax.plot(xs, first, color=PALETTE["blue"], linestyle="--",
                label=f"first order: ${fn}({var}_0) + {fn}'({var}_0)\\,({var} - {var}_0)$")
        ax.plot(xs, second, color=PALETTE["vermillion"], linestyle="-.",
                label=f"second order: $\\ldots + \\frac{{1}}{{2}}\\,{fn}''({var}_0)\\,({var} - {var}_0)^2$")
        ax.plot([x0], [f0], "o", color=PALETTE["black"], markeredgecolor="black", zorder=3,
                label=f"${var}_0 = {x0:g}$")
        ax.axvline(x0, color="0.6", linewidth=0.8, linestyle=":")
        ax.set_xlim(lo, hi)
        ax.set_ylim(low - margin, high + margin)
        ax.set_xlabel(f"${var}$")
        ax.set_ylabel("$y$")
        ax.set_title(f"Taylor approximations of ${fn}$ around ${var}_0 = {x0:g}$")
        ax.legend(loc="best", fontsize=9)
    return fig, ax


def _large_h_slope(hc, ec, log_mid):
    """Least-squares log-log slope of a curve over ``log10(h) >= log_mid`` (0 if < 2 points)."""
    keep = np.log10(hc) >= log_mid
    if keep.sum() < 2:
        return 0.0
    return float(np.polyfit(np.log10(hc[keep]), np.log10(ec[keep]), 1)[0])


def plot_difference_error(hs, errors, ax=None, reference_slopes=(1, 2, -1)):
    """Plot the absolute error of finite-difference derivatives against the step ``h``.

    On log-log axes each method's error falls with slope p (truncation error
    ``~h**p``) for large ``h`` and rises with slope -1 (round-off ``~eps/h``) for
    small ``h``: the V shape. The minimum of every curve is marked.

    Parameters
    ----------
    hs : array_like, shape (n,)
        Positive step sizes, ``n >= 2``.
    errors : dict of str to array_like
        Method name (e.g. ``"forward"``, ``"central"``) -> absolute errors, one per
        step in ``hs``. Zeros and non-finite values are skipped on the log axes.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is created when omitted.
    reference_slopes : sequence of float, default (1, 2, -1)
        Dashed guide lines labelled ``"slope 1"`` etc. Positive slopes (truncation)
        are drawn along the right arm of the curve whose large-``h`` slope is
        closest (from its minimum to the largest ``h``), parallel to it and a bit
        below; negative slopes (round-off) along the left arm, from the smallest
        ``h`` to the leftmost minimum, a bit above the highest curve.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``hs`` is not a 1-D array of >= 2 positive finite numbers, ``errors`` is
        not a non-empty dict, an error array's shape differs from ``hs``, an error
        is negative, a curve has no positive value, or ``ax`` is not an Axes.
    """
    h = check_vector(hs, "hs", min_len=2, positive=True)
    errs = check_series_dict(errors, "errors")
    for name, arr in errs.items():
        if arr.shape != h.shape:
            raise ValueError(
                f"errors[{name!r}] has shape {arr.shape} but hs has shape {h.shape}; "
                "give one error per step size"
            )
        if np.any(arr[np.isfinite(arr)] < 0):
            raise ValueError(f"errors[{name!r}] must be absolute errors (>= 0)")
    slopes = check_vector(reference_slopes, "reference_slopes", min_len=0)
    check_axes(ax)

    order = np.argsort(h)
    h = h[order]
    curves = {}
    for name, arr in errs.items():
        arr = arr[order]
        keep = np.isfinite(arr) & (arr > 0)
        curves[name] = (h[keep], arr[keep])
    log_lo, log_hi = np.log10(h[0]), np.log10(h[-1])
    log_mid = 0.5 * (log_lo + log_hi)

    guides = []
    for s in slopes:
        if s >= 0:  # truncation: right arm of the curve whose large-h slope is closest
            best = min(curves, key=lambda n: abs(_large_h_slope(*curves[n], log_mid) - s))
            hc, ec = curves[best]
            h_start = hc[int(np.argmin(ec))]
            if h_start >= hc[-1]:
                h_start = 10.0 ** log_mid
            span = np.geomspace(h_start, hc[-1], 20)
            line = 0.3 * ec[-1] * (span / hc[-1]) ** s  # parallel, a bit below
        else:  # round-off: left arm, a bit above the highest curve
            h_end = min(hc[int(np.argmin(ec))] for hc, ec in curves.values())
            if h_end <= h[0]:
                h_end = 10.0 ** log_mid
            span = np.geomspace(h[0], h_end, 20)
            line = 3.0 * max(ec[0] for _, ec in curves.values()) * (span / h[0]) ** s
        guides.append((s, span, line))

    with style_context():
        if ax is None:
            fig, ax = plt.subplots(figsize=(9.5, 5), layout="constrained")
        else:
            fig = ax.figure
        for i, (name, (hc, ec)) in enumerate(curves.items()):
            color = CYCLE[i % len(CYCLE)]
            ax.loglog(hc, ec, "o-", color=color, markersize=4, label=name)
            k = int(np.argmin(ec))
            ax.loglog([hc[k]], [ec[k]], marker="*", markersize=16, color=color,
                      markeredgecolor="black", linestyle="none",
                      label=f"{name} minimum ($h \\approx$ {hc[k]:.0e})")
        grays = ("0.15", "0.4", "0.6", "0.75")
        for j, (s, span, line) in enumerate(guides):
            ax.loglog(span, line, linestyle="--", linewidth=1.5, color=grays[j % len(grays)],
                      label=f"slope {s:g}")
            mid = len(span) // 2
            ax.annotate(f"slope {s:g}", (span[mid], line[mid]), textcoords="offset points",
                        xytext=(6, -14) if s >= 0 else (6, 6), fontsize=9,
                        color=grays[j % len(grays)])
        ax.set_xlabel("step size $h$")
        ax.set_ylabel("absolute error $|D_h f(x) - f'(x)|$")
        ax.set_title("Finite-difference error: truncation vs round-off")
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9)
    return fig, ax


def _demo_errors(f, df, x, hs):
    """Forward and central difference errors (CLI demo only; not public API)."""
    h = np.asarray(hs, dtype=np.float64)
    exact = df(x)
    forward = (f(x + h) - f(x)) / h
    central = (f(x + h) - f(x - h)) / (2.0 * h)
    return {"forward": np.abs(forward - exact), "central": np.abs(central - exact)}


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    from mlviz._examples import FUNCTIONS_1D

    parser = argparse.ArgumentParser(
        description="Draw the finite-difference error (V shape), a function with tangents, or its "
                    "first- and second-order Taylor approximations.")
    parser.add_argument("--function", choices=sorted(FUNCTIONS_1D), default="sin",
                        help="the function f (default: sin)")
    parser.add_argument("--x", type=float, default=1.0,
                        help="point where the derivative is approximated, or the point of "
                             "expansion (kind=error or taylor; default 1.0)")
    parser.add_argument("--kind", choices=("error", "tangents", "taylor"), default="error",
                        help="error: |error| vs h on log-log axes; tangents: f, f' and tangents; "
                             "taylor: f with its Taylor approximations of order 1 and 2 at --x")
    parser.add_argument("--points", type=float, nargs="+", default=[-1.0, 0.5, 2.0],
                        help="tangent points (kind=tangents; default -1 0.5 2)")
    parser.add_argument("--out", default=None,
                        help="output .png/.svg/.pdf (default: <kind>.png in the current folder)")
    args = parser.parse_args(argv)
    f, df = FUNCTIONS_1D[args.function]
    try:
        out = check_out_path(args.out or f"{args.kind}.png", (".png", ".svg", ".pdf"))
        if args.kind == "error":
            hs = np.logspace(-16, 0, 65)
            fig, _ = plot_difference_error(hs, _demo_errors(f, df, args.x, hs))
            fig.axes[0].set_title(f"Finite-difference error of {args.function}' at x = {args.x:g}")
        elif args.kind == "taylor":
            step = 1e-4  # f'' by a central difference of the exact f' (a demo, not the course's answer)
            curvature = (df(args.x + step) - df(args.x - step)) / (2 * step)
            fig, _ = plot_taylor_approximants(f, args.x, df(args.x), curvature)
        else:
            fig, _ = plot_function_and_tangents(f, df, points=args.points)
        path = save_figure(fig, out)
    except ValueError as exc:
        parser.error(str(exc))
    plt.close(fig)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
