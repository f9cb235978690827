"""``classgrader return``: each student's feedback, pushed back to the repository it came from.

For every student and assignment that ``classgrader collect`` recorded, the repository gets, on
its own branch (``c.Classroom.feedback_branch``, ``feedback`` by default; the student's branches
are never touched), a folder ``feedback/<assignment>/`` with

* ``<notebook>.html``: nbgrader's feedback (``classgrader feedback``), without the hidden tests;
* ``README.md``: the score, each item's result, the commit that was graded and when it counts as
  handed in; or, when the work could not be collected or graded, the reason.

One commit per repository and run, and only when something changed: returning the same results
twice pushes nothing. Credentials come from the course's side only (:mod:`classgrader.collect.git`).
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

from classgrader.collect.classroom import Classroom, Collected, read_ledger
from classgrader.collect.git import GitError, git, git_environment
from classgrader.grade.runner import already_graded
from classgrader.model.course import Course
from classgrader.model.status import STATUS_FILE, Collection, Delivery, Status
from classgrader.report.report import student_summary


@dataclass
class Returned:
    """What returning one (student, assignment) did."""

    student: str
    assignment: str
    status: Delivery
    reason: str = ""
    repository: str = ""


def give_back(course: Course, students: list[str], assignments: list[str],
              classroom: Classroom) -> list[Returned]:
    """Return the feedback of these students and assignments; one :class:`Returned` each collected."""
    ledger = read_ledger(course)
    rows = [ledger[(s, a)] for s in students for a in assignments
            if (s, a) in ledger and ledger[(s, a)].status != Collection.NOT_STARTED]
    by_repository: dict[str, list[Collected]] = {}
    for row in rows:
        by_repository.setdefault(row.repository, []).append(row)
    env = git_environment(classroom.token_variable)
    done = []
    with tempfile.TemporaryDirectory(prefix="classgrader-return-") as scratch:
        for index, (url, collected) in enumerate(by_repository.items()):
            done += _return_to(course, url, collected, Path(scratch) / str(index), env, classroom)
    return done


def _return_to(course: Course, url: str, collected: list[Collected], repo: Path, env: dict,
               classroom: Classroom) -> list[Returned]:
    """One commit on the feedback branch of one repository, for the rows collected from it."""
    results = [Returned(r.student, r.assignment, Delivery.PROBLEM, repository=url) for r in collected]
    pages = {r.assignment: feedback_files(course, r) for r in collected}
    for result in results:
        if pages[result.assignment] is None:
            result.reason = "collected, but not graded yet: run `classgrader grade` and `classgrader feedback` first"
    ready = {a: files for a, files in pages.items() if files is not None}
    if not ready:
        return results
    branch = classroom.feedback_branch
    try:
        changed = _commit(repo, url, branch, ready, env, classroom.author)
        if changed:
            git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=repo, env=env)
    except GitError as err:
        for result in results:
            if result.assignment in ready:
                result.reason = f"cannot return to {url}: {err}"
        return results
    for result in results:
        if result.assignment in ready:
            result.status = Delivery.RETURNED if result.assignment in changed else Delivery.UP_TO_DATE
    return results


def _commit(repo: Path, url: str, branch: str, pages: dict[str, dict[str, bytes]], env: dict,
            author: str) -> set[str]:
    """Check out the feedback branch (or start it), write the pages, commit; the assignments changed."""
    git("init", "--quiet", f"--initial-branch={branch}", str(repo), env=env)
    git("remote", "add", "origin", url, cwd=repo, env=env)
    if git("ls-remote", "--heads", "origin", f"refs/heads/{branch}", cwd=repo, env=env).stdout.strip():
        git("fetch", "--quiet", "--no-tags", "origin", branch, cwd=repo, env=env)
        git("reset", "--quiet", "--hard", "FETCH_HEAD", cwd=repo, env=env)
    for assignment, files in pages.items():
        folder = repo / "feedback" / assignment
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, content in files.items():
            (folder / name).write_bytes(content)
    git("add", "--all", "feedback", cwd=repo, env=env)
    staged = git("diff", "--cached", "--name-only", cwd=repo, env=env).stdout.split()
    changed = {Path(name).parts[1] for name in staged if len(Path(name).parts) > 2}
    if changed:
        name, email = parseaddr(author)
        git("-c", f"user.name={name or 'Course grader'}", "-c", f"user.email={email or 'grader@invalid'}",
            "commit", "--quiet", "--no-verify", "-m", "Feedback: " + ", ".join(sorted(changed)), cwd=repo, env=env)
    return changed


def feedback_files(course: Course, row: Collected) -> dict[str, bytes] | None:
    """File name -> content for ``feedback/<assignment>/``; None while the work awaits grading."""
    status = _grading_status(course, row.student, row.assignment)
    if row.status == Collection.PROBLEM:
        return {"README.md": _readme(course, row, None, "We could not collect this assignment from "
                                     f"your repository: {row.reason}\n", False).encode()}
    graded = already_graded(course, row.student, row.assignment)
    if not graded and status.get("status") not in (Status.QUARANTINED, Status.FAILED):
        return None
    files = {}
    notebook = course.assignment(row.assignment).notebook
    page = course.folder("feedback") / row.student / row.assignment / f"{notebook}.html"
    if graded and page.is_file():
        files[page.name] = page.read_bytes()
    summary = student_summary(course, row.student, [row.assignment])
    files["README.md"] = _readme(course, row, status, summary, page.name in files).encode()
    return files


def _grading_status(course: Course, student: str, assignment: str) -> dict:
    path = course.root / STATUS_FILE
    rows = json.loads(path.read_text()) if path.exists() else []
    return next((r for r in rows if r["student"] == student and r["assignment"] == assignment), {})


def _readme(course: Course, row: Collected, status: dict | None, body: str, page: bool) -> str:
    """The page a student reads first: what was graded, then the results."""
    lines = [f"# {row.assignment}: feedback", ""]
    if row.commit:
        lines.append(f"Graded commit: `{row.commit[:12]}`" + (f", dated {row.committed}" if row.committed else "")
                     + (f"; counted as handed in at {row.timestamp}." if row.timestamp else "."))
        lines.append("")
    if status and status.get("status") in (Status.QUARANTINED, Status.FAILED):
        lines += [f"This notebook could not be graded ({status['status']}): {status.get('reason', '')}", ""]
    notebook = course.assignment(row.assignment).notebook
    body = body.split("\n", 1)[1].lstrip("\n") if body.startswith("# Results for") else body
    lines += [body.rstrip(), ""]
    if page:
        lines.append(f"The full feedback, with every check's message, is in `{notebook}.html` next to "
                     "this file: download it and open it in a browser.")
    return "\n".join(lines).rstrip() + "\n"
