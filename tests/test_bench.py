"""The benchmark's own arithmetic (``make bench`` itself is not part of the suite: it times, and a
test never asserts a time)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from classgrader import bench

BURN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end:\n    pass\n"


def test_the_cpu_of_a_grandchild_is_counted_once_its_parent_has_waited_for_it(tmp_path):
    """A kernel is a grandchild of the grade command: its CPU time must reach the measurement."""
    grandchild = [sys.executable, "-c", BURN.format(seconds=0.4)]
    command = [sys.executable, "-c", f"import subprocess\nsubprocess.run({grandchild!r}, check=True)"]
    run = bench._run_measured([command], tmp_path)
    assert run.cpu >= 0.35, f"only {run.cpu:.2f} CPU s counted for a grandchild that burnt 0.4 s"
    if Path("/proc/stat").exists():
        assert run.machine_busy >= 0.3, "the machine-wide count missed the work"


def test_machine_busy_time_grows_with_work():
    if not Path("/proc/stat").exists():
        pytest.skip("no /proc/stat on this system: the machine-wide count reads 0")
    before = bench._machine_busy()
    exec(BURN.format(seconds=0.3))
    assert bench._machine_busy() - before >= 0.2


def test_stretches_give_the_time_per_notebook_of_each_fifth():
    progress = [(t, int(t * 2), 100.0 + t) for t in range(0, 51)]   # 2 notebooks a second, to 100
    rows = bench.stretches(progress, 100)
    assert [done for done, *_ in rows] == [20, 40, 60, 80, 100]
    assert all(per == pytest.approx(0.5) for _, _, per, _ in rows)
    assert rows[-1][3] == 150.0


def test_different_scores_fail_the_benchmark(capsys):
    pairs = [("ada", "01"), ("bob", "01")]
    assert bench._compare(pairs, {pairs[0]: 3.0, pairs[1]: 1.0}, {pairs[0]: 3.0, pairs[1]: 1.0}) == 0
    assert bench._compare(pairs, {pairs[0]: 3.0, pairs[1]: 1.0}, {pairs[0]: 3.0, pairs[1]: 2.0}) == 1
    assert "bob/01: plain 1.0 vs classgrader 2.0" in capsys.readouterr().out
