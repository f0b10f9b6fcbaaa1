"""The fully connected layer ``Z = A_prev·Wᵀ + b`` as one node."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._common import _float_tensor


class Linear(Function):
    """Z = A_prev·Wᵀ + b for batch-first A_prev (…, n[l-1]), W (n[l], n[l-1]), b (n[l],).

    The course's column-major ``Z = W·A_prev + b`` with examples as rows. Backward, with dZ
    the incoming gradient flattened to (m, n[l]): dW = dZᵀ·A_prev, db = Σᵢ dZ⁽ⁱ⁾,
    dA_prev = dZ·W (the course's 1/m is already inside dZ when the loss is a mean). A bias of
    another shape that broadcasts to Z gets dZ, which the engine sums back to its shape.
    """

    op, inputs, derivatives = "linear", ("A", "W", "b"), ("W", "A", "1")
    twice_differentiable = True
    bias_is_a_row = True  # b of shape (n[l],): its gradient is Σᵢ dZ⁽ⁱ⁾ (set per node if not)

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        try:
            z = x @ w.T
        except ValueError:  # (nn.Linear calls this node without linear()'s checks)
            raise _linear_mismatch(x.shape, w.shape) from None
        if b is not None:  # in place unless b's dtype is wider than z's
            if b.ndim != 1:
                ctx.bias_is_a_row = False
            same = b.dtype is z.dtype or np.result_type(z, b) == z.dtype
            z = np.add(z, b, out=z if same else None)
        return z

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = g.reshape(-1, w.shape[0])  # dZ as (m, n[l]) whatever the batch axes
        dx = g @ w if need_x else None
        dw = g2.T @ x.reshape(-1, w.shape[1]) if need_w else None
        db = (g2.sum(axis=0) if ctx.bias_is_a_row else g) if need_b else None
        return dx, dw, db


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """``x @ weight.T + bias`` as one node: x (…, in), weight (out, in), bias (out,) or any
    shape that broadcasts to the output's (…, out)."""
    x, w = _float_tensor(x), _float_tensor(weight)
    b = None if bias is None else _float_tensor(bias)
    xs, ws = x.data.shape, w.data.shape
    if len(ws) != 2 or not xs or xs[-1] != ws[1]:
        raise _linear_mismatch(xs, ws)
    if b is not None and b.data.shape != (ws[0],):
        out = xs[:-1] + ws[:1]
        try:
            fits = np.broadcast_shapes(b.data.shape, out) == out
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"linear: bias of shape {b.shape} does not broadcast to the output "
                             f"shape {out} of x {x.shape} and weight {w.shape}; expected "
                             f"({w.shape[0]},)")
    return Linear.apply(x, w, b)


def _linear_mismatch(xs: tuple, ws: tuple) -> ValueError:
    return ValueError(f"linear: x of shape {xs} and weight of shape {ws} do not fit: weight "
                      "must be (out, in) with in = x.shape[-1]")
