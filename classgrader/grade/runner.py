"""Grading a class with nbgrader's own apps, several submissions at a time.

Each worker process holds one :class:`nbgrader.apps.api.NbGraderAPI` built from the course's
``nbgrader_config.py`` and calls its ``autograde`` / ``generate_feedback`` for one
(student, assignment) pair at a time, so a crash in one submission is caught and reported for that
submission only. Before anything runs, :mod:`classgrader.model.integrity` quarantines malformed
hand-ins. Every outcome is written to ``grading-status.json`` next to the gradebook.

A kill at any moment loses nothing: nbgrader writes into the worker's stage
(:mod:`classgrader.grade.staging`), the finished folder is moved into ``autograded/`` (or
``feedback/``) in one rename, and only then is the submission's completion record written
(:mod:`classgrader.grade.completion`), which is the only thing a resumed run trusts.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from tqdm import tqdm

from classgrader.grade import completion, staging
from classgrader.model.course import Course, ensure_tools_on_path
from classgrader.model.integrity import check_submission
from classgrader.model.status import (NOTEBOOK_RECORD, RUN_TROUBLE, RUN_TROUBLES_KEY, SCORED, STATUS_FILE,
                                      ErrorName, Status)

# nbgrader's gradebook API trips over its own session when a submission is removed; harmless noise.
warnings.filterwarnings("ignore", message=r"Object of type <Submitted")


@dataclass
class Outcome:
    """What happened to one submission.

    ``status`` is a :class:`~classgrader.model.status.Status`.
    """

    student: str
    assignment: str
    status: Status
    reason: str = ""
    seconds: float = 0.0
    #: Of ``seconds``, the time spent running its cells (the rest is the grader's overhead).
    cell_seconds: float = 0.0
    flags: list[str] = field(default_factory=list)
    #: What was handed in besides the assignment's own files: not given to the kernel.
    ignored: list[str] = field(default_factory=list)

    @property
    def scored(self) -> bool:
        return self.status in SCORED


_API = None
_COURSE: Course | None = None
_STAGE: staging.Stage | None = None


def _init_worker(root: str) -> None:
    global _API, _COURSE, _STAGE
    ensure_tools_on_path()
    from nbgrader.apps.api import NbGraderAPI

    _COURSE = Course(root)
    _API = NbGraderAPI(coursedir=_COURSE.coursedir(), config=_COURSE.config)
    _API.log.setLevel("ERROR")
    _STAGE = staging.Stage(_COURSE.root)


#: nbgrader's own wrapper around the error that stopped a conversion: never the cause.
_WRAPPER = "NbGraderException"


def _summarise_error(result: dict) -> str:
    """The most telling line of a failed nbgrader run: the last exception line of its traceback
    that is not nbgrader's wrapper ("Please see the above traceback"), which names no cause."""
    import re

    text = (result.get("log") or "") + "\n" + (result.get("error") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    exceptions = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Exit)\b.*:", line)]
    causes = [line for line in exceptions if _WRAPPER not in line.split(":", 1)[0]] or exceptions
    chosen = causes[-1] if causes else (lines[-1] if lines else "unknown error")
    return chosen[:300]


def _autograde(assignment: str, student: str) -> dict:
    """nbgrader's autograde of one submission into the stage; then into place, then its record."""
    from nbgrader.utils import temp_attrs

    completion.discard_record(_COURSE, student, assignment)
    handin = completion.handin_checksum(_COURSE, student, assignment)
    version = completion.course_version(_COURSE, assignment)
    coursedir = _API.coursedir
    with temp_attrs(coursedir, autograded_directory=_STAGE.step("autograded")):
        staged = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
        result = _API.autograde(assignment, student, force=True, create=True)
    if result.get("success"):
        if completion.handin_checksum(_COURSE, student, assignment) != handin:
            return {"success": False, "error": "RuntimeError: handed in again while it was graded: grade it again"}
        _STAGE.install(staged, _COURSE.folder("autograded") / student / assignment)
        completion.finish(_COURSE, student, assignment, handin, version)
    return result


def _feedback(assignment: str, student: str) -> dict:
    """nbgrader's generate_feedback of one submission into the stage; then into place."""
    from nbgrader.utils import temp_attrs

    coursedir = _API.coursedir
    with temp_attrs(coursedir, feedback_directory=_STAGE.step("feedback")):
        staged = Path(coursedir.format_path(coursedir.feedback_directory, student, assignment))
        result = _API.generate_feedback(assignment, student, force=True)
    if result.get("success"):
        _STAGE.install(staged, _COURSE.folder("feedback") / student / assignment)
    return result


