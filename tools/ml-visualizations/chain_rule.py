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

from mlviz._checks import as_float_array, check_axes, check_out_path, check_vector
from mlviz._style import BACKWARD_COLOR, CYCLE, FORWARD_COLOR, PALETTE, finish_cli, style_context

__all__ = ["plot_computational_graph", "cs231n_circuit", "plot_network_training"]

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
    wires = []
    for i, edge in enumerate(edges):
        if not isinstance(edge, (list, tuple)) or len(edge) not in (2, 3):
            raise ValueError(f"edges[{i}] must be a pair (src, dst) or a triple (src, dst, grad); got {edge!r}")
        src, dst = edge[0], edge[1]
        for end in (src, dst):
            if end not in by_name:
                raise ValueError(f"edges[{i}] = {tuple(edge)!r} names an unknown node {end!r}; "
                                 f"known: {sorted(by_name)}")
        if src == dst:
            raise ValueError(f"edges[{i}] connects {src!r} to itself")
        if np.allclose(by_name[src]["pos"], by_name[dst]["pos"]):
            raise ValueError(f"edges[{i}]: nodes {src!r} and {dst!r} are at the same position")
        grad = edge[2] if len(edge) == 3 else None
        if grad is not None and (isinstance(grad, bool) or not isinstance(grad, numbers.Real)
                                 or not np.isfinite(grad)):
            raise ValueError(f"edges[{i}]: the gradient along the wire must be a finite number or None; "
                             f"got {grad!r}")
        wires.append((src, dst, grad))
    return by_name, wires


_ADD_LABELS = ("+",)
_MUL_LABELS = ("×", "*", "·")


def _wire_gradients(by_name, wires):
    """The gradient that flows back along each wire (``None`` where nothing is known).

    A wire given as ``(src, dst, grad)`` carries ``grad``. A node with one outgoing wire sends
    its whole gradient along it. At a fork (several outgoing wires) each wire carries the
    chain-rule contribution of its own path, ``grad(dst) * d dst / d src``, which is derived for
    ``+`` nodes (local derivative 1) and product nodes (the product of the other inputs' values).
    """
    outgoing = {}
    inputs = {}
    for k, (src, dst, _) in enumerate(wires):
        outgoing[src] = outgoing.get(src, 0) + 1
        inputs.setdefault(dst, []).append(k)
    result = []
    for k, (src, dst, given) in enumerate(wires):
        if given is not None:
            result.append(float(given))
            continue
        if outgoing[src] == 1:
            result.append(by_name[src].get("grad"))
            continue
        target = by_name[dst]
        upstream = target.get("grad")
        if upstream is None:
            result.append(None)
        elif target["label"] in _ADD_LABELS:
            result.append(float(upstream))
        elif target["label"] in _MUL_LABELS:
            others = [by_name[wires[j][0]].get("value") for j in inputs[dst] if j != k]
            if any(v is None for v in others):
                raise ValueError(f"the wire {src!r} -> {dst!r} leaves a fork: its gradient is "
                                 f"grad({dst}) times the other inputs of {dst!r}, so they need values")
            result.append(float(upstream) * float(np.prod(others)))
        else:
            raise ValueError(
                f"the wire {src!r} -> {dst!r} leaves a fork ({src!r} feeds {outgoing[src]} wires) into a "
                f"{target['label']!r} node, whose local derivative is not known here: give the gradient "
                f"that flows back along it as a third element, ({src!r}, {dst!r}, grad)")
    return result


def _annotate_wire(ax, start, end, value, grad):
    """The source's value above the wire and the gradient flowing back along it below."""
    direction = (end - start) / np.linalg.norm(end - start)
    normal = np.array([-direction[1], direction[0]])
    if normal[1] < 0 or (normal[1] == 0 and normal[0] < 0):
        normal = -normal  # "above" means towards +y
    mid = 0.5 * (start + end)
    if value is not None:
        ax.text(*(mid + _OFFSET * normal), f"{value:.3g}", color=FORWARD_COLOR,
                ha="center", va="center", fontsize=12, fontweight="bold")
    if grad is not None:
        ax.text(*(mid - _OFFSET * normal), f"{grad:.3g}", color=BACKWARD_COLOR,
                ha="center", va="center", fontsize=12, fontweight="bold")


