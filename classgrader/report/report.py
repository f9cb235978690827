"""``make report``: what an instructor reads after grading.

Writes into ``reports/``:

* ``grades.csv`` — nbgrader's own export (``nbgrader export``), also copied to the course root;
* ``canvas.csv`` — the same scores for Canvas's gradebook import, one row per student of the
  roster (:mod:`classgrader.report.canvas`; written only when there is a roster);
* ``report.md`` with PNG plots — the score distribution of every assignment, the pass rate of
  every autograded item, the most frequent diagnosed mistakes (the known mistakes the checks
  recognised, from the grader's own record in each autograded notebook, once per student and
  item, shown as plain text), and the quarantined or flagged submissions with their reasons.
"""
from __future__ import annotations

import collections
import json
import re
import shutil
from pathlib import Path

import nbformat

from classgrader.grade.completion import unfinished_submissions, unscored
from classgrader.model.course import Course
from classgrader.model.notebooks import autograded_items, error_messages, nbgrader_meta
from classgrader.model.status import DIAGNOSES_KEY, NOTEBOOK_RECORD, STATUS_FILE, Status
from classgrader.report.export import export_grades

#: Characters that Markdown (and the HTML inside it) gives a meaning to, escaped in the report.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+!|~-])")


def _item_results(course: Course):
    """assignment -> {item: [passed?...]}, assignment -> [total score per student], maxima, and
    the submissions whose grading did not finish ((student, assignment) -> what has no score).

    Scores are nbgrader's: a grade's score is the hand-given one where a person gave one, else
    the autograder's; a total counts the written answers' points and subtracts the late
    penalty, as ``nbgrader export`` does; a maximum counts every graded cell. A submission whose
    grading did not finish counts in neither (it has no score yet, not a 0).
    """
    from nbgrader.api import Gradebook

    items, totals, maxima = {}, {}, {}
    with Gradebook(course.db_url) as gradebook:
        unfinished = unfinished_submissions(gradebook)
        for assignment in course.assignments():
            source = nbformat.read(course.source_notebook(assignment), as_version=4)
            points = autograded_items(source)
            maxima[assignment.name] = sum(float(nbgrader_meta(c).get("points") or 0)
                                          for c in source.cells if nbgrader_meta(c).get("grade"))
            per_item = {item: [] for item in points}
            scores = []
            try:
                submissions = gradebook.find_assignment(assignment.name).submissions
            except Exception:  # noqa: BLE001 - MissingEntry: not released into this gradebook
                submissions = []
            for submission in submissions:
                if (submission.student.id, assignment.name) in unfinished:
                    continue
                got = {g.name: g.score for n in submission.notebooks for g in n.grades}
                for item, maximum in points.items():
                    per_item[item].append((got.get(item) or 0.0) >= maximum)
                scores.append(max(0.0, submission.score - (submission.late_submission_penalty or 0.0)))
            items[assignment.name], totals[assignment.name] = per_item, scores
    return items, totals, maxima, unfinished


def _diagnoses(course: Course) -> collections.Counter:
    """(assignment, item, diagnosis) -> how many students got it, from the grader's own record in
    each autograded notebook (never from output text, which can quote the student's code)."""
    counts = collections.Counter()
    for notebook in course.folder("autograded").glob("*/*/*.ipynb"):
        try:
            record = nbformat.read(notebook, as_version=4).metadata.get(NOTEBOOK_RECORD, {})
        except Exception:  # noqa: BLE001 - a broken file is reported elsewhere
            continue
        found = record.get(DIAGNOSES_KEY, {}) if isinstance(record, dict) else {}
        for grade_id, diagnoses in (found.items() if isinstance(found, dict) else []):
            for diagnosis in set(diagnoses) if isinstance(diagnoses, list) else ():
                counts[(notebook.parent.name, str(grade_id), str(diagnosis).strip())] += 1
    return counts


def markdown_text(text: str) -> str:
    """``text`` shown as itself in Markdown: one line, every meaningful character escaped."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def _histograms(totals: dict[str, list[float]], maxima: dict[str, float], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(totals)
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(3.2 * max(len(names), 1), 2.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        maximum = maxima[name] or 1
        ax.hist(totals[name], bins=min(10, int(maximum) + 1), range=(0, maximum), color="#0072B2",
                edgecolor="white")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("auto-graded score")
        ax.set_ylabel("students")
    fig.suptitle("Score distribution per assignment")
    fig.tight_layout()
    path = out / "score-distribution.png"
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


def _canvas_section(course: Course, grades: Path, out: Path, roster: Path | None) -> list[str]:
    """Write canvas.csv when there is a roster; the report's lines about it either way."""
    from classgrader.collect.roster import read_roster
    from classgrader.report.canvas import write_canvas_csv

    lines = ["## Canvas import", ""]
    if roster is None or not roster.is_file():
        (out / "canvas.csv").unlink(missing_ok=True)
        return lines + [f"No canvas.csv: there is no roster ({roster}). Canvas matches students by "
                        "the roster's ids; see docs/classroom.md.", ""]
    canvas = write_canvas_csv(course, grades, read_roster(roster), out)
    lines.append(f"`{canvas.path.name}`: {canvas.students} students of the roster {roster.name}.")
    return lines + [f"* {warning}" for warning in canvas.warnings] + [""]


def _review_section(statuses: list[dict]) -> list[str]:
    """Every flag of the scan (each names the file and the line) and every file that was handed in
    besides the assignment's own (ignored when grading), per submission."""
    lines = ["", "## Flags and ignored files, per submission", ""]
    listed = [s for s in statuses if s.get("flags") or s.get("ignored")]
    for s in listed:
        lines.append(f"### {s['student']} / {s['assignment']}")
        lines += [""] + [f"- flag: {flag}" for flag in s.get("flags", [])]
        lines += [f"- ignored (not part of the assignment): `{path}`" for path in s.get("ignored", [])] + [""]
    return lines if listed else lines + ["None."]


