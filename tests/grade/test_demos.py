"""Demonstration cells are skipped while grading only when nothing that runs can need them."""
from __future__ import annotations

from classgrader.grade import demos

DEMO = "model = train(make_data())\nlosses = model.history\nprint(losses[-1])"
OTHER_DEMO = "fig, ax = plot(losses)"
SOLUTION = "def predict(x):\n    return 2 * x"


def _skipped(*cells, tests=(), student=None, demo_sources=(DEMO, OTHER_DEMO)):
    return demos.skipped(list(cells), frozenset(demo_sources), list(tests), student)


def test_an_untouched_demo_cell_is_skipped_and_a_changed_one_runs():
    assert _skipped(SOLUTION, DEMO, None) == {1}
    assert _skipped(SOLUTION, DEMO + "\n", None) == set(), "a demo the student changed runs"
    assert _skipped(SOLUTION, DEMO, demo_sources=()) == set(), "only the instructor's demo cells"


def test_a_student_cell_that_reads_a_demo_name_keeps_the_demo_running():
    assert _skipped(DEMO, "print(model)") == set()
    assert _skipped(DEMO, "def predict(x):\n    return model(x)") == set(), "read inside a function, later"
    assert _skipped("def predict(x):\n    return model(x)", DEMO) == set(), "read by a function defined earlier"
    assert _skipped(DEMO, "losses += [0.0]") == set(), "changed in place"
    assert _skipped(DEMO, "model = 3\nprint(model)") == {0}, "a cell that binds the name first does not need it"


def test_a_demo_that_a_running_cell_needs_through_another_demo_runs():
    assert _skipped(DEMO, OTHER_DEMO) == {0, 1}
    assert _skipped(DEMO, OTHER_DEMO, "print(fig)") == set(), "fig is needed, so OTHER_DEMO runs, so losses is needed"


def test_indirect_access_to_the_kernels_names_keeps_every_demo_running():
    for cell in ("x = globals()['model']", "print(eval('losses'))", "import sys", "%who", "get_ipython()"):
        assert _skipped(DEMO, cell) == set(), cell


def test_the_tests_count_but_a_handed_in_test_cells_own_source_does_not():
    assert _skipped(DEMO, SOLUTION, tests=["assert predict(1) == 2\nprint(losses)"]) == set()
    assert _skipped(DEMO, SOLUTION, tests=["from m import substitute\nwith substitute(globals(), predict=2):\n"
                                          "    assert predict(1) == 2"]) == {0}, "the instructor's globals() is no way in"
    assert _skipped(DEMO, "globals()['model']", student=[True, False]) == {0}


def test_a_cell_that_binds_nothing_or_is_not_python_is_never_skipped():
    assert _skipped("print(1)", demo_sources=("print(1)",)) == set()
    assert _skipped("%matplotlib inline", demo_sources=("%matplotlib inline",)) == set()
