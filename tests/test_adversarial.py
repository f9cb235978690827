"""The adversarial corpus (every tests/adversarial/*.toml) through both ways of grading.

All attacks, a perfect and a blank student are handed in to two scratch courses and graded: one
by ``python -m classgrader grade`` (what ``make grade`` runs), one by plain ``nbgrader autograde``
with the course's nbgrader_config.py; feedback is generated for both. The scratch course's hidden
tests carry canaries (a comment and an expected value that no student could compute from what
the kernel receives). Then, for every attack and both courses: no points gained over its base, the
exact loss where the entry says so, no canary, hidden test line or protected marker in any output
or feedback page, no file written outside the submission, no connection; and, for the grade
command, the expected status and flag.
"""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from classgrader.demo.builder import hand_in
from classgrader.model.catalogue import load_catalogue
from classgrader.model.course import Course, temporary_course, tool_environment
from classgrader.model.notebooks import (autograded_items, fill_from_solutions, is_autograded_test,
                                         nbgrader_meta, replace_definition)
from classgrader.model.status import STATUS_FILE
from classgrader.release.release import release
from conftest import COURSE

HERE = Path(__file__).parent / "adversarial"
CORPUS = [attack for path in sorted(HERE.glob("*.toml"))
          for attack in tomllib.loads(path.read_text())["attack"]]
ASSIGNMENT = "01-derivatives"
#: Strings that only protected files contain; none may appear in any output or feedback page.
LEAK_MARKERS = ["BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "Reference solutions for assignment 1",
                "classgrader-canary-7f3a", "Forward difference approximation of f'(x)."]
#: A hidden check planted in the scratch course: its comment and expected value are canaries.
CANARY_COMMENT = "classgrader-canary-hidden-5e1d"
CANARY_VALUE = "219.9114857"
CANARY_TEST = f'''
# {CANARY_COMMENT}
from classgrader.checks import result_float as _canary_float
_canary_expected = 31.41592653589793 * 7
_canary_got = _canary_float(forward_difference(lambda t: 3.0 * t, 1.0, 0.5), "forward_difference")
assert abs(_canary_got * 73.30382858376184 - _canary_expected) < 1e-6, "the canary check failed"
'''
#: The scratch courses grade faster with a shorter cell timeout and a shorter grace after an
#: interrupt (the endless loops wait for them); the timeout still leaves the slowest cell of the
#: corpus (output-flood's test, under 2 s on a loaded machine) four times the time it needs.
TEST_SETTINGS = "\nc.Execute.timeout = 8\nc.JudgedExecute.interrupt_grace = 5\nc.JudgedExecute.notebook_budget = 180\n"
WAYS = ("grade-command", "plain-nbgrader")


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


def _plant_canary(root: Path) -> None:
    """Add the canary check to the hidden block of the first test cell of the scratch source."""
    path = next((root / "source" / ASSIGNMENT).glob("*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if is_autograded_test(c))
    cell.source = cell.source.replace("### END HIDDEN TESTS", CANARY_TEST.strip("\n") + "\n### END HIDDEN TESTS", 1)
    nbformat.write(nb, path)


def _base(course: Course, attack: dict) -> tuple[nbformat.NotebookNode, frozenset[str]]:
    """The hand-in an attack starts from, and the items that base loses on its own."""
    assignment = course.assignment(ASSIGNMENT)
    released = nbformat.read(course.release_notebook(assignment), as_version=4)
    perfect = fill_from_solutions(released, assignment.solutions_module)
    kind = attack["base"]
    if kind == "blank":
        return released, frozenset(autograded_items(released))
    if kind == "perfect":
        return perfect, frozenset()
    mistake = {m.id: m for m in load_catalogue(assignment)}[kind.split(":", 1)[1]]
    return mistake.apply(perfect), frozenset(mistake.loses)


def _append(nb: nbformat.NotebookNode, grade_id: str, code: str) -> None:
    cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == grade_id)
    cell.source = cell.source.rstrip("\n") + "\n\n" + code.strip("\n") + "\n"


def _build(course: Course, attack: dict, port: int) -> None:
    nb, _ = _base(course, attack)
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    code = attack.get("code", "").replace("{port}", str(port))
    if "replace" in attack:
        nb = replace_definition(nb, attack["replace"], code)
    elif "append_to" in attack:
        _append(nb, attack["append_to"], code)
    elif "test_cell" in attack:
        cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == attack["test_cell"])
        cell.source = code.strip("\n")
        if attack.get("cell_type") == "markdown":
            cell.cell_type = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    for grade_id, more in attack.get("also_append", {}).items():
        _append(nb, grade_id, more)
    assignment = course.assignment(ASSIGNMENT)
    hand_in(course, attack["id"], assignment, nb)
    for relative, text in attack.get("files", {}).items():
        target = course.folder("submitted") / attack["id"] / ASSIGNMENT / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("{port}", str(port)))


