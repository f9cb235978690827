"""``canvas.csv``: the class's scores in the layout Canvas's gradebook import reads.

What Canvas's importer expects was read from its source, ``app/models/gradebook_importer.rb`` of
instructure/canvas-lms (and its guide "How do I import grades in the Gradebook?"):

* the header row starts with ``Student`` and ``ID``; ``SIS User ID`` and ``SIS Login ID`` follow,
  and the last student column is ``Section``; every later column is an assignment;
* an assignment column titled ``Title (123)`` is matched to Canvas assignment 123, otherwise by
  its exact title, and an unknown title creates a new assignment; ``c.CanvasExport.titles`` maps
  the course's assignment names to those titles;
* a row whose first cell contains ``Points Possible`` gives each assignment's points;
* a student is matched by ``ID`` (the Canvas user id), else by ``SIS User ID``, else by
  ``SIS Login ID``, else by name ("Last, First"), which is why the roster supplies all of them;
* a score is a number; an empty cell or ``-`` means no score.

Scores and points come from the gradebook through nbgrader's own ``grades.csv``: a score is
nbgrader's (raw score minus late penalty, 0 without a submission), and "Points Possible" is each
assignment's full points, hand-graded cells included.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from traitlets import Dict, Unicode
from traitlets.config import Configurable

from classgrader.collect.roster import RosterEntry
from classgrader.model.course import Course, CourseError

HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"


class CanvasExport(Configurable):
    """How assignments are titled in Canvas (``c.CanvasExport.titles`` in ``nbgrader_config.py``)."""

    titles = Dict(value_trait=Unicode(), default_value={},
                  help="assignment name -> its column title in Canvas, e.g. "
                       "{'01-derivatives': 'Derivatives (48213)'}; the number in parentheses is "
                       "the Canvas assignment id (in its URL)").tag(config=True)


@dataclass
class CanvasFile:
    path: Path
    students: int
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GradeRow:
    """One line of nbgrader's grades.csv."""

    assignment: str
    student: str
    score: float | None    # None: not graded (its grading did not finish)
    max_score: float


def read_grades(grades_csv: Path) -> list[GradeRow]:
    """nbgrader's ``grades.csv``, read by position from both ends.

    nbgrader writes it without quoting, so a comma in a name or e-mail address shifts the middle
    columns; the fields used here (assignment, student id first; score and max score last) never
    contain one.
    """
    lines = grades_csv.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith("assignment,duedate,timestamp,student_id"):
        raise CourseError(f"{grades_csv} is not nbgrader's grades.csv")
    rows = []
    for line in lines[1:]:
        if line.strip():
            cells = line.split(",")
            rows.append(GradeRow(cells[0], cells[3], float(cells[-2]) if cells[-2] else None, float(cells[-1])))
    return rows


def _number(value: float) -> str:
    """Two decimals at most (the precision Canvas keeps), without trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def column_titles(course: Course, assignments: list[str]) -> tuple[dict[str, str], list[str]]:
    """assignment -> Canvas column title, and warnings about the mapping."""
    titles = dict(CanvasExport(config=course.config).titles)
    warnings = [f"c.CanvasExport.titles names {name!r}, which is not an assignment of the gradebook"
                for name in titles if name not in assignments]
    chosen = {a: titles.get(a, a) for a in assignments}
    repeated = sorted({t for t in chosen.values() if list(chosen.values()).count(t) > 1})
    if repeated:
        raise CourseError(f"c.CanvasExport.titles gives several assignments the title {', '.join(map(repr, repeated))}")
    return chosen, warnings


def write_canvas_csv(course: Course, grades_csv: Path, roster: list[RosterEntry], out: Path) -> CanvasFile:
    """Write ``out/canvas.csv``: one row per roster student, one column per gradebook assignment."""
    grades = read_grades(grades_csv)
    points = {row.assignment: row.max_score for row in grades}
    assignments = sorted(points)
    titles, warnings = column_titles(course, assignments)
    scores = {(row.student, row.assignment): row.score for row in grades}
    enrolled = {entry.id for entry in roster}
    strangers = sorted({row.student for row in grades} - enrolled)
    if strangers:
        warnings.append(f"in the gradebook but not in the roster, so not in canvas.csv: {', '.join(strangers)}")
    unmatched = [e.id for e in roster if not (e.lms_user_id or e.sis_user_id or e.sis_login_id)]
    if unmatched:
        warnings.append(f"no Canvas ID, SIS User ID or SIS Login ID in the roster (Canvas matches them "
                        f"by name only): {', '.join(unmatched)}")
    path = out / "canvas.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*HEADER, *(titles[a] for a in assignments)])
        writer.writerow([POINTS_POSSIBLE, "", "", "", "", *(_number(points[a]) for a in assignments)])
        for entry in sorted(roster, key=lambda e: (e.sortable_name.lower(), e.id)):
            cells = [_number(scores[(entry.id, a)]) if scores.get((entry.id, a)) is not None else ""
                     for a in assignments]
            writer.writerow([entry.sortable_name, entry.lms_user_id, entry.sis_user_id, entry.sis_login_id,
                             entry.section, *cells])
    return CanvasFile(path, len(roster), warnings)
