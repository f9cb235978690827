"""The course as nbgrader sees it: where things are, read from ``nbgrader_config.py``.

Nothing here repeats a setting of ``nbgrader_config.py``: the file is loaded with traitlets'
own loader, exactly as the ``nbgrader`` command loads it, and the folders and the gradebook URL
come from nbgrader's :class:`~nbgrader.coursedir.CourseDirectory`.
"""
from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

CONFIG_FILE = "nbgrader_config.py"
REPO_ROOT = Path(__file__).resolve().parent.parent


class CourseError(Exception):
    """A problem with the course folder itself (not with one submission)."""


@dataclass(frozen=True)
class Assignment:
    """One assignment: ``source/<name>/<notebook>.ipynb``.

    The reference module is named after the notebook (``derivatives.ipynb`` ->
    ``solutions.derivatives``) and the mistake catalogue after the assignment
    (``tests/mistakes/01-derivatives.toml``).
    """

    name: str
    notebook: str

    @property
    def solutions_module(self) -> str:
        return "solutions." + self.notebook.replace("-", "_")

    @property
    def number(self) -> str:
        return self.name.split("-", 1)[0]


@dataclass(frozen=True)
class Mistake:
    """One catalogued wrong answer (see ``tests/mistakes/*.toml``)."""

    assignment: str
    id: str
    function: str
    description: str
    loses: tuple[str, ...]
    feedback: tuple[str, ...]
    code: str

    @property
    def student(self) -> str:
        return f"{self.assignment.split('-', 1)[0]}-{self.id}"


class Course:
    """An nbgrader course folder with this course's layout.

    Parameters
    ----------
    root : path-like
        The folder holding ``nbgrader_config.py``, ``source/``, ``release/`` and so on.
    """

    def __init__(self, root: os.PathLike | str = REPO_ROOT):
        self.root = Path(root).resolve()
        if not (self.root / CONFIG_FILE).is_file():
            raise CourseError(f"{self.root} is not a course folder: it has no {CONFIG_FILE}")

    @functools.cached_property
    def config(self) -> Config:
        """The course's nbgrader configuration, loaded the way nbgrader loads it."""
        loader = PyFileConfigLoader(CONFIG_FILE, path=str(self.root))
        try:
            return loader.load_config()
        except Exception as err:  # noqa: BLE001 - reported with the file name
            raise CourseError(f"cannot load {self.root / CONFIG_FILE}: {err}") from err

    def coursedir(self) -> CourseDirectory:
        """nbgrader's CourseDirectory for this course."""
        return CourseDirectory(config=self.config, root=str(self.root))

    @property
    def db_url(self) -> str:
        return self.coursedir().db_url

    def folder(self, kind: str) -> Path:
        """``source``, ``release``, ``submitted``, ``autograded`` or ``feedback`` folder."""
        coursedir = self.coursedir()
        name = getattr(coursedir, f"{kind}_directory")
        return self.root / name

    def assignments(self) -> list[Assignment]:
        """Every assignment in ``source/``, in order; each folder holds exactly one notebook."""
        source = self.folder("source")
        if not source.is_dir():
            raise CourseError(f"{source} does not exist")
        return [self._assignment_in(folder) for folder in sorted(source.iterdir())
                if folder.is_dir() and not folder.name.startswith((".", "_"))]

    def assignment(self, name: str) -> Assignment:
        """The assignment in ``source/<name>``."""
        folder = self.folder("source") / name
        if not folder.is_dir():
            known = ", ".join(a.name for a in self.assignments())
            raise CourseError(f"no assignment {name!r} in {self.folder('source')} (known: {known})")
        return self._assignment_in(folder)

    @staticmethod
    def _assignment_in(folder: Path) -> Assignment:
        notebooks = sorted(folder.glob("*.ipynb"))
        if len(notebooks) != 1:
            raise CourseError(f"{folder} must contain exactly one notebook, found {len(notebooks)}")
        return Assignment(folder.name, notebooks[0].stem)

    def source_notebook(self, assignment: Assignment) -> Path:
        return self.folder("source") / assignment.name / f"{assignment.notebook}.ipynb"

    def release_notebook(self, assignment: Assignment) -> Path:
        return self.folder("release") / assignment.name / f"{assignment.notebook}.ipynb"


def catalogue_path(assignment: Assignment, folder: Path | None = None) -> Path:
    """Where the mistake catalogue of an assignment lives."""
    return (folder or REPO_ROOT / "tests" / "mistakes") / f"{assignment.name}.toml"


def load_catalogue(assignment: Assignment, folder: Path | None = None) -> list[Mistake]:
    """Read and validate an assignment's mistake catalogue (empty if there is none).

    Raises
    ------
    CourseError
        When the file is not valid TOML or an entry misses a field or repeats an id.
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
        where = f"{path}, mistake #{index}"
        for key in ("id", "function", "loses", "code"):
            if key not in entry:
                raise CourseError(f"{where}: missing field {key!r}")
        if entry["id"] in seen:
            raise CourseError(f"{where}: id {entry['id']!r} is used twice")
        if not isinstance(entry["loses"], list) or not entry["loses"]:
            raise CourseError(f"{where}: 'loses' must be a non-empty list of grade_ids")
        seen.add(entry["id"])
        mistakes.append(Mistake(
            assignment=assignment.name,
            id=entry["id"],
            function=entry["function"],
            description=entry.get("description", ""),
            loses=tuple(entry["loses"]),
            feedback=tuple(entry.get("feedback", [])),
            code=entry["code"],
        ))
    return mistakes