def _run_task(task: tuple[str, str, str]) -> Outcome:
    from classgrader.grade.preprocessors import JudgedExecute

    operation, assignment, student = task
    started, in_cells = time.perf_counter(), JudgedExecute.seconds_in_cells
    try:
        result = (_autograde if operation == "autograde" else _feedback)(assignment, student)
    except BaseException as err:  # noqa: BLE001 - one submission must never stop the class
        result = {"success": False, "error": f"{type(err).__name__}: {err}"}
    finally:
        _STAGE.clear()
    seconds, cells = time.perf_counter() - started, JudgedExecute.seconds_in_cells - in_cells
    if result.get("success"):
        return Outcome(student, assignment, Status.GRADED, "", seconds, cells)
    return Outcome(student, assignment, Status.FAILED, _summarise_error(result), seconds, cells)


def run_tasks(course: Course, tasks: list[tuple[str, str, str]], jobs: int, label: str) -> list[Outcome]:
    """Run (operation, assignment, student) tasks on ``jobs`` worker processes, with a progress bar."""
    if not tasks:
        return []
    show = sys.stderr.isatty() or os.environ.get("CLASSGRADER_PROGRESS") == "1"
    staging.sweep(course.root)   # what a killed run staged
    with tqdm(total=len(tasks), desc=label, unit="nb", disable=not show) as bar:
        outcomes = _run_on_workers(course, tasks, jobs, bar, in_process=jobs <= 1)
    # A failure may come from the moment (a machine out of memory or processes, a database busy
    # past its timeout): each failed task is tried once more, alone in a new worker, before it is
    # reported.
    again = [task for task, outcome in zip(tasks, outcomes) if outcome.status == Status.FAILED]
    if again:
        retried = {(o.assignment, o.student): o for o in _run_on_workers(course, again, 1, None)}
        for index, (_, assignment, student) in enumerate(tasks):
            if (assignment, student) in retried:
                first, second = outcomes[index], retried[(assignment, student)]
                if second.status == Status.FAILED:
                    second.reason = f"failed twice: {second.reason}"
                else:
                    print(f"{student}/{assignment}: failed once ({first.reason}); graded on a second try",
                          file=sys.stderr)
                outcomes[index] = second
    staging.sweep(course.root)   # the stages of the workers, which have ended
    return outcomes


def _run_on_workers(course: Course, tasks: list[tuple[str, str, str]], jobs: int, bar,
                    in_process: bool = False) -> list[Outcome]:
    """The outcomes of ``tasks``, in their order: from ``jobs`` worker processes, or from this
    process with ``in_process``."""
    global _STAGE
    outcomes = []
    if in_process:
        _init_worker(str(course.root))
        try:
            for task in tasks:
                outcomes.append(_run_task(task))
                if bar is not None:
                    bar.update()
        finally:
            _STAGE.close()
            _STAGE = None
    else:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                                 initargs=(str(course.root),)) as pool:
            futures = [pool.submit(_run_task, task) for task in tasks]
            for future in as_completed(futures):
                outcomes.append(future.result())
                if bar is not None:
                    bar.update()
    order = {(a, s): i for i, (_, a, s) in enumerate(tasks)}
    return sorted(outcomes, key=lambda o: order[(o.assignment, o.student)])


def find_submissions(course: Course, assignments: list[str] | None = None,
                     students: list[str] | None = None) -> list[tuple[str, str]]:
    """(student, assignment) pairs present in ``submitted/``, optionally filtered."""
    submitted = course.folder("submitted")
    known = {p.name for p in course.folder("source").iterdir() if p.is_dir()}
    pairs = []
    if not submitted.is_dir():
        return pairs
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        if students and student_dir.name not in students:
            continue
        for assignment_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if assignment_dir.name not in known:
                continue
            if assignments and assignment_dir.name not in assignments:
                continue
            pairs.append((student_dir.name, assignment_dir.name))
    return pairs


def _forget(course: Course, student: str, assignment: str) -> None:
    """Remove a stale autograded copy and gradebook entry of a submission that is not graded."""
    from nbgrader.api import Gradebook, MissingEntry

    completion.discard_record(course, student, assignment)
    shutil.rmtree(course.folder("autograded") / student / assignment, ignore_errors=True)
    with Gradebook(course.db_url) as gradebook:
        try:
            gradebook.remove_submission(assignment, student)
        except MissingEntry:
            pass


def already_graded(course: Course, student: str, assignment: str, gradebook=None,
                   version: str | None = None) -> bool:
    """True when the submission's completion record exists and matches the hand-in, the course, the
    autograded notebook and the gradebook (see :func:`classgrader.grade.completion.problems`)."""
    return not completion.problems(course, student, assignment, gradebook, version)


def consistency(course: Course) -> list[str]:
    """Where the gradebook and ``autograded/`` disagree (an empty list when they agree)."""
    from nbgrader.api import Gradebook

    problems = []
    on_disk = set()
    autograded = course.folder("autograded")
    if autograded.is_dir():
        for notebook in autograded.glob("*/*/*.ipynb"):
            on_disk.add((notebook.parent.parent.name, notebook.parent.name, notebook.stem))
    in_book = set()
    with Gradebook(course.db_url) as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    in_book.add((submission.student.id, assignment.name, notebook.name))
    for student, assignment, notebook in sorted(in_book - on_disk):
        problems.append(f"{student}/{assignment}/{notebook}: in the gradebook, but autograded/ has no notebook")
    for student, assignment, notebook in sorted(on_disk - in_book):
        problems.append(f"{student}/{assignment}/{notebook}: in autograded/, but not in the gradebook")
    return problems


