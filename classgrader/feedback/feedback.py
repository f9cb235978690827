"""``nbgrader generate_feedback`` for every graded submission, on the grading workers."""
from __future__ import annotations

import os

from classgrader.grade.runner import Outcome, run_tasks
from classgrader.model.course import Course, ensure_tools_on_path


def generate_feedback(course: Course, outcomes: list[Outcome], jobs: int | None = None,
                      force: bool = True) -> list[Outcome]:
    """Feedback HTML for every scored outcome; one :class:`Outcome` per submission attempted.

    With ``force=False`` a submission whose feedback page is newer than its autograded notebook
    is left as it is (and not in the result).
    """
    ensure_tools_on_path()
    tasks = [("feedback", o.assignment, o.student) for o in outcomes
             if o.scored and (force or not feedback_is_current(course, o.student, o.assignment))]
    return run_tasks(course, tasks, jobs or os.cpu_count() or 1, "feedback")


def feedback_is_current(course: Course, student: str, assignment: str) -> bool:
    """True when the feedback page exists and is newer than the autograded notebook."""
    name = course.assignment(assignment).notebook
    page = course.folder("feedback") / student / assignment / f"{name}.html"
    graded = course.folder("autograded") / student / assignment / f"{name}.ipynb"
    return page.is_file() and graded.is_file() and page.stat().st_mtime >= graded.stat().st_mtime
