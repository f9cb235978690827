"""nbgrader preprocessors of the course, registered in ``nbgrader_config.py``.

They are ordinary nbgrader/nbconvert preprocessors, so everything here holds for plain
``nbgrader autograde`` run from the repository root as well as for ``make grade``:

* :class:`RejectMalformed` (sanitize step): a hand-in with a duplicated, deleted or retyped grade
  cell fails *that* submission with a clear reason, instead of aborting the whole run.
* :class:`KeepReleasedFiles` (sanitize step): the folder where the kernel runs keeps only the
  files the assignment ships; anything else handed in (a ``classgrader/`` or ``numpy/`` folder, a
  ``sitecustomize.py``, a link) is removed from it and logged.
* :class:`JudgedExecute` (replaces nbgrader's ``Execute``): the student's cells run in the sandboxed
  kernel; every autograded test cell is decided by the judge (:mod:`classgrader.grade.judge`) in
  this process, from the gradebook's copy of the test, so no code of the hand-in can change a
  verdict or read a hidden test. A kernel that dies, a cell that cannot be interrupted, or a
  notebook over its time budget costs the cells that did not run, not the whole submission.
* :class:`CapOutputBytes`: outputs are capped in bytes (nbgrader's LimitOutput counts lines only,
  so one 20 MB line survives it).
* :class:`RestoreHiddenTests` (sanitize step, replaces nbgrader's ``OverwriteCells``): restores
  locked cells and hidden tests as nbgrader does, but warns only about locked cells a student
  really changed, not about every test cell whose hidden tests are put back.
* :class:`CheckCellMetadataOnce` (replaces nbgrader's ``CheckCellMetadata``): the same validation,
  but a cell whose type and nbgrader metadata this process has already found valid is not
  validated again (jsonschema re-checks the schema itself on every cell: most of the check's cost).
"""
from __future__ import annotations

import copy
import functools
import json
import sys
import time
import traceback
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, Execute, NbGraderPreprocessor,
                                    OverwriteCells)
from traitlets import Bool, Float, Integer, Unicode

from classgrader import variants
from classgrader.grade import demos
from classgrader.grade.handin import remove_from, shipped, unreleased
from classgrader.grade.judge.link import Closed, close_hearing, kernel_alive, kill, open_hearing
from classgrader.grade.judge.session import KernelLost, OutOfTime
from classgrader.grade.judge.verdict import judge_cell
from classgrader.model.course import NBGRADER_SUBMISSION_FILES, solutions_on_path
from classgrader.model.integrity import grade_cell_problems
from classgrader.model.notebooks import is_autograded_test, nbgrader_meta
from classgrader.model.status import DIAGNOSES_KEY, NOTEBOOK_RECORD, RUN_TROUBLES_KEY, ErrorName

#: Most output bytes kept per cell while it runs (CapOutputBytes trims what is kept afterwards).
OUTPUT_BUDGET = 4 * 2**20
#: Why the cells after a dead kernel did not run.
KERNEL_DIED = "the kernel stopped (os._exit, a crash or a resource limit) in an earlier cell"
#: Why the cells after an uninterruptible cell did not run.
KERNEL_HUNG = "an earlier cell could not be interrupted after its timeout"


#: Marks, on the output object itself (never written to the notebook), an error the grader made.
GRADER_MADE = "_classgrader_made"


def _error(ename: str, evalue: str) -> NotebookNode:
    """An error output of the grader's own (recorded in the notebook's run record as well)."""
    output = NotebookNode(output_type="error", ename=str(ename), evalue=evalue, traceback=[f"{ename}: {evalue}"])
    object.__setattr__(output, GRADER_MADE, True)
    return output


@functools.lru_cache(maxsize=64)
def _source_cells(db_url: str, assignment: str, notebook: str) -> tuple[tuple[str, str, str], ...]:
    """(grade_id, cell type, source) of every source cell the gradebook stores for a notebook.

    Read once per grading process: plain ``nbgrader autograde`` grades a whole class in one
    process, and the source cells do not change while it runs.
    """
    with Gradebook(db_url) as gradebook:
        try:
            found = gradebook.find_notebook(notebook, assignment)
        except MissingEntry:
            return ()
        return tuple((cell.name, cell.cell_type, cell.source) for cell in found.source_cells)


