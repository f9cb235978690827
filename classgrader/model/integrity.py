"""Structural check of a submission before it is graded.

Plain ``nbgrader autograde`` lets one malformed hand-in abort a whole class (a duplicated grade
cell stops the run with a misleading "old metadata version" message). This check runs first and
turns every such problem into a *quarantine* of that one submission with a reason a person can
act on, so everybody else is still graded.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat

from classgrader.model.notebooks import nbgrader_meta

#: Phrases of the quarantine reasons, shared with the code (and tests) that expect them.
QUARANTINE_PHRASES = {
    "json": "is not valid JSON",
    "missing": "is missing",
    "renamed": "was it renamed?",
    "duplicated": "(a copied cell?)",
    "deleted": "was deleted",
}
_SAY = QUARANTINE_PHRASES


def check_submission(submission_dir: Path, source_notebooks: dict[str, nbformat.NotebookNode]) -> list[str]:
    """Reasons to quarantine one submission (an empty list means it may be graded).

    Parameters
    ----------
    submission_dir : Path
        ``submitted/<student>/<assignment>``.
    source_notebooks : dict
        Notebook file name -> the instructor's source notebook, the reference for which grade
        cells must be present and what type they are.
    """
    if not submission_dir.is_dir():
        return [f"{submission_dir} is not a folder"]
    reasons = []
    handed_in = sorted(p.name for p in submission_dir.glob("*.ipynb"))
    for filename, source in source_notebooks.items():
        path = submission_dir / filename
        if not path.is_file():
            found = ", ".join(handed_in) or "no notebooks"
            reasons.append(f"{filename} {_SAY['missing']} (found: {found}); {_SAY['renamed']}")
            continue
        try:
            reasons.extend(_check_notebook(path, source))
        except Exception as err:  # noqa: BLE001 - one strange hand-in must not stop the class
            reasons.append(f"{filename} could not be checked ({type(err).__name__}: {str(err)[:200]})")
    return reasons


def _check_notebook(path: Path, source: nbformat.NotebookNode) -> list[str]:
    name = path.name
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return [f"{name} is not UTF-8 text"]
    except json.JSONDecodeError as err:
        return [f"{name} {_SAY['json']} ({err.msg} at line {err.lineno}, column {err.colno})"]
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # noqa: BLE001 - nbformat raises several types
        message = getattr(err, "message", None) or str(err)
        return [f"{name} is not a valid Jupyter notebook: {message.splitlines()[0][:200]}"]

    expected = {nbgrader_meta(c)["grade_id"]: c.cell_type
                for c in source.cells if nbgrader_meta(c).get("grade_id")}
    return [f"{name}: {problem}" for problem in grade_cell_problems(nb, expected)]


def grade_cell_problems(nb: nbformat.NotebookNode, expected: dict[str, str]) -> list[str]:
    """What is wrong with a hand-in's grade cells, compared with ``expected`` (grade_id -> cell type).

    Used by the pre-check above and by the autograde preprocessor
    :class:`classgrader.grade.preprocessors.RejectMalformed`, so both say the same thing.
    """
    seen: dict[str, list[str]] = {}
    problems = []
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is not None and not isinstance(meta, dict):
            problems.append(f"cell {index + 1} has malformed nbgrader metadata")
            continue
        grade_id = (meta or {}).get("grade_id")
        if grade_id is not None and not isinstance(grade_id, str):
            problems.append(f"cell {index + 1} has a malformed grade_id ({type(grade_id).__name__})")
        elif grade_id:
            seen.setdefault(grade_id, []).append(cell.cell_type)
    for grade_id, cell_type in sorted(expected.items()):
        types = seen.get(grade_id, [])
        if not types:
            problems.append(f"cell {grade_id!r} {_SAY['deleted']}")
        elif len(types) > 1:
            problems.append(f"cell {grade_id!r} appears {len(types)} times {_SAY['duplicated']}")
        elif types[0] != cell_type:
            problems.append(f"cell {grade_id!r} was changed from {cell_type} to {types[0]}")
    unknown = sorted(set(seen) - set(expected))
    if unknown:
        problems.append(f"unknown grade cells {', '.join(map(repr, unknown))} (renamed?)")
    return problems
