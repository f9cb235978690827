"""The demo class's canvas.csv, read back with the rules of Canvas's gradebook importer
(:mod:`canvas_rules`), with hand-graded points, a mapped title and a name with a comma; and the
roster's import into the gradebook.
"""
from __future__ import annotations

import shutil

import nbformat
import pytest

from classgrader.collect.roster import import_roster, read_roster, write_roster
from classgrader.demo.demo import demo_roster_path, run
from classgrader.model.course import Course, CourseError, temporary_course
from classgrader.model.notebooks import autograded_items, nbgrader_meta
from classgrader.report.report import write_report
from canvas_rules import TITLE_AND_ID, canvas_import
from conftest import ASSIGNMENTS, COURSE

ASSIGNMENT = ASSIGNMENTS[0]
CANVAS_TITLE = "Derivatives (48213)"
@pytest.fixture(scope="module")
def demo_class():
    """The demo class of one assignment (two mistakes), with its roster and one student's
    written answers graded by hand, in a temporary course."""
    root = temporary_course(COURSE, [ASSIGNMENT])
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.CanvasExport.titles = {{{ASSIGNMENT!r}: {CANVAS_TITLE!r}, 'no-such': 'X'}}\n")
    course = Course(root)
    try:
        results = run(course, course.assignments(), jobs=2, feedback=False, mistakes=2)
        roster = read_roster(demo_roster_path(course))
        renamed = [e if e.id != "perfect" else type(e)(**{**e.__dict__, "last_name": "King, Jr."}) for e in roster]
        import_roster(course, write_roster(renamed, demo_roster_path(course)))
        _grade_written_answers_fully(course, "perfect")
        report = write_report(course, roster=demo_roster_path(course))
        yield course, results, renamed, report
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _full_points(course: Course) -> tuple[float, float]:
    """All points of the source notebook's grade cells, and the autograded ones."""
    nb = nbformat.read(course.source_notebook(course.assignment(ASSIGNMENT)), as_version=4)
    every = sum(float(nbgrader_meta(c)["points"]) for c in nb.cells if nbgrader_meta(c).get("grade"))
    return every, sum(autograded_items(nb).values())


def _grade_written_answers_fully(course: Course, student: str) -> None:
    from nbgrader.api import Gradebook

    notebook = course.assignment(ASSIGNMENT).notebook
    with Gradebook(course.db_url) as gradebook:
        for grade in gradebook.find_submission_notebook(notebook, ASSIGNMENT, student).grades:
            if grade.cell.cell_type == "markdown":  # the written answers
                grade.manual_score = grade.max_score
        gradebook.db.commit()


def test_demo_canvas_csv_passes_the_importer_rules(demo_class):
    course, results, roster, report = demo_class
    found = canvas_import(course.root / "reports" / "canvas.csv")
    every, autograded = _full_points(course)
    assert every > autograded, "assignment 1 has hand-graded points: the test needs them"
    assert found["titles"] == [CANVAS_TITLE] and TITLE_AND_ID.match(CANVAS_TITLE).group(2) == "48213"
    assert found["points"] == {CANVAS_TITLE: every}, "Points Possible must include hand-graded points"
    assert sorted(found["students"]) == sorted(e.sis_user_id for e in roster), "each roster student once"
    by_id = {e.id: e for e in roster}
    perfect = found["students"][by_id["perfect"].sis_user_id]
    assert perfect["name"] == "King, Jr., Demo" and perfect["login"] == by_id["perfect"].sis_login_id
    assert perfect["scores"] == {CANVAS_TITLE: every}, "auto plus hand-graded points: all of them"
    blank = found["students"][by_id["blank"].sis_user_id]
    assert blank["scores"] == {CANVAS_TITLE: 0}
    mistaken = [r for r in results if r.expectation.kind == "mistake"]
    for result in mistaken:
        got = found["students"][by_id[result.expectation.student].sis_user_id]["scores"][CANVAS_TITLE]
        assert got == result.score < autograded, result.expectation.student
    text = report.read_text()
    assert "'no-such'" in text, "a title for an unknown assignment must be reported"


def test_canvas_import_rules_catch_a_bad_file(tmp_path):
    bad = tmp_path / "canvas.csv"
    bad.write_text("Student,ID,SIS User ID,SIS Login ID,Section,A\nPoints Possible,,,,,10\nX,,S1,,,12\n")
    with pytest.raises(AssertionError, match="12 of 10"):
        canvas_import(bad)
    bad.write_text("Student,ID,SIS User ID,SIS Login ID,A\nPoints Possible,,,,10\n")
    with pytest.raises(AssertionError, match="Section"):
        canvas_import(bad)


def test_report_without_a_roster_writes_no_canvas_csv_and_says_why(demo_class, tmp_path):
    course = demo_class[0]
    report = write_report(course, out=tmp_path, roster=tmp_path / "absent.csv")
    assert not (tmp_path / "canvas.csv").exists()
    assert "there is no roster" in report.read_text()


def test_roster_problems_are_all_reported_and_nothing_is_imported(demo_class, tmp_path):
    from nbgrader.api import Gradebook

    course = demo_class[0]
    bad = tmp_path / "students.csv"
    bad.write_text("id,github,first_name\nann,ann-gh,Ann\nann,bad_name!,Ann\n../x,,Z\n")
    with Gradebook(course.db_url) as gradebook:
        before = sorted(s.id for s in gradebook.students)
    with pytest.raises(CourseError) as err:
        import_roster(course, bad)
    message = str(err.value)
    assert "id 'ann' appears twice" in message and "'bad_name!' is not a GitHub user name" in message
    assert "line 4" in message and "'../x'" in message
    with Gradebook(course.db_url) as gradebook:
        assert sorted(s.id for s in gradebook.students) == before
    bad.write_text("name,github\nAnn,ann\n")
    with pytest.raises(CourseError, match="at least 'id'"):
        read_roster(bad)


def test_roster_import_fills_the_gradebook_through_nbgrader(demo_class, tmp_path):
    from nbgrader.api import Gradebook

    course = demo_class[0]
    roster = tmp_path / "students.csv"
    roster.write_bytes("\ufeffid , github,first_name,last_name,email,sis_user_id,lms_user_id\n"
                       "zoe,zoe-gh,Zoë,Ångström,zoe@example.org,S-77,4411\n".encode("utf-8"))
    entries = import_roster(course, roster)
    assert [e.sortable_name for e in entries] == ["Ångström, Zoë"]
    with Gradebook(course.db_url) as gradebook:
        zoe = gradebook.find_student("zoe")
        assert (zoe.first_name, zoe.last_name, zoe.email, zoe.lms_user_id) == \
            ("Zoë", "Ångström", "zoe@example.org", "4411")
