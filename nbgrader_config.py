"""The course's nbgrader settings: the one place they are written down.

Instructors run plain nbgrader from the repository root (``nbgrader generate_assignment
01-derivatives``, ``nbgrader autograde 01-derivatives``, ``nbgrader generate_feedback``,
``nbgrader export``) and this file is read by each of those commands. The course's own grading
entry point (``classgrader``, behind ``make grade`` and ``make demo``) loads this same file and
adds parallelism and reporting on top; it never repeats a setting written here.
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

_here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "calculus-for-ml"

# The gradebook: SQLite next to this file. ``timeout`` makes a writer wait up to 60 s for a
# lock instead of the driver's 5 s default, so concurrent graders queue instead of failing.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_here, "gradebook.db") + "?timeout=60"

# What a student receives besides the notebook: data files and the sherpa teaching script are
# released; caches never are.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store",
]

# The stub a student sees in every solution cell.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading a cell may take a while for the convergence tests, never forever.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Grading runs through the course's hardened preprocessors (classgrader/preprocessors.py), so
# plain `nbgrader autograde` gets the same protections as `make grade`: malformed hand-ins fail
# alone with a reason, a dead or hung kernel costs only the cells that did not run, run-time
# tricks are undone before each test cell and detected after it, warnings on stderr do not zero
# a correct answer, and outputs are capped in bytes.
c.Autograde.sanitize_preprocessors = [
    "classgrader.grade.preprocessors.RejectMalformed",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "classgrader.grade.preprocessors.GuardedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "classgrader.grade.preprocessors.CapOutputBytes",
    "classgrader.grade.preprocessors.HarmlessStderr",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.GuardedExecute.notebook_budget = 600   # seconds per notebook, on top of the per-cell timeout
c.CapOutputBytes.max_bytes = 20_000      # per cell; nbgrader's LimitOutput counts only lines

# Feedback shows the student's code, outputs, scores and failure messages but not the source of
# the hidden tests (neither in the cells nor quoted in tracebacks), so that the tests can be
# reused next term. Remove the two middle lines to show the tests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "classgrader.feedback.preprocessors.StripTestTracebacks",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
