"""A submission counts as graded only when its grading finished and its scores are stored.

**The completion record.** ``classgrader grade`` ends the grading of each submission by writing
``.classgrader/completed/<student>/<assignment>.json`` (atomically: a temporary file, flushed to
disk, renamed), *after* nbgrader stored the scores and after the autograded folder was moved into
place (:mod:`classgrader.grade.staging`). It says what was graded and what came of it: the
checksum of the hand-in, the course version (nbgrader_config.py, the assignment's source folder,
the classgrader version), the checksum of each autograded notebook, and the autograder's scores.
A resumed run keeps a submission only when its record exists and still matches all of these
(:func:`problems`); everything else is graded again from scratch, which replaces whatever partial
rows a killed run left in the gradebook.

**Without the grader** (plain ``nbgrader autograde`` with the course's config), two preprocessors
make an interrupted notebook say so instead of keeping a zero that looks final:
:class:`MarkUngraded` (sanitize step) marks the notebook ``interrupted`` and clears the
autograder's scores of this submission in the gradebook; :class:`MarkGraded` (after
``SaveAutoGrades`` and the late penalty) removes the mark. nbgrader writes the autograded notebook
once after sanitizing and once after grading, so the file on disk carries the mark exactly when
grading did not finish; and a test cell's score is None exactly when ``SaveAutoGrades`` did not get
to it (:func:`unscored`). ``classgrader check``, ``nbgrader export`` (through the course's export
plugin) and the report read these two signs.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from classgrader.grade.staging import WORK, atomic_write, fsync_folder
from classgrader.model.course import CONFIG_FILE, Course

#: Completion records, below the course folder: ``<student>/<assignment>.json``.
RECORDS = f"{WORK}/completed"

#: Notebook metadata key of the mark, and the mark's value.
MARK_KEY = "classgrader"
INTERRUPTED = "interrupted"


# --- what was graded ----------------------------------------------------------------------------

def _digest_folder(folder: Path, digest) -> None:
    """Feed every file below ``folder`` (relative path and content) into ``digest``, in order.

    Symbolic links count by their target's name and are never followed; other special files
    count by their name only (a hand-in is student-controlled).
    """
    for parent, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(parent, name)
            relative = path.relative_to(folder).as_posix()
            digest.update(b"\0" + relative.encode() + b"\0")
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                digest.update(b"link:" + os.readlink(path).encode(errors="surrogateescape"))
            elif stat.S_ISREG(mode):
                with open(path, "rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)


def handin_checksum(course: Course, student: str, assignment: str) -> str:
    """SHA-256 of everything in ``submitted/<student>/<assignment>`` ('' when there is nothing)."""
    folder = course.folder("submitted") / student / assignment
    if not folder.is_dir():
        return ""
    digest = hashlib.sha256()
    _digest_folder(folder, digest)
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def classgrader_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("calculus-for-ml")
    except PackageNotFoundError:
        return "unknown"


def course_version(course: Course, assignment: str) -> str:
    """SHA-256 of what grading an assignment depends on besides the hand-in: the course's
    ``nbgrader_config.py``, the assignment's source folder and the classgrader version."""
    digest = hashlib.sha256(classgrader_version().encode() + b"\0")
    digest.update((course.root / CONFIG_FILE).read_bytes())
    _digest_folder(course.folder("source") / assignment, digest)
    return digest.hexdigest()


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the gradebook's side -----------------------------------------------------------------------

def due(submitted_notebook) -> list:
    """The grades of a gradebook notebook that the autograder must score: its test cells (grade
    cells of code that are not solution cells)."""
    answers = {cell.name for cell in submitted_notebook.notebook.solution_cells}
    return [g for g in submitted_notebook.grades
            if g.cell is not None and getattr(g.cell, "cell_type", None) == "code" and g.name not in answers]


def unscored(submitted_notebook) -> list[str]:
    """Test cells with no score at all (neither the autograder's nor a person's): grading this
    notebook did not finish."""
    return sorted(g.name for g in due(submitted_notebook) if g.auto_score is None and g.manual_score is None)


def unfinished_submissions(gradebook) -> dict[tuple[str, str], list[str]]:
    """(student, assignment) -> ['<notebook>: <test cells>'] for every submission whose grading
    did not finish, as the gradebook shows it."""
    found = {}
    for assignment in gradebook.assignments:
        for submission in assignment.submissions:
            missing = [f"{n.name}: {', '.join(unscored(n))}" for n in submission.notebooks if unscored(n)]
            if missing:
                found[(submission.student.id, assignment.name)] = missing
    return found


# --- the autograded notebook's side -------------------------------------------------------------

