"""The whole life of an assignment on the demo class.

``release -> the class -> autograde -> feedback -> roster -> grades.csv``, then every result is
compared with what its submission must get. The demo class's roster is written to
``reports/demo-students.csv`` (never over the course's own ``students.csv``) and imported into the
gradebook, so the class report's ``canvas.csv`` can be built from it.
"""
from __future__ import annotations

from pathlib import Path

from classgrader.collect.roster import import_roster, write_roster
from classgrader.demo.builder import build_class, demo_roster
from classgrader.demo.expectations import Result, read_result
from classgrader.feedback.feedback import generate_feedback
from classgrader.grade.runner import Outcome, grade
from classgrader.model.course import Assignment, Course
from classgrader.model.status import Status
from classgrader.release.release import release
from classgrader.report.export import export_grades


#: Catalogued mistakes per assignment in ``make demo``'s class (``--all-mistakes``: every one).
DEMO_MISTAKES = 4


def demo_roster_path(course: Course) -> Path:
    """Where the demo writes its class's roster."""
    return course.root / "reports" / "demo-students.csv"


def run(course: Course, assignments: list[Assignment] | None = None, *, jobs: int | None = None,
        with_source: bool = False, with_broken: bool = True, feedback: bool = True,
        export: bool = True, catalogue_dir: Path | None = None, mistakes: int | None = None,
        spread: bool = False) -> list[Result]:
    """Release, build the class, grade it, write feedback, the roster and grades.csv; every result.

    ``mistakes`` hands in only N catalogued mistakes of each assignment (all by default): the first
    N, or N in different functions with ``spread`` (``make demo``'s representative class).
    """
    assignments = assignments or course.assignments()
    release(course, assignments)
    expectations = build_class(course, assignments, with_source=with_source, with_broken=with_broken,
                               catalogue_dir=catalogue_dir, mistakes_per_assignment=mistakes, spread=spread)
    outcomes = grade(course, [(e.student, e.assignment) for e in expectations], jobs)
    if feedback:
        failed = {(o.student, o.assignment): o for o in generate_feedback(course, outcomes, jobs)
                  if o.status == Status.FAILED}
        outcomes = [Outcome(o.student, o.assignment, Status.FAILED,
                            "feedback: " + failed[(o.student, o.assignment)].reason)
                    if (o.student, o.assignment) in failed else o for o in outcomes]
    if export:
        roster = write_roster(demo_roster([e.student for e in expectations]), demo_roster_path(course))
        import_roster(course, roster)
        export_grades(course)
    return [read_result(course, e, o) for e, o in zip(expectations, outcomes)]
