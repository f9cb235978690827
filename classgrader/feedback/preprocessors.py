"""Preprocessors of the feedback step, registered in ``nbgrader_config.py``."""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from classgrader.model.notebooks import is_autograded_test


class StripTestTracebacks(NbGraderPreprocessor):
    """Feedback: keep a failed test's message, drop its traceback.

    nbgrader's ``ClearHiddenTests`` removes the hidden tests from the cell source, but the
    traceback of a failure still quotes the lines around the failing hidden assertion. The
    message (``AssertionError: ...``) is what helps the student; it stays.
    """

    def preprocess_cell(self, cell, resources, index):
        if is_autograded_test(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
