"""Reference implementations of every autograded function, one module per assignment.

The module for an assignment is named after its notebook: ``source/01-derivatives/derivatives.ipynb``
is answered by :mod:`solutions.derivatives`. The course's tests paste these functions into the
notebooks' solution cells and check that such a submission scores full marks, so the notebooks and
this package cannot drift apart. Hidden tests never import this package, and the grading sandbox
cannot read it.
"""
