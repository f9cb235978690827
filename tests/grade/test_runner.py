"""The runner's handling of a submission whose grading fails: the cause is named, and a failure of
the moment is tried once more in a new worker before it is reported.

The grading itself is replaced by a stand-in (the workers are forked, so they run it too): these
tests are about what the runner does with outcomes, not about nbgrader.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from classgrader.grade import runner
from classgrader.model.course import Course
from classgrader.model.status import Status

#: What nbgrader's API returns for a conversion that raised: the cause, then nbgrader's wrapper.
NBGRADER_LOG = """[AutogradeApp | ERROR] There was an error processing assignment: /c/submitted/ann/02
[AutogradeApp | ERROR] Traceback (most recent call last):
  File "nbgrader/converters/base.py", line 409, in convert_notebooks
    self.convert_single_notebook(notebook_filename)
sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked
[AutogradeApp | ERROR] nbgrader.converters.base.NbGraderException: Please see the the above traceback for details.
"""


def test_a_failure_is_summarised_by_its_cause_not_by_nbgraders_wrapper():
    reason = runner._summarise_error({"log": NBGRADER_LOG, "error": ""})
    assert reason.startswith("sqlalchemy.exc.OperationalError") and "database is locked" in reason
    only_wrapper = "nbgrader.converters.base.NbGraderException: Please see the above traceback"
    assert runner._summarise_error({"log": only_wrapper}) == only_wrapper


class _Stage:
    def close(self) -> None:
        pass

    def clear(self) -> None:
        pass


def _fake_grading(task):
    """A stand-in for one task: 'flaky' fails on its first try only, 'broken' on every try (the
    tries are counted in files under $RUNNER_TEST_TRIES, which the forked workers share)."""
    _, assignment, student = task
    marker = Path(os.environ["RUNNER_TEST_TRIES"]) / f"{student}-{assignment}"
    count = int(marker.read_text()) + 1 if marker.exists() else 1
    marker.write_text(str(count))
    if student == "broken" or (student == "flaky" and count == 1):
        return runner.Outcome(student, assignment, Status.FAILED, f"RuntimeError: try {count}")
    return runner.Outcome(student, assignment, Status.GRADED)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failed_task_is_tried_once_more_and_a_second_failure_says_so(tmp_path, monkeypatch, capsys, jobs):
    tries = tmp_path / "tries"
    tries.mkdir()
    (tmp_path / "nbgrader_config.py").write_text("")   # a course folder; nothing in it is read
    monkeypatch.setenv("RUNNER_TEST_TRIES", str(tries))
    monkeypatch.setattr(runner, "_run_task", _fake_grading)
    monkeypatch.setattr(runner, "_init_worker", lambda root: setattr(runner, "_STAGE", _Stage()))
    tasks = [("autograde", "01", student) for student in ("ann", "flaky", "broken", "bob")]
    outcomes = runner.run_tasks(Course(tmp_path), tasks, jobs, "autograde")
    assert [(o.student, o.status) for o in outcomes] == [
        ("ann", Status.GRADED), ("flaky", Status.GRADED), ("broken", Status.FAILED), ("bob", Status.GRADED)]
    assert outcomes[2].reason == "failed twice: RuntimeError: try 2"
    assert {p.name: p.read_text() for p in tries.iterdir()} == {
        "ann-01": "1", "flaky-01": "2", "broken-01": "2", "bob-01": "1"}, "only failures are tried again"
    assert "flaky/01: failed once (RuntimeError: try 1); graded on a second try" in capsys.readouterr().err
