"""Every assignment ships a teaching script (sherpa.md) that guides without giving the code away."""
from __future__ import annotations

import re

import nbformat
import pytest

from classgrader.model.notebooks import autograded_items, defined_names, is_solution_cell
from conftest import ASSIGNMENTS, COURSE

SECTIONS = ["Learning goals", "Before you start", "The order of ideas", "Socratic questions",
            "Hints in three levels", "Misconceptions to watch for", "Checkpoints", "Wrap-up"]


def _script(name):
    path = COURSE.folder("source") / name / "sherpa.md"
    assert path.exists(), f"{name} has no sherpa.md"
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_sherpa_has_every_section_in_order(assignment):
    headings = re.findall(r"^## (.+)$", _script(assignment), re.M)
    positions = []
    for section in SECTIONS:
        found = [i for i, h in enumerate(headings) if h.strip().lower().startswith(section.lower())]
        assert found, f"{assignment}/sherpa.md lacks the section {section!r}"
        positions.append(found[0])
    assert positions == sorted(positions), f"{assignment}/sherpa.md has its sections out of order"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_sherpa_points_at_every_checkpoint_and_never_solves(assignment):
    text = _script(assignment)
    source = nbformat.read(COURSE.source_notebook(COURSE.assignment(assignment)), as_version=4)
    missing = [item for item in autograded_items(source) if item not in text]
    assert not missing, f"checkpoints not mentioned in {assignment}/sherpa.md: {missing}"
    functions = {name for cell in source.cells if is_solution_cell(cell) and cell.cell_type == "code"
                 for name in defined_names(cell.source)}
    for name in functions:
        assert not re.search(rf"\b(def|class)\s+{re.escape(name)}\b", text), \
            f"{assignment}/sherpa.md contains code that defines {name}: hints must not give the code away"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_sherpa_is_released_with_the_notebook(assignment):
    assert (COURSE.folder("release") / assignment / "sherpa.md").read_text(encoding="utf-8") == _script(assignment)