def source_cells(resources: dict) -> tuple[tuple[str, str, str], ...]:
    """The gradebook's source cells of the notebook being graded (see :func:`_source_cells`)."""
    nbgrader = resources.get("nbgrader", {})
    if not nbgrader.get("db_url"):
        return ()
    return _source_cells(nbgrader["db_url"], nbgrader["assignment"], resources["unique_key"])


class RejectMalformed(NbGraderPreprocessor):
    """Fail one malformed submission with a clear reason (put it first in the sanitize step)."""

    def preprocess(self, nb, resources):
        cells = source_cells(resources)
        if not cells:
            return nb, resources
        problems = grade_cell_problems(nb, {name: cell_type for name, cell_type, _ in cells})
        if problems:
            raise ValueError(f"malformed submission {resources['unique_key']}.ipynb: " + "; ".join(problems))
        return nb, resources


def course_directory(preprocessor) -> CourseDirectory:
    """The CourseDirectory of the nbgrader app running ``preprocessor`` (through its parents)."""
    node = preprocessor.parent
    while node is not None:
        if isinstance(getattr(node, "coursedir", None), CourseDirectory):
            return node.coursedir
        node = node.parent
    return CourseDirectory(config=preprocessor.config)


class KeepReleasedFiles(NbGraderPreprocessor):
    """Remove from the kernel's folder whatever was handed in that the assignment does not ship
    (put it in the sanitize step: it runs after nbgrader copied the hand-in's files there)."""

    def preprocess(self, nb, resources):
        coursedir = course_directory(self)
        student, assignment = resources["nbgrader"]["student"], resources["nbgrader"]["assignment"]
        allowed = shipped(coursedir.format_path(coursedir.release_directory, ".", assignment),
                          coursedir.format_path(coursedir.source_directory, ".", assignment), ignore=coursedir.ignore)
        extra = unreleased(resources["metadata"]["path"], allowed | NBGRADER_SUBMISSION_FILES)
        removed = remove_from(coursedir.format_path(coursedir.autograded_directory, student, assignment), extra)
        if extra:
            self.log.warning("%s/%s: not part of the assignment, ignored: %s (removed: %s)",
                             student, assignment, ", ".join(extra), ", ".join(removed) or "none")
        return nb, resources


