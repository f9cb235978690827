"""Write the README pictures: ``python -m mlviz.gallery OUTDIR``.

Writes ``descent_path.png``, ``difference_error.png`` and ``gradient_field.png``
into the existing folder OUTDIR. The pictures are byte-for-byte reproducible.
"""

if __package__ in (None, ""):
    import _script  # noqa: F401  (registers this folder as the package mlviz)

import argparse
import pathlib
import sys

import numpy as np
import matplotlib.pyplot as plt

from mlviz._examples import FUNCTIONS_1D, elongated, elongated_grad
from mlviz._style import save_figure
from mlviz.derivatives import _demo_errors, plot_difference_error
from mlviz.gradient_descent import _descend, plot_descent_path
from mlviz.gradients import plot_gradient_field

__all__ = ["write_gallery"]

NAMES = ("descent_path.png", "difference_error.png", "gradient_field.png")


def write_gallery(outdir):
    """Write the three README pictures into ``outdir``.

    Parameters
    ----------
    outdir : str or os.PathLike
        An existing folder.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``NAMES``.

    Raises
    ------
    ValueError
        If ``outdir`` is not an existing folder.
    """
    folder = pathlib.Path(outdir)
    if not folder.is_dir():
        raise ValueError(f"OUTDIR {str(folder)!r} is not an existing folder; create it first")
    written = []

    path = _descend(elongated_grad, (8.0, 9.0), 0.1, 30)
    fig, _ = plot_descent_path(elongated, path,
                               title="Gradient descent on $f(w, b) = w^2 + 4b^2$, η = 0.1")
    written.append(save_figure(fig, folder / NAMES[0]))
    plt.close(fig)

    f, df = FUNCTIONS_1D["sin"]
    hs = np.logspace(-16, 0, 65)
    fig, ax = plot_difference_error(hs, _demo_errors(f, df, 1.0, hs))
    ax.set_title("Finite-difference error of $\\sin'(1)$: truncation vs round-off")
    written.append(save_figure(fig, folder / NAMES[1]))
    plt.close(fig)

    fig, _ = plot_gradient_field(elongated, elongated_grad, num=60, arrow_every=6)
    written.append(save_figure(fig, folder / NAMES[2]))
    plt.close(fig)
    return written


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m mlviz.gallery",
        description="Write the README pictures " + ", ".join(NAMES) + " into OUTDIR.")
    parser.add_argument("outdir", metavar="OUTDIR", help="existing folder, e.g. docs/images")
    args = parser.parse_args(argv)
    try:
        written = write_gallery(args.outdir)
    except ValueError as exc:
        parser.error(str(exc))
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")  # python -m mlviz.gallery: files only, never a window
    sys.exit(main())
