"""The mistake catalogues: realistic wrong answers and the items each must lose, and correct answers
written in other styles, which must keep every point.

``tests/mistakes/<assignment>.toml`` holds one ``[[mistake]]`` per wrong answer and one ``[[style]]``
per alternative correct answer (the file's header explains the fields). Each changes one
definition of the reference answer:

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
#: The fields a ``[[style]]`` entry may have; the first three are required.
STYLE_FIELDS = ("id", "function", "description", "code", "patch")
#: What a style's demo student id starts with after the assignment's number: ``02-style-loops``.
STYLE_PREFIX = "style-"


@dataclass(frozen=True)
class Rewrite:
    """One definition of the reference answer written another way (a mistake or a style)."""

    assignment: str
    id: str
    function: str
    description: str
    code: str = ""
    patch: tuple[tuple[str, str], ...] = ()

    @property
    def student(self) -> str:
        """The student id of this entry's demo submission, e.g. ``01-divide-2-times-h``."""
        return f"{self.assignment.split('-', 1)[0]}-{self.id}"

    def apply(self, answer: NotebookNode) -> NotebookNode:
        """A copy of ``answer`` (a correct notebook) with this definition rewritten."""
        if self.patch:
            return patch_definition(answer, self.function, list(self.patch))
        return replace_definition(answer, self.function, self.code)


@dataclass(frozen=True)
class Mistake(Rewrite):
    """One catalogued wrong answer: it loses exactly ``loses``, with ``feedback`` in the messages."""

    loses: tuple[str, ...] = ()
    feedback: tuple[str, ...] = ()


@dataclass(frozen=True)
class Style(Rewrite):
    """One correct answer in another style than the reference's: it keeps every point (handed in
    with others of its :class:`StyleRound`)."""


@dataclass(frozen=True)
class StyleRound:
    """Styles of different functions handed in together: one submission that must keep full marks.

    Grading one submission per round instead of one per style keeps the suite short; an item the
    round loses names the function, so the style that broke it is the one for that function.
    """

    assignment: str
    number: int
    styles: tuple[Style, ...]

    @property
    def id(self) -> str:
        return f"round-{self.number}"

    @property
    def student(self) -> str:
        """The student id of this round's demo submission, e.g. ``03-style-round-2``."""
        return f"{self.assignment.split('-', 1)[0]}-{STYLE_PREFIX}{self.id}"

    def describe(self) -> str:
        """Which style each function of this round is written in."""
        return ", ".join(f"{s.function}: {s.id}" for s in self.styles)

    def apply(self, answer: NotebookNode) -> NotebookNode:
        """A copy of ``answer`` with every style of the round written in."""
        for style in self.styles:
            answer = style.apply(answer)
        return answer


def _overlap(first: str, second: str) -> bool:
    """Whether two definitions cannot both be rewritten in one notebook: the same one, or a class
    and one of its methods."""
    return first == second or first.startswith(second + ".") or second.startswith(first + ".")


def style_rounds(styles: list[Style]) -> list[StyleRound]:
    """The styles in few submissions: each goes into the first round that rewrites nothing it
    overlaps with (so round k holds the k-th style of each function), in catalogue order."""
    rounds: list[list[Style]] = []
    for style in styles:
        free = next((r for r in rounds if not any(_overlap(style.function, s.function) for s in r)), None)
        if free is None:
            free = []
            rounds.append(free)
        free.append(style)
    return [StyleRound(group[0].assignment, k + 1, tuple(group)) for k, group in enumerate(rounds)]


def catalogue_path(assignment: Assignment, folder: Path | None = None) -> Path:
    """Where the mistake catalogue of an assignment lives."""
    return (folder or REPO_ROOT / "tests" / "mistakes") / f"{assignment.name}.toml"


def _rewrite(entry: dict, fields: tuple[str, ...], required: tuple[str, ...], where: str) -> dict:
    """The checked fields shared by mistakes and styles (``code`` or ``patch``, never both)."""
    for key in required:
        if key not in entry:
            raise CourseError(f"{where}: missing field {key!r}")
    unknown = sorted(set(entry) - set(fields))
    if unknown:
        raise CourseError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}")
    if ("code" in entry) == ("patch" in entry):
        raise CourseError(f"{where}: give exactly one of 'code' (the whole definition) or 'patch'")
    patch = entry.get("patch", [])
    if not isinstance(patch, list) or not all(isinstance(p, dict) and set(p) == {"old", "new"} for p in patch):
        raise CourseError(f"{where}: 'patch' must be a list of {{old = \"...\", new = \"...\"}} tables")
    return {"id": entry["id"], "function": entry["function"], "description": entry.get("description", ""),
            "code": entry.get("code", ""), "patch": tuple((p["old"], p["new"]) for p in patch)}


def _parse(entry: dict, assignment: Assignment, where: str) -> Mistake:
    common = _rewrite(entry, FIELDS, FIELDS[:4], where)
    if not isinstance(entry["loses"], list) or not entry["loses"]:
        raise CourseError(f"{where}: 'loses' must be a non-empty list of grade_ids")
    if not isinstance(entry["feedback"], list) or not entry["feedback"]:
        raise CourseError(f"{where}: 'feedback' must name words the failure message contains")
    return Mistake(assignment=assignment.name, loses=tuple(entry["loses"]), feedback=tuple(entry["feedback"]),
                   **common)


def _parse_style(entry: dict, assignment: Assignment, where: str) -> Style:
    return Style(assignment=assignment.name, **_rewrite(entry, STYLE_FIELDS, STYLE_FIELDS[:3], where))


def _load(assignment: Assignment, folder: Path | None, table: str, parse) -> list:
    path = catalogue_path(assignment, folder)
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise CourseError(f"{path}: not valid TOML: {err}") from err
    entries, seen = [], set()
    for index, entry in enumerate(data.get(table, []), start=1):
        parsed = parse(entry, assignment, f"{path}, {table} #{index}")
        if parsed.id in seen:
            raise CourseError(f"{path}, {table} #{index}: id {parsed.id!r} is used twice")
        seen.add(parsed.id)
        entries.append(parsed)
    return entries


def load_catalogue(assignment: Assignment, folder: Path | None = None) -> list[Mistake]:
    """Read and validate an assignment's mistake catalogue (empty if there is none).

    Raises
    ------
    CourseError
        When the file is not valid TOML, or an entry misses a field, has an unknown one, or repeats
        an id.
    """
    return _load(assignment, folder, "mistake", _parse)


def load_styles(assignment: Assignment, folder: Path | None = None) -> list[Style]:
    """Read and validate the ``[[style]]`` entries of an assignment's catalogue: correct answers
    written another way, each of which must keep full marks (same errors as :func:`load_catalogue`)."""
    return _load(assignment, folder, "style", _parse_style)
