"""Crash-safe grading: a SIGKILL at any moment, then a resume, gives exactly the uninterrupted scores.

One small class (one assignment: perfect, blank and two catalogued mistakes) is graded
uninterrupted once (``grade --jobs 2``, then ``feedback``): the baseline. Then, each time in a fresh
copy of the same course, a run is killed with SIGKILL to its whole process group at a named phase
(tests/crash_support.py stops a grading process dead there): during sanitising, between two
executed cells, between two gradebook commits, or with the graded folder staged but not in place;
``classgrader check`` must name the interrupted submission; the resumed run is followed by a
feedback run killed while writing a page or with the page staged, and resumed too. In the end
every item of every submission must have exactly the baseline's scores, status and failure
message, every feedback page must be whole, every completion record must match, and the grader's
stage and the runs' private temporary folder (kernel folders included) must be empty. A record
that no longer matches is named by ``check`` and graded again. A shard is killed twice (the second
time while resuming), resumed and merged with the other shard, and the merge must equal the
baseline too. Plain ``nbgrader autograde``, killed between two cells, must leave no score that
looks final.

Which arrival at a phase is killed, and how long the other worker runs on before the kill, come
from a seed that is printed (``CLASSGRADER_CRASH_SEED=<seed>`` replays a run).
"""
from __future__ import annotations

import contextlib
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

import crash_support
from classgrader.demo.builder import BLANK, PERFECT, hand_in
from classgrader.demo.expectations import auto_scores
from classgrader.grade import completion, staging
from classgrader.model.catalogue import load_catalogue
from classgrader.model.course import Course, temporary_course, tool_environment
from classgrader.model.notebooks import autograded_items, error_messages, fill_from_solutions
from classgrader.model.status import STATUS_FILE
from classgrader.release.release import release
from conftest import ASSIGNMENTS, COURSE

pytestmark = pytest.mark.xdist_group("crash")

ASSIGNMENT = ASSIGNMENTS[0]
MISTAKES = 2
JOBS = "2"
SEED = int(os.environ.get("CLASSGRADER_CRASH_SEED") or random.SystemRandom().randrange(10**6))
#: The highest arrival at each phase that may be chosen, so that the run is still going when it
#: comes: with the whole class to grade, with a shard of two, and with maybe one left (the
#: notebook has 24 code cells and 10 grades).
LAST_ARRIVAL = {"sanitise": 3, "execute": 40, "gradebook": 20, "staged": 3, "feedback": 3, "feedback-staged": 3}
LAST_ARRIVAL_OF_TWO = {"sanitise": 2, "execute": 40, "gradebook": 20, "staged": 2}
LAST_ARRIVAL_OF_ONE = {"sanitise": 1, "execute": 24, "gradebook": 10, "staged": 1}
GRADING_PHASES = ("sanitise", "execute", "gradebook", "staged")


def _env(plan: str | None = None, tmpdir: Path | None = None) -> dict[str, str]:
    env = tool_environment()
    if tmpdir:
        env["TMPDIR"] = str(tmpdir)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(crash_support.__file__).parent),
                                                      env.get("PYTHONPATH")]))
    env.pop(crash_support.PLAN, None)
    if plan:
        env[crash_support.PLAN] = plan
    return env


def _classgrader(course: Course, *args: str, plan: str | None = None, tmpdir: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "classgrader", "--course", str(course.root), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=_env(plan, tmpdir))


def _run(course: Course, *args: str, tmpdir: Path | None = None) -> subprocess.CompletedProcess:
    process = _classgrader(course, *args, tmpdir=tmpdir)
    out, err = process.communicate(timeout=900)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _kill_at(course: Course, args: list[str], phase: str, rng: random.Random, folder: Path,
             last: dict[str, int] = LAST_ARRIVAL, tmpdir: Path | None = None) -> dict:
    """Start ``classgrader <args>``, SIGKILL its process group once it stops at ``phase``; what
    stopped there, with the events before."""
    folder.mkdir(parents=True, exist_ok=True)
    arrival = rng.randint(1, last[phase])
    linger = rng.uniform(0.0, 0.4)
    print(f"[seed {SEED}] {' '.join(args)}: kill at arrival {arrival} at {phase!r}, "
          f"{linger:.2f} s after it stops")
    process = _classgrader(course, *args, plan=f"{folder}|{phase}|{arrival}", tmpdir=tmpdir)
    paused = folder / "paused.json"
    deadline = time.monotonic() + 600
    while not paused.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not paused.exists():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"[seed {SEED}] the run never reached arrival {arrival} at {phase!r} "
                    f"(exit {process.returncode}):\n{out[-2000:]}\n{err[-2000:]}")
    time.sleep(linger)  # the other worker goes on meanwhile, to a moment of its own
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    crash_support.end_orphans(course.root)
    stopped = json.loads(paused.read_text())
    stopped["events"] = (folder / "events.log").read_text().splitlines()
    print(f"[seed {SEED}] killed {stopped['who']} at {phase!r} ({len(stopped['events'])} events before)")
    return stopped


