"""classgrader: the course's grading entry point, built on nbgrader's own apps.

One room per stage of the life cycle, plus the shared course model:

* :mod:`classgrader.model`: the course folder, notebooks, mistake catalogues, integrity, statuses.
* :mod:`classgrader.release`: ``source/`` -> ``release/`` and the student kit.
* :mod:`classgrader.grade`: sandboxed, judged, parallel autograde (nbgrader preprocessors and runner).
* :mod:`classgrader.feedback`: feedback HTML without the hidden tests.
* :mod:`classgrader.report`: grades.csv, the Canvas CSV and the class report.
* :mod:`classgrader.demo`: the demo class and the checks that prove the grading right.
* :mod:`classgrader.checks`: the checks every hidden test uses.
* :mod:`classgrader.cli`: ``python -m classgrader <command>``.
"""
