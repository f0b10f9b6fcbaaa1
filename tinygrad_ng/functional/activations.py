"""Activations g(z), each one node whose backward states g'(z) in terms of what it saved."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import xp
from ..function import Function
from ..ops.maths import erf_array
from ..tensor import Tensor, _axes
from ._common import _axis, _float_tensor, _log_softmax, _tensor


class Sigmoid(Function):
    """a = σ(z) = 1/(1 + e⁻ᶻ);  da/dz = a(1 − a)."""

    op, inputs, derivatives, output = "sigmoid", ("z",), ("a(1 − a)",), "a"
    twice_differentiable = True

    @staticmethod
    def forward(ctx, z):
        a = xp.sigmoid(z).astype(z.dtype, copy=False)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * a * (1 - a)


class Tanh(Function):
    """a = tanh(z);  da/dz = 1 − a²."""

    op, inputs, derivatives, output = "tanh", ("z",), ("1 − a²",), "a"
    twice_differentiable = True

    @staticmethod
    def forward(ctx, z):
        a = np.tanh(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (1 - a * a)


class ReLU(Function):
    """a = max(0, z);  da/dz = 1 for z > 0, else 0 (0 at exactly z = 0, as PyTorch)."""

    op, inputs, derivatives = "relu", ("z",), ("[z > 0]",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, z):
        a = np.maximum(z, 0)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (a > 0)


class LeakyReLU(Function):
    """a = z for z > 0, else slope·z;  da/dz = 1 for z > 0, else slope (slope at z = 0)."""

    op, inputs, derivatives = "leaky_relu", ("z",), ("1 if z > 0 else slope",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, z, negative_slope=0.01):
        ctx.save_for_backward(z)
        ctx.slope = negative_slope
        return np.where(z > 0, z, z * negative_slope)

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return xp.where(z > 0, g, g * ctx.slope)


class Softmax(Function):
    """s = e^(z − max z) / Σ e^(z − max z);  backward: dz = s ⊙ (ds − Σ ds ⊙ s)."""

    op, inputs, derivatives, output = "softmax", ("z",), ("s(δ − s)",), "s"
    twice_differentiable = True

    @staticmethod
    def forward(ctx, z, axis=-1):
        e = np.exp(z - z.max(axis=axis, keepdims=True, initial=-np.inf))  # (-inf: empty)
        s = e / e.sum(axis=axis, keepdims=True)
        ctx.axis = axis
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return s * (g - (g * s).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """log s = z − logsumexp(z);  backward: dz = ds − softmax(z)·Σ ds."""

    op, inputs, derivatives = "log_softmax", ("z",), ("δ − s",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, z, axis=-1):
        out = _log_softmax(z, axis)
        ctx.axis = axis
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - xp.exp(out) * g.sum(axis=ctx.axis, keepdims=True)


def sigmoid(z: Any) -> Tensor:
    """σ(z) = 1/(1 + e⁻ᶻ), finite for any z (no overflow warnings); backward a(1 − a)."""
    return Sigmoid.apply(_float_tensor(z))


def tanh(z: Any) -> Tensor:
    """tanh(z); backward 1 − a²."""
    return Tanh.apply(_float_tensor(z))


def relu(z: Any) -> Tensor:
    """max(0, z); the gradient at exactly 0 is 0 (as PyTorch). Integer tensors stay integer."""
    return ReLU.apply(_tensor(z))


def leaky_relu(z: Any, negative_slope: float = 0.01) -> Tensor:
    """z for z > 0 else negative_slope·z; the gradient at exactly 0 is negative_slope."""
    return LeakyReLU.apply(_float_tensor(z), negative_slope=negative_slope)


def softmax(z: Any, axis: Any = -1, *, dim: Any = None) -> Tensor:
    """Softmax along ``axis`` (PyTorch: ``dim``), an int, a tuple of axes or None (all);
    max-shifted: never overflows."""
    z = _float_tensor(z)
    return Softmax.apply(z, axis=_softmax_axes(z, axis, dim, "softmax"))


def log_softmax(z: Any, axis: Any = -1, *, dim: Any = None) -> Tensor:
    """log(softmax(z)) along ``axis``/``dim`` (int, tuple or None) via log-sum-exp: finite
    for any finite z."""
    z = _float_tensor(z)
    return LogSoftmax.apply(z, axis=_softmax_axes(z, axis, dim, "log_softmax"))


def _softmax_axes(z: Tensor, axis: Any, dim: Any, op: str) -> Any:
    """The axes to normalise over: one int (the usual case, checked cheaply), or a tuple
    of them, or None for all."""
    if dim is not None:
        axis = dim
    if type(axis) is int or isinstance(axis, numbers.Integral):
        return _axis(axis, z, op)
    return _axes(axis, z.ndim, op)


# ---------------------------------------------------------------------- PyTorch's other ones
class GELU(Function):
    """a = z·Φ(z), Φ the standard normal CDF ½(1 + erf(z/√2));  da/dz = Φ(z) + z·φ(z), with
    φ(z) = e^(−z²/2)/√(2π)."""

    op, inputs, derivatives = "gelu", ("z",), ("Φ(z) + z·φ(z)",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z * (0.5 * (1 + erf_array(z * _SQRT_HALF)))

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        cdf = 0.5 * (1 + xp.erf(z * _SQRT_HALF))
        pdf = xp.exp(-0.5 * (z * z)) * _INV_SQRT_2PI
        return g * (cdf + z * pdf)


class ELU(Function):
    """a = z for z > 0, else α(eᶻ − 1);  da/dz = 1 for z > 0, else a + α."""

    op, inputs, derivatives, output = "elu", ("z",), ("1 if z > 0 else a + α",), "a"
    twice_differentiable = True

    @staticmethod
    def forward(ctx, z, alpha=1.0):
        a = np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))
        ctx.alpha = alpha
        ctx.save_for_backward(z, a)
        return a

    @staticmethod
    def backward(ctx, g):
        z, a = ctx.saved_tensors
        return xp.where(xp.value(z) > 0, g, g * (a + ctx.alpha))


class Softplus(Function):
    """a = log(1 + e^(βz))/β, taken as z where βz > threshold (as PyTorch);
    da/dz = σ(βz) (1 above the threshold)."""

    op, inputs, derivatives = "softplus", ("z",), ("σ(βz)",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, z, beta=1.0, threshold=20.0):
        bz = beta * z
        soft = (np.maximum(bz, 0) + np.log1p(np.exp(-np.abs(bz)))) / beta
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(z)
        return np.where(bz > threshold, z, soft).astype(z.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        linear = ctx.beta * xp.value(z) > ctx.threshold
        return xp.where(linear, g, g * xp.sigmoid(z * ctx.beta))


class Hardtanh(Function):
    """a = clip(z, lo, hi);  da/dz = 1 strictly inside (lo, hi), else 0 (as PyTorch)."""

    op, inputs, derivatives = "hardtanh", ("z",), ("[lo < z < hi]",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, z, min_val=-1.0, max_val=1.0):
        ctx.inside = (z > min_val) & (z < max_val)
        return np.clip(z, min_val, max_val)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.inside


_SQRT_HALF, _INV_SQRT_2PI = math.sqrt(0.5), 1 / math.sqrt(2 * math.pi)
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def gelu(z: Any, approximate: str = "none") -> Tensor:
    """z·Φ(z) with Φ the standard normal CDF (PyTorch's default); ``approximate="tanh"``
    gives ½z(1 + tanh(√(2/π)(z + 0.044715z³)))."""
    z = _float_tensor(z)
    if approximate == "tanh":
        inner = (z + 0.044715 * z * z * z) * math.sqrt(2 / math.pi)
        return 0.5 * z * (1 + inner.tanh())
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(z)


def silu(z: Any) -> Tensor:
    """z·σ(z) (also called swish)."""
    z = _float_tensor(z)
    return z * sigmoid(z)


def elu(z: Any, alpha: float = 1.0) -> Tensor:
    """z for z > 0, else α(eᶻ − 1) (no overflow for large z)."""
    return ELU.apply(_float_tensor(z), alpha=alpha)


def selu(z: Any) -> Tensor:
    """scale·elu(z, α) with the self-normalising constants α ≈ 1.6733, scale ≈ 1.0507."""
    return _SELU_SCALE * elu(z, _SELU_ALPHA)


def softplus(z: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(βz))/β, stable for any z; linear (z) where βz > threshold, as PyTorch."""
    if not beta > 0:
        raise ValueError(f"softplus: beta must be > 0, got {beta}")
    return Softplus.apply(_float_tensor(z), beta=beta, threshold=threshold)


def mish(z: Any) -> Tensor:
    """z·tanh(softplus(z))."""
    z = _float_tensor(z)
    return z * softplus(z).tanh()


def hardtanh(z: Any, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """clip(z, min_val, max_val); the gradient is 1 strictly between them (as PyTorch)."""
    if not min_val < max_val:
        raise ValueError(f"hardtanh: need min_val < max_val, got {min_val} and {max_val}")
    return Hardtanh.apply(_float_tensor(z), min_val=min_val, max_val=max_val)


def relu6(z: Any) -> Tensor:
    """min(max(0, z), 6)."""
    return hardtanh(z, 0.0, 6.0)


def hardswish(z: Any) -> Tensor:
    """z·relu6(z + 3)/6."""
    z = _float_tensor(z)
    return z * hardtanh(z + 3, 0.0, 6.0) / 6
