"""Static scan of everything a student handed in, for known grader tricks.

The scan reads the student's own cells of the graded notebook and every other file of the hand-in
(a ``sitecustomize.py``, a ``classgrader/`` package, another notebook, a data file that was
changed). Each flag names the file and the line. A match does not change a score; it *flags* the
submission so that a person reads it. The
patterns are the tricks in ``../shared/notes/grading-threats.md`` and the adversarial corpus:
changing how IPython runs cells, patching builtins, modules or the course's checks, importing the
solutions, reaching files outside the submission, killing the process, and objects that claim to
equal everything.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat

from classgrader.model.notebooks import nbgrader_meta

#: (pattern, reason). Edit freely: each is a regular expression over one cell's source.
PATTERNS: list[tuple[str, str]] = [
    (r"input_transformers|ast_transformers|input_transformer_manager", "changes IPython's input or AST transformers"),
    (r"\bget_ipython\s*\(", "reaches into the IPython shell"),
    (r"showtraceback|showsyntaxerror|run_cell|user_expressions", "patches how IPython runs cells or reports errors"),
    (r"\bbuiltins\b|__builtins__", "touches builtins"),
    (r"sys\.modules|meta_path|path_hooks|__import__|importlib", "changes the import machinery"),
    (r"\b(from|import)\s+(solutions|classgrader)\b|classgrader\.", "imports the solutions or the grader's own code"),
    (r"\bopen\s*\(\s*[rbf]*['\"](/|\.\.)|\.\./|os\.(listdir|scandir|walk)|glob\.|pathlib", "reads or lists files outside its folder"),
    (r"gradebook|\bsource/|\brelease/|autograded|submitted", "names the course's private folders"),
    (r"os\._exit|os\.kill|signal\.|sys\.exit|atexit", "kills or traps the process"),
    (r"\bsocket\b|urllib|requests|http\.client", "uses the network"),
    (r"subprocess|os\.system|os\.popen|os\.fork|ctypes", "starts processes or calls C directly"),
    (r"def\s+__eq__|def\s+__ne__|def\s+__bool__|def\s+__float__", "defines comparison dunders (an always-equal object?)"),
    (r"settrace|setprofile|gc\.get_objects|inspect\.(stack|currentframe)|sys\._getframe", "inspects or traces the running tests"),
    (r"np\.\w+\s*=[^=]|numpy\.\w+\s*=[^=]|math\.\w+\s*=[^=]", "replaces a numpy or math function"),
]
_COMPILED = [(re.compile(p), reason) for p, reason in PATTERNS]


#: Handed-in files that Python could import or run (ignored when grading, flagged for a person).
CODE_SUFFIXES = (".py", ".pyc", ".pth", ".so", ".pyx")
#: Larger files are listed but not read.
MAX_BYTES = 2_000_000


def scan_lines(text: str, where: str) -> list[str]:
    """Flags for ``text``, each ``where, line N: reason ('match')``."""
    flags = []
    for number, line in enumerate(text.splitlines(), start=1):
        for pattern, reason in _COMPILED:
            match = pattern.search(line)
            if match:
                flags.append(f"{where}, line {number}: {reason} ({match.group(0).strip()!r})")
    return flags


def scan_notebook(nb: nbformat.NotebookNode, released: nbformat.NotebookNode, name: str = "notebook") -> list[str]:
    """Flags for the code the student wrote in notebook ``name``.

    Cells whose source is exactly as released (the instructor's own code) are not scanned, nor
    are locked and test cells (nbgrader restores those from the gradebook).
    """
    as_released = {cell.source for cell in released.cells}
    flags = []
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        editable = not meta.get("locked") and not (meta.get("grade") and not meta.get("solution"))
        if cell.cell_type != "code" or not editable or cell.source in as_released:
            continue
        flags += scan_lines(cell.source, f"{name}, cell {meta.get('grade_id') or cell.get('id', '?')}")
    return flags


def _same(path: Path, shipped_copies: list[Path]) -> bool:
    return any(copy.is_file() and copy.stat().st_size == path.stat().st_size and copy.read_bytes() == path.read_bytes()
               for copy in shipped_copies)


def _scan_file(path: Path, relative: str, extra: bool) -> list[str]:
    flags = []
    if extra and path.suffix in CODE_SUFFIXES:
        flags.append(f"{relative}: Python code handed in next to the notebook (not part of the assignment: ignored)")
    if path.stat().st_size > MAX_BYTES:
        return flags + [f"{relative}: larger than {MAX_BYTES} bytes, not read"]
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return flags
    return flags + scan_lines(text, relative)


def _scan_any_notebook(path: Path, relative: str, notebooks: dict[str, nbformat.NotebookNode]) -> list[str]:
    """A graded notebook against its release; another one (a checkpoint copy, say) against them all."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - not a notebook after all: read it as text
        return _scan_file(path, relative, extra=False)
    released = notebooks.get(relative) or nbformat.v4.new_notebook(
        cells=[cell for release in notebooks.values() for cell in release.cells])
    return scan_notebook(nb, released, relative)


def scan_handin(folder: Path, notebooks: dict[str, nbformat.NotebookNode], shipped_from: list[Path],
                extra: list[str]) -> list[str]:
    """Flags for everything in a hand-in ``folder``, sorted.

    ``notebooks`` maps each graded notebook's file name to its release; ``shipped_from`` are the
    assignment's own folders (a file handed in unchanged from there is not read); ``extra`` the
    hand-in's paths that are not part of the assignment (see :func:`classgrader.grade.handin.unreleased`).
    """
    flags = [f"{e}: a symbolic link (not followed, ignored)" for e in extra if (folder / e.rstrip(os.sep)).is_symlink()]
    for root, dirs, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            relative = str(path.relative_to(folder))
            if path.is_symlink() or _same(path, [Path(f, relative) for f in shipped_from]):
                continue
            if path.suffix == ".ipynb":
                flags += _scan_any_notebook(path, relative, notebooks)
            else:
                is_extra = any(relative == e or (e.endswith(os.sep) and relative.startswith(e)) for e in extra)
                flags += _scan_file(path, relative, is_extra)
    return sorted(set(flags))
