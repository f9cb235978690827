"""``make bench``: the course's grader against plain sequential ``nbgrader autograde``, in one run.

One synthetic class (for every assignment: the perfect student, the blank one and catalogued
mistakes; at least 40 submissions) is graded twice, in two scratch courses built the same way:

* **plain**: ``nbgrader autograde <assignment>`` for each assignment, one after another, with
  nbgrader's own default preprocessors and kernel (no sandbox) — what nbgrader does out of the box;
* **classgrader**: ``python -m classgrader grade`` (``make grade``) with the course's
  configuration: integrity checks, the guarded execution, the sandbox kernel, N workers.

Both must give identical scores for every submission. Printed: seconds per notebook for each,
the ratio, and the peak memory of each run's whole process tree (sampled from /proc).
This is a benchmark, not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from classgrader.demo.builder import build_class
from classgrader.model.course import Course, ensure_tools_on_path, temporary_course
from classgrader.release.release import release

#: nbgrader's out-of-the-box settings for the baseline course (no course preprocessors, no sandbox).
PLAIN_CONFIG = '''c = get_config()
import os
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(os.path.dirname(os.path.abspath(__file__)), "gradebook.db")
'''


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


def _run_measured(commands: list[list[str]], cwd: Path) -> tuple[float, float]:
    """Run commands one after another; wall seconds and peak tree memory (MiB)."""
    peak = 0.0
    started = time.perf_counter()
    for command in commands:
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done = threading.Event()

        def sample(pid=process.pid):
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss_mib(pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        process.wait()
        done.set()
        sampler.join()
    return time.perf_counter() - started, peak


def bench_class(course: Course, per_assignment: int) -> list[tuple[str, str]]:
    """perfect, blank and the first ``per_assignment - 2`` mistakes of every assignment."""
    release(course, course.assignments())
    expectations = build_class(course, course.assignments(), with_broken=False,
                               mistakes_per_assignment=max(per_assignment - 2, 0))
    return [(e.student, e.assignment) for e in expectations]


def scores(course: Course) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(course.db_url) as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                found[(submission.student.id, assignment.name)] = sum(
                    g.auto_score or 0.0 for n in submission.notebooks for g in n.grades)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="classgrader-bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-assignment", type=int, default=8,
                        help="submissions per assignment (perfect, blank, then mistakes); default 8")
    parser.add_argument("--jobs", type=int, default=None, help="classgrader workers (default: its own)")
    args = parser.parse_args(argv)
    if args.per_assignment < 2:
        parser.error("--per-assignment must be at least 2")
    ensure_tools_on_path()
    here = Course()
    plain_root, ours_root = temporary_course(here), temporary_course(here)
    try:
        (plain_root / "nbgrader_config.py").write_text(PLAIN_CONFIG)
        plain, ours = Course(plain_root), Course(ours_root)
        pairs = bench_class(plain, args.per_assignment)
        bench_class(ours, args.per_assignment)
        notebooks = len(pairs)
        print(f"synthetic class: {notebooks} submissions over {len(plain.assignments())} assignments")

        plain_seconds, plain_peak = _run_measured(
            [[sys.executable, "-m", "nbgrader", "autograde", a.name, "--force"] for a in plain.assignments()],
            plain_root)
        print(f"plain nbgrader autograde (sequential): {plain_seconds:.1f} s")
        ours_command = [sys.executable, "-m", "classgrader", "--course", str(ours_root), "grade", "--force"]
        if args.jobs:
            ours_command += ["--jobs", str(args.jobs)]
        ours_seconds, ours_peak = _run_measured([ours_command], ours_root)
        print(f"classgrader grade (sandboxed, parallel): {ours_seconds:.1f} s")

        plain_scores, ours_scores = scores(plain), scores(ours)
        differ = [p for p in pairs if plain_scores.get(p) != ours_scores.get(p)]
        print()
        print(f"{'':<28}{'plain nbgrader':>16}{'classgrader':>14}")
        print(f"{'seconds per notebook':<28}{plain_seconds / notebooks:>16.2f}{ours_seconds / notebooks:>14.2f}")
        print(f"{'peak memory (MiB)':<28}{plain_peak:>16.0f}{ours_peak:>14.0f}")
        print(f"speed-up: {plain_seconds / ours_seconds:.2f}x on {os.cpu_count()} cores")
        if differ:
            print(f"\nSCORES DIFFER for {len(differ)} submission(s):")
            for pair in differ:
                print(f"  {pair[0]}/{pair[1]}: plain {plain_scores.get(pair)} vs classgrader {ours_scores.get(pair)}")
            return 1
        print(f"identical scores for all {notebooks} submissions")
        return 0
    finally:
        shutil.rmtree(plain_root, ignore_errors=True)
        shutil.rmtree(ours_root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
