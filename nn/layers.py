"""Layers: ``Linear``, the activations, ``BatchNorm1d``/``2d``, ``Dropout``/``2d``, ``Flatten``,
``Identity``.

Each layer stores its parameters and calls one op of ``tinygrad_ng.functional``, so the
math (and its backward) lives in one place. Inputs are batch-first: ``X`` of shape
``(m, n[l-1])``, one example per row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_ng.functional as F
from tinygrad_ng.dtypes import get_default_dtype
from tinygrad_ng.tensor import Tensor

from . import init as nn_init
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "Dropout", "Dropout2d", "Flatten", "Identity",
           "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh"]

_INITS: dict[str, Callable[[Tensor], Tensor]] = {
    "he_normal": nn_init.he_normal_,
    "lecun_normal": nn_init.lecun_normal_,
    "xavier_normal": nn_init.xavier_normal_,
    "xavier_uniform": nn_init.xavier_uniform_,
    "normal": nn_init.normal_,  # the course's randn · 0.01
    "zeros": nn_init.zeros_,
}


def _check_features(n: Any, who: str, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{who}: {name} must be a positive int, got {n!r}")
    return int(n)


def _check_input(x: Any, layer: Module, n: int) -> Tensor:
    """``x`` as a floating-point tensor with ``n`` features on its last axis, or a clear
    error naming the layer."""
    x = F._float_tensor(x)
    shape = x.data.shape
    if not shape or shape[-1] != n:
        raise ValueError(f"{layer!r}: the input of shape {x.shape} should have {n} features "
                         f"on its last axis (batch-first: (m, {n}))")
    return x


class Linear(Module):
    """A fully connected layer: ``Z = X·Wᵀ + b`` for a batch ``X`` of shape ``(m, in_features)``.

    ``weight`` has the course's shape ``(n[l], n[l-1])`` = ``(out_features, in_features)``
    and ``bias`` shape ``(n[l],)``; ``Z`` has shape ``(m, n[l])`` (the course's
    ``Z = W·A + b`` with examples as rows instead of columns).

    ``init`` picks the initial weights:

    - ``"default"``: PyTorch's default, W and b uniform in ±1/√n[l-1] (variance 1/(3·n[l-1])),
      a safe choice for any activation;
    - ``"he_normal"`` (ReLU), ``"lecun_normal"`` (tanh; the course's "Xavier"),
      ``"xavier_normal"``, ``"xavier_uniform"``, ``"normal"`` (the course's randn·0.01) or
      ``"zeros"``, or any function that fills the weight in place (e.g. from ``nn.init``):
      these set b = 0, as the course does.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: str | Callable[[Tensor], Any] = "default", dtype: Any = None) -> None:
        super().__init__()
        self.in_features = _check_features(in_features, "Linear", "in_features")
        self.out_features = _check_features(out_features, "Linear", "out_features")
        dt = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.zeros((out_features, in_features), dtype=dt))
        self.bias = Parameter(np.zeros(out_features, dtype=dt)) if bias else None
        self.init = init
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh initial values with the layer's ``init`` scheme."""
        if self.init == "default":
            bound = 1 / math.sqrt(self.in_features)
            nn_init.uniform_(self.weight, -bound, bound)
            if self.bias is not None:
                nn_init.uniform_(self.bias, -bound, bound)
            return
        if callable(self.init):
            self.init(self.weight)
        elif self.init in _INITS:
            _INITS[self.init](self.weight)
        else:
            raise ValueError(f"Linear: unknown init {self.init!r}; expected 'default', "
                             f"{', '.join(repr(k) for k in _INITS)} or a function")
        if self.bias is not None:
            nn_init.zeros_(self.bias)

    def forward(self, x: Any) -> Tensor:
        # F.linear's node, without its checks: _check_input has made the ones the input
        # needs, and weight and bias are the layer's own, shaped when it was built
        return F.Linear.apply(_check_input(x, self, self.in_features), self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (a placeholder layer); arguments are ignored, as in
    PyTorch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class ReLU(Module):
    """a = max(0, z)."""

    def forward(self, z: Any) -> Tensor:
        return F.relu(z)


class LeakyReLU(Module):
    """a = z for z > 0, else negative_slope·z."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, z: Any) -> Tensor:
        return F.leaky_relu(z, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """a = σ(z) = 1/(1 + e⁻ᶻ)."""

    def forward(self, z: Any) -> Tensor:
        return F.sigmoid(z)


class Tanh(Module):
    """a = tanh(z)."""

    def forward(self, z: Any) -> Tensor:
        return F.tanh(z)


class Softmax(Module):
    """Softmax along ``axis`` (the classes; the last axis for batch-first scores)."""

    def __init__(self, axis: int = -1, *, dim: int | None = None) -> None:
        super().__init__()
        self.axis = axis if dim is None else dim  # ``dim=`` as PyTorch spells it

    def forward(self, z: Any) -> Tensor:
        return F.softmax(z, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Softmax):
    """log(softmax(z)) along ``axis``, computed stably."""

    def forward(self, z: Any) -> Tensor:
        return F.log_softmax(z, self.axis)


class Flatten(Module):
    """Merge the axes from ``start_axis`` on: ``(m, C, H, W)`` → ``(m, C·H·W)``."""

    def __init__(self, start_axis: int = 1, *, start_dim: int | None = None) -> None:
        super().__init__()
        self.start_axis = start_axis if start_dim is None else start_dim  # PyTorch's name

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        return x.flatten(self.start_axis)

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}"


class BatchNorm1d(Module):
    """Batch normalisation of ``(m, num_features)`` (or ``(m, num_features, L)``) activations.

    In training mode each feature is normalised with the batch's mean μ and variance σ²,
    ``z_norm = (z − μ)/√(σ² + ε)``, then scaled and shifted, ``z̃ = γ·z_norm + β``; the
    running estimates used in evaluation mode are updated as
    ``running = (1 − momentum)·running + momentum·batch_stat`` (PyTorch's convention; the
    running variance uses the unbiased batch variance). γ and β are the parameters
    ``weight`` and ``bias`` (also reachable as ``gamma`` and ``beta``); ``running_mean`` and
    ``running_var`` are buffers, saved in the state dict but not trained.

    ``affine=False`` leaves out γ and β (both None); ``track_running_stats=False`` keeps no
    running estimates (the buffers are None) and normalises with the batch's statistics in
    evaluation mode too, as PyTorch.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        who = type(self).__name__
        n = self.num_features = _check_features(num_features, who, "num_features")
        if not eps > 0:
            raise ValueError(f"{who}: eps must be > 0, got {eps}")
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) \
                or not 0 <= momentum <= 1:
            raise ValueError(f"{who}: momentum must be a number in [0, 1], got {momentum!r}"
                             " (the cumulative average of momentum=None is not supported)")
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dt = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.register_parameter("weight", Parameter(np.ones(n, dtype=dt)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(n, dtype=dt)) if affine else None)
        tracked = track_running_stats
        self.register_buffer("running_mean", Tensor(np.zeros(n, dtype=dt)) if tracked else None)
        self.register_buffer("running_var", Tensor(np.ones(n, dtype=dt)) if tracked else None)

    @property
    def gamma(self) -> Tensor:
        """γ, the course's name for ``weight``."""
        return self.weight

    @property
    def beta(self) -> Tensor:
        """β, the course's name for ``bias``."""
        return self.bias

    #: The input layouts the layer accepts, by number of axes (axis 1: the features).
    layouts: dict[int, str] = {2: "(m, {n})", 3: "(m, {n}, L)"}

    def forward(self, z: Any) -> Tensor:
        z = z if isinstance(z, Tensor) else Tensor(z)
        if z.ndim not in self.layouts or z.shape[1] != self.num_features:
            expected = " or ".join(v.format(n=self.num_features) for v in self.layouts.values())
            raise ValueError(f"{self!r}: expected a batch of shape {expected}, got {z.shape}")
        return F.batch_norm(z, self.weight, self.bias, self.running_mean, self.running_var,
                            training=self.training or not self.track_running_stats,
                            momentum=self.momentum, eps=self.eps)

    def extra_repr(self) -> str:
        extra = "" if self.affine else ", affine=False"
        extra += "" if self.track_running_stats else ", track_running_stats=False"
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}{extra}"