def _state(course: Course) -> dict:
    """Everything grading decides, per submission: every item's scores, the late penalty, the
    status and every failure message."""
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(course.db_url) as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    key = (submission.student.id, assignment.name, notebook.name)
                    found[key] = {"penalty": notebook.late_submission_penalty,
                                  "grades": {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
                                             for g in notebook.grades}}
    statuses = {(r["student"], r["assignment"]): r["status"]
                for r in json.loads((course.root / STATUS_FILE).read_text())}
    for (student, assignment, name), entry in found.items():
        graded = course.folder("autograded") / student / assignment / f"{name}.ipynb"
        entry["messages"] = error_messages(nbformat.read(graded, as_version=4)) if graded.exists() else None
        entry["status"] = statuses.get((student, assignment))
    return found


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A scratch course with the pausing steps in its config, released, with the class handed in."""
    root = temporary_course(COURSE, [ASSIGNMENT])
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(crash_support.CONFIG)
    course = Course(root)
    lists = (course.config.Autograde.sanitize_preprocessors + course.config.Autograde.autograde_preprocessors
             + course.config.GenerateFeedback.preprocessors)
    for step in ("PauseSanitising", "PausingJudgedExecute", "PausingSaveAutoGrades", "PauseFeedback"):
        assert f"crash_support.{step}" in lists, f"the course's config no longer has the step {step} replaces"
    assignment = course.assignment(ASSIGNMENT)
    release(course, [assignment])
    released = nbformat.read(course.release_notebook(assignment), as_version=4)
    perfect = fill_from_solutions(released, assignment.solutions_module)
    hand_in(course, PERFECT, assignment, perfect)
    hand_in(course, BLANK, assignment, released)
    for mistake in load_catalogue(assignment)[:MISTAKES]:
        hand_in(course, mistake.student, assignment, mistake.apply(perfect))
    print(f"[seed {SEED}] kill moments come from CLASSGRADER_CRASH_SEED={SEED}")
    yield course
    shutil.rmtree(root, ignore_errors=True)


def _copy(template: Course, folder: Path) -> Course:
    shutil.copytree(template.root, folder)
    return Course(folder)


@pytest.fixture(scope="module")
def graded(template, tmp_path_factory) -> Course:
    """The class graded and given feedback without interruption (copy it before changing it)."""
    course = _copy(template, tmp_path_factory.mktemp("baseline") / "course")
    for args in (["grade", "--jobs", JOBS], ["feedback", "--jobs", JOBS]):
        done = _run(course, *args)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return course


@pytest.fixture(scope="module")
def baseline(graded) -> dict:
    state = _state(graded)
    assert len(state) == 2 + MISTAKES and all(e["messages"] is not None for e in state.values())
    return state


def _assert_same_grades(course: Course, baseline: dict) -> None:
    state = _state(course)
    assert set(state) == set(baseline), f"[seed {SEED}] lost or extra submissions"
    differ = {key: (state[key], baseline[key]) for key in baseline if state[key] != baseline[key]}
    assert not differ, f"[seed {SEED}] differs from the uninterrupted run (found, expected): {differ}"


def _assert_whole_and_equal(course: Course, baseline: dict) -> None:
    _assert_same_grades(course, baseline)
    for student, assignment, name in baseline:
        page = course.folder("feedback") / student / assignment / f"{name}.html"
        assert page.is_file() and page.read_text().rstrip().endswith("</html>"), f"{page} missing or cut"
        assert not completion.problems(course, student, assignment), (student, completion.problems(course, student, assignment))
    check = _run(course, "check")
    assert check.returncode == 0 and "every grading finished" in check.stdout, check.stdout
    assert staging.leftovers(course.root) == [], f"left in the stage: {staging.leftovers(course.root)}"
    assert staging.leftover_temporaries(course.root) == []


@pytest.fixture
def short_tmpdir():
    """A private temporary folder for the runs, on a short path (a Unix socket's path is short)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="cg-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize(("grading", "feedback"), [("sanitise", "feedback"), ("execute", "feedback-staged"),
                                                   ("gradebook", "feedback"), ("staged", "feedback-staged")])
