"""Quick red-team loop: run one corpus entry through the course's JudgedExecute, no gradebook.

    .venv/bin/python tests/adversarial/redteam_tools/quick.py tests/adversarial/redteam.toml ID [--sandbox]

Builds the entry's hand-in exactly as tests/test_adversarial.py does (from the scratch-free
release, perfect solutions or a catalogued mistake), runs the notebook with the course's
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
from classgrader.model.catalogue import load_catalogue  # noqa: E402
from classgrader.model.course import Course  # noqa: E402
from classgrader.model.notebooks import (autograded_items, fill_from_solutions, is_autograded_test,  # noqa: E402
                                         nbgrader_meta, replace_definition)

COURSE = Course(ROOT)


def build(attack: dict, assignment_name: str) -> tuple[nbformat.NotebookNode, frozenset]:
    assignment = COURSE.assignment(assignment_name)
    released = nbformat.read(COURSE.release_notebook(assignment), as_version=4)
    perfect = fill_from_solutions(released, assignment.solutions_module)
    kind = attack["base"]
    if kind == "blank":
        nb, lost = released, frozenset(autograded_items(released))
    elif kind == "perfect":
        nb, lost = perfect, frozenset()
    else:
        mistake = {m.id: m for m in load_catalogue(assignment)}[kind.split(":", 1)[1]]
        nb, lost = mistake.apply(perfect), frozenset(mistake.loses)
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    code = attack.get("code", "")

    def append(grade_id, text):
        cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == grade_id)
        cell.source = cell.source.rstrip("\n") + "\n\n" + text.strip("\n") + "\n"

    if "replace" in attack:
        nb = replace_definition(nb, attack["replace"], code)
    elif "append_to" in attack:
        append(attack["append_to"], code)
    for grade_id, more in attack.get("also_append", {}).items():
        append(grade_id, more)
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