def plot_computational_graph(nodes, edges, ax=None, title=None):
    """Draw a small computational graph with forward values and backward gradients.

    Every wire carries two numbers: the forward value of its source above it
    (green), and below it (vermillion) the gradient that flows back along that
    wire, ``∂f/∂(dst) · ∂(dst)/∂(src)``. Every node shows its *total* gradient
    ``∂f/∂(node)`` in a box under its circle: the sum of what flows back along
    its outgoing wires. Where a node feeds one wire the two numbers agree; at a
    fork the wires show each path's contribution and the box their sum. A node
    without successors (the output) gets a short outgoing wire of its own.
    Nodes with incoming wires are operations (label ``"+"``, ``"×"``, ``"σ"``,
    ...), drawn grey with their name above; the others are inputs, drawn white.

    Parameters
    ----------
    nodes : list of dict
        Each ``{"name": str, "pos": (x, y)}`` plus optional ``"label"`` (text in
        the circle, default the name), ``"value"`` and ``"grad"`` (finite numbers;
        ``"grad"`` is the node's total gradient).
    edges : list of tuple
        ``(src, dst)`` pairs of node names, values flowing from ``src`` to ``dst``,
        or triples ``(src, dst, grad)`` that also give the gradient flowing back
        along the wire. Without it, a node's only outgoing wire carries the node's
        ``"grad"``; at a fork it is derived for ``"+"`` nodes (the gradient of the
        sum) and ``"×"`` nodes (that gradient times the other inputs' values), and
        any other fork needs the triple.
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
        not a finite number, an edge is not a pair or triple of known, distinct,
        separately placed nodes (and a finite gradient), a fork's wire gradient
        cannot be derived, ``title`` is not a string, or ``ax`` is not an Axes.
    """
    by_name, edge_list = _check_graph(nodes, edges)
    if title is not None and not isinstance(title, str):
        raise ValueError(f"title must be a string or None; got {type(title).__name__}")
    check_axes(ax)
    flows = _wire_gradients(by_name, edge_list)
    has_in = {dst for _, dst, _ in edge_list}
    has_out = {src for src, _, _ in edge_list}
    wires = []
    for (src, dst, _), flow in zip(edge_list, flows):
        a, b = by_name[src]["pos"], by_name[dst]["pos"]
        u = (b - a) / np.linalg.norm(b - a)
        wires.append((a + _RADIUS * u, b - _RADIUS * u, by_name[src].get("value"), flow))
    for name, node in by_name.items():
        if name not in has_out:
            start = node["pos"] + np.array([_RADIUS, 0.0])
            wires.append((start, start + np.array([_STUB, 0.0]), node.get("value"), node.get("grad")))
    all_xy = np.vstack([n["pos"] for n in by_name.values()] + [w[1] for w in wires])

    with style_context():
        if ax is None:
            fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
        else:
            fig = ax.figure
        for start, end, value, flow in wires:
            ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=16,
                                         linewidth=1.6, color="black", shrinkA=0, shrinkB=0))
            _annotate_wire(ax, start, end, value, flow)
        for name, node in by_name.items():
            is_op = name in has_in
            ax.add_patch(Circle(node["pos"], _RADIUS, facecolor="#E6E6E6" if is_op else "white",
                                edgecolor="black", linewidth=1.6, zorder=3))
            ax.text(*node["pos"], node["label"], ha="center", va="center", fontsize=15, zorder=4)
            if is_op and node["label"] != name:
                ax.text(node["pos"][0], node["pos"][1] + _RADIUS + 0.08, name, ha="center",
                        va="bottom", fontsize=10, color="0.3", style="italic")
            if node.get("grad") is not None:
                ax.text(node["pos"][0], node["pos"][1] - _RADIUS - 0.1, f"{node['grad']:.3g}",
                        ha="center", va="top", fontsize=11, fontweight="bold", color=BACKWARD_COLOR,
                        zorder=4, bbox=dict(boxstyle="round,pad=0.2", facecolor="white",
                                            edgecolor=BACKWARD_COLOR, linewidth=1.2))
        ax.set_xlim(all_xy[:, 0].min() - 0.7, all_xy[:, 0].max() + 0.4)
        ax.set_ylim(all_xy[:, 1].min() - 0.8, all_xy[:, 1].max() + 0.6)
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
                   label="gradient flowing back along the wire (below it);\n"
                         "boxed under a node: its total ∂f/∂node, the sum over its wires"),
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


