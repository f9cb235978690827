"""The adversarial corpus (tests/adversarial/corpus.toml) through the course's grade command.

All attacks, a perfect and a blank student are handed in to a scratch course and graded together
by ``python -m classgrader grade`` (what ``make grade`` runs), with the sandbox on. Then, for
every attack: no points gained, the expected status and flag, no leak marker in any output, no
file written outside the submission, no connection to the test's loopback server; and the
ordinary students are graded normally.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import nbformat
import pytest

from classgrader.model.catalogue import load_catalogue
from classgrader.model.course import Course, temporary_course
from classgrader.demo.builder import hand_in
from classgrader.release.release import release
from classgrader.model.notebooks import (autograded_items, fill_from_solutions, is_autograded_test, nbgrader_meta,
                                   replace_definition)
from conftest import COURSE

CORPUS = tomllib.loads((Path(__file__).parent / "adversarial" / "corpus.toml").read_text())["attack"]
ASSIGNMENT = "01-derivatives"
#: Strings that only the protected files contain; none may appear in any graded output.
LEAK_MARKERS = ["BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "Reference solutions for assignment 1",
                "classgrader-canary-7f3a", "Forward difference approximation of f'(x)."]
#: The scratch course grades faster with a shorter cell timeout (the endless loops wait for it).
TEST_SETTINGS = "\nc.Execute.timeout = 8\nc.GuardedExecute.notebook_budget = 120\n"


class _Listener:
    """A loopback TCP server that records whether anybody connected."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.server.close()


def _build(course: Course, attack: dict, port: int) -> None:
    assignment = course.assignment(ASSIGNMENT)
    released = nbformat.read(course.release_notebook(assignment), as_version=4)
    perfect = fill_from_solutions(released, assignment.solutions_module)
    base = attack["base"]
    if base == "blank":
        nb = released
    elif base == "perfect":
        nb = perfect
    else:
        mistake = {m.id: m for m in load_catalogue(assignment)}[base.split(":", 1)[1]]
        nb = mistake.apply(perfect)
    code = attack["code"].replace("{port}", str(port))
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    if "replace" in attack:
        nb = replace_definition(nb, attack["replace"], code)
    elif "append_to" in attack:
        cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == attack["append_to"])
        cell.source = cell.source.rstrip("\n") + "\n\n" + code.strip("\n") + "\n"
    elif "test_cell" in attack:
        cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == attack["test_cell"])
        cell.source = code.strip("\n")
        if attack.get("cell_type") == "markdown":
            cell.cell_type = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    hand_in(course, attack["id"], assignment, nb)


@pytest.fixture(scope="module")
def graded_corpus():
    root = temporary_course(COURSE, [ASSIGNMENT])
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(TEST_SETTINGS)
    (root / "secret-canary.txt").write_text("classgrader-canary-7f3a")
    course = Course(root)
    listener = _Listener()
    try:
        release(course, [course.assignment(ASSIGNMENT)])
        assignment = course.assignment(ASSIGNMENT)
        released = nbformat.read(course.release_notebook(assignment), as_version=4)
        hand_in(course, "perfect", assignment, fill_from_solutions(released, assignment.solutions_module))
        hand_in(course, "blank", assignment, released)
        for attack in CORPUS:
            _build(course, attack, listener.port)
        completed = subprocess.run([sys.executable, "-m", "classgrader", "--course", str(root), "grade",
                                    "--jobs", "2"], capture_output=True, text=True, timeout=1500)
        status = {(r["student"], r["assignment"]): r for r in json.loads((root / "grading-status.json").read_text())}
        scores = _scores(course)
        yield {"course": course, "completed": completed, "status": status, "scores": scores,
               "connections": listener.connections,
               "max": sum(autograded_items(released).values())}
    finally:
        listener.close()
        shutil.rmtree(root, ignore_errors=True)
        Path("/tmp/classgrader-pwned.txt").unlink(missing_ok=True)


def _scores(course: Course) -> dict[str, float]:
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(course.db_url) as gradebook:
        for student in gradebook.students:
            try:
                submission = gradebook.find_submission(ASSIGNMENT, student.id)
            except MissingEntry:
                continue
            scores[student.id] = sum(n.score for n in submission.notebooks)
    return scores


def test_corpus_has_twenty_attacks_with_unique_ids():
    ids = [a["id"] for a in CORPUS]
    assert len(ids) >= 20 and len(set(ids)) == len(ids)


@pytest.mark.xdist_group("adversarial")
def test_grade_command_finishes_and_ordinary_students_are_graded_normally(graded_corpus):
    completed = graded_corpus["completed"]
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    status = graded_corpus["status"]
    assert status[("perfect", ASSIGNMENT)]["status"] == "graded"
    assert status[("blank", ASSIGNMENT)]["status"] == "graded"
    assert graded_corpus["scores"]["perfect"] == graded_corpus["max"]
    assert graded_corpus["scores"]["blank"] == 0
    assert len(status) == len(CORPUS) + 2, "every submission must have a status"


@pytest.mark.xdist_group("adversarial")
@pytest.mark.parametrize("attack", CORPUS, ids=[a["id"] for a in CORPUS])
def test_attack_gains_nothing_and_reaches_nothing(graded_corpus, attack):
    course = graded_corpus["course"]
    outcome = graded_corpus["status"][(attack["id"], ASSIGNMENT)]
    assert outcome["status"] in attack["status"], f"{outcome['status']}: {outcome['reason']}"
    score = graded_corpus["scores"].get(attack["id"], 0.0)
    assert score <= attack["max_score"], f"the trick gained points: {score} > {attack['max_score']}"
    assert score >= attack.get("min_score", 0), f"legitimate work lost points: {score}"
    if attack.get("flagged"):
        assert outcome["flags"], "the submission should be flagged for review"
    graded = course.folder("autograded") / attack["id"] / ASSIGNMENT / "derivatives.ipynb"
    if graded.exists():
        # Outputs of the student's own cells: test cells legitimately quote the restored hidden
        # tests in their tracebacks (instructor-side; feedback strips them).
        notebook = nbformat.read(graded, as_version=4)
        text = json.dumps([c.get("outputs", []) for c in notebook.cells if not is_autograded_test(c)])
        for marker in LEAK_MARKERS:
            assert marker not in text, f"protected content leaked into the output: {marker!r}"
        assert graded.stat().st_size <= attack.get("max_notebook_bytes", 5_000_000)
    for path in attack.get("writes", []):
        target = Path(path) if Path(path).is_absolute() else course.root / path
        assert not target.exists(), f"the submission wrote outside its folder: {target}"
    if attack.get("network"):
        assert graded_corpus["connections"] == 0, "the submission reached the network"
