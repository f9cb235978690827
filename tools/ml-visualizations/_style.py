"""Shared look of every mlviz figure: the Okabe–Ito palette, font sizes and saving.

``apply_style()`` sets the style globally (handy at the top of a notebook);
``style_context()`` applies it only inside a ``with`` block, which is what the
plotting functions use so that they never change the caller's settings.
"""

from __future__ import annotations

import contextlib
import pathlib

import matplotlib as mpl
from cycler import cycler

from mlviz._checks import check_out_path

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common
# form of colour-vision deficiency.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Order in which series get their colours (yellow last: weak contrast on white).
CYCLE = [PALETTE[k] for k in ("blue", "vermillion", "bluish_green", "orange",
                              "reddish_purple", "sky_blue", "black", "yellow")]

#: Semantic colours used across the modules.
START_COLOR = PALETTE["bluish_green"]
END_COLOR = PALETTE["vermillion"]
PATH_COLOR = PALETTE["blue"]
FORWARD_COLOR = PALETTE["bluish_green"]
BACKWARD_COLOR = PALETTE["vermillion"]
CMAP = "viridis"  # perceptually uniform and colour-blind safe

STYLE = {
    "axes.prop_cycle": cycler(color=CYCLE),
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "figure.titlesize": 14,
    "legend.fontsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "lines.linewidth": 2.0,
    "lines.markersize": 6,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "image.cmap": CMAP,
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
    "svg.hashsalt": "mlviz",  # fixed ids in SVG output -> byte-identical files
}

#: savefig metadata that removes time stamps / version strings, per format.
_METADATA = {
    ".png": {"Software": None},
    ".svg": {"Date": None, "Creator": None},
    ".pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


def apply_style() -> None:
    """Apply the mlviz style to matplotlib's global ``rcParams``."""
    mpl.rcParams.update(STYLE)


@contextlib.contextmanager
def style_context():
    """Apply the mlviz style temporarily: ``with style_context(): ...``.

    The previous rcParams come back on exit, except ``interactive``: when the first figure of a
    Jupyter session is drawn inside the context, the inline backend switches interactive mode on
    while setting itself up, and restoring the old value would stop every later figure from
    being shown.
    """
    with mpl.rc_context(STYLE):
        yield
        interactive = mpl.is_interactive()
    mpl.interactive(interactive)


def save_figure(fig, out_path, *, suffixes=(".png", ".svg", ".pdf")) -> pathlib.Path:
    """Save ``fig`` reproducibly (same figure -> same bytes).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save. It is not closed.
    out_path : str or os.PathLike
        Target file; its folder must exist and its suffix must be in ``suffixes``.
    suffixes : tuple of str
        Allowed file suffixes.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If the folder does not exist or the suffix is not supported.
    """
    path = check_out_path(out_path, suffixes)
    with style_context():
        fig.savefig(path, metadata=_METADATA.get(path.suffix.lower()))
    return path


def finish_cli(fig, out_path) -> int:
    """The end of every picture's command line: save ``fig``, close it, print the path; exit 0."""
    import matplotlib.pyplot as plt

    save_figure(fig, out_path)
    plt.close(fig)
    print(out_path)
    return 0
