"""The chain rule on a computational graph: values flow forward, gradients backward.

Run as a script::

    python tools/ml-visualizations/chain_rule.py --out circuit.png
"""

if __package__ in (None, ""):
    import _script  # noqa: F401  (registers this folder as the package mlviz)

import argparse
import numbers
import sys

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch

from mlviz._checks import check_axes, check_out_path
from mlviz._style import BACKWARD_COLOR, FORWARD_COLOR, save_figure, style_context

__all__ = ["plot_computational_graph", "cs231n_circuit"]

_RADIUS = 0.28     # node circle radius (data units)
_OFFSET = 0.16     # distance of the numbers from their wire
_STUB = 0.9        # length of the output wire of a node without successors


def _check_graph(nodes, edges):
    """Validate ``nodes``/``edges``; return ``{name: node}`` with float positions."""
    if not isinstance(nodes, (list, tuple)) or not nodes:
        raise ValueError("nodes must be a non-empty list of dicts with at least 'name' and 'pos'")
    by_name = {}
    for i, node in enumerate(nodes):
        if not isinstance(node, dict) or "name" not in node or "pos" not in node:
            raise ValueError(f"nodes[{i}] must be a dict with keys 'name' and 'pos'; got {node!r}")
        name = node["name"]
        if not isinstance(name, str) or not name:
            raise ValueError(f"nodes[{i}]['name'] must be a non-empty string; got {name!r}")
        if name in by_name:
            raise ValueError(f"node name {name!r} is used twice; names must be unique")
        try:
            pos = np.array(node["pos"], dtype=np.float64)
        except (TypeError, ValueError):
            pos = np.array([np.nan])
        if pos.shape != (2,) or not np.all(np.isfinite(pos)):
            raise ValueError(f"node {name!r}: 'pos' must be two finite numbers (x, y); got {node['pos']!r}")
        for key in ("value", "grad"):
            v = node.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real)
                                  or not np.isfinite(v)):
                raise ValueError(f"node {name!r}: {key!r} must be a finite number or None; got {v!r}")
        label = node.get("label", name)
        if not isinstance(label, str):
            raise ValueError(f"node {name!r}: 'label' must be a string; got {label!r}")
        by_name[name] = {**node, "pos": pos, "label": label}
    if not isinstance(edges, (list, tuple)):
        raise ValueError("edges must be a list of (src, dst) pairs of node names")
    for i, edge in enumerate(edges):
        if not isinstance(edge, (list, tuple)) or len(edge) != 2:
            raise ValueError(f"edges[{i}] must be a pair (src, dst); got {edge!r}")
        src, dst = edge
        for end in (src, dst):
            if end not in by_name:
                raise ValueError(f"edges[{i}] = {tuple(edge)!r} names an unknown node {end!r}; "
                                 f"known: {sorted(by_name)}")
        if src == dst:
            raise ValueError(f"edges[{i}] connects {src!r} to itself")
        if np.allclose(by_name[src]["pos"], by_name[dst]["pos"]):
            raise ValueError(f"edges[{i}]: nodes {src!r} and {dst!r} are at the same position")
    return by_name


def _annotate_wire(ax, start, end, node):
    """Value above and gradient below the wire ``start -> end`` (the source's numbers)."""
    direction = (end - start) / np.linalg.norm(end - start)
    normal = np.array([-direction[1], direction[0]])
    if normal[1] < 0 or (normal[1] == 0 and normal[0] < 0):
        normal = -normal  # "above" means towards +y
    mid = 0.5 * (start + end)
    if node.get("value") is not None:
        ax.text(*(mid + _OFFSET * normal), f"{node['value']:.3g}", color=FORWARD_COLOR,
                ha="center", va="center", fontsize=12, fontweight="bold")
    if node.get("grad") is not None:
        ax.text(*(mid - _OFFSET * normal), f"{node['grad']:.3g}", color=BACKWARD_COLOR,
                ha="center", va="center", fontsize=12, fontweight="bold")


