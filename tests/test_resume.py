"""A grade run killed between two notebooks resumes without regrading what it finished (what has
its completion record); the gradebook and autograded/ agree afterwards (``classgrader check``),
and a disagreement is reported. Kills in the middle of a notebook: tests/grade/test_crash.py."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from classgrader.model.course import temporary_course
from classgrader.demo.builder import hand_in
from classgrader.grade.completion import RECORDS
from classgrader.model.catalogue import load_catalogue
from classgrader.model.course import Course
from classgrader.model.notebooks import fill_from_solutions
from classgrader.release.release import release
from conftest import ASSIGNMENTS, COURSE


def _classgrader(root, *args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "classgrader", "--course", str(root), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kwargs)


@pytest.fixture()
def small_class():
    root = temporary_course(COURSE, ASSIGNMENTS[:1])
    course = Course(root)
    assignment = course.assignments()[0]
    release(course, [assignment])
    released = nbformat.read(course.release_notebook(assignment), as_version=4)
    perfect = fill_from_solutions(released, assignment.solutions_module)
    students = ["a-perfect", "b-blank"]
    hand_in(course, "a-perfect", assignment, perfect)
    hand_in(course, "b-blank", assignment, released)
    for index, mistake in enumerate(load_catalogue(assignment)[:3]):
        student = f"c{index}-{mistake.id}"
        hand_in(course, student, assignment, mistake.apply(perfect))
        students.append(student)
    yield course, assignment, students
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.xdist_group("resume")
def test_killed_run_resumes_and_gradebook_agrees_with_autograded(small_class):
    course, assignment, students = small_class
    autograded = course.folder("autograded")
    records = course.root / RECORDS
    run = _classgrader(course.root, "grade", "--jobs", "1")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(records.glob(f"*/{assignment.name}.json")):
        time.sleep(0.2)
    finished_before_kill = {p.parent.name for p in records.glob(f"*/{assignment.name}.json")}
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert finished_before_kill, "the first submission never finished"
    assert len(finished_before_kill) < len(students), "the run finished before it could be killed"

    resumed = _classgrader(course.root, "grade", "--jobs", "2")
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out + err
    status = {r["student"]: r for r in json.loads((course.root / "grading-status.json").read_text())}
    assert set(status) == set(students)
    for student in finished_before_kill:
        completely = (course.root / "autograded" / student / assignment.name / f"{assignment.notebook}.ipynb")
        if completely.exists() and status[student]["reason"] == "kept from an earlier run":
            break
    else:
        pytest.fail(f"no finished submission was kept: {[status[s]['reason'] for s in finished_before_kill]}")
    assert all(status[s]["status"] == "graded" for s in students), status

    check = _classgrader(course.root, "check")
    out, _ = check.communicate(timeout=120)
    assert check.returncode == 0 and "agree" in out, out

    (autograded / students[0] / assignment.name / f"{assignment.notebook}.ipynb").unlink()
    check = _classgrader(course.root, "check")
    out, _ = check.communicate(timeout=120)
    assert check.returncode == 1 and students[0] in out and "has no notebook" in out
