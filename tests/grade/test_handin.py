"""A hand-in is only what was released: extra files are listed, ignored when grading, and scanned."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from classgrader.demo.builder import hand_in
from classgrader.grade.handin import remove_from, shipped, unreleased
from classgrader.grade.scan import scan_handin
from classgrader.model.catalogue import load_catalogue
from classgrader.model.course import REPO_ROOT, Course, ensure_tools_on_path, temporary_course
from classgrader.model.notebooks import fill_from_solutions
from classgrader.release.release import release

ASSIGNMENT = "01-derivatives"
#: A classgrader package handed in next to the notebook: checks that pass everything, a launcher.
FAKE_GRADER = {
    "classgrader/__init__.py": "",
    "classgrader/checks.py": "def __getattr__(name):\n    return lambda *a, **k: None\n",
    "classgrader/grade/__init__.py": "",
    "classgrader/grade/sandbox.py": "import os\nos.system('touch /tmp/classgrader-pwned.txt')\n",
    "sitecustomize.py": "import builtins\nbuiltins.print = lambda *a, **k: None\n",
    "numpy/__init__.py": "raise ImportError('a numpy handed in by the student')\n",
    "notes.txt": "my notes\n",
}


def _write(folder: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_unreleased_lists_folders_once_files_and_links(tmp_path):
    release_dir, handed = tmp_path / "release", tmp_path / "handed"
    _write(release_dir, {"nb.ipynb": "{}", "data/points.csv": "1,2\n"})
    _write(handed, {"nb.ipynb": "{}", "data/points.csv": "1,2\n", "data/extra.csv": "3\n", **FAKE_GRADER})
    (handed / "link.csv").symlink_to(REPO_ROOT / "nbgrader_config.py")
    extra = unreleased(handed, shipped(release_dir))
    assert extra == ["classgrader/", "data/extra.csv", "link.csv", "notes.txt", "numpy/", "sitecustomize.py"]
    copy = tmp_path / "kernel-folder"
    shutil.copytree(handed, copy, symlinks=True)
    assert remove_from(copy, extra) == extra
    assert sorted(str(p.relative_to(copy)) for p in copy.rglob("*")) == ["data", "data/points.csv", "nb.ipynb"]
    assert (REPO_ROOT / "nbgrader_config.py").exists(), "a link is removed, never what it points to"


def test_scan_reads_every_file_and_names_file_and_line(tmp_path):
    course = Course(REPO_ROOT)
    assignment = course.assignment(ASSIGNMENT)
    released = nbformat.read(course.release_notebook(assignment), as_version=4)
    handed = tmp_path / "handed"
    shutil.copytree(course.folder("release") / ASSIGNMENT, handed)
    _write(handed, FAKE_GRADER)
    checkpoint = handed / ".ipynb_checkpoints" / f"{assignment.notebook}-checkpoint.ipynb"
    checkpoint.parent.mkdir()
    shutil.copy(course.release_notebook(assignment), checkpoint)
    (handed / "link").symlink_to(REPO_ROOT)
    own = [course.folder("release") / ASSIGNMENT, course.folder("source") / ASSIGNMENT]
    extra = unreleased(handed, shipped(*own))
    flags = scan_handin(handed, {f"{assignment.notebook}.ipynb": released}, own, extra)
    text = "\n".join(flags)
    assert "classgrader/grade/sandbox.py, line 2: starts processes or calls C directly ('os.system')" in flags
    assert "sitecustomize.py, line 1: touches builtins ('builtins')" in flags
    assert "sitecustomize.py: Python code handed in next to the notebook (not part of the assignment: ignored)" in flags
    assert "link/: a symbolic link (not followed, ignored)" in flags
    assert "sherpa.md" not in text and ".ipynb_checkpoints" not in text, "unchanged released content is not flagged"
    assert "notes.txt" not in text


@pytest.fixture(scope="module")
def graded_handins():
    """A perfect hand-in and a catalogued mistake, each with a fake grader package next to the notebook."""
    ensure_tools_on_path()
    root = temporary_course(Course(REPO_ROOT), [ASSIGNMENT])
    course = Course(root)
    assignment = course.assignment(ASSIGNMENT)
    release(course, [assignment])
    released = nbformat.read(course.release_notebook(assignment), as_version=4)
    perfect = fill_from_solutions(released, assignment.solutions_module)
    mistake = {m.id: m for m in load_catalogue(assignment)}["forward-as-central"]
    hand_in(course, "perfect-extras", assignment, perfect)
    hand_in(course, "mistake-extras", assignment, mistake.apply(perfect))
    for student in ("perfect-extras", "mistake-extras"):
        _write(course.folder("submitted") / student / ASSIGNMENT, FAKE_GRADER)
    done = subprocess.run([sys.executable, "-m", "classgrader", "--course", str(root), "grade", "--jobs", "1"],
                          capture_output=True, text=True, timeout=900)
    status = {r["student"]: r for r in json.loads((root / "grading-status.json").read_text())}
    report = subprocess.run([sys.executable, "-m", "classgrader", "--course", str(root), "report"],
                            capture_output=True, text=True, timeout=300)
    try:
        yield course, done, status, report
    finally:
        shutil.rmtree(root, ignore_errors=True)
        Path("/tmp/classgrader-pwned.txt").unlink(missing_ok=True)


def _score(course: Course, student: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gradebook:
        return gradebook.find_submission(ASSIGNMENT, student).score


@pytest.mark.autograde
def test_extra_files_are_ignored_listed_and_flagged(graded_handins):
    course, done, status, report = graded_handins
    assert done.returncode == 0, done.stderr[-2000:]
    assert _score(course, "perfect-extras") == 14
    assert _score(course, "mistake-extras") == 12, "fake checks next to the notebook gained points"
    for student in ("perfect-extras", "mistake-extras"):
        assert status[student]["ignored"] == ["classgrader/", "notes.txt", "numpy/", "sitecustomize.py"]
        assert status[student]["status"] == "flagged"
        assert any(f.startswith("classgrader/grade/sandbox.py, line 2:") for f in status[student]["flags"])
        folder = course.folder("autograded") / student / ASSIGNMENT
        assert sorted(p.name for p in folder.iterdir()) == ["derivatives.ipynb", "sherpa.md"]
    assert not Path("/tmp/classgrader-pwned.txt").exists()
    text = (course.root / "reports" / "report.md").read_text()
    assert "classgrader/grade/sandbox.py, line 2: starts processes" in text
    assert "ignored (not part of the assignment): `sitecustomize.py`" in text


@pytest.mark.autograde
def test_plain_nbgrader_autograde_also_keeps_only_released_files(graded_handins):
    course = graded_handins[0]
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--student", "mistake-extras",
                           "--force"], cwd=course.root, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "not part of the assignment, ignored: classgrader/, notes.txt, numpy/, sitecustomize.py" in done.stderr
    folder = course.folder("autograded") / "mistake-extras" / ASSIGNMENT
    assert sorted(p.name for p in folder.iterdir()) == ["derivatives.ipynb", "sherpa.md"]
    assert _score(course, "mistake-extras") == 12
