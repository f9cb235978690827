"""The variant sweep: do the grading rules hold for every student's hidden inputs?

Grading the demo class through nbgrader takes minutes per seed, so the sweep takes the
instructor's path instead: per assignment and per demo submission (the reference answer, the
source notebook, the blank release, every catalogued mistake and style) one plain Jupyter kernel runs the
notebook's other cells once, then every autograded test cell (hidden tests included) with the
inputs of ``seeds`` different students (:func:`classgrader.variants.drawing`). A test cell that
draws nothing (neither ``for_all`` nor ``student_rng``) gives the same verdict for every seed, so it runs once.

It proves that the reference, the source and every catalogued style keep full marks, the blank
gets none and every catalogued mistake loses exactly its items, for every seed tried; the suite proves separately,
through real nbgrader, that grading draws the same inputs (tests/test_variants.py).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import nbformat
from jupyter_client.manager import start_new_kernel

from classgrader.demo.builder import BLANK, MISTAKE, PERFECT, SOURCE, STYLE
from classgrader.model.catalogue import load_catalogue, load_styles, style_rounds
from classgrader.model.course import Assignment, Course
from classgrader.model.notebooks import autograded_items, fill_from_solutions, is_autograded_test, nbgrader_meta
from classgrader.variants import DEMO_SECRET, variant_seed

#: Calls through which a test cell draws from the student's seed (classgrader.checks).
DRAWING_CALLS = ("for_all(", "student_rng(")
#: Seconds one cell may take in the sweep's kernel.
CELL_TIMEOUT = 300


@dataclass
class Mismatch:
    """One submission whose items lost under one seed differ from what it must lose."""

    submission: str
    student: str
    lost: frozenset[str]
    expected: frozenset[str]
    messages: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        extra, kept = sorted(self.lost - self.expected), sorted(self.expected - self.lost)
        parts = [f"{self.submission} as {self.student}:"]
        if extra:
            parts.append("also lost " + ", ".join(f"{i} ({self.messages.get(i, '')[:300]})" for i in extra))
        if kept:
            parts.append("kept " + ", ".join(kept))
        return " ".join(parts)


@dataclass
class SweepResult:
    assignment: str
    seeds: int
    submissions: int
    runs: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    seconds: float = 0.0


def sweep_students(count: int) -> list[str]:
    """The made-up student ids whose inputs the sweep draws."""
    return [f"sweep-student-{k:02d}" for k in range(count)]


def _run(client, code: str) -> str:
    """Run ``code`` in the kernel; the error it raised as 'Name: message', or ''."""
    failure = []

    def hook(msg):
        if msg["header"]["msg_type"] == "error":
            failure.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")

    reply = client.execute_interactive(code, timeout=CELL_TIMEOUT, output_hook=hook, store_history=False)
    if reply["content"]["status"] != "ok" and not failure:
        failure.append(f"{reply['content'].get('ename', 'error')}: {reply['content'].get('evalue', '')}")
    return failure[0] if failure else ""


def _test_under(source: str, seed: int) -> str:
    """Kernel code: run a test cell's source with ``seed`` as the student's seed."""
    return ("from classgrader.variants import drawing as __drawing\n"
            f"with __drawing({seed}):\n"
            f"    exec(compile({source!r}, '<test>', 'exec'), globals())\n")


def grade_in_kernel(nb: nbformat.NotebookNode, tests: dict[str, str], cwd: str,
                    seeds_of: dict[str, list[int]]) -> list[dict[str, str]]:
    """Per seed index: item -> failure message of every test cell that failed.

    ``seeds_of[item]`` lists the seed of each sweep student for that item (an item whose test
    draws nothing gets one seed: its verdict holds for every student).
    """
    count = max(len(s) for s in seeds_of.values())
    failed: list[dict[str, str]] = [{} for _ in range(count)]
    manager, client = start_new_kernel(kernel_name="python3", cwd=cwd)
    try:
        _run(client, "import matplotlib\nmatplotlib.use('Agg')")
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if not is_autograded_test(cell):
                _run(client, cell.source)
                continue
            item = nbgrader_meta(cell)["grade_id"]
            verdicts = [_run(client, _test_under(tests[item], seed)) for seed in seeds_of[item]]
            for index in range(count):
                verdict = verdicts[index] if len(verdicts) > 1 else verdicts[0]
                if verdict:
                    failed[index][item] = verdict
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return failed


def sweep(course: Course, assignment: Assignment, seeds: int = 20, mistakes: list[str] | None = None,
          progress=print) -> SweepResult:
    """Grade every demo submission of ``assignment`` for ``seeds`` students; list the mismatches.

    ``mistakes`` keeps only the catalogue entries (mistakes and styles) with these ids; the
    reference, source and blank submissions are always graded.
    """
    started = time.perf_counter()
    source = nbformat.read(course.source_notebook(assignment), as_version=4)
    released = nbformat.read(course.release_notebook(assignment), as_version=4)
    perfect = fill_from_solutions(released, assignment.solutions_module)
    items = frozenset(autograded_items(released))
    tests = {nbgrader_meta(c)["grade_id"]: c.source for c in source.cells if is_autograded_test(c)}
    students = sweep_students(seeds)
    seeds_of = {item: ([variant_seed(DEMO_SECRET, s, assignment.name, item) for s in students]
                       if any(call in text for call in DRAWING_CALLS) else [0]) for item, text in tests.items()}
    submissions = [(PERFECT, perfect, frozenset()), (SOURCE, source, frozenset()), (BLANK, released, items)]
    submissions += [(f"{MISTAKE} {m.id}", m.apply(perfect), frozenset(m.loses))
                    for m in load_catalogue(assignment) if mistakes is None or m.id in mistakes]
    styles = [s for s in load_styles(assignment) if mistakes is None or s.id in mistakes]
    submissions += [(f"{STYLE} {r.id} ({r.describe()})", r.apply(perfect), frozenset())
                    for r in style_rounds(styles)]
    result = SweepResult(assignment.name, seeds, len(submissions))
    cwd = str(course.source_notebook(assignment).parent)
    for name, nb, expected in submissions:
        failed = grade_in_kernel(nb, tests, cwd, seeds_of)
        result.runs += len(failed)
        found = [Mismatch(name, students[k], frozenset(f), expected, f)
                 for k, f in enumerate(failed) if frozenset(f) != expected]
        result.mismatches += found
        progress(f"{assignment.name}: {name}: " + (f"{len(found)} of {seeds} seeds wrong" if found else "ok"))
    result.seconds = time.perf_counter() - started
    return result
