"""Losses, each one node with the course's backward shortcut (``dZ = Ŷ − Y``, ``dZ = A − Y``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import xp
from ..function import Function
from ..tensor import Tensor, where
from ._common import (
    _axis,
    _check_reduction,
    _clamped_log,
    _float_tensor,
    _log_softmax,
    _reduce,
    _reduce_backward,
    _same_shape,
    _tensor,
)
from .activations import LogSoftmax


class CrossEntropy(Function):
    """Softmax + cross-entropy in one node: L⁽ⁱ⁾ = −Σₖ yₖ log softmax(z)ₖ.

    With ``log softmax(z) = z − logsumexp(z)`` the loss is finite for any finite logits,
    and the backward is the course's shortcut, never dividing by a probability:

        ∂L/∂z = (Σₖ yₖ)·softmax(z) − y   (= Ŷ − Y, since Σₖ yₖ = 1 for a distribution),
        ∂L/∂y = −log softmax(z),

    each times ∂J/∂L⁽ⁱ⁾ (1/m for 'mean'). ``y`` is the target distribution: the one-hot
    rows of class indices, or given probabilities; label smoothing ε replaces it by
    (1 − ε)·y + ε/K for K classes.
    """

    op, inputs, derivatives = "cross_entropy", ("z", "y"), ("(Ŷ − Y)/m", "−log Ŷ/m")

    @staticmethod
    def forward(ctx, z, y, axis=-1, reduction="mean", label_smoothing=0.0):
        logp = _log_softmax(z, axis)
        ctx.indices = y.dtype.kind in "iu"
        losses, y = _cross_entropy_losses(logp, y, axis, label_smoothing)
        ctx.axis, ctx.reduction, ctx.smoothing = axis, reduction, label_smoothing
        ctx.loss_shape = losses.shape
        ctx.save_for_backward(logp, y)
        return _reduce(losses, reduction)

    @staticmethod
    def composed(z, y, axis=-1, reduction="mean", label_smoothing=0.0):
        """The same loss from differentiable ops, for ``tg.grad(..., create_graph=True)``
        (the closed-form backward above uses log softmax(z), an intermediate)."""
        losses, _ = _cross_entropy_losses(LogSoftmax.apply(z, axis=axis), y, axis,
                                          label_smoothing)
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, g):
        logp, y = ctx.saved_tensors
        axis, eps = ctx.axis, ctx.smoothing
        g = _reduce_backward(g, ctx.loss_shape, ctx.reduction)
        if g.ndim:  # one factor per example ('none'), broadcast along the class axis
            g = np.expand_dims(g, axis)
        dz = dy = None
        if ctx.needs_input_grad[0]:
            if ctx.indices:  # Ŷ − Y: subtract 1 − ε at the target class and ε/K everywhere
                # Ŷ = softmax(z), computed with the classes last (C order: rows are views)
                last = axis == logp.ndim - 1
                dz = np.exp(logp if last else np.moveaxis(logp, axis, -1), order="C")
                dz.reshape(-1, dz.shape[-1])[np.arange(y.size), y.ravel()] -= 1 - eps
                if eps:
                    dz -= eps / logp.shape[axis]
                if not last:
                    dz = np.moveaxis(dz, -1, axis)
            else:
                dz = np.exp(logp)
                dz *= y.sum(axis=axis, keepdims=True)
                dz -= y
            dz *= g
        if ctx.needs_input_grad[1]:  # only a float (probability) target can require grad
            dy = logp * (g * -(1 - eps))
        return dz, dy


def _cross_entropy_losses(logp: Any, y: Any, axis: int, eps: float) -> tuple[Any, Any]:
    """The per-example losses L⁽ⁱ⁾ = −Σₖ yₖ log ŷₖ from log ŷ = log softmax(z), and the target
    distribution y used (smoothed); arrays in forward, Tensors in ``composed``."""
    k = logp.shape[axis]
    if y.dtype.kind in "iu":  # L = −(1 − ε)·log ŷ_target − ε/K·Σₖ log ŷₖ
        labels = xp.value(y).ravel()  # example i's class index is y.flat[i]
        picked = _classes_last(logp, axis)[np.arange(labels.size), labels].reshape(y.shape)
        losses = picked * -(1 - eps)
        if eps:
            losses = losses - logp.sum(axis=axis) * (eps / k)
        return losses, y
    y = xp.astype(y, logp.dtype)
    if eps:
        y = y * (1 - eps) + eps / k
    return -(y * logp).sum(axis=axis), y


def _classes_last(a: Any, axis: int) -> Any:
    """``a`` as a 2-D (examples, classes) array: the class axis moved last, the other axes
    flattened in C order, as ``y.ravel()`` flattens the class indices (a view when the
    class axis is already last)."""
    k = a.shape[axis]
    return (a if axis == a.ndim - 1 else xp.moveaxis(a, axis, -1)).reshape(-1, k)


class _PointwiseLoss(Function):
    """An elementwise loss L(x, y), reduced to the cost J. Subclasses give ``loss`` and
    ``partials`` (∂L/∂x, ∂L/∂y, written with operators and xp, so that they are
    differentiable again); the chain rule through the reduction (∂J/∂L = 1/m for 'mean')
    is shared here."""

    inputs = ("x", "y")
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, y, reduction="mean"):
        ctx.reduction, ctx.shape = reduction, x.shape
        ctx.save_for_backward(x, y)
        return _reduce(type(ctx).loss(x, y.astype(x.dtype, copy=False)), reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        g = _reduce_backward(g, ctx.shape, ctx.reduction)
        dx, dy = type(ctx).partials(x, xp.astype(y, x.dtype), *ctx.needs_input_grad)
        return (None if dx is None else g * dx), (None if dy is None else g * dy)

    @staticmethod
    def loss(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def partials(x: Any, y: Any, need_x: bool, need_y: bool) -> tuple:
        raise NotImplementedError


class MSELoss(_PointwiseLoss):
    """L = (ŷ − y)²;  ∂L/∂ŷ = 2(ŷ − y), ∂L/∂y = −2(ŷ − y)."""

    op, inputs, derivatives = "mse_loss", ("ŷ", "y"), ("2(ŷ − y)/m", "−2(ŷ − y)/m")

    @staticmethod
    def loss(x, y):
        diff = x - y
        return diff * diff

    @staticmethod
    def partials(x, y, need_x, need_y):
        twice = 2 * (x - y)
        return twice, (-twice if need_y else None)


class BinaryCrossEntropy(_PointwiseLoss):
    """L = −[y log a + (1 − y) log(1 − a)] for probabilities a (e.g. a = σ(z)).

    Both logs are floored at −100 (as PyTorch), so a = 0 or 1 gives a large finite loss,
    never log 0. Backward ∂L/∂a = (a − y)/(a(1 − a)), with the denominator floored at 1e-12
    (as PyTorch) so that it never divides by zero; ∂L/∂y = log(1 − a) − log a. Times
    σ'(z) = a(1 − a) this gives the course's dZ = A − Y; computing from logits with
    :func:`binary_cross_entropy_with_logits` is more accurate.
    """

    op, inputs = "binary_cross_entropy", ("a", "y")
    derivatives = ("(a − y)/(a(1 − a))/m", "(log(1 − a) − log a)/m")

    @staticmethod
    def loss(a, y):
        return -(y * _clamped_log(a) + (1 - y) * _clamped_log(1 - a))

    @staticmethod
    def partials(a, y, need_x, need_y):
        da = (a - y) / xp.maximum(a * (1 - a), 1e-12) if need_x else None
        dy = _clamped_log(1 - a) - _clamped_log(a) if need_y else None
        return da, dy


class BinaryCrossEntropyWithLogits(_PointwiseLoss):
    """Sigmoid + binary cross-entropy in one node, from the logits z (a = σ(z)):

        L = max(z, 0) − z·y + log(1 + e^(−|z|))      (= −[y log a + (1 − y) log(1 − a)])

    is finite for every z, because e^(−|z|) ≤ 1. Backward: the course's dZ = A − Y,
    i.e. ∂L/∂z = σ(z) − y, and ∂L/∂y = −z.
    """

    op, inputs = "binary_cross_entropy_with_logits", ("z", "y")
    derivatives = ("(σ(z) − y)/m", "−z/m")

    @staticmethod
    def loss(z, y):
        return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))

    @staticmethod
    def partials(z, y, need_x, need_y):
        dz = xp.sigmoid(z) - y if need_x else None
        return dz, (-z if need_y else None)


def cross_entropy(logits: Any, target: Any, axis: int = -1, reduction: str = "mean",
                  label_smoothing: float = 0.0, *, dim: int | None = None) -> Tensor:
    """Softmax cross-entropy from the logits ``z`` (one node; backward ``(Ŷ − Y)/m``).

    ``target`` (Tensor or array) is either integer class indices, of the logits' shape
    without ``axis`` (``(m,)`` for ``(m, K)`` logits), or probabilities (one-hot or soft
    labels) of the logits' shape. ``label_smoothing`` ε in [0, 1] mixes the target with the
    uniform distribution exactly as PyTorch: y ← (1 − ε)·y + ε/K. Finite for any finite
    logits (±1e4 included). A class index outside 0 … K−1 raises ``IndexError`` naming it.
    A float target tensor that requires grad receives ∂J/∂y = −log softmax(z) (scaled).
    The class axis is the last one by default (PyTorch's is axis 1 for inputs of more than
    two axes: pass ``dim=1``).
    """
    axis = axis if dim is None else dim  # PyTorch's name
    z = _float_tensor(logits)
    if z.ndim == 0:
        raise ValueError("cross_entropy: logits must have at least one axis (the classes), "
                         "got a 0-d tensor")
    axis = _axis(axis, z, "cross_entropy")
    _check_reduction(reduction, "cross_entropy")
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    y, k = _tensor(target), z.shape[axis]
    per_example = z.shape[:axis] + z.shape[axis + 1:]
    if y.dtype.kind in "iu":
        if y.shape != per_example:
            hint = "; one-hot targets must be floats" if y.shape == z.shape else ""
            raise ValueError(f"cross_entropy: class-index target of shape {y.shape} must have "
                             f"the logits' shape {z.shape} without axis {axis}, i.e. "
                             f"{per_example}{hint}")
        # Viewed as unsigned, a negative index of b bits is at least 2^(b-1): one max()
        # checks both ends unless there are more classes than that (then min() too).
        labels, size = y.data, y.data.dtype.itemsize
        if labels.size and (labels.view(f"u{size}").max() >= k or (
                k > 1 << (8 * size - 1) and labels.min() < 0)):
            bad = (labels < 0) | (labels >= k)
            raise IndexError(f"cross_entropy: class index {labels[bad].flat[0]} is out of range "
                             f"for {k} classes (valid: 0 to {k - 1})")
    elif y.shape != z.shape:
        hint = "; class indices must be integers" if y.shape == per_example else ""
        raise ValueError(f"cross_entropy: probability target of shape {y.shape} must have the "
                         f"logits' shape {z.shape}{hint}")
    return CrossEntropy.apply(z, y, axis=axis, reduction=reduction,
                              label_smoothing=float(label_smoothing))


def _pointwise_loss(op: type[_PointwiseLoss], x: Any, y: Any, reduction: str,
                    names: str) -> Tensor:
    x, y = _float_tensor(x), _tensor(y)
    _check_reduction(reduction, op.op)
    _same_shape(x, y, op.op, names)
    return op.apply(x, y, reduction=reduction)


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error: J = 1/m Σ (ŷ − y)² over all elements (as PyTorch)."""
    return _pointwise_loss(MSELoss, input, target, reduction, "input and target")


