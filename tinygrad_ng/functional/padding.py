"""``pad``: constant, reflect and replicate padding of the last axes (PyTorch's ``F.pad``)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._common import _float_tensor


class ConstantPad(Function):
    """x surrounded by ``value`` (the course's zero-padding with ``value=0``); ∂/∂x is 1
    inside, so backward crops g back to x's cells (indexing, differentiable again)."""

    op, derivatives = "pad", ("1 inside the padding",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.inner = tuple(slice(a, a + n) for (a, _), n in zip(widths, x.shape))
        out = np.full(tuple(n + a + b for (a, b), n in zip(widths, x.shape)), value,
                      dtype=x.dtype)
        out[ctx.inner] = x
        return out

    @staticmethod
    def backward(ctx, g):
        return g[ctx.inner]


def _source(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """Which input cell each output cell of a padded axis copies."""
    cells = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(cells, 0, n - 1)
    period = 2 * (n - 1)  # reflect: … 2 1 [0 1 2 … n−1] n−2 …, the edge not repeated
    cells = np.abs(cells) % period if period else np.zeros_like(cells)
    return np.where(cells >= n, period - cells, cells)


def pad(input: Any, pad: Any, mode: str = "constant", value: float = 0.0) -> Tensor:  # noqa: A002
    """Pad the last ``len(pad) // 2`` axes of ``input``; ``pad`` lists (before, after)
    widths starting from the LAST axis, as PyTorch: ``(left, right, top, bottom)`` pads
    the columns then the rows of an (N, C, H, W) batch.

    ``mode``: ``"constant"`` (cells = ``value``), ``"reflect"`` (mirror without repeating
    the edge: [1 2 3] → 3 2 [1 2 3] 2 1; widths < the axis length) or ``"replicate"``
    (repeat the edge cell). Reflect and replicate are gathers, whose backward adds the
    copies' gradients back onto the cells they copied.
    """
    x = _float_tensor(input)
    widths = tuple(pad) if isinstance(pad, (tuple, list)) else None
    if (widths is None or len(widths) % 2 or len(widths) // 2 > x.ndim
            or any(isinstance(w, bool) or not isinstance(w, numbers.Integral) or w < 0
                   for w in widths)):
        raise ValueError(f"pad: pad must be a tuple of non-negative ints, (before, after) per "
                         f"axis from the last, at most {2 * x.ndim} for shape {x.shape}; got "
                         f"{pad!r}")
    k = len(widths) // 2
    pairs = [(0, 0)] * (x.ndim - k) + [(int(widths[2 * i]), int(widths[2 * i + 1]))
                                       for i in reversed(range(k))]
    if mode == "constant":
        return ConstantPad.apply(x, widths=tuple(pairs), value=value)
    if mode not in ("reflect", "replicate"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect' or 'replicate', got {mode!r}")
    for axis, (before, after) in enumerate(pairs):
        if not (before or after):
            continue
        n = x.shape[axis]
        if n == 0 or (mode == "reflect" and max(before, after) >= n):
            raise ValueError(f"pad: {mode} padding of ({before}, {after}) needs an axis longer "
                             f"than the padding, but axis {axis} of shape {x.shape} has {n}")
        x = x[(slice(None),) * axis + (_source(n, before, after, mode),)]
    return x
