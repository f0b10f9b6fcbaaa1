"""Loss modules: each wraps one loss op of ``tinygrad_ng.functional`` (``loss(pred, target)``).

``reduction`` is ``'mean'`` (the course's cost J = (1/m) Σᵢ L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾)), ``'sum'`` or
``'none'`` (one loss per example).
"""

from __future__ import annotations

from typing import Any

import tinygrad_ng.functional as F
from tinygrad_ng.tensor import Tensor

from .module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss",
           "NLLLoss", "SmoothL1Loss"]

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, "
                             f"got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax + cross-entropy on raw scores: L = −Σⱼ yⱼ·log softmax(z)ⱼ.

    ``logits`` of shape ``(m, C)``; ``target`` either int class indices of shape ``(m,)`` or
    one-hot/probabilities of shape ``(m, C)``. One graph node whose backward is the course's
    ``dZ = (Ŷ − Y)/m``. ``label_smoothing`` ε mixes the targets with the uniform
    distribution: y ← (1 − ε)·y + ε/C.
    """

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                             f"{label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, logits: Any, target: Any) -> Tensor:
        return F.cross_entropy(logits, target, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)

    def extra_repr(self) -> str:
        return super().extra_repr() + (f", label_smoothing={self.label_smoothing}"
                                       if self.label_smoothing else "")


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities (after a sigmoid), the course's logistic loss:
    L(ŷ, y) = −(y·log ŷ + (1 − y)·log(1 − ŷ))."""

    def forward(self, probs: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy(probs, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable op on raw scores z (prefer it to
    ``Sigmoid`` followed by ``BCELoss``): backward is dZ = (σ(z) − y)/m."""

    def forward(self, logits: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(logits, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error: L = (ŷ − y)²."""

    def forward(self, pred: Any, target: Any) -> Tensor:
        return F.mse_loss(pred, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: L = |ŷ − y|."""

    def forward(self, pred: Any, target: Any) -> Tensor:
        return F.l1_loss(pred, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """½d²/β for |d| < β, else |d| − ½β, with d = ŷ − y."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, pred: Any, target: Any) -> Tensor:
        return F.smooth_l1_loss(pred, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """½d² for |d| < δ, else δ(|d| − ½δ), with d = ŷ − y."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, pred: Any, target: Any) -> Tensor:
        return F.huber_loss(pred, target, reduction=self.reduction, delta=self.delta)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (after ``LogSoftmax``): L = −log ŷ_y,
    with optional class ``weight`` and an ``ignore_index`` (see ``F.nll_loss``)."""

    def __init__(self, weight: Any = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, log_probs: Any, target: Any) -> Tensor:
        return F.nll_loss(log_probs, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)
