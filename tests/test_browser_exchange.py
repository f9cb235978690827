"""The exchange life cycle in the browser: JupyterLab's Assignment List, then the formgrader.

1. The instructor releases the first assignment into an exchange outside the course folder (the
   course's ``nbgrader_config.py`` pointed elsewhere, as on a JupyterHub).
2. A student (dana: the OS user ``jovyan`` with ``JUPYTERHUB_USER=dana``, in the student kit's
   environment) opens JupyterLab, opens *Nbgrader > Assignment List*, presses *Fetch*, answers
   the notebook (written to the fetched file), and presses *Submit*.
3. The instructor collects and grades with the course's grader, then opens the submission in the
   formgrader (served by a JupyterLab from the course folder, as an instructor runs it) and types
   the written answer's points into it.
4. Those points are in the gradebook, in ``nbgrader export``'s grades.csv, and in
   ``classgrader report``'s Canvas CSV and report.

Debian's chromium drives both pages through Playwright (see browser_support).
Screenshots go to ``test-artifacts/screenshots/``.
"""
from __future__ import annotations

import csv
import pwd
import re
import shutil
import time

import nbformat
import pytest

from browser_support import (answered, chromium_context, ensure_chromium, ensure_playwright,
                             jupyter_lab)
from classgrader.model.course import REPO_ROOT, Course, temporary_course
from exchange_support import (ACCOUNT, Student, ensure_student_account, instructor, require,
                              shared_folder)
from student_env import require_student_env

pytestmark = pytest.mark.xdist_group("student-kit")

COURSE = Course(REPO_ROOT)
ASSIGNMENT = COURSE.assignments()[0]
NAME, NOTEBOOK = ASSIGNMENT.name, f"{ASSIGNMENT.notebook}.ipynb"
STUDENT = "dana"
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"


