"""``make bench``: the course's grader against plain sequential ``nbgrader autograde``, in one run.

**Standard** (``make bench``): one synthetic class (for every assignment: the perfect student, the
blank one and catalogued mistakes; 48 submissions by default) is graded twice, in two scratch
courses built the same way:

* **plain**: ``nbgrader autograde <assignment>`` for each assignment, one after another, with
  nbgrader's own default preprocessors and kernel (no sandbox): what nbgrader does out of the box;
* **classgrader**: ``python -m classgrader grade`` (``make grade``) with the course's
  configuration: integrity checks, the judge, the sandboxed kernel, N workers.

Both must give identical scores for every submission. Printed: seconds per notebook (wall, and
CPU time of the whole process tree, which other load on the machine disturbs less; next to it the
CPU time the whole machine was busy, which can only be larger, so that a process the count missed
shows), the speed-up,
peak memory, and the grader's overhead per notebook above its cells' own execution (from the
``cell_seconds`` the grader records for each submission in ``grading-status.json``).

**Large** (``make bench SIZE=large``, not part of ``make test``): the standard class copied under
new student names to at least 500 submissions, graded by classgrader only; printed per stretch of
the run: notebooks done, seconds per notebook in that stretch and peak memory so far, so that you
see how both grow with the class.

This is a benchmark, not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from classgrader.demo.builder import build_class
from classgrader.model.course import Course, ensure_tools_on_path, temporary_course
from classgrader.model.status import STATUS_FILE
from classgrader.release.release import release

#: nbgrader's out-of-the-box settings for the baseline course (no course preprocessors, no sandbox).
PLAIN_CONFIG = '''c = get_config()
import os
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(os.path.dirname(os.path.abspath(__file__)), "gradebook.db")
'''
#: Submissions of the large class: at least this many.
LARGE_CLASS = 500
#: How often the large run looks at its progress and memory, seconds.
SAMPLE_EVERY = 0.2


def _tree_rss_mib(root_pid: int) -> float:
    """Resident memory of a process and all its descendants, MiB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / 2**20


@dataclass
class Run:
    """What one measured run cost."""

    wall: float = 0.0
    cpu: float = 0.0               # user + system seconds of every process of the run
    #: CPU seconds the whole machine was busy meanwhile (/proc/stat): a check that ``cpu`` missed
    #: no process (it can only be larger, by whatever else ran).
    machine_busy: float = 0.0
    peak_mib: float = 0.0
    #: (seconds since the start, notebooks graded so far, peak MiB so far), sampled during the run.
    progress: list[tuple[float, int, float]] = field(default_factory=list)


