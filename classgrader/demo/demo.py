"""The whole life of an assignment on the demo class.

``release -> the class -> autograde -> feedback -> grades.csv``, then every result is compared
with what its submission must get.
"""
from __future__ import annotations

from pathlib import Path

from classgrader.demo.builder import build_class
from classgrader.demo.expectations import Result, read_result
from classgrader.feedback.feedback import generate_feedback
from classgrader.grade.runner import Outcome, grade
from classgrader.model.course import Assignment, Course
from classgrader.model.status import Status
from classgrader.release.release import release
from classgrader.report.export import export_grades


def run(course: Course, assignments: list[Assignment] | None = None, *, jobs: int | None = None,
        with_source: bool = False, with_broken: bool = True, feedback: bool = True,
        export: bool = True, catalogue_dir: Path | None = None) -> list[Result]:
    """Release, build the class, grade it, write feedback and grades.csv; return every result."""
    assignments = assignments or course.assignments()
    release(course, assignments)
    expectations = build_class(course, assignments, with_source=with_source,
                               with_broken=with_broken, catalogue_dir=catalogue_dir)
    outcomes = grade(course, [(e.student, e.assignment) for e in expectations], jobs)
    if feedback:
        failed = {(o.student, o.assignment): o for o in generate_feedback(course, outcomes, jobs)
                  if o.status == Status.FAILED}
        outcomes = [Outcome(o.student, o.assignment, Status.FAILED,
                            "feedback: " + failed[(o.student, o.assignment)].reason)
                    if (o.student, o.assignment) in failed else o for o in outcomes]
    if export:
        export_grades(course)
    return [read_result(course, e, o) for e, o in zip(expectations, outcomes)]