def notebook_problems(path: Path) -> list[str]:
    """Why an autograded notebook is not the result of a finished grading ([] when it is)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001 - a truncated or garbled file, reported
        return [f"unreadable ({type(err).__name__}: {str(err)[:120]})"]
    if nb.metadata.get(MARK_KEY, {}).get("grading") == INTERRUPTED:
        return ["its grading was interrupted (the notebook was sanitized, never graded to the end)"]
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if code and not any(cell.get("execution_count") or cell.get("outputs") for cell in code):
        return ["never executed (no code cell has run)"]
    return []


# --- the record ---------------------------------------------------------------------------------

@dataclass
class Record:
    """What one finished grading graded, and what it stored."""

    student: str
    assignment: str
    handin: str                                    # handin_checksum
    course: str                                    # course_version
    notebooks: dict[str, str] = field(default_factory=dict)   # autograded notebook -> checksum
    scores: dict[str, dict[str, float | None]] = field(default_factory=dict)  # notebook -> grade -> auto_score
    penalties: dict[str, float | None] = field(default_factory=dict)         # notebook -> late penalty
    finished: str = ""


def record_path(course: Course, student: str, assignment: str) -> Path:
    return course.root / RECORDS / student / f"{assignment}.json"


def read_record(course: Course, student: str, assignment: str) -> Record | None:
    """The completion record, or None when there is none (or it cannot be read)."""
    return load_record(record_path(course, student, assignment))


def discard_record(course: Course, student: str, assignment: str) -> None:
    """Forget that a submission was graded (first thing before it is graded again)."""
    path = record_path(course, student, assignment)
    if path.exists():
        path.unlink()
        fsync_folder(path.parent)


def _stored(gradebook, student: str, assignment: str, notebooks: list[str]):
    """Autograder scores and late penalties of a submission's notebooks, as the gradebook has them."""
    from nbgrader.api import MissingEntry

    scores, penalties, missing = {}, {}, []
    for name in notebooks:
        try:
            notebook = gradebook.find_submission_notebook(name, assignment, student)
        except MissingEntry:
            missing.append(name)
            continue
        scores[name] = {g.name: g.auto_score for g in notebook.grades}
        penalties[name] = notebook.late_submission_penalty
        for item in unscored(notebook):
            missing.append(f"{name}: {item}")
    return scores, penalties, missing


def finish(course: Course, student: str, assignment: str, handin: str, version: str) -> Record:
    """Write the completion record of a submission whose graded folder is in place (the last step
    of grading it). Raises RuntimeError, writing nothing, when the result is not complete."""
    from nbgrader.api import Gradebook

    graded = course.folder("autograded") / student / assignment
    notebooks = sorted(p.stem for p in graded.glob("*.ipynb"))
    if not notebooks:
        raise RuntimeError("nbgrader wrote no autograded notebook")
    trouble = [f"{name}.ipynb: {p}" for name in notebooks for p in notebook_problems(graded / f"{name}.ipynb")]
    with Gradebook(course.db_url) as gradebook:
        scores, penalties, missing = _stored(gradebook, student, assignment, notebooks)
    trouble += [f"no score in the gradebook for {m}" for m in missing]
    if trouble:
        raise RuntimeError("grading did not finish: " + "; ".join(trouble))
    record = Record(student, assignment, handin, version,
                    {name: file_checksum(graded / f"{name}.ipynb") for name in notebooks}, scores, penalties,
                    datetime.now(timezone.utc).isoformat(timespec="seconds"))
    atomic_write(record_path(course, student, assignment), json.dumps(asdict(record), indent=1) + "\n")
    return record


def problems(course: Course, student: str, assignment: str, gradebook=None,
             version: str | None = None) -> list[str]:
    """Why a submission does not count as graded: [] when its completion record exists and matches
    the hand-in, the course, the autograded notebooks and the gradebook."""
    from nbgrader.api import Gradebook

    record = read_record(course, student, assignment)
    if record is None:
        return ["no completion record: its grading never finished"]
    found = []
    if (course.folder("submitted") / student / assignment).is_dir() \
            and record.handin != handin_checksum(course, student, assignment):
        found.append("handed in again since it was graded")
    if record.course != (version or course_version(course, assignment)):
        found.append("graded for another version of the course (nbgrader_config.py, the source "
                     "folder or classgrader changed)")
    found += autograded_problems(course.folder("autograded") / student / assignment, record)
    if gradebook is None:
        with Gradebook(course.db_url) as opened:
            return found + gradebook_problems(opened, record)
    return found + gradebook_problems(gradebook, record)


