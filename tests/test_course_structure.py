"""The course's conventions, checked on every assignment (static: nothing is executed here)."""
from __future__ import annotations

import ast
import inspect
import json
import re
import shutil

import nbformat
import pytest

from classgrader.model.catalogue import catalogue_path, load_catalogue, load_styles, style_rounds
from classgrader.model.course import Course, import_solutions, temporary_course
from classgrader.release.release import release
from classgrader.model.notebooks import (autograded_items, clean, fill_from_solutions, is_autograded_test,
                                         is_solution_cell, nbgrader_meta)
from conftest import ASSIGNMENTS, COURSE

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def _source(name):
    return nbformat.read(COURSE.source_notebook(COURSE.assignment(name)), as_version=4)


def _release(name):
    return nbformat.read(COURSE.release_notebook(COURSE.assignment(name)), as_version=4)


def _tests(nb):
    return [c for c in nb.cells if is_autograded_test(c)]


def test_every_assignment_has_its_parts(course):
    assert ASSIGNMENTS, "no assignments found in source/"
    for name in ASSIGNMENTS:
        assignment = course.assignment(name)
        assert course.release_notebook(assignment).exists(), f"release/ lacks {name}: run make release"
        assert catalogue_path(assignment).exists(), f"{name} has no mistake catalogue"
        import_solutions(assignment.solutions_module)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_is_stored_clean(assignment):
    problems = clean(_source(assignment))
    assert not problems, "; ".join(problems)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells_follow_the_pattern(assignment):
    """Docstring first, hidden block next, visible check last; points given; no solutions import."""
    for cell in _tests(_source(assignment)):
        grade_id = nbgrader_meta(cell)["grade_id"]
        tree = ast.parse(cell.source)
        assert tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant) \
            and isinstance(tree.body[0].value.value, str), f"{grade_id}: must start with a one-line docstring"
        assert "\n" not in tree.body[0].value.value.strip(), f"{grade_id}: the docstring must be one line"
        lines = [line for line in cell.source.splitlines() if line.strip()]
        assert HIDDEN_BEGIN in lines and HIDDEN_END in lines, f"{grade_id}: no hidden tests"
        assert lines.index(HIDDEN_BEGIN) == 1, f"{grade_id}: the hidden block must come right after the docstring"
        assert nbgrader_meta(cell)["points"] > 0
        assert not re.search(r"^\s*(from|import)\s+solutions\b", cell.source, re.M), \
            f"{grade_id}: hidden tests must never import the solutions package"
        last = tree.body[-1]
        assert not isinstance(last, ast.Expr) or isinstance(last.value, ast.Call), \
            f"{grade_id}: a bare expression as the last line would be read as partial credit"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grade_ids_are_unique_and_meaningful(assignment):
    ids = [nbgrader_meta(c)["grade_id"] for c in _source(assignment).cells if nbgrader_meta(c).get("grade_id")]
    assert len(ids) == len(set(ids))
    for grade_id in ids:
        assert re.fullmatch(r"[a-z][a-z0-9_]+", grade_id) and not re.fullmatch(r"cell[-_]?\w*", grade_id), grade_id


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_shows_no_answers(assignment):
    text = json.dumps(_release(assignment))
    for secret in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "classgrader", "solutions"):
        assert secret not in text, f"the release of {assignment} contains {secret!r}"
    for cell in _release(assignment).cells:
        if is_solution_cell(cell) and cell.cell_type == "code":
            assert "raise NotImplementedError()" in cell.source


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_has_a_manually_graded_written_answer(assignment):
    answers = [c for c in _source(assignment).cells
               if c.cell_type == "markdown" and nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")]
    assert answers and all(nbgrader_meta(c)["points"] > 0 for c in answers)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_catalogue_has_eight_mistakes_and_covers_every_item(assignment):
    mistakes = load_catalogue(COURSE.assignment(assignment))
    assert len(mistakes) >= 8, f"{assignment} catalogues {len(mistakes)} mistakes; at least 8 are required"
    items = set(autograded_items(_source(assignment)))
    covered = set().union(*(m.loses for m in mistakes))
    assert covered <= items, f"unknown items in the catalogue: {covered - items}"
    assert items <= covered, f"items no catalogued mistake fails (a test that cannot fail?): {items - covered}"
    assert all(m.feedback for m in mistakes), "every mistake names words its feedback must contain"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_catalogue_has_three_correct_styles_that_rewrite_real_definitions(assignment):
    target = COURSE.assignment(assignment)
    styles = load_styles(target)
    assert len(styles) >= 3, f"{assignment} catalogues {len(styles)} styles; at least 3 are required"
    assert all(s.description for s in styles), "every style says how it differs from the reference"
    assert not {r.student for r in style_rounds(styles)} & {m.student for m in load_catalogue(target)}
    perfect = fill_from_solutions(nbformat.read(COURSE.release_notebook(target), as_version=4), target.solutions_module)
    for styled in style_rounds(styles):
        assert styled.apply(perfect) != perfect, f"{styled.describe()} changed nothing"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_module_documents_every_function(assignment):
    module = import_solutions(COURSE.assignment(assignment).solutions_module)
    public = [f for name, f in inspect.getmembers(module, inspect.isfunction)
              if not name.startswith("_") and f.__module__ == module.__name__]
    assert public
    for function in public:
        doc = inspect.getdoc(function) or ""
        assert len(doc.splitlines()) >= 2, f"{function.__name__} needs a numpydoc docstring"


def test_release_is_in_sync_with_source():
    """Regenerate every release into a scratch course and compare with the committed release/."""
    scratch = Course(temporary_course(COURSE))
    try:
        release(scratch, scratch.assignments())
        for assignment in scratch.assignments():
            fresh = scratch.release_notebook(assignment).read_text(encoding="utf-8")
            committed = COURSE.release_notebook(assignment).read_text(encoding="utf-8")
            assert json.loads(fresh) == json.loads(committed), \
                f"release/{assignment.name} is out of date: run `make release` and commit it"
            fresh_files = sorted(p.name for p in (scratch.folder("release") / assignment.name).iterdir())
            committed_files = sorted(p.name for p in (COURSE.folder("release") / assignment.name).iterdir())
            assert fresh_files == committed_files
    finally:
        shutil.rmtree(scratch.root, ignore_errors=True)


def _imported_modules(source: str) -> set[str]:
    names = set()
    python = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    for node in ast.walk(ast.parse(python)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_grading_needs_no_dependency_outside_the_main_ones():
    """The course-side workflow grades with `make venv EXTRAS=`: whatever the grader and the test
    cells import must come from the main dependencies, never from the `dev` extra alone."""
    import sys
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((COURSE.root / "pyproject.toml").read_text())["project"]
    def names(specs):
        return {re.split(r"[<>=\[ ;]", spec)[0].lower() for spec in specs}

    main, dev = names(project["dependencies"]), names(project["optional-dependencies"]["dev"])
    sources = [path.read_text() for path in (COURSE.root / "classgrader").rglob("*.py")]
    for name in ASSIGNMENTS:
        nb = nbformat.read(COURSE.source_notebook(COURSE.assignment(name)), as_version=4)
        sources += [cell.source for cell in nb.cells if cell.cell_type == "code"]
    imported = set().union(*map(_imported_modules, sources)) - set(sys.stdlib_module_names)
    distributions = packages_distributions()
    needed = {dist.lower() for module in imported for dist in distributions.get(module, [])}
    assert needed & dev - main == set(), "grading imports these: move them from `dev` to [project] dependencies"
    assert "hypothesis" in needed, "the test can see what the grader imports"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_demo_cells_are_what_grading_may_skip(assignment):
    """Every cell tagged ``demo`` is ungraded code that binds something, and on the instructor's own
    notebook (tests included) grading would skip exactly those cells: nothing else reads them."""
    from classgrader.grade import demos

    nb = nbformat.read(COURSE.source_notebook(COURSE.assignment(assignment)), as_version=4)
    tagged = {i for i, cell in enumerate(nb.cells) if demos.is_demo(cell)}
    assert tagged, "tag the cells that only demonstrate 'demo': grading skips them"
    for i in tagged:
        assert not nbgrader_meta(nb.cells[i]), f"cell {i} is an nbgrader cell: it cannot be a demo"
        assert demos.bound_names(nb.cells[i].source), f"cell {i} binds no name: grading never skips it"
    sources = [cell.source if cell.cell_type == "code" else None for cell in nb.cells]
    tests = [cell.source for cell in nb.cells if is_autograded_test(cell)]
    skipped = demos.skipped(sources, frozenset(sources[i] for i in tagged), tests,
                            [not is_autograded_test(cell) for cell in nb.cells])
    assert skipped == tagged, f"demo cells that something else reads: {sorted(tagged - skipped)}"
