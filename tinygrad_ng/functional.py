"""Neural-network ops, each ONE graph node with a hand-derived, numerically stable backward.

``import tinygrad_ng.functional as F``. In the course's notation a layer computes
``Z = W·A_prev + b`` and ``A = g(Z)``; backward needs ``dZ = dA * g'(Z)``, and each
activation below states its ``g'`` in terms of what it saved.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .function import Function
from .tensor import Tensor

# ------------------------------------------------------------------------ activations


def _stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) without overflow: with e = exp(−|z|) ≤ 1, σ = 1/(1+e) for z ≥ 0, e/(1+e) else."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


class Sigmoid(Function):
    """a = σ(z) = 1/(1 + e⁻ᶻ);  da/dz = a(1 − a)."""

    op, inputs, derivatives = "sigmoid", ("z",), ("a(1 − a)",)

    @staticmethod
    def forward(ctx, z):
        a = _stable_sigmoid(z).astype(z.dtype, copy=False)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * a * (1 - a)


class Tanh(Function):
    """a = tanh(z);  da/dz = 1 − a²."""

    op, inputs, derivatives = "tanh", ("z",), ("1 − a²",)

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

    @staticmethod
    def forward(ctx, z, negative_slope=0.01):
        ctx.save_for_backward(z)
        ctx.slope = negative_slope
        return np.where(z > 0, z, z * negative_slope)

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return np.where(z > 0, g, g * ctx.slope)


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Softmax(Function):
    """s = e^(z − max z) / Σ e^(z − max z);  backward: dz = s ⊙ (ds − Σ ds ⊙ s)."""

    op, inputs, derivatives = "softmax", ("z",), ("s(δ − s)",)

    @staticmethod
    def forward(ctx, z, axis=-1):
        s = _softmax(z, axis)
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

    @staticmethod
    def forward(ctx, z, axis=-1):
        shifted = z - z.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.axis = axis
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - np.exp(out) * g.sum(axis=ctx.axis, keepdims=True)


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _axis(axis: int, t: Tensor, op: str) -> int:
    if not -max(t.ndim, 1) <= axis < max(t.ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor of shape {t.shape}")
    return axis


def sigmoid(z: Any) -> Tensor:
    """σ(z) = 1/(1 + e⁻ᶻ), finite for any z (no overflow warnings)."""
    return Sigmoid.apply(_tensor(z))


def tanh(z: Any) -> Tensor:
    """tanh(z); backward 1 − a²."""
    return Tanh.apply(_tensor(z))


def relu(z: Any) -> Tensor:
    """max(0, z); the gradient at exactly 0 is 0."""
    return ReLU.apply(_tensor(z))


def leaky_relu(z: Any, negative_slope: float = 0.01) -> Tensor:
    """z for z > 0 else negative_slope·z."""
    return LeakyReLU.apply(_tensor(z), negative_slope=negative_slope)


def softmax(z: Any, axis: int = -1) -> Tensor:
    """Softmax along ``axis`` (max-shifted: never overflows)."""
    z = _tensor(z)
    return Softmax.apply(z, axis=_axis(axis, z, "softmax"))


def log_softmax(z: Any, axis: int = -1) -> Tensor:
    """log(softmax(z)) along ``axis`` via log-sum-exp: finite for any finite z."""
    z = _tensor(z)
    return LogSoftmax.apply(z, axis=_axis(axis, z, "log_softmax"))
