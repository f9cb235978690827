"""No picture is drawn in a grading kernel: a plain note stands where each would be.

Figures, the animation and the slider change no score; the kernel skips drawing them
(classgrader.grade.figures, mlviz._render) and the feedback says so in their place.
"""
from __future__ import annotations

import pytest

from classgrader.grade import figures, sandbox
from kernel_support import Kernel, run
from mlviz._render import NOT_DRAWN

pytestmark = pytest.mark.skipif(not sandbox.supported(), reason="the forked kernel needs Linux")


async def outputs(kernel, code: str) -> list[tuple[str, dict]]:
    """(message type, data or text) of every output of ``code``."""
    found = []
    reply = await kernel.kc.execute_interactive(code, timeout=60, output_hook=found.append)
    assert reply["content"]["status"] == "ok", reply["content"]
    return [(m["msg_type"], m["content"].get("data") or m["content"].get("text"))
            for m in found if m["msg_type"] in ("display_data", "execute_result", "stream")]


def test_figures_are_notes_with_their_titles(tmp_path):
    async def check():
        async with Kernel(tmp_path) as kernel:
            shown = await outputs(kernel, "import matplotlib.pyplot as plt\n"
                                          "fig, ax = plt.subplots()\nax.plot([1, 2])\nax.set_title('the path');")
            assert shown == [("display_data", {"text/plain": f'[figure "the path": {NOT_DRAWN}]'})]
            # %matplotlib inline again, plt.show() and a figure as a cell's value: still notes
            shown = await outputs(kernel, "%matplotlib inline\nfig = plt.figure()\nfig.suptitle('again')\nfig")
            assert [kind for kind, _ in shown] == ["execute_result", "display_data"]
            assert all(data == {"text/plain": f'[figure "again": {NOT_DRAWN}]'} for _, data in shown)
            shown = await outputs(kernel, "plt.plot([3, 1]); plt.show()")
            assert shown == [("display_data", {"text/plain": f"[figure: {NOT_DRAWN}]"})]
    run(check())



def test_no_figure_is_rendered_after_a_cell(tmp_path):
    """pyplot redraws every changed figure after each cell (about 0.1 s each with Agg): not here,
    also not after the notebook asks for ``%matplotlib inline`` again."""
    figure_cell = ("fig, ax = plt.subplots()\nfig.canvas.mpl_connect('draw_event', lambda event: drawn.append(1))\n"
                   "ax.plot([1, 2]);")

    async def check():
        async with Kernel(tmp_path) as kernel:
            await outputs(kernel, "import matplotlib.pyplot as plt\ndrawn = []")
            await outputs(kernel, figure_cell)
            await outputs(kernel, "%matplotlib inline\n" + figure_cell)
            assert await outputs(kernel, "print(len(drawn))") == [("stream", "0\n")]
            # drawing on request still works: the notebook's own code may render a figure
            await outputs(kernel, figure_cell + "\nfig.canvas.draw()")
            assert await outputs(kernel, "print(len(drawn))") == [("stream", "1\n")]
    run(check())

def test_the_picture_library_draws_no_animation_or_slider(tmp_path):
    async def check():
        async with Kernel(tmp_path) as kernel:
            shown = await outputs(kernel, "import os\nprint(os.environ['MLVIZ_RENDER'])")
            assert shown == [("stream", "0\n")]
            shown = await outputs(kernel, "import numpy as np\nfrom PIL import Image\n"
                                          "from mlviz.gradient_descent import animate_descent, learning_rate_slider\n"
                                          "out = animate_descent(lambda W, B: W**2 + B**2, np.array([[8.0, 9.0], "
                                          "[6.4, 7.2], [5.1, 5.8]]), 'run.gif')\n"
                                          "print(Image.open(out).n_frames)")
            assert shown == [("stream", "1\n")], "one still frame that says it is not drawn"
            shown = await outputs(kernel, "learning_rate_slider(lambda W, B: W**2 + B**2, "
                                          "lambda W, B: (2 * W, 2 * B), (8.0, 9.0))")
            assert [kind for kind, _ in shown] == ["execute_result", "display_data"]
            assert all(NOT_DRAWN in data["text/plain"] and "application/vnd.jupyter.widget-view+json" not in data
                       for _, data in shown), "the static panels, as a note: no widget"
    run(check())


def test_the_note_names_every_title():
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    fig.suptitle("learning rates")
    axes[0].set_title("η = 0.1")
    try:
        assert figures.note(fig) == f'[figure "learning rates"; "η = 0.1": {NOT_DRAWN}]'
    finally:
        plt.close(fig)
