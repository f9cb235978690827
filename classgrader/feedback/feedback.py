"""``nbgrader generate_feedback`` for every graded submission, on the grading workers."""
from __future__ import annotations

import os

from classgrader.grade.runner import Outcome, run_tasks
from classgrader.model.course import Course, ensure_tools_on_path


def generate_feedback(course: Course, outcomes: list[Outcome], jobs: int | None = None) -> list[Outcome]:
    """Feedback HTML for every scored outcome; one :class:`Outcome` per submission attempted."""
    ensure_tools_on_path()
    tasks = [("feedback", o.assignment, o.student) for o in outcomes if o.scored]
    return run_tasks(course, tasks, jobs or os.cpu_count() or 1, "feedback")
