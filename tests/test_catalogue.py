"""The catalogue reader: mistakes and styles are checked as they are read, with a clear error."""
from __future__ import annotations

import tomllib

import nbformat
import pytest

from classgrader.model.catalogue import STYLE_PREFIX, load_catalogue, load_styles, style_rounds
from classgrader.model.course import CourseError
from conftest import COURSE

ASSIGNMENT = COURSE.assignment("01-derivatives")
MISTAKE = '''
[[mistake]]
id = "divides-by-2h"
function = "forward_difference"
loses = ["correct_forward_difference"]
feedback = ["2h"]
code = "def forward_difference(f, x, h=1e-5):\\n    return (f(x + h) - f(x)) / (2 * h)\\n"
'''
STYLE = '''
[[style]]
id = "lambda-free"
function = "forward_difference"
description = "The same formula over two named values."
code = "def forward_difference(f, x, h=1e-5):\\n    ahead, here = f(x + h), f(x)\\n    return (ahead - here) / h\\n"
'''


def _write(tmp_path, text: str):
    (tmp_path / f"{ASSIGNMENT.name}.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_mistakes_and_styles_are_read_from_one_file_each_into_its_own_list(tmp_path):
    folder = _write(tmp_path, MISTAKE + STYLE)
    mistakes, styles = load_catalogue(ASSIGNMENT, folder), load_styles(ASSIGNMENT, folder)
    assert [m.id for m in mistakes] == ["divides-by-2h"] and mistakes[0].loses == ("correct_forward_difference",)
    assert [s.id for s in styles] == ["lambda-free"]
    assert style_rounds(styles)[0].student == f"01-{STYLE_PREFIX}round-1" != mistakes[0].student


@pytest.mark.parametrize(("text", "says"), [
    (STYLE.replace('description = "The same formula over two named values."\n', ""), "missing field 'description'"),
    (STYLE + 'loses = ["correct_forward_difference"]\n', "unknown field(s) 'loses'"),
    (STYLE.replace("code = ", "patch = [{old = 'a', new = 'b'}]\ncode = "), "exactly one of 'code'"),
    (STYLE + STYLE, "id 'lambda-free' is used twice"),
    ("[[style]\nid = 1", "not valid TOML"),
])
def test_a_malformed_style_is_refused_with_where_and_why(tmp_path, text, says):
    with pytest.raises(CourseError) as raised:
        load_styles(ASSIGNMENT, _write(tmp_path, text))
    assert says in str(raised.value) and ASSIGNMENT.name in str(raised.value)


def test_a_mistake_that_loses_nothing_is_refused(tmp_path):
    with pytest.raises(CourseError, match="'loses' must be a non-empty list"):
        load_catalogue(ASSIGNMENT, _write(tmp_path, MISTAKE.replace('["correct_forward_difference"]', "[]")))


def test_styles_are_handed_in_by_rounds_that_never_rewrite_one_definition_twice():
    from classgrader.model.catalogue import Style, style_rounds

    functions = ["f", "g", "f", "Value", "Value.m", "h", "Value.n"]
    styles = [Style(ASSIGNMENT.name, f"s{k}", name, "") for k, name in enumerate(functions)]
    rounds = style_rounds(styles)
    assert [[s.function for s in r.styles] for r in rounds] == [["f", "g", "Value", "h"], ["f", "Value.m", "Value.n"]]
    assert [r.student for r in rounds] == [f"01-{STYLE_PREFIX}round-1", f"01-{STYLE_PREFIX}round-2"]
    assert sorted(s.id for r in rounds for s in r.styles) == sorted(s.id for s in styles)


def test_a_round_writes_in_every_style_it_holds():
    from classgrader.model.catalogue import style_rounds
    from classgrader.model.notebooks import fill_from_solutions

    released = nbformat.read(COURSE.release_notebook(ASSIGNMENT), as_version=4)
    perfect = fill_from_solutions(released, ASSIGNMENT.solutions_module)
    two = tomllib.loads(STYLE + STYLE.replace('"lambda-free"', '"central-too"').replace(
        "forward_difference", "central_difference").replace("f(x)) / h", "f(x - h)) / (2 * h)").replace(
        "here = f(x + h), f(x)", "here = f(x + h), f(x - h)"))
    folder_styles = [_style(entry) for entry in two["style"]]
    (styled,) = style_rounds(folder_styles)
    text = "\n".join(c.source for c in styled.apply(perfect).cells)
    assert "ahead, here = f(x + h), f(x)\n" in text and "ahead, here = f(x + h), f(x - h)\n" in text


def _style(entry: dict):
    from classgrader.model.catalogue import Style

    return Style(ASSIGNMENT.name, entry["id"], entry["function"], entry["description"], entry["code"])
