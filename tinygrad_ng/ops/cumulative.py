"""Running sums and products along an axis: ``cumsum`` and ``cumprod``."""

from __future__ import annotations

import numpy as np

from .. import xp
from ..function import Function


class CumSum(Function):
    """yₖ = Σ_{j≤k} xⱼ along ``axis``;  ∂J/∂xⱼ = Σ_{k≥j} gₖ (the running sum taken backwards)."""

    op, derivatives = "cumsum", ("[j ≤ k]",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return xp.flip(xp.cumsum(xp.flip(g, ctx.axis), ctx.axis), ctx.axis)


class CumProd(Function):
    """yₖ = Π_{j≤k} xⱼ along ``axis``;  ∂J/∂xᵢ = Σ_{k≥i} gₖ·Π_{j≤k, j≠i} xⱼ.

    Without zeros that is (Σ_{k≥i} gₖyₖ)/xᵢ; a slice holding a zero is done term by term
    (each xᵢ replaced by 1 in turn), so zeros get their exact gradient. Second derivatives
    go through :meth:`composed`, the same products as a chain of multiplications.
    """

    op, derivatives = "cumprod", ("Π_{j≤k, j≠i} xⱼ",)

    @staticmethod
    def forward(ctx, x, axis):
        out = np.cumprod(x, axis=axis)
        ctx.axis = axis
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        axis = ctx.axis
        zero = x == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = np.flip(np.cumsum(np.flip(g * out, axis), axis=axis), axis) / x
        if zero.any():  # slices with a zero: Σ_{k≥i} gₖ·cumprod(x with xᵢ = 1)ₖ
            n = x.shape[axis]
            exact = np.empty_like(dx)
            for i in range(n):
                xi = x.copy()
                np.moveaxis(xi, axis, 0)[i] = 1
                terms = np.moveaxis(g * np.cumprod(xi, axis=axis), axis, 0)
                np.moveaxis(exact, axis, 0)[i] = terms[i:].sum(axis=0)
            dx = np.where(zero.any(axis=axis, keepdims=True), exact, dx)
        return dx

    @staticmethod
    def composed(x, axis):
        lead = (slice(None),) * axis
        running = out = None
        for k, s in enumerate(x.unbind(axis)):  # running = x₀·…·x_k, put at position k
            running = s if running is None else running * s
            placed = xp.scatter(x.shape, (*lead, k), running)
            out = placed if out is None else out + placed
        return out