def _scratch(listener: _Listener) -> Course:
    root = temporary_course(COURSE, [ASSIGNMENT])
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(TEST_SETTINGS)
    (root / "secret-canary.txt").write_text("classgrader-canary-7f3a")
    _plant_canary(root)
    course = Course(root)
    release(course, [course.assignment(ASSIGNMENT)])
    assignment = course.assignment(ASSIGNMENT)
    released = nbformat.read(course.release_notebook(assignment), as_version=4)
    hand_in(course, "perfect", assignment, fill_from_solutions(released, assignment.solutions_module))
    hand_in(course, "blank", assignment, released)
    for attack in CORPUS:
        _build(course, attack, listener.port)
    return course


def _run(course: Course, way: str) -> subprocess.CompletedProcess:
    if way == "grade-command":
        # The corpus holds hand-ins that must be quarantined: accepting that, the command exits 0.
        done = subprocess.run([sys.executable, "-m", "classgrader", "--course", str(course.root), "grade",
                               "--jobs", "2", "--accept-failures"], cwd=course.root, capture_output=True,
                              text=True, timeout=1500, env=tool_environment())
    else:
        # Plain nbgrader, as an instructor runs it; two processes, each for half of the class (by the
        # first letter of the student id), share the machine's two cores.
        halves = [subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force",
                                    f"--student={pattern}"], cwd=course.root, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=tool_environment())
                  for pattern in ("[a-l]*", "[!a-l]*")]
        outputs = [half.communicate(timeout=1500) for half in halves]
        done = subprocess.CompletedProcess(halves[0].args, max(h.returncode for h in halves),
                                           "".join(o for o, _ in outputs), "".join(e for _, e in outputs))
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", ASSIGNMENT, "--force"],
                   cwd=course.root, capture_output=True, text=True, timeout=900, env=tool_environment())
    return done


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


def _hidden_lines(course: Course) -> list[str]:
    """Distinctive lines of the hidden tests (long enough not to occur by chance)."""
    nb = nbformat.read(course.source_notebook(course.assignment(ASSIGNMENT)), as_version=4)
    lines = []
    for cell in nb.cells:
        if is_autograded_test(cell):
            block = re.search(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S)
            lines += [ln.strip() for ln in block.group(1).splitlines() if len(ln.strip()) >= 30]
    return lines


@pytest.fixture(scope="module")
def graded_corpus():
    listener = _Listener()
    courses = {}
    try:
        results = {}
        for way in WAYS:
            # One way after the other: graded at once, the two ways (four grading processes next to
            # the suite's other worker) made the output flood outlast its test's timeout.
            course = courses[way] = _scratch(listener)
            completed = _run(course, way)
            status_file = course.root / STATUS_FILE
            status = {(r["student"], r["assignment"]): r for r in json.loads(status_file.read_text())} \
                if status_file.exists() else {}
            results[way] = {"course": course, "completed": completed, "status": status,
                            "scores": _scores(course), "hidden": _hidden_lines(course)}
        yield {"ways": results, "connections": listener.connections}
    finally:
        listener.close()
        for course in courses.values():
            shutil.rmtree(course.root, ignore_errors=True)
        Path("/tmp/classgrader-pwned.txt").unlink(missing_ok=True)


def test_corpus_ids_are_unique_and_every_entry_says_what_it_tries():
    ids = [a["id"] for a in CORPUS]
    assert len(ids) >= 40 and len(set(ids)) == len(ids)
    assert all(a.get("description") and a.get("status") for a in CORPUS)


@pytest.mark.xdist_group("adversarial")
@pytest.mark.parametrize("way", WAYS)
def test_ordinary_students_are_graded_normally(graded_corpus, way):
    result = graded_corpus["ways"][way]
    course = result["course"]
    released = nbformat.read(course.release_notebook(course.assignment(ASSIGNMENT)), as_version=4)
    full = sum(autograded_items(released).values())
    assert result["scores"]["perfect"] == full, result["completed"].stderr[-3000:]
    assert result["scores"]["blank"] == 0
    if way == "grade-command":
        assert result["status"][("perfect", ASSIGNMENT)]["status"] == "graded"
        assert len(result["status"]) == len(CORPUS) + 2, "every submission must have a status"


def _no_process_with(marker: str) -> list[int]:
    """PIDs on this machine whose command line holds ``marker`` (the test's own excepted)."""
    from grade.kernel_support import processes_with

    return processes_with(marker)


