"""Backpropagation you can step through: one self-contained HTML page for a user's graph.

    page = backprop_html(J)          # shows inline in Jupyter (no server, no extension)
    page.save("backprop.html")       # one file, opens offline in any browser

The page holds the graph laid out once by Graphviz (as SVG), every value and gradient, and
one caption per step; its small script (``page.js``, inlined) steps through them: Step /
Back / Play / a slider (or the arrow keys), the node being processed highlighted, the chain
rule written out, and hovering or clicking a node shows its full value and gradient.
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from tinygrad_ng.tensor import Tensor

from ..graph import RANKDIRS, Picture
from ..steps import replay_backward, save_gif
from .data import page_data


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>`` can end it early)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class BackpropPage:
    """The step-through page of one graph: ``.html`` is the whole file's text.

    Displays inline in Jupyter (``_repr_html_``: the page in an ``iframe``, so several pages
    in one notebook do not interfere); :meth:`save` writes the file, :meth:`save_gif` an
    animated GIF of the same steps.
    """

    def __init__(self, html_text: str, root: Tensor, data: dict[str, Any],
                 step_kwargs: dict[str, Any], height: int) -> None:
        self.html = html_text
        self.root = root
        self.data = data
        self.height = height
        self._step_kwargs = step_kwargs

    @property
    def steps(self) -> int:
        """How many backward steps the page has (one per node that needs a gradient)."""
        return len(self.data["steps"])

    def captions(self) -> list[str]:
        """The caption of each step, lines joined by newlines (what the page shows)."""
        return ["\n".join(s["caption"]) for s in self.data["steps"]]

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (an ``.html`` file) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        return path

    def save_gif(self, path: str | Path, seconds_per_step: float = 1.5) -> Path:
        """The same steps as an animated GIF (static drawings; needs Pillow)."""
        return save_gif(self.root, path, seconds_per_step, **self._step_kwargs)

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'style="width: 100%; height: {self.height}px; border: 1px solid #e2e8f0" '
                f'title="backpropagation of {html.escape(self.data["root"])}"></iframe>')

    def __repr__(self) -> str:
        return f"BackpropPage({self.data['root']!r}, {self.steps} steps)"


def backprop_html(root: Tensor, path: str | Path | None = None, grad_output: Any = None,
                  names: Any = None, rankdir: str = "LR", max_nodes: int | None = None,
                  show_values: bool = True, show_formulas: bool = True,
                  collapse_modules: bool = False, title: str | None = None,
                  height: int | None = None, layout: str = "dot",
                  seconds_per_step: float = 1.1) -> BackpropPage:
    """An interactive page that steps through backpropagation on ``root``'s graph.

    One self-contained HTML file (no network access when opened): the graph drawn as
    :func:`draw_graph` draws it (laid out once by Graphviz's ``dot``, which must be
    installed), with Step / Back / Play buttons, a slider and the arrow keys. Each step
    completes one node's gradient, in the order backpropagation does: the node is
    highlighted with the edges its gradient came along, and the caption writes the chain
    rule in the course's notation (``∂J/∂b = ∂J/∂u · ∂u/∂b = 3 · 2 = 6``), adding one term
    per use (``+=``) for a node used several times, and noting where a broadcast operand's
    gradient was summed. Hovering a node shows its value and gradient in full (small
    arrays whole; large ones as statistics and a heatmap); clicking pins it.

    - Gradients are computed with ``tg.grad``: nobody's ``.grad`` changes and the graph is
      kept, so call this before ``backward()`` or after ``backward(retain_graph=True)``.
      ``grad_output`` seeds a non-scalar root, as in ``backward``.
    - ``names``: as in :func:`draw_graph`; ``names=model`` labels parameters by their path
      and lets the page draw each module as a box (start with them collapsed with
      ``collapse_modules=True``; click a box to expand it, or use the modules button).
    - ``rankdir``, ``max_nodes``, ``show_values``, ``show_formulas``: as in
      :func:`draw_graph`. ``title``: the page's heading; ``height``: the height in pixels
      of the frame it is shown in inline (default: from the drawing).
    - ``layout``: ``"dot"`` (Graphviz; without it the error says how to install it) or
      ``"simple"``: a plain layered layout computed here, for machines without Graphviz
      (straight edges, no module boxes).
    - ``seconds_per_step``: the pace of Play.
    - ``path``: also write the page there.

    Returns a :class:`BackpropPage`: inline in Jupyter, ``.save(path)``, ``.save_gif(path)``.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"backprop_html: rankdir must be one of {', '.join(RANKDIRS)}, got "
                         f"{rankdir!r}")
    if not seconds_per_step > 0:
        raise ValueError(f"backprop_html: seconds_per_step must be positive, got "
                         f"{seconds_per_step}")
    if layout not in ("dot", "simple"):
        raise ValueError(f"backprop_html: layout must be 'dot' or 'simple', got {layout!r}")
    pic = Picture(root, max_nodes, names)
    if not root.requires_grad:
        raise ValueError("backprop_html: the root does not require grad, so backward has "
                         "nothing to compute (create a leaf with requires_grad=True)")
    replay = replay_backward(pic, grad_output)
    render = {"show_values": show_values, "show_formulas": show_formulas, "rankdir": rankdir}
    data = page_data(pic, replay, render, collapse_modules, layout)
    heading = title or f"Backpropagation through {data['root']}"
    data["title"] = heading
    data["play_ms"] = round(seconds_per_step * 1000)
    parts = {"TITLE": html.escape(heading), "CSS": _asset("page.css"),
             "DATA": _script_json(data), "JS": _asset("page.js")}
    page_text = re.sub(r"/\*(TITLE|CSS|DATA|JS)\*/", lambda m: parts[m.group(1)],
                       _asset("template.html"))
    step_kwargs = {"grad_output": grad_output, "show_values": show_values,
                   "show_formulas": show_formulas, "rankdir": rankdir, "max_nodes": max_nodes,
                   "names": names}
    page = BackpropPage(page_text, root, data, step_kwargs, height or _height(data))
    if path is not None:
        page.save(path)
    return page


def _height(data: dict[str, Any]) -> int:
    """A frame height that shows the whole drawing at its natural size (within limits)."""
    svg = data["layouts"][data["start"]]["svg"]
    head = svg[:svg.index(">")]
    try:
        points = float(head.split('height="', 1)[1].split("pt", 1)[0])
    except (IndexError, ValueError):
        points = 400.0
    return int(min(900, max(360, points * 4 / 3 + 220)))
