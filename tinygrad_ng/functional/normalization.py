"""Batch normalisation: one node with the closed-form backward."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import xp
from ..function import Function
from ..tensor import Tensor
from ._common import _float_tensor


def _channel_axes(ndim: int) -> tuple[int, ...]:
    """The axes batch norm averages over: all but the channel axis 1 ((m, n): axis 0)."""
    return (0,) + tuple(range(2, ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) vector shaped (1, C, 1, …) to broadcast against an ndim-d (m, C, …) input."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _normalise(x: Any, gamma: Any, beta: Any, eps: float, stats: Any) -> tuple:
    """(z̃, z_norm, 1/√(σ² + ε), μ, σ²) for the batch's statistics (``stats`` None) or the
    running ones; on arrays in forward, on Tensors in ``composed``."""
    axes, nd = _channel_axes(x.ndim), x.ndim
    if stats is None:
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
    else:  # running statistics in the input's dtype: float32 stays float32 in eval mode
        mean, var = (_per_channel(s, nd).astype(x.dtype, copy=False) for s in stats)
        centred = x - mean
    inv_std = 1 / xp.sqrt(var + eps)
    x_norm = centred * inv_std
    out = x_norm if gamma is None else x_norm * _per_channel(gamma, nd)
    return (out if beta is None else out + _per_channel(beta, nd)), x_norm, inv_std, mean, var


def _backward_plain(g: Any, x_norm: Any, inv_std: Any, gamma: Any, need_x: bool,
                    training: bool) -> tuple:
    """BatchNorm's backward, (dz, dγ, dβ), for any input (see :class:`BatchNorm`)."""
    axes, nd = _channel_axes(g.ndim), g.ndim
    dbeta = g.sum(axis=axes)
    dgamma = (g * x_norm).sum(axis=axes)
    dx = None
    if need_x:
        scale = inv_std if gamma is None else inv_std * _per_channel(gamma, nd)
        if training:
            m = g.size // g.shape[1]
            dx = scale * (g - (_per_channel(dbeta, nd) + x_norm * _per_channel(dgamma, nd)) / m)
        else:
            dx = scale * g
    return dx, dgamma, dbeta


# The fast path of a training-mode batch norm on (N, C, …) arrays with ≥ 3 axes (a conv
# net's (N, C, H, W)), the same function as the plain one up to float rounding: the input
# as (N, C, L) rows, every sum over the contiguous last axis, and few full-size temporaries
# (each new one costs page faults as well as a pass: the plain code made 4-6 per call).


def _rows_apply(x: np.ndarray, gamma: Any, beta: Any) -> bool:
    """Whether :func:`_normalise_rows` applies: ≥ 3 axes, γ and β of x's dtype (or None),
    so that the in-place updates keep the plain version's result dtype."""
    return x.ndim >= 3 and all(v is None or v.dtype == x.dtype for v in (gamma, beta))


def _normalise_rows(x: np.ndarray, gamma: Any, beta: Any, eps: float, stats: None) -> tuple:
    """:func:`_normalise` with the batch's statistics, for ≥ 3 axes: 2 new arrays, not 5."""
    rows = x.reshape(x.shape[0], x.shape[1], -1)
    m = rows.shape[0] * rows.shape[2]
    mean = rows.sum(axis=2).sum(axis=0) / m
    x_norm = rows - mean[:, None]
    var = np.vecdot(x_norm, x_norm).sum(axis=0) / m
    inv_std = 1 / np.sqrt(var + eps)
    x_norm *= inv_std[:, None]
    out = x_norm.copy() if gamma is None else x_norm * gamma[:, None]
    if beta is not None:
        out += beta[:, None]
    return (out.reshape(x.shape), x_norm.reshape(x.shape), _per_channel(inv_std, x.ndim),
            mean, var)


