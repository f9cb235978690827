"""Tests of mlviz.chain_rule beyond tests/test_mlviz.py: the fork convention of the computational
graph (each wire shows the gradient flowing back along it, each node its total in a box), and the
two-panel picture of a small network's training.
"""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from mlviz import chain_rule  # noqa: E402
from mlviz._style import BACKWARD_COLOR, FORWARD_COLOR  # noqa: E402


@pytest.fixture(autouse=True)
def _close_all_figures():
    yield
    plt.close("all")


def fork_graph(a=2.0, b=3.0, c=-1.0):
    """f = a b + a c with a correct forward and backward pass (a is used twice)."""
    p, q = a * b, a * c
    nodes = [
        {"name": "a", "pos": (0.0, 1.0), "value": a, "grad": b + c},
        {"name": "b", "pos": (0.0, 2.2), "value": b, "grad": a},
        {"name": "c", "pos": (0.0, -0.2), "value": c, "grad": a},
        {"name": "p", "label": "×", "pos": (2.0, 1.7), "value": p, "grad": 1.0},
        {"name": "q", "label": "×", "pos": (2.0, 0.3), "value": q, "grad": 1.0},
        {"name": "f", "label": "+", "pos": (3.8, 1.0), "value": p + q, "grad": 1.0},
    ]
    edges = [("a", "p"), ("b", "p"), ("a", "q"), ("c", "q"), ("p", "f"), ("q", "f")]
    return nodes, edges


def texts_by_kind(ax):
    """(boxed gradient texts, plain gradient texts, value texts) as lists of (text, x, y)."""
    boxed, wires, values = [], [], []
    for t in ax.texts:
        colour = to_hex(t.get_color()).upper()
        entry = (t.get_text(), *t.get_position())
        if colour == BACKWARD_COLOR:
            (boxed if t.get_bbox_patch() is not None else wires).append(entry)
        elif colour == FORWARD_COLOR:
            values.append(entry)
    return boxed, wires, values


def nearest(entries, point):
    return min(entries, key=lambda e: np.hypot(e[1] - point[0], e[2] - point[1]))[0]


def test_fork_wires_carry_each_path_and_the_node_its_total():
    nodes, edges = fork_graph()
    fig, ax = chain_rule.plot_computational_graph(nodes, edges)
    boxed, wires, values = texts_by_kind(ax)
    pos = {n["name"]: np.array(n["pos"]) for n in nodes}
    # the wire a -> p carries df/dp * dp/da = b = 3, the wire a -> q carries c = -1 ...
    assert nearest(wires, 0.5 * (pos["a"] + pos["p"])) == "3"
    assert nearest(wires, 0.5 * (pos["a"] + pos["q"])) == "-1"
    # ... and the box under a holds their sum, 2 (not 3 or -1, which = instead of += would give)
    assert nearest(boxed, pos["a"]) == "2"
    assert len(boxed) == len(nodes)
    assert len(wires) == len(edges) + 1  # plus the output's own wire
    assert len(values) == len(edges) + 1
    assert ax.get_legend() is not None and len(ax.get_legend().get_texts()) == 2
    fig.savefig(io.BytesIO(), format="png", dpi=30)


def test_wire_gradients_follow_the_chain_rule_at_every_fork():
    nodes, edges = fork_graph(a=1.5, b=-4.0, c=0.25)
    by_name, wires = chain_rule._check_graph(nodes, edges)
    flows = dict(zip([(s, d) for s, d, _ in wires], chain_rule._wire_gradients(by_name, wires)))
    assert flows[("a", "p")] == -4.0 and flows[("a", "q")] == 0.25
    assert flows[("a", "p")] + flows[("a", "q")] == by_name["a"]["grad"]
    assert flows[("b", "p")] == 1.5 and flows[("p", "f")] == 1.0  # single wires carry the node's total


def test_a_value_used_twice_by_one_product_gets_both_paths():
    # f = a * a at a = 3: two wires into the same product, each carrying 3, total 6.
    nodes = [{"name": "a", "pos": (0, 0), "value": 3.0, "grad": 6.0},
             {"name": "f", "label": "×", "pos": (2, 0), "value": 9.0, "grad": 1.0}]
    by_name, wires = chain_rule._check_graph(nodes, [("a", "f"), ("a", "f")])
    assert chain_rule._wire_gradients(by_name, wires) == [3.0, 3.0]


