"""The whole nbgrader life cycle through the course's exchange, with three students.

release_assignment -> fetch_assignment -> submit -> collect -> the course's grader
(``python -m classgrader grade``, behind ``make grade``) -> generate_feedback -> release_feedback
-> fetch_feedback, with the real nbgrader commands on a scratch copy of the course whose
``nbgrader_config.py`` is the course's own (so the exchange is its course-local default).

* alice answers everything and submits once;
* bob first submits the notebook untouched, then answered: the later submission is the one
  collected and graded;
* carol answers everything but submits after the due date the instructor set in the gradebook:
  the course's late penalty (a tenth of the notebook's points per started day) is applied and
  ``nbgrader export`` subtracts it.

Each student is a JupyterHub user as container-based hubs make them (see exchange_support): the
OS user ``jovyan`` with a home, a working folder and ``JUPYTERHUB_USER`` of their own.
"""
from __future__ import annotations

import csv
import datetime
import shutil

import nbformat
import pytest

from browser_support import WRITTEN_ANSWER, answered
from classgrader.model.course import REPO_ROOT, Course, temporary_course
from classgrader.model.notebooks import autograded_items
from exchange_support import Student, ensure_student_account, instructor, require, shared_folder
from student_env import require_student_env

# with the kit's tests: one worker builds the student environment once for all of them
pytestmark = pytest.mark.xdist_group("student-kit")

COURSE = Course(REPO_ROOT)
ASSIGNMENT = COURSE.assignments()[0]
NAME, NOTEBOOK = ASSIGNMENT.name, f"{ASSIGNMENT.notebook}.ipynb"
STUDENTS = {"alice": ("Alice", "Liddell"), "bob": ("Bob", "Dylan"), "carol": ("Carol", "Danvers")}


def _inbound(exchange, course_id):
    return sorted(p.name for p in (exchange / course_id / "inbound").iterdir())


@pytest.fixture(scope="module")
def life_cycle():
    """Run the whole life cycle once; every test below reads what it left behind."""
    require(ensure_student_account)
    kit_env = require_student_env()
    course = Course(temporary_course(COURSE, [NAME]))
    homes = shared_folder("exchange-homes-")
    try:
        course.root.chmod(0o711)   # students reach the exchange inside it, and see nothing else
        course_id = course.coursedir().course_id
        exchange = course.root / "exchange"
        assert course.config.Exchange.root == str(exchange), "the exchange is not the course-local default"
        students = {name: Student.create(homes, name, course_id, exchange, kit_env.python)
                    for name in STUDENTS}
        log = {}

        # the instructor releases the assignment and enrols the class
        instructor(course.root, "classgrader", "--course", str(course.root), "release")
        log["release"] = instructor(course.root, "nbgrader", "release_assignment", NAME)
        roster = course.root / "students.csv"
        roster.write_text("id,first_name,last_name\n" + "".join(
            f"{name},{first},{last}\n" for name, (first, last) in STUDENTS.items()))
        instructor(course.root, "nbgrader", "db", "student", "import", str(roster))

        # a student sees it released; every student fetches it
        log["list"] = students["alice"].nbgrader("list")
        for student in students.values():
            student.nbgrader("fetch_assignment", NAME)
        fetched = {name: nbformat.read(s.work / NAME / NOTEBOOK, as_version=4)
                   for name, s in students.items()}
        full = answered(fetched["alice"], ASSIGNMENT.solutions_module)

        # alice answers and submits; bob submits twice, untouched first
        nbformat.write(full, students["alice"].work / NAME / NOTEBOOK)
        students["alice"].nbgrader("submit", NAME)
        students["bob"].nbgrader("submit", NAME)
        first_bob = _inbound(exchange, course_id)
        nbformat.write(full, students["bob"].work / NAME / NOTEBOOK)
        students["bob"].nbgrader("submit", NAME)

        # the due date passes (set in the gradebook), then carol submits
        due = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        instructor(course.root, "nbgrader", "db", "assignment", "add", NAME, f"--duedate={due}")
        nbformat.write(full, students["carol"].work / NAME / NOTEBOOK)
        students["carol"].nbgrader("submit", NAME)
        inbound = _inbound(exchange, course_id)

        # collect (every hand-in belongs to the OS user jovyan here, hence no owner check),
        # grade with the course's grader, return feedback
        log["collect"] = instructor(course.root, "nbgrader", "collect", NAME,
                                    "--CollectApp.check_owner=False")
        log["grade"] = instructor(course.root, "classgrader", "--course", str(course.root), "grade")
        instructor(course.root, "nbgrader", "generate_feedback", NAME)
        instructor(course.root, "nbgrader", "release_feedback", NAME)
        for name, student in students.items():
            log[f"fetch_feedback-{name}"] = student.nbgrader("fetch_feedback", NAME)
        instructor(course.root, "nbgrader", "export")
        yield dict(course=course, students=students, exchange=exchange, course_id=course_id,
                   log=log, inbound=inbound, first_bob=first_bob, due=due, full=full)
    finally:
        shutil.rmtree(course.root, ignore_errors=True)
        shutil.rmtree(homes, ignore_errors=True)