class JudgedExecute(Execute):
    """nbgrader's Execute, with every autograded test cell decided by the judge outside the kernel."""

    notebook_budget = Integer(
        600, help="Seconds one notebook may run in all, on top of the per-cell timeout."
    ).tag(config=True)

    interrupt_grace = Float(
        30.0, help="Seconds a kernel has to stop after the judge interrupts it (a test that ran out "
        "of time, a broken conversation) before it is killed and the rest of the notebook is not run.",
    ).tag(config=True)

    skip_demos = Bool(
        True, help="Skip the cells the source notebook tags 'demo' when nothing else in the handed-in "
        "notebook or its tests uses what they define (classgrader.grade.demos); the feedback says so "
        "in their place.",
    ).tag(config=True)

    sandbox = Bool(
        True, help="Run student code in the forked, sandboxed kernel (False: an ordinary kernel with "
        "your permissions, for debugging; refused in strict mode).",
    ).tag(config=True)

    variant_secret_file = Unicode(
        "", help=f"A file holding the course secret that each student's hidden inputs are drawn from "
        f"(kept outside the repository; the environment variable {variants.SECRET_VARIABLE} wins). "
        "Without either, grading refuses in strict mode and warns otherwise.",
    ).tag(config=True)

    # nbconvert's preprocess() re-runs NotebookClient.__init__, which resets every trait set on
    # the instance to its configured value; so the kernel and the per-cell timeout are chosen in
    # the hooks that run after that: create_kernel_manager() and _get_timeout().

    def preprocess(self, nb, resources=None, km=None):
        nb.metadata.pop(NOTEBOOK_RECORD, None)   # a hand-in's own "record" is never trusted
        self._troubles: list[list[str]] = []
        self._diagnoses: dict[str, list[str]] = {}
        self._deadline = time.monotonic() + self.notebook_budget
        self._stopped = ""
        solutions_on_path()   # hidden tests may use the reference package; the kernel cannot
        self._output_bytes: dict[int, int] = {}
        self._unreachable = ""
        self._tests = {name: source for name, cell_type, source in source_cells(resources or {})
                       if cell_type == "code"}
        self._secret = course_secret(self.config)
        info = (resources or {}).get("nbgrader", {})
        self._who = (str(info.get("student", "")), str(info.get("assignment", "")))
        self._seeds: dict[str, int] = {}
        self._demos = self._demos_to_skip(nb, resources or {})
        nb, resources = super().preprocess(nb, resources, km)
        record = nb.metadata.setdefault(NOTEBOOK_RECORD, {})
        record[RUN_TROUBLES_KEY] = self._troubles
        record[DIAGNOSES_KEY] = self._diagnoses
        record[variants.RECORD_KEY] = {
            "secret": variants.fingerprint(self._secret), "student": self._who[0],
            "assignment": self._who[1], "seeds": {k: str(v) for k, v in self._seeds.items()}}
        return nb, resources

    def _demos_to_skip(self, nb, resources: dict) -> set[int]:
        """The demonstration cells this notebook runs without (:mod:`classgrader.grade.demos`)."""
        info = resources.get("nbgrader", {})
        if not self.skip_demos or not info.get("assignment") or not resources.get("unique_key"):
            return set()
        coursedir = course_directory(self)
        source = Path(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]))
        wanted = demos.demo_sources(source / f"{resources['unique_key']}.ipynb")
        sources = [cell.source if cell.cell_type == "code" else None for cell in nb.cells]
        return demos.skipped(sources, wanted, list(self._tests.values()),
                             [not is_autograded_test(cell) for cell in nb.cells])

    def create_kernel_manager(self):
        from classgrader.grade.kernels import kernel_manager_class
        from classgrader.grade.sandbox import Sandbox

        self.kernel_manager_class = kernel_manager_class(self.sandbox, Sandbox(config=self.config), self.log)
        return super().create_kernel_manager()

    def output(self, outs, msg, display_id, cell_index):
        """nbclient's output handling, within a byte budget per cell (the rest is dropped)."""
        size = len(json.dumps(msg.get("content", {}), default=str))
        used = self._output_bytes.get(cell_index, 0)
        self._output_bytes[cell_index] = used + size
        if used + size > OUTPUT_BUDGET:
            if used <= OUTPUT_BUDGET:
                outs.append(NotebookNode(output_type="stream", name="stdout",
                                         text=f"\n[more output dropped: over {OUTPUT_BUDGET} bytes]\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _get_timeout(self, cell):
        remaining = max(1, int(self._deadline - time.monotonic()))
        return min(self.timeout or remaining, remaining)

    #: ``classgrader replay`` sets a dict here: grade_id -> the inputs each check drew.
    drawn: dict[str, list[str]] | None = None

    #: Seconds this process has spent running cells: the student's in the kernel and the tests in
    #: the judge (the grader's per-notebook overhead is the rest; see classgrader.bench).
    seconds_in_cells = 0.0

    def preprocess_cell(self, cell, resources, index):
        started = time.perf_counter()
        try:
            cell, resources = self._run_cell(cell, resources, index)
        finally:
            JudgedExecute.seconds_in_cells += time.perf_counter() - started
        where = nbgrader_meta(cell).get("grade_id") or f"cell {index}"
        self._troubles += [[where, out.ename, out.evalue] for out in cell.get("outputs", [])
                           if vars(out).get(GRADER_MADE)]
        return cell, resources

    def _run_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._stopped:
            cell.outputs = [_error(ErrorName.NOT_RUN, f"this cell did not run: {self._stopped}")]
            return cell, resources
        if time.monotonic() >= self._deadline:
            self._stopped = f"the notebook used up its time budget of {self.notebook_budget} s"
            cell.outputs = [_error(ErrorName.TIME_BUDGET, self._stopped)]
            return cell, resources
        if index in self._demos:
            cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=demos.NOT_RUN)]
            cell.execution_count = None
            return cell, resources
        if is_autograded_test(cell):
            cell.outputs = self._judge(nbgrader_meta(cell)["grade_id"])
            cell.execution_count = None
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stopped = KERNEL_DIED
            cell.outputs.append(_error(ErrorName.DEAD_KERNEL, "the kernel stopped while this cell ran "
                                       "(os._exit, a crash, or a memory or time limit)"))
        except CellTimeoutError:
            self._stopped = KERNEL_HUNG
            cell.outputs.append(_error(ErrorName.CELL_TIMEOUT, "this cell ran past its timeout and "
                                       "ignored the interrupt"))
            kill(self)
        return cell, resources

    def _judge(self, grade_id: str) -> list[NotebookNode]:
        """The outputs of one test cell: the judge's verdict, or why there is none."""
        source = self._tests.get(grade_id)
        if source is None:
            return [_error(ErrorName.TEST_DID_NOT_RUN, f"the gradebook has no test {grade_id!r} for "
                           "this notebook, so it cannot be judged")]
        if self._unreachable:
            return [_error(ErrorName.TEST_DID_NOT_RUN, f"this test could not be judged: {self._unreachable}")]
        deadline = min(self._deadline, time.monotonic() + (self.timeout or self.notebook_budget))
        try:
            hearing = open_hearing(self, self.km.socket_dir, deadline)
        except KernelLost as lost:
            outputs = self._lost(lost.reason, None)
            if not self._stopped:   # the kernel lives but will not let the judge in: once is enough
                self._unreachable = lost.reason
            return outputs
        seed = self._seeds[grade_id] = variants.variant_seed(self._secret, *self._who, grade_id)
        try:
            with variants.drawing(seed, self.drawn.setdefault(grade_id, []) if self.drawn is not None else None):
                verdict = judge_cell(hearing.session, source, grade_id)
        except OutOfTime:
            outputs = [_error(ErrorName.TEST_TIMEOUT, f"your code did not finish within this test's "
                              f"{self.timeout} s")]
            closed = close_hearing(self, hearing, interrupt=True)
            if closed is Closed.DIED:
                return self._died()
            if closed is Closed.KILLED:
                self._stopped = KERNEL_HUNG
                outputs = [_error(ErrorName.CELL_TIMEOUT, outputs[0].evalue + " and ignored the interrupt")]
            return outputs
        except KernelLost as lost:
            return self._lost(lost.reason, hearing)
        closed = close_hearing(self, hearing)
        if closed is not Closed.IDLE:
            self._stopped = KERNEL_DIED if closed is Closed.DIED else KERNEL_HUNG
        if verdict.diagnoses:
            self._diagnoses[grade_id] = list(verdict.diagnoses)
        return verdict.outputs()

    def _died(self) -> list[NotebookNode]:
        self._stopped = KERNEL_DIED
        return [_error(ErrorName.DEAD_KERNEL, "the kernel stopped while this test ran (os._exit, a "
                       "crash, or a memory or time limit)")]

    def _lost(self, reason: str, hearing) -> list[NotebookNode]:
        """The conversation broke: a dead kernel stops the notebook; a live one is flagged."""
        if not kernel_alive(self):
            return self._died()
        closed = close_hearing(self, hearing, interrupt=True) if hearing is not None else Closed.IDLE
        if closed is Closed.DIED:   # it was on its way out when the conversation broke
            return self._died()
        if closed is Closed.KILLED:
            self._stopped = KERNEL_HUNG
        return [_error(ErrorName.TEST_DID_NOT_RUN, f"this test could not be judged: {reason}; it scores "
                       "0 and the submission is flagged for a person to read")]


