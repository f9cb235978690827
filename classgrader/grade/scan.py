"""Static scan of a submission's own cells for known grader tricks.

A match does not change a score; it *flags* the submission so that a person reads it. The
patterns are the tricks in ``../shared/notes/grading-threats.md`` and the adversarial corpus:
changing how IPython runs cells, patching builtins, modules or the course's checks, importing the
solutions, reaching files outside the submission, killing the process, and objects that claim to
equal everything.
"""
from __future__ import annotations

import re

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


def scan_notebook(nb: nbformat.NotebookNode, released: nbformat.NotebookNode) -> list[str]:
    """Reasons to flag a submission, found in the code the student wrote.

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
        for pattern, reason in _COMPILED:
            match = pattern.search(cell.source)
            if match:
                where = meta.get("grade_id") or cell.get("id", "?")
                flags.append(f"cell {where}: {reason} ({match.group(0).strip()!r})")
    return sorted(set(flags))
