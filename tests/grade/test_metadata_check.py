"""CheckCellMetadataOnce: nbgrader's metadata check, each distinct valid cell checked once.

What it remembers is only that a cell (its type and nbgrader metadata) was valid, so a malformed
cell and a duplicated grade id are rejected exactly as nbgrader's own check rejects them, however
many valid notebooks came before.
"""
from __future__ import annotations

import copy

import nbformat
import pytest
from nbgrader.nbgraderformat import ValidationError
from nbgrader.preprocessors import CheckCellMetadata

from classgrader.grade.preprocessors import CheckCellMetadataOnce, _RememberingValidator
from classgrader.model.course import REPO_ROOT, Course
from classgrader.model.notebooks import is_autograded_test, nbgrader_meta

COURSE = Course(REPO_ROOT)


@pytest.fixture()
def notebook():
    return nbformat.read(COURSE.source_notebook(COURSE.assignments()[0]), as_version=4)


def both_checks(nb):
    """The outcome of nbgrader's check and of ours: "ok" or the error's message."""
    outcomes = []
    for check in (CheckCellMetadata(), CheckCellMetadataOnce()):
        try:
            check.preprocess(copy.deepcopy(nb), {})
            outcomes.append("ok")
        except ValidationError as err:
            outcomes.append(str(err))
    return outcomes


def test_valid_cells_are_remembered(notebook):
    _RememberingValidator.valid.clear()
    assert both_checks(notebook) == ["ok", "ok"]
    graded = sum(1 for c in notebook.cells if "nbgrader" in c.metadata)
    assert 0 < len(_RememberingValidator.valid) <= graded


def test_malformed_and_duplicated_cells_fail_after_valid_ones(notebook):
    assert both_checks(notebook) == ["ok", "ok"]   # every cell of it is now remembered as valid
    no_points = copy.deepcopy(notebook)
    test_cell = next(c for c in no_points.cells if is_autograded_test(c))
    del nbgrader_meta(test_cell)["points"]
    duplicated = copy.deepcopy(notebook)
    duplicated.cells.append(copy.deepcopy(next(c for c in duplicated.cells if is_autograded_test(c))))
    for broken in (no_points, duplicated):
        nbgrader, ours = both_checks(broken)
        assert nbgrader != "ok" and ours == nbgrader
