"""Command line of the course's grader: ``python -m classgrader <command>`` (or ``classgrader``).

Each command is a small function registered with :func:`command`, which declares its arguments;
the work itself lives in the room of its life-cycle stage (release, grade, feedback, report, demo).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from classgrader.model.course import REPO_ROOT, Course, CourseError, ensure_tools_on_path, temporary_course
from classgrader.model.status import STATUS_FILE, Status


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def arg(*flags: str, **options) -> tuple[tuple[str, ...], dict]:
    """One argument of a command, as for :meth:`argparse.ArgumentParser.add_argument`."""
    return flags, options


ASSIGNMENTS = arg("--assignment", action="append", help="only this assignment (repeatable)")
JOBS = arg("--jobs", type=_positive_int, default=None, help="worker processes (default: cores)")


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[Course, argparse.Namespace], int]
    arguments: tuple


COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, *arguments):
    """Register the decorated ``function(course, args) -> exit code`` as subcommand ``name``."""
    def register(function):
        COMMANDS[name] = Command(name, help, function, arguments)
        return function
    return register


def _selected(course: Course, names: list[str] | None):
    return [course.assignment(n) for n in names] if names else course.assignments()


def _sandbox_ready(strict: bool) -> bool:
    """Say loudly which sandbox layers work; with ``strict``, refuse unless all do."""
    from classgrader.grade.sandbox import probe

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


# --- release ------------------------------------------------------------------------------------

@command("release", "regenerate release/ from source/", ASSIGNMENTS)
def _release(course: Course, args) -> int:
    from classgrader.release.release import release

    chosen = _selected(course, args.assignment)
    release(course, chosen)
    print(f"release/ regenerated for {', '.join(a.name for a in chosen)}")
    return 0


# --- grade --------------------------------------------------------------------------------------

@command("grade", "autograde submitted/ with integrity checks, in parallel", ASSIGNMENTS,
         arg("--student", action="append", help="only this student (repeatable)"), JOBS,
         arg("--force", action="store_true", help="regrade submissions that are already graded"),
         arg("--strict", action="store_true", help="refuse to grade unless every sandbox layer works"),
         arg("--shard", help="grade only shard K/N of the students (for a CI matrix or job array)"),
         arg("--artifact", type=Path, help="with --shard: write the shard's results to this folder"))
def _grade(course: Course, args) -> int:
    from classgrader.grade import runner, shards

    pairs = runner.find_submissions(course, args.assignment, args.student)
    shard = None
    if args.shard:
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
    outcomes = runner.grade(course, pairs, args.jobs, force=args.force) if pairs else []
    if args.artifact:
        shards.write_artifact(course, shard, pairs, outcomes, args.artifact)
        print(f"shard {args.shard}: {len(pairs)} submissions, artifact in {args.artifact}")
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
        print(f"{o.status:<12} {o.student}/{o.assignment}" + (f": {o.reason}" if o.reason else ""))
    print("\n" + ", ".join(f"{n} {status}" for status, n in counts.items())
          + f"; status file: {course.root / STATUS_FILE}")
    return 0


@command("merge", "merge shard artifacts into this course's gradebook and grades.csv",
         arg("artifacts", nargs="+", type=Path, help="the shard artifact folders"),
         arg("--shards", type=_positive_int, required=True, help="how many shards there were (N)"))
def _merge(course: Course, args) -> int:
    from classgrader.grade import shards
    from classgrader.release.release import release
    from classgrader.report.export import export_grades

    release(course, course.assignments())
    report = shards.merge(course, args.artifacts, args.shards)
    for problem in report.problems:
        print(f"classgrader: merge: {problem}", file=sys.stderr)
    if report.problems:
        return 2
    export_grades(course)
    print(f"merged {len(report.merged)} submissions from {args.shards} shards; "
          f"grades.csv: {course.root / 'grades.csv'}")
    return 0


@command("check", "check that the gradebook and autograded/ agree")
def _check(course: Course, args) -> int:
    from classgrader.grade.runner import consistency

    problems = consistency(course)
    for problem in problems:
        print(problem)
    print("gradebook and autograded/ agree" if not problems else f"{len(problems)} disagreement(s)")
    return 0 if not problems else 1


@command("install-kernel", "install the sandboxed grading kernel spec into this environment")
def _install_kernel(course: Course, args) -> int:
    from classgrader.grade.sandbox import install_kernel_spec

    print(f"sandbox kernel spec installed in {install_kernel_spec()}")
    return 0


@command("sandbox-check", "report which sandbox layers work on this machine")
def _sandbox_check(course: Course, args) -> int:
    from classgrader.grade.sandbox import probe

    report = probe()
    for layer, state in report.items():
        print(f"{layer:<12} {state}")
    return 0 if all(v.startswith("ok") for v in report.values()) else 1


# --- feedback -----------------------------------------------------------------------------------

@command("feedback", "generate feedback HTML for everything graded", JOBS)
def _feedback(course: Course, args) -> int:
    from classgrader.feedback.feedback import generate_feedback
    from classgrader.grade.runner import Outcome, find_submissions

    outcomes = [Outcome(s, a, Status.GRADED) for s, a in find_submissions(course)
                if (course.folder("autograded") / s / a).is_dir()]
    done = generate_feedback(course, outcomes, args.jobs)
    print(f"feedback written for {sum(o.status == Status.GRADED for o in done)} of {len(done)} submissions")
    return 0 if all(o.status == Status.GRADED for o in done) else 3


# --- report -------------------------------------------------------------------------------------

@command("summary", "Markdown summary of one student's results (for a CI job summary)",
         arg("--student", required=True), ASSIGNMENTS)
def _summary(course: Course, args) -> int:
    from classgrader.report.report import student_summary

    print(student_summary(course, args.student, args.assignment))
    return 0


@command("report", "grades.csv, a Canvas CSV and a class report (Markdown + PNG) in reports/")
def _report(course: Course, args) -> int:
    from classgrader.report.report import write_report

    print(f"report written: {write_report(course)}")
    return 0


# --- demo ---------------------------------------------------------------------------------------

def _print_results(results, seconds: float) -> int:
    from classgrader.demo.expectations import table

    print(table(results))
    bad = [r for r in results if not r.ok]
    graded = sum(r.outcome.scored for r in results)
    quarantined = [r for r in results if r.outcome.status == Status.QUARANTINED]
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


@command("demo", "the whole life cycle on a demo class, with a results table", JOBS)
def _demo(course: Course, args) -> int:
    from classgrader.demo.demo import run
    from classgrader.report.report import write_report

    started = time.perf_counter()
    _sandbox_ready(strict=False)
    results = run(course, jobs=args.jobs)
    report = write_report(course)
    print(f"grades.csv: {course.root / 'grades.csv'}; feedback: {course.folder('feedback')}; "
          f"report: {report}")
    return _print_results(results, time.perf_counter() - started)


@command("selfcheck", "grade one assignment's demo class in a temporary course",
         arg("assignment"), JOBS,
         arg("--keep", action="store_true", help="keep the temporary course and print its path"))
def _selfcheck(course: Course, args) -> int:
    from classgrader.demo.demo import run

    started = time.perf_counter()
    course.assignment(args.assignment)  # a clear error for an unknown name
    scratch = Course(temporary_course(course, [args.assignment]))
    try:
        results = run(scratch, jobs=args.jobs, with_source=True, export=False)
        return _print_results(results, time.perf_counter() - started)
    finally:
        if args.keep:
            print(f"course kept in {scratch.root}")
        else:
            shutil.rmtree(scratch.root, ignore_errors=True)


# --- the parser ---------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    """The parser of every registered command."""
    top = argparse.ArgumentParser(prog="classgrader", description=__doc__.split("\n\n")[0])
    top.add_argument("--course", type=Path, default=REPO_ROOT,
                     help="the course folder (holding nbgrader_config.py); default: this repository")
    sub = top.add_subparsers(dest="command", required=True, metavar="command")
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help)
        for flags, options in cmd.arguments:
            p.add_argument(*flags, **options)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    ensure_tools_on_path()
    if getattr(args, "strict", False):
        os.environ["CLASSGRADER_SANDBOX_STRICT"] = "1"
    try:
        return COMMANDS[args.command].run(Course(args.course), args)
    except CourseError as err:
        print(f"classgrader: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