def _weighted_loss(op: type[_PointwiseLoss], x: Tensor, y: Any, weight: Any, reduction: str,
                   names: str) -> Tensor:
    """``weight · L`` elementwise, then reduced (PyTorch's ``weight=``). Labels where the
    weight is 0 are ignored, so they may be NaN (the course's missing "?" labels)."""
    if weight is None:
        return _pointwise_loss(op, x, y, reduction, names)
    who = op.op
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
    if w.dtype.kind not in "biuf" or not np.isfinite(w).all():
        raise ValueError(f"{who}: weight must hold finite numbers (e.g. a 0/1 mask), got "
                         f"dtype {w.dtype}")
    try:
        w = np.broadcast_to(w, x.shape)
    except ValueError:
        raise ValueError(f"{who}: weight of shape {w.shape} does not broadcast to the "
                         f"{names.split(' and ')[0]}' shape {x.shape}") from None
    y = _tensor(y)
    if y.dtype.kind == "f" and np.isnan(y.data).any():
        if y.requires_grad or y.shape != x.shape:
            raise ValueError(f"{who}: y contains NaN; mark missing labels with weight 0 "
                             "(y must then have the input's shape and not require grad)")
        if np.isnan(y.data[w != 0]).any():
            raise ValueError(f"{who}: y is NaN where the weight is not 0; give missing labels "
                             "weight 0")
        y = Tensor(np.where(w == 0, 0, y.data).astype(y.dtype))  # a copy: y is not touched
    _check_reduction(reduction, who)
    losses = _pointwise_loss(op, x, y, "none", names) * Tensor(w.astype(x.dtype))
    if reduction == "none":
        return losses
    total = losses.sum()
    return total / max(losses.size, 1) if reduction == "mean" else total


