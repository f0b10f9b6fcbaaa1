"""Unary elementwise maths: −x, exp, log, √, |x|, x², clip and dtype casts."""

from __future__ import annotations

import numpy as np

from .. import xp
from ..function import Function


class Neg(Function):
    op, derivatives = "neg", ("-1",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    op, derivatives = "exp", ("exp(x)",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    op, derivatives = "log", ("1/x",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    op, derivatives = "sqrt", ("1/(2√x)",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class Abs(Function):
    """|x|; the derivative at 0 is taken as 0 (as PyTorch)."""

    op, derivatives = "abs", ("sign(x)",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * xp.sign(x)


class Square(Function):
    op, derivatives = "square", ("2x",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.square(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (2 * x)


class Clip(Function):
    """Clamp to [lo, hi]; the gradient passes where lo <= x <= hi (as PyTorch)."""

    op, derivatives = "clip", ("[lo ≤ x ≤ hi]",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, lo=None, hi=None):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        x = xp.value(ctx.saved_tensors[0])  # the mask is a constant
        inside = np.ones(x.shape, dtype=bool)
        if ctx.lo is not None:
            inside &= x >= ctx.lo
        if ctx.hi is not None:
            inside &= x <= ctx.hi
        return g * inside


class Cast(Function):
    op, derivatives = "cast", ("1",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g  # the engine casts it back to the input's dtype


class Clone(Function):
    """A copy of ``x`` with its own memory (PyTorch's ``clone``); the gradient passes as is."""

    op, derivatives = "clone", ("1",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g
