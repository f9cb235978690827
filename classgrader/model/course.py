"""The course as nbgrader sees it: where things are, read from ``nbgrader_config.py``.

Nothing here repeats a setting of ``nbgrader_config.py``: the file is loaded with traitlets'
own loader, exactly as the ``nbgrader`` command loads it, and the folders and the gradebook URL
come from nbgrader's :class:`~nbgrader.coursedir.CourseDirectory`.
"""
from __future__ import annotations

import functools
import importlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

CONFIG_FILE = "nbgrader_config.py"
#: The file in which nbgrader keeps a submission's time (written by submit and collect, read by
#: autograde, copied with the feedback; nbgrader spells it out in CourseDirectory and the exchange).
TIMESTAMP_FILE = "timestamp.txt"
#: The files nbgrader itself keeps with a submission (submit writes both; release_feedback reads
#: them from the feedback folder): they travel with the hand-in, though no assignment ships them.
NBGRADER_SUBMISSION_FILES = frozenset({TIMESTAMP_FILE, "submission_secret.txt"})
REPO_ROOT = Path(__file__).resolve().parents[2]


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


def temporary_course(course: Course, assignments: list[str] | None = None) -> Path:
    """A scratch course: this course's nbgrader_config.py and (some of) its source/."""
    root = Path(tempfile.mkdtemp(prefix="classgrader-course-"))
    shutil.copy2(course.root / CONFIG_FILE, root / CONFIG_FILE)
    chosen = [course.assignment(n) for n in assignments] if assignments else course.assignments()
    for assignment in chosen:
        shutil.copytree(course.folder("source") / assignment.name, root / "source" / assignment.name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return root


def solutions_on_path() -> None:
    """Make the reference package ``solutions`` (next to ``classgrader``) importable here.

    ``solutions`` is not installed into the environment on purpose: site-packages is readable from
    the grading kernel, the repository is not. Only trusted processes (the grader, the judge, the
    suite) call this.
    """
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.append(root)


def import_solutions(module_name: str):
    """Import a module of the reference package (see :func:`solutions_on_path`)."""
    solutions_on_path()
    return importlib.import_module(module_name)


def tool_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """An environment in which this Python's scripts come first on PATH.

    nbgrader runs helper programs by name (``alembic``), and the course's commands run
    ``jupyter``/``nbgrader``: they must be the ones of this environment.
    """
    env = dict(os.environ if environ is None else environ)
    bindir = str(Path(sys.executable).parent)
    parts = env.get("PATH", "").split(os.pathsep)
    if bindir not in parts:
        env["PATH"] = os.pathsep.join([bindir, *[p for p in parts if p]])
    return env


def ensure_tools_on_path() -> None:
    """Put this environment's scripts first on this process's PATH (see :func:`tool_environment`)."""
    os.environ["PATH"] = tool_environment()["PATH"]
