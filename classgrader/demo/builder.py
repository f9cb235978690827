"""The demo class: submissions built from the course itself, each with what it must get.

* ``perfect``: every solution cell filled from the solutions package (must score full marks);
* ``blank``: the release handed in unchanged (must score 0);
* ``source`` (optional): the instructor's notebook handed in (must score full marks);
* one student per catalogued mistake (must lose exactly the catalogued items, with the catalogued
  words in the failure messages);
* the catalogued styles, correct answers written another way, handed in by rounds (one style of
  each function per submission; each must score full marks);
* broken hand-ins (optional, first assignment only), which must be quarantined with a reason while
  everybody else is graded.

One builder serves ``make demo``, ``make bench``, the adversarial corpus and the suite.
"""
from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass

import nbformat

from classgrader.collect.roster import RosterEntry
from classgrader.model.catalogue import load_catalogue, load_styles, style_rounds
from classgrader.model.course import Assignment, Course, CourseError
from classgrader.model.integrity import QUARANTINE_PHRASES
from classgrader.model.notebooks import autograded_items, fill_from_solutions, is_autograded_test, nbgrader_meta

PERFECT, BLANK, SOURCE, MISTAKE, STYLE, BROKEN = "perfect", "blank", "source", "mistake", "style", "broken"
#: The kinds of submission that must score full marks.
FULL_MARKS = (PERFECT, SOURCE, STYLE)


@dataclass(frozen=True)
class Expectation:
    """What one demo submission must get."""

    student: str
    assignment: str
    kind: str                      # PERFECT, BLANK, SOURCE, MISTAKE, STYLE or BROKEN
    loses: frozenset[str] = frozenset()
    feedback: tuple[str, ...] = ()
    quarantine_reason: str = ""    # for broken hand-ins: a phrase the reason must contain


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


def answered(course: Course, assignment: Assignment) -> nbformat.NotebookNode:
    """The release with every solution cell answered by the solutions package."""
    released = nbformat.read(course.release_notebook(assignment), as_version=4)
    return fill_from_solutions(released, assignment.solutions_module)


def broken_notebooks(perfect: nbformat.NotebookNode) -> dict[str, dict]:
    """The malformed hand-ins: student id -> how to write it (for :func:`hand_in`)."""
    tests = [c for c in perfect.cells if is_autograded_test(c)]
    first_test = nbgrader_meta(tests[0])["grade_id"]
    duplicated = copy.deepcopy(perfect)
    copy_of_test = copy.deepcopy(tests[0])
    copy_of_test["id"] = copy_of_test["id"] + "-copy"
    duplicated.cells.append(copy_of_test)
    deleted = copy.deepcopy(perfect)
    deleted.cells = [c for c in deleted.cells if nbgrader_meta(c).get("grade_id") != first_test]
    return {
        "broken-json": dict(raw_text='{"cells": [ this is not json'),
        "missing-notebook": dict(nb=None),
        "renamed-notebook": dict(nb=perfect, filename="my_homework.ipynb"),
        "duplicated-cell": dict(nb=duplicated),
        "deleted-cell": dict(nb=deleted),
    }


#: The broken hand-ins and which quarantine reason (a phrase of model.integrity) each must get.
BROKEN_HAND_INS = {
    "broken-json": QUARANTINE_PHRASES["json"],
    "missing-notebook": QUARANTINE_PHRASES["missing"],
    "renamed-notebook": QUARANTINE_PHRASES["renamed"],
    "duplicated-cell": QUARANTINE_PHRASES["duplicated"],
    "deleted-cell": QUARANTINE_PHRASES["deleted"],
}


def varied(mistakes: list, count: int) -> list:
    """``count`` mistakes of a catalogue, each in a different function where the catalogue allows:
    the first mistake of every function in turn, then the second of each, and so on."""
    by_function: dict[str, list] = {}
    for mistake in mistakes:
        by_function.setdefault(mistake.function, []).append(mistake)
    rounds = max((len(group) for group in by_function.values()), default=0)
    chosen = [group[k] for k in range(rounds) for group in by_function.values() if k < len(group)]
    return chosen[:count]


def build_class(course: Course, assignments: list[Assignment], *, with_source: bool = False,
                with_broken: bool = True, mistakes_per_assignment: int | None = None,
                catalogue_dir=None, spread: bool = False) -> list[Expectation]:
    """Write the demo class into ``submitted/`` and say what each submission must get.

    Parameters
    ----------
    mistakes_per_assignment : int, optional
        Hand in only N catalogued mistakes of each assignment (all by default): the first N, or
        with ``spread`` N in different functions (see :func:`varied`); and then only the first
        round of catalogued styles (all by default).
    """
    expectations = []
    for index, assignment in enumerate(assignments):
        released = nbformat.read(course.release_notebook(assignment), as_version=4)
        perfect = fill_from_solutions(released, assignment.solutions_module)
        items = frozenset(autograded_items(released))
        hand_in(course, PERFECT, assignment, perfect)
        expectations.append(Expectation(PERFECT, assignment.name, PERFECT))
        hand_in(course, BLANK, assignment, released)
        expectations.append(Expectation(BLANK, assignment.name, BLANK, loses=items))
        if with_source:
            hand_in(course, SOURCE, assignment, nbformat.read(course.source_notebook(assignment), as_version=4))
            expectations.append(Expectation(SOURCE, assignment.name, SOURCE))
        mistakes = load_catalogue(assignment, catalogue_dir)
        if mistakes_per_assignment is not None:
            mistakes = (varied(mistakes, mistakes_per_assignment) if spread
                        else mistakes[:mistakes_per_assignment])
        for mistake in mistakes:
            unknown = set(mistake.loses) - items
            if unknown:
                raise CourseError(f"mistake {mistake.id!r} of {assignment.name} names unknown items: "
                                  f"{', '.join(sorted(unknown))}")
            hand_in(course, mistake.student, assignment, mistake.apply(perfect))
            expectations.append(Expectation(mistake.student, assignment.name, MISTAKE,
                                            loses=frozenset(mistake.loses), feedback=mistake.feedback))
        rounds = style_rounds(load_styles(assignment, catalogue_dir))
        for styled in rounds[:1] if mistakes_per_assignment is not None else rounds:
            hand_in(course, styled.student, assignment, styled.apply(perfect))
            expectations.append(Expectation(styled.student, assignment.name, STYLE))
        if with_broken and index == 0:
            for student, how in broken_notebooks(perfect).items():
                hand_in(course, student, assignment, how.get("nb"), how.get("filename"), how.get("raw_text"))
                expectations.append(Expectation(student, assignment.name, BROKEN,
                                                quarantine_reason=BROKEN_HAND_INS[student]))
    return expectations


def demo_roster(students: list[str]) -> list[RosterEntry]:
    """A roster for the demo class: made-up names, SIS ids and GitHub users, one per student."""
    return [RosterEntry(id=student, github=f"demo-student-{index}", first_name="Demo",
                        last_name=student.replace("-", " ").title(), email=f"{student}@example.org",
                        sis_user_id=f"DEMO{index:04d}", sis_login_id=f"{student}@example.org",
                        section="Demo section")
            for index, student in enumerate(sorted(set(students)), start=1)]
