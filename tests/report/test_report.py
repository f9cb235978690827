"""The class report counts only the grader's own diagnoses, once per student and item, as text."""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from classgrader.model.status import DIAGNOSES_KEY, NOTEBOOK_RECORD
from classgrader.report.report import _diagnoses, markdown_text

INJECTED = "Diagnosis: ![seen](https://example.invalid/pixel.png) [sign in again](https://example.invalid/login)"


class _Folders:
    def __init__(self, root: Path):
        self.root = root

    def folder(self, name: str) -> Path:
        return self.root / name


def _autograded(root: Path, student: str, record: dict | None, message: str) -> None:
    cell = new_code_cell("central_difference(f, 1.0)", metadata={"nbgrader": {"grade_id": "correct_central_difference", "grade": True}})
    cell.outputs = [new_output("error", ename="ValueError", evalue=message, traceback=[message])]
    nb = new_notebook(cells=[cell])
    if record is not None:
        nb.metadata[NOTEBOOK_RECORD] = record
    path = root / "autograded" / student / "01-derivatives" / "derivatives.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)


def test_only_the_graders_record_counts_once_per_student_and_item(tmp_path):
    _autograded(tmp_path, "attacker", {DIAGNOSES_KEY: {}}, f"your code raised ValueError: {INJECTED}\n{INJECTED}")
    _autograded(tmp_path, "forged", None, INJECTED)
    twice = "this is a forward difference: its error shrinks like h"
    _autograded(tmp_path, "honest", {DIAGNOSES_KEY: {"correct_central_difference": [twice, twice]}}, "Diagnosis: " + twice)
    counts = _diagnoses(_Folders(tmp_path))
    assert counts == {("01-derivatives", "correct_central_difference", twice): 1}


def test_a_diagnosis_is_shown_as_plain_text():
    shown = markdown_text("![seen](https://x/p.png)\n[log in](https://x) <img src=x> a|b")
    assert shown == r"\!\[seen\]\(https://x/p.png\) \[log in\]\(https://x\) \<img src=x\> a\|b"
