"""The whole life of an assignment on a demo class, and the checks that prove the grading right.

``release -> submissions -> nbgrader autograde -> feedback -> grades.csv``, run on a class built
from the course itself:

* ``perfect``: every solution cell filled from the solutions package (must score full marks);
* ``blank``: the release handed in unchanged (must score 0);
* ``source`` (suite only): the instructor's notebook handed in (must score full marks);
* one student per catalogued mistake (must lose exactly the catalogued items, with the
  catalogued words in the failure messages);
* broken hand-ins (invalid JSON, missing or renamed notebook, duplicated or deleted grade cell),
  which must be quarantined with a reason while everybody else is graded.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from classgrader.course import Assignment, Course, CourseError, load_catalogue
from classgrader.grading import Outcome, ensure_tools_on_path, generate_feedback, grade
from classgrader.notebooks import (autograded_items, error_messages, fill_from_solutions,
                                   nbgrader_meta, replace_function)

PERFECT, BLANK, SOURCE = "perfect", "blank", "source"

#: The malformed hand-ins of the first assignment and a phrase their quarantine reason must contain.
BROKEN_HAND_INS = {
    "broken-json": "not valid JSON",
    "missing-notebook": "is missing",
    "renamed-notebook": "renamed",
    "duplicated-cell": "appears 2 times",
    "deleted-cell": "was deleted",
}


@dataclass
class Expectation:
    """What one demo submission must get."""

    student: str
    assignment: str
    kind: str                      # perfect, blank, source, mistake, broken
    loses: frozenset[str] = frozenset()
    feedback: tuple[str, ...] = ()
    quarantine_reason: str = ""    # for broken hand-ins: a phrase the reason must contain
    description: str = ""


@dataclass
class Result:
    """What one submission got, and whether that is what it had to get."""

    expectation: Expectation
    outcome: Outcome
    score: float = 0.0
    max_score: float = 0.0
    lost: list[str] = field(default_factory=list)
    messages: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def release(course: Course, assignments: list[Assignment]) -> None:
    """``nbgrader generate_assignment`` for each assignment (also records it in the gradebook)."""
    ensure_tools_on_path()
    from nbgrader.apps.api import NbGraderAPI

    api = NbGraderAPI(coursedir=course.coursedir(), config=course.config)
    api.log.setLevel("ERROR")
    for assignment in assignments:
        result = api.generate_assignment(assignment.name, force=True, create=True)
        if not result.get("success"):
            raise CourseError(f"generate_assignment {assignment.name} failed:\n{result.get('error', '')}"
                              f"\n{result.get('log', '')}")


# ---------------------------------------------------------------------------------------------
# Building the class


def hand_in(course: Course, student: str, assignment: Assignment, nb: nbformat.NotebookNode | None,
             filename: str | None = None, raw_text: str | None = None) -> None:
    """Copy the released folder (data files included) and write the student's notebook into it."""
    target = course.folder("submitted") / student / assignment.name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(course.folder("release") / assignment.name, target)
    default = target / f"{assignment.notebook}.ipynb"
    default.unlink()
    path = target / (filename or default.name)
    if raw_text is not None:
        path.write_text(raw_text, encoding="utf-8")
    elif nb is not None:
        nbformat.write(nb, path)


