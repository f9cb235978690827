"""The mistake catalogues: realistic wrong answers, and the items each must lose.

``tests/mistakes/<assignment>.toml`` holds one ``[[mistake]]`` per wrong answer (the file's header
explains the fields). A mistake changes one definition of the reference answer:

* ``function`` names it: a top-level function or class (``"central_difference"``, ``"Value"``) or
  a method (``"Value.__mul__"``);
* ``code`` replaces that definition whole (a method is written without indentation), or
* ``patch`` lists text replacements inside it, ``[{old = "...", new = "..."}]``, each ``old``
  occurring exactly once, so a one-line slip is written as one line.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from classgrader.model.course import REPO_ROOT, Assignment, CourseError
from classgrader.model.notebooks import patch_definition, replace_definition

#: The fields a ``[[mistake]]`` entry may have; the first four are required.
FIELDS = ("id", "function", "loses", "feedback", "description", "code", "patch")


@dataclass(frozen=True)
class Mistake:
    """One catalogued wrong answer."""

    assignment: str
    id: str
    function: str
    description: str
    loses: tuple[str, ...]
    feedback: tuple[str, ...]
    code: str = ""
    patch: tuple[tuple[str, str], ...] = ()

    @property
    def student(self) -> str:
        """The student id of this mistake's demo submission, e.g. ``01-divide-2-times-h``."""
        return f"{self.assignment.split('-', 1)[0]}-{self.id}"

    def apply(self, answer: NotebookNode) -> NotebookNode:
        """A copy of ``answer`` (a correct notebook) with this mistake made in it."""
        if self.patch:
            return patch_definition(answer, self.function, list(self.patch))
        return replace_definition(answer, self.function, self.code)


def catalogue_path(assignment: Assignment, folder: Path | None = None) -> Path:
    """Where the mistake catalogue of an assignment lives."""
    return (folder or REPO_ROOT / "tests" / "mistakes") / f"{assignment.name}.toml"


def _parse(entry: dict, assignment: Assignment, where: str) -> Mistake:
    for key in ("id", "function", "loses", "feedback"):
        if key not in entry:
            raise CourseError(f"{where}: missing field {key!r}")
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise CourseError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}")
    if not isinstance(entry["loses"], list) or not entry["loses"]:
        raise CourseError(f"{where}: 'loses' must be a non-empty list of grade_ids")
    if not isinstance(entry["feedback"], list) or not entry["feedback"]:
        raise CourseError(f"{where}: 'feedback' must name words the failure message contains")
    if ("code" in entry) == ("patch" in entry):
        raise CourseError(f"{where}: give exactly one of 'code' (the whole definition) or 'patch'")
    patch = entry.get("patch", [])
    if not isinstance(patch, list) or not all(isinstance(p, dict) and set(p) == {"old", "new"} for p in patch):
        raise CourseError(f"{where}: 'patch' must be a list of {{old = \"...\", new = \"...\"}} tables")
    return Mistake(assignment=assignment.name, id=entry["id"], function=entry["function"],
                   description=entry.get("description", ""), loses=tuple(entry["loses"]),
                   feedback=tuple(entry["feedback"]), code=entry.get("code", ""),
                   patch=tuple((p["old"], p["new"]) for p in patch))


def load_catalogue(assignment: Assignment, folder: Path | None = None) -> list[Mistake]:
    """Read and validate an assignment's mistake catalogue (empty if there is none).

    Raises
    ------
    CourseError
        When the file is not valid TOML, or an entry misses a field, has an unknown one, or repeats
        an id.
    """
    path = catalogue_path(assignment, folder)
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise CourseError(f"{path}: not valid TOML: {err}") from err
    mistakes, seen = [], set()
    for index, entry in enumerate(data.get("mistake", []), start=1):
        mistake = _parse(entry, assignment, f"{path}, mistake #{index}")
        if mistake.id in seen:
            raise CourseError(f"{path}, mistake #{index}: id {mistake.id!r} is used twice")
        seen.add(mistake.id)
        mistakes.append(mistake)
    return mistakes