def _backward_rows(g: np.ndarray, x_norm: np.ndarray, inv_std: np.ndarray, gamma: Any,
                   need_x: bool, training: bool = True) -> tuple:
    """BatchNorm's training-mode backward for ≥ 3 axes, in one new full-size array:
    dx = γ/√(σ² + ε) · (g − dβ/m − z_norm·dγ/m), built in place."""
    shape = (g.shape[0], g.shape[1], -1)
    g3, xn = g.reshape(shape), x_norm.reshape(shape)
    dbeta = g3.sum(axis=2).sum(axis=0)
    dgamma = np.vecdot(g3, xn).sum(axis=0)
    dx = None
    if need_x:
        m = xn.shape[0] * xn.shape[2]
        scale = inv_std.reshape(-1) if gamma is None else inv_std.reshape(-1) * gamma
        dx = xn * (dgamma / m)[:, None]
        np.subtract(g3, dx, out=dx)
        dx -= (dbeta / m)[:, None]
        dx *= scale[:, None]
        dx = dx.reshape(g.shape)
    return dx, dgamma, dbeta


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
        ctx.training = stats is None
        ctx.rows = ctx.training and _rows_apply(x, gamma, beta)
        normalise = _normalise_rows if ctx.rows else _normalise
        out, x_norm, inv_std, mean, var = normalise(x, gamma, beta, eps, stats)
        if ctx.training and batch_stats is not None:
            batch_stats.update(mean=mean.reshape(-1), var=var.reshape(-1),
                               count=x.size // x.shape[1])
        ctx.save_for_backward(x_norm, inv_std, gamma)
        return x_norm.copy() if out is x_norm else out  # (the saved x_norm stays private)

    @staticmethod
    def composed(x, gamma, beta, eps=1e-5, stats=None, batch_stats=None):
        """The same function from differentiable ops, for ``tg.grad(..., create_graph=True)``
        (the closed-form backward uses z_norm and 1/√(σ² + ε), intermediates)."""
        return _normalise(x, gamma, beta, eps, stats)[0]

    @staticmethod
    def backward(ctx, g):
        x_norm, inv_std, gamma = ctx.saved_tensors
        need_x, need_gamma, need_beta = ctx.needs_input_grad
        backward = _backward_rows if ctx.rows and g.dtype == x_norm.dtype else _backward_plain
        dx, dgamma, dbeta = backward(g, x_norm, inv_std, gamma, need_x, ctx.training)
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


class LayerNorm(Function):
    """Layer normalisation over the last k axes of each example (PyTorch's ``layer_norm``):

        μ, σ² = mean and (biased) variance over those axes,  x̂ = (x − μ)/√(σ² + ε),
        y = γ·x̂ + β

    Closed-form backward, with g = ∂J/∂y, n the number of normalised values and means over
    the same axes: dβ = Σ g, dγ = Σ g·x̂ (over the leading axes), and with ĝ = γ·g,

        dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) / √(σ² + ε).

    Second derivatives go through :meth:`composed`, the same function from primitive ops.
    """

    op, inputs = "layer_norm", ("x", "γ", "β")
    derivatives = ("(ĝ − mean ĝ − x̂·mean(ĝx̂))/√(σ²+ε)", "x̂", "1")

    @staticmethod
    def forward(ctx, x, gamma, beta, ndim=1, eps=1e-5):
        axes = tuple(range(x.ndim - ndim, x.ndim))
        centred = x - x.mean(axis=axes, keepdims=True)
        inv_std = 1 / np.sqrt(np.mean(centred * centred, axis=axes, keepdims=True) + eps)
        x_hat = centred * inv_std
        ctx.axes, ctx.lead = axes, tuple(range(x.ndim - ndim))
        ctx.save_for_backward(x_hat, inv_std, gamma)
        out = x_hat * gamma if gamma is not None else x_hat.copy()
        if beta is not None:
            out += beta
        return out

    @staticmethod
    def backward(ctx, g):
        x_hat, inv_std, gamma = ctx.saved_tensors
        need_x, need_gamma, need_beta = ctx.needs_input_grad
        axes, lead = ctx.axes, ctx.lead
        dx = None
        if need_x:
            gh = g * gamma if gamma is not None else g
            dx = inv_std * (gh - gh.mean(axis=axes, keepdims=True)
                            - x_hat * (gh * x_hat).mean(axis=axes, keepdims=True))
        dgamma = (g * x_hat).sum(axis=lead) if need_gamma else None
        dbeta = g.sum(axis=lead) if need_beta else None
        return dx, dgamma, dbeta

    @staticmethod
    def composed(x, gamma, beta, ndim=1, eps=1e-5):
        axes = tuple(range(x.ndim - ndim, x.ndim))
        centred = x - x.mean(axis=axes, keepdims=True)
        out = centred / ((centred * centred).mean(axis=axes, keepdims=True) + eps).sqrt()
        if gamma is not None:
            out = out * gamma
        return out if beta is None else out + beta


def layer_norm(x: Any, normalized_shape: Any, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each example over its last ``len(normalized_shape)`` axes (which must have
    that shape), then scale by ``weight`` and shift by ``bias`` (both of that shape, or
    None). The statistics are per example, so training and evaluation agree."""
    x = _float_tensor(x)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.shape[x.ndim - k:] != shape or x.ndim < k:
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end in the normalized "
                         f"shape {shape}")
    weight, bias = (None if v is None else _float_tensor(v) for v in (weight, bias))
    for name, v in (("weight", weight), ("bias", bias)):
        if v is not None and v.shape != shape:
            raise ValueError(f"layer_norm: {name} has shape {v.shape}, expected {shape}")
    if not eps > 0:
        raise ValueError(f"layer_norm: eps must be > 0, got {eps}")
    return LayerNorm.apply(x, weight, bias, ndim=k, eps=eps)


def normalize(x: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``x / max(‖x‖_p, eps)`` along ``dim`` (PyTorch's ``F.normalize``: unit vectors)."""
    x = _float_tensor(x)
    return x / x.norm(p, dim=dim, keepdim=True).clamp_min(eps)


def update_running_stats(running_mean: np.ndarray, running_var: np.ndarray, batch: dict,
                         momentum: float) -> None:
    """r ← (1 − momentum)·r + momentum·stat, in place, from the ``batch_stats`` that
    :class:`BatchNorm`'s forward filled (the variance unbiased: σ²·m/(m − 1))."""
    n = batch["count"]
    running_mean *= 1 - momentum
    running_mean += momentum * batch["mean"]
    running_var *= 1 - momentum
    running_var += (momentum * n / (n - 1)) * batch["var"]
