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
STUDENTS = arg("--student", action="append", help="only this student (repeatable)")
JOBS = arg("--jobs", type=_positive_int, default=None, help="worker processes (default: cores)")
ROSTER = arg("--roster", type=Path, help="the roster CSV (default: c.Roster.path, students.csv)")
ACCEPT = arg("--accept-failures", action="store_true",
             help="exit 0 even when some submissions need a person (otherwise exit 3)")

#: Exit code of a command that did its work, but some students' work needs a person.
NEEDS_ATTENTION = 3


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


def _sandbox_ready(course: Course) -> bool:
    """Say loudly which sandbox layers work; in strict mode, refuse unless all do."""
    from classgrader.grade import sandbox
    from classgrader.grade.probe import probe

    settings = sandbox.Sandbox(config=course.config)
    report = probe(settings)
    broken = {layer: state for layer, state in report.items() if not state.startswith("ok")}
    if not broken:
        print("sandbox: " + "; ".join(f"{k} {v}" for k, v in report.items()), file=sys.stderr)
        return True
    for layer, state in broken.items():
        print(f"WARNING: sandbox layer {layer!r} is not working: {state}", file=sys.stderr)
    if sandbox.strict(settings):
        print("classgrader: strict mode: refusing to grade without the full sandbox", file=sys.stderr)
        return False
    print("WARNING: grading continues WITHOUT full isolation of student code", file=sys.stderr)
    return True


def _secret_ready(course: Course) -> bool:
    """Find the course secret before grading anything; in strict mode, refuse without one."""
    from classgrader.grade.preprocessors import course_secret
    from classgrader.variants import MissingSecret, fingerprint

    try:
        secret = course_secret(course.config)
    except MissingSecret as err:
        print(f"classgrader: {err}", file=sys.stderr)
        return False
    print(f"course secret: fingerprint {fingerprint(secret)}", file=sys.stderr)
    return True


def _use_demo_secret() -> None:
    """The demo class and the self-check draw their hidden inputs from the public demo secret."""
    from classgrader.variants import DEMO_SECRET, SECRET_VARIABLE

    os.environ[SECRET_VARIABLE] = DEMO_SECRET   # seen by the grading workers too


# --- release ------------------------------------------------------------------------------------

@command("release", "regenerate release/ from source/", ASSIGNMENTS)
def _release(course: Course, args) -> int:
    from classgrader.release.release import release

    chosen = _selected(course, args.assignment)
    release(course, chosen)
    print(f"release/ regenerated for {', '.join(a.name for a in chosen)}")
    return 0


@command("kit", "write the student kit: released notebooks, picture library, README and CI, no answers",
         arg("--out", type=Path, help="the kit's folder (default: build/student-kit in the course)"))
def _kit(course: Course, args) -> int:
    from classgrader.release.kit import build_kit

    print(f"student kit written to {build_kit(course, args.out)}")
    return 0


# --- grade --------------------------------------------------------------------------------------

def _verdict(counts: dict[str, int], bad: tuple, accept: bool, what: str) -> int:
    """Print the counts; the exit code: NEEDS_ATTENTION when any outcome is ``bad``, unless accepted."""
    print("\n" + (", ".join(f"{n} {status}" for status, n in counts.items()) or f"nothing {what}"))
    trouble = sum(n for status, n in counts.items() if status in bad)
    if trouble and not accept:
        print(f"classgrader: {trouble} need a person (see above); --accept-failures exits 0 anyway",
              file=sys.stderr)
        return NEEDS_ATTENTION
    return 0


def _count(rows) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


@command("grade", "autograde submitted/ with integrity checks, in parallel", ASSIGNMENTS, STUDENTS, JOBS,
         arg("--force", action="store_true", help="regrade submissions that are already graded"),
         arg("--strict", action="store_true", help="refuse to grade unless every sandbox layer works"),
         arg("--shard", help="grade only shard K/N of the students (for a CI matrix or job array)"),
         arg("--artifact", type=Path, help="with --shard: write the shard's results to this folder"), ACCEPT)
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
    if not _sandbox_ready(course) or not _secret_ready(course):
        return 2
    outcomes = runner.grade(course, pairs, args.jobs, force=args.force) if pairs else []
    if args.artifact:
        shards.write_artifact(course, shard, pairs, outcomes, args.artifact)
        print(f"shard {args.shard}: {len(pairs)} submissions, artifact in {args.artifact}")
    for o in outcomes:
        print(f"{o.status:<12} {o.student}/{o.assignment}" + (f": {o.reason}" if o.reason else ""))
    print(f"status file: {course.root / STATUS_FILE}")
    return _verdict(_count(outcomes), (Status.FAILED, Status.QUARANTINED), args.accept_failures, "graded")


