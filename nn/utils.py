"""Gradient clipping, in place on the parameters' ``.grad`` (PyTorch's ``nn.utils``).

The course clips every gradient to [−maxValue, maxValue] before the update of its
character-level language model (:func:`clip_grad_value_`); rescaling all gradients
together when their total norm exceeds a threshold (:func:`clip_grad_norm_`) keeps their
direction and is what most models use. Call either between ``backward()`` and ``step()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from tinygrad_ng.tensor import Tensor

from .interop import from_torch_state_dict, to_torch_state_dict

__all__ = [
    "clip_grad_norm_", "clip_grad_value_", "from_torch_state_dict", "to_torch_state_dict",
]


def _with_grads(parameters: Tensor | Iterable[Tensor], who: str) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: expected Tensors (e.g. model.parameters()), got a "
                            f"{type(p).__name__}")
    return [p for p in params if p.grad is not None]


def _norm(values: np.ndarray, p: float) -> float:
    """‖values‖_p, scaled by the largest |value| first so no power overflows (float64)."""
    a = np.abs(values.ravel())
    if a.size == 0:
        return 0.0
    top = float(a.max())
    if p == math.inf or top == 0 or not math.isfinite(top):
        return top
    a = a.astype(np.float64) / top
    total = float(np.dot(a, a)) if p == 2 else float(np.sum(a ** p))
    return top * total ** (1 / p)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale every gradient by ``max_norm / (total_norm + 1e-6)`` when that is below 1.

    ``total_norm`` is the ``norm_type``-norm of all gradients together (as if joined into
    one vector; ``float('inf')`` for the largest absolute value); parameters without a
    gradient are skipped. Returns the total norm before clipping, as a 0-d tensor. A
    non-finite total raises with ``error_if_nonfinite=True``; otherwise the gradients are
    scaled anyway, as PyTorch does (NaN stays NaN). ``foreach`` is accepted for PyTorch
    compatibility and ignored.
    """
    params = _with_grads(parameters, "clip_grad_norm_")
    p = float(norm_type)
    if not p > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive (or inf), got {norm_type}")
    if not params:
        return Tensor(np.zeros((), dtype=np.float32))
    dtype = params[0].grad.dtype
    total = _norm(np.array([_norm(q.grad, p) for q in params]), p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {p} of the gradients is "
                           f"{total}, so they cannot be clipped; pass error_if_nonfinite=False "
                           "to scale them anyway")
    coef = max_norm / (total + 1e-6) if math.isfinite(total) else (
        0.0 if total == math.inf else math.nan)
    if coef < 1 or math.isnan(coef):
        with np.errstate(invalid="ignore"):  # inf · 0 = NaN, as PyTorch gives
            for q in params:
                if q.grad.flags.writeable:
                    q.grad *= q.grad.dtype.type(coef)
                else:
                    q.grad = q.grad * q.grad.dtype.type(coef)
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clip every gradient element to [−clip_value, clip_value] (the course's ``clip``)."""
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for q in _with_grads(parameters, "clip_grad_value_"):
        if q.grad.flags.writeable:
            np.clip(q.grad, -clip_value, clip_value, out=q.grad)
        else:
            q.grad = np.clip(q.grad, -clip_value, clip_value)
