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

    Computed without dividing by xᵢ (exact at zeros and for tiny xᵢ):
    ∂J/∂xᵢ = (Π_{j<i} xⱼ)·rᵢ with rᵢ = gᵢ + x_{i+1}·r_{i+1}, a running sum taken
    backwards. Second derivatives go through :meth:`composed`, the same products as a
    chain of multiplications.
    """

    op, derivatives = "cumprod", ("Π_{j≤k, j≠i} xⱼ",)

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        ctx.save_for_backward(x)
        return np.cumprod(x, axis=axis)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xs, gs = np.moveaxis(x, ctx.axis, 0), np.moveaxis(g, ctx.axis, 0)
        before = np.cumprod(np.concatenate([np.ones_like(xs[:1]), xs[:-1]]), axis=0)
        r = np.empty(np.broadcast_shapes(gs.shape, xs.shape), dtype=np.result_type(g, x))
        r[-1] = gs[-1]
        for i in range(len(xs) - 2, -1, -1):
            r[i] = gs[i] + xs[i + 1] * r[i + 1]
        with np.errstate(over="ignore", invalid="ignore"):  # (inf·0 where y overflowed)
            return np.moveaxis(before * r, 0, ctx.axis)

    @staticmethod
    def composed(x, axis):
        lead = (slice(None),) * axis
        running = out = None
        for k, s in enumerate(x.unbind(axis)):  # running = x₀·…·x_k, put at position k
            running = s if running is None else running * s
            placed = xp.scatter(x.shape, (*lead, k), running)
            out = placed if out is None else out + placed
        return out
