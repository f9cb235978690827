"""Pictures in the grading kernel: none are drawn, a plain note stands where each would be.

A figure, an animation or a widget changes no score, and drawing them was a large share of
grading a notebook (assignment 4's animation alone took seconds). So every grading kernel:

* loads this module as an IPython extension (:func:`kernel_arguments`): matplotlib figures are
  not drawn or encoded (the inline backend gets no image format, and pyplot's redraw of every
  changed figure after each cell is taken out), and IPython shows one line of text for each
  instead, with its titles, so the feedback says plainly that a picture was not drawn, where it
  would be;
* has ``MLVIZ_RENDER=0`` in its environment (:func:`environment`): the course's picture library
  then draws no animation frames and builds no slider (:mod:`mlviz._render`), and says so with
  the same words.

A student's own Jupyter is untouched: there every picture is drawn as before.
"""
from __future__ import annotations

from mlviz._render import NOT_DRAWN, RENDER_VARIABLE


def environment() -> dict[str, str]:
    """What the grading kernel's environment adds: the picture library draws nothing."""
    return {RENDER_VARIABLE: "0"}


def kernel_arguments() -> list[str]:
    """IPKernelApp options that load this module as an extension in the kernel."""
    return [f"--IPKernelApp.extensions={__name__}"]


def note(figure) -> str:
    """The line that stands for ``figure``: its titles, and why it is not drawn."""
    titles = [t for t in [figure.get_suptitle(), *(ax.get_title() for ax in figure.axes)] if t]
    named = " " + "; ".join(f'"{t}"' for t in titles) if titles else ""
    return f"[figure{named}: {NOT_DRAWN}]"


def _pretty(figure, printer, cycle) -> None:
    printer.text(note(figure))


def load_ipython_extension(shell) -> None:
    """In the kernel: figures get no image format, and their text is :func:`note`.

    The inline backend is switched on here, as ``%matplotlib inline`` would (it is the kernel's
    backend anyway): its first activation in a kernel removes every formatter registered for
    ``Figure``, so it must happen before the note's printer is registered.
    """
    from matplotlib import pyplot
    from matplotlib.figure import Figure
    from matplotlib_inline.config import InlineBackend

    InlineBackend.instance(parent=shell).figure_formats = set()
    shell.enable_matplotlib("inline")
    shell.display_formatter.formatters["text/plain"].for_type(Figure, _pretty)
    # pyplot redraws every changed figure after each cell (its "REPL display hook"): with Agg that
    # renders the whole picture, about 0.1 s per figure, only for no image to be made of it. It is
    # installed once per process (a later ``%matplotlib inline`` does not install it again).
    try:
        shell.events.unregister("post_execute", pyplot._draw_all_if_interactive)
    except ValueError:   # not installed: nothing to take out
        pass