def autograded_problems(graded: Path, record: Record) -> list[str]:
    """Where the autograded notebooks in ``graded`` differ from those the record graded."""
    found = []
    for name, checksum in record.notebooks.items():
        path = graded / f"{name}.ipynb"
        if not path.is_file():
            found.append(f"the autograded {name}.ipynb is missing")
        elif file_checksum(path) != checksum:
            found.append(f"the autograded {name}.ipynb changed since it was graded")
    return found


def gradebook_problems(gradebook, record: Record) -> list[str]:
    """Where the gradebook differs from what the record graded (manual scores are not compared)."""
    scores, penalties, missing = _stored(gradebook, record.student, record.assignment, list(record.notebooks))
    found = [f"the gradebook has no score for {m}" for m in missing]
    for name, expected in record.scores.items():
        if name in scores and scores[name] != expected:
            changed = sorted(k for k in set(expected) | set(scores[name]) if expected.get(k) != scores[name].get(k))
            found.append(f"the gradebook's autograder scores of {name} differ from the graded ones "
                         f"({', '.join(changed)})")
    for name, penalty in record.penalties.items():
        if name in penalties and penalties[name] != penalty:
            found.append(f"the gradebook's late penalty of {name} differs from the graded one")
    return found


def load_record(path: Path) -> Record | None:
    """A completion record read from a file, or None when it is missing or cannot be read."""
    try:
        return Record(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def recorded(course: Course) -> list[tuple[str, str]]:
    """(student, assignment) of every completion record in the course."""
    base = course.root / RECORDS
    return sorted((p.parent.name, p.stem) for p in base.glob("*/*.json")) if base.is_dir() else []


# --- plain nbgrader: the notebook and the gradebook say "interrupted" until grading finished -----

class MarkUngraded(NbGraderPreprocessor):
    """Sanitize step: mark the notebook ``interrupted`` and clear this submission's autograder
    scores in the gradebook, so that until :class:`MarkGraded` runs, nothing looks graded."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook, MissingEntry

        nb.metadata.setdefault(MARK_KEY, {})["grading"] = INTERRUPTED
        info = resources.get("nbgrader", {})
        if info.get("db_url"):
            with Gradebook(info["db_url"]) as gradebook:
                try:
                    notebook = gradebook.find_submission_notebook(info["notebook"], info["assignment"],
                                                                  info["student"])
                except MissingEntry:
                    return nb, resources
                for grade in due(notebook):
                    grade.auto_score = None
                gradebook.db.commit()
        return nb, resources


class MarkGraded(NbGraderPreprocessor):
    """Autograde step, after ``SaveAutoGrades`` and the late penalty: the notebook is graded."""

    def preprocess(self, nb, resources):
        mark = nb.metadata.get(MARK_KEY)
        if isinstance(mark, dict):
            mark.pop("grading", None)
            if not mark:
                del nb.metadata[MARK_KEY]
        return nb, resources


# --- classgrader check --------------------------------------------------------------------------

def audit(course: Course) -> tuple[list[str], list[str]]:
    """Interrupted or unmatched gradings in the course: (problems, notes).

    Problems: a test cell without a score in the gradebook; an autograded notebook that is
    unreadable, still marked interrupted, or never executed; a completion record that does not
    match the hand-in, the course, the autograded notebook or the gradebook, or that has no
    submission in the gradebook. Notes: a submission in the gradebook without a completion
    record (graded by plain nbgrader): ``classgrader grade`` grades it again.
    """
    from nbgrader.api import Gradebook

    found, notes, in_book = [], [], set()
    with Gradebook(course.db_url) as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                student = submission.student.id
                in_book.add((student, assignment.name))
                for notebook in submission.notebooks:
                    missing = unscored(notebook)
                    if missing:
                        found.append(f"{student}/{assignment.name}/{notebook.name}: no score in the gradebook for "
                                     f"{', '.join(missing)}: its grading did not finish")
        for student, assignment in sorted(in_book):
            if read_record(course, student, assignment) is None:
                notes.append(f"{student}/{assignment}: no completion record (graded by plain nbgrader, or "
                             "interrupted): `classgrader grade` grades it again")
                continue
            found += [f"{student}/{assignment}: {p}" for p in problems(course, student, assignment, gradebook)]
    found += [f"{student}/{assignment}: a completion record, but no submission in the gradebook"
              for student, assignment in recorded(course) if (student, assignment) not in in_book]
    autograded = course.folder("autograded")
    if autograded.is_dir():
        for path in sorted(autograded.glob("*/*/*.ipynb")):
            found += [f"{path.parent.parent.name}/{path.parent.name}/{path.stem}: {p}" for p in notebook_problems(path)]
    return found, notes
