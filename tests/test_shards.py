"""Grading in shards and merging, with real processes, against one unsharded run.

One class is graded three ways, each in its own copy of the course (as separate CI jobs would):
unsharded; shard 1/2; shard 2/2. The two shard artifacts are merged into a fresh course. The merged
gradebook must hold exactly the unsharded scores, merging again must change nothing, and a
missing shard or a student graded in two shards must be refused by name.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from classgrader.model.course import temporary_course
from classgrader.demo.builder import hand_in
from classgrader.model.catalogue import load_catalogue
from classgrader.model.course import Course
from classgrader.model.notebooks import fill_from_solutions
from classgrader.release.release import release
from conftest import ASSIGNMENTS, COURSE


def _run(root, *args):
    return subprocess.run([sys.executable, "-m", "classgrader", "--course", str(root), *args],
                          capture_output=True, text=True, timeout=900)


def _item_scores(course: Course) -> dict:
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(course.db_url) as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        found[(submission.student.id, assignment.name, grade.name)] = (
                            grade.auto_score, grade.manual_score, grade.needs_manual_grade)
    return found


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    roots = {name: temporary_course(COURSE, ASSIGNMENTS[:1]) for name in ("whole", "one", "two", "merged")}
    first = Course(roots["whole"])
    assignment = first.assignments()[0]
    release(first, [assignment])
    released = nbformat.read(first.release_notebook(assignment), as_version=4)
    perfect = fill_from_solutions(released, assignment.solutions_module)
    hand_in(first, "perfect", assignment, perfect)
    hand_in(first, "blank", assignment, released)
    for mistake in load_catalogue(assignment)[:3]:
        hand_in(first, mistake.student, assignment, mistake.apply(perfect))
    for name in ("one", "two"):
        shutil.copytree(roots["whole"] / "submitted", roots[name] / "submitted")
    artifacts = tmp_path_factory.mktemp("artifacts")
    yield {name: Course(root) for name, root in roots.items()}, artifacts
    for root in roots.values():
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.xdist_group("shards")
def test_sharded_and_merged_equals_unsharded_and_merge_is_idempotent(courses):
    course, artifacts = courses
    assert _run(course["whole"].root, "grade", "--jobs", "1").returncode == 0
    for k, name in ((1, "one"), (2, "two")):
        completed = _run(course[name].root, "release")
        assert completed.returncode == 0, completed.stderr
        completed = _run(course[name].root, "grade", "--jobs", "1", "--shard", f"{k}/2",
                         "--artifact", str(artifacts / f"shard-{k}"))
        assert completed.returncode == 0, completed.stdout + completed.stderr
    one = json.loads((artifacts / "shard-1" / "shard.json").read_text())["students"]
    two = json.loads((artifacts / "shard-2" / "shard.json").read_text())["students"]
    assert one and two and not set(one) & set(two)

    merged = course["merged"]
    first = _run(merged.root, "merge", str(artifacts / "shard-1"), str(artifacts / "shard-2"), "--shards", "2")
    assert first.returncode == 0, first.stdout + first.stderr
    expected = _item_scores(course["whole"])
    assert expected and _item_scores(merged) == expected
    grades = (merged.root / "grades.csv").read_text()
    for student in one + two:
        assert (merged.folder("autograded") / student).is_dir()

    again = _run(merged.root, "merge", str(artifacts / "shard-1"), str(artifacts / "shard-2"), "--shards", "2")
    assert again.returncode == 0, again.stderr
    assert _item_scores(merged) == expected
    assert (merged.root / "grades.csv").read_text() == grades


@pytest.mark.xdist_group("shards")
def test_missing_shard_and_double_graded_student_are_refused(courses):
    course, artifacts = courses
    merged = course["merged"]
    if not (artifacts / "shard-1" / "shard.json").exists():
        pytest.skip("needs the shard artifacts of the test before it (same xdist group)")
    missing = _run(merged.root, "merge", str(artifacts / "shard-1"), "--shards", "2")
    assert missing.returncode == 2 and "shard 2/2 is missing" in missing.stderr

    impostor = artifacts / "impostor"
    shutil.copytree(artifacts / "shard-1", impostor)
    manifest = json.loads((impostor / "shard.json").read_text())
    manifest["shard"] = 2
    (impostor / "shard.json").write_text(json.dumps(manifest))
    double = _run(merged.root, "merge", str(artifacts / "shard-1"), str(impostor), "--shards", "2")
    assert double.returncode == 2 and "was graded in shard 1 and in shard 2" in double.stderr

    failed = _run(merged.root, "merge", str(artifacts / "shard-1"), str(artifacts / "no-such-shard"), "--shards", "2")
    assert failed.returncode == 2 and "no-such-shard" in failed.stderr and "failed" in failed.stderr