def _broken_hand_ins(course: Course, assignment: Assignment, perfect: nbformat.NotebookNode) -> list[Expectation]:
    """Five malformed submissions of the first assignment, each with the reason it must get."""
    tests = [c for c in perfect.cells if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")]
    first_test = nbgrader_meta(tests[0])["grade_id"]
    duplicated = nbformat.from_dict(json.loads(json.dumps(perfect)))
    copy_of_test = nbformat.from_dict(json.loads(json.dumps(tests[0])))
    copy_of_test["id"] = copy_of_test["id"] + "-copy"
    duplicated.cells.append(copy_of_test)
    deleted = nbformat.from_dict(json.loads(json.dumps(perfect)))
    deleted.cells = [c for c in deleted.cells if nbgrader_meta(c).get("grade_id") != first_test]

    how = {
        "broken-json": dict(raw_text='{"cells": [ this is not json'),
        "missing-notebook": dict(nb=None),
        "renamed-notebook": dict(nb=perfect, filename="my_homework.ipynb"),
        "duplicated-cell": dict(nb=duplicated),
        "deleted-cell": dict(nb=deleted),
    }
    expectations = []
    for student, reason in BROKEN_HAND_INS.items():
        made = how[student]
        hand_in(course, student, assignment, made.get("nb"), made.get("filename"), made.get("raw_text"))
        expectations.append(Expectation(student, assignment.name, "broken", quarantine_reason=reason,
                                        description=f"hand-in that is {student.replace('-', ' ')}"))
    return expectations


def build_class(course: Course, assignments: list[Assignment], *, with_source: bool = False,
                with_broken: bool = True, catalogue_dir: Path | None = None) -> list[Expectation]:
    """Write the demo class into ``submitted/`` and say what each submission must score."""
    expectations = []
    for index, assignment in enumerate(assignments):
        released = nbformat.read(course.release_notebook(assignment), as_version=4)
        perfect = fill_from_solutions(released, assignment.solutions_module)
        hand_in(course, PERFECT, assignment, perfect)
        expectations.append(Expectation(PERFECT, assignment.name, PERFECT, description="solutions package"))
        hand_in(course, BLANK, assignment, released)
        items = frozenset(autograded_items(released))
        expectations.append(Expectation(BLANK, assignment.name, BLANK, loses=items,
                                        description="release handed in unchanged"))
        if with_source:
            source = nbformat.read(course.source_notebook(assignment), as_version=4)
            hand_in(course, SOURCE, assignment, source)
            expectations.append(Expectation(SOURCE, assignment.name, SOURCE, description="instructor's notebook"))
        for mistake in load_catalogue(assignment, catalogue_dir):
            unknown = set(mistake.loses) - items
            if unknown:
                raise CourseError(f"mistake {mistake.id!r} of {assignment.name} names unknown items: "
                                  f"{', '.join(sorted(unknown))}")
            nb = replace_function(perfect, mistake.function, mistake.code)
            hand_in(course, mistake.student, assignment, nb)
            expectations.append(Expectation(mistake.student, assignment.name, "mistake",
                                            loses=frozenset(mistake.loses), feedback=mistake.feedback,
                                            description=mistake.description))
        if with_broken and index == 0:
            expectations.extend(_broken_hand_ins(course, assignment, perfect))
    return expectations


# ---------------------------------------------------------------------------------------------
# Reading the results


def read_result(course: Course, expectation: Expectation, outcome: Outcome) -> Result:
    """Scores and failure messages of one submission from the gradebook and autograded notebook."""
    from nbgrader.api import Gradebook, MissingEntry

    assignment = course.assignment(expectation.assignment)
    items = autograded_items(nbformat.read(course.source_notebook(assignment), as_version=4))
    result = Result(expectation, outcome, max_score=sum(items.values()))
    if outcome.scored:
        with Gradebook(course.db_url) as gradebook:
            try:
                notebook = gradebook.find_submission_notebook(assignment.notebook, assignment.name,
                                                              expectation.student)
                scores = {g.name: g.auto_score for g in notebook.grades}
            except MissingEntry:
                scores = {}
        result.score = sum(scores.get(item) or 0.0 for item in items)
        result.lost = [item for item in items if (scores.get(item) or 0.0) < items[item]]
        autograded = (course.folder("autograded") / expectation.student / assignment.name
                      / f"{assignment.notebook}.ipynb")
        if autograded.exists():
            result.messages = error_messages(nbformat.read(autograded, as_version=4))
    result.problems = _compare(result)
    return result


def _compare(result: Result) -> list[str]:
    exp, outcome = result.expectation, result.outcome
    if exp.kind == "broken":
        if outcome.status != "quarantined":
            return [f"should be quarantined ({exp.quarantine_reason}), but was {outcome.status}"]
        if exp.quarantine_reason not in outcome.reason:
            return [f"quarantine reason should mention {exp.quarantine_reason!r}: {outcome.reason}"]
        return []
    if outcome.status != "graded":
        return [f"should be graded plainly, but is {outcome.status}: {outcome.reason}"]
    problems = []
    lost, expected = set(result.lost), set(exp.loses)
    if lost - expected:
        problems.append(f"lost items it should keep: {', '.join(sorted(lost - expected))}")
    if expected - lost:
        problems.append(f"kept items it should lose: {', '.join(sorted(expected - lost))}")
    text = "\n".join(result.messages.get(item, "") for item in result.lost)
    for phrase in exp.feedback:
        if phrase not in text:
            problems.append(f"feedback does not say {phrase!r}")
    return problems


# ---------------------------------------------------------------------------------------------
# The whole life cycle


def export_grades(course: Course) -> Path:
    """``nbgrader export`` (the real app) writes grades.csv in the course folder."""
    ensure_tools_on_path()
    completed = subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=course.root,
                               capture_output=True, text=True)
    if completed.returncode != 0:
        raise CourseError(f"nbgrader export failed:\n{completed.stderr[-2000:]}")
    return course.root / "grades.csv"


def run(course: Course, assignments: list[Assignment] | None = None, *, jobs: int | None = None,
        with_source: bool = False, with_broken: bool = True, feedback: bool = True,
        export: bool = True, catalogue_dir: Path | None = None) -> list[Result]:
    """Release, build the class, grade it, write feedback and grades.csv; return every result."""
    assignments = assignments or course.assignments()
    release(course, assignments)
    expectations = build_class(course, assignments, with_source=with_source,
                               with_broken=with_broken, catalogue_dir=catalogue_dir)
    pairs = [(e.student, e.assignment) for e in expectations]
    outcomes = grade(course, pairs, jobs)
    if feedback:
        failed = {(o.student, o.assignment): o for o in generate_feedback(course, outcomes, jobs)
                  if o.status == "failed"}
        outcomes = [Outcome(o.student, o.assignment, "failed", "feedback: " + failed[(o.student, o.assignment)].reason)
                    if (o.student, o.assignment) in failed else o for o in outcomes]
    if export:
        export_grades(course)
    return [read_result(course, e, o) for e, o in zip(expectations, outcomes)]


def table(results: list[Result]) -> str:
    """The demo's table: student, assignment, auto-graded score / max, lost items, check."""
    header = ("student", "assignment", "score", "lost items / reason", "as expected")
    rows = []
    for r in results:
        if r.outcome.scored:
            pct = 100 * r.score / r.max_score if r.max_score else 0
            score = f"{r.score:g}/{r.max_score:g} ({pct:.0f}%)"
            lost = ", ".join(r.lost) or "-"
            if r.expectation.kind == BLANK and r.lost:
                lost = f"all {len(r.lost)} items"
        else:
            score = r.outcome.status
            lost = r.outcome.reason
        rows.append((r.expectation.student, r.expectation.assignment, score, lost,
                     "yes" if r.ok else "NO: " + "; ".join(r.problems)))
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(4)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)) + "  " + header[4]]
    lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(header[4]))
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)) + "  " + row[4])
    return "\n".join(lines)
