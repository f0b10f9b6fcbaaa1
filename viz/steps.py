"""Backpropagation as a flip-book: one drawing per node, in the order gradients are computed.

Frame 1 shows the output's gradient (1); each next frame computes one more node's gradient
by the chain rule, ``∂J/∂x = Σ over consumers c of ∂J/∂c · ∂c/∂x``, highlighting that node
and the edges its gradient came along. For slides and notebooks.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinygrad_ng.gradcheck import grad
from tinygrad_ng.tensor import Tensor

from . import labels as L
from .graph import FORMATS, GraphDrawing, Picture, edge_gradients, render_picture, save
from .walk import topological_order


@dataclass
class Replay:
    """A backward pass over a picture's nodes, computed up front with ``tg.grad``."""

    #: the nodes that need a gradient, in the order backpropagation completes them
    order: list[Tensor]
    #: id → ∂root/∂node (None: the root does not depend on it)
    grads: dict[int, Any]
    #: child id → the edge gradients ``(id(child), slot) → array`` it sends to its parents
    sent_by: dict[int, dict] = field(default_factory=dict)
    #: edges whose gradient was summed over broadcast axes (see ``edge_gradients``)
    summed: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict)


def replay_backward(pic: Picture, grad_output: Any = None) -> Replay:
    """Every gradient of ``pic``'s nodes and of its edges, without touching any ``.grad``
    (the graph is kept)."""
    root = pic.root
    order = [t for t in reversed(topological_order(root))
             if t.requires_grad and id(t) in pic.ids]
    values = grad(root, order, grad_outputs=grad_output, retain_graph=True, allow_unused=True)
    replay = Replay(order, {id(t): g for t, g in zip(order, values)})
    for edge, g in edge_gradients(order, replay.grads, replay.summed).items():
        replay.sent_by.setdefault(edge[0], {})[edge] = g
    return replay


def _caption(pic: Picture, x: Tensor, value: str) -> str:
    """``∂J/∂u = ∂J/∂v·∂v/∂u = 3``: unnamed nodes appear by their numbers (``mul#1``), as
    drawn on them."""
    symbol = pic.labels.operand
    root = symbol(pic.root)
    if x is pic.root:
        return f"∂{root}/∂{root} = {value} (backpropagation starts at the output)"
    terms = [f"∂{root}/∂{symbol(c)}·∂{symbol(c)}/∂{symbol(x)}"
             for c in dict.fromkeys(pic.used_by[id(x)])]
    return f"∂{root}/∂{symbol(x)} = {' + '.join(terms)} = {value}"


def backprop_steps(root: Tensor, grad_output: Any = None, show_values: bool = True,
                   show_formulas: bool = True, rankdir: str = "LR",
                   max_nodes: int | None = None, legend: bool = True,
                   names: Any = None) -> Iterator[GraphDrawing]:
    """Yield one drawing per node that needs a gradient, in reverse topological order.

    In frame k the first k gradients are shown (the k-th highlighted, with the chain-rule
    sum that produced it in the caption); the others read ``?``. The gradients are computed
    with ``tg.grad`` (nobody's ``.grad`` changes) and the graph is kept, so call this
    before ``backward()`` or after ``backward(retain_graph=True)``. ``grad_output`` seeds a
    non-scalar root, as in ``backward``. ``names`` as in :func:`draw_graph`.
    """
    pic = Picture(root, max_nodes, names)
    replay = replay_backward(pic, grad_output)
    pic.summed = replay.summed
    root_name = pic.labels.operand(root)
    pic.grad_name = lambda t: f"∂{root_name}/∂{pic.labels.operand(t)} = "
    pic.missing_grad = lambda t: "grad = ?"
    for k, x in enumerate(replay.order, 1):
        g = replay.grads[id(x)]
        pic.grads[id(x)] = g
        pic.edge_grads.update(replay.sent_by.get(id(x), {}))
        pic.current = id(x)
        value = L.array_text(g, L.WHOLE_EDGE_VALUES) if g is not None else "0 (unused)"
        pic.title = f"step {k} of {len(replay.order)}:  {_caption(pic, x, value)}"
        yield render_picture(pic, show_values, True, show_formulas, rankdir, False, legend)


def save_steps(root: Tensor, folder: str | Path, format: str = "svg",
               **step_kwargs: Any) -> list[Path]:
    """Write the frames of :func:`backprop_steps` as ``folder/step_01.svg``, ``step_02.svg``…

    ``format``: ``svg``, ``png`` or ``pdf`` (or ``dot`` for the source). Returns the paths.
    """
    if f".{format}" not in FORMATS:
        raise ValueError(f"save_steps: unknown format {format!r}; use svg, png, pdf or dot")
    folder = Path(folder)
    frames = list(backprop_steps(root, **step_kwargs))
    width = max(2, len(str(len(frames))))
    return [save(frame, folder / f"step_{k:0{width}d}.{format}")
            for k, frame in enumerate(frames, 1)]


def save_gif(root: Tensor, path: str | Path, seconds_per_step: float = 1.5,
             **step_kwargs: Any) -> Path:
    """Write the frames of :func:`backprop_steps` as one animated GIF (looping), e.g. for
    slides. Needs Pillow (``pip install pillow``; it comes with matplotlib) and Graphviz.

    Frames of different sizes are centred on a white canvas of the largest size.
    """
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError("save_gif needs Pillow: pip install pillow (or "
                          "pip install 'tinygrad_ng[plots]')") from e
    if seconds_per_step <= 0:
        raise ValueError(f"save_gif: seconds_per_step must be positive, got {seconds_per_step}")
    images = [Image.open(io.BytesIO(frame.pipe(format="png"))).convert("RGB")
              for frame in backprop_steps(root, **step_kwargs)]
    width, height = max(im.width for im in images), max(im.height for im in images)
    frames = []
    for im in images:
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(im, ((width - im.width) // 2, (height - im.height) // 2))
        frames.append(canvas)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], loop=0,
                   duration=int(seconds_per_step * 1000))
    return path
