"""``nbgrader export``: the gradebook as ``grades.csv`` in the course folder."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from classgrader.model.course import Course, CourseError, tool_environment


def export_grades(course: Course) -> Path:
    """Run the real ``nbgrader export`` app in the course folder; returns the CSV's path."""
    completed = subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=course.root,
                               capture_output=True, text=True, env=tool_environment())
    if completed.returncode != 0:
        raise CourseError(f"nbgrader export failed:\n{completed.stderr[-2000:]}")
    return course.root / "grades.csv"
