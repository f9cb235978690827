"""Per-student variants of the hidden tests (issue 22).

What each part proves:

* the unit tests: seeds are HMAC-derived (same student, same seed; another student, secret or item,
  another seed), the secret is found in the environment or the configured file and a bad file is a
  clear error, strict mode refuses to grade without a secret; ``for_all`` draws the same inputs for
  a seed and other inputs for another seed, shrinks a failure to a small input with the same
  diagnosis and names it with what was expected and what came back;
* ``test_sweep_*``: the sweep itself notices a submission that loses the wrong items (so its
  "no mismatch" in ``make sweep`` means something), on a few seeds;
* ``test_graded_*`` (real nbgrader, through the course's preprocessors): two students with the same
  hand-in get different seeds and draw different inputs; catalogued mistakes lose exactly their
  items under two different secrets; a failed item's feedback names the (shrunk) input; a replay
  reproduces the grade, and refuses another secret.
"""
from __future__ import annotations

import shutil
import sys

import nbformat
import numpy as np
import pytest
from hypothesis import strategies as st

from classgrader.checks import assert_close, for_all
from classgrader.model.course import Course, CourseError, temporary_course
from classgrader.model.status import NOTEBOOK_RECORD
from classgrader.variants import (DEMO_SECRET, INSTRUCTOR_SEED, RECORD_KEY, SECRET_VARIABLE, MissingSecret,
                                  current_seed, drawing, find_secret, fingerprint, variant_seed)

#: One worker grades the module's scratch class once (pytest-xdist would otherwise build it per worker).
pytestmark = pytest.mark.xdist_group("variants")
ASSIGNMENT = "01-derivatives"


# --- seeds and secrets --------------------------------------------------------------------------

def test_seed_depends_on_secret_student_assignment_and_item():
    seed = variant_seed("s3cret", "alice", ASSIGNMENT, "correct_forward_difference")
    assert seed == variant_seed("s3cret", "alice", ASSIGNMENT, "correct_forward_difference")
    others = [variant_seed("other", "alice", ASSIGNMENT, "correct_forward_difference"),
              variant_seed("s3cret", "bob", ASSIGNMENT, "correct_forward_difference"),
              variant_seed("s3cret", "alice", "02-gradients", "correct_forward_difference"),
              variant_seed("s3cret", "alice", ASSIGNMENT, "correct_central_difference")]
    assert seed not in others and len(set(others)) == 4
    # the separator keeps ("ab", "c") and ("a", "bc") apart
    assert variant_seed("k", "ab", "c", "i") != variant_seed("k", "a", "bc", "i")
    with pytest.raises(MissingSecret):
        variant_seed("", "alice", ASSIGNMENT, "x")


def test_fingerprint_names_a_secret_without_revealing_it():
    assert fingerprint("a") != fingerprint("b") and len(fingerprint("a")) == 8
    assert "a" * 3 not in fingerprint("aaa")


