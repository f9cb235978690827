"""Test-only: nbgrader's grading steps, each able to stop dead at a named phase so that a test can
kill the run exactly there.

Nothing here is part of the course. A kill test appends :data:`CONFIG` to a *scratch* course's
``nbgrader_config.py``: it swaps nbgrader's ``SaveAutoGrades`` and the course's ``JudgedExecute``
for the subclasses below, which behave exactly like them, adds two pass-through preprocessors and
nbgrader's own post-convert hooks. Each of them calls :func:`reached` at its phase, which does
nothing unless the grading process was started with :data:`PLAN` in its environment naming that
phase (``<folder>|<phase>|<n>``): then every phase reached is logged to ``<folder>/events.log``
and the n-th arrival at the named phase (counted over all worker processes) writes
``<folder>/paused.json`` and sleeps until the test kills it. The grading process is the only one
that reads the plan; student code runs in the kernel and cannot reach any of this.

Phases, in the order one submission meets them:

* ``sanitise``: half-way through the sanitize preprocessors (nothing written yet);
* ``execute``: after each code cell the kernel ran (the kernel alive, later cells not run);
* ``gradebook``: after each grade ``SaveAutoGrades`` committed (some scores stored, some not);
* ``staged``: nbgrader finished and wrote the graded folder into the worker's stage (not in place);
* ``feedback``: in ``generate_feedback``, after the grades were read, before the page is written;
* ``feedback-staged``: the feedback page written into the stage (not in place).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor, SaveAutoGrades

from classgrader.grade.preprocessors import JudgedExecute

PLAN = "CLASSGRADER_CRASH_PLAN"
PHASES = ("sanitise", "execute", "gradebook", "staged", "feedback", "feedback-staged")

#: Appended to a scratch course's nbgrader_config.py.
CONFIG = '''
# --- test only: the kill tests' pausing steps (tests/crash_support.py) ---
_swap = {"classgrader.grade.preprocessors.JudgedExecute": "crash_support.PausingJudgedExecute",
         "nbgrader.preprocessors.SaveAutoGrades": "crash_support.PausingSaveAutoGrades"}
c.Autograde.autograde_preprocessors = [_swap.get(p, p) for p in c.Autograde.autograde_preprocessors]
_sanitize = list(c.Autograde.sanitize_preprocessors)
c.Autograde.sanitize_preprocessors = _sanitize[:len(_sanitize) // 2] + ["crash_support.PauseSanitising"] \\
    + _sanitize[len(_sanitize) // 2:]
c.GenerateFeedback.preprocessors = list(c.GenerateFeedback.preprocessors[:1]) + ["crash_support.PauseFeedback"] \\
    + list(c.GenerateFeedback.preprocessors[1:])
c.Autograde.post_convert_hook = "crash_support.staged_autograde"
c.GenerateFeedback.post_convert_hook = "crash_support.staged_feedback"
'''


def reached(phase: str, resources: dict | None = None, who: str = "") -> None:
    """Log the phase, and stop here for good when the plan says so (see the module's doc)."""
    plan = os.environ.get(PLAN)
    if not plan:
        return
    folder, wanted, occurrence = plan.split("|")
    if resources and "nbgrader" in resources:
        who = f"{resources['nbgrader']['student']}/{resources['nbgrader']['assignment']}"
    with open(Path(folder) / "events.log", "a+", encoding="utf-8") as log:
        fcntl.flock(log, fcntl.LOCK_EX)
        log.write(f"{phase} {who} {os.getpid()}\n")
        log.flush()
        log.seek(0)
        count = sum(1 for line in log if line.split(" ", 1)[0] == phase)
    if phase == wanted and count == int(occurrence):
        paused = Path(folder) / "paused.json"
        paused.with_suffix(".tmp").write_text(json.dumps({"phase": phase, "who": who, "pid": os.getpid(),
                                                          "occurrence": count}))
        os.replace(paused.with_suffix(".tmp"), paused)
        while True:
            time.sleep(60)


class PauseSanitising(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        reached("sanitise", resources)
        return nb, resources


class PausingJudgedExecute(JudgedExecute):
    def preprocess_cell(self, cell, resources, index):
        cell, resources = super().preprocess_cell(cell, resources, index)
        if cell.cell_type == "code":
            reached("execute", resources)
        return cell, resources


class PausingSaveAutoGrades(SaveAutoGrades):
    def _add_score(self, cell, resources):
        super()._add_score(cell, resources)
        reached("gradebook", resources)


class PauseFeedback(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        reached("feedback", resources)
        return nb, resources


def _who(notebooks: list[str]) -> str:
    # nbgrader passes the notebooks it converted: <input folder>/<student>/<assignment>/<name>.ipynb
    parts = Path(notebooks[0]).parts if notebooks else ("", "", "")
    return f"{parts[-3]}/{parts[-2]}"


def staged_autograde(assignment, student, notebooks):
    reached("staged", who=_who(notebooks))


def staged_feedback(assignment, student, notebooks):
    reached("feedback-staged", who=_who(notebooks))


def end_orphans(root: Path) -> int:
    """End the kernels that ran in the course at ``root`` (found by their working folder): jupyter
    starts each kernel in its own session, so a kill of the grader's process group misses them.
    Returns how many there were."""
    ended = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(entry / "cwd").startswith(str(root)):
                    os.kill(int(entry.name), signal.SIGKILL)
                    ended += 1
    return ended
