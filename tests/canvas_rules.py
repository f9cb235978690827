"""The rules of Canvas's gradebook importer, to read a gradebook CSV back as Canvas would.

The rules are those of ``GradebookImporter`` in instructure/canvas-lms
(``app/models/gradebook_importer.rb``; Canvas's guide "How do I import grades in the
Gradebook?" says the same in prose): the header row (``Student``, ``ID``, then ``SIS User ID`` and
``SIS Login ID``, then ``Section`` as the last student column), a row whose first cell holds
``Points Possible``, assignment titles ``Title (id)`` or plain, students found by ID, SIS User ID,
SIS Login ID or name, and scores that are numbers (empty or ``-`` for none). On top of Canvas's
rules, the course promises that every student row can be matched by an id and that no score is
above its points possible.
"""
from __future__ import annotations

import csv
import re

#: Canvas's own patterns (gradebook_importer.rb, Assignment.title_and_id).
SIS_USER, SIS_LOGIN = re.compile(r"SIS\s+User\s+ID"), re.compile(r"SIS\s+Login\s+ID")
TITLE_AND_ID = re.compile(r"\A(.*)\s\((\d+)\)\Z")
NOT_ASSIGNMENTS = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points",
                   "Final Grade", "Override Score", "Override Grade", "Override Status")


def canvas_import(path) -> dict:
    """Read a gradebook CSV as Canvas's importer does; assert each rule on the way."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len({len(r) for r in rows}) == 1, "every row must have as many comma-separated fields"
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1], "invalid header row"
    assert SIS_USER.search(header[2]) and SIS_LOGIN.search(header[3]), "SIS User ID, SIS Login ID expected"
    assert "Section" in header[4], "the last student column must be Section"
    columns = [(i, title) for i, title in enumerate(header[5:], start=5)
               if not any(word in title for word in NOT_ASSIGNMENTS)]
    points_rows = [r for r in rows[1:] if "Points Possible" in r[0]]
    assert len(points_rows) == 1, "one Points Possible row"
    points = {title: float(points_rows[0][i]) for i, title in columns}
    students = {}
    for row in rows[1:]:
        if row is points_rows[0]:
            continue
        assert row[1] or row[2] or row[3], f"{row[0]}: Canvas would match this student by name only"
        scores = {}
        for i, title in columns:
            cell = row[i].strip()
            if cell in ("", "-"):
                continue
            assert re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", cell), f"{row[0]}: {title}: {cell!r} is not a number"
            scores[title] = float(cell)
            assert 0 <= scores[title] <= points[title], f"{row[0]}: {title}: {cell} of {points[title]}"
        students[row[2]] = {"name": row[0], "login": row[3], "scores": scores}
    return {"points": points, "students": students, "titles": [t for _, t in columns]}
