"""Tests of the tests: every assignment's demo class through real ``nbgrader autograde``.

For each assignment, in a scratch copy of the course: the instructor's source notebook and the
solutions-package submission score full marks, so does every catalogued style (a correct answer
written another way), the release handed in unchanged scores 0, every catalogued mistake loses
exactly the items it names (with the catalogued words in the failure message), and malformed hand-ins are quarantined with a reason while the others are graded.
"""
from __future__ import annotations

import pytest

from classgrader.demo.builder import BLANK, BROKEN, BROKEN_HAND_INS, FULL_MARKS, PERFECT, SOURCE
from classgrader.model.catalogue import load_catalogue, load_styles, style_rounds
from conftest import ASSIGNMENTS, COURSE, graded_class


def _cases():
    for name in ASSIGNMENTS:
        assignment = COURSE.assignment(name)
        for student in (SOURCE, PERFECT, BLANK):
            yield name, student
        for mistake in load_catalogue(assignment):
            yield name, mistake.student
        for styled in style_rounds(load_styles(assignment)):
            yield name, styled.student
        if name == ASSIGNMENTS[0]:
            for student in BROKEN_HAND_INS:
                yield name, student


@pytest.mark.parametrize(("assignment", "student"), list(_cases()))
def test_submission_gets_exactly_what_it_should(assignment, student):
    results = {r.expectation.student: r for r in graded_class(assignment)}
    assert student in results, f"{student} was not part of the graded class"
    result = results[student]
    kind = result.expectation.kind
    if kind in FULL_MARKS:
        assert result.outcome.status == "graded", result.outcome.reason
        assert result.max_score > 0
        styles = {r.student: r.describe() for r in style_rounds(load_styles(COURSE.assignment(assignment)))}
        written = f" (written in the styles {styles[student]})" if student in styles else ""
        assert result.score == result.max_score, f"{student}{written} lost {result.lost}: {result.messages}"
    elif kind == BLANK:
        assert result.outcome.status == "graded", result.outcome.reason
        assert result.score == 0, f"the unchanged release scored {result.score}: kept items it cannot have earned"
    elif kind == BROKEN:
        assert result.outcome.status == "quarantined"
        assert BROKEN_HAND_INS[student] in result.outcome.reason
    else:
        assert result.outcome.status == "graded", result.outcome.reason
        assert 0 < result.score < result.max_score
    assert result.ok, f"{student}/{assignment}: " + "; ".join(result.problems)