@command("replay", "grade one student again with the recorded inputs; show them, compare the scores",
         arg("student"), arg("assignment"))
def _replay(course: Course, args) -> int:
    from classgrader.grade.preprocessors import course_secret
    from classgrader.grade.replay import replay
    from classgrader.variants import MissingSecret

    try:
        secret = course_secret(course.config)
    except MissingSecret as err:
        raise CourseError(str(err)) from None
    result = replay(course, args.student, args.assignment, secret)
    for item in result.items:
        verdict = "same" if item.same else "DIFFERENT"
        print(f"{item.item}: recorded {item.recorded}, replayed {item.replayed} ({verdict}"
              + ("" if item.same_message else "; the failure message differs") + ")")
        for line in item.inputs:
            print(f"    {line}")
    if result.same:
        print(f"{args.student}/{args.assignment}: the replay reproduces the recorded grade exactly")
        return 0
    print(f"{args.student}/{args.assignment}: the replay DIFFERS from the recorded grade", file=sys.stderr)
    return 1


@command("sweep", "run every demo submission's hidden tests for many students; do the catalogues hold?",
         ASSIGNMENTS, arg("--seeds", type=_positive_int, default=20, help="students per assignment (default 20)"))
def _sweep(course: Course, args) -> int:
    from classgrader.demo.sweep import sweep

    results = [sweep(course, a, args.seeds) for a in _selected(course, args.assignment)]
    print()
    for r in results:
        for mismatch in r.mismatches:
            print(f"MISMATCH {r.assignment}: {mismatch}")
        print(f"{r.assignment}: {r.seeds} seeds x {r.submissions} submissions ({r.runs} gradings): "
              f"{len(r.mismatches)} mismatches, {r.seconds:.0f} s")
    return 1 if any(r.mismatches for r in results) else 0


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


@command("check", "check that the gradebook and autograded/ agree and that every grading finished")
def _check(course: Course, args) -> int:
    from classgrader.grade.completion import audit
    from classgrader.grade.runner import consistency

    unfinished, notes = audit(course)
    problems = consistency(course) + unfinished
    for line in problems:
        print(line)
    for line in notes:
        print(f"note: {line}")
    print("gradebook and autograded/ agree, and every grading finished" if not problems
          else f"{len(problems)} problem(s): `classgrader grade` grades these submissions again")
    return 0 if not problems else 1


@command("sandbox-check", "set up every sandbox layer in a throw-away kernel and report each",
         arg("--strict", action="store_true", help="exit 1 when any layer is missing (as strict grading would refuse)"))
def _sandbox_check(course: Course, args) -> int:
    from classgrader.grade import sandbox
    from classgrader.grade.probe import probe

    settings = sandbox.Sandbox(config=course.config)
    report = probe(settings)
    for layer, state in report.items():
        print(f"{layer:<15} {state}")
    complete = all(v.startswith("ok") for v in report.values())
    print("every layer works" if complete else
          "some layers are missing: " + ("strict mode would refuse to grade" if sandbox.strict(settings)
                                         else "grading would warn and go on (strict mode refuses)"))
    return 0 if complete else 1


# --- collect ------------------------------------------------------------------------------------

def _roster(course: Course, path: Path | None, students: list[str] | None):
    from classgrader.collect.roster import read_roster, roster_path

    entries = read_roster(roster_path(course, path))
    unknown = sorted(set(students or []) - {e.id for e in entries})
    if unknown:
        raise CourseError(f"not in the roster: {', '.join(unknown)}")
    return [e for e in entries if not students or e.id in students]


@command("roster", "check the roster (students.csv) and import it into the gradebook", ROSTER)
def _import_roster(course: Course, args) -> int:
    from classgrader.collect.roster import import_roster, roster_path

    path = roster_path(course, args.roster)
    entries = import_roster(course, path)
    print(f"{len(entries)} students imported into the gradebook from {path}")
    return 0


