"""Grading a class in shards (a CI matrix, a Slurm array, a Kubernetes indexed Job) and merging.

``classgrader grade --shard K/N --artifact DIR`` grades the students of shard K (students sorted
by id, the i-th going to shard ``i % N + 1``, so every student lands in exactly one shard) and
writes DIR with the shard's gradebook, its ``autograded/`` folders, its status file and a
manifest. ``classgrader merge DIR... --shards N`` combines the artifacts into this course's
gradebook and ``autograded/`` and exports ``grades.csv``:

* lossless: every grade, comment and autograded notebook of every shard arrives;
* idempotent: merging the same artifacts again changes nothing;
* loud: a missing or failed shard is named, and a student found in two shards is an error.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from classgrader.model.course import Course, CourseError

MANIFEST = "shard.json"


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``; raises ValueError with a clear message otherwise."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"a shard is written K/N, like 2/4, not {text!r}") from None
    if not 1 <= k <= n:
        raise ValueError(f"shard {text!r}: K must be between 1 and N")
    return k, n


def select(pairs: list[tuple[str, str]], shard: tuple[int, int]) -> list[tuple[str, str]]:
    """The (student, assignment) pairs that belong to shard K of N."""
    k, n = shard
    students = sorted({student for student, _ in pairs})
    mine = {student for index, student in enumerate(students) if index % n == k - 1}
    return [pair for pair in pairs if pair[0] in mine]


def write_artifact(course: Course, shard: tuple[int, int], pairs: list[tuple[str, str]], outcomes,
                   folder: Path) -> Path:
    """Copy a graded shard's gradebook, autograded folders and statuses into ``folder``."""
    from dataclasses import asdict

    folder.mkdir(parents=True, exist_ok=True)
    db_path = course.db_url.split("sqlite:///", 1)[-1].split("?", 1)[0]
    if not course.db_url.startswith("sqlite:///"):
        raise CourseError("shard artifacts need the SQLite gradebook (each shard grades on its own copy)")
    shutil.copy2(db_path, folder / "gradebook.db")
    for student, assignment in pairs:
        source = course.folder("autograded") / student / assignment
        if source.is_dir():
            shutil.copytree(source, folder / "autograded" / student / assignment, dirs_exist_ok=True)
    manifest = {"shard": shard[0], "of": shard[1], "students": sorted({s for s, _ in pairs}),
                "pairs": [list(p) for p in pairs], "outcomes": [asdict(o) for o in outcomes]}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return folder


@dataclass
class MergeReport:
    merged: list[tuple[str, str]]
    problems: list[str]


def merge(course: Course, artifacts: list[Path], shards: int) -> MergeReport:
    """Merge shard artifacts into the course (whose gradebook must know the assignments)."""
    from nbgrader.api import Gradebook, MissingEntry

    manifests, problems = {}, []
    for folder in artifacts:
        path = Path(folder) / MANIFEST
        if not path.is_file():
            problems.append(f"{folder}: not a shard artifact (no {MANIFEST}): the shard probably failed")
            continue
        manifest = json.loads(path.read_text())
        if manifest.get("of") != shards:
            problems.append(f"{folder}: shard {manifest.get('shard')}/{manifest.get('of')} is not one of {shards}")
            continue
        if manifest["shard"] in manifests:
            problems.append(f"shard {manifest['shard']}/{shards} was given twice ({folder})")
            continue
        manifests[manifest["shard"]] = (Path(folder), manifest)
    for k in range(1, shards + 1):
        if k not in manifests:
            problems.append(f"shard {k}/{shards} is missing")
    owner: dict[str, int] = {}
    for k, (_, manifest) in sorted(manifests.items()):
        for student in manifest["students"]:
            if student in owner:
                problems.append(f"student {student!r} was graded in shard {owner[student]} and in shard {k}")
            owner.setdefault(student, k)
    if problems:
        return MergeReport([], problems)

    merged = []
    status_rows = []
    with Gradebook(course.db_url) as target:
        for k, (folder, manifest) in sorted(manifests.items()):
            status_rows.extend(manifest.get("outcomes", []))
            with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as source:
                for student, assignment in manifest["pairs"]:
                    try:
                        submission = source.find_submission(assignment, student)
                    except MissingEntry:
                        continue  # quarantined or failed in the shard: its status says why
                    _copy_submission(source, target, submission, assignment, student)
                    graded = folder / "autograded" / student / assignment
                    if graded.is_dir():
                        shutil.copytree(graded, course.folder("autograded") / student / assignment,
                                        dirs_exist_ok=True)
                    merged.append((student, assignment))
    from classgrader.grade.runner import Outcome, write_status

    write_status(course, [Outcome(**row) for row in status_rows])
    return MergeReport(merged, [])


def _copy_submission(source, target, submission, assignment: str, student: str) -> None:
    """Copy one submission's grades and comments (scores, manual grades, extra credit)."""
    try:
        target.find_student(student)
    except Exception:  # noqa: BLE001 - MissingEntry
        student_row = submission.student
        target.add_student(student, first_name=student_row.first_name, last_name=student_row.last_name,
                           email=student_row.email, lms_user_id=student_row.lms_user_id)
    target.update_or_create_submission(assignment, student, timestamp=submission.timestamp)
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            mine = target.find_grade(grade.name, notebook.name, assignment, student)
            mine.auto_score = grade.auto_score
            mine.manual_score = grade.manual_score
            mine.extra_credit = grade.extra_credit
            mine.needs_manual_grade = grade.needs_manual_grade
        for comment in notebook.comments:
            mine = target.find_comment(comment.name, notebook.name, assignment, student)
            mine.auto_comment = comment.auto_comment
            mine.manual_comment = comment.manual_comment
        target_notebook = target.find_submission_notebook(notebook.name, assignment, student)
        target_notebook.flagged = notebook.flagged
        target_notebook.late_submission_penalty = notebook.late_submission_penalty
    target.db.commit()
