"""The class roster: ``students.csv``, one row per student.

Columns (the first row names them; order is free):

====================  ========  ==========================================================
column                needed    what it is
====================  ========  ==========================================================
``id``                yes       the student's nbgrader id (the folder name in submitted/)
``github``            collect   the student's GitHub user name (finds the repository)
``first_name``        no        given name (the Canvas "Student" column: "Last, First")
``last_name``         no        family name
``email``             no        e-mail address
``sis_user_id``       Canvas    the institution's id of the student (Canvas "SIS User ID")
``sis_login_id``      no        the student's login at the institution ("SIS Login ID")
``lms_user_id``       no        the student's numeric Canvas user id (Canvas "ID")
``section``           no        the Canvas section's name
====================  ========  ==========================================================

The columns nbgrader knows (``id``, ``first_name``, ``last_name``, ``email``, ``lms_user_id``)
are imported into the gradebook by nbgrader's own ``nbgrader db student import``, which ignores
the others; :func:`import_roster` runs it after checking the file.
"""
from __future__ import annotations

import csv
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

from traitlets import Unicode
from traitlets.config import Configurable

from classgrader.model.course import Course, CourseError, tool_environment

#: nbgrader ids become folder names and git branch-safe paths: letters, digits, . _ -
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: GitHub user names: letters, digits and single hyphens, at most 39 characters.
_GITHUB = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


class Roster(Configurable):
    """Where the roster is (``c.Roster.path`` in ``nbgrader_config.py``)."""

    path = Unicode("students.csv", help="the roster CSV, relative to the course folder").tag(config=True)


@dataclass(frozen=True)
class RosterEntry:
    """One student of the roster."""

    id: str
    github: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    lms_user_id: str = ""
    section: str = ""

    @property
    def sortable_name(self) -> str:
        """"Last, First" as Canvas writes it, or the id when the roster has no name."""
        if self.first_name or self.last_name:
            return ", ".join(p for p in (self.last_name, self.first_name) if p)
        return self.id


COLUMNS = tuple(f.name for f in fields(RosterEntry))


def roster_path(course: Course, path: Path | str | None = None) -> Path:
    """The roster file: ``path`` if given, else ``c.Roster.path`` of the course."""
    chosen = Path(path) if path else Path(Roster(config=course.config).path)
    return chosen if chosen.is_absolute() else course.root / chosen


def read_roster(path: Path) -> list[RosterEntry]:
    """Read and check a roster; every problem of the file is reported at once.

    Raises
    ------
    CourseError
        When the file is missing, has no ``id`` column, or has bad, empty or repeated ids or
        GitHub names (with the line numbers).
    """
    if not path.is_file():
        raise CourseError(f"no roster at {path}: write students.csv with the columns {', '.join(COLUMNS)}")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        if "id" not in header:
            raise CourseError(f"{path}: the first row must name the columns, with at least 'id' "
                              f"(found: {', '.join(header) or 'nothing'})")
        reader.fieldnames = header
        rows = [(number, row) for number, row in enumerate(reader, start=2)]
    entries, problems = [], []
    for number, row in rows:
        values = {k: (row.get(k) or "").strip() for k in COLUMNS}
        problems += [f"line {number}: {p}" for p in _row_problems(values)]
        entries.append(RosterEntry(**values))
    problems += _repeated(entries, "id") + _repeated([e for e in entries if e.github], "github")
    if problems:
        raise CourseError(f"{path}: " + "; ".join(problems[:20]))
    return entries


def _row_problems(values: dict[str, str]) -> list[str]:
    problems = []
    if not _ID.match(values["id"]):
        problems.append(f"id {values['id']!r} must be letters, digits, '.', '_' or '-'")
    if values["github"] and not _GITHUB.match(values["github"]):
        problems.append(f"{values['github']!r} is not a GitHub user name")
    return problems


def _repeated(entries: list[RosterEntry], column: str) -> list[str]:
    seen, problems = set(), []
    for entry in entries:
        value = getattr(entry, column).lower()
        if value in seen:
            problems.append(f"{column} {getattr(entry, column)!r} appears twice")
        seen.add(value)
    return problems


def import_roster(course: Course, path: Path) -> list[RosterEntry]:
    """Check the roster, then import it with ``nbgrader db student import`` (creates or updates).

    nbgrader imports a normalised copy (UTF-8 without a byte-order mark, trimmed names and
    values), so a roster saved by a spreadsheet program imports the same way.
    """
    entries = read_roster(path)
    with tempfile.TemporaryDirectory(prefix="classgrader-roster-") as scratch:
        clean = write_roster(entries, Path(scratch) / "students.csv")
        completed = subprocess.run([sys.executable, "-m", "nbgrader", "db", "student", "import", str(clean)],
                                   cwd=course.root, capture_output=True, text=True, env=tool_environment())
    if completed.returncode != 0:
        raise CourseError(f"nbgrader db student import {path} failed:\n{completed.stderr[-2000:]}")
    return entries


def write_roster(entries: list[RosterEntry], path: Path) -> Path:
    """Write a roster file (used for the demo class)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for entry in entries:
            writer.writerow({k: getattr(entry, k) for k in COLUMNS})
    return path