def test_a_kill_at_any_phase_then_a_resume_gives_the_uninterrupted_scores(grading, feedback, template, baseline,
                                                                           tmp_path, short_tmpdir):
    """Also: the private temporary folder every run was given is empty in the end (kernel folders
    left by the kill included)."""
    rng = random.Random(f"{SEED}/{grading}/{feedback}")
    course = _copy(template, tmp_path / "course")

    stopped = _kill_at(course, ["grade", "--jobs", JOBS], grading, rng, tmp_path / "grading", tmpdir=short_tmpdir)
    print(f"[seed {SEED}] left in the temporary folder by the kill: {sorted(p.name for p in short_tmpdir.iterdir())}")
    assert staging.leftovers(course.root), "the killed workers' stages are gone before the next run"
    check = _run(course, "check", tmpdir=short_tmpdir)
    student = stopped["who"].split("/")[0]
    assert check.returncode == 1 and student in check.stdout, \
        f"[seed {SEED}] check did not name {student}, killed at {grading!r}:\n{check.stdout}"
    done = _run(course, "grade", "--jobs", JOBS, tmpdir=short_tmpdir)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    _assert_same_grades(course, baseline)

    stopped = _kill_at(course, ["feedback", "--jobs", JOBS], feedback, rng, tmp_path / "feedback", tmpdir=short_tmpdir)
    student, assignment = stopped["who"].split("/")
    name = course.assignment(assignment).notebook
    assert not (course.folder("feedback") / student / assignment / f"{name}.html").exists(), \
        "a feedback page appeared before it was finished"
    done = _run(course, "feedback", "--jobs", JOBS, tmpdir=short_tmpdir)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    _assert_whole_and_equal(course, baseline)
    assert sorted(p.name for p in short_tmpdir.iterdir()) == [], "left in the temporary folder"


def test_a_record_that_does_not_match_is_reported_and_graded_again(graded, baseline, tmp_path):
    """A changed score in the gradebook, an edited autograded notebook, a new hand-in: check names
    each, and the resume grades exactly those again (and keeps the others)."""
    from nbgrader.api import Gradebook

    course = _copy(graded, tmp_path / "course")
    assignment = course.assignment(ASSIGNMENT)
    students = sorted({student for student, _, _ in baseline})
    changed_score, edited_notebook, handed_in_again = students[:3]
    with Gradebook(course.db_url) as gradebook:
        notebook = gradebook.find_submission_notebook(assignment.notebook, ASSIGNMENT, changed_score)
        grade = completion.due(notebook)[0]
        grade.auto_score = 0.5 if grade.auto_score != 0.5 else 0.25
        gradebook.db.commit()
    path = course.folder("autograded") / edited_notebook / ASSIGNMENT / f"{assignment.notebook}.ipynb"
    path.chmod(0o644)
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("edited"))
    nbformat.write(nb, path)
    handed_in = course.folder("submitted") / handed_in_again / ASSIGNMENT / f"{assignment.notebook}.ipynb"
    handed_in.write_text(handed_in.read_text() + "\n")

    check = _run(course, "check")
    assert check.returncode == 1, check.stdout
    for student, words in ((changed_score, "scores"), (edited_notebook, "changed since it was graded"),
                           (handed_in_again, "handed in again")):
        assert any(student in line and words in line for line in check.stdout.splitlines()), (student, check.stdout)
    done = _run(course, "grade", "--jobs", JOBS)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    kept = {line.split()[1].split("/")[0] for line in done.stdout.splitlines() if "kept from an earlier run" in line}
    assert kept == set(students) - {changed_score, edited_notebook, handed_in_again}, done.stdout
    _assert_same_grades(course, baseline)
    check = _run(course, "check")
    assert check.returncode == 0, check.stdout


