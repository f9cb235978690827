"""``nbgrader generate_assignment``: ``source/`` -> ``release/`` (and the assignment in the gradebook)."""
from __future__ import annotations

from classgrader.model.course import Assignment, Course, CourseError, ensure_tools_on_path


def release(course: Course, assignments: list[Assignment]) -> None:
    """Generate each assignment's release with nbgrader's own API.

    Raises
    ------
    CourseError
        When nbgrader cannot generate one of them (its log is in the message).
    """
    ensure_tools_on_path()
    from nbgrader.apps.api import NbGraderAPI

    api = NbGraderAPI(coursedir=course.coursedir(), config=course.config)
    api.log.setLevel("ERROR")
    for assignment in assignments:
        result = api.generate_assignment(assignment.name, force=True, create=True)
        if not result.get("success"):
            raise CourseError(f"generate_assignment {assignment.name} failed:\n{result.get('error', '')}"
                              f"\n{result.get('log', '')}")
