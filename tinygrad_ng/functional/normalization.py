"""Batch normalisation: one node with the closed-form backward."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._common import _float_tensor


def _channel_axes(ndim: int) -> tuple[int, ...]:
    """The axes batch norm averages over: all but the channel axis 1 ((m, n): axis 0)."""
    return (0,) + tuple(range(2, ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) vector shaped (1, C, 1, …) to broadcast against an ndim-d (m, C, …) input."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


class BatchNorm(Function):
    """Batch normalisation per channel (axis 1), in the course's notation:

        μ = 1/m Σᵢ z⁽ⁱ⁾,  σ² = 1/m Σᵢ (z⁽ⁱ⁾ − μ)²,  z_norm = (z − μ)/√(σ² + ε),
        z̃ = γ·z_norm + β

    with m the number of values per channel (batch × spatial positions). In training the
    batch's own μ, σ² are used; in evaluation the running averages (kwarg ``stats``).
    Closed-form backward, with g = ∂J/∂z̃ and sums over the same m values:

        dβ = Σ g,   dγ = Σ g·z_norm,
        dz = γ/√(σ² + ε) · (g − (dβ + z_norm·dγ)/m)     (training: μ, σ² depend on z)
        dz = γ/√(σ² + ε) · g                             (evaluation: they are constants)

    Forward has no side effect: in training it writes μ, σ² and m into the dict passed as
    ``batch_stats`` so that :func:`batch_norm` can update the running averages.
    """

    op, inputs = "batch_norm", ("z", "γ", "β")
    derivatives = ("γ/√(σ²+ε)·(1 − (1 + z_norm²)/m)", "z_norm", "1")

    @staticmethod
    def forward(ctx, x, gamma, beta, eps=1e-5, stats=None, batch_stats=None):
        axes, nd = _channel_axes(x.ndim), x.ndim
        ctx.training = stats is None
        if ctx.training:
            mean = x.mean(axis=axes, keepdims=True)
            x_norm = x - mean
            var = np.mean(x_norm * x_norm, axis=axes, keepdims=True)
            if batch_stats is not None:
                batch_stats.update(mean=mean.reshape(-1), var=var.reshape(-1),
                                   count=x.size // x.shape[1])
        else:
            # running statistics in the input's dtype: float32 stays float32 in eval mode
            mean, var = (_per_channel(s, nd).astype(x.dtype, copy=False) for s in stats)
            x_norm = x - mean
        inv_std = 1 / np.sqrt(var + eps)
        x_norm *= inv_std
        ctx.save_for_backward(x_norm, inv_std, gamma)
        out = x_norm * _per_channel(gamma, nd) if gamma is not None else x_norm.copy()
        if beta is not None:
            out += _per_channel(beta, nd)
        return out

    @staticmethod
    def backward(ctx, g):
        x_norm, inv_std, gamma = ctx.saved_tensors
        need_x, need_gamma, need_beta = ctx.needs_input_grad
        axes, nd = _channel_axes(g.ndim), g.ndim
        dbeta = g.sum(axis=axes)
        dgamma = (g * x_norm).sum(axis=axes)
        dx = None
        if need_x:
            scale = inv_std if gamma is None else inv_std * _per_channel(gamma, nd)
            if ctx.training:
                m = g.size // g.shape[1]
                dx = scale * (g - (_per_channel(dbeta, nd) + x_norm * _per_channel(dgamma, nd))
                              / m)
            else:
                dx = scale * g
        return dx, (dgamma if need_gamma else None), (dbeta if need_beta else None)


def _stat_array(v: Any) -> np.ndarray | None:
    """The array a running statistic lives in (a Tensor's ``.data``), updated in place."""
    if v is None or isinstance(v, np.ndarray):
        return v
    if isinstance(v, Tensor):
        return v.data
    raise TypeError(f"batch_norm: running statistics must be ndarrays or Tensors (updated in "
                    f"place), got {type(v).__name__}")


def batch_norm(x: Any, gamma: Any = None, beta: Any = None, running_mean: Any = None,
               running_var: Any = None, training: bool = True, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalisation over axis 1 of (m, n), (m, C, L) or (m, C, H, W) inputs.

    ``gamma``, ``beta`` (shape (C,), or None: no scale/shift) are learnable. Training mode
    normalises with the batch's mean and (biased) variance and, when given, updates the
    running statistics **in place** (ndarrays, or Tensors' ``.data``) exactly as PyTorch:
    r ← (1 − momentum)·r + momentum·stat, with the unbiased variance σ²·m/(m − 1) for
    ``running_var``. Evaluation mode (``training=False``) uses the running statistics.
    """
    x = _float_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (m, C) or (m, C, ...), got "
                         f"{x.shape}")
    channels = x.shape[1]
    gamma, beta = (None if v is None else _float_tensor(v) for v in (gamma, beta))
    running_mean, running_var = _stat_array(running_mean), _stat_array(running_var)
    named = {"gamma": gamma, "beta": beta, "running_mean": running_mean,
             "running_var": running_var}
    for name, v in named.items():
        if v is not None and v.shape != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {v.shape} but input of shape "
                             f"{x.shape} has {channels} channels (axis 1); expected "
                             f"({channels},)")
    tracked = running_mean is not None
    if tracked != (running_var is not None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if not 0 <= momentum <= 1:
        raise ValueError(f"batch_norm: momentum must be in [0, 1], got {momentum}")
    if not training:
        if not tracked:
            raise ValueError("batch_norm: evaluation mode (training=False) needs running_mean "
                             "and running_var")
        return BatchNorm.apply(x, gamma, beta, eps=eps, stats=(running_mean, running_var))
    if x.size // channels < 2:
        raise ValueError(f"batch_norm: training needs more than one value per channel, got "
                         f"input of shape {x.shape}")
    batch: dict = {}
    out = BatchNorm.apply(x, gamma, beta, eps=eps, batch_stats=batch)
    if tracked:
        update_running_stats(running_mean, running_var, batch, momentum)
    return out


def update_running_stats(running_mean: np.ndarray, running_var: np.ndarray, batch: dict,
                         momentum: float) -> None:
    """r ← (1 − momentum)·r + momentum·stat, in place, from the ``batch_stats`` that
    :class:`BatchNorm`'s forward filled (the variance unbiased: σ²·m/(m − 1))."""
    n = batch["count"]
    running_mean *= 1 - momentum
    running_mean += momentum * batch["mean"]
    running_var *= 1 - momentum
    running_var += (momentum * n / (n - 1)) * batch["var"]
