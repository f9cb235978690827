"""classgrader: the course's grading entry point, built on nbgrader's own apps.

* :mod:`classgrader.course`: the course folder as nbgrader sees it (read from nbgrader_config.py).
* :mod:`classgrader.checks`: the checks every hidden test uses (type, shape, dtype, tolerance,
  diagnosis of known mistakes).
* :mod:`classgrader.integrity`: structural check that quarantines malformed hand-ins.
* :mod:`classgrader.grading`: parallel autograde and feedback with nbgrader's API.
* :mod:`classgrader.lifecycle`: the demo class and the whole assignment life cycle.
* :mod:`classgrader.cli`: ``python -m classgrader release|grade|feedback|demo|selfcheck``.
"""
