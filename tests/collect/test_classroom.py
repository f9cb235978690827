"""Collect, grade and return against real git repositories with file:// remotes.

A class of bare repositories is built: students with the kit's layout and with one notebook at
the top, one without a notebook, one with an unexpected layout, one whose notebook is broken, one
who has not started (the released notebook untouched), and one whose repository does not exist.
The course (a fresh temporary copy) then runs the same commands as the course-side workflow,
through the command line: roster, collect, grade, feedback, return; then all of it again with
nothing changed, then again after one new push.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from classgrader.collect.git import git_environment
from classgrader.collect.roster import RosterEntry, write_roster
from classgrader.model.catalogue import load_catalogue
from classgrader.model.course import Course, temporary_course
from classgrader.model.notebooks import fill_from_solutions
from classgrader.model.status import COLLECTION_FILE, STATUS_FILE
from classgrader.release.release import release
from conftest import ASSIGNMENTS, COURSE

ASSIGNMENT = ASSIGNMENTS[0]
TOKEN = "tok-3b9f0c1e-never-written-anywhere"
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "Student", "GIT_AUTHOR_EMAIL": "student@example.org",
                "GIT_COMMITTER_NAME": "Student", "GIT_COMMITTER_EMAIL": "student@example.org"}


def _git(*args, cwd=None, env=None):
    completed = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                               env={**os.environ, **GIT_IDENTITY, **(env or {})}, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def _push(remotes: Path, github: str, files: dict[str, bytes | str], message: str, date: str | None = None,
          links: dict[str, str] | None = None) -> str:
    """Commit ``files`` (path -> content) into the student's repository; the commit's sha."""
    bare = remotes / f"{ASSIGNMENT}-{github}.git"
    if not bare.exists():
        _git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    work = remotes / f"work-{github}"
    if not work.exists():
        _git("clone", "--quiet", bare.as_uri(), str(work))
        _git("checkout", "--quiet", "-B", "main", cwd=work)
    for path, content in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        (work / path).write_bytes(data)
    for path, target in (links or {}).items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, work / path)
    _git("add", "--all", cwd=work)
    dated = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
    _git("commit", "--quiet", "-m", message, cwd=work, env=dated)
    _git("push", "--quiet", "origin", "main", cwd=work)
    return _git("rev-parse", "HEAD", cwd=work)


def _classgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "classgrader", "--course", str(root), *args],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "CLASSROOM_TOKEN": TOKEN})


def _rows(root: Path, name: str) -> dict[str, dict]:
    return {r["student"]: r for r in json.loads((root / name).read_text())}


def _branch(remotes: Path, github: str, branch: str) -> str:
    bare = remotes / f"{ASSIGNMENT}-{github}.git"
    found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], cwd=bare,
                           capture_output=True, text=True)
    return found.stdout.strip()


def _show(remotes: Path, github: str, path: str) -> str:
    return _git("show", f"feedback:{path}", cwd=remotes / f"{ASSIGNMENT}-{github}.git")


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """A temporary course whose roster points at a class of bare repositories."""
    root = temporary_course(COURSE, [ASSIGNMENT])
    remotes = tmp_path_factory.mktemp("remotes")
    course = Course(root)
    assignment = course.assignment(ASSIGNMENT)
    release(course, [assignment])
    released = nbformat.read(course.release_notebook(assignment), as_version=4)
    perfect = nbformat.writes(fill_from_solutions(released, assignment.solutions_module))
    mistake = load_catalogue(assignment)[0]
    wrong = nbformat.writes(mistake.apply(fill_from_solutions(released, assignment.solutions_module)))
    notebook = f"{assignment.notebook}.ipynb"
    secret = course.root / "nbgrader_config.py"
    commits = {
        "alice": _push(remotes, "alice", {f"{ASSIGNMENT}/{notebook}": perfect, "README.md": "kit"},
                       "my work", date="2030-01-02T03:04:05+02:00",
                       links={f"{ASSIGNMENT}/config-copy.py": str(secret)}),
        "bob": _push(remotes, "bob", {notebook: wrong}, "first try"),
        "carol": _push(remotes, "carol", {"README.md": "nothing here yet"}, "start"),
        "dave": _push(remotes, "dave", {f"homework/{notebook}": perfect}, "elsewhere"),
        "frank": _push(remotes, "frank", {f"{ASSIGNMENT}/{notebook}": '{"cells": [ broken'}, "oops"),
        "gina": _push(remotes, "gina", {f"{ASSIGNMENT}/{notebook}": nbformat.writes(released)}, "template"),
    }
    students = ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
    roster = [RosterEntry(id=s, github=s, first_name=s.title(), last_name="Example", sis_user_id=f"S{i}")
              for i, s in enumerate(students)]
    write_roster(roster, root / "students.csv")
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.Classroom.url = {remotes.as_uri() + '/{assignment}-{github}.git'!r}\n")
    yield {"course": course, "remotes": remotes, "commits": commits, "perfect": perfect,
           "notebook": notebook, "mistake": mistake}
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def first_round(classroom):
    """roster, collect, grade, feedback, return: the outputs of each command."""
    root = classroom["course"].root
    done = {"roster": _classgrader(root, "roster"), "collect": _classgrader(root, "collect")}
    done["grade"] = _classgrader(root, "grade", "--jobs", "2")
    done["grade-accepting"] = _classgrader(root, "grade", "--jobs", "2", "--accept-failures")
    done["feedback"] = _classgrader(root, "feedback")
    done["return"] = _classgrader(root, "return", "--accept-failures")
    return done


@pytest.mark.xdist_group("classroom")
def test_collect_copies_work_with_commit_time_and_explains_what_it_cannot(classroom, first_round):
    from nbgrader.utils import parse_utc

    root, notebook = classroom["course"].root, classroom["notebook"]
    assert first_round["roster"].returncode == 0, first_round["roster"].stderr
    collected = first_round["collect"]
    assert collected.returncode == 3, "problems must make collect exit 3 without --accept-failures"
    assert "3 collected" in collected.stdout and "3 problem" in collected.stdout, collected.stdout
    rows = _rows(root, COLLECTION_FILE)
    for student in ("alice", "bob", "frank"):
        assert rows[student]["status"] == "collected", rows[student]
        assert (root / "submitted" / student / ASSIGNMENT / notebook).is_file()
    assert rows["alice"]["commit"] == classroom["commits"]["alice"]
    stamp = (root / "submitted" / "alice" / ASSIGNMENT / "timestamp.txt").read_text()
    assert parse_utc(stamp) == dt.datetime(2030, 1, 2, 1, 4, 5), "timestamp.txt must hold the commit time in UTC"
    assert not (root / "submitted" / "alice" / ASSIGNMENT / "config-copy.py").exists(), \
        "a symbolic link must never be followed into the course"
    assert "config-copy.py" in rows["alice"]["reason"]
    assert "no notebook" in rows["carol"]["reason"] and "README.md" not in rows["carol"]["reason"]
    assert "unexpected layout" in rows["dave"]["reason"] and f"homework/{notebook}" in rows["dave"]["reason"]
    assert "cannot collect" in rows["erin"]["reason"]
    assert rows["gina"]["status"] == "not started", "the untouched release is not handed in"
    for student in ("carol", "dave", "erin", "gina"):
        assert not (root / "submitted" / student).exists()


@pytest.mark.xdist_group("classroom")
def test_grade_exit_code_counts_quarantined_and_the_rest_is_graded(classroom, first_round):
    root = classroom["course"].root
    graded = first_round["grade"]
    assert graded.returncode == 3, graded.stdout + graded.stderr
    assert "1 quarantined" in graded.stdout and "2 graded" in graded.stdout, graded.stdout
    assert "--accept-failures" in graded.stderr
    assert first_round["grade-accepting"].returncode == 0, first_round["grade-accepting"].stderr
    status = _rows(root, STATUS_FILE)
    assert status["alice"]["status"] == "graded" and status["bob"]["status"] == "graded"
    assert status["frank"]["status"] == "quarantined"


@pytest.mark.xdist_group("classroom")
def test_return_pushes_feedback_branch_and_leaves_main_alone(classroom, first_round):
    remotes, notebook = classroom["remotes"], classroom["notebook"]
    returned = first_round["return"]
    assert returned.returncode == 0, returned.stdout + returned.stderr
    assert first_round["feedback"].returncode == 0, first_round["feedback"].stderr
    for student in ("alice", "bob", "carol", "dave", "frank"):
        assert _branch(remotes, student, "feedback"), f"{student} got no feedback branch"
        assert _branch(remotes, student, "main") == classroom["commits"][student], "main must not move"
    stem = notebook.removesuffix(".ipynb")
    assert "<html" in _show(remotes, "alice", f"feedback/{ASSIGNMENT}/{stem}.html").lower()
    alice = _show(remotes, "alice", f"feedback/{ASSIGNMENT}/README.md")
    assert classroom["commits"]["alice"][:12] in alice and "failed" not in alice
    bob = _show(remotes, "bob", f"feedback/{ASSIGNMENT}/README.md")
    assert "failed" in bob, "bob's catalogued mistake must show as a failed item"
    assert "unexpected layout" in _show(remotes, "dave", f"feedback/{ASSIGNMENT}/README.md")
    assert "quarantined" in _show(remotes, "frank", f"feedback/{ASSIGNMENT}/README.md")
    assert "problem    erin" in returned.stdout and "gina" not in returned.stdout
    assert not _branch(remotes, "gina", "feedback")


@pytest.mark.xdist_group("classroom")
def test_the_token_is_never_written_anywhere(classroom, first_round):
    places = [classroom["remotes"], classroom["course"].root]
    for place in places:
        for path in place.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert TOKEN.encode() not in path.read_bytes(), f"the token leaked into {path}"


@pytest.mark.xdist_group("classroom")
def test_nothing_changed_means_nothing_regraded_or_pushed_then_a_new_push_is(classroom, first_round):
    root, remotes, notebook = classroom["course"].root, classroom["remotes"], classroom["notebook"]
    handed_in = root / "submitted" / "alice" / ASSIGNMENT / notebook
    graded = root / "autograded" / "alice" / ASSIGNMENT / notebook
    before = (handed_in.stat().st_mtime_ns, graded.stat().st_mtime_ns)
    tips = {s: _branch(remotes, s, "feedback") for s in ("alice", "bob", "dave")}

    again = _classgrader(root, "collect", "--accept-failures", "--changed", str(root / "changed.txt"))
    assert again.returncode == 0 and "3 unchanged" in again.stdout, again.stdout + again.stderr
    assert (root / "changed.txt").read_text() == ""
    regrade = _classgrader(root, "grade", "--accept-failures")
    status = _rows(root, STATUS_FILE)
    assert regrade.returncode == 0 and status["alice"]["reason"] == "kept from an earlier run", status["alice"]
    assert status["bob"]["reason"] == "kept from an earlier run"
    assert (handed_in.stat().st_mtime_ns, graded.stat().st_mtime_ns) == before
    assert _classgrader(root, "feedback").returncode == 0
    back = _classgrader(root, "return", "--accept-failures")
    assert "returned" not in back.stdout.replace("returned (", ""), back.stdout
    assert {s: _branch(remotes, s, "feedback") for s in tips} == tips, "nothing new may be pushed"

    # Bob pushes a fix whose commit claims a date before the first collection.
    _push(remotes, "bob", {notebook: classroom["perfect"]}, "fixed", date="2001-01-01T00:00:00+00:00")
    fresh = _classgrader(root, "collect", "--accept-failures", "--changed", str(root / "changed.txt"))
    assert (root / "changed.txt").read_text() == f"bob/{ASSIGNMENT}\n", fresh.stdout
    rows = _rows(root, COLLECTION_FILE)
    assert rows["bob"]["status"] == "collected" and rows["alice"]["status"] == "unchanged"
    assert "counted as handed in then" in rows["bob"]["reason"]
    assert rows["bob"]["timestamp"] > "2001-01-02", "a backdated commit counts from the collection that missed it"
    regrade = _classgrader(root, "grade", "--accept-failures")
    status = _rows(root, STATUS_FILE)
    assert status["bob"]["status"] == "graded" and status["bob"]["reason"] != "kept from an earlier run"
    assert status["alice"]["reason"] == "kept from an earlier run"
    assert _classgrader(root, "feedback").returncode == 0
    back = _classgrader(root, "return", "--accept-failures")
    assert "returned   bob" in back.stdout and "up to date alice" in back.stdout, back.stdout
    assert "failed" not in _show(remotes, "bob", f"feedback/{ASSIGNMENT}/README.md")
    assert _branch(remotes, "alice", "feedback") == tips["alice"]
    _assert_one_submission_each(classroom["course"])


def _assert_one_submission_each(course: Course) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gradebook:
        submissions = [s.student.id for s in gradebook.find_assignment(ASSIGNMENT).submissions]
    assert sorted(submissions) == ["alice", "bob"], submissions


def test_credential_helper_answers_with_the_token_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLASSROOM_TOKEN", TOKEN)
    env = git_environment("CLASSROOM_TOKEN")
    assert TOKEN not in json.dumps({k: v for k, v in env.items() if k != "CLASSROOM_TOKEN"})
    completed = subprocess.run(["git", "credential", "fill"], input="protocol=https\nhost=github.com\n\n",
                               capture_output=True, text=True, env=env, timeout=30)
    assert completed.returncode == 0, completed.stderr
    assert f"password={TOKEN}" in completed.stdout and "username=x-access-token" in completed.stdout
    monkeypatch.delenv("CLASSROOM_TOKEN")
    assert "GIT_CONFIG_COUNT" not in git_environment("CLASSROOM_TOKEN")
