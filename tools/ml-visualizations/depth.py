"""Vanishing and exploding gradients: gradient norms layer by layer."""

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from mlviz._checks import check_axes, check_series_dict
from mlviz._style import CYCLE, style_context

__all__ = ["plot_gradient_norms_through_depth"]


def plot_gradient_norms_through_depth(norms_by_label, ax=None):
    """Plot the gradient norm of every layer, one line per network, log-scale y.

    Parameters
    ----------
    norms_by_label : dict of str to array_like
        Label (e.g. ``"sigmoid / small"``) -> 1-D array of gradient norms
        ``‖∂L/∂W_ℓ‖`` for layers ``ℓ = 1 .. L`` (layer 1 next to the input).
        Non-positive or non-finite values are not drawn; each series needs at
        least one positive finite value.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is created when omitted.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        ``ax.lines[i]`` holds series ``i`` at x = 1 .. L.

    Raises
    ------
    ValueError
        If ``norms_by_label`` is not a non-empty dict of 1-D arrays with a
        positive value each, or ``ax`` is not an Axes.
    """
    series = check_series_dict(norms_by_label, "norms_by_label")
    check_axes(ax)
    with style_context():
        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
        else:
            fig = ax.figure
        markers = "osD^vP"
        for i, (label, norms) in enumerate(series.items()):
            shown = np.where(np.isfinite(norms) & (norms > 0), norms, np.nan)
            ax.plot(np.arange(1, norms.size + 1), shown, marker=markers[i % len(markers)],
                    markersize=5, color=CYCLE[i % len(CYCLE)], label=label)
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("layer $\\ell$ (1 = next to the input)")
        ax.set_ylabel("gradient norm $\\|\\partial L / \\partial W_\\ell\\|$")
        ax.set_title("Gradient norms through depth")
        ax.legend(loc="best")
    return fig, ax