def _machine_busy() -> float:
    """Seconds of CPU the machine has been busy since boot, all cores (0 where /proc is missing)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)   # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _graded_count(course_root: Path) -> int:
    return sum(1 for _ in (course_root / "autograded").glob("*/*/*.ipynb"))


def _run_measured(commands: list[list[str]], cwd: Path, watch_progress: bool = False) -> Run:
    """Run commands one after another: wall and CPU seconds, peak tree memory (MiB), progress.

    CPU time counts every process of the tree that has been waited for (the kernels are reaped
    by their zygote, the zygote and workers by the grader), so it is complete once a command ends.
    """
    run = Run()
    cpu_before, busy_before, started = _children_cpu(), _machine_busy(), time.perf_counter()
    for command in commands:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done = threading.Event()

        def sample(pid=process.pid):
            while not done.is_set():
                run.peak_mib = max(run.peak_mib, _tree_rss_mib(pid))
                if watch_progress:
                    run.progress.append((time.perf_counter() - started, _graded_count(cwd), run.peak_mib))
                time.sleep(SAMPLE_EVERY)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        process.wait()
        done.set()
        sampler.join()
    run.wall, run.cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    run.machine_busy = _machine_busy() - busy_before
    return run


def bench_class(course: Course, per_assignment: int) -> list[tuple[str, str]]:
    """perfect, blank and the first ``per_assignment - 2`` mistakes of every assignment."""
    release(course, course.assignments())
    expectations = build_class(course, course.assignments(), with_broken=False,
                               mistakes_per_assignment=max(per_assignment - 2, 0))
    return [(e.student, e.assignment) for e in expectations]


def enlarge(course: Course, pairs: list[tuple[str, str]], at_least: int) -> list[tuple[str, str]]:
    """Copy every submission under new student names (``<student>-2``, ...) until there are
    ``at_least`` of them; all submissions."""
    submitted = course.folder("submitted")
    students = sorted({student for student, _ in pairs})
    everyone, copy = list(pairs), 2
    while len(everyone) < at_least:
        for student in students:
            shutil.copytree(submitted / student, submitted / f"{student}-{copy}")
        everyone += [(f"{student}-{copy}", assignment) for student, assignment in pairs]
        copy += 1
    return everyone


def scores(course: Course) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(course.db_url) as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                found[(submission.student.id, assignment.name)] = sum(
                    g.auto_score or 0.0 for n in submission.notebooks for g in n.grades)
    return found


def overhead_per_notebook(course: Course) -> tuple[float, float]:
    """Mean seconds per graded notebook in a worker, and how much of it was not its cells' own
    execution (kernel start and stop, nbgrader's own work, the gradebook), from the status file."""
    rows = [r for r in json.loads((course.root / STATUS_FILE).read_text()) if r.get("seconds")]
    if not rows:
        return 0.0, 0.0
    total = sum(r["seconds"] for r in rows) / len(rows)
    return total, total - sum(r.get("cell_seconds", 0.0) for r in rows) / len(rows)


def grade_command(course_root: Path, jobs: int | None) -> list[str]:
    command = [sys.executable, "-m", "classgrader", "--course", str(course_root), "grade", "--force",
               "--accept-failures"]
    return command + (["--jobs", str(jobs)] if jobs else [])


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def standard(here: Course, per_assignment: int, jobs: int | None) -> int:
    plain_root, ours_root = temporary_course(here), temporary_course(here)
    try:
        (plain_root / "nbgrader_config.py").write_text(PLAIN_CONFIG)
        plain, ours = Course(plain_root), Course(ours_root)
        pairs = bench_class(plain, per_assignment)
        bench_class(ours, per_assignment)
        n = len(pairs)
        print(f"synthetic class: {n} submissions over {len(plain.assignments())} assignments; "
              f"{os.cpu_count()} cores; load average before: {_load()}")
        plain_run = _run_measured([[sys.executable, "-m", "nbgrader", "autograde", a.name, "--force"]
                                   for a in plain.assignments()], plain_root)
        print(f"plain nbgrader autograde (sequential): {plain_run.wall:.1f} s")
        ours_run = _run_measured([grade_command(ours_root, jobs)], ours_root)
        print(f"classgrader grade (sandboxed, parallel): {ours_run.wall:.1f} s; load average after: {_load()}")
        in_worker, overhead = overhead_per_notebook(ours)
        print()
        print(f"{'':<34}{'plain nbgrader':>16}{'classgrader':>14}")
        print(f"{'seconds per notebook (wall)':<34}{plain_run.wall / n:>16.2f}{ours_run.wall / n:>14.2f}")
        print(f"{'CPU seconds per notebook':<34}{plain_run.cpu / n:>16.2f}{ours_run.cpu / n:>14.2f}")
        print(f"{'machine busy, CPU s per notebook':<34}{plain_run.machine_busy / n:>16.2f}{ours_run.machine_busy / n:>14.2f}")
        print(f"{'peak memory (MiB)':<34}{plain_run.peak_mib:>16.0f}{ours_run.peak_mib:>14.0f}")
        print(f"speed-up: {plain_run.wall / ours_run.wall:.2f}x (wall), {plain_run.cpu / ours_run.cpu:.2f}x (CPU)")
        print(f"classgrader per notebook in a worker: {in_worker:.2f} s, of which {overhead:.2f} s overhead "
              f"above the cells' own execution (kernel start and stop, nbgrader, gradebook); "
              f"start-up of the whole run: {ours_run.wall - in_worker * n / (jobs or os.cpu_count() or 1):.1f} s")
        return _compare(pairs, scores(plain), scores(ours))
    finally:
        shutil.rmtree(plain_root, ignore_errors=True)
        shutil.rmtree(ours_root, ignore_errors=True)


def _compare(pairs, plain_scores, ours_scores) -> int:
    differ = [p for p in pairs if plain_scores.get(p) != ours_scores.get(p)]
    if differ:
        print(f"\nSCORES DIFFER for {len(differ)} submission(s):")
        for pair in differ:
            print(f"  {pair[0]}/{pair[1]}: plain {plain_scores.get(pair)} vs classgrader {ours_scores.get(pair)}")
        return 1
    print(f"identical scores for all {len(pairs)} submissions")
    return 0


def large(here: Course, per_assignment: int, jobs: int | None, at_least: int) -> int:
    root = temporary_course(here)
    try:
        course = Course(root)
        pairs = enlarge(course, bench_class(course, per_assignment), at_least)
        print(f"large synthetic class: {len(pairs)} submissions; {os.cpu_count()} cores; "
              f"load average before: {_load()}")
        run = _run_measured([grade_command(root, jobs)], root, watch_progress=True)
        print(f"classgrader grade: {run.wall:.0f} s, {run.wall / len(pairs):.2f} s and "
              f"{run.cpu / len(pairs):.2f} CPU s per notebook, peak memory {run.peak_mib:.0f} MiB; "
              f"load average after: {_load()}")
        print(f"\n{'notebooks graded':>17}{'elapsed (s)':>13}{'s per notebook here':>21}{'peak MiB so far':>17}")
        for done, elapsed, per, peak in stretches(run.progress, len(pairs)):
            print(f"{done:>17}{elapsed:>13.0f}{per:>21.2f}{peak:>17.0f}")
        graded = scores(course)
        missing = [p for p in pairs if p not in graded]
        print(f"{len(pairs) - len(missing)} of {len(pairs)} submissions have scores in the gradebook")
        return 1 if missing else 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


def stretches(progress: list[tuple[float, int, float]], total: int, parts: int = 5):
    """(notebooks done, elapsed, seconds per notebook since the previous row, peak MiB) at each
    fifth of the class."""
    rows, previous = [], (0.0, 0)
    for k in range(1, parts + 1):
        goal = total * k // parts
        reached = next((p for p in progress if p[1] >= goal), progress[-1] if progress else None)
        if reached is None or reached[1] <= previous[1]:
            continue
        elapsed, done, peak = reached
        rows.append((done, elapsed, (elapsed - previous[0]) / (done - previous[1]), peak))
        previous = (elapsed, done)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="classgrader-bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("standard", "large"), default="standard",
                        help=f"standard: against plain nbgrader; large: at least {LARGE_CLASS} notebooks, "
                        "classgrader only")
    parser.add_argument("--per-assignment", type=int, default=8,
                        help="submissions per assignment (perfect, blank, then mistakes); default 8")
    parser.add_argument("--jobs", type=int, default=None, help="classgrader workers (default: its own)")
    parser.add_argument("--at-least", type=int, default=LARGE_CLASS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.per_assignment < 2:
        parser.error("--per-assignment must be at least 2")
    ensure_tools_on_path()
    if args.size == "large":
        return large(Course(), args.per_assignment, args.jobs, args.at_least)
    return standard(Course(), args.per_assignment, args.jobs)


if __name__ == "__main__":
    sys.exit(main())