def _submission(course, student):
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gradebook:
        submission = gradebook.find_submission(NAME, student)
        notebook = submission.notebooks[0]
        return dict(score=submission.score, penalty=submission.late_submission_penalty,
                    late=submission.total_seconds_late, timestamp=submission.timestamp,
                    auto={g.name: g.auto_score for g in notebook.grades},
                    max_score=notebook.max_score)


def test_students_see_and_fetch_the_released_assignment(life_cycle):
    course_id = life_cycle["course_id"]
    outbound = life_cycle["exchange"] / course_id / "outbound" / NAME
    assert (outbound / NOTEBOOK).is_file(), f"release_assignment put nothing in {outbound}"
    listed = life_cycle["log"]["list"]
    assert f"{course_id} {NAME}" in listed.stdout + listed.stderr, (
        f"alice: nbgrader list does not show the released assignment:\n{listed.stderr}")
    for name, student in life_cycle["students"].items():
        folder = student.work / NAME
        released = sorted(p.name for p in outbound.iterdir())
        assert sorted(p.name for p in folder.iterdir() if p.name != "feedback") == released, (
            f"{name} fetched {sorted(p.name for p in folder.iterdir())}, released {released}")
        assert (student.home / ".local" / "share" / "jupyter" / "nbgrader_cache" / course_id).is_dir(), (
            f"{name}'s submissions are not cached in their own home")


def test_every_submission_is_named_after_its_student(life_cycle):
    names = [entry.split("+")[0] for entry in life_cycle["inbound"]]
    assert sorted(names) == ["alice", "bob", "bob", "carol"], life_cycle["inbound"]


def test_the_later_of_two_submissions_is_collected_and_graded(life_cycle):
    course = life_cycle["course"]
    bob = sorted(e for e in life_cycle["inbound"] if e.startswith("bob+"))
    first = next(e for e in life_cycle["first_bob"] if e.startswith("bob+"))
    latest = next(e for e in bob if e != first)
    collected = course.folder("submitted") / "bob" / NAME
    assert (collected / "timestamp.txt").read_text() == latest.split("+")[2], (
        f"collected bob's submission of {(collected / 'timestamp.txt').read_text()}, "
        f"the latest is {latest.split('+')[2]}")
    items = autograded_items(life_cycle["full"])
    graded = _submission(course, "bob")
    assert graded["auto"].keys() >= items.keys()
    lost = [i for i, points in items.items() if (graded["auto"][i] or 0) < points]
    assert not lost, f"bob's answered (second) submission lost {lost}: the first one was graded"


def test_on_time_submissions_have_no_penalty(life_cycle):
    items = autograded_items(life_cycle["full"])
    for name in ("alice", "bob"):
        graded = _submission(life_cycle["course"], name)
        assert graded["late"] == 0 and not graded["penalty"], f"{name}: {graded}"
        assert graded["score"] == pytest.approx(sum(items.values())), f"{name}: {graded}"


def test_the_late_submission_gets_the_course_penalty(life_cycle):
    course = life_cycle["course"]
    graded = _submission(course, "carol")
    assert graded["late"] > 0, f"carol submitted after the due date {life_cycle['due']}: {graded}"
    fraction = course.config.LatePenalty.fraction_per_day
    days = -(-graded["late"] // 86400)
    expected = min(graded["score"], days * fraction * graded["max_score"])
    assert expected > 0
    assert graded["penalty"] == pytest.approx(expected), f"carol: {graded}"

    with open(course.root / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(STUDENTS)
    assert float(rows["carol"]["late_submission_penalty"]) == pytest.approx(expected)
    assert float(rows["carol"]["score"]) == pytest.approx(graded["score"] - expected)
    assert float(rows["alice"]["score"]) == pytest.approx(graded["score"])
    assert rows["carol"]["first_name"] == "Carol"


def test_the_grader_graded_every_collected_submission(life_cycle):
    out = life_cycle["log"]["grade"].stdout
    for name in STUDENTS:
        assert f"graded       {name}/{NAME}" in out or f"{name}/{NAME}" in out, out
    assert "3 graded" in out, out


def test_students_fetch_feedback_for_their_graded_submission_only(life_cycle):
    for name, student in life_cycle["students"].items():
        feedback = student.work / NAME / "feedback"
        pages = sorted(feedback.glob(f"*/{ASSIGNMENT.notebook}.html"))
        collected = (life_cycle["course"].folder("submitted") / name / NAME / "timestamp.txt").read_text()
        assert [p.parent.name for p in pages] == [collected], (
            f"{name} fetched feedback for {[p.parent.name for p in pages]}, graded submission of "
            f"{collected}:\n{life_cycle['log'][f'fetch_feedback-{name}'].stderr[-2000:]}")
        html = pages[0].read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in html and "from classgrader.checks import" not in html
        if name == "carol":
            assert "late" in html.lower(), "carol's feedback does not mention the late penalty"


def test_written_answers_wait_for_a_person(life_cycle):
    from nbgrader.api import Gradebook

    with Gradebook(life_cycle["course"].db_url) as gradebook:
        notebook = gradebook.find_submission_notebook(ASSIGNMENT.notebook, NAME, "alice")
        waiting = [g.name for g in notebook.grades if g.needs_manual_grade]
    written = [c.metadata.nbgrader["grade_id"] for c in life_cycle["full"].cells
               if c.cell_type == "markdown" and c.source == WRITTEN_ANSWER]
    assert written and sorted(waiting) == sorted(written), (waiting, written)
