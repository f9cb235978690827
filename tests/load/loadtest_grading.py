"""``make loadtest``: a big class graded the way an instructor's machine sees it, killed half-way
and resumed, on the SQLite gradebook and on PostgreSQL. Not part of ``make test`` (it takes tens of
minutes); run it with ``make loadtest [LOADTEST_SIZE=400] [LOADTEST_JOBS=6]``.

For each gradebook: the demo class of every assignment (perfect, blank, the source notebook,
every catalogued mistake) is handed in, and copied under new student ids until there are at least
``LOADTEST_SIZE`` submissions. ``classgrader grade --jobs LOADTEST_JOBS`` runs until a seeded share
of the submissions is complete, then its whole process group gets SIGKILL; ``classgrader check``
must report the submissions in flight; the same command resumes. Then the figures: rows expected
against rows found (submissions, grade rows, scored test cells, completion records), the wall
times, and whether every submission got exactly what the demo class says it must (a copy exactly
what its original got). The figures are printed and written to ``test-artifacts/loadtest-<db>.json``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from classgrader.demo.builder import build_class
from classgrader.demo.expectations import read_result
from classgrader.grade import completion, staging
from classgrader.grade.runner import Outcome
from classgrader.model.course import REPO_ROOT, Course, temporary_course, tool_environment
from classgrader.model.notebooks import autograded_items, nbgrader_meta
from classgrader.model.status import STATUS_FILE
from classgrader.release.release import release
from conftest import COURSE
from crash_support import end_orphans
from test_postgres import _ensure_server_programs, _private_cluster

SIZE = int(os.environ.get("LOADTEST_SIZE") or 400)
#: Only these assignments (comma-separated; default all): a quick try of the load test itself.
ONLY = [name for name in os.environ.get("LOADTEST_ASSIGNMENTS", "").split(",") if name]
JOBS = int(os.environ.get("LOADTEST_JOBS") or 6)
SEED = int(os.environ.get("LOADTEST_SEED") or random.SystemRandom().randrange(10**6))


def _class(course: Course) -> list:
    """The demo class with the source notebook, copied under new ids up to SIZE submissions."""
    release(course, course.assignments())
    original = build_class(course, course.assignments(), with_source=True, with_broken=False)
    everyone, copy = list(original), 1
    submitted = course.folder("submitted")
    while len(everyone) < SIZE:
        copy += 1
        for e in original:
            student = f"{e.student}-copy{copy}"
            shutil.copytree(submitted / e.student / e.assignment, submitted / student / e.assignment)
            everyone.append(dataclasses.replace(e, student=student))
    return everyone


def _grade(course: Course) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "classgrader", "--course", str(course.root), "grade",
                             "--jobs", str(JOBS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=tool_environment())


def _rows(course: Course, expectations: list) -> dict:
    """Rows expected against rows found in the gradebook, and complete completion records."""
    from nbgrader.api import Grade, Gradebook, SubmittedAssignment

    per_assignment = {}
    for a in course.assignments():
        source = nbformat.read(course.source_notebook(a), as_version=4)
        per_assignment[a.name] = (sum(1 for c in source.cells if nbgrader_meta(c).get("grade")),
                                  len(autograded_items(source)))
    with Gradebook(course.db_url) as gradebook:
        found_submissions = gradebook.db.query(SubmittedAssignment).count()
        found_grades = gradebook.db.query(Grade).count()
        unfinished = completion.unfinished_submissions(gradebook)
        scored = sum(1 for a in gradebook.assignments for s in a.submissions for n in s.notebooks
                     for g in completion.due(n) if g.auto_score is not None)
        complete = sum(1 for e in expectations
                       if not completion.problems(course, e.student, e.assignment, gradebook))
    return {
        "submissions": [len(expectations), found_submissions],
        "grade rows": [sum(per_assignment[e.assignment][0] for e in expectations), found_grades],
        "scored test cells": [sum(per_assignment[e.assignment][1] for e in expectations), scored],
        "complete records": [len(expectations), complete],
        "unfinished in the gradebook": [0, len(unfinished)],
    }


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_big_class_killed_half_way_resumes_with_every_row(database, tmp_path):
    root = temporary_course(COURSE, ONLY or None)
    server = contextlib.nullcontext(None)
    if database == "postgresql":
        server = _private_cluster(_ensure_server_programs())
    try:
        with server as db_url:
            if db_url:
                with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
                    config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
            course = Course(root)
            _run_load(course, database)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run_load(course: Course, database: str) -> None:
    rng = random.Random(f"{SEED}/{database}")
    expectations = _class(course)
    n = len(expectations)
    kill_at = int(n * rng.uniform(0.3, 0.5))
    print(f"\n[{database}] {n} submissions over {len(course.assignments())} assignments, {JOBS} workers; "
          f"kill once {kill_at} are complete (LOADTEST_SEED={SEED})")
    records = course.root / completion.RECORDS

    started = time.perf_counter()
    first = _grade(course)
    while first.poll() is None and len(list(records.glob("*/*.json"))) < kill_at:
        time.sleep(0.5)
    assert first.poll() is None, "the run finished before it could be killed"
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate()
    killed_after = time.perf_counter() - started
    orphans = end_orphans(course.root)
    done_at_kill = len(list(records.glob("*/*.json")))

    check = subprocess.run([sys.executable, "-m", "classgrader", "--course", str(course.root), "check"],
                           capture_output=True, text=True, timeout=1800, env=tool_environment())
    in_flight = [line for line in check.stdout.splitlines() if line and not line.startswith("note:")][:-1]
    assert check.returncode == 1, "check found nothing unfinished right after the kill:\n" + check.stdout[-3000:]

    resumed_at = time.perf_counter()
    second = _grade(course)
    out, err = second.communicate(timeout=6 * 3600)
    resume_seconds = time.perf_counter() - resumed_at
    assert second.returncode in (0, 3), out[-3000:] + err[-3000:]
    kept = out.count("kept from an earlier run")

    statuses = {(r["student"], r["assignment"]): r for r in json.loads((course.root / STATUS_FILE).read_text())}
    wrong = []
    for e in expectations:
        result = read_result(course, e, Outcome(**statuses[(e.student, e.assignment)]))
        if not result.ok:
            wrong.append(f"{e.student}/{e.assignment}: {'; '.join(result.problems)}")
    rows = _rows(course, expectations)
    check = subprocess.run([sys.executable, "-m", "classgrader", "--course", str(course.root), "check"],
                           capture_output=True, text=True, timeout=1800, env=tool_environment())
    figures = {
        "database": database, "submissions": n, "workers": JOBS, "cores": os.cpu_count(), "seed": SEED,
        "killed after s": round(killed_after, 1), "complete at the kill": done_at_kill,
        "check after the kill: problems": len(in_flight), "kernels left running by the kill": orphans,
        "resume wall time s": round(resume_seconds, 1), "kept by the resume": kept,
        "total wall time s": round(killed_after + resume_seconds, 1),
        "rows (expected, found)": rows, "submissions not as the demo class says": len(wrong),
        "check after the resume": check.stdout.strip().splitlines()[-1],
        "left in the stage": len(staging.leftovers(course.root)),
    }
    print(json.dumps(figures, indent=1))
    out_dir = REPO_ROOT / "test-artifacts"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"loadtest-{database}.json").write_text(json.dumps(figures, indent=1) + "\n")
    assert not wrong, "\n".join(wrong[:20])
    assert all(expected == found for expected, found in rows.values()), rows
    assert check.returncode == 0, check.stdout[-3000:]
    assert figures["left in the stage"] == 0
