"""``nbgrader export``: the gradebook as ``grades.csv`` in the course folder.

``nbgrader_config.py`` sets ``c.ExportApp.plugin_class`` to :class:`GradesCsv`, so plain
``nbgrader export`` and the course's commands write the same file.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nbgrader.plugins import CsvExportPlugin

from classgrader.grade.completion import unfinished_submissions
from classgrader.model.course import Course, CourseError, tool_environment

#: grades.csv's columns, counted from the end (names and e-mail addresses in the middle are
#: written unquoted by nbgrader, so only the ends have fixed positions).
RAW_SCORE, SCORE = -4, -2


class GradesCsv(CsvExportPlugin):
    """nbgrader's CSV export, except that a submission whose grading did not finish has an empty
    score (which Canvas's importer reads as "no score") instead of a 0 that looks final."""

    def export(self, gradebook) -> None:
        super().export(gradebook)
        unfinished = unfinished_submissions(gradebook)
        if not unfinished:
            return
        path = Path(self.to or "grades.csv")
        lines = path.read_text().splitlines()   # in the encoding nbgrader wrote it with
        for index, line in enumerate(lines[1:], start=1):
            cells = line.split(",")
            key = (cells[3], cells[0])  # student_id, assignment
            if key in unfinished:
                cells[RAW_SCORE] = cells[SCORE] = ""
                lines[index] = ",".join(cells)
                self.log.warning("%s/%s: its grading did not finish (no score for %s): no score exported; "
                                 "grade it again (classgrader grade, or nbgrader autograde --force)",
                                 key[0], key[1], "; ".join(unfinished[key]))
        path.write_text("\n".join(lines) + "\n")


def export_grades(course: Course) -> Path:
    """Run the real ``nbgrader export`` app in the course folder; returns the CSV's path."""
    completed = subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=course.root,
                               capture_output=True, text=True, env=tool_environment())
    if completed.returncode != 0:
        raise CourseError(f"nbgrader export failed:\n{completed.stderr[-2000:]}")
    return course.root / "grades.csv"