def test_a_shard_killed_twice_resumes_and_merges_to_the_uninterrupted_scores(template, baseline, tmp_path):
    rng = random.Random(f"{SEED}/shard")
    first, second = rng.sample(GRADING_PHASES, 2)
    one, two = _copy(template, tmp_path / "one"), _copy(template, tmp_path / "two")
    merged = _copy(template, tmp_path / "merged")
    artifacts = tmp_path / "artifacts"
    done = _run(two, "grade", "--jobs", JOBS, "--shard", "2/2", "--artifact", str(artifacts / "2"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    shard_one = ["grade", "--jobs", JOBS, "--shard", "1/2", "--artifact", str(artifacts / "1")]
    _kill_at(one, shard_one, first, rng, tmp_path / "plan-1", LAST_ARRIVAL_OF_TWO)
    refused = _run(merged, "merge", str(artifacts / "1"), str(artifacts / "2"), "--shards", "2")
    assert refused.returncode == 2 and "failed" in refused.stderr, refused.stderr
    _kill_at(one, shard_one, second, rng, tmp_path / "plan-2", LAST_ARRIVAL_OF_ONE)   # killed while resuming
    done = _run(one, *shard_one)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    done = _run(merged, "merge", str(artifacts / "1"), str(artifacts / "2"), "--shards", "2")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for args in (["feedback", "--jobs", JOBS],):
        done = _run(merged, *args)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # the merged course's status file holds both shards' outcomes
    _assert_whole_and_equal(merged, baseline)


def _nbgrader(course: Course, *args: str, plan: str | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=course.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, env=_env(plan))


def _auto_scores(course: Course, student: str) -> dict:
    """The autograder's score of every test cell of one submission."""
    items = autograded_items(nbformat.read(course.source_notebook(course.assignment(ASSIGNMENT)), as_version=4))
    scores = auto_scores(course, ASSIGNMENT, student)
    return {item: scores[item] for item in items}


def test_plain_nbgrader_interrupted_keeps_no_zero_that_looks_final(template, tmp_path):
    """Plain ``nbgrader autograde --force`` of a new hand-in, killed between two cells: the
    notebook and the gradebook say the grading did not finish, ``nbgrader export`` and the report
    give it no score (neither the old full marks nor a 0), ``classgrader check`` names it, and the
    next plain run grades it."""
    import csv

    course = _copy(template, tmp_path / "course")
    assignment = course.assignment(ASSIGNMENT)
    first = _nbgrader(course, "autograde", ASSIGNMENT)
    out, err = first.communicate(timeout=900)
    assert first.returncode == 0, out[-2000:] + err[-2000:]
    blank = _auto_scores(course, BLANK)
    assert set(_auto_scores(course, PERFECT).values()) - {0.0}, "the perfect hand-in scored nothing"

    # The perfect student hands in the blank notebook instead; regraded, and killed mid-way.
    hand_in(course, PERFECT, assignment, nbformat.read(course.release_notebook(assignment), as_version=4))
    plan = tmp_path / "plan"
    plan.mkdir()
    regrade = _nbgrader(course, "autograde", ASSIGNMENT, "--student", PERFECT, "--force",
                        plan=f"{plan}|execute|{random.Random(f'{SEED}/plain').randint(1, 20)}")
    deadline = time.monotonic() + 600
    while not (plan / "paused.json").exists() and regrade.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(regrade.pid, signal.SIGKILL)
    regrade.communicate()
    crash_support.end_orphans(course.root)
    assert (plan / "paused.json").exists(), "the regrade never reached a code cell"

    graded = course.folder("autograded") / PERFECT / ASSIGNMENT / f"{assignment.notebook}.ipynb"
    assert any("interrupted" in p for p in completion.notebook_problems(graded)), "the notebook does not say so"
    assert set(_auto_scores(course, PERFECT).values()) == {None}, "the gradebook keeps scores that look final"

    export = _nbgrader(course, "export")
    out, err = export.communicate(timeout=300)
    assert export.returncode == 0, out[-2000:] + err[-2000:]
    assert f"{PERFECT}/{ASSIGNMENT}" in err and "did not finish" in err
    with open(course.root / "grades.csv", newline="") as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle)}
    assert rows[PERFECT]["score"] == "" and rows[PERFECT]["raw_score"] == "", rows[PERFECT]
    assert float(rows[BLANK]["score"]) == 0.0 and all(rows[s]["score"] != "" for s in rows if s != PERFECT)

    report = _run(course, "report")
    assert report.returncode == 0, report.stdout[-2000:] + report.stderr[-2000:]
    text = (course.root / "reports" / "report.md").read_text()
    assert f"| {ASSIGNMENT} | {len(rows) - 1} |" in text, "the interrupted submission counts in the scores"
    assert f"| {PERFECT} | {ASSIGNMENT} | not graded |" in text

    check = _run(course, "check")
    assert check.returncode == 1 and f"{PERFECT}/{ASSIGNMENT}" in check.stdout and "interrupted" in check.stdout, \
        check.stdout

    again = _nbgrader(course, "autograde", ASSIGNMENT, "--student", PERFECT, "--force")
    out, err = again.communicate(timeout=900)
    assert again.returncode == 0, out[-2000:] + err[-2000:]
    assert _auto_scores(course, PERFECT) == blank
    assert not completion.notebook_problems(graded)
    check = _run(course, "check")
    assert check.returncode == 0, check.stdout