def _scores_section(totals: dict, maxima: dict) -> list[str]:
    lines = ["## Scores", "", "| assignment | submissions | mean (written answers included, late penalties subtracted) | median | full marks |", "|---|---|---|---|---|"]
    for name, scores in totals.items():
        if scores:
            ordered = sorted(scores)
            median = ordered[len(ordered) // 2]
            full = sum(s >= maxima[name] for s in scores)
            lines.append(f"| {name} | {len(scores)} | {sum(scores) / len(scores):.1f} / {maxima[name]:g} "
                         f"| {median:g} | {full} |")
    return lines


def _items_section(course: Course, items: dict) -> list[str]:
    lines = ["", "## Pass rate of every autograded item", ""]
    for name, per_item in items.items():
        if not any(per_item.values()):
            continue
        lines += [f"### {name}", "", "| item | passed | rate |", "|---|---|---|"]
        for item, passed in per_item.items():
            rate = sum(passed) / len(passed) if passed else 0.0
            lines.append(f"| `{item}` | {sum(passed)}/{len(passed)} | {rate:.0%} |")
        lines.append("")
    lines += ["## Most frequent diagnosed mistakes", ""]
    diagnoses = _diagnoses(course).most_common(15)
    if diagnoses:
        lines += ["| assignment | item | diagnosis | students |", "|---|---|---|---|"]
        for (assignment, item, text), count in diagnoses:
            lines.append(f"| {assignment} | `{item}` | {markdown_text(text)} | {count} |")
    else:
        lines.append("No diagnosed mistakes.")
    return lines


def _attention_section(statuses: list[dict], unfinished: dict) -> list[str]:
    lines = ["", "## Submissions that need a person", ""]
    attention = [s for s in statuses if s["status"] != Status.GRADED
                 and (s["student"], s["assignment"]) not in unfinished]
    attention += [{"student": student, "assignment": assignment, "status": "not graded",
                   "reason": "its grading did not finish (no score for " + "; ".join(missing)
                             + "): no score counted; grade it again"}
                  for (student, assignment), missing in sorted(unfinished.items())]
    if attention:
        lines += ["| student | assignment | status | reason |", "|---|---|---|---|"]
        for s in attention:
            lines.append(f"| {s['student']} | {s['assignment']} | {s['status']} | {s['reason'].replace('|', '/')[:300]} |")
    else:
        lines.append("None: every submission was graded normally.")
    return lines


def write_report(course: Course, out: Path | None = None, roster: Path | None = None) -> Path:
    """Write grades.csv, canvas.csv (with a roster) and report.md (with plots); returns the report's path."""
    out = out or course.root / "reports"
    out.mkdir(parents=True, exist_ok=True)
    grades = export_grades(course)
    shutil.copy2(grades, out / "grades.csv")
    items, totals, maxima, unfinished = _item_results(course)
    canvas = _canvas_section(course, grades, out, roster)
    plot = _histograms(totals, maxima, out)
    statuses = []
    if (course.root / STATUS_FILE).exists():
        statuses = json.loads((course.root / STATUS_FILE).read_text())
    lines = ["# Class report", "", f"![score distribution]({plot.name})", ""]
    lines += _scores_section(totals, maxima) + _items_section(course, items)
    lines += _attention_section(statuses, unfinished) + _review_section(statuses) + ["", *canvas]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def student_summary(course: Course, student: str, assignments: list[str] | None = None) -> str:
    """Markdown: one student's score and per-item results, with the first line of each failure."""
    from nbgrader.api import Gradebook, MissingEntry

    statuses = {}
    if (course.root / STATUS_FILE).exists():
        statuses = {(r["student"], r["assignment"]): r for r in json.loads((course.root / STATUS_FILE).read_text())}
    lines = [f"# Results for {student}", ""]
    with Gradebook(course.db_url) as gradebook:
        for assignment in course.assignments():
            if assignments and assignment.name not in assignments:
                continue
            status = statuses.get((student, assignment.name), {})
            points = autograded_items(nbformat.read(course.source_notebook(assignment), as_version=4))
            try:
                notebook = gradebook.find_submission_notebook(assignment.notebook, assignment.name, student)
                got = {g.name: g.auto_score for g in notebook.grades}
            except MissingEntry:
                if status:
                    lines += [f"## {assignment.name}: {status['status']}", "", status.get("reason", ""), ""]
                continue
            if unscored(notebook):
                lines += [f"## {assignment.name}: not graded yet", "",
                          "Its grading was interrupted before it finished; it will be graded again.", ""]
                continue
            graded = course.folder("autograded") / student / assignment.name / f"{assignment.notebook}.ipynb"
            messages = error_messages(nbformat.read(graded, as_version=4)) if graded.exists() else {}
            total = sum(got.get(i) or 0.0 for i in points)
            lines += [f"## {assignment.name}: {total:g} / {sum(points.values()):g}"
                      + (f" ({status['status']})" if status.get("status", Status.GRADED) != Status.GRADED else ""), "",
                      "| item | points | result |", "|---|---|---|"]
            for item, maximum in points.items():
                score = got.get(item) or 0.0
                if score >= maximum:
                    result = "passed"
                else:
                    first = messages.get(item, "").split("\n")[0][:200]
                    result = f"failed: {markdown_text(first)}" if first else "failed"
                lines.append(f"| `{item}` | {score:g} / {maximum:g} | {result} |")
            lines.append("")
    return "\n".join(lines)
