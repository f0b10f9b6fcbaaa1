"""Helpers shared by the functional ops: argument checks, reductions, stable kernels."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import xp
from ..tensor import Tensor


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _float_tensor(x: Any) -> Tensor:
    """``x`` as a tensor of a floating dtype (integers and bools become the default float)."""
    if type(x) is Tensor and x.data.dtype.kind == "f":  # the usual case, checked cheaply
        return x
    return _tensor(x)._floating()


def _axis(axis: int, t: Tensor, op: str) -> int:
    """Check a single ``axis`` against ``t`` and make it non-negative."""
    if type(axis) is not int and not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if not -max(t.ndim, 1) <= axis < max(t.ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor of shape {t.shape}")
    return int(axis) % t.ndim if t.ndim else int(axis)


_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    """The cost from the per-example losses L⁽ⁱ⁾: J = 1/m Σ L⁽ⁱ⁾, Σ L⁽ⁱ⁾, or all of them.
    The mean of no losses (an empty batch) is 0/0 = NaN, as NumPy's and PyTorch's."""
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    return total / losses.size if losses.size else total.dtype.type(np.nan)


def _reduce_backward(g: np.ndarray, shape: tuple, reduction: str) -> np.ndarray:
    """∂J/∂L⁽ⁱ⁾: g/m for 'mean', g for 'sum' (0-d: it broadcasts against the losses), and
    g itself, of the losses' ``shape``, for 'none'."""
    if reduction == "mean":
        return g / max(math.prod(shape), 1)
    return g


def _same_shape(a: Tensor, b: Tensor, op: str, names: str = "input and target") -> None:
    if a.shape != b.shape:
        raise ValueError(f"{op}: {names} must have the same shape, got {a.shape} and {b.shape} "
                         "(no broadcasting: an (m, 1) vs (m,) mix-up would silently give an "
                         "(m, m) loss)")


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    """log softmax(z) = (z − max z) − log Σ e^(z − max z): the exponents are ≤ 0, never inf."""
    shifted = z - z.max(axis=axis, keepdims=True, initial=-np.inf)  # (-inf: an empty axis)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


def _clamped_log(p: Any) -> Any:
    """log p floored at −100 (PyTorch's BCE rule), so log 0 gives −100 rather than −inf.

    On a Tensor (a backward run under ``create_graph``) the floored entries are a constant
    and the log is never taken of 0 there, so their derivative is 0 rather than 0·∞ = NaN."""
    if not isinstance(p, Tensor):
        with np.errstate(divide="ignore"):
            return np.maximum(np.log(p), -100)
    floored = _clamped_log(p.data) == -100
    return xp.where(floored, -100.0, xp.log(xp.where(floored, 1, p)))
