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
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store", ".hypothesis",
]

# The stub a student sees in every solution cell.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading a cell may take a while for the convergence tests, never forever.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Grading runs through the course's preprocessors (classgrader/grade/preprocessors.py), so plain
# `nbgrader autograde` gets the same protections as `make grade`: malformed hand-ins fail alone
# with a reason; only the files the assignment ships reach the kernel; the student's cells run in
# the sandboxed kernel (forked from a warm zygote) while every test cell is decided
# by the judge outside it, from the gradebook's copy of the test; a dead or hung kernel costs only
# the cells that did not run; outputs are capped in bytes. Their settings (time budget per
# notebook, output cap, sandbox limits) are traits with documented defaults: set
# c.JudgedExecute.*, c.CapOutputBytes.* or c.Sandbox.* here to change them.
c.Autograde.sanitize_preprocessors = [
    "classgrader.grade.preprocessors.RejectMalformed",
    "classgrader.grade.preprocessors.KeepReleasedFiles",
    "nbgrader.preprocessors.ClearOutput",
    # the notebook and the gradebook say "interrupted" until MarkGraded runs (classgrader/grade/completion.py)
    "classgrader.grade.completion.MarkUngraded",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    # nbgrader's OverwriteCells, minus its "checksum has changed" warning for every test cell
    # handed in untouched (the hidden tests it restores are why the checksums differ)
    "classgrader.grade.preprocessors.RestoreHiddenTests",
    # nbgrader's CheckCellMetadata, validating each distinct cell once per grading process
    "classgrader.grade.preprocessors.CheckCellMetadataOnce",
]
c.Autograde.autograde_preprocessors = [
    "classgrader.grade.preprocessors.JudgedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "classgrader.grade.preprocessors.CapOutputBytes",
    # The student's HTML and JavaScript outputs and markdown are made harmless before anyone
    # opens them (the formgrader, the feedback page): scripts removed, HTML escaped by bleach.
    "nbconvert.preprocessors.sanitize.SanitizeHTML",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "classgrader.grade.completion.MarkGraded",
    "classgrader.grade.preprocessors.CheckCellMetadataOnce",
]

# Each student's hidden inputs are drawn from a course secret (README, "Variants"), never kept in
# this repository: set the environment variable CLASSGRADER_SECRET, or name a file only you can
# read here (the variable wins). Strict mode refuses to grade without one.
# c.JudgedExecute.variant_secret_file = os.path.expanduser("~/.calculus-for-ml-secret")

# `nbgrader export` writes grades.csv as nbgrader does, except that a submission whose grading did
# not finish (a test cell without a score) gets an empty score, not a 0 that looks final, and a
# warning that names it.
c.ExportApp.plugin_class = "classgrader.report.export.GradesCsv"

# nbconvert's preprocessors are off until enabled (nbgrader's lists leave them off, so
# ClearMetadataPreprocessor and CSSHTMLHeaderPreprocessor do nothing, as in nbgrader's own
# defaults); SanitizeHTML must run, in autograde and in feedback.
c.SanitizeHTML.enabled = True

# Late work. Each assignment's due date lives in the gradebook (formgrader: Manage Assignments,
# or `nbgrader db assignment add 01-derivatives --duedate="2025-03-14 17:00 Europe/Berlin"`);
# a submission's time is the one `nbgrader submit` stamped on it. Each started day late costs
# this share of the notebook's points (classgrader/grade/late.py; nbgrader's own choices are
# LateSubmissionPlugin with penalty_method "none" or "zero").
c.AssignLatePenalties.plugin_class = "classgrader.grade.late.LatePenalty"
c.LatePenalty.fraction_per_day = 0.1

# The exchange: where `nbgrader release_assignment` puts assignments for `nbgrader fetch_assignment`
# (and JupyterLab's Assignment List), where `nbgrader submit` hands them in for `nbgrader collect`,
# and where feedback is returned. The default is a folder next to this file (git-ignored), enough
# for one machine. On a JupyterHub, point it at a folder every user can read and write, the same
# path in the instructor's and every student's server, e.g. "/srv/nbgrader/exchange"; students need
# that path and the course id in their own nbgrader_config.py (docs/instructors.md).
c.Exchange.root = os.path.join(_here, "exchange")

# Feedback shows the student's code, outputs, scores and failure messages but not the source of
# the hidden tests (neither in the cells nor quoted in tracebacks), so that the tests can be
# reused next term. Remove ClearHiddenTests and StripTestTracebacks to show the tests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "classgrader.feedback.preprocessors.StripTestTracebacks",
    "nbconvert.preprocessors.sanitize.SanitizeHTML",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
