"""Activations g(z), each one node whose backward states g'(z) in terms of what it saved."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._common import _axis, _float_tensor, _log_softmax, _stable_sigmoid, _tensor


class Sigmoid(Function):
    """a = σ(z) = 1/(1 + e⁻ᶻ);  da/dz = a(1 − a)."""

    op, inputs, derivatives, output = "sigmoid", ("z",), ("a(1 − a)",), "a"

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

    op, inputs, derivatives, output = "tanh", ("z",), ("1 − a²",), "a"

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


class Softmax(Function):
    """s = e^(z − max z) / Σ e^(z − max z);  backward: dz = s ⊙ (ds − Σ ds ⊙ s)."""

    op, inputs, derivatives, output = "softmax", ("z",), ("s(δ − s)",), "s"

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

    @staticmethod
    def forward(ctx, z, axis=-1):
        out = _log_softmax(z, axis)
        ctx.axis = axis
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - np.exp(out) * g.sum(axis=ctx.axis, keepdims=True)


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


def softmax(z: Any, axis: int = -1) -> Tensor:
    """Softmax along ``axis`` (max-shifted: never overflows)."""
    z = _float_tensor(z)
    return Softmax.apply(z, axis=_axis(axis, z, "softmax"))


def log_softmax(z: Any, axis: int = -1) -> Tensor:
    """log(softmax(z)) along ``axis`` via log-sum-exp: finite for any finite z."""
    z = _float_tensor(z)
    return LogSoftmax.apply(z, axis=_axis(axis, z, "log_softmax"))