def grade(course: Course, pairs: list[tuple[str, str]], jobs: int | None = None,
          force: bool = True) -> list[Outcome]:
    """Integrity-check, then autograde, every (student, assignment) pair.

    With ``force=False`` a submission that is already graded (see :func:`already_graded`: its
    completion record matches) is kept as it is, so a run that was killed at any moment resumes
    where it stopped; every other one is graded from scratch.

    Returns
    -------
    list of Outcome
        One per pair, in the order given.
    """
    from nbgrader.api import Gradebook

    ensure_tools_on_path()
    jobs = jobs or os.cpu_count() or 1
    sources = {}
    for name in sorted({assignment for _, assignment in pairs}):
        a = course.assignment(name)
        sources[name] = {f"{a.notebook}.ipynb": nbformat.read(course.source_notebook(a), as_version=4)}
    versions = {name: completion.course_version(course, name) for name in sources}
    outcomes: dict[tuple[str, str], Outcome] = {}
    tasks = []
    with Gradebook(course.db_url) as gradebook:
        for student, assignment in pairs:
            reasons = check_submission(course.folder("submitted") / student / assignment, sources[assignment])
            if reasons:
                outcomes[(student, assignment)] = Outcome(student, assignment, Status.QUARANTINED,
                                                          "; ".join(reasons))
            elif not force and already_graded(course, student, assignment, gradebook, versions[assignment]):
                outcome = Outcome(student, assignment, Status.GRADED, "kept from an earlier run")
                _inspect(course, outcome)
                outcomes[(student, assignment)] = outcome
            else:
                tasks.append(("autograde", assignment, student))
    for (student, assignment), outcome in outcomes.items():
        if outcome.status == Status.QUARANTINED:
            _forget(course, student, assignment)
    for outcome in run_tasks(course, tasks, jobs, "autograde"):
        if outcome.status == Status.GRADED:
            _inspect(course, outcome)
        outcomes[(outcome.student, outcome.assignment)] = outcome
    ordered = [outcomes[pair] for pair in pairs]
    write_status(course, ordered)
    return ordered


def _inspect(course: Course, outcome: Outcome) -> None:
    """Refine a graded outcome: crashes and timeouts from the autograded notebook, what was handed
    in besides the assignment's files, flags from the scan of the hand-in and from tests that did
    not run as written."""
    from classgrader.grade.handin import shipped, unreleased
    from classgrader.grade.scan import scan_handin

    assignment = course.assignment(outcome.assignment)
    name = f"{assignment.notebook}.ipynb"
    own = [course.folder("release") / assignment.name, course.folder("source") / assignment.name]
    handed_in = course.folder("submitted") / outcome.student / assignment.name
    outcome.ignored = unreleased(handed_in, shipped(*own, ignore=course.coursedir().ignore))
    released = nbformat.read(course.release_notebook(assignment), as_version=4) \
        if course.release_notebook(assignment).exists() else nbformat.v4.new_notebook()
    outcome.flags = scan_handin(handed_in, {name: released}, own, outcome.ignored)
    autograded = course.folder("autograded") / outcome.student / assignment.name / name
    if not autograded.exists():
        return
    trouble = []
    record = nbformat.read(autograded, as_version=4).metadata.get(NOTEBOOK_RECORD, {})
    for where, ename, evalue in record.get(RUN_TROUBLES_KEY, []):   # the grader's own errors only
        if ename == ErrorName.TEST_DID_NOT_RUN:
            outcome.flags.append(f"cell {where}: its test did not run as written")
        elif ename in RUN_TROUBLE:
            trouble.append((RUN_TROUBLE[ename], f"{ename}: {evalue}"))
    if trouble:
        outcome.status, outcome.reason = trouble[0]
    elif outcome.flags:
        outcome.status = Status.FLAGGED
        outcome.reason = "; ".join(outcome.flags)


def write_status(course: Course, outcomes: list[Outcome]) -> Path:
    """Write the machine-readable per-submission status next to the gradebook."""
    path = course.root / STATUS_FILE
    previous = {}
    if path.exists():
        try:
            previous = {(r["student"], r["assignment"]): r for r in json.loads(path.read_text())}
        except (ValueError, KeyError, TypeError):
            previous = {}
    for outcome in outcomes:
        previous[(outcome.student, outcome.assignment)] = asdict(outcome)
    rows = [previous[key] for key in sorted(previous)]
    staging.atomic_write(path, json.dumps(rows, indent=1) + "\n")
    return path
