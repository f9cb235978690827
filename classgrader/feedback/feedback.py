"""``nbgrader generate_feedback`` for every graded submission, on the grading workers."""
from __future__ import annotations

import os

from classgrader.grade.completion import notebook_problems
from classgrader.grade.runner import Outcome, run_tasks
from classgrader.model.course import Course, ensure_tools_on_path
from classgrader.model.status import Status


def generate_feedback(course: Course, outcomes: list[Outcome], jobs: int | None = None,
                      force: bool = True) -> list[Outcome]:
    """Feedback HTML for every scored outcome; one :class:`Outcome` per submission attempted.

    A submission whose autograded notebook is not the result of a finished grading (plain
    ``nbgrader autograde`` interrupted) gets no feedback, and a failed outcome that says why.

    With ``force=False`` a submission whose feedback page is newer than its autograded notebook
    is left as it is (and not in the result).
    """
    ensure_tools_on_path()
    tasks, unfinished = [], []
    for o in outcomes:
        if not o.scored or (not force and feedback_is_current(course, o.student, o.assignment)):
            continue
        graded = course.folder("autograded") / o.student / o.assignment
        trouble = [p for nb in sorted(graded.glob("*.ipynb")) for p in notebook_problems(nb)]
        if trouble:
            unfinished.append(Outcome(o.student, o.assignment, Status.FAILED,
                                      f"no feedback: {trouble[0]}; grade it again"))
        else:
            tasks.append(("feedback", o.assignment, o.student))
    return unfinished + run_tasks(course, tasks, jobs or os.cpu_count() or 1, "feedback")


def feedback_is_current(course: Course, student: str, assignment: str) -> bool:
    """True when the feedback page exists and is newer than the autograded notebook."""
    name = course.assignment(assignment).notebook
    page = course.folder("feedback") / student / assignment / f"{name}.html"
    graded = course.folder("autograded") / student / assignment / f"{name}.ipynb"
    return page.is_file() and graded.is_file() and page.stat().st_mtime >= graded.stat().st_mtime
