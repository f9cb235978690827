"""Reading nbgrader cell metadata and building submissions from notebooks.

Used to build the demo class and the suite's submissions: a notebook whose solution cells are
filled from the solutions package, and the same notebook with one definition (a function, a class
or a method) replaced or patched by a catalogued mistake.
"""
from __future__ import annotations

import ast
import copy
import inspect
import textwrap
from typing import Iterator

import nbformat
from nbformat import NotebookNode


def nbgrader_meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_solution_cell(cell: NotebookNode) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_autograded_test(cell: NotebookNode) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def grade_ids(nb: NotebookNode) -> list[str]:
    """grade_ids of every nbgrader cell (solution, test, locked), in notebook order."""
    return [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("grade_id")]


def autograded_items(nb: NotebookNode) -> dict[str, float]:
    """grade_id -> points of every autograded test cell."""
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"])
            for c in nb.cells if is_autograded_test(c)}


def defined_names(source: str) -> list[str]:
    """Top-level functions, classes and assigned names that a cell defines."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _solution_code_cells(nb: NotebookNode) -> Iterator[NotebookNode]:
    return (c for c in nb.cells if c.cell_type == "code" and is_solution_cell(c))


def fill_from_solutions(release: NotebookNode, module_name: str) -> NotebookNode:
    """A copy of a released notebook with every solution code cell answered by the package.

    Each solution cell is replaced by the source of the objects it defines (functions and
    classes via :func:`inspect.getsource`, constants via ``repr``), taken from ``module_name``.

    Raises
    ------
    LookupError
        If the module lacks a name that a solution cell defines.
    """
    from classgrader.model.course import import_solutions

    module = import_solutions(module_name)
    filled = copy.deepcopy(release)
    for cell in _solution_code_cells(filled):
        names = defined_names(cell.source)
        if not names:
            raise LookupError(f"solution cell {nbgrader_meta(cell)['grade_id']!r} defines nothing")
        parts = []
        for name in names:
            if not hasattr(module, name):
                raise LookupError(f"{module_name} has no {name!r}, which the notebook asks for")
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                parts.append(inspect.getsource(obj).rstrip())
            else:
                parts.append(f"{name} = {obj!r}")
        cell.source = "\n\n\n".join(parts) + "\n"
    return filled


def _find_definition(tree: ast.Module, target: str) -> ast.AST | None:
    """The function or class ``target`` names (``"f"``, ``"Value"`` or ``"Value.__mul__"``)."""
    body, node = tree.body, None
    for part in target.split("."):
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            return None
        body = node.body
    return node


def definition_source(nb: NotebookNode, target: str) -> tuple[NotebookNode, int, int, int]:
    """Where a solution cell defines ``target``: (cell, first line, end line, indentation).

    Lines are 0-based and the end is exclusive; decorators belong to the definition.

    Raises
    ------
    LookupError
        If no solution cell defines ``target``.
    """
    for cell in _solution_code_cells(nb):
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        node = _find_definition(tree, target)
        if node is not None:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            return cell, start, node.end_lineno, node.col_offset
    raise LookupError(f"no solution cell defines {target!r}")


def replace_definition(nb: NotebookNode, target: str, code: str) -> NotebookNode:
    """A copy of ``nb`` in which the definition of ``target`` (a function, class or method) is ``code``.

    ``code`` is written without indentation; a method is indented to its place in the class.

    Raises
    ------
    LookupError
        If no solution cell defines ``target``.
    """
    changed = copy.deepcopy(nb)
    cell, start, end, indent = definition_source(changed, target)
    lines = cell.source.splitlines()
    new = textwrap.indent(textwrap.dedent(code.strip("\n")), " " * indent).splitlines()
    cell.source = "\n".join(lines[:start] + new + lines[end:]) + "\n"
    return changed


def patch_definition(nb: NotebookNode, target: str, patches: list[tuple[str, str]]) -> NotebookNode:
    """A copy of ``nb`` with text replacements applied inside the definition of ``target``.

    Each ``(old, new)`` replaces ``old``, which must occur exactly once in that definition.

    Raises
    ------
    LookupError
        If ``target`` is not defined, or an ``old`` text does not occur exactly once in it.
    """
    changed = copy.deepcopy(nb)
    cell, start, end, _indent = definition_source(changed, target)
    lines = cell.source.splitlines()
    text = "\n".join(lines[start:end])
    for old, new in patches:
        count = text.count(old)
        if count != 1:
            raise LookupError(f"{target}: the text to patch must occur exactly once, but {old!r} "
                              f"occurs {count} times")
        text = text.replace(old, new)
    cell.source = "\n".join(lines[:start] + text.splitlines() + lines[end:]) + "\n"
    return changed


def error_messages(nb: NotebookNode) -> dict[str, str]:
    """grade_id -> the error text (exception name, message and traceback) of each failed cell."""
    messages = {}
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if not grade_id or cell.cell_type != "code":
            continue
        texts = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                texts.append(f"{output.get('ename')}: {output.get('evalue')}")
                texts.extend(output.get("traceback", []))
            elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                texts.append(output.get("text", ""))
        if texts:
            messages[grade_id] = "\n".join(texts)
    return messages


def clean(nb: NotebookNode) -> list[str]:
    """Reasons why a source notebook is not stored clean (empty list when it is)."""
    problems = []
    if (nb.nbformat, nb.nbformat_minor) < (4, 5):
        problems.append(f"nbformat {nb.nbformat}.{nb.nbformat_minor}, expected 4.5 (cell ids)")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as err:
        problems.append(f"invalid notebook: {err.message}")
    ids = [c.get("id") for c in nb.cells]
    if None in ids or len(set(ids)) != len(ids):
        problems.append("cell ids missing or repeated")
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"cell {cell.get('id')} has outputs or an execution count")
    gids = grade_ids(nb)
    repeated = sorted({g for g in gids if gids.count(g) > 1})
    if repeated:
        problems.append(f"repeated grade_ids: {', '.join(repeated)}")
    return problems
