"""What the step-through page shows, as plain data: the layouts (Graphviz SVG, computed once),
each node's value and gradient for the tooltip, and one caption per backward step.

The page's script only switches between what is precomputed here; nothing is computed in
the browser.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_ng.tensor import Tensor

from .. import labels as L
from ..graph import INSTALL_GRAPHVIZ, Picture, render_picture, rerun, summed_text
from ..steps import Replay
from ..walk import node_of
from .simple import simple_layout

#: Arrays up to this many elements are shown whole in a tooltip; bigger ones as statistics
#: and a heatmap of at most HEATMAP × HEATMAP sampled cells.
WHOLE_TOOLTIP = 64
HEATMAP = 24
#: A model with more modules than this gets no layout per expanded module (only all
#: collapsed and all expanded).
MAX_MODULE_LAYOUTS = 16


def inline(a: Any) -> str:
    """A short one-line rendering of a value for captions (``3``, ``[1, 2]``, statistics)."""
    return " ".join(L.array_text(np.asarray(a), L.WHOLE_EDGE_VALUES).split())


def factor(a: Any) -> str:
    """A number in a product: ``3``, ``(-1)``."""
    text = inline(a)
    return f"({text})" if text.startswith("-") else text


def array_info(a: np.ndarray | None) -> dict[str, Any] | None:
    """A value or gradient for the tooltip: whole when small, else statistics and a heatmap
    (rows of the array flattened to 2-D, sampled evenly)."""
    if a is None:
        return None
    a = np.asarray(a)
    info: dict[str, Any] = {"shape": "scalar" if a.ndim == 0 else "×".join(map(str, a.shape))}
    if a.size <= WHOLE_TOOLTIP:
        info["text"] = L.array_text(a, WHOLE_TOOLTIP)
        return info
    x = a.astype(np.float64) if a.dtype.kind in "fiub" else None
    if x is None:
        info["text"] = f"{a.size} values of dtype {a.dtype}"
        return info
    finite = x[np.isfinite(x)]
    with np.errstate(all="ignore"):
        stats = {"mean": finite.mean() if finite.size else np.nan,
                 "std": finite.std() if finite.size else np.nan,
                 "min": x.min(), "max": x.max(), "‖·‖₂": np.sqrt(np.sum(finite * finite))}
    info["text"] = ", ".join(f"{k} {L.number(float(v))}" for k, v in stats.items())
    if finite.size < x.size:
        info["text"] += f", {x.size - finite.size} not finite"
    grid = x.reshape(1, -1) if x.ndim < 2 else x.reshape(-1, x.shape[-1])
    rows = np.unique(np.linspace(0, grid.shape[0] - 1, min(grid.shape[0], HEATMAP)).astype(int))
    cols = np.unique(np.linspace(0, grid.shape[1] - 1, min(grid.shape[1], HEATMAP)).astype(int))
    cells = grid[np.ix_(rows, cols)]
    info["heatmap"] = {"rows": len(rows), "cols": len(cols),
                       "values": [float(v) if np.isfinite(v) else None for v in cells.flat],
                       "sampled": len(rows) < grid.shape[0] or len(cols) < grid.shape[1]}
    return info


def local_derivative(child: Tensor, slot: int) -> np.ndarray | None:
    """∂child/∂(argument ``slot``) as numbers, for a one-element ``child`` (its op's backward
    run with gradient 1); None otherwise or when the op cannot be run again."""
    ctx = child._ctx
    if child.size != 1 or ctx is None:
        return None
    ctx = rerun(child) if ctx.freed else ctx
    if ctx is None:
        return None
    sent = ctx.backward(ctx, np.ones_like(child.data))
    sent = sent if isinstance(sent, tuple) else (sent,)
    return None if sent[slot] is None else np.asarray(sent[slot])


def captions(pic: Picture, replay: Replay, x: Tensor) -> list[str]:
    """The chain rule that gives ∂J/∂x, in the course's notation, one line per term.

    ``∂J/∂b = ∂J/∂u · ∂u/∂b = 3 · 2 = 6`` for a node with one consumer; a node with several
    starts at 0 and adds one term per consumer (``∂J/∂a += …``). Each term is followed by
    its local derivative's formula (``where ∂u/∂b = c = 2``).
    """
    name = pic.labels.operand
    J, me = name(pic.root), name(x)
    total = replay.grads[id(x)]
    if x is pic.root:
        return [f"∂{J}/∂{J} = {inline(total)}", "backpropagation starts at the output"]
    edges = [(child, slot) for child in dict.fromkeys(pic.used_by[id(x)])
             for slot, p in enumerate(child._ctx.parents) if p is x]
    lines = []
    several = len(edges) > 1
    if several:
        lines.append(f"∂{J}/∂{me} = 0, then one term per use of {me}:")
    for child, slot in edges:
        c = name(child)
        incoming = replay.grads.get(id(child))
        sent = replay.sent_by.get(id(child), {}).get((id(child), slot))
        local = local_derivative(child, slot)
        chain = f"∂{J}/∂{c} · ∂{c}/∂{me}"
        scalars = incoming is not None and local is not None and local.size == 1
        numbers = f"{factor(incoming)} · {factor(local)} = " if scalars else ""
        result = inline(sent) if sent is not None else "0"
        lines.append(f"∂{J}/∂{me} {'+=' if several else '='} {chain} = {numbers}{result}")
        formula = pic.labels.edge_formula(child, slot)
        if formula:
            where = f"{formula} = {inline(local)}" if scalars and \
                formula.split(" = ", 1)[1] != inline(local) else formula
            lines.append(f"    where {where}")
        axes = replay.summed.get((id(child), slot))
        if axes:
            lines.append(f"    {summed_text(axes)}: {me} was broadcast to {c}'s shape "
                         f"in the forward pass")
    if several:
        lines.append(f"∂{J}/∂{me} = {inline(total) if total is not None else '0'}")
    return lines


def layout(pic: Picture, render: dict[str, Any], collapse: bool,
           expanded: tuple[str, ...] = ()) -> dict[str, Any]:
    """One Graphviz layout as SVG, with the DOT node each tensor is drawn as."""
    graph = render_picture(pic, collapse_modules=collapse, legend=False, expanded=expanded,
                           **render)
    try:
        svg = graph.pipe(format="svg").decode("utf-8")
    except RuntimeError as e:  # no `dot`
        raise RuntimeError(
            "backprop_html lays the graph out with the Graphviz 'dot' program, which was not "
            f"found on PATH. {INSTALL_GRAPHVIZ}; or pass layout='simple' for a plain layered "
            "layout that needs no Graphviz") from e
    return {"svg": svg[svg.index("<svg"):],
            "place": {pic.ids[i]: node for i, node in pic.placed.items() if i in pic.ids}}


def scopes(pic: Picture) -> list[str]:
    """The modules (innermost scopes) that a collapsed drawing draws as boxes."""
    return sorted({s for t in pic.nodes if (s := pic.scope_of(t)) is not None
                   and t is not pic.root})


def page_data(pic: Picture, replay: Replay, render: dict[str, Any], collapsed: bool,
              engine: str = "dot") -> dict[str, Any]:
    """Everything the page shows (see the module docstring). ``engine="simple"`` lays the
    graph out without Graphviz (no module boxes)."""
    J = pic.labels.operand(pic.root)
    pic.grads = dict(replay.grads)
    pic.edge_grads = {e: g for sent in replay.sent_by.values() for e, g in sent.items()}
    pic.summed = replay.summed
    pic.grad_name = lambda t: f"∂{J}/∂{pic.labels.operand(t)} = "
    pic.missing_grad = lambda t: f"∂{J}/∂{pic.labels.operand(t)} = 0 (unused)"
    if engine == "simple":
        layouts = {"expanded": simple_layout(pic, render["show_values"],
                                             render["show_formulas"])}
    else:
        layouts = {"expanded": layout(pic, render, False)}
    modules = scopes(pic) if engine == "dot" else []
    if modules:
        layouts["collapsed"] = layout(pic, render, True)
        if len(modules) <= MAX_MODULE_LAYOUTS:
            for s in modules:
                layouts[f"module:{s}"] = layout(pic, render, True, (s,))
    nodes = {}
    for t in pic.nodes:
        key = pic.ids[id(t)]
        nodes[key] = {
            "label": pic.labels.label(t) or pic.labels.operand(t),
            "title": pic.labels.title(t), "kind": pic.labels.kind(t),
            "op": ctx.op_name if (ctx := node_of(t)) is not None else None,
            "scope": pic.scope_of(t), "dtype": t.dtype.name,
            "value": array_info(t.data), "grad": array_info(replay.grads.get(id(t))),
            "pending": f"∂{J}/∂{pic.labels.operand(t)} = ?"}
    steps = [{"node": pic.ids[id(x)], "label": nodes[pic.ids[id(x)]]["label"],
              "caption": captions(pic, replay, x)} for x in replay.order]
    return {"root": J, "layouts": layouts,
            "start": "collapsed" if collapsed and "collapsed" in layouts else "expanded",
            "nodes": nodes, "steps": steps, "grad_color": L.GRAD_COLOR,
            "intro": f"Forward pass done: {J} = {inline(pic.root.data)}. Press Step to run "
                     f"backpropagation one node at a time ({len(steps)} steps)."}
