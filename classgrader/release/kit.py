"""The student kit (``make student-kit``): everything a student needs and nothing of the answers.

A kit is a self-contained folder, ready to push as a GitHub Classroom template repository or to
copy onto a JupyterHub:

* every assignment's released folder from ``release/`` (the notebook, ``sherpa.md``, data files);
* the picture library as a distribution of its own (``tools/mlviz/``: its own ``pyproject.toml``
  and the ``mlviz`` package copied from the repository, nothing else);
* ``requirements.txt`` (JupyterLab, nbgrader for the Validate button, ipykernel, and the picture
  library), with the version ranges of the course's ``pyproject.toml``;
* a short student README whose two commands set up the environment and open JupyterLab;
* ``check_notebooks.py`` and a CI workflow without any secret that runs the visible checks on
  every push.

Before a kit is put in place, :func:`find_secrets` scans it for solution and hidden-test markers,
distinctive lines of the source notebooks' solutions and hidden tests and of the ``solutions``
package, a gradebook, and the grader's name; a kit with any of them is refused and nothing is
written. An existing kit is replaced only if it is one (it holds :data:`MARKER`); its ``.git``
folder is kept, so a kit checked out from its template repository can be rebuilt in place.
"""
from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

import nbformat
from packaging.requirements import Requirement

from classgrader.model.course import Course, CourseError
from classgrader.model.notebooks import nbgrader_meta

KIT_FILES = Path(__file__).with_name("kit_files")
#: Written into every kit; a folder that holds it may be replaced by a new kit.
MARKER = ".student-kit"
#: Where the picture library's distribution goes inside the kit, and its name there.
MLVIZ_DIST = Path("tools") / "mlviz"
MLVIZ_DISTRIBUTION = "calculus-for-ml-mlviz"
#: What the student's environment installs besides the picture library (versions: pyproject.toml).
STUDENT_TOOLS = ("jupyterlab", "nbgrader", "ipykernel", "jsonschema")
#: What the picture library itself needs (versions: pyproject.toml).
PICTURE_NEEDS = ("numpy", "matplotlib", "pillow", "ipywidgets")
#: Lines shorter than this are too common to count as a solution's fingerprint.
MIN_DISTINCTIVE = 20
#: Names that must not appear in a kit at all, in any case (the grader and its package name).
FORBIDDEN_WORDS = ("classgrader",)
IMPORTS_SOLUTIONS = re.compile(r"^\s*(from|import)\s+solutions\b", re.MULTILINE)
SQLITE_MAGIC = b"SQLite format 3\x00"
NOT_SCANNED = {".git", ".venv"}


class KitError(CourseError):
    """The kit cannot be built (or would leak something); nothing was written."""


# --------------------------------------------------------------------------- building
def default_destination(course: Course) -> Path:
    return course.root / "build" / "student-kit"


