"""Demonstration cells: run by the student, not while grading (no score depends on them).

A notebook's teaching cells show things: a network trained with the student's own engine, a
curve, a table. Their output is for the student's eyes and no test reads what they compute, yet
they cost a grading kernel as much as the tests (assignment 6's training run: a third of the
notebook). The instructor tags such a cell ``demo`` in the source notebook. Grading skips it, and
says so where its output would be, when all of these hold for the handed-in notebook:

* the cell is, character for character, a ``demo`` cell of the instructor's source notebook (so a
  student can neither make the grader skip other code nor change what a skipped cell would do);
* no name it binds (assigned, defined or imported at top level) is read by anything that runs:
  the student's other cells (also from inside a function, defined before or after it), the demo
  cells that must run, and the tests (reads are found with :mod:`symtable`; ``x += 1`` reads x);
* no cell of the student's reaches the kernel's names indirectly (``globals()``, ``eval``, ``sys``,
  IPython's history, a magic other than ``%matplotlib``/``%config``, code that does not parse):
  where one does, no cell is skipped at all.

The source notebook's demo cells are checked by the suite (tests/test_course_structure.py): each
binds at least one name, and on the instructor's own notebook, tests included, exactly the tagged
cells would be skipped.
"""
from __future__ import annotations

import ast
import functools
import re
import symtable
from pathlib import Path

import nbformat

#: The cell tag (in the source notebook) of a cell that only demonstrates.
DEMO_TAG = "demo"
#: What the feedback shows where a skipped cell's output would be.
NOT_RUN = ("[not run while grading: this cell only demonstrates (no score depends on it); run the "
           "notebook to see its output]\n")
#: Words through which a student's code can reach any name of the kernel: where one occurs in a
#: cell of the student's (a test cell's own source is the instructor's), nothing is skipped.
INDIRECT = frozenset({"globals", "locals", "vars", "eval", "exec", "compile", "get_ipython", "__main__",
                      "__builtins__", "__import__", "__dict__", "getattr", "_ih", "_oh", "_i", "_ii", "_iii",
                      "sys", "inspect", "builtins", "importlib", "symtable"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: IPython magics that read no name of the kernel (any other magic counts as indirect access).
_HARMLESS_MAGIC = re.compile(r"^[ \t]*%(matplotlib|config)\b[^\n]*$", re.M)


def _python(source: str) -> str | None:
    """The cell as plain Python (harmless magics left out); None when it is not."""
    source = _HARMLESS_MAGIC.sub("", source)
    try:
        ast.parse(source)
    except SyntaxError:
        return None
    return source


def is_demo(cell) -> bool:
    return cell.get("cell_type") == "code" and DEMO_TAG in cell.get("metadata", {}).get("tags", [])


def bound_names(source: str) -> frozenset[str] | None:
    """The names a cell binds at top level; None when it is not plain Python (a magic, say)."""
    source = _python(source)
    if source is None:
        return None
    table = symtable.symtable(source, "<cell>", "exec")
    return frozenset(s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported())


def reads(source: str) -> set[str]:
    """The names of the kernel's namespace a cell may read: the globals its top level and its
    functions use but the cell itself does not bind first (a name it assigns and also changes in
    place, ``x += 1``, counts as read). Code that is not plain Python: every word of it."""
    plain = _python(source)
    if plain is None:
        return words(source)
    table, tree = symtable.symtable(plain, "<cell>", "exec"), ast.parse(plain)
    found = {s.get_name() for s in table.get_symbols()
             if s.is_referenced() and not (s.is_assigned() or s.is_imported())}
    stack = list(table.get_children())
    while stack:
        scope = stack.pop()
        found.update(s.get_name() for s in scope.get_symbols() if s.is_global())
        stack.extend(scope.get_children())
    found.update(node.target.id for node in ast.walk(tree)
                 if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name))
    return found


def words(source: str) -> set[str]:
    """Every identifier-like word of ``source``, strings and comments included."""
    return set(_WORD.findall(source))


def skipped(sources: list[str | None], demo_sources: frozenset[str], tests: list[str] = (),
            student: list[bool] | None = None) -> set[int]:
    """Indices of the cells to skip.

    ``sources``: the notebook's code-cell sources (None for a cell that is not code);
    ``demo_sources``: the instructor's demo cells; ``tests``: the sources of the tests the judge
    runs for this notebook; ``student``: for each cell, whether its code is the student's (False
    for a test cell, whose handed-in source never runs); all True by default.
    """
    student = student if student is not None else [True] * len(sources)
    candidates = {}
    for index, source in enumerate(sources):
        if source is not None and source in demo_sources:
            names = bound_names(source)
            if names:
                candidates[index] = names
    if not candidates:
        return set()
    running = [i for i, source in enumerate(sources)
               if source is not None and i not in candidates and student[i]]
    if any(words(sources[i]) & INDIRECT or _python(sources[i]) is None for i in running):
        return set()   # code that may reach any name (or that cannot be read): every demo runs
    needed = set().union(*(reads(sources[i]) for i in running), *(reads(t) for t in tests))
    # A candidate whose names something that runs reads must run too, and then what it reads is
    # needed as well: drop such candidates until nothing changes.
    candidate_reads = {i: reads(sources[i]) for i in candidates}
    skip = set(candidates)
    while True:
        needed_now = needed.union(*(candidate_reads[i] for i in candidates if i not in skip))
        kept = {i for i in skip if candidates[i] & needed_now}
        if not kept:
            return skip
        skip -= kept


@functools.lru_cache(maxsize=32)
def _demo_sources(path: str, modified: float) -> frozenset[str]:
    nb = nbformat.read(path, as_version=4)
    return frozenset(cell.source for cell in nb.cells if is_demo(cell))


def demo_sources(notebook: Path) -> frozenset[str]:
    """The sources of the demo cells of the instructor's notebook (none if it cannot be read)."""
    try:
        return _demo_sources(str(notebook), notebook.stat().st_mtime)
    except (OSError, ValueError, nbformat.reader.NotJSONError):
        return frozenset()
