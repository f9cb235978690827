"""Bad input to the grader's command line gets a clear message and a non-zero exit, never a traceback."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from classgrader.model.course import temporary_course
from classgrader.model.course import Course
from classgrader.model.integrity import check_submission
from conftest import ASSIGNMENTS, COURSE


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "classgrader", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.mark.parametrize(("args", "message"), [
    (["selfcheck", "no-such-assignment"], "no assignment 'no-such-assignment'"),
    (["grade", "--jobs", "0"], "must be at least 1"),
    (["grade", "--jobs", "many"], "expected a whole number"),
    (["--course", "/nonexistent/course", "release"], "not a course folder"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_are_refused_clearly(args, message):
    completed = _run(*args)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_grade_with_nothing_submitted_says_so(tmp_path):
    scratch = temporary_course(COURSE, ASSIGNMENTS[:1])
    try:
        completed = _run("--course", str(scratch), "grade")
        assert completed.returncode == 1
        assert "nothing to grade" in completed.stderr
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_corrupt_nbgrader_config_is_reported(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.root = (\n")
    (tmp_path / "source").mkdir()
    completed = _run("--course", str(tmp_path), "release")
    assert completed.returncode == 2
    assert "cannot load" in completed.stderr and "Traceback" not in completed.stderr


def test_integrity_check_reports_a_changed_cell_type(tmp_path):
    assignment = COURSE.assignment(ASSIGNMENTS[0])
    source = nbformat.read(COURSE.source_notebook(assignment), as_version=4)
    changed = nbformat.from_dict(json.loads(json.dumps(source)))
    test_cell = next(c for c in changed.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")
                     and c.cell_type == "code")
    test_cell.cell_type = "markdown"
    test_cell.pop("outputs", None)
    test_cell.pop("execution_count", None)
    nbformat.write(changed, tmp_path / f"{assignment.notebook}.ipynb")
    reasons = check_submission(tmp_path, {f"{assignment.notebook}.ipynb": source})
    assert any("changed from code to markdown" in r for r in reasons), reasons
    assert check_submission(tmp_path / "absent", {f"{assignment.notebook}.ipynb": source})
