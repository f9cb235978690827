"""Replay one student's grading with the inputs it drew, for a regrade request or an appeal.

The autograded notebook records which secret its inputs were drawn from (a fingerprint, never the
secret) and the seed of every item (:data:`classgrader.variants.RECORD_KEY`). :func:`replay` grades
the student's hand-in again, in a scratch course with the same nbgrader configuration and the
same secret, on one worker in this process, so that every input each check drew can be shown;
then it compares every item's score and failure message with the recorded ones.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field

import nbformat

from classgrader.demo.expectations import auto_scores
from classgrader.model.course import Course, CourseError, temporary_course
from classgrader.model.notebooks import is_autograded_test, nbgrader_meta
from classgrader.model.status import NOTEBOOK_RECORD, SCORED
from classgrader.variants import RECORD_KEY, fingerprint


@dataclass
class ItemReplay:
    item: str
    recorded: float | None
    replayed: float | None
    same_message: bool
    inputs: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return self.recorded == self.replayed and self.same_message


@dataclass
class Replay:
    student: str
    assignment: str
    items: list[ItemReplay]

    @property
    def same(self) -> bool:
        return all(i.same for i in self.items)


def _messages(path) -> dict[str, str]:
    """grade_id -> the error message of each autograded test cell of a notebook ('' when passed)."""
    nb = nbformat.read(path, as_version=4)
    return {nbgrader_meta(c)["grade_id"]: "\n".join(o.get("evalue", "") for o in c.get("outputs", [])
                                                   if o.get("output_type") == "error")
            for c in nb.cells if is_autograded_test(c)}


def recorded_variants(course: Course, student: str, assignment: str) -> dict:
    """The variants record of a graded notebook.

    Raises
    ------
    CourseError
        When the notebook was never graded, or graded without a record.
    """
    a = course.assignment(assignment)
    path = course.folder("autograded") / student / assignment / f"{a.notebook}.ipynb"
    if not path.exists():
        raise CourseError(f"{student}/{assignment} has not been graded: no {path}")
    record = nbformat.read(path, as_version=4).metadata.get(NOTEBOOK_RECORD, {}).get(RECORD_KEY)
    if not record:
        raise CourseError(f"{path} has no record of its inputs (graded before per-student variants)")
    return record


def replay(course: Course, student: str, assignment: str, secret: str) -> Replay:
    """Grade ``student``'s hand-in of ``assignment`` again with ``secret``; compare with the record.

    Raises
    ------
    CourseError
        When there is no hand-in, no graded notebook or no record, or when ``secret`` is not the
        one the grading used (its fingerprint differs: the inputs could not be the same).
    """
    from classgrader.grade.preprocessors import JudgedExecute
    from classgrader.grade.runner import grade
    from classgrader.release.release import release

    a = course.assignment(assignment)
    handed_in = course.folder("submitted") / student / assignment
    if not handed_in.is_dir():
        raise CourseError(f"no hand-in of {student} for {assignment} in {handed_in.parent}")
    record = recorded_variants(course, student, assignment)
    if record.get("secret") != fingerprint(secret):
        raise CourseError(f"{student}/{assignment} was graded with the secret of fingerprint "
                          f"{record.get('secret')}, but the secret here has fingerprint {fingerprint(secret)}: "
                          "set the course secret the grading used")
    name = f"{a.notebook}.ipynb"
    recorded_messages = _messages(course.folder("autograded") / student / assignment / name)
    recorded_scores = auto_scores(course, assignment, student)
    scratch = Course(temporary_course(course, [assignment]))
    JudgedExecute.drawn = {}
    try:
        release(scratch, [scratch.assignment(assignment)])
        shutil.copytree(handed_in, scratch.folder("submitted") / student / assignment)
        (outcome,) = grade(scratch, [(student, assignment)], jobs=1)
        if outcome.status not in SCORED:
            raise CourseError(f"the replay of {student}/{assignment} did not grade: {outcome.status} {outcome.reason}")
        messages = _messages(scratch.folder("autograded") / student / assignment / name)
        scores = auto_scores(scratch, assignment, student)
        drawn = JudgedExecute.drawn
    finally:
        JudgedExecute.drawn = None
        shutil.rmtree(scratch.root, ignore_errors=True)
    return Replay(student, assignment, [
        ItemReplay(item, recorded_scores.get(item), scores.get(item),
                   recorded_messages.get(item) == messages.get(item), drawn.get(item, []))
        for item in messages])
