"""No "checksum has changed" warning for test cells handed in as released; a real edit still warns.

``generate_assignment`` stores each test cell with its hidden tests and releases it without
them, so nbgrader's ``OverwriteCells`` used to warn "Attribute 'checksum' for cell ... has
changed!" for every such cell of every hand-in. The course's ``RestoreHiddenTests`` (configured
in ``nbgrader_config.py``) restores the cells the same way and warns only when a student really
edited a locked cell. Checked with plain ``nbgrader autograde``, whose log an instructor reads.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import nbformat
import pytest

from classgrader.demo.builder import hand_in
from classgrader.model.course import REPO_ROOT, Course, ensure_tools_on_path, temporary_course
from classgrader.model.notebooks import is_autograded_test, nbgrader_meta
from classgrader.release.release import release

pytestmark = pytest.mark.autograde

COURSE = Course(REPO_ROOT)
ASSIGNMENT = COURSE.assignments()[0]
WARNING = "Attribute 'checksum' for cell {} has changed"


def test_only_an_edited_locked_cell_is_reported(tmp_path):
    ensure_tools_on_path()
    course = Course(temporary_course(COURSE, [ASSIGNMENT.name]))
    try:
        release(course, [ASSIGNMENT])
        released = nbformat.read(course.release_notebook(ASSIGNMENT), as_version=4)
        tests = [nbgrader_meta(c)["grade_id"] for c in released.cells if is_autograded_test(c)]
        hand_in(course, "untouched", ASSIGNMENT, released)
        edited = nbformat.read(course.release_notebook(ASSIGNMENT), as_version=4)
        victim = next(c for c in edited.cells if nbgrader_meta(c).get("grade_id") == tests[1])
        victim.source += "\nprint('a student was here')\n"
        hand_in(course, "edited", ASSIGNMENT, edited)

        done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT.name, "--force"],
                              cwd=course.root, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        log = done.stderr
        assert "Autograding" in log and "untouched" in log, log[-2000:]
        assert log.count("Attribute 'checksum'") == 1, (
            f"expected one checksum warning (the edited cell {tests[1]}), got:\n"
            + "\n".join(line for line in log.splitlines() if "checksum" in line))
        assert WARNING.format(tests[1]) in log

        graded = nbformat.read(course.folder("autograded") / "untouched" / ASSIGNMENT.name
                               / f"{ASSIGNMENT.notebook}.ipynb", as_version=4)
        restored = [c for c in graded.cells if nbgrader_meta(c).get("grade_id") in tests]
        assert any("BEGIN HIDDEN TESTS" in c.source for c in restored), \
            "the hidden tests were not put back for grading"
        edited_graded = nbformat.read(course.folder("autograded") / "edited" / ASSIGNMENT.name
                                      / f"{ASSIGNMENT.notebook}.ipynb", as_version=4)
        assert not any("a student was here" in c.source for c in edited_graded.cells), \
            "the student's edit of a locked cell survived"
    finally:
        shutil.rmtree(course.root, ignore_errors=True)