def test_explicit_wire_gradient_wins_and_other_operations_need_it():
    nodes = [{"name": "x", "pos": (0, 0), "value": 0.0, "grad": 0.5},
             {"name": "s", "label": "σ", "pos": (2, 1), "value": 0.5, "grad": 1.0},
             {"name": "t", "label": "σ", "pos": (2, -1), "value": 0.5, "grad": 1.0},
             {"name": "f", "label": "+", "pos": (4, 0), "value": 1.0, "grad": 1.0}]
    edges = [("x", "s"), ("x", "t"), ("s", "f"), ("t", "f")]
    with pytest.raises(ValueError, match="third element"):
        chain_rule.plot_computational_graph(nodes, edges)
    assert plt.get_fignums() == []
    edges = [("x", "s", 0.25), ("x", "t", 0.25), ("s", "f"), ("t", "f")]
    fig, ax = chain_rule.plot_computational_graph(nodes, edges)
    boxed, wires, _ = texts_by_kind(ax)
    assert sorted(w[0] for w in wires) == ["0.25", "0.25", "1", "1", "1"]
    assert nearest(boxed, (0, 0)) == "0.5"


@pytest.mark.parametrize(
    "edges, message",
    [
        ([("a", "p", float("nan")), ("b", "p")], "finite number"),
        ([("a", "p", "3"), ("b", "p")], "finite number"),
        ([("a", "p", 1.0, 2.0)], "pair \\(src, dst\\) or a triple"),
    ],
)
def test_bad_wire_gradients(edges, message):
    nodes, _ = fork_graph()
    with pytest.raises(ValueError, match=message):
        chain_rule.plot_computational_graph(nodes, edges)
    assert plt.get_fignums() == []


def test_fork_into_a_product_needs_the_other_values():
    nodes, edges = fork_graph()
    del nodes[1]["value"]  # b has no value, so a -> p cannot be derived
    with pytest.raises(ValueError, match="need values"):
        chain_rule.plot_computational_graph(nodes, edges)


def test_missing_gradients_leave_the_wires_blank():
    nodes = [{"name": "a", "pos": (0, 0), "value": 1.0}, {"name": "f", "label": "+", "pos": (2, 0), "value": 2.0},
             {"name": "g", "label": "×", "pos": (2, 2), "value": 1.0}]
    fig, ax = chain_rule.plot_computational_graph(nodes, [("a", "f"), ("a", "g")])
    boxed, wires, values = texts_by_kind(ax)
    assert boxed == [] and wires == [] and len(values) == 4


# ------------------------------------------------------------------ training picture
def test_network_training_panels_hold_the_data():
    losses = 0.5 * 0.9 ** np.arange(30)
    x = np.linspace(-3, 3, 8)
    grid = np.linspace(-3, 3, 50)
    fits = {"before training": 0 * grid, "after 29 steps": np.sin(grid)}
    losses_before = losses.copy()
    fig, (ax_loss, ax_fit) = chain_rule.plot_network_training(losses, x, np.sin(x), grid, fits)
    np.testing.assert_array_equal(losses, losses_before)
    assert ax_loss.get_yscale() == "log"
    np.testing.assert_allclose(ax_loss.lines[0].get_ydata(), losses)
    np.testing.assert_allclose(ax_loss.lines[0].get_xdata(), np.arange(30))
    assert len(ax_fit.lines) == 2
    for line, pred in zip(ax_fit.lines, fits.values()):
        np.testing.assert_allclose(line.get_xydata(), np.column_stack([grid, pred]))
    assert ax_fit.lines[-1].get_linewidth() > ax_fit.lines[0].get_linewidth()
    np.testing.assert_allclose(ax_fit.collections[0].get_offsets(), np.column_stack([x, np.sin(x)]))
    assert [t.get_text() for t in ax_fit.get_legend().get_texts()] == ["training data", *fits]
    for ax in (ax_loss, ax_fit):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert fig.get_suptitle()


def test_network_training_skips_non_positive_losses():
    fig, (ax_loss, _) = chain_rule.plot_network_training([1.0, 0.0, np.inf, 0.5], [0.0, 1.0], [0.0, 1.0],
                                                          [0.0, 1.0], {"fit": [0.0, 1.0]}, title="t")
    assert np.isnan(ax_loss.lines[0].get_ydata()[1:3]).all()
    assert fig.get_suptitle() == "t"


@pytest.mark.parametrize(
    "args, message",
    [
        (([1.0], [0.0], [0.0], [0.0, 1.0], {"f": [0, 1]}), "losses"),
        (([0.0, 0.0], [0.0], [0.0], [0.0, 1.0], {"f": [0, 1]}), "losses"),
        (([1.0, 0.5], [0.0, 1.0], [0.0], [0.0, 1.0], {"f": [0, 1]}), "same shape"),
        (([1.0, 0.5], [0.0], [0.0], [0.0], {"f": [0]}), "grid"),
        (([1.0, 0.5], [0.0], [0.0], [0.0, 1.0], {}), "fits"),
        (([1.0, 0.5], [0.0], [0.0], [0.0, 1.0], {"f": [0, 1, 2]}), "shape of grid"),
        (([1.0, 0.5], [np.nan], [0.0], [0.0, 1.0], {"f": [0, 1]}), "x must contain only finite"),
    ],
)
def test_network_training_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        chain_rule.plot_network_training(*args)
    assert plt.get_fignums() == []