@functools.lru_cache(maxsize=None)
def _warn_demo_secret(why: str) -> None:
    print(f"WARNING: {why}: grading with the public demo secret, so anyone can compute every "
          "student's hidden inputs", file=sys.stderr, flush=True)


def course_secret(config) -> str:
    """The course secret for grading with the nbgrader configuration ``config``.

    From the environment or ``c.JudgedExecute.variant_secret_file``; without either, strict mode
    raises :class:`~classgrader.variants.MissingSecret` and otherwise the demo secret is used with
    a warning (printed once per process).
    """
    from classgrader.grade.sandbox import Sandbox, strict

    secret, why = variants.find_secret(JudgedExecute(config=config).variant_secret_file)
    if secret:
        return secret
    if strict(Sandbox(config=config)):
        raise variants.MissingSecret(f"refusing to grade: {why} (strict mode); see the README, 'Variants'")
    _warn_demo_secret(why)
    return variants.DEMO_SECRET


class CapOutputBytes(NbGraderPreprocessor):
    """Cap every output of every cell at ``max_bytes`` (text is cut, large images dropped)."""

    max_bytes = Integer(20_000, help="Largest output kept per cell, in bytes.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        budget = self.max_bytes
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                text = output.get("text", "")
                if len(text.encode()) > budget:
                    output["text"] = text.encode()[:max(budget, 0)].decode(errors="ignore") + \
                        f"\n[output cut: more than {self.max_bytes} bytes]\n"
                budget -= len(output["text"].encode())
            elif output.get("output_type") == "error":
                output["evalue"] = output.get("evalue", "")[:self.max_bytes]
                output["traceback"] = [line[:self.max_bytes] for line in output.get("traceback", [])][:100]
            elif output.get("output_type") in ("display_data", "execute_result"):
                data = output.get("data", {})
                size = sum(len(str(v)) for v in data.values())
                if size > 10 * self.max_bytes:
                    output["data"] = {"text/plain": f"[output dropped: {size} bytes]"}
                else:
                    for mime, value in list(data.items()):
                        if mime.startswith("text/") and len(str(value)) > self.max_bytes:
                            data[mime] = str(value)[:self.max_bytes] + "\n[output cut]"
            kept.append(output)
        cell.outputs = kept
        return cell, resources


class RestoreHiddenTests(OverwriteCells):
    """nbgrader's ``OverwriteCells`` without a false alarm for every test cell handed in untouched.

    ``generate_assignment`` stores each test cell in the gradebook *with* its hidden tests, then
    clears them from the release, so the locked test cell a student hands in never has the stored
    checksum. Stock ``OverwriteCells`` therefore logs "Attribute 'checksum' for cell ... has
    changed!" for every test cell that has hidden tests, in every submission, and restores the
    stored source (which is how the hidden tests come back for grading). This subclass does the
    same restoring, but logs it at debug level when the handed-in cell is exactly its released
    form (the stored source with the hidden tests cleared by nbgrader's own
    ``ClearHiddenTests``); a locked cell the student really edited is still reported.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        self._as_released = self._handed_in_as_released(cell)
        return super().preprocess_cell(cell, resources, cell_index)

    def _handed_in_as_released(self, cell) -> bool:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if not grade_id:
            return False
        try:
            stored = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        except MissingEntry:
            return False
        released = copy.deepcopy(cell)
        released.source = stored.source
        try:
            released, _ = ClearHiddenTests(config=self.config).preprocess_cell(released, {}, 0)
        except RuntimeError:   # a malformed hidden-test region: let nbgrader report the change
            return False
        return cell.cell_type == stored.cell_type and cell.source == released.source

    def report_change(self, name, attr, old, new):
        if attr == "checksum" and getattr(self, "_as_released", False):
            self.log.debug("Cell %s was handed in as released; its hidden tests are restored", name)
            return
        super().report_change(name, attr, old, new)


class _RememberingValidator(MetadataValidator):
    """nbgrader's metadata validator, skipping cells it has already found valid in this process."""

    valid: set[str] = set()

    def validate_cell(self, cell) -> None:
        if "nbgrader" not in cell.metadata:
            return
        key = json.dumps([cell.get("cell_type"), cell.metadata.get("nbgrader")], sort_keys=True, default=str)
        if key in self.valid:
            return
        super().validate_cell(cell)
        self.valid.add(key)


class CheckCellMetadataOnce(CheckCellMetadata):
    """nbgrader's ``CheckCellMetadata`` (grade ids unique, metadata valid), each distinct cell
    validated once per process: every submission of an assignment carries the same metadata."""

    def preprocess(self, nb, resources):
        try:
            _RememberingValidator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            raise ValidationError("Notebook failed to validate; the nbgrader metadata may be corrupted.") from None
        return nb, resources
