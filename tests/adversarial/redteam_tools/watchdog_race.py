"""The judge's Watchdog can leave its own lock held, and then never fires again in that process.

    .venv/bin/python tests/adversarial/redteam_tools/watchdog_race.py [TRIALS]

Drives classgrader.grade.judge.session.Watchdog the way Session._serve does while the student's
code calls the test's functions back in a tight loop: arm() before each callback, a little of the
test's Python, disarm() after, until the deadline. PyThreadState_SetAsyncExc delivers
ServedTooLong at the next bytecode boundary; when that boundary is the return from the lock's
acquire inside Condition.__enter__ (the watchdog thread fired while the serving thread waited for
the lock in arm() or disarm()), the `with` block never starts and the lock is never released. The
watchdog thread then blocks on it forever: a later deadline (a later test, or the next student in
plain `nbgrader autograde`, one process for the whole class) is never enforced.
Prints whether the lock leaked, and whether the watchdog still fires afterwards.
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
        if watchdog._cond._is_owned():   # held by this thread outside any `with`: leaked
            print(f"lock leaked at trial {trial + 1} (the watchdog fired {fired} times)")
            try:
                watchdog.arm(time.monotonic() + 0.01)
                started = time.monotonic()
                while time.monotonic() - started < 1.0:
                    pass
                watchdog.disarm()
                print("then a test's code ran 1 s past a 10 ms deadline: the watchdog never fired")
            except ServedTooLong:
                print("the watchdog still fired afterwards")
            return
    print(f"no leak in {trials} trials (the watchdog fired {fired} times)")


if __name__ == "__main__":
    main()