def build_kit(course: Course, destination: os.PathLike | str | None = None) -> Path:
    """Write the student kit to ``destination`` (default ``build/student-kit``) and return it.

    Raises
    ------
    KitError
        When the destination is not acceptable (see :func:`_check_destination`), a release is
        missing, or the kit would contain something secret. Nothing is changed then.
    """
    destination = Path(destination or default_destination(course)).expanduser().resolve()
    _check_destination(course, destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}-", dir=destination.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)   # mkdtemp makes it private; a kit is an ordinary folder
    try:
        _write_kit(course, staging)
        problems = find_secrets(staging, course)
        if problems:
            raise KitError("the kit would contain what students must not see; nothing written:\n  "
                           + "\n  ".join(problems[:20]))
        _put_in_place(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return destination


def _check_destination(course: Course, destination: Path) -> None:
    """Refuse a destination that would overwrite the course or anything that is not a kit."""
    root = course.root
    if destination == root or root.is_relative_to(destination):
        raise KitError(f"{destination} holds the course itself; choose a folder of its own")
    if destination.is_relative_to(root) and not destination.is_relative_to(root / "build"):
        raise KitError(f"{destination} is inside the course; inside it, a kit may only go under "
                       f"{root / 'build'} (git-ignored), e.g. the default {default_destination(course)}")
    if destination.exists():
        if not destination.is_dir():
            raise KitError(f"{destination} exists and is not a folder")
        leftovers = [p.name for p in destination.iterdir() if p.name != ".git"]
        if leftovers and not (destination / MARKER).is_file():
            raise KitError(f"{destination} is not empty and is not a student kit (no {MARKER}); "
                           f"refusing to replace it")


def _put_in_place(staging: Path, destination: Path) -> None:
    """Replace ``destination`` by ``staging``, keeping an existing kit's ``.git``."""
    if not destination.exists():
        staging.rename(destination)
        return
    if (destination / ".git").exists():
        shutil.move(str(destination / ".git"), str(staging / ".git"))
    old = destination.with_name(f".{destination.name}-old-{os.getpid()}")
    destination.rename(old)
    staging.rename(destination)
    shutil.rmtree(old, ignore_errors=True)


def _write_kit(course: Course, kit: Path) -> None:
    project = _pyproject(course)
    ignore = shutil.ignore_patterns(*course.coursedir().ignore)
    rows = []
    for assignment in course.assignments():
        notebook = course.release_notebook(assignment)
        if not notebook.is_file():
            raise KitError(f"{notebook} is missing: run `make release` first")
        shutil.copytree(notebook.parent, kit / assignment.name, ignore=ignore)
        relative = f"{assignment.name}/{notebook.name}"
        rows.append(f"| [`{relative}`]({relative}) | {_title(notebook)} |")
    first = f"{course.assignments()[0].name}/{course.release_notebook(course.assignments()[0]).name}"

    _write_picture_library(course, project, kit / MLVIZ_DIST)
    requirements = ["# The course environment: JupyterLab with nbgrader's Validate button, and the",
                    "# course's picture library (installed from this folder).",
                    *_requirements(project, STUDENT_TOOLS), f"./{MLVIZ_DIST.as_posix()}"]
    (kit / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")

    readme = (KIT_FILES / "README.md").read_text(encoding="utf-8")
    table = "| notebook | topic |\n|---|---|\n" + "\n".join(rows)
    (kit / "README.md").write_text(readme.format(first_notebook=first, notebooks=table), encoding="utf-8")
    shutil.copy2(KIT_FILES / "check_notebooks.py", kit / "check_notebooks.py")
    workflows = kit / ".github" / "workflows"
    workflows.mkdir(parents=True)
    shutil.copy2(KIT_FILES / "visible-checks.yml", workflows / "visible-checks.yml")
    shutil.copy2(KIT_FILES / "gitignore", kit / ".gitignore")
    (kit / MARKER).write_text(
        f"A student kit of {project['name']} {project['version']}, written by `make student-kit`.\n"
        "Rebuilding replaces this whole folder (its .git is kept).\n", encoding="utf-8")


def _pyproject(course: Course) -> dict:
    path = course.root / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise KitError(f"cannot read {path}: {err}") from err
    return {**data["project"], "_package_dir": data["tool"]["setuptools"]["package-dir"]}


def _requirements(project: dict, names: tuple[str, ...]) -> list[str]:
    """The course's own requirement strings for ``names`` (one source for the version ranges)."""
    by_name = {Requirement(text).name.lower(): text for text in project["dependencies"]}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise KitError(f"pyproject.toml does not list {', '.join(missing)} among the dependencies")
    return [by_name[name] for name in names]


def _write_picture_library(course: Course, project: dict, dist: Path) -> None:
    """``tools/mlviz``: a distribution of its own holding the ``mlviz`` package and nothing else."""
    source = course.root / project["_package_dir"]["mlviz"]
    shutil.copytree(source, dist / "src" / "mlviz",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
    dependencies = ",\n".join(f"    {json.dumps(r)}" for r in _requirements(project, PICTURE_NEEDS))
    (dist / "pyproject.toml").write_text(f"""\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "{MLVIZ_DISTRIBUTION}"
version = "{project['version']}"
description = "The pictures of the Calculus for ML notebooks (import mlviz)."
readme = "README.md"
requires-python = "{project['requires-python']}"
license = "{project['license']}"
dependencies = [
{dependencies},
]

[tool.setuptools.packages.find]
where = ["src"]
""", encoding="utf-8")
    (dist / "README.md").write_text(
        "# mlviz\n\nThe course's picture library: one function per kind of picture, each returning\n"
        "the matplotlib Figure and Axes. The notebooks import it (`import mlviz`); the modules also\n"
        "run from the command line (`python -m mlviz.gradient_descent --help`).\n", encoding="utf-8")


def _title(notebook: Path) -> str:
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return notebook.stem


# --------------------------------------------------------------------------- what must not leak
def _delimiters(course: Course) -> dict[str, tuple[str, str]]:
    """Region kind -> (begin, end) of solution, hidden-test and mark-scheme regions, as configured."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearSolutions

    solutions = ClearSolutions(config=course.config)
    tests = ClearHiddenTests(config=course.config)
    scheme = ClearMarkScheme(config=course.config)
    return {"solution": (solutions.begin_solution_delimeter, solutions.end_solution_delimeter),
            "hidden tests": (tests.begin_test_delimeter, tests.end_test_delimeter),
            "mark scheme": (scheme.begin_mark_scheme_delimeter, scheme.end_mark_scheme_delimeter)}


def _distinctive(line: str) -> bool:
    return len(line) >= MIN_DISTINCTIVE and any(ch.isalpha() for ch in line)


def secret_lines(course: Course) -> dict[str, str]:
    """Distinctive lines a kit must not contain, each with where it comes from.

    They are the lines inside the source notebooks' solution, hidden-test and mark-scheme regions
    (and of whole solution cells without a region, which nbgrader replaces by a stub) and the
    lines of the ``solutions`` package, minus lines that are public anyway: those of the source
    notebooks outside any region (they are released) and those of the picture library (shipped
    in the kit). A line counts when it has at least :data:`MIN_DISTINCTIVE` characters once
    stripped.
    """
    delimiters = _delimiters(course)
    secret: dict[str, str] = {}
    public: set[str] = set()
    for assignment in course.assignments():
        path = course.source_notebook(assignment)
        for cell in nbformat.read(path, as_version=4).cells:
            whole = nbgrader_meta(cell).get("solution") and not any(
                begin in cell.source for begin, _ in delimiters.values())
            region = "solution" if whole else None
            for line in cell.source.splitlines():
                opened = next((k for k, (begin, _) in delimiters.items() if begin in line), None)
                if opened:
                    region = opened
                elif any(end in line for _, end in delimiters.values()):
                    region = None
                elif region:
                    secret.setdefault(line.strip(), f"{path.relative_to(course.root)} (cell "
                                                    f"{nbgrader_meta(cell).get('grade_id', '?')}, {region})")
                else:
                    public.add(line.strip())
    for module in sorted((course.root / "solutions").glob("*.py")):
        for line in module.read_text(encoding="utf-8").splitlines():
            secret.setdefault(line.strip(), str(module.relative_to(course.root)))
    library = course.root / _pyproject(course)["_package_dir"]["mlviz"]
    for module in library.rglob("*.py"):
        public.update(line.strip() for line in module.read_text(encoding="utf-8").splitlines())
    return {line: origin for line, origin in secret.items()
            if _distinctive(line) and line not in public}


def _notebook_text(path: Path) -> str:
    """Every string in a notebook (sources, outputs, metadata) as plain text, one per line."""
    strings: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, list):
            if value and all(isinstance(v, str) for v in value):
                strings.append("".join(value))   # a multi-line source stored as a list
            else:
                for v in value:
                    walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    walk(json.loads(path.read_text(encoding="utf-8")))
    return "\n".join(strings)


def find_secrets(kit: Path, course: Course) -> list[str]:
    """Everything in ``kit`` that students must not see, one line per finding (empty: none).

    Checked in every file (``.git`` and ``.venv`` excepted): a gradebook (an SQLite file or a
    ``*.db``), the solutions package (a ``solutions`` folder, or code importing it), nbgrader's
    region markers, the grader's name, and any line of :func:`secret_lines`. Notebooks are read
    as notebooks, so a line hidden in a JSON string is found too.
    """
    lines = secret_lines(course)
    markers = [m for pair in _delimiters(course).values() for m in pair]
    findings = []
    for path in sorted(kit.rglob("*")):
        relative = path.relative_to(kit)
        if NOT_SCANNED & set(relative.parts) or not path.is_file():
            if path.is_dir() and path.name == "solutions" and not NOT_SCANNED & set(relative.parts):
                findings.append(f"{relative}/: a solutions package")
            continue
        raw = path.read_bytes()
        if raw.startswith(SQLITE_MAGIC) or fnmatch.fnmatch(path.name, "*.db"):
            findings.append(f"{relative}: a gradebook (database file)")
            continue
        try:
            text = _notebook_text(path) if path.suffix == ".ipynb" else raw.decode("utf-8")
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue   # pictures and other binary files hold no code
        for marker in markers:
            if marker in text:
                findings.append(f"{relative}: contains the marker {marker!r}")
        for word in FORBIDDEN_WORDS:
            if word in text.lower():
                findings.append(f"{relative}: mentions {word!r}")
        if IMPORTS_SOLUTIONS.search(text):
            findings.append(f"{relative}: imports the solutions package")
        for line in text.splitlines():
            origin = lines.get(line.strip())
            if origin:
                findings.append(f"{relative}: a line of {origin}: {line.strip()[:80]!r}")
    return findings
