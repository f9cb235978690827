"""What each demo submission got, compared with what it must get (see :mod:`.builder`)."""
from __future__ import annotations

from dataclasses import dataclass, field

import nbformat

from classgrader.demo.builder import BLANK, BROKEN, Expectation
from classgrader.grade.runner import Outcome
from classgrader.model.course import Course
from classgrader.model.notebooks import autograded_items, error_messages
from classgrader.model.status import Status


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


def auto_scores(course: Course, assignment: str, student: str) -> dict[str, float | None]:
    """grade_id -> auto score of one submission in the gradebook (empty when it has none)."""
    from nbgrader.api import Gradebook, MissingEntry

    notebook_name = course.assignment(assignment).notebook
    with Gradebook(course.db_url) as gradebook:
        try:
            notebook = gradebook.find_submission_notebook(notebook_name, assignment, student)
        except MissingEntry:
            return {}
        return {g.name: g.auto_score for g in notebook.grades}


def read_result(course: Course, expectation: Expectation, outcome: Outcome) -> Result:
    """Scores and failure messages of one submission from the gradebook and autograded notebook."""
    assignment = course.assignment(expectation.assignment)
    items = autograded_items(nbformat.read(course.source_notebook(assignment), as_version=4))
    result = Result(expectation, outcome, max_score=sum(items.values()))
    if outcome.scored:
        scores = auto_scores(course, assignment.name, expectation.student)
        result.score = sum(scores.get(item) or 0.0 for item in items)
        result.lost = [item for item in items if (scores.get(item) or 0.0) < items[item]]
        autograded = (course.folder("autograded") / expectation.student / assignment.name
                      / f"{assignment.notebook}.ipynb")
        if autograded.exists():
            result.messages = error_messages(nbformat.read(autograded, as_version=4))
    result.problems = compare(result)
    return result


def compare(result: Result) -> list[str]:
    """Why a result is not what its expectation says (an empty list when it is)."""
    exp, outcome = result.expectation, result.outcome
    if exp.kind == BROKEN:
        if outcome.status != Status.QUARANTINED:
            return [f"should be quarantined ({exp.quarantine_reason}), but was {outcome.status}"]
        if exp.quarantine_reason not in outcome.reason:
            return [f"quarantine reason should mention {exp.quarantine_reason!r}: {outcome.reason}"]
        return []
    if outcome.status != Status.GRADED:
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
            score, lost = r.outcome.status, r.outcome.reason
        rows.append((r.expectation.student, r.expectation.assignment, score, lost,
                     "yes" if r.ok else "NO: " + "; ".join(r.problems)))
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(4)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)) + "  " + header[4]]
    lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(header[4]))
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)) + "  " + row[4])
    return "\n".join(lines)
