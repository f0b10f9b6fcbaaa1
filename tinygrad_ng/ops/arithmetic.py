"""Binary ops: + − × ÷ ** @, elementwise max/min and where."""

from __future__ import annotations

import numpy as np

from .. import xp
from ..function import Function


class Add(Function):
    op, inputs, derivatives = "add", ("a", "b"), ("1", "1")
    twice_differentiable = True

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    op, inputs, derivatives = "sub", ("a", "b"), ("1", "-1")
    twice_differentiable = True

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    op, inputs, derivatives = "mul", ("a", "b"), ("b", "a")
    twice_differentiable = True

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad  # keep only what backward will read
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (None if b is None else g * b), (None if a is None else g * a)


class Div(Function):
    op, inputs, derivatives = "div", ("a", "b"), ("1/b", "-a/b²")
    twice_differentiable = True

    @staticmethod
    def forward(ctx, a, b):
        out = a / b
        ctx.save_for_backward(b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        b, out = ctx.saved_tensors
        ga = g / b
        return ga, (-ga * out if ctx.needs_input_grad[1] else None)


class Pow(Function):
    """``a ** b``; ∂/∂b = aᵇ·ln a is taken as 0 where a = 0 (the limit for b > 0)."""

    op, inputs, derivatives = "pow", ("a", "b"), ("b·a^(b-1)", "a^b·ln(a)")
    twice_differentiable = True

    @staticmethod
    def forward(ctx, a, b):
        out = a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):  # (the masked-out branches)
            if ctx.needs_input_grad[0]:  # b·a^(b−1), taken as 0 where b = 0 (d/da a⁰ = 0)
                ga = xp.where(b == 0, 0, g * b * a ** (b - 1))
            if ctx.needs_input_grad[1]:  # aᵇ·ln a, with ln evaluated away from a = 0
                zero = xp.value(a) == 0
                gb = g * xp.where(zero, 0, out * xp.log(xp.where(zero, 1, a)))
        return ga, gb


class MatMul(Function):
    """``a @ b`` with NumPy's rules: 1-D operands are promoted, batch dims broadcast."""

    op, inputs, derivatives = "matmul", ("A", "B"), ("Bᵀ", "Aᵀ")
    twice_differentiable = True

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: operands must have at least one dimension; "
                             "use * to multiply by a scalar")
        k_a, k_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
        if k_a != k_b:
            raise ValueError(f"matmul: {a.shape} @ {b.shape}: inner dimensions "
                                    f"{k_a} != {k_b}")
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.ndims = a.ndim, b.ndim
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_ndim, b_ndim = ctx.ndims
        if b_ndim == 1:  # restore the axes NumPy dropped: g gets the shape of a2 @ b2
            g = g[..., None]
        if a_ndim == 1:
            g = g[..., None, :]
        ga = gb = None
        if b is not None:  # dA = g Bᵀ
            ga = g @ xp.swapaxes(b[:, None] if b_ndim == 1 else b, -1, -2)
            if a_ndim == 1:
                ga = ga.squeeze(-2)
        if a is not None:  # dB = Aᵀ g
            gb = xp.swapaxes(a[None, :] if a_ndim == 1 else a, -1, -2) @ g
            if b_ndim == 1:
                gb = gb.squeeze(-1)
        return ga, gb


class _Pairwise(Function):
    """Elementwise max/min of two tensors; at ties each input gets half the gradient
    (as PyTorch). The shares are constants: the second derivative is 0."""

    twice_differentiable = True

    pick = staticmethod(np.maximum)  # the op
    wins = staticmethod(np.greater)  # where a alone is picked

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return type(ctx).pick(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = (xp.value(v) for v in ctx.saved_tensors)
        share = type(ctx).wins(a, b) + 0.5 * (a == b)  # a's share of the gradient
        return g * share, g * (1 - share)


class Maximum(_Pairwise):
    op, inputs, derivatives = "maximum", ("a", "b"), ("[a>b] (½ at ties)", "[b>a] (½ at ties)")
    pick, wins = staticmethod(np.maximum), staticmethod(np.greater)


class Minimum(_Pairwise):
    op, inputs, derivatives = "minimum", ("a", "b"), ("[a<b] (½ at ties)", "[b<a] (½ at ties)")
    pick, wins = staticmethod(np.minimum), staticmethod(np.less)


class Where(Function):
    op, inputs, derivatives = "where", ("a", "b"), ("[cond]", "[not cond]")
    twice_differentiable = True

    @staticmethod
    def forward(ctx, a, b, cond):
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        zero = np.zeros((), g.dtype)
        return xp.where(ctx.cond, g, zero), xp.where(ctx.cond, zero, g), None
