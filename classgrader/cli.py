"""Command line of the course's grader: ``python -m classgrader <command>`` (or ``classgrader``).

Commands
--------
release     nbgrader generate_assignment for every assignment (or one), into release/
grade       integrity-check and autograde everything in submitted/ (or some of it), in parallel
feedback    nbgrader generate_feedback for everything graded
demo        the whole life cycle on a demo class in this course folder, with a results table
selfcheck   the same life cycle for one assignment in a temporary copy of the course
kit         the student kit: released notebooks, the picture library, a README and CI, no answers
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from classgrader import grading, lifecycle
from classgrader.course import REPO_ROOT, Course, CourseError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="classgrader", description=__doc__.split("\n\n")[0])
    parser.add_argument("--course", type=Path, default=REPO_ROOT,
                        help="the course folder (holding nbgrader_config.py); default: this repository")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    p = sub.add_parser("release", help="regenerate release/ from source/")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")

    p = sub.add_parser("grade", help="autograde submitted/ with integrity checks, in parallel")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--jobs", type=_positive_int, default=None, help="worker processes (default: cores)")
    p.add_argument("--force", action="store_true", help="regrade submissions that are already graded")
    p.add_argument("--strict", action="store_true", help="refuse to grade unless every sandbox layer works")
    p.add_argument("--shard", help="grade only shard K/N of the students (for a CI matrix or job array)")
    p.add_argument("--artifact", type=Path, help="with --shard: write the shard's results to this folder")

    p = sub.add_parser("merge", help="merge shard artifacts into this course's gradebook and grades.csv")
    p.add_argument("artifacts", nargs="+", type=Path, help="the shard artifact folders")
    p.add_argument("--shards", type=_positive_int, required=True, help="how many shards there were (N)")

    sub.add_parser("check", help="check that the gradebook and autograded/ agree")

    p = sub.add_parser("feedback", help="generate feedback HTML for everything graded")
    p.add_argument("--jobs", type=_positive_int, default=None)

    p = sub.add_parser("summary", help="Markdown summary of one student's results (for a CI job summary)")
    p.add_argument("--student", required=True)
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")

    sub.add_parser("report", help="grades.csv, a Canvas CSV and a class report (Markdown + PNG) in reports/")

    p = sub.add_parser("demo", help="the whole life cycle on a demo class, with a results table")
    p.add_argument("--jobs", type=_positive_int, default=None)

    p = sub.add_parser("kit", help="write the student kit: released notebooks, picture library, README, CI")
    p.add_argument("--out", type=Path, help="the kit's folder (default: build/student-kit in the course)")

    sub.add_parser("install-kernel", help="install the sandboxed grading kernel spec into this environment")
    sub.add_parser("sandbox-check", help="report which sandbox layers work on this machine")

    p = sub.add_parser("selfcheck", help="grade one assignment's demo class in a temporary course")
    p.add_argument("assignment")
    p.add_argument("--jobs", type=_positive_int, default=None)
    p.add_argument("--keep", action="store_true", help="keep the temporary course and print its path")
    return parser


def _selected(course: Course, names: list[str] | None):
    return [course.assignment(n) for n in names] if names else course.assignments()


def temporary_course(course: Course, assignments: list[str] | None = None) -> Path:
    """A scratch course: this course's nbgrader_config.py and (some of) its source/."""
    root = Path(tempfile.mkdtemp(prefix="classgrader-"))
    shutil.copy2(course.root / "nbgrader_config.py", root / "nbgrader_config.py")
    for assignment in _selected(course, assignments):
        shutil.copytree(course.folder("source") / assignment.name, root / "source" / assignment.name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return root


def _report(results: list[lifecycle.Result], seconds: float) -> int:
    print(lifecycle.table(results))
    bad = [r for r in results if not r.ok]
    graded = sum(r.outcome.scored for r in results)
    quarantined = [r for r in results if r.outcome.status == "quarantined"]
    print(f"\n{len(results)} submissions: {graded} graded, {len(quarantined)} quarantined, "
          f"{len(results) - graded - len(quarantined)} failed; {seconds:.1f} s")
    for r in quarantined:
        print(f"  quarantined {r.expectation.student}/{r.expectation.assignment}: {r.outcome.reason}")
    if bad:
        print(f"\n{len(bad)} submission(s) did NOT get what they should:")
        for r in bad:
            print(f"  {r.expectation.student}/{r.expectation.assignment}: {'; '.join(r.problems)}")
        return 1
    print("Every submission got exactly what it should.")
    return 0


def _sandbox_ready(strict: bool) -> bool:
    """Say loudly which sandbox layers work; with ``strict``, refuse unless all do."""
    from classgrader.sandbox import probe

    report = probe()
    broken = {layer: state for layer, state in report.items() if not state.startswith("ok")}
    if not broken:
        print("sandbox: " + "; ".join(f"{k} {v}" for k, v in report.items()), file=sys.stderr)
        return True
    for layer, state in broken.items():
        print(f"WARNING: sandbox layer {layer!r} is not working: {state}", file=sys.stderr)
    if strict:
        print("classgrader: --strict: refusing to grade without the full sandbox", file=sys.stderr)
        return False
    print("WARNING: grading continues WITHOUT full isolation of student code", file=sys.stderr)
    return True


def _kit(course: Course, out: Path | None) -> int:
    from classgrader.release.kit import build_kit

    kit = build_kit(course, out)
    print(f"student kit written to {kit}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    grading.ensure_tools_on_path()
    if getattr(args, "strict", False):
        os.environ["CLASSGRADER_SANDBOX_STRICT"] = "1"
    started = time.perf_counter()
    try:
        course = Course(args.course)
        if args.command == "install-kernel":
            from classgrader.sandbox import install_kernel_spec

            print(f"sandbox kernel spec installed in {install_kernel_spec()}")
            return 0
        if args.command == "sandbox-check":
            from classgrader.sandbox import probe

            report = probe()
            for layer, state in report.items():
                print(f"{layer:<12} {state}")
            return 0 if all(v.startswith("ok") for v in report.values()) else 1
        if args.command == "kit":
            return _kit(course, args.out)
        if args.command == "release":
            lifecycle.release(course, _selected(course, args.assignment))
            print(f"release/ regenerated for {', '.join(a.name for a in _selected(course, args.assignment))}")
            return 0
        if args.command == "merge":
            from classgrader import shards

            lifecycle.release(course, course.assignments())
            report = shards.merge(course, args.artifacts, args.shards)
            for problem in report.problems:
                print(f"classgrader: merge: {problem}", file=sys.stderr)
            if report.problems:
                return 2
            lifecycle.export_grades(course)
            print(f"merged {len(report.merged)} submissions from {args.shards} shards; "
                  f"grades.csv: {course.root / 'grades.csv'}")
            return 0
        if args.command == "check":
            problems = grading.consistency(course)
            for problem in problems:
                print(problem)
            print("gradebook and autograded/ agree" if not problems else f"{len(problems)} disagreement(s)")
            return 0 if not problems else 1
        if args.command == "grade":
            pairs = grading.find_submissions(course, args.assignment, args.student)
            shard = None
            if args.shard:
                from classgrader import shards

                try:
                    shard = shards.parse_shard(args.shard)
                except ValueError as err:
                    raise CourseError(str(err)) from None
                pairs = shards.select(pairs, shard)
            elif args.artifact:
                raise CourseError("--artifact goes with --shard")
            if not pairs and not shard:
                print(f"nothing to grade in {course.folder('submitted')}", file=sys.stderr)
                return 1
            if not _sandbox_ready(args.strict):
                return 2
            outcomes = grading.grade(course, pairs, args.jobs, force=args.force) if pairs else []
            if args.artifact:
                shards.write_artifact(course, shard, pairs, outcomes, args.artifact)
                print(f"shard {args.shard}: {len(pairs)} submissions, artifact in {args.artifact}")
            counts = {}
            for o in outcomes:
                counts[o.status] = counts.get(o.status, 0) + 1
                print(f"{o.status:<12} {o.student}/{o.assignment}" + (f": {o.reason}" if o.reason else ""))
            print("\n" + ", ".join(f"{n} {status}" for status, n in counts.items())
                  + f"; status file: {course.root / grading.STATUS_FILE}")
            return 0
        if args.command == "feedback":
            pairs = grading.find_submissions(course)
            outcomes = [grading.Outcome(s, a, "graded") for s, a in pairs
                        if (course.folder("autograded") / s / a).is_dir()]
            done = grading.generate_feedback(course, outcomes, args.jobs)
            print(f"feedback written for {sum(o.status == 'graded' for o in done)} of {len(done)} submissions")
            return 0 if all(o.status == "graded" for o in done) else 3
        if args.command == "summary":
            from classgrader.report import student_summary

            print(student_summary(course, args.student, args.assignment))
            return 0
        if args.command == "report":
            from classgrader.report import write_report

            print(f"report written: {write_report(course)}")
            return 0
        if args.command == "demo":
            _sandbox_ready(strict=False)
            results = lifecycle.run(course, jobs=args.jobs)
            from classgrader.report import write_report

            report = write_report(course)
            print(f"grades.csv: {course.root / 'grades.csv'}; feedback: {course.folder('feedback')}; "
                  f"report: {report}")
            return _report(results, time.perf_counter() - started)
        if args.command == "selfcheck":
            course.assignment(args.assignment)  # clear error for an unknown name
            scratch = Course(temporary_course(course, [args.assignment]))
            try:
                results = lifecycle.run(scratch, jobs=args.jobs, with_source=True, export=False)
                return _report(results, time.perf_counter() - started)
            finally:
                if args.keep:
                    print(f"course kept in {scratch.root}")
                else:
                    shutil.rmtree(scratch.root, ignore_errors=True)
    except CourseError as err:
        print(f"classgrader: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
