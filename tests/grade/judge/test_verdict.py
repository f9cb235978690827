"""Running a test cell in the judge and the verdict nbgrader reads (agent on a socket pair)."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from classgrader.grade.judge import wire
from classgrader.grade.judge.agent import Agent
from classgrader.grade.judge.session import Session
from classgrader.grade.judge.verdict import judge_cell, student_names

NOTEBOOK = '''
import numpy as np

def double(x):
    return 2 * x

def wrong_double(x):
    return 3 * x

def shouts(x):
    raise ValueError("first line of the message\\nsecond line " + "x" * 500)

def uses_helper(x):
    return helper(x) + 1

def helper(x):
    return x

def overflows(x):
    return np.exp(x)
'''


class RecordingAgent(Agent):
    """An agent that remembers every request it answered."""

    def __init__(self, *args):
        super().__init__(*args)
        self.requests = []

    def handle(self, message):
        self.requests.append(message)
        return super().handle(message)


@pytest.fixture
def judge():
    """judge(source) -> (verdict, agent) for a test cell run against NOTEBOOK."""
    ends = []

    def run(source: str):
        judge_end, kernel_end = socket.socketpair()
        ends.append(judge_end)
        namespace: dict = {}
        exec(NOTEBOOK, namespace)  # noqa: S102 - the test's stand-in for a notebook
        agent = RecordingAgent(kernel_end, namespace)
        thread = threading.Thread(target=lambda: _serve(agent), daemon=True)
        thread.start()
        verdict = judge_cell(Session(judge_end, time.monotonic() + 30), source, "item")
        wire.send(judge_end, {"op": "done"})
        thread.join(timeout=5)
        return verdict, agent

    yield run
    for end in ends:
        end.close()


def _serve(agent):
    try:
        agent.loop()
    except (EOFError, OSError):
        pass


def test_a_passing_cell_has_no_outputs(judge):
    verdict, _ = judge('"""Doc."""\n### BEGIN HIDDEN TESTS\nassert double(2) == 4\n### END HIDDEN TESTS\n')
    assert verdict.passed and verdict.outputs() == []


def test_a_failed_check_gives_its_message(judge):
    verdict, _ = judge('assert wrong_double(2) == 4, "double(2) should be 4"\n')
    assert not verdict.passed
    (output,) = verdict.outputs()
    assert output.ename == "AssertionError" and output.evalue == "double(2) should be 4"


def test_a_bare_visible_assert_is_quoted_but_a_hidden_one_is_not(judge):
    hidden = ('"""Doc."""\n### BEGIN HIDDEN TESTS\nsecret_input = 7\nassert wrong_double(secret_input) == 14\n'
              '### END HIDDEN TESTS\nassert double(1) == 2\n')
    verdict, _ = judge(hidden)
    assert verdict.evalue == "a hidden check failed" and "secret_input" not in verdict.evalue
    visible = '"""Doc."""\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\nassert wrong_double(1) == 2\n'
    verdict, _ = judge(visible)
    assert "assert wrong_double(1) == 2" in verdict.evalue


def test_a_student_exception_is_reported_by_type_and_a_short_first_line(judge):
    verdict, _ = judge("shouts(1)\n")
    assert verdict.ename == "ValueError"
    assert "first line of the message" in verdict.evalue
    assert "second line" not in verdict.evalue and len(verdict.evalue) < 400


def test_the_judges_prints_never_reach_the_outputs(judge, capsys):
    verdict, _ = judge('print("expected 12.01")\nassert double(1) == 2\n')
    assert verdict.passed
    assert "12.01" not in capsys.readouterr().out


def test_only_names_the_test_does_not_bind_are_asked_of_the_kernel(judge):
    source = ("import math\nfrom classgrader.checks import assert_close\n"
              "def cube(t):\n    return t ** 3\nexpected = [cube(v) for v in range(3)]\n"
              "for secret_step in range(2):\n    assert double(secret_step) == 2 * secret_step\n")
    verdict, agent = judge(source)
    assert verdict.passed
    asked = [r["names"] for r in agent.requests if r.get("op") == "lookup"]
    assert asked == [["double"]], asked
    import ast
    assert student_names(ast.parse(source)) == ["double"]


def test_substitute_in_a_test_cell_reaches_the_kernel(judge):
    source = ("from classgrader.checks import substitute\n"
              "with substitute(globals(), helper=lambda x: 10 * x):\n"
              "    assert uses_helper(2) == 21\n"
              "assert uses_helper(2) == 3\n")
    verdict, _ = judge(source)
    assert verdict.passed, verdict.evalue


def test_no_warnings_sees_the_students_warnings_through_a_wrapper_of_the_test(judge):
    source = ("from classgrader.checks import no_warnings\n"
              "def wrapped(x):\n    return overflows(x)\n"
              "no_warnings(wrapped, 1000.0, name='overflows(1000.0)')\n")
    verdict, _ = judge(source)
    assert not verdict.passed and "emitted a warning" in verdict.evalue and "overflow" in verdict.evalue
