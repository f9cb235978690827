"""Shared fixtures: the course, and each assignment's demo class graded by real nbgrader autograde.

Grading an assignment's class (source, blank, solutions package, every catalogued mistake) takes
tens of seconds, so it happens once per assignment per test worker; the tests of one assignment
are kept on one worker with ``xdist_group`` (see ``pytest_collection_modifyitems``).
"""
from __future__ import annotations

import os
import shutil

import pytest

from classgrader.demo.demo import run
from classgrader.demo.expectations import Result
from classgrader.model.course import REPO_ROOT, Course, ensure_tools_on_path, temporary_course
from classgrader.variants import DEMO_SECRET, SECRET_VARIABLE

# The suite grades with the public demo secret, explicitly (grading without one warns, or refuses in
# strict mode); tests of other secrets set their own.
os.environ[SECRET_VARIABLE] = DEMO_SECRET

COURSE = Course(REPO_ROOT)
ASSIGNMENTS = [a.name for a in COURSE.assignments()]

_graded: dict[str, list[Result]] = {}


@pytest.fixture(scope="session")
def course() -> Course:
    return COURSE


def graded_class(assignment: str) -> list[Result]:
    """The demo class of one assignment, graded in a scratch course (cached per worker)."""
    if assignment not in _graded:
        ensure_tools_on_path()
        scratch = Course(temporary_course(COURSE, [assignment]))
        try:
            _graded[assignment] = run(scratch, jobs=1, with_source=True,
                                                with_broken=(assignment == ASSIGNMENTS[0]),
                                                feedback=False, export=False)
        finally:
            shutil.rmtree(scratch.root, ignore_errors=True)
    return _graded[assignment]


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the markers
def pytest_collection_modifyitems(items):
    """Keep every test of one assignment on the same xdist worker, so its class is graded once."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        assignment = callspec.params.get("assignment") if callspec else None
        if assignment:
            item.add_marker(pytest.mark.xdist_group(assignment))
