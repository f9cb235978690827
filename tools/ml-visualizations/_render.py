"""Whether pictures are drawn: always, except in a grading kernel.

Grading runs every cell of a notebook but scores none of its pictures, so the course's grader
sets ``MLVIZ_RENDER=0`` in the kernels it starts. There, an animation draws no frames (its file
holds :data:`NOT_DRAWN` instead) and a slider builds no widget; the grader shows the same note
in place of every matplotlib figure. Anywhere else nothing changes.
"""

from __future__ import annotations

import os

#: The environment variable that switches drawing off ("0"); unset or anything else: drawn.
RENDER_VARIABLE = "MLVIZ_RENDER"
#: What a student reads where a picture would be.
NOT_DRAWN = "not drawn while grading (pictures change no score); run the notebook to see it"


def rendering() -> bool:
    """False in a grading kernel (``MLVIZ_RENDER=0``), True everywhere else."""
    return os.environ.get(RENDER_VARIABLE, "1") != "0"


def placeholder_gif(out_path, what: str = "animation") -> None:
    """Write a small GIF that says ``<what> not drawn ...`` (a valid image for the cell that shows it)."""
    from PIL import Image, ImageDraw, ImageFont

    text = f"{what} {NOT_DRAWN}"
    left, top, right, bottom = ImageFont.load_default().getbbox(text)
    image = Image.new("P", (right - left + 12, bottom - top + 12), 0)
    image.putpalette([255, 255, 255, 0, 0, 0])
    ImageDraw.Draw(image).text((6 - left, 6 - top), text, fill=1)
    image.save(out_path)
