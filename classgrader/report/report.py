"""``make report``: what an instructor reads after grading.

Writes into ``reports/``:

* ``grades.csv`` — nbgrader's own export (``nbgrader export``), also copied to the course root;
* ``canvas.csv`` — the same scores in the column layout Canvas's gradebook import expects
  (Student, ID, SIS User ID, SIS Login ID, Section, one column per assignment, and a
  "Points Possible" row);
* ``report.md`` with PNG plots — the score distribution of every assignment, the pass rate of
  every autograded item, the most frequent diagnosed mistakes (the "Diagnosis:" lines of the
  failure messages), and the quarantined or flagged submissions with their reasons.
"""
from __future__ import annotations

import collections
import csv
import json
import re
import shutil
from pathlib import Path

import nbformat

from classgrader.model.course import Course
from classgrader.model.notebooks import autograded_items, error_messages
from classgrader.model.status import DIAGNOSIS_PREFIX, STATUS_FILE, Status
from classgrader.report.export import export_grades

_DIAGNOSIS = re.compile(re.escape(DIAGNOSIS_PREFIX) + r"(.+)")


def _item_results(course: Course):
    """assignment -> {item: [passed?...]}, and assignment -> [total score per student]."""
    from nbgrader.api import Gradebook

    items, totals, maxima = {}, {}, {}
    with Gradebook(course.db_url) as gradebook:
        for assignment in course.assignments():
            points = autograded_items(nbformat.read(course.source_notebook(assignment), as_version=4))
            maxima[assignment.name] = sum(points.values())
            per_item = {item: [] for item in points}
            scores = []
            try:
                submissions = gradebook.find_assignment(assignment.name).submissions
            except Exception:  # noqa: BLE001 - MissingEntry: not released into this gradebook
                submissions = []
            for submission in submissions:
                got = {g.name: g.auto_score for n in submission.notebooks for g in n.grades}
                for item, maximum in points.items():
                    per_item[item].append((got.get(item) or 0.0) >= maximum)
                scores.append(sum(got.get(item) or 0.0 for item in points))
            items[assignment.name], totals[assignment.name] = per_item, scores
    return items, totals, maxima


def _diagnoses(course: Course) -> collections.Counter:
    counts = collections.Counter()
    for notebook in course.folder("autograded").glob("*/*/*.ipynb"):
        try:
            messages = error_messages(nbformat.read(notebook, as_version=4))
        except Exception:  # noqa: BLE001 - a broken file is reported elsewhere
            continue
        for grade_id, text in messages.items():
            for diagnosis in _DIAGNOSIS.findall(text):
                counts[(notebook.parent.name, grade_id, diagnosis.strip())] += 1
    return counts


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


def write_canvas_csv(grades_csv: Path, out: Path, maxima: dict[str, float]) -> Path:
    """Canvas gradebook import layout, from nbgrader's grades.csv."""
    scores: dict[str, dict[str, str]] = collections.defaultdict(dict)
    names: dict[str, tuple[str, str]] = {}
    with open(grades_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            scores[row["student_id"]][row["assignment"]] = row["score"]
            names[row["student_id"]] = (row.get("first_name") or "", row.get("last_name") or "")
    assignments = list(maxima)
    path = out / "canvas.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments])
        writer.writerow(["Points Possible", "", "", "", "", *(f"{maxima[a]:g}" for a in assignments)])
        for student in sorted(scores):
            first, last = names[student]
            display = f"{last}, {first}" if first or last else student
            writer.writerow([display, "", student, student, "", *(scores[student].get(a, "") for a in assignments)])
    return path


def write_report(course: Course, out: Path | None = None) -> Path:
    """Write grades.csv, canvas.csv and report.md (with plots); returns the report's path."""
    out = out or course.root / "reports"
    out.mkdir(parents=True, exist_ok=True)
    grades = export_grades(course)
    shutil.copy2(grades, out / "grades.csv")
    items, totals, maxima = _item_results(course)
    write_canvas_csv(grades, out, maxima)
    plot = _histograms(totals, maxima, out)
    statuses = []
    if (course.root / STATUS_FILE).exists():
        statuses = json.loads((course.root / STATUS_FILE).read_text())

    lines = ["# Class report", "", f"![score distribution]({plot.name})", ""]
    lines += ["## Scores", "", "| assignment | submissions | mean | median | full marks |", "|---|---|---|---|---|"]
    for name, scores in totals.items():
        if scores:
            ordered = sorted(scores)
            median = ordered[len(ordered) // 2]
            full = sum(s >= maxima[name] for s in scores)
            lines.append(f"| {name} | {len(scores)} | {sum(scores) / len(scores):.1f} / {maxima[name]:g} "
                         f"| {median:g} | {full} |")
    lines += ["", "## Pass rate of every autograded item", ""]
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
            lines.append(f"| {assignment} | `{item}` | {text.replace('|', '/')} | {count} |")
    else:
        lines.append("No diagnosed mistakes.")
    lines += ["", "## Submissions that need a person", ""]
    attention = [s for s in statuses if s["status"] != Status.GRADED]
    if attention:
        lines += ["| student | assignment | status | reason |", "|---|---|---|---|"]
        for s in attention:
            lines.append(f"| {s['student']} | {s['assignment']} | {s['status']} | {s['reason'].replace('|', '/')[:300]} |")
    else:
        lines.append("None: every submission was graded normally.")
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
                    first = messages.get(item, "").split("\n")[0].replace("|", "/")
                    result = f"failed: {first[:200]}" if first else "failed"
                lines.append(f"| `{item}` | {score:g} / {maximum:g} | {result} |")
            lines.append("")
    return "\n".join(lines)
