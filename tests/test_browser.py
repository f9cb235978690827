"""The released notebooks in the real student front end: JupyterLab in Chromium, nbgrader's Validate.

A copy of ``release/`` is served by ``jupyter lab`` (from the running environment, on loopback)
and each notebook is driven through the page the way a student would drive it:

1. the released notebook, every code cell run: the only errors are ``NotImplementedError``
   from the exercises not yet done (checked in the page and in the file saved with Ctrl+S);
2. the notebook answered from the ``solutions`` package, Run > Run All Cells: no error at
   all, every figure cell (one calling an mlviz ``plot_*``/``animate_*``/``learning_rate_slider``)
   shows its picture, and nbgrader's *Validate* button reports success;
3. one function broken (the first solution function returns ``None``): *Validate* reports the
   failing tests. This path is the same code in every notebook, so it runs for the first
   assignment only, to keep the file's run time down.

Screenshots go to ``test-artifacts/screenshots/`` (CI uploads ``test-artifacts/``).
Debian's ``chromium`` and the ``playwright`` Python package are installed when missing (the
test skips, saying why, when they cannot be); no browser build is ever downloaded.
"""
from __future__ import annotations

import shutil

import nbformat
import pytest

from browser_support import (VALIDATE_FAILED_CELL, VALIDATE_SUCCESS, NotebookPage,
                             chromium_context, describe, ensure_chromium, ensure_playwright,
                             error_outputs, figure_cells, first_solution_function, has_picture,
                             jupyter_lab)
from classgrader.model.course import REPO_ROOT, Course
from classgrader.model.notebooks import fill_from_solutions, replace_definition

# One worker runs them all (one server, one browser). Should the tests be split over workers
# anyway (pytest-xdist 3.8's loadgroup does not group on pytest 9.2), each worker starts its own
# server and browser on its own scratch copy, so they stay correct, only heavier.
pytestmark = pytest.mark.xdist_group("browser")

COURSE = Course(REPO_ROOT)
RELEASED = [a for a in COURSE.assignments() if COURSE.release_notebook(a).is_file()]
BY_NAME = {a.name: a for a in RELEASED}
# The broken-function check runs on one notebook only (see the module docstring).
BROKEN_CHECKED = [RELEASED[0].name] if RELEASED else []
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser_tools() -> None:
    for ensure in (ensure_chromium, ensure_playwright):
        reason = ensure()
        if reason:
            print(reason)
            pytest.skip(reason)