def test_secret_from_environment_then_file(tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    assert find_secret("")[0] == ""
    keep = tmp_path / "secret.txt"
    keep.write_text("  from the file\n")
    assert find_secret(str(keep)) == ("from the file", f"the file {keep}")
    monkeypatch.setenv(SECRET_VARIABLE, "from the environment")
    assert find_secret(str(keep))[0] == "from the environment"
    monkeypatch.delenv(SECRET_VARIABLE)
    with pytest.raises(MissingSecret, match="cannot be read"):
        find_secret(str(tmp_path / "missing.txt"))
    keep.write_text("\n")
    with pytest.raises(MissingSecret, match="is empty"):
        find_secret(str(keep))


def test_strict_grading_refuses_without_a_secret(course, monkeypatch, capsys):
    from classgrader.cli import _secret_ready
    from classgrader.grade.preprocessors import course_secret
    from classgrader.grade.sandbox import STRICT_ENV

    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(MissingSecret, match="strict mode"):
        course_secret(course.config)
    assert not _secret_ready(course)
    assert SECRET_VARIABLE in capsys.readouterr().err
    monkeypatch.delenv(STRICT_ENV)
    assert course_secret(course.config) == DEMO_SECRET   # with a warning
    monkeypatch.setenv(SECRET_VARIABLE, "a real one")
    assert course_secret(course.config) == "a real one"


# --- for_all ------------------------------------------------------------------------------------

def _drawn(seed: int) -> list[str]:
    drawn: list[str] = []
    with drawing(seed, drawn):
        for_all(lambda x, n: None, st.tuples(st.floats(-5, 5), st.integers(0, 9)), names=("x", "n"),
                examples=[(1.5, 2)])
    return drawn


def test_for_all_draws_by_seed():
    assert current_seed() == INSTRUCTOR_SEED
    first = _drawn(1)
    assert first == _drawn(1)
    assert first != _drawn(2)
    assert first[-1] == "x = 1.5, n = 2 (fixed)" and len(first) == 11


def test_for_all_draws_the_same_whatever_modules_are_loaded(tmp_path, monkeypatch):
    """Hypothesis also draws literals of the "local" modules loaded in the process; a regrade or
    a replay loads other modules than the first grading, so the draws must ignore them."""
    monkeypatch.chdir(tmp_path)
    inputs = st.tuples(st.floats(0.25, 3.0, allow_nan=False))
    with drawing(8731):
        before = _draws(inputs, 300)
    module = tmp_path / "lots_of_literals.py"
    module.write_text("LITERALS = [" + ", ".join(f"{0.25 + k * 0.0137:.4f}" for k in range(200)) + "]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("lots_of_literals")
    try:
        with drawing(8731):
            assert _draws(inputs, 300) == before
    finally:
        sys.modules.pop("lots_of_literals", None)
    assert not (tmp_path / ".hypothesis").exists(), "nothing is written where the checks run"


def _draws(inputs, n: int) -> list:
    seen = []
    for_all(lambda x: seen.append(x), inputs, max_examples=n)
    return seen


def test_student_rng_draws_by_seed():
    from classgrader.checks import student_rng

    def numbers(seed=None):
        if seed is None:
            return student_rng().normal(size=4).tolist()
        with drawing(seed):
            return student_rng().normal(size=4).tolist()

    assert numbers() == np.random.default_rng(INSTRUCTOR_SEED).normal(size=4).tolist()
    assert numbers(5) == numbers(5) != numbers(6)


def _summing(x):
    """A sum with the classic slip: the last entry is left out."""
    return float(np.sum(x[:-1]))


def test_for_all_names_the_smallest_failing_input():
    def check(x):
        assert_close(_summing(x), float(np.sum(x)), "sum(x)", rtol=0, atol=1e-9,
                     mistakes={"the last entry is left out.": _summing(x)})

    arrays = st.lists(st.integers(-50, 50), min_size=1, max_size=8).map(np.array)
    with drawing(7), pytest.raises(AssertionError) as failure:
        for_all(check, st.tuples(arrays), names=("x",))
    message = str(failure.value)
    # shrunk: one entry (the left-out one), the smallest that is not 0
    assert message.startswith("fails for x = array([1]) (integer):"), message
    assert "expected: 1" in message and "got:      0" in message
    assert "Diagnosis: the last entry is left out." in message


def test_for_all_reports_a_failing_edge_case_the_same_way():
    def check(x):
        assert x >= 0, f"{x} is negative"

    with pytest.raises(AssertionError, match=r"fails for x = -1 \(an edge case every student gets\):\n-1 is negative"):
        for_all(check, st.tuples(st.integers(0, 5)), names=("x",), examples=[(3,), (-1,)])


def test_for_all_lets_a_stop_of_the_judge_through():
    from classgrader.grade.judge.session import KernelLost

    def check(x):
        raise KernelLost("the kernel died")

    with pytest.raises(KernelLost):
        for_all(check, st.tuples(st.integers()))


# --- the sweep ----------------------------------------------------------------------------------

def test_sweep_notices_an_item_lost_that_the_catalogue_does_not_name(course, tmp_path):
    """A mistake of forward_difference catalogued as losing only another item: the sweep must say
    so for every seed (and the reference passes)."""
    from classgrader.demo import sweep as sweeping
    from classgrader.model.catalogue import load_catalogue

    assignment = course.assignment(ASSIGNMENT)
    mistake = next(m for m in load_catalogue(assignment) if m.id == "backward-as-forward")
    mislabelled = type(mistake)(**{**mistake.__dict__, "loses": ("correct_backward_difference",)})
    original = sweeping.load_catalogue
    sweeping.load_catalogue = lambda a: [mislabelled]
    try:
        result = sweeping.sweep(course, assignment, seeds=2, progress=lambda line: None)
    finally:
        sweeping.load_catalogue = original
    wrong = {(m.submission, m.student) for m in result.mismatches}
    assert wrong == {("mistake backward-as-forward", s) for s in sweeping.sweep_students(2)}
    assert all(m.lost == {"correct_forward_difference"} for m in result.mismatches)
    assert "fails for x = " in result.mismatches[0].messages["correct_forward_difference"]


# --- through real nbgrader ----------------------------------------------------------------------

SECRET_A, SECRET_B = "test secret A", "test secret B"
MISTAKES = ("forward-as-central", "integer-result-array")


@pytest.fixture(scope="module")
def graded(course):
    """01-derivatives: the reference handed in by alice and bob, and two catalogued mistakes,
    graded with secret A by the course's grader (one worker, real nbgrader)."""
    from classgrader.demo.builder import answered, hand_in
    from classgrader.grade.runner import grade
    from classgrader.model.catalogue import load_catalogue
    from classgrader.release.release import release

    scratch = Course(temporary_course(course, [ASSIGNMENT]))
    assignment = scratch.assignment(ASSIGNMENT)
    mp = pytest.MonkeyPatch()
    mp.setenv(SECRET_VARIABLE, SECRET_A)
    try:
        release(scratch, [assignment])
        perfect = answered(scratch, assignment)
        mistakes = {m.student: m for m in load_catalogue(assignment) if m.id in MISTAKES}
        for student in ("alice", "bob"):
            hand_in(scratch, student, assignment, perfect)
        for student, mistake in mistakes.items():
            hand_in(scratch, student, assignment, mistake.apply(perfect))
        outcomes = grade(scratch, [(s, ASSIGNMENT) for s in ["alice", "bob", *mistakes]], jobs=1)
        assert [o.status for o in outcomes] == ["graded"] * 4, outcomes
        yield scratch, mistakes
    finally:
        mp.undo()
        shutil.rmtree(scratch.root, ignore_errors=True)


def _lost(course: Course, student: str) -> set[str]:
    """The autograded items a graded submission did not get full points for."""
    from classgrader.demo.expectations import auto_scores
    from classgrader.model.notebooks import autograded_items

    points = autograded_items(nbformat.read(course.release_notebook(course.assignment(ASSIGNMENT)), 4))
    scores = auto_scores(course, ASSIGNMENT, student)
    assert set(points) <= set(scores) and None not in (scores[i] for i in points)
    return {item for item in points if scores[item] < points[item]}


def _notebook(course: Course, student: str) -> nbformat.NotebookNode:
    return nbformat.read(course.folder("autograded") / student / ASSIGNMENT / "derivatives.ipynb", 4)


def test_graded_students_get_their_own_seeds_and_the_catalogue_holds(graded):
    course, mistakes = graded
    records = {s: _notebook(course, s).metadata[NOTEBOOK_RECORD][RECORD_KEY] for s in ("alice", "bob")}
    assert records["alice"]["secret"] == fingerprint(SECRET_A)
    assert records["alice"]["seeds"]["correct_forward_difference"] == str(
        variant_seed(SECRET_A, "alice", ASSIGNMENT, "correct_forward_difference"))
    assert records["alice"]["seeds"] != records["bob"]["seeds"]
    assert _lost(course, "alice") == _lost(course, "bob") == set()
    for student, mistake in mistakes.items():
        assert _lost(course, student) == set(mistake.loses), student


def test_graded_feedback_names_the_smallest_failing_input(graded):
    course, mistakes = graded
    student = next(s for s, m in mistakes.items() if m.id == "forward-as-central")
    cell = next(c for c in _notebook(course, student).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "correct_central_difference")
    message = cell.outputs[0]["evalue"]
    assert message.startswith("fails for x = "), message
    assert "expected:" in message and "got:" in message and "this is a forward difference" in message


def test_graded_replay_reproduces_the_grade_and_shows_the_inputs(graded, monkeypatch):
    from classgrader.grade.replay import replay

    course, mistakes = graded
    with pytest.raises(CourseError, match="fingerprint"):
        replay(course, "alice", ASSIGNMENT, SECRET_B)
    alice = replay(course, "alice", ASSIGNMENT, SECRET_A)
    bob = replay(course, "bob", ASSIGNMENT, SECRET_A)
    assert alice.same and bob.same
    inputs = {r.item: r.inputs for r in alice.items}
    assert len(inputs["correct_forward_difference"]) == 13   # 10 drawn, 3 fixed
    assert inputs["correct_forward_difference"] != {r.item: r.inputs for r in bob.items}["correct_forward_difference"]
    student = next(iter(mistakes))
    assert replay(course, student, ASSIGNMENT, SECRET_A).same


def test_graded_catalogue_holds_under_another_secret(graded, monkeypatch):
    from classgrader.grade.runner import grade

    course, mistakes = graded
    monkeypatch.setenv(SECRET_VARIABLE, SECRET_B)
    outcomes = grade(course, [(s, ASSIGNMENT) for s in mistakes], jobs=1, force=True)
    assert [o.status for o in outcomes] == ["graded"] * len(mistakes)
    for student, mistake in mistakes.items():
        assert _notebook(course, student).metadata[NOTEBOOK_RECORD][RECORD_KEY]["secret"] == fingerprint(SECRET_B)
        assert _lost(course, student) == set(mistake.loses), student


def test_replay_command_names_a_missing_hand_in(capsys):
    from classgrader.cli import main

    assert main(["replay", "nobody-at-all", ASSIGNMENT]) == 2
    assert "no hand-in of nobody-at-all for 01-derivatives" in capsys.readouterr().err
