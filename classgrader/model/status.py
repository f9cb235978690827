"""The words that producers and consumers of grading results share.

Every status a submission can end with, every error name the grader writes into a notebook, and
the prefix of a diagnosis line are defined here once; the code that writes them and the code that
reads them both import these constants.
"""
from __future__ import annotations

from enum import StrEnum

#: Machine-readable per-submission outcome file, next to the gradebook.
STATUS_FILE = "grading-status.json"

#: Per-submission record of the last collection from the students' repositories, next to the gradebook.
COLLECTION_FILE = "collection.json"

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
    TEST_DID_NOT_RUN = "TestDidNotRun"      # the judge could not get a verdict (flagged)
    TEST_TIMEOUT = "TestTimeout"            # the student's code was too slow for this test


#: Where the grader writes its own record in an autograded notebook's metadata. Whatever a hand-in
#: holds under this key is removed before grading, so nothing there is the student's word.
NOTEBOOK_RECORD = "classgrader"
#: In that record: the run's own troubles, ``[where, ename, evalue]`` for each error output the
#: grader (not the student's code) wrote. A status is read from here, never from an output's
#: name, which a student's cell can choose freely.
RUN_TROUBLES_KEY = "run_troubles"
#: In that record: ``{grade_id: [diagnosis, ...]}``, the known mistakes the checks recognised (the
#: "Diagnosis:" lines of their messages, taken from the check's own exception, never from the
#: text of an output, which can quote what the student's code raised).
DIAGNOSES_KEY = "diagnoses"

#: Error names that mean the run itself was cut short, and the status they give.
RUN_TROUBLE = {
    ErrorName.DEAD_KERNEL: Status.CRASHED,
    ErrorName.NOT_RUN: Status.CRASHED,
    ErrorName.CELL_TIMEOUT: Status.TIMED_OUT,
    ErrorName.TIME_BUDGET: Status.TIMED_OUT,
    ErrorName.TEST_TIMEOUT: Status.TIMED_OUT,
}


class Collection(StrEnum):
    """What collecting one student's assignment from their repository did."""

    COLLECTED = "collected"    # new or changed work copied into submitted/
    UNCHANGED = "unchanged"    # the same files as in submitted/ already: nothing touched
    NOT_STARTED = "not started"  # the notebook is still the released one: nothing to grade
    PROBLEM = "problem"        # nothing collected, with a reason


class Delivery(StrEnum):
    """What returning one student's feedback to their repository did."""

    RETURNED = "returned"      # a commit with the feedback was pushed
    UP_TO_DATE = "up to date"  # the repository already holds exactly this feedback
    PROBLEM = "problem"        # nothing pushed, with a reason
