"""Running one test cell in the judge, and the verdict nbgrader reads.

The test cell's source (taken from the gradebook, never from the hand-in) runs here, in the trusted
grading process, as ordinary Python: the hidden block, then the visible check. The names of the
student's functions and classes are bound to stand-ins that call into the kernel; ``np`` is the
judge's own numpy and the built-ins are the judge's own, whatever the notebook did to its copies.

The verdict becomes the cell's outputs: nothing when every check passed (full points), or one error
output with the judge's message (0 points), which is what nbgrader scores and what the feedback
shows. Nothing the student's code printed during the test reaches the notebook, and an exception it
raised is reported by its type, where it was raised and a shortened first line of its message.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import traceback
import warnings
from dataclasses import dataclass

import numpy as np
from nbformat import NotebookNode

from classgrader.grade.judge.session import JudgeStop, Session, StudentRaised, take_back_pending_exception

HIDDEN_END = "### END HIDDEN TESTS"
#: Names the judge provides itself: the test cells use them without importing them.
PROVIDED = {"np": np}
_BUILTIN_NAMES = frozenset(dir(builtins))


class JudgeNamespace(dict):
    """The globals of a test cell run by the judge; ``checks.substitute`` finds the session here."""

    judge_session: Session


@dataclass(frozen=True)
class Verdict:
    """What a test cell scores: passed, or the error nbgrader sees and the student reads."""

    passed: bool
    ename: str = ""
    evalue: str = ""
    #: The known mistakes the test's checks recognised (never text of the student's code).
    diagnoses: tuple[str, ...] = ()

    def outputs(self) -> list[NotebookNode]:
        if self.passed:
            return []
        return [NotebookNode(output_type="error", ename=self.ename, evalue=self.evalue,
                             traceback=[f"{self.ename}: {self.evalue}"])]


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name a test binds anywhere: assignments, loop targets, definitions, parameters, imports."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound


def student_names(tree: ast.AST) -> list[str]:
    """Names a test reads but never binds: the student's functions and classes.

    Only these are asked of the kernel, so the names of the test's own helpers and variables
    never leave the judge.
    """
    loaded = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return sorted(n for n in loaded - _bound_names(tree)
                  if n not in _BUILTIN_NAMES and n not in PROVIDED and not n.startswith("__"))


def _shorten(text: str, limit: int = 200) -> str:
    first = (text.strip().splitlines() or [""])[0]
    first = "".join(ch if ch.isprintable() else " " for ch in first)
    return first if len(first) <= limit else first[:limit] + "..."


def _failed_line(error: BaseException, filename: str, source: str) -> str:
    """The visible line of the test that failed, or '' when it is a hidden one."""
    lines = source.splitlines()
    visible_from = next((i + 1 for i, line in enumerate(lines) if line.strip() == HIDDEN_END), 0)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    if frames and frames[-1].lineno and frames[-1].lineno > visible_from:
        return lines[frames[-1].lineno - 1].strip()
    return ""


def _explain(error: Exception, filename: str, source: str) -> Verdict:
    line = _failed_line(error, filename, source)
    during = f" in the visible check `{line}`" if line else " while the test called it"
    if isinstance(error, StudentRaised):
        where = f" ({error.student_where})" if error.student_where else ""
        message = _shorten(error.student_message)
        said = f"; its message begins: {message!r}" if message else ""
        return Verdict(False, error.student_type,
                       f"your code raised {error.student_type}{where}{during}{said}")
    if isinstance(error, AssertionError):
        message = str(error).strip()
        if not message:
            message = f"this check failed: `{line}`" if line else "a hidden check failed"
        diagnoses = getattr(error, "diagnoses", ())
        return Verdict(False, "AssertionError", message,
                       tuple(str(d) for d in diagnoses) if isinstance(diagnoses, tuple) else ())
    return Verdict(False, type(error).__name__, f"{type(error).__name__}{during}: {_shorten(str(error), 500)}")


def judge_cell(session: Session, source: str, grade_id: str) -> Verdict:
    """Run one test cell's code against the student's kernel and say what it scores.

    Raises
    ------
    JudgeStop
        When the kernel cannot be talked to any more (it died, hung, or broke the protocol).
    """
    filename = f"<test {grade_id}>"
    tree = ast.parse(source, filename)
    namespace = JudgeNamespace(__builtins__=builtins, __name__="__judge__", **PROVIDED)
    namespace.judge_session = session
    namespace.update(session.lookup(student_names(tree)))
    code = compile(tree, filename, "exec")
    chatter = io.StringIO()
    errors, filters = np.geterr(), list(warnings.filters)
    try:
        with session.running(), contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            exec(code, namespace)  # noqa: S102 - the instructor's test code from the gradebook
    except JudgeStop:
        raise
    except Exception as error:  # noqa: BLE001 - every failure is a verdict
        return _explain(error, filename, source)
    finally:
        # A watchdog exception (session.Watchdog) may have cut a context manager of the test's code
        # short between its set-up and its body: nothing it changed outlives this test cell.
        take_back_pending_exception()
        np.seterr(**errors)
        warnings.filters[:] = filters
    return Verdict(True)
