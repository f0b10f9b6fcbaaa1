"""A plain layered layout for the page where Graphviz is not installed (``layout="simple"``).

Each op goes in the column of its longest path from a leaf, each leaf just before its
first consumer (the output right), in topological order down the column; edges are
straight arrows. The SVG has the
structure the page's script reads from Graphviz's (``g.node`` / ``g.edge`` with a
``title``, gradients as text in the gradient colour), so the page works the same on it.
"""

from __future__ import annotations

import html
import math
from typing import Any

from tinygrad_ng.tensor import Tensor

from .. import labels as L
from ..graph import EDGE_COLOR, NO_GRAD_EDGE, STYLE, SUMMED_COLOR, Picture, summed_text
from ..walk import node_of, tensor_parents, topological_order

CHAR = 6.6      # px per character at the font size below
LINE = 15       # px per text line
PAD = 8         # px around a node's text
COLUMN_GAP = 120
ROW_GAP = 26

Row = tuple[str, str, bool, int]  # text, colour, bold, font size


def _node_rows(pic: Picture, t: Tensor, show_values: bool) -> list[Row]:
    kind = pic.labels.kind(t)
    rows: list[Row] = [(pic.labels.title(t), "#0f172a", True, 12),
                       (f"{ctx.op_name if (ctx := node_of(t)) else kind} · {L.shape_text(t)}",
                        L.MUTED_COLOR, False, 9)]
    if show_values and kind != L.CONSTANT:
        rows += [(line, "#0f172a", False, 12)
                 for line in ("value = " + L.array_text(t.data)).split("\n")]
    if t.requires_grad:
        g = pic.grads.get(id(t))
        text = pic.grad_name(t) + L.array_text(g) if g is not None else pic.missing_grad(t)
        color = L.GRAD_COLOR if g is not None else L.MUTED_COLOR
        rows += [(line, color, False, 12) for line in text.split("\n")]
    return rows


def _text(x: float, y: float, rows: list[Row], anchor: str = "start") -> str:
    """One SVG ``text`` per row, from ``y`` down."""
    out = []
    for i, (text, color, bold, size) in enumerate(rows):
        weight = ' font-weight="bold"' if bold else ""
        out.append(f'<text text-anchor="{anchor}" x="{x:.1f}" y="{y + (i + 0.8) * LINE:.1f}" '
                   f'font-family="Helvetica,Arial,sans-serif" font-size="{size}" '
                   f'fill="{color}"{weight}>{html.escape(L.visible(text))}</text>')
    return "".join(out)


def simple_layout(pic: Picture, show_values: bool, show_formulas: bool) -> dict[str, Any]:
    """The page's layout of ``pic`` without Graphviz: ``{"svg": ..., "place": ...}``."""
    order = topological_order(pic.root, within=pic.ids)
    column: dict[int, int] = {}
    for t in order:
        column[id(t)] = 1 + max((column[id(p)] for p in tensor_parents(t) if id(p) in column),
                                default=-1)
    for t in order:  # a leaf sits just before its first consumer, not far left
        uses = [column[id(c)] for c in pic.used_by[id(t)]]
        if node_of(t) is None and uses:
            column[id(t)] = min(uses) - 1
    rows = {id(t): _node_rows(pic, t, show_values) for t in order}
    size = {i: (max(len(r[0]) for r in rs) * CHAR + 2 * PAD, len(rs) * LINE + 2 * PAD)
            for i, rs in rows.items()}
    columns: list[list[Tensor]] = [[] for _ in range(max(column.values()) + 1)]
    for t in order:
        columns[column[id(t)]].append(t)
    heights = [sum(size[id(t)][1] for t in col) + ROW_GAP * (len(col) - 1) for col in columns]
    total_height = max(heights) + 2 * ROW_GAP
    box: dict[int, tuple[float, float, float, float]] = {}
    x = float(ROW_GAP)
    for col, height in zip(columns, heights):
        y = (total_height - height) / 2
        for t in col:
            w, h = size[id(t)]
            box[id(t)] = (x, y, w, h)
            y += h + ROW_GAP
        x += max(size[id(t)][0] for t in col) + COLUMN_GAP
    parts = [_edge(pic, child, slot, p, box, show_formulas)
             for child in order if (ctx := node_of(child)) is not None
             for slot, p in enumerate(ctx.parents)
             if isinstance(p, Tensor) and id(p) in box]
    for t in order:
        bx, by, w, h = box[id(t)]
        style = STYLE[pic.labels.kind(t)]
        op = node_of(t) is not None
        radius = h / 2 if op else 6
        parts.append(
            f'<g class="node"><title>{pic.ids[id(t)]}</title>'
            f'<rect x="{bx:.1f}" y="{by:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'rx="{min(radius, w / 2):.1f}" fill="{style["fillcolor"]}" '
            f'stroke="{style["color"]}" stroke-width="{2 if t is pic.root else 1}"/>'
            f"{_text(bx + PAD + (h / 4 if op else 0), by + PAD, rows[id(t)])}"
            "</g>")
    width = x - COLUMN_GAP + ROW_GAP
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" '
           f'height="{total_height:.0f}pt" viewBox="0 0 {width:.0f} {total_height:.0f}">'
           f'{"".join(parts)}</svg>')
    return {"svg": svg, "place": {key: key for key in pic.ids.values()}}


def _edge(pic: Picture, child: Tensor, slot: int, p: Tensor,
          box: dict[int, tuple[float, float, float, float]], show_formulas: bool) -> str:
    """A straight arrow from the right side of ``p`` to the left side of ``child``, with
    the local derivative, the gradient sent along it and any Σ mark at its middle."""
    px, py, pw, ph = box[id(p)]
    cx, cy, _, ch = box[id(child)]
    x1, y1, x2, y2 = px + pw, py + ph / 2, cx, cy + ch / 2
    angle = math.atan2(y2 - y1, x2 - x1)
    tip = [(x2, y2)] + [(x2 - 9 * math.cos(angle + s), y2 - 9 * math.sin(angle + s))
                        for s in (0.4, -0.4)]
    needed = node_of(child).needs_input_grad[slot]
    color = EDGE_COLOR if needed else NO_GRAD_EDGE["color"]
    rows: list[Row] = []
    formula = pic.labels.edge_formula(child, slot) if show_formulas and needed else None
    if formula:
        rows.append((formula, "#0f172a", False, 9))
    g = pic.edge_grads.get((id(child), slot))
    if g is not None:
        rows += [(line, L.GRAD_COLOR, False, 9)
                 for line in ("grad = " + L.array_text(g, L.WHOLE_EDGE_VALUES)).split("\n")]
    axes = pic.summed.get((id(child), slot))
    if axes:
        rows.append((summed_text(axes), SUMMED_COLOR, False, 9))
    dash = "" if needed else ' stroke-dasharray="5,3"'
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in tip)
    return (f'<g class="edge"><title>{pic.ids[id(p)]}-&gt;{pic.ids[id(child)]}</title>'
            f'<path d="M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}" fill="none" '
            f'stroke="{color}"{dash}/><polygon points="{points}" fill="{color}" '
            f'stroke="{color}"/>'
            f"{_text((x1 + x2) / 2, (y1 + y2) / 2 - len(rows) * LINE - 2, rows, 'middle')}"
            "</g>")