def plot_network_training(losses, x, y, grid, fits, title=None):
    """Two panels of a small network trained on one-input data: the loss, and the fitted curve.

    Left: the training loss at every step on a logarithmic axis (a falling curve
    means the gradients point the right way). Right: the data points and the
    network's prediction on ``grid`` at a few moments, e.g. before and after
    training; the last one is drawn boldest.

    Parameters
    ----------
    losses : array_like, shape (k,)
        The loss before the first step and after each step, ``k >= 2``, at least
        one of them positive and finite (others are not drawn).
    x, y : array_like, shape (n,)
        The training inputs and targets (one number each).
    grid : array_like, shape (g,)
        Where the predictions were evaluated, ``g >= 2``.
    fits : dict of str to array_like
        Label (``"before training"``) -> predictions on ``grid``, in time order.
    title : str, optional
        Figure title; a default one is used when omitted.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : tuple of (matplotlib.axes.Axes, matplotlib.axes.Axes)
        The loss axes and the fit axes. ``axes[0].lines[0]`` is the loss curve;
        ``axes[1].lines`` holds one line per fit.

    Raises
    ------
    ValueError
        If an array has the wrong shape or non-finite data, ``fits`` is not a
        non-empty dict of predictions shaped like ``grid``, no loss is positive,
        or ``title`` is not a string.
    """
    loss = as_float_array(losses, "losses")
    if loss.ndim != 1 or loss.size < 2 or not np.any(np.isfinite(loss) & (loss > 0)):
        raise ValueError(f"losses must be a 1-D array of >= 2 losses, some positive; got shape {loss.shape}")
    xs = check_vector(x, "x")
    ys = check_vector(y, "y")
    if xs.shape != ys.shape:
        raise ValueError(f"x and y must have the same shape; got {xs.shape} and {ys.shape}")
    g = check_vector(grid, "grid", min_len=2)
    if not isinstance(fits, dict) or not fits:
        raise ValueError("fits must be a non-empty dict label -> predictions on grid")
    curves = {}
    for label, pred in fits.items():
        arr = as_float_array(pred, f"fits[{label!r}]")
        if arr.shape != g.shape:
            raise ValueError(f"fits[{label!r}] must have the shape of grid {g.shape}; got {arr.shape}")
        curves[str(label)] = arr
    if title is not None and not isinstance(title, str):
        raise ValueError(f"title must be a string or None; got {type(title).__name__}")

    with style_context():
        fig, (ax_loss, ax_fit) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
        shown = np.where(np.isfinite(loss) & (loss > 0), loss, np.nan)
        ax_loss.plot(np.arange(loss.size), shown, color=PALETTE["blue"], label="training loss")
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("gradient-descent step")
        ax_loss.set_ylabel("mean loss (log scale)")
        ax_loss.set_title("The loss falls step by step")
        ax_loss.legend(loc="upper right")

        ax_fit.scatter(xs, ys, s=30, color=PALETTE["black"], zorder=3, label="training data")
        n = len(curves)
        for i, (label, pred) in enumerate(curves.items()):
            last = i == n - 1
            ax_fit.plot(g, pred, color=CYCLE[(i + 1) % len(CYCLE)] if not last else PALETTE["vermillion"],
                        linewidth=2.8 if last else 1.6, alpha=1.0 if last else 0.6,
                        linestyle="-" if last else "--", label=label)
        ax_fit.set_xlabel("input $x$")
        ax_fit.set_ylabel("prediction $\\hat y$")
        ax_fit.set_title("The network's prediction")
        ax_fit.legend(loc="best")
        fig.suptitle(title if title is not None else "Training a two-layer network with backpropagation")
    return fig, (ax_loss, ax_fit)


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
    return finish_cli(fig, out)


if __name__ == "__main__":
    sys.exit(main())
