"""Grading a class in shards (a CI matrix, a Slurm array, a Kubernetes indexed Job) and merging.

``classgrader grade --shard K/N --artifact DIR`` grades the students of shard K (students sorted
by id, the i-th going to shard ``i % N + 1``, so every student lands in exactly one shard) and
writes DIR with the shard's gradebook, its ``autograded/`` folders, its status file and a
manifest. ``classgrader merge DIR... --shards N`` combines the artifacts into this course's
gradebook and ``autograded/`` and exports ``grades.csv``:

* lossless: every grade, comment and autograded notebook of every shard arrives;
* idempotent: merging the same artifacts again changes nothing;
* loud: a missing or failed shard is named, and a student found in two shards is an error;
* complete: a submission counts only with its completion record (:mod:`classgrader.grade.completion`),
  which travels in the artifact and must match the artifact's autograded notebook and gradebook.

A shard killed half-way writes no artifact (the manifest is written last, atomically); run the
same command again and it resumes like any ``classgrader grade``.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from classgrader.grade import completion
from classgrader.grade.staging import atomic_write
from classgrader.model.course import Course, CourseError
from classgrader.model.status import SCORED

MANIFEST = "shard.json"
#: The completion records in an artifact: ``completed/<student>/<assignment>.json``.
RECORDS = "completed"


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
    (folder / MANIFEST).unlink(missing_ok=True)   # an artifact without its manifest is unfinished
    shutil.copy2(db_path, folder / "gradebook.db")
    for student, assignment in pairs:
        source = course.folder("autograded") / student / assignment
        target = folder / "autograded" / student / assignment
        shutil.rmtree(target, ignore_errors=True)
        if source.is_dir():
            shutil.copytree(source, target)
        record = completion.record_path(course, student, assignment)
        copied = folder / RECORDS / student / f"{assignment}.json"
        copied.unlink(missing_ok=True)
        if record.is_file():
            copied.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(record, copied)
    manifest = {"shard": shard[0], "of": shard[1], "students": sorted({s for s, _ in pairs}),
                "pairs": [list(p) for p in pairs], "outcomes": [asdict(o) for o in outcomes]}
    atomic_write(folder / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return folder


@dataclass
class MergeReport:
    merged: list[tuple[str, str]]
    problems: list[str]


def _read_manifests(artifacts: list[Path], shards: int) -> tuple[dict, list[str]]:
    """{shard number: (folder, manifest)} of the artifacts, and every problem that forbids a merge."""
    manifests, problems = {}, []
    for folder in artifacts:
        path = Path(folder) / MANIFEST
        if not path.is_file():
            problems.append(f"{folder}: not a shard artifact (no {MANIFEST}): the shard probably failed")
            continue
        try:
            manifest = json.loads(path.read_text())
        except ValueError as err:
            problems.append(f"{folder}: its {MANIFEST} cannot be read ({err}): grade the shard again")
            continue
        if manifest.get("of") != shards:
            problems.append(f"{folder}: shard {manifest.get('shard')}/{manifest.get('of')} is not one of {shards}")
            continue
        if manifest["shard"] in manifests:
            problems.append(f"shard {manifest['shard']}/{shards} was given twice ({folder})")
            continue
        manifests[manifest["shard"]] = (Path(folder), manifest)
    problems += [f"shard {k}/{shards} is missing" for k in range(1, shards + 1) if k not in manifests]
    owner: dict[str, int] = {}
    for k, (_, manifest) in sorted(manifests.items()):
        for student in manifest["students"]:
            if student in owner:
                problems.append(f"student {student!r} was graded in shard {owner[student]} and in shard {k}")
            owner.setdefault(student, k)
    for k, (folder, manifest) in sorted(manifests.items()):
        problems.extend(_unfinished(folder, manifest, k))
    return manifests, problems


def _merge_shard(course: Course, target, folder: Path, manifest: dict) -> list[tuple[str, str]]:
    """Copy one shard's finished submissions (gradebook rows, autograded folder, record) into the course."""
    from nbgrader.api import Gradebook, MissingEntry

    merged = []
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as source:
        for student, assignment in manifest["pairs"]:
            try:
                submission = source.find_submission(assignment, student)
            except MissingEntry:
                continue  # quarantined or failed in the shard: its status says why
            record = folder / RECORDS / student / f"{assignment}.json"
            if not record.is_file():
                continue  # not scored in the shard (failed): its status says why
            completion.discard_record(course, student, assignment)
            _copy_submission(source, target, submission, assignment, student)
            mine = course.folder("autograded") / student / assignment
            shutil.rmtree(mine, ignore_errors=True)
            shutil.copytree(folder / "autograded" / student / assignment, mine)
            atomic_write(completion.record_path(course, student, assignment), record.read_text())
            merged.append((student, assignment))
    return merged


def merge(course: Course, artifacts: list[Path], shards: int) -> MergeReport:
    """Merge shard artifacts into the course (whose gradebook must know the assignments)."""
    from nbgrader.api import Gradebook

    from classgrader.grade.runner import Outcome, write_status

    manifests, problems = _read_manifests(artifacts, shards)
    if problems:
        return MergeReport([], problems)
    merged, status_rows = [], []
    with Gradebook(course.db_url) as target:
        for _, (folder, manifest) in sorted(manifests.items()):
            status_rows.extend(manifest.get("outcomes", []))
            merged += _merge_shard(course, target, folder, manifest)
    write_status(course, [Outcome(**row) for row in status_rows])
    return MergeReport(merged, [])


def _unfinished(folder: Path, manifest: dict, k: int) -> list[str]:
    """Submissions the shard reports as scored whose completion record is missing or does not
    match the artifact's autograded notebook and gradebook."""
    from nbgrader.api import Gradebook

    scored = sorted({(o["student"], o["assignment"]) for o in manifest.get("outcomes", [])
                     if o.get("status") in SCORED})
    problems = []
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gradebook:
        for student, assignment in scored:
            record = completion.load_record(folder / RECORDS / student / f"{assignment}.json")
            if record is None:
                problems.append(f"shard {k}: {student}/{assignment} has no completion record: grade the shard again")
                continue
            wrong = completion.autograded_problems(folder / "autograded" / student / assignment, record)
            wrong += completion.gradebook_problems(gradebook, record)
            if wrong:
                problems.append(f"shard {k}: {student}/{assignment} does not match its completion record "
                                f"({'; '.join(wrong)}): grade the shard again")
    return problems


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