_WEIGHT_DOC = """

    ``weight`` (broadcast to the input's shape) multiplies each element's loss before the
    reduction, as PyTorch's ``weight=``; ``'mean'`` still divides by the number of
    elements. Multi-task learning with missing labels (the course's "?"): pass the labels
    with anything (NaN too) where missing and ``weight=mask`` (1 where a label is given,
    0 where not); the course's cost (1/m) Σᵢ Σⱼ over the given labels is
    ``reduction='sum'`` divided by m.
    """


def binary_cross_entropy(probs: Any, y: Any, reduction: str = "mean",
                         weight: Any = None) -> Tensor:
    """J = −1/m Σ [y log a + (1 − y) log(1 − a)] for probabilities a in [0, 1].

    Clipping (as PyTorch): each log is floored at −100, so a = 0 or 1 gives a finite loss;
    the backward (a − y)/(a(1 − a)) floors its denominator at 1e-12. Probabilities outside
    [0, 1] raise ``ValueError``. Prefer :func:`binary_cross_entropy_with_logits`.
    """
    a = _float_tensor(probs)
    if a.size and not (a.data.min() >= 0 and a.data.max() <= 1):  # NaN fails this too
        raise ValueError(f"binary_cross_entropy: probs must lie in [0, 1], got values in "
                         f"[{a.data.min():.4g}, {a.data.max():.4g}]; for raw scores use "
                         "binary_cross_entropy_with_logits")
    return _weighted_loss(BinaryCrossEntropy, a, y, weight, reduction, "probs and y")


