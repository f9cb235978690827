"""Finding 3 of the fourth red team: can the judge's Watchdog be jammed by its own timing?

    .venv/bin/python tests/adversarial/redteam_tools/watchdog_race.py [TRIALS]

Drives classgrader.grade.judge.session.Watchdog the way Session._serve does while the student's
code calls the test's functions back in a tight loop: arm() before each callback, a little of the
test's Python, disarm() after, until past the deadline, TRIALS times. The first watchdog shared a
Condition with the serving thread: an exception delivered just after arm() or disarm() took its
lock left the lock held, and the watchdog never fired again in that process (2 of 3 runs leaked
within two trials). The watchdog now takes no lock in the serving thread; this tool checks that,
after all the trials, it still ends a test's code at a 10 ms deadline.
"""
from __future__ import annotations

import sys
import time

from classgrader.grade.judge.session import ServedTooLong, Watchdog


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    watchdog = Watchdog()
    fired = 0
    for trial in range(trials):
        deadline = time.monotonic() + 0.003
        try:
            while time.monotonic() < deadline + 0.05:
                watchdog.arm(deadline)
                sum(range(50))          # the test's function, called back
                watchdog.disarm()
        except ServedTooLong:
            fired += 1
    try:
        watchdog.arm(time.monotonic() + 0.01)
        started = time.monotonic()
        while time.monotonic() - started < 1.0:
            pass
        watchdog.disarm()
        print(f"JAMMED: after {trials} trials ({fired} fired) a test's code ran 1 s past a 10 ms deadline")
    except ServedTooLong:
        print(f"not jammed: after {trials} trials ({fired} fired) the watchdog still ends a test's code at its deadline")


if __name__ == "__main__":
    main()