def plot_computational_graph(nodes, edges, ax=None, title=None):
    """Draw a small computational graph with forward values and backward gradients.

    Every wire leaving a node carries that node's numbers: its forward value
    above the wire (green) and the gradient of the output with respect to it
    below the wire (vermillion). A node without successors (the output) gets a
    short outgoing wire of its own. Nodes with incoming wires are operations
    (label ``"+"``, ``"×"``, ``"σ"``, ...), drawn grey with their name below;
    the others are inputs, drawn white.

    Parameters
    ----------
    nodes : list of dict
        Each ``{"name": str, "pos": (x, y)}`` plus optional ``"label"`` (text in
        the circle, default the name), ``"value"`` and ``"grad"`` (finite numbers).
    edges : list of tuple of str
        ``(src, dst)`` pairs of node names; values flow from ``src`` to ``dst``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is created when omitted.
    title : str, optional
        Axes title; a default one is used when omitted.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        ``ax.patches`` holds one circle per node and one arrow per wire.

    Raises
    ------
    ValueError
        If a node lacks a unique ``name`` or a finite ``pos``, a value or grad is
        not a finite number, an edge is not a pair of known, distinct, separately
        placed nodes, ``title`` is not a string, or ``ax`` is not an Axes.
    """
    by_name = _check_graph(nodes, edges)
    if title is not None and not isinstance(title, str):
        raise ValueError(f"title must be a string or None; got {type(title).__name__}")
    check_axes(ax)
    has_in = {dst for _, dst in edges}
    has_out = {src for src, _ in edges}
    wires = []
    for src, dst in edges:
        a, b = by_name[src]["pos"], by_name[dst]["pos"]
        u = (b - a) / np.linalg.norm(b - a)
        wires.append((a + _RADIUS * u, b - _RADIUS * u, by_name[src]))
    for name, node in by_name.items():
        if name not in has_out:
            start = node["pos"] + np.array([_RADIUS, 0.0])
            wires.append((start, start + np.array([_STUB, 0.0]), node))
    all_xy = np.vstack([n["pos"] for n in by_name.values()] + [w[1] for w in wires])

    with style_context():
        if ax is None:
            fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
        else:
            fig = ax.figure
        for start, end, node in wires:
            ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=16,
                                         linewidth=1.6, color="black", shrinkA=0, shrinkB=0))
            _annotate_wire(ax, start, end, node)
        for name, node in by_name.items():
            is_op = name in has_in
            ax.add_patch(Circle(node["pos"], _RADIUS, facecolor="#E6E6E6" if is_op else "white",
                                edgecolor="black", linewidth=1.6, zorder=3))
            ax.text(*node["pos"], node["label"], ha="center", va="center", fontsize=15, zorder=4)
            if is_op and node["label"] != name:
                ax.text(node["pos"][0], node["pos"][1] - _RADIUS - 0.13, name, ha="center",
                        va="top", fontsize=10, color="0.3", style="italic")
        ax.set_xlim(all_xy[:, 0].min() - 0.7, all_xy[:, 0].max() + 0.4)
        ax.set_ylim(all_xy[:, 1].min() - 0.7, all_xy[:, 1].max() + 0.6)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel("forward pass: left → right (values)    backward pass: right → left (gradients)")
        handles = [
            Line2D([], [], linestyle="none", marker="s", markersize=10, color=FORWARD_COLOR,
                   label="forward value (above the wire)"),
            Line2D([], [], linestyle="none", marker="s", markersize=10, color=BACKWARD_COLOR,
                   label="backward gradient ∂f/∂(wire) (below the wire)"),
        ]
        ax.legend(handles=handles, loc="upper right", fontsize=9)
        ax.set_title(title if title is not None
                     else "Computational graph: values forward, gradients backward")
    return fig, ax


def cs231n_circuit():
    """Nodes and edges of f(x, y, z) = (x + y) z at x, y, z = -2, 5, -4.

    The example of the Stanford CS231n notes on backpropagation, evaluated by an
    explicit forward pass (q = x + y = 3, f = q z = -12) and backward pass
    (∂f/∂f = 1, ∂f/∂q = z = -4, ∂f/∂z = q = 3, ∂f/∂x = ∂f/∂y = ∂f/∂q · 1 = -4).

    Returns
    -------
    nodes : list of dict
        Inputs ``x``, ``y``, ``z`` and operations ``q`` (``+``) and ``f`` (``×``)
        with positions, values and gradients.
    edges : list of tuple of str
        ``[("x", "q"), ("y", "q"), ("q", "f"), ("z", "f")]``.
    """
    x, y, z = -2.0, 5.0, -4.0
    # forward pass
    q = x + y
    f = q * z
    # backward pass: start with df/df = 1 and apply the local derivatives
    df = 1.0
    dq = z * df            # multiply gate: each input gets the other input times upstream
    dz = q * df
    dx = 1.0 * dq          # add gate: local derivative 1, passes the gradient through
    dy = 1.0 * dq
    nodes = [
        {"name": "x", "label": "x", "pos": (0.0, 2.0), "value": x, "grad": dx},
        {"name": "y", "label": "y", "pos": (0.0, 1.0), "value": y, "grad": dy},
        {"name": "z", "label": "z", "pos": (0.0, 0.0), "value": z, "grad": dz},
        {"name": "q", "label": "+", "pos": (1.8, 1.5), "value": q, "grad": dq},
        {"name": "f", "label": "×", "pos": (3.6, 0.75), "value": f, "grad": df},
    ]
    edges = [("x", "q"), ("y", "q"), ("q", "f"), ("z", "f")]
    return nodes, edges


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="Draw the computational graph of f = (x + y) z at x, y, z = -2, 5, -4 "
                    "with forward values and backward gradients.")
    parser.add_argument("--out", default="circuit.png",
                        help="output .png/.svg/.pdf (default: circuit.png in the current folder)")
    args = parser.parse_args(argv)
    try:
        out = check_out_path(args.out, (".png", ".svg", ".pdf"))
    except ValueError as exc:
        parser.error(str(exc))
    fig, _ = plot_computational_graph(*cs231n_circuit(), title="f(x, y, z) = (x + y) z")
    save_figure(fig, out)
    plt.close(fig)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
