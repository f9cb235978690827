"""Feedback: what goes back to students (nbgrader's feedback HTML, without the hidden tests)."""
