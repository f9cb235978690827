"""The words that producers and consumers of grading results share.

Every status a submission can end with, every error name the grader writes into a notebook, and
the prefix of a diagnosis line are defined here once; the code that writes them and the code that
reads them both import these constants.
"""
from __future__ import annotations

from enum import StrEnum

#: Machine-readable per-submission outcome file, next to the gradebook.
STATUS_FILE = "grading-status.json"

#: A failure message line that names a catalogued mistake starts with this.
DIAGNOSIS_PREFIX = "Diagnosis: "


class Status(StrEnum):
    """How grading one submission ended, least severe first."""

    GRADED = "graded"            # scores in the gradebook
    FLAGGED = "flagged"          # graded, but something in it needs a person's eyes
    TIMED_OUT = "timed out"      # graded; cells after the time limit scored 0
    CRASHED = "crashed"          # graded; cells after the kernel died scored 0
    QUARANTINED = "quarantined"  # malformed: not graded, with a reason
    FAILED = "failed"            # nbgrader could not grade it


#: Statuses whose scores are in the gradebook.
SCORED = frozenset({Status.GRADED, Status.FLAGGED, Status.TIMED_OUT, Status.CRASHED})


class ErrorName(StrEnum):
    """``ename`` of the error outputs the grader itself writes into an autograded notebook."""

    NOT_RUN = "NotRun"                      # an earlier cell stopped the notebook
    TIME_BUDGET = "NotebookTimeBudget"      # the notebook used up its time
    DEAD_KERNEL = "DeadKernelError"         # the kernel died in this cell
    CELL_TIMEOUT = "CellTimeoutError"       # this cell ignored its timeout
    TEST_DID_NOT_RUN = "TestDidNotRun"      # a test's verdict could not be obtained


#: Error names that mean the run itself was cut short, and the status they give.
RUN_TROUBLE = {
    ErrorName.DEAD_KERNEL: Status.CRASHED,
    ErrorName.NOT_RUN: Status.CRASHED,
    ErrorName.CELL_TIMEOUT: Status.TIMED_OUT,
    ErrorName.TIME_BUDGET: Status.TIMED_OUT,
}