def binary_cross_entropy_with_logits(logits: Any, y: Any, reduction: str = "mean",
                                     weight: Any = None) -> Tensor:
    """Sigmoid + binary cross-entropy from logits z, in the stable form
    max(z, 0) − z·y + log(1 + e^(−|z|)); backward σ(z) − y (the course's dZ = A − Y)."""
    return _weighted_loss(BinaryCrossEntropyWithLogits, _float_tensor(logits), y, weight,
                          reduction, "logits and y")


for _f in (binary_cross_entropy, binary_cross_entropy_with_logits):
    _f.__doc__ += _WEIGHT_DOC


# ---------------------------------------------------------------------- compositions
def _reduced(losses: Tensor, reduction: str) -> Tensor:
    return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" \
        else losses


def nll_loss(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,  # noqa: A002
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (PyTorch's ``nll_loss``):
    L⁽ⁱ⁾ = −w[yᵢ]·input[i, yᵢ].

    ``input`` is ``(m, C)`` or ``(m, C, d1, …)`` (the classes on axis 1, as PyTorch) or
    ``(C,)``; ``target`` holds class indices of the other axes' shape. Targets equal to
    ``ignore_index`` count for nothing; ``'mean'`` divides by the summed weights of the
    others (PyTorch's weighted mean). ``log_softmax`` followed by ``nll_loss`` is
    ``cross_entropy``.
    """
    x, y = _float_tensor(input), _tensor(target)
    _check_reduction(reduction, "nll_loss")
    if y.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold class indices (integers), got {y.dtype}")
    axis = 1 if x.ndim > 1 else 0
    expected = x.shape[:axis] + x.shape[axis + 1:]
    if x.ndim == 0 or y.shape != expected:
        raise ValueError(f"nll_loss: input of shape {x.shape} (classes on axis {axis}) needs a "
                         f"target of shape {expected}, got {y.shape}")
    k, t = x.shape[axis], y.data
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    if safe.size and (safe.min() < 0 or safe.max() >= k):
        bad = safe[(safe < 0) | (safe >= k)].flat[0]
        raise IndexError(f"nll_loss: class index {bad} is out of range for {k} classes")
    w = keep.astype(x.dtype)
    if weight is not None:
        wa = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
        if wa.shape != (k,):
            raise ValueError(f"nll_loss: weight must have shape ({k},), got {wa.shape}")
        w = w * wa.astype(x.dtype)[safe]
    picked = x.moveaxis(axis, -1)[(*np.indices(t.shape, sparse=True), safe)]
    losses = -picked * w
    if reduction != "mean":
        return _reduced(losses, reduction)
    total = w.sum()
    return losses.sum() / total if total else losses.sum() * np.nan  # 0/0: PyTorch's NaN


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean absolute error |ŷ − y| (the gradient at ŷ = y is 0)."""
    x, y = _float_tensor(input), _tensor(target)
    _check_reduction(reduction, "l1_loss")
    _same_shape(x, y, "l1_loss")
    return _reduced((x - y).abs(), reduction)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean",  # noqa: A002
                   beta: float = 1.0) -> Tensor:
    """½d²/β where |d| < β, else |d| − ½β, with d = ŷ − y (PyTorch's ``smooth_l1_loss``;
    β = 0 is the L1 loss)."""
    return _piecewise_quadratic("smooth_l1_loss", input, target, reduction, beta,
                                1 / beta if beta else 0.0, 1.0)


def huber_loss(input: Any, target: Any, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Tensor:
    """½d² where |d| < δ, else δ(|d| − ½δ), with d = ŷ − y (δ·smooth_l1 with β = δ)."""
    return _piecewise_quadratic("huber_loss", input, target, reduction, delta, 1.0, delta)


def _piecewise_quadratic(op: str, input: Any, target: Any, reduction: str,  # noqa: A002
                         cut: float, curvature: float, slope: float) -> Tensor:
    """``curvature·d²/2`` for |d| < cut, ``slope·(|d| − cut/2)`` beyond (continuous at cut)."""
    x, y = _float_tensor(input), _tensor(target)
    _check_reduction(reduction, op)
    _same_shape(x, y, op)
    if cut < 0:
        raise ValueError(f"{op}: the threshold must be >= 0, got {cut}")
    d = x - y
    inner = np.abs(d.data) < cut
    losses = where(inner, 0.5 * curvature * d * d, slope * (d.abs() - 0.5 * cut))
    return _reduced(losses, reduction)
