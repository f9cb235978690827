"""Grade a few corpus entries for real, the way tests/test_adversarial.py does, and show the result.

    .venv/bin/python tests/adversarial/redteam_tools/grade.py tests/adversarial/redteam.toml ID... \
        [--way grade-command|plain-nbgrader|both] [--keep]

One scratch course per way (canaries planted, the test's short timeouts), only the chosen entries
(and no perfect/blank student unless --ordinary), then: the gradebook score against the base's
and the entry's expectation, the status and flags of the grade command, the verdict of every test
cell, any canary, hidden line or protected marker found in the outputs or the feedback page, the
files named in `writes`, and the loopback server's connection count.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))

import test_adversarial as ta  # noqa: E402
from classgrader.demo.builder import hand_in  # noqa: E402
from classgrader.model.course import Course, temporary_course  # noqa: E402
from classgrader.model.notebooks import fill_from_solutions, is_autograded_test, nbgrader_meta  # noqa: E402
from classgrader.model.status import STATUS_FILE  # noqa: E402
from classgrader.release.release import release  # noqa: E402


def scratch(attacks: list[dict], listener, ordinary: bool) -> Course:
    root = temporary_course(ta.COURSE, [ta.ASSIGNMENT])
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(ta.TEST_SETTINGS)
    (root / "secret-canary.txt").write_text("classgrader-canary-7f3a")
    if ta.ASSIGNMENT == "01-derivatives":   # the planted canary calls forward_difference
        ta._plant_canary(root)
    course = Course(root)
    release(course, [course.assignment(ta.ASSIGNMENT)])
    if ordinary:
        assignment = course.assignment(ta.ASSIGNMENT)
        released = nbformat.read(course.release_notebook(assignment), as_version=4)
        hand_in(course, "perfect", assignment, fill_from_solutions(released, assignment.solutions_module))
        hand_in(course, "blank", assignment, released)
    for attack in attacks:
        ta._build(course, attack, listener.port)
    return course


def _notebook(course: Course, folder: str, student: str, suffix: str = ".ipynb") -> Path:
    return course.folder(folder) / student / ta.ASSIGNMENT / (course.assignment(ta.ASSIGNMENT).notebook + suffix)


def outputs(course: Course, student: str) -> str:
    graded = _notebook(course, "autograded", student)
    if not graded.exists():
        return ""
    return json.dumps([c.get("outputs", []) for c in nbformat.read(graded, as_version=4).cells])


def feedback(course: Course, student: str) -> str:
    page = _notebook(course, "feedback", student, ".html")
    return page.read_text(errors="replace") if page.exists() else ""


def verdicts(course: Course, student: str) -> list[str]:
    graded = _notebook(course, "autograded", student)
    if not graded.exists():
        return ["(no autograded notebook)"]
    lines = []
    for cell in nbformat.read(graded, as_version=4).cells:
        if is_autograded_test(cell):
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            lines.append(f"{nbgrader_meta(cell)['grade_id']:32s} " + (
                "PASS" if not errors else f"fail {errors[0]['ename']}: {errors[0]['evalue'][:200]!r}"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("toml")
    parser.add_argument("ids", nargs="*")
    parser.add_argument("--way", default="both", choices=["both", *ta.WAYS])
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--ordinary", action="store_true", help="also hand in a perfect and a blank student")
    args = parser.parse_args()
    attacks = [a for a in tomllib.loads(Path(args.toml).read_text())["attack"] if not args.ids or a["id"] in args.ids]
    assignments = {a.get("assignment", ta.ASSIGNMENT) for a in attacks}
    if len(assignments) != 1:
        raise SystemExit(f"grade entries of one assignment at a time, not {sorted(assignments)}")
    ta.ASSIGNMENT = assignments.pop()
    ways = ta.WAYS if args.way == "both" else (args.way,)
    for way in ways:
        listener = ta._Listener()
        course = scratch(attacks, listener, args.ordinary)
        start = time.monotonic()
        done = ta._run(course, way)
        seconds = time.monotonic() - start
        listener.close()
        scores = ta._scores(course)
        status_file = course.root / STATUS_FILE
        status = {r["student"]: r for r in json.loads(status_file.read_text())} if status_file.exists() else {}
        hidden = ta._hidden_lines(course)
        print(f"##### {way}: exit {done.returncode} in {seconds:.0f} s; loopback connections: {listener.connections}")
        if done.returncode:
            print("  stderr tail:", done.stderr[-1500:].replace("\n", "\n    "))
        for student in (["perfect", "blank"] if args.ordinary else []):
            print(f"  {student}: {scores.get(student)}")
        for attack in attacks:
            most, exact = ta._expected(course, attack)
            score = scores.get(attack["id"])
            gained = score is not None and score > most
            wrong = exact is not None and score != exact
            print(f"=== {attack['id']}: score {score} (base {most}, entry expects {exact}) "
                  f"{'GAINED' if gained else ''}{' NOT-AS-EXPECTED' if wrong and not gained else ''}")
            outcome = status.get(attack["id"])
            if outcome:
                print(f"  status {outcome['status']}: {outcome.get('reason', '')[:300]} flags={outcome.get('flags')}")
            for line in verdicts(course, attack["id"]):
                print("  ", line)
            shown, page = outputs(course, attack["id"]), feedback(course, attack["id"])
            for secret in [*ta.LEAK_MARKERS, ta.CANARY_COMMENT, ta.CANARY_VALUE, *hidden]:
                if secret in shown:
                    print(f"  LEAK in outputs: {secret!r}")
                if secret in page and secret not in ta.LEAK_MARKERS[:4]:
                    print(f"  LEAK in feedback: {secret!r}")
            for text in attack.get("feedback_must_not_contain", []):
                if text in page:
                    print(f"  FEEDBACK HOLDS {text!r}")
            for path in attack.get("writes", []):
                target = Path(path) if Path(path).is_absolute() else course.root / path
                if target.exists():
                    print(f"  WROTE {target}")
        if args.keep:
            print("  kept:", course.root)
        else:
            shutil.rmtree(course.root, ignore_errors=True)
    Path("/tmp/classgrader-pwned.txt").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