@command("collect", "bring each roster student's repository into submitted/ with git",
         ASSIGNMENTS, STUDENTS, ROSTER,
         arg("--url", help="each repository's URL, with {github}, {student}, {assignment} "
                           "(default: c.Classroom.url)"),
         arg("--changed", type=Path, help="write the student/assignment folders collected anew "
                                          "to this file, one a line"), ACCEPT)
def _collect(course: Course, args) -> int:
    from classgrader.collect.classroom import collect, settings
    from classgrader.model.status import Collection

    roster = _roster(course, args.roster, args.student)
    rows = collect(course, roster, _selected(course, args.assignment), settings(course, args.url))
    for r in rows:
        print(f"{r.status:<10} {r.student}/{r.assignment}" + (f": {r.reason}" if r.reason else ""))
    if args.changed:
        fresh = [f"{r.student}/{r.assignment}\n" for r in rows if r.status == Collection.COLLECTED]
        args.changed.write_text("".join(fresh), encoding="utf-8")
    return _verdict(_count(rows), (Collection.PROBLEM,), args.accept_failures, "collected")


# --- feedback -----------------------------------------------------------------------------------

@command("feedback", "generate feedback HTML for everything graded since its feedback was written", JOBS,
         arg("--force", action="store_true", help="regenerate the feedback of every graded submission"))
def _feedback(course: Course, args) -> int:
    from classgrader.feedback.feedback import generate_feedback
    from classgrader.grade.runner import Outcome, find_submissions

    outcomes = [Outcome(s, a, Status.GRADED) for s, a in find_submissions(course)
                if (course.folder("autograded") / s / a).is_dir()]
    done = generate_feedback(course, outcomes, args.jobs, force=args.force)
    print(f"feedback written for {sum(o.status == Status.GRADED for o in done)} of {len(done)} submissions "
          f"({len(outcomes) - len(done)} already up to date)")
    return 0 if all(o.status == Status.GRADED for o in done) else 3


@command("return", "push each student's feedback and score to their repository's feedback branch",
         ASSIGNMENTS, STUDENTS, ROSTER, ACCEPT)
def _return(course: Course, args) -> int:
    from classgrader.collect.classroom import settings
    from classgrader.feedback.giveback import give_back
    from classgrader.model.status import Delivery

    students = [e.id for e in _roster(course, args.roster, args.student)]
    rows = give_back(course, students, [a.name for a in _selected(course, args.assignment)], settings(course))
    for r in rows:
        print(f"{r.status:<10} {r.student}/{r.assignment}" + (f": {r.reason}" if r.reason else ""))
    return _verdict(_count(rows), (Delivery.PROBLEM,), args.accept_failures, "returned (collect first)")


# --- report -------------------------------------------------------------------------------------

@command("summary", "Markdown summary of one student's results (for a CI job summary)",
         arg("--student", required=True), ASSIGNMENTS)
def _summary(course: Course, args) -> int:
    from classgrader.report.report import student_summary

    print(student_summary(course, args.student, args.assignment))
    return 0


@command("report", "grades.csv, a Canvas CSV (with a roster) and a class report (Markdown + PNG) in reports/",
         ROSTER)
def _report(course: Course, args) -> int:
    from classgrader.collect.roster import roster_path
    from classgrader.report.report import write_report

    roster = roster_path(course, args.roster)
    if not roster.is_file():
        print(f"no roster at {roster}: no canvas.csv (see docs/classroom.md)", file=sys.stderr)
    print(f"report written: {write_report(course, roster=roster)}")
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


@command("demo", "the whole life cycle on a demo class, with a results table", JOBS,
         arg("--all-mistakes", action="store_true",
             help="hand in every catalogued mistake (default: a few per assignment, in different functions)"))
def _demo(course: Course, args) -> int:
    from classgrader.demo.demo import DEMO_MISTAKES, demo_roster_path, run
    from classgrader.report.report import write_report

    started = time.perf_counter()
    _sandbox_ready(course)
    _use_demo_secret()
    results = run(course, jobs=args.jobs, mistakes=None if args.all_mistakes else DEMO_MISTAKES, spread=True)
    report = write_report(course, roster=demo_roster_path(course))
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
    _use_demo_secret()
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
        from classgrader.grade.sandbox import STRICT_ENV

        os.environ[STRICT_ENV] = "1"  # seen by the grading workers and plain nbgrader alike
    try:
        return COMMANDS[args.command].run(Course(args.course), args)
    except CourseError as err:
        print(f"classgrader: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
