"""Reductions over axes: sum, mean, var, max/min, log-sum-exp."""

from __future__ import annotations

import numpy as np

from .. import xp
from ..function import Function


def _expand(g: np.ndarray, axis, keepdims: bool) -> np.ndarray:
    """Re-insert reduced axes into ``g`` so it broadcasts against the input."""
    if axis is not None and not keepdims:
        g = xp.expand_dims(g, axis)
    return g


def _squeeze(out: np.ndarray, axis) -> np.ndarray:
    """Drop the reduced axes of a keepdims result."""
    return out.reshape(()) if axis is None else np.squeeze(out, axis=axis)


class Sum(Function):
    op, derivatives = "sum", ("1",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return xp.broadcast_to(_expand(g, ctx.axis, ctx.keepdims), ctx.shape)


class Mean(Function):
    op, derivatives = "mean", ("1/n",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        if x.size:
            out = x.mean(axis=axis, keepdims=keepdims)
            ctx.n = x.size // max(out.size, 1)
            return out
        ctx.n = 0  # the mean of nothing is NaN (as NumPy's, without its warning)
        return np.full(np.sum(x, axis=axis, keepdims=keepdims).shape, np.nan, x.dtype)

    @staticmethod
    def backward(ctx, g):
        g = _expand(g, ctx.axis, ctx.keepdims) / max(ctx.n, 1)
        return xp.broadcast_to(g, ctx.shape)


class Var(Function):
    op, derivatives = "var", ("2(x − μ)/(n − ddof)",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, ddof=0):
        n = x.size if axis is None else int(np.prod([x.shape[a] for a in axis]))
        if n - ddof <= 0:
            raise ValueError(f"var: {n} elements with ddof={ddof}; need more than ddof")
        centred = x - x.mean(axis=axis, keepdims=True)
        ctx.axis, ctx.keepdims, ctx.scale = axis, keepdims, 2.0 / (n - ddof)
        ctx.save_for_backward(x)
        return np.square(centred).sum(axis=axis, keepdims=keepdims) / (n - ddof)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        centred = x - x.mean(axis=ctx.axis, keepdims=True)  # (recomputed: μ depends on x)
        return _expand(g, ctx.axis, ctx.keepdims) * (ctx.scale * centred)


class _Extreme(Function):
    """max/min over axes: the gradient is split evenly among tied extremes (constant
    shares: the second derivative is 0)."""

    reduce = staticmethod(np.max)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        out = type(ctx).reduce(x, axis=axis, keepdims=True)  # NumPy refuses empty axes
        ctx.axis, ctx.keepdims = axis, keepdims
        ctx.save_for_backward(x, out)
        return out if keepdims else _squeeze(out, axis)

    @staticmethod
    def backward(ctx, g):
        x, out = (xp.value(v) for v in ctx.saved_tensors)
        hits = x == out
        share = hits / hits.sum(axis=ctx.axis, keepdims=True)
        return share * g.reshape(out.shape)


class Max(_Extreme):
    op, derivatives, reduce = "max", ("[x = max]/#ties",), staticmethod(np.max)


class Min(_Extreme):
    op, derivatives, reduce = "min", ("[x = min]/#ties",), staticmethod(np.min)


class LogSumExp(Function):
    """log Σ eˣ; its derivative softmax(x) = e^(x − out) is recomputed from the input and
    the output in backward (so it is differentiable again)."""

    op, derivatives = "logsumexp", ("softmax(x)",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)  # -inf for an empty axis
        m = np.where(np.isfinite(m), m, 0)
        s = np.exp(x - m).sum(axis=axis, keepdims=True)
        with np.errstate(divide="ignore"):  # all −inf: log 0 = −inf
            out = np.log(s) + m
        out = out if keepdims else _squeeze(out, axis)
        ctx.axis, ctx.keepdims = axis, keepdims
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        with np.errstate(invalid="ignore"):  # all −inf: −inf − (−inf) is NaN, as 0/0 was
            softmax = xp.exp(x - _expand(out, ctx.axis, ctx.keepdims))
        return _expand(g, ctx.axis, ctx.keepdims) * softmax


class Norm(Function):
    """The Euclidean norm ‖x‖₂ = √(Σ x²) over axes;  ∂/∂x = x/‖x‖₂, taken as 0 where the
    norm is 0 (PyTorch's subgradient: no NaN at the origin)."""

    op, derivatives, output = "norm", ("x/‖x‖",), "‖x‖"
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        out = np.asarray(np.sqrt(np.square(x).sum(axis=axis, keepdims=keepdims)))
        ctx.axis, ctx.keepdims = axis, keepdims
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        out = _expand(out, ctx.axis, ctx.keepdims)
        safe = xp.where(xp.value(out) == 0, 1, out)
        return _expand(g, ctx.axis, ctx.keepdims) * x / safe