def _expected(course: Course, attack: dict) -> tuple[float, float | None]:
    """(the most the attack may score, the exact score when the entry fixes it)."""
    items = autograded_items(nbformat.read(course.source_notebook(course.assignment(ASSIGNMENT)), as_version=4))
    _, lost_by_base = _base(course, attack)
    base = sum(p for item, p in items.items() if item not in lost_by_base)
    if "loses_from" in attack:
        order = list(items)
        lost = set(order[order.index(attack["loses_from"]):]) | lost_by_base
        return base, sum(p for item, p in items.items() if item not in lost)
    if "loses" in attack:
        lost = set(attack["loses"]) | lost_by_base
        return base, sum(p for item, p in items.items() if item not in lost)
    return base, None


def _outputs(course: Course, student: str) -> str:
    """Every output of the autograded notebook (the student's cells and the judge's verdicts)."""
    graded = course.folder("autograded") / student / ASSIGNMENT / "derivatives.ipynb"
    if not graded.exists():
        return ""
    return json.dumps([c.get("outputs", []) for c in nbformat.read(graded, as_version=4).cells])


class _LiveMarkup(HTMLParser):
    """What of an HTML text a browser would act on: each tag with its attributes, and the code
    inside script elements (text that merely shows markup, like ``&lt;script&gt;``, is not)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.parts.append(f"<{tag}" + "".join(f' {k}="{v}"' for k, v in attrs) + ">")
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.parts[-1] += data


def _live(html: str) -> str:
    parser = _LiveMarkup()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.parts)


def _live_outputs(course: Course, student: str) -> str:
    """The live markup of the autograded notebook's HTML outputs, and its JavaScript outputs."""
    graded = course.folder("autograded") / student / ASSIGNMENT / "derivatives.ipynb"
    if not graded.exists():
        return ""
    found = []
    for cell in nbformat.read(graded, as_version=4).cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            found.append(_live("".join(data.get("text/html", ""))))
            found.append("".join(data.get("application/javascript", "")))
    return "\n".join(found)


def _feedback(course: Course, student: str) -> str:
    page = course.folder("feedback") / student / ASSIGNMENT / "derivatives.html"
    return page.read_text(errors="replace") if page.exists() else ""


@pytest.mark.xdist_group("adversarial")
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("attack", CORPUS, ids=[a["id"] for a in CORPUS])
def test_attack_gains_nothing_reveals_nothing_reaches_nothing(graded_corpus, attack, way):
    result = graded_corpus["ways"][way]
    course = result["course"]
    most, exact = _expected(course, attack)
    score = result["scores"].get(attack["id"], 0.0)
    if "limitation" not in attack:   # a documented limit of the design (README): only flagged
        assert score <= most, f"the trick gained points: {score} > {most}"
        if exact is not None:
            assert score == exact, f"expected exactly {exact} points, got {score}"
    outputs, feedback = _outputs(course, attack["id"]), _feedback(course, attack["id"])
    for secret in LEAK_MARKERS:
        assert secret not in outputs, f"protected content leaked into an output: {secret!r}"
    # The feedback page also shows the student's own code, which may quote the solutions'
    # docstrings; what must never be there is the hidden tests' code or what they expect.
    for secret in [CANARY_COMMENT, CANARY_VALUE, *result["hidden"]]:
        assert secret not in outputs and secret not in feedback, f"a hidden test leaked: {secret!r}"
    for text in attack.get("must_not_print", []):
        assert text not in outputs and text not in feedback, f"the submission printed what it must not learn: {text!r}"
    live = _live(feedback) + "\n" + _live_outputs(course, attack["id"])
    for text in attack.get("feedback_must_not_contain", []):
        assert text not in live, f"unsafe content reached the page as live markup: {text!r}"
    if attack.get("leaves_no_process"):
        assert not _no_process_with(attack["leaves_no_process"]), "a process of the submission outlived it"
    for path in attack.get("writes", []):
        target = Path(path) if Path(path).is_absolute() else course.root / path
        assert not target.exists(), f"the submission wrote outside its folder: {target}"
    if attack.get("network"):
        assert graded_corpus["connections"] == 0, "a submission reached the loopback server"
    if way == "grade-command":
        outcome = result["status"][(attack["id"], ASSIGNMENT)]
        assert outcome["status"] in attack["status"], f"{outcome['status']}: {outcome['reason']}"
        assert attack.get("reason", "") in outcome["reason"], f"the reason given: {outcome['reason']}"
        if attack.get("flagged") or "limitation" in attack:
            assert outcome["flags"], "the submission should be flagged for review"
