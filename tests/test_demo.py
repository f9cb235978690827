"""`make demo`'s command on a one-assignment course: the whole life cycle, twice, same table.

Runs ``python -m classgrader demo`` as a user would (real nbgrader generate_assignment, autograde,
generate_feedback and export on an SQLite gradebook) and checks what it leaves behind.
"""
from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from classgrader.model.course import temporary_course
from classgrader.model.notebooks import autograded_items
from canvas_rules import canvas_import
from conftest import ASSIGNMENTS, COURSE


@pytest.fixture(scope="module")
def demo_course():
    root = temporary_course(COURSE, ASSIGNMENTS[:1])
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _demo(root):
    completed = subprocess.run([sys.executable, "-m", "classgrader", "--course", str(root), "demo"],
                               capture_output=True, text=True, timeout=900)
    table = re.sub(r"; [0-9.]+ s\n", "\n", completed.stdout)
    return completed, table


@pytest.mark.xdist_group("demo")
def test_demo_runs_twice_with_the_same_table_and_leaves_grades_and_feedback(demo_course):
    first, first_table = _demo(demo_course)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "Every submission got exactly what it should." in first.stdout
    assert re.search(r"^perfect\s+\S+\s+(\d+)/\1 \(100%\)", first.stdout, re.M)
    assert re.search(r"^blank\s+\S+\s+0/\d+ \(0%\)", first.stdout, re.M)
    assert "quarantined broken-json" in first.stdout

    second, second_table = _demo(demo_course)
    assert second.returncode == 0, second.stdout[-3000:]
    assert second_table == first_table

    with open(demo_course / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assignment = COURSE.assignment(ASSIGNMENTS[0])
    auto_max = sum(autograded_items(nbformat.read(COURSE.source_notebook(assignment), as_version=4)).values())
    perfect = [r for r in rows if r["student_id"] == "perfect"]
    # grades.csv's max_score also counts the hand-graded written answer, which nobody has graded yet.
    assert perfect and float(perfect[0]["score"]) == auto_max > 0
    assert float(perfect[0]["max_score"]) > auto_max
    assert not [r for r in rows if r["student_id"] == "broken-json" and float(r["score"] or 0) > 0]

    mistake = next(p for p in (demo_course / "feedback").iterdir() if p.name.startswith(ASSIGNMENTS[0][:2] + "-"))
    html = (mistake / assignment.name / f"{assignment.notebook}.html").read_text()
    assert "Diagnosis" in html or "Hint" in html, "the feedback must carry the failure message"
    assert "BEGIN HIDDEN TESTS" not in html and "classgrader.checks" not in html, "hidden test source leaked"
    assert (demo_course / "grading-status.json").exists()
    report = (demo_course / "reports" / "report.md").read_text()
    assert "Pass rate of every autograded item" in report and "broken-json" in report
    canvas = canvas_import(demo_course / "reports" / "canvas.csv")
    assert canvas["points"] == {assignment.name: float(perfect[0]["max_score"])}, "full points, hand-graded too"
    with open(demo_course / "reports" / "demo-students.csv", newline="") as handle:
        roster = {r["sis_user_id"]: r["id"] for r in csv.DictReader(handle)}
    assert sorted(canvas["students"]) == sorted(roster) and len(roster) == len({r["student_id"] for r in rows})
    perfect_row = canvas["students"][next(k for k, v in roster.items() if v == "perfect")]
    assert perfect_row["scores"] == {assignment.name: auto_max}


def test_the_demo_class_varies_its_mistakes():
    from types import SimpleNamespace

    from classgrader.demo.builder import varied

    catalogue = [SimpleNamespace(id=i, function=f) for i, f in enumerate("aabcbd")]
    assert [m.id for m in varied(catalogue, 4)] == [0, 2, 3, 5], "one per function first"
    assert [m.id for m in varied(catalogue, 6)] == [0, 2, 3, 5, 1, 4], "then the second of each"
    assert varied(catalogue, 0) == []
