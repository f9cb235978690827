"""The course's late-submission penalty: an nbgrader ``LateSubmissionPlugin``.

nbgrader knows how late a submission is from the time stamp ``nbgrader submit`` wrote
(``timestamp.txt``) and the assignment's due date in the gradebook; its ``AssignLatePenalties``
preprocessor (in the autograde pipeline of ``nbgrader_config.py``) asks this plugin for the
penalty of each late notebook and stores it in the gradebook, where ``nbgrader export``, the
formgrader and the feedback subtract it.

The rule: each *started* day late costs ``fraction_per_day`` of the notebook's maximum score
(10 % by default), never more than the score itself. A submission one minute late loses one
day's share; nine days and one minute late, ten shares. The penalty is computed when the notebook
is autograded, against the score it has then: points given by hand later are not penalised,
but the penalty (a number of points) stays.
"""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float, TraitError, validate

SECONDS_PER_DAY = 24 * 60 * 60


class LatePenalty(LateSubmissionPlugin):
    """A share of the notebook's points per started day late (``c.LatePenalty.fraction_per_day``)."""

    fraction_per_day = Float(
        0.1, help="Share of the notebook's maximum score lost per started day late (0 to 1)."
    ).tag(config=True)

    @validate("fraction_per_day")
    def _between_zero_and_one(self, proposal):
        if not 0.0 <= proposal["value"] <= 1.0:
            raise TraitError(f"LatePenalty.fraction_per_day must be between 0 and 1, "
                             f"got {proposal['value']!r}")
        return proposal["value"]

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        if total_seconds_late <= 0:
            return None
        days = math.ceil(total_seconds_late / SECONDS_PER_DAY)
        penalty = days * self.fraction_per_day * self._max_score()
        self.log.info("%s is %d started day(s) late: penalty %g points", student_id, days, penalty)
        return min(float(score), round(penalty, 6))

    def _max_score(self) -> float:
        """The notebook's maximum score, from the gradebook that ``AssignLatePenalties`` holds open."""
        grader = self.parent   # nbgrader's AssignLatePenalties creates the plugin with parent=self
        notebook = grader.gradebook.find_notebook(grader.notebook_id, grader.assignment_id)
        return float(notebook.max_score)