class LayerNorm(Module):
    """Layer normalisation: each example normalised over its last axes, of shape
    ``normalized_shape`` (an int for the last axis), then scaled by ``weight`` (ones) and
    shifted by ``bias`` (zeros) of that shape (PyTorch's ``nn.LayerNorm``). Unlike batch
    norm it uses no batch statistics, so training and evaluation compute the same thing."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        for n in shape:
            _check_features(n, "LayerNorm", "normalized_shape")
        self.normalized_shape, self.eps = tuple(int(n) for n in shape), eps
        self.elementwise_affine = bool(elementwise_affine)
        dt = get_default_dtype() if dtype is None else np.dtype(dtype)
        affine = elementwise_affine
        self.register_parameter("weight", Parameter(np.ones(shape, dt)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(shape, dt)) if affine and bias
                                else None)

    def forward(self, x: Any) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        extra = "" if self.elementwise_affine else ", elementwise_affine=False"
        return f"{self.normalized_shape}, eps={self.eps}{extra}"


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of (N, C, H, W) feature maps: each channel is normalised with
    the mean and variance over the batch and all its pixels (N·H·W values), then scaled by
    γ (``weight``) and shifted by β (``bias``); running statistics as :class:`BatchNorm1d`."""

    layouts = {4: "(N, {n}, H, W)"}


class Dropout(Module):
    """Inverted dropout: in training mode each unit is zeroed with probability ``p`` and the
    survivors are divided by keep_prob = 1 − p; in evaluation mode it does nothing."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p (the drop probability) must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Dropout):
    """Channel dropout for (N, C, H, W) feature maps: in training mode each whole channel
    of each example is zeroed with probability ``p`` and the rest divided by keep_prob."""

    def forward(self, x: Any) -> Tensor:
        return F.dropout2d(x, self.p, training=self.training)
