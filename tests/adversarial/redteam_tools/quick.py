"""Quick red-team loop: run one corpus entry through the course's JudgedExecute, no gradebook.

    .venv/bin/python tests/adversarial/redteam_tools/quick.py tests/adversarial/redteam.toml ID [--sandbox]

Builds the entry's hand-in as tests/test_adversarial.py does (its base and its code; handed-in
`files` are not written, so use grade.py for those), runs the notebook with the course's
JudgedExecute preprocessor, with the test cells taken from source/ (as the gradebook would give
them), and prints each autograded test cell's verdict and the points. Exploration only: the
real check is tests/test_adversarial.py, through `classgrader grade` and plain nbgrader.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))

import classgrader.grade.preprocessors as pre  # noqa: E402
import test_adversarial as ta  # noqa: E402
from classgrader.model.notebooks import autograded_items, is_autograded_test, nbgrader_meta, replace_definition  # noqa: E402

COURSE = ta.COURSE


def build(attack: dict, assignment_name: str) -> tuple[nbformat.NotebookNode, frozenset]:
    """The entry's hand-in as a notebook (as tests/test_adversarial.py builds it, without a course)."""
    ta.ASSIGNMENT = assignment_name
    nb, lost = ta._base(COURSE, attack)
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    if "replace" in attack:
        nb = replace_definition(nb, attack["replace"], attack.get("code", ""))
    elif "append_to" in attack:
        ta._append(nb, attack["append_to"], attack.get("code", ""))
    for grade_id, more in attack.get("also_append", {}).items():
        ta._append(nb, grade_id, more)
    return nb, lost


def run(nb, assignment_name: str, sandbox: bool, timeout: int):
    source = nbformat.read(COURSE.source_notebook(COURSE.assignment(assignment_name)), as_version=4)
    cells = tuple((nbgrader_meta(c)["grade_id"], c.cell_type, c.source)
                  for c in source.cells if nbgrader_meta(c).get("grade_id"))
    pre.source_cells = lambda resources: cells
    ep = pre.JudgedExecute(timeout=timeout, notebook_budget=120,
                           sandbox_kernel="calculus-for-ml-sandbox" if sandbox else "")
    start = time.monotonic()
    nb, _ = ep.preprocess(nb, {"metadata": {"path": str(COURSE.folder("release") / assignment_name)}})
    return nb, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("toml")
    parser.add_argument("ids", nargs="*")
    parser.add_argument("--assignment", default="01-derivatives")
    parser.add_argument("--sandbox", action="store_true")
    parser.add_argument("--timeout", type=int, default=8)
    parser.add_argument("--all-outputs", action="store_true")
    args = parser.parse_args()
    attacks = tomllib.loads(Path(args.toml).read_text())["attack"]
    for attack in attacks:
        if args.ids and attack["id"] not in args.ids:
            continue
        assignment = attack.get("assignment", args.assignment)
        nb, lost_by_base = build(attack, assignment)
        items = autograded_items(nb)
        base = sum(p for i, p in items.items() if i not in lost_by_base)
        graded, seconds = run(nb, assignment, args.sandbox, args.timeout)
        score = 0.0
        print(f"=== {attack['id']} ({seconds:.1f} s)")
        for cell in graded.cells:
            if cell.cell_type != "code":
                continue
            if is_autograded_test(cell):
                gid = nbgrader_meta(cell)["grade_id"]
                errors = [o for o in cell.outputs if o.get("output_type") == "error"]
                if not errors:
                    score += items[gid]
                print(f"  {gid:32s} {'PASS' if not errors else 'fail'}"
                      + (f"  {errors[0]['ename']}: {errors[0]['evalue'][:300]!r}" if errors else ""))
            elif args.all_outputs and cell.outputs:
                print("  [student cell]", json.dumps(cell.outputs)[:1500])
        verdict = "GAINED" if score > base else "ok"
        print(f"  score {score} / base {base} -> {verdict}")


if __name__ == "__main__":
    main()
