"""Elementwise maths beyond the basics: trigonometric, hyperbolic, log/exp variants, cube
root, ``arctan2`` and ``logaddexp``.

Each op states its derivative once, in ``derivative(x, out)``, written with operators and
:mod:`tinygrad_ng.xp`, so the same rule runs on arrays in ``backward()`` and on Tensors
under ``tg.grad(..., create_graph=True)`` (second derivatives).
"""

from __future__ import annotations

import math

import numpy as np

from .. import xp
from ..function import Function


class _Unary(Function):
    """y = f(x) elementwise; backward g·f'(x), with f' given by ``derivative(x, out)``."""

    twice_differentiable = True

    @staticmethod
    def forward(ctx, x):
        out = np.asarray(type(ctx).f(x))  # (an array, not a NumPy scalar, even for 0-d x:
        ctx.save_for_backward(x, out)        # the saved output must be the output's array)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        return g * type(ctx).derivative(x, out)

    @staticmethod
    def derivative(x, out):
        raise NotImplementedError


class Sin(_Unary):
    op, derivatives, f = "sin", ("cos(x)",), staticmethod(np.sin)

    @staticmethod
    def derivative(x, out):
        return xp.cos(x)


class Cos(_Unary):
    op, derivatives, f = "cos", ("−sin(x)",), staticmethod(np.cos)

    @staticmethod
    def derivative(x, out):
        return -xp.sin(x)


class Tan(_Unary):
    op, derivatives, output, f = "tan", ("1 + y²",), "y", staticmethod(np.tan)

    @staticmethod
    def derivative(x, out):
        return 1 + out * out


class Arcsin(_Unary):
    op, derivatives, f = "arcsin", ("1/√(1 − x²)",), staticmethod(np.arcsin)

    @staticmethod
    def derivative(x, out):
        return 1 / xp.sqrt(1 - x * x)


class Arccos(_Unary):
    op, derivatives, f = "arccos", ("−1/√(1 − x²)",), staticmethod(np.arccos)

    @staticmethod
    def derivative(x, out):
        return -1 / xp.sqrt(1 - x * x)


class Arctan(_Unary):
    op, derivatives, f = "arctan", ("1/(1 + x²)",), staticmethod(np.arctan)

    @staticmethod
    def derivative(x, out):
        return 1 / (1 + x * x)


class Sinh(_Unary):
    op, derivatives, f = "sinh", ("cosh(x)",), staticmethod(np.sinh)

    @staticmethod
    def derivative(x, out):
        return xp.cosh(x)


class Cosh(_Unary):
    op, derivatives, f = "cosh", ("sinh(x)",), staticmethod(np.cosh)

    @staticmethod
    def derivative(x, out):
        return xp.sinh(x)


class Arcsinh(_Unary):
    op, derivatives, f = "arcsinh", ("1/√(x² + 1)",), staticmethod(np.arcsinh)

    @staticmethod
    def derivative(x, out):
        return 1 / xp.sqrt(x * x + 1)


class Arccosh(_Unary):
    op, derivatives, f = "arccosh", ("1/√(x² − 1)",), staticmethod(np.arccosh)

    @staticmethod
    def derivative(x, out):
        return 1 / xp.sqrt((x - 1) * (x + 1))


class Arctanh(_Unary):
    op, derivatives, f = "arctanh", ("1/(1 − x²)",), staticmethod(np.arctanh)

    @staticmethod
    def derivative(x, out):
        return 1 / (1 - x * x)


class Log2(_Unary):
    op, derivatives, f = "log2", ("1/(x·ln 2)",), staticmethod(np.log2)

    @staticmethod
    def derivative(x, out):
        return 1 / (x * math.log(2))


class Log10(_Unary):
    op, derivatives, f = "log10", ("1/(x·ln 10)",), staticmethod(np.log10)

    @staticmethod
    def derivative(x, out):
        return 1 / (x * math.log(10))


class Log1p(_Unary):
    """log(1 + x), accurate for tiny x."""

    op, derivatives, f = "log1p", ("1/(1 + x)",), staticmethod(np.log1p)

    @staticmethod
    def derivative(x, out):
        return 1 / (1 + x)


class Exp2(_Unary):
    op, derivatives, output, f = "exp2", ("y·ln 2",), "y", staticmethod(np.exp2)

    @staticmethod
    def derivative(x, out):
        return out * math.log(2)


class Expm1(_Unary):
    """eˣ − 1, accurate for tiny x."""

    op, derivatives, output, f = "expm1", ("y + 1",), "y", staticmethod(np.expm1)

    @staticmethod
    def derivative(x, out):
        return out + 1


class Cbrt(_Unary):
    """∛x; the derivative 1/(3∛x²) is +inf at x = 0 (as PyTorch), without a warning."""

    op, derivatives, output, f = "cbrt", ("1/(3y²)",), "y", staticmethod(np.cbrt)

    @staticmethod
    def derivative(x, out):
        with np.errstate(divide="ignore"):
            return 1 / (3 * (out * out))


_erf = np.frompyfunc(math.erf, 1, 1)  # (NumPy has no erf; math.erf is exact to 1 ulp)


def erf_array(x: np.ndarray) -> np.ndarray:
    """erf of an array, in its dtype."""
    return np.asarray(_erf(x), dtype=np.result_type(x, np.float32))


class Erf(_Unary):
    """erf(x) = (2/√π)∫₀ˣ e^(−t²) dt;  derivative (2/√π)·e^(−x²)."""

    op, derivatives = "erf", ("(2/√π)·e^(−x²)",)

    f = staticmethod(erf_array)

    @staticmethod
    def derivative(x, out):
        return (2 / math.sqrt(math.pi)) * xp.exp(-(x * x))


class Sign(Function):
    """sign(x) ∈ {−1, 0, 1}; its derivative is 0 (PyTorch's: a zero gradient, not none)."""

    op, derivatives = "sign", ("0",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x):
        return np.sign(x)

    @staticmethod
    def backward(ctx, g):
        return g * 0


class Arctan2(Function):
    """θ = arctan2(y, x), the angle of the point (x, y);  ∂θ/∂y = x/r², ∂θ/∂x = −y/r² with
    r² = x² + y² (both taken as 0 at the origin, where θ has no derivative)."""

    op, inputs, derivatives = "arctan2", ("y", "x"), ("x/(x² + y²)", "−y/(x² + y²)")
    twice_differentiable = True

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, g):
        y, x = ctx.saved_tensors
        r2 = x * x + y * y
        origin = xp.value(r2) == 0
        scale = g / xp.where(origin, 1, r2)
        return scale * x, -scale * y


class LogAddExp(Function):
    """log(eᵃ + eᵇ) without overflow;  ∂/∂a = e^(a − out), ∂/∂b = e^(b − out) (the
    softmax of the pair: each in [0, 1])."""

    op, inputs, derivatives = "logaddexp", ("a", "b"), ("e^(a − y)", "e^(b − y)")
    output = "y"
    twice_differentiable = True

    @staticmethod
    def forward(ctx, a, b):
        out = np.asarray(np.logaddexp(a, b))
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        return g * xp.exp(a - out), g * xp.exp(b - out)