def _written_cells(nb) -> dict[str, float]:
    return {c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"]) for c in nb.cells
            if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")}


@pytest.fixture(scope="module")
def setting():
    require(ensure_chromium, ensure_playwright, ensure_student_account)
    kit_env = require_student_env()
    course = Course(temporary_course(COURSE, [NAME]))
    shared = shared_folder("hub-")
    try:
        exchange = shared / "exchange"   # "a shared, writable folder" on a hub
        with open(course.root / "nbgrader_config.py", "a") as config:
            config.write(f"\nc.Exchange.root = {str(exchange)!r}   # the hub's shared exchange\n")
        course = Course(course.root)
        instructor(course.root, "classgrader", "--course", str(course.root), "release")
        instructor(course.root, "nbgrader", "release_assignment", NAME)
        # the roster (students.csv) puts the student in the gradebook and in canvas.csv
        (course.root / "students.csv").write_text(
            f"id,first_name,last_name,sis_user_id\n{STUDENT},Dana,Scully,{STUDENT}\n", encoding="utf-8")
        instructor(course.root, "classgrader", "--course", str(course.root), "roster")
        student = Student.create(shared / "home", STUDENT, course.coursedir().course_id,
                                 exchange, kit_env.python)
        yield dict(course=course, exchange=exchange, student=student, kit_env=kit_env)
    finally:
        shutil.rmtree(course.root, ignore_errors=True)
        shutil.rmtree(shared, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(setting, tmp_path_factory):
    with chromium_context(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


def _assignment_list(page, server):
    page.goto(f"{server.base}/lab?reset&token={server.token}", wait_until="domcontentloaded",
              timeout=120_000)
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click(timeout=120_000)
    page.locator("#jp-mainmenu-nbgrader .lm-Menu-item").filter(
        has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Assignment List$"))).click()
    page.wait_for_selector("#released_assignments_list", timeout=60_000)


def _item(page, listing: str, text: str):
    return page.locator(f"#{listing} .list_item").filter(has_text=text)


def test_student_fetches_and_submits_in_the_assignment_list(setting, browser, tmp_path_factory):
    student = setting["student"]
    scratch = student.home / "lab"
    config_dir = scratch / "jupyter-config"
    config_dir.mkdir(parents=True)
    shutil.copy(student.home / ".jupyter" / "nbgrader_config.py", config_dir / "nbgrader_config.py")
    account = pwd.getpwnam(ACCOUNT)
    with jupyter_lab(student.work, scratch, python=str(setting["kit_env"].python),
                     as_user=(account.pw_uid, account.pw_gid), base_env=student.env()) as server:
        page = browser.new_page()
        try:
            _assignment_list(page, server)
            released = _item(page, "released_assignments_list", NAME)
            released.wait_for(timeout=60_000)
            page.screenshot(path=str(SCREENSHOTS / "exchange-assignment-list.png"))
            released.get_by_role("button", name="Fetch").click()
            fetched = _item(page, "fetched_assignments_list", NAME)
            fetched.wait_for(timeout=60_000)
            notebook = student.work / NAME / NOTEBOOK
            assert notebook.is_file(), f"Fetch did not put {NOTEBOOK} in the student's folder"
            assert notebook.stat().st_uid == account.pw_uid, "the fetched notebook is not the student's"

            # the student's work (as if typed in): every answer, written ones included
            nbformat.write(answered(nbformat.read(notebook, as_version=4), ASSIGNMENT.solutions_module),
                           notebook)
            fetched.get_by_role("button", name="Submit").click()
            _item(page, "submitted_assignments_list", NAME).wait_for(timeout=60_000)
            page.screenshot(path=str(SCREENSHOTS / "exchange-submitted.png"))
        finally:
            page.close()
    inbound = sorted((setting["exchange"] / setting["course"].coursedir().course_id / "inbound").iterdir())
    assert [p.name.split("+")[:2] for p in inbound] == [[STUDENT, NAME]], (
        f"the exchange's inbound holds {[p.name for p in inbound]}: the submission is not dana's")


def _score_input_saved(course, student, grade_id, expected, timeout=30.0) -> float | None:
    from nbgrader.api import Gradebook

    deadline = time.monotonic() + timeout
    while True:
        with Gradebook(course.db_url) as gradebook:
            notebook = gradebook.find_submission_notebook(ASSIGNMENT.notebook, NAME, student)
            score = next(g.manual_score for g in notebook.grades if g.name == grade_id)
        if score == expected or time.monotonic() > deadline:
            return score
        time.sleep(0.5)


def test_instructor_gives_points_in_the_formgrader_and_they_reach_the_reports(setting, browser,
                                                                               tmp_path_factory):
    from nbgrader.api import Gradebook

    course = setting["course"]
    inbound = setting["exchange"] / course.coursedir().course_id / "inbound"
    if not any(inbound.glob(f"{STUDENT}+*")):
        pytest.fail("nothing was submitted through the Assignment List (see the test before)")
    instructor(course.root, "nbgrader", "collect", NAME, "--CollectApp.check_owner=False")
    instructor(course.root, "classgrader", "--course", str(course.root), "grade")
    source = nbformat.read(course.source_notebook(ASSIGNMENT), as_version=4)
    written = _written_cells(source)
    assert written, f"{NAME} has no written answer to grade by hand"
    grade_id, points = next(iter(written.items()))

    with Gradebook(course.db_url) as gradebook:
        submission = gradebook.find_submission_notebook(ASSIGNMENT.notebook, NAME, STUDENT)
        submission_id, auto_total = submission.id, submission.score
        assert submission.needs_manual_grade, "the written answer does not wait for a person"

    scratch = tmp_path_factory.mktemp("formgrader")
    with jupyter_lab(course.root, scratch) as server:
        page = browser.new_page()
        # the formgrader's own requests carry the server's token (a URL token logs in one page only)
        page.set_extra_http_headers({"Authorization": f"token {server.token}"})
        try:
            # the page's script loads the grades, then binds each score box to its grade
            with page.expect_response(lambda r: "/formgrader/api/grades" in r.url, timeout=120_000):
                page.goto(f"{server.base}/formgrader/submissions/{submission_id}/",
                          wait_until="domcontentloaded", timeout=120_000)
            box = page.locator(f"input.score#{grade_id}")
            box.wait_for(timeout=60_000)
            page.wait_for_load_state("load")
            with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url
                                      and r.request.method == "PUT", timeout=60_000) as put:
                box.fill(f"{points:g}")
                box.press("Tab")   # the formgrader saves a score when its box changes
            assert put.value.ok, f"the formgrader could not save the score: HTTP {put.value.status}"
            saved = _score_input_saved(course, STUDENT, grade_id, points)
            page.screenshot(path=str(SCREENSHOTS / "exchange-formgrader.png"))
        finally:
            page.close()
    assert saved == points, f"the formgrader saved {saved!r} for {grade_id}, typed {points:g}"

    total = auto_total + points
    instructor(course.root, "nbgrader", "export")
    with open(course.root / "grades.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["student_id"] == STUDENT)
    assert float(row["score"]) == pytest.approx(total), f"grades.csv: {row}"

    instructor(course.root, "classgrader", "--course", str(course.root), "report")
    with open(course.root / "reports" / "canvas.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index(NAME)
    possible = next(r for r in rows if r[0] == "Points Possible")
    dana = next(r for r in rows if r[2] == STUDENT)
    assert float(dana[column]) == pytest.approx(total), f"canvas.csv: {rows}"
    assert float(possible[column]) == pytest.approx(sum(
        float(c.metadata.nbgrader["points"]) for c in source.cells
        if c.metadata.get("nbgrader", {}).get("grade"))), f"canvas.csv points possible: {possible}"
    report = (course.root / "reports" / "report.md").read_text()
    assert re.search(rf"\| {re.escape(NAME)} \| 1 \| {total:.1f} / ", report), report