@pytest.fixture(scope="module")
def lab(browser_tools, tmp_path_factory):
    """``jupyter lab`` serving a scratch copy of release/ (release/ itself is never written)."""
    scratch = tmp_path_factory.mktemp("browser")
    root = scratch / "course"
    shutil.copytree(COURSE.folder("release"), root,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    with jupyter_lab(root, scratch) as server:
        yield server


@pytest.fixture(scope="module")
def browser(browser_tools, tmp_path_factory):
    with chromium_context(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def open_notebook(lab, browser):
    """Write a notebook into the served copy, then open it in a new tab; closed (kernel too) after."""
    pages = []

    def _open(assignment, nb) -> NotebookPage:
        path = f"{assignment.name}/{assignment.notebook}.ipynb"
        nbformat.write(nb, lab.root / path)
        page = browser.new_page()
        pages.append(page)
        notebook = NotebookPage(page, lab, path, nb)
        try:
            notebook.open()
        except Exception as err:  # noqa: BLE001 - say which notebook, with the server's log
            pytest.fail(f"{path}: JupyterLab did not open the notebook with an idle kernel: "
                        f"{err}\nserver log:\n{lab.log_tail()}")
        return notebook

    try:
        yield _open
    finally:
        for page in pages:
            page.close()
        lab.shutdown_kernels()


def _release(assignment):
    return nbformat.read(COURSE.release_notebook(assignment), as_version=4)


WRITTEN_ANSWER = "A written answer, typed in by the browser test (graded by hand)."


def _filled(assignment):
    """The release answered from the solutions package; written (markdown) answers get a text.

    ``fill_from_solutions`` answers the code cells only, and nbgrader's Validate rightly
    reports a written answer still reading "YOUR ANSWER HERE" as not provided.
    """
    nb = fill_from_solutions(_release(assignment), assignment.solutions_module)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = WRITTEN_ANSWER
    return nb


@pytest.mark.parametrize("released", [a.name for a in RELEASED])
def test_released_notebook_raises_only_not_implemented_error(released, open_notebook):
    assignment = BY_NAME[released]
    nb = _release(assignment)
    page = open_notebook(assignment, nb)
    page.run_each_cell()
    page.screenshot(SCREENSHOTS / f"{assignment.name}-release.png")

    shown = [(i, text) for i, text in page.dom_tracebacks() if "NotImplementedError" not in text]
    if shown:
        i, text = shown[0]
        pytest.fail(f"{page.path}: {describe(nb, i)} shows an error other than "
                    f"NotImplementedError:\n{text[-1500:]}")

    saved = page.save()
    errors = error_outputs(saved)
    assert errors, f"{page.path}: no cell raised, yet the exercises are not done"
    wrong = [e for e in errors if e[1] != "NotImplementedError"]
    if wrong:
        i, ename, evalue = wrong[0]
        pytest.fail(f"{page.path}: {describe(nb, i)} raised {ename}: {evalue} (only "
                    f"NotImplementedError from the unanswered exercises is expected); "
                    f"all errors: {wrong}")
    not_run = [i for i, c in enumerate(saved.cells)
               if c.cell_type == "code" and c.source.strip() and c.get("execution_count") is None]
    assert not not_run, f"{page.path}: cells not run: {[describe(nb, i) for i in not_run]}"


@pytest.mark.parametrize("released", [a.name for a in RELEASED])
def test_answered_notebook_shows_figures_and_passes_validate(released, open_notebook):
    assignment = BY_NAME[released]
    nb = _filled(assignment)
    figures = figure_cells(nb)
    assert figures, f"{assignment.name}: no figure cell found (mlviz plot_/animate_ calls)"
    page = open_notebook(assignment, nb)
    page.run_all_from_menu()

    shown = page.dom_tracebacks()
    if shown:
        i, text = shown[0]
        pytest.fail(f"{page.path} answered from {assignment.solutions_module}: "
                    f"{describe(nb, i)} shows an error:\n{text[-1500:]}")
    missing_in_page = [i for i in figures if i not in set(page.dom_pictures())]

    saved = page.save()
    page.screenshot(SCREENSHOTS / f"{assignment.name}-answered.png")
    errors = error_outputs(saved)
    if errors:
        i, ename, evalue = errors[0]
        pytest.fail(f"{page.path} answered from {assignment.solutions_module}: "
                    f"{describe(nb, i)} raised {ename}: {evalue}")
    no_picture = [i for i in figures if not has_picture(saved.cells[i])]
    assert not no_picture, (f"{page.path}: figure cells without an image output: "
                            f"{[describe(nb, i) for i in no_picture]}")
    assert not missing_in_page, (f"{page.path}: figure cells whose picture is not shown in "
                                 f"the page: {[describe(nb, i) for i in missing_in_page]}")

    kind, text = page.validate()
    page.screenshot(SCREENSHOTS / f"{assignment.name}-validate-pass.png", full=False)
    page.close_dialog()
    assert kind == "validation-success" and VALIDATE_SUCCESS in text, (
        f"{page.path} answered from {assignment.solutions_module}: Validate said "
        f"({kind}):\n{text[:3000]}")


@pytest.mark.parametrize("released", BROKEN_CHECKED)
def test_validate_reports_a_broken_function(released, open_notebook):
    assignment = BY_NAME[released]
    filled = _filled(assignment)
    function = first_solution_function(_release(assignment))
    nb = replace_definition(filled, function, f"def {function}(*args, **kwargs):\n    return None\n")
    page = open_notebook(assignment, nb)

    kind, text = page.validate()
    page.screenshot(SCREENSHOTS / f"{assignment.name}-validate-fail.png", full=False)
    page.close_dialog()
    assert kind == "validation-failed" and VALIDATE_FAILED_CELL in text, (
        f"{page.path} with {function} returning None: Validate said ({kind}):\n{text[:3000]}")
    assert VALIDATE_SUCCESS not in text
    # the failures are the broken function's tests, not the written answers
    assert function in text and "did not provide a response" not in text, (
        f"{page.path} with {function} returning None: Validate did not name {function}'s "
        f"tests:\n{text[:3000]}")
