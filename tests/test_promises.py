"""README's promise tables: every autograded item is there, and every name in them is real."""
from __future__ import annotations

import re

import nbformat
import pytest

from classgrader.model.catalogue import load_catalogue
from classgrader.model.course import REPO_ROOT, import_solutions
from classgrader.model.notebooks import autograded_items
from conftest import ASSIGNMENTS, COURSE


def _table(assignment: str) -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### What each assignment promises", 1)[1].split("</details>", 1)[0]
    parts = re.split(r"^#### ", section, flags=re.M)
    found = [p for p in parts if p.startswith(assignment)]
    assert found, f"README has no promise table for {assignment}"
    return found[0]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_item_has_its_promises_in_the_readme(assignment):
    items = autograded_items(nbformat.read(COURSE.source_notebook(COURSE.assignment(assignment)), as_version=4))
    table = _table(assignment)
    missing = [item for item in items if f"`{item}`" not in table]
    assert not missing, f"items of {assignment} that no promise names: {missing}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_name_in_a_promise_table_is_an_item_a_mistake_or_a_function(assignment):
    source = COURSE.source_notebook(COURSE.assignment(assignment))
    nb = nbformat.read(source, as_version=4)
    reference = import_solutions(COURSE.assignment(assignment).solutions_module)
    known = set(autograded_items(nb)) | {m.id for m in load_catalogue(COURSE.assignment(assignment))} \
        | {name for name in dir(reference) if not name.startswith("_")}
    table = _table(assignment)
    checked = {name for row in table.splitlines() if row.startswith("|")
               for cell in row.split("|")[3:] for name in re.findall(r"`([a-z][a-z0-9_-]+)`", cell)}
    assert checked, f"the table of {assignment} names no item"
    unknown = sorted(n for n in checked if n not in known and ("_" in n or "-" in n))
    assert not unknown, f"names in {assignment}'s promise table that are neither items nor mistakes: {unknown}"
