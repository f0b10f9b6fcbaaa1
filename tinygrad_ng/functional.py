"""Neural-network ops, each ONE graph node with a hand-derived, numerically stable backward.

``import tinygrad_ng.functional as F``. In the course's notation a layer computes
``Z = W·A_prev + b`` and ``A = g(Z)``; backward needs ``dZ = dA * g'(Z)``, and each
activation below states its ``g'`` in terms of what it saved. The losses give the course's
famous shortcuts directly (``dZ = A − Y`` for sigmoid + cross-entropy, ``dZ = Ŷ − Y`` for
softmax + cross-entropy) instead of chaining through ``log`` and ``exp``.

Conventions shared by every function here:

- Batch-first data: ``m`` examples along axis 0 (the course stacks them as columns).
- Losses take ``reduction='mean' | 'sum' | 'none'``: the cost ``J = 1/m Σᵢ L⁽ⁱ⁾``, the sum
  ``Σᵢ L⁽ⁱ⁾``, or every ``L⁽ⁱ⁾`` unreduced. ``m`` counts the per-example losses.
- Integer and bool inputs are converted to the default float dtype (``relu`` keeps
  integers). A target tensor that requires grad gets its gradient too.
- Forward passes have no side effects except ``batch_norm``'s documented update of the
  running statistics (done outside the op), so a node can be replayed with ``ctx.kwargs``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from . import random
from .dtypes import get_default_dtype
from .function import Function
from .tensor import Tensor

# ------------------------------------------------------------------------ shared helpers


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _float_tensor(x: Any) -> Tensor:
    """``x`` as a tensor of a floating dtype (integers and bools become the default float)."""
    if type(x) is Tensor and x.data.dtype.kind == "f":  # the usual case, checked cheaply
        return x
    t = _tensor(x)
    return t if t.dtype.kind == "f" else Tensor(t.data.astype(get_default_dtype()))


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
    """The cost from the per-example losses L⁽ⁱ⁾: J = 1/m Σ L⁽ⁱ⁾, Σ L⁽ⁱ⁾, or all of them."""
    if reduction == "none":
        return losses
    total = losses.sum()
    return total / max(losses.size, 1) if reduction == "mean" else total


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


def _stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) without overflow: with e = exp(−|z|) ≤ 1, σ = 1/(1+e) for z ≥ 0, e/(1+e) else."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    """log softmax(z) = (z − max z) − log Σ e^(z − max z): the exponents are ≤ 0, never inf."""
    shifted = z - z.max(axis=axis, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


def _clamped_log(p: np.ndarray) -> np.ndarray:
    """log p floored at −100 (PyTorch's BCE rule), so log 0 gives −100 rather than −inf."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), -100)


# ------------------------------------------------------------------------ activations


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
        e = np.exp(z - z.max(axis=axis, keepdims=True))
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


# ------------------------------------------------------------------------ losses


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
        eps, k = label_smoothing, z.shape[axis]
        ctx.indices = y.dtype.kind in "iu"
        if ctx.indices:  # L = −(1 − ε)·log ŷ_target − ε/K·Σₖ log ŷₖ
            rows = np.arange(y.size)  # example i's class index is y.flat[i]
            picked = _classes_last(logp, axis)[rows, y.ravel()].reshape(y.shape)
            losses = picked * -(1 - eps)
            if eps:
                losses -= logp.sum(axis=axis) * (eps / k)
        else:
            y = y.astype(z.dtype, copy=False)
            if eps:
                y = y * (1 - eps) + eps / k
            losses = -(y * logp).sum(axis=axis)
        ctx.axis, ctx.reduction, ctx.smoothing = axis, reduction, eps
        ctx.loss_shape = losses.shape
        ctx.save_for_backward(logp, y)
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


def _classes_last(a: np.ndarray, axis: int) -> np.ndarray:
    """``a`` as a 2-D (examples, classes) array: the class axis moved last, the other axes
    flattened in C order, as ``y.ravel()`` flattens the class indices (a view when the
    class axis is already last)."""
    k = a.shape[axis]
    return (a if axis == a.ndim - 1 else np.moveaxis(a, axis, -1)).reshape(-1, k)


class _PointwiseLoss(Function):
    """An elementwise loss L(x, y), reduced to the cost J. Subclasses give ``loss`` (saving
    what they need) and ``partials`` (∂L/∂x, ∂L/∂y); the chain rule through the reduction
    (∂J/∂L = 1/m for 'mean') is shared here."""

    inputs = ("x", "y")

    @staticmethod
    def forward(ctx, x, y, reduction="mean"):
        ctx.reduction, ctx.shape = reduction, x.shape
        return _reduce(type(ctx).loss(ctx, x, y.astype(x.dtype, copy=False)), reduction)

    @staticmethod
    def backward(ctx, g):
        g = _reduce_backward(g, ctx.shape, ctx.reduction)
        dx, dy = type(ctx).partials(ctx, *ctx.needs_input_grad)
        return (None if dx is None else g * dx), (None if dy is None else g * dy)

    @staticmethod
    def loss(ctx, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def partials(ctx, need_x: bool, need_y: bool) -> tuple:
        raise NotImplementedError


class MSELoss(_PointwiseLoss):
    """L = (ŷ − y)²;  ∂L/∂ŷ = 2(ŷ − y), ∂L/∂y = −2(ŷ − y)."""

    op, inputs, derivatives = "mse_loss", ("ŷ", "y"), ("2(ŷ − y)/m", "−2(ŷ − y)/m")

    @staticmethod
    def loss(ctx, x, y):
        diff = x - y
        ctx.save_for_backward(diff)
        return diff * diff

    @staticmethod
    def partials(ctx, need_x, need_y):
        (diff,) = ctx.saved_tensors
        twice = 2 * diff
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
    def loss(ctx, a, y):
        ctx.save_for_backward(a, y)
        return -(y * _clamped_log(a) + (1 - y) * _clamped_log(1 - a))

    @staticmethod
    def partials(ctx, need_x, need_y):
        a, y = ctx.saved_tensors
        da = (a - y) / np.maximum(a * (1 - a), 1e-12) if need_x else None
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
    def loss(ctx, z, y):
        ctx.save_for_backward(z, y)
        return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))

    @staticmethod
    def partials(ctx, need_x, need_y):
        z, y = ctx.saved_tensors
        dz = _stable_sigmoid(z) - y if need_x else None
        return dz, (-z if need_y else None)


# ------------------------------------------------------------------------ layers


class Linear(Function):
    """Z = A_prev·Wᵀ + b for batch-first A_prev (…, n[l-1]), W (n[l], n[l-1]), b (n[l],).

    The course's column-major ``Z = W·A_prev + b`` with examples as rows. Backward, with dZ
    the incoming gradient flattened to (m, n[l]): dW = dZᵀ·A_prev, db = Σᵢ dZ⁽ⁱ⁾,
    dA_prev = dZ·W (the course's 1/m is already inside dZ when the loss is a mean).
    """

    op, inputs, derivatives = "linear", ("A", "W", "b"), ("W", "A", "1")

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        try:
            z = x @ w.T
        except ValueError:  # (nn.Linear calls this node without linear()'s checks)
            raise _linear_mismatch(x.shape, w.shape) from None
        if b is not None:  # in place unless b's dtype is wider than z's
            same = b.dtype is z.dtype or np.result_type(z, b) == z.dtype
            z = np.add(z, b, out=z if same else None)
        return z

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = g.reshape(-1, w.shape[0])  # dZ as (m, n[l]) whatever the batch axes
        dx = g @ w if need_x else None
        dw = g2.T @ x.reshape(-1, w.shape[1]) if need_w else None
        db = g2.sum(axis=0) if need_b else None
        return dx, dw, db


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


class Dropout(Function):
    """Inverted dropout with the course's mask d (True with probability keep_prob):

        a = x ⊙ d / keep_prob,   da/dx = d / keep_prob.

    The mask is drawn by :func:`dropout` and passed in, so the node can be replayed.
    """

    op, inputs, derivatives = "dropout", ("x",), ("d/keep_prob",)

    @staticmethod
    def forward(ctx, x, mask, scale):
        ctx.mask, ctx.scale = mask, scale
        out = np.where(mask, x, 0)
        out *= scale
        return out

    @staticmethod
    def backward(ctx, g):
        dx = np.where(ctx.mask, g, 0)
        dx *= ctx.scale
        return dx


# ------------------------------------------------------------------------ public functions


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


def cross_entropy(logits: Any, target: Any, axis: int = -1, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from the logits ``z`` (one node; backward ``(Ŷ − Y)/m``).

    ``target`` (Tensor or array) is either integer class indices, of the logits' shape
    without ``axis`` (``(m,)`` for ``(m, K)`` logits), or probabilities (one-hot or soft
    labels) of the logits' shape. ``label_smoothing`` ε in [0, 1] mixes the target with the
    uniform distribution exactly as PyTorch: y ← (1 − ε)·y + ε/K. Finite for any finite
    logits (±1e4 included). A class index outside 0 … K−1 raises ``IndexError`` naming it.
    A float target tensor that requires grad receives ∂J/∂y = −log softmax(z) (scaled).
    """
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


def binary_cross_entropy(probs: Any, y: Any, reduction: str = "mean") -> Tensor:
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
    return _pointwise_loss(BinaryCrossEntropy, a, y, reduction, "probs and y")


def binary_cross_entropy_with_logits(logits: Any, y: Any, reduction: str = "mean") -> Tensor:
    """Sigmoid + binary cross-entropy from logits z, in the stable form
    max(z, 0) − z·y + log(1 + e^(−|z|)); backward σ(z) − y (the course's dZ = A − Y)."""
    return _pointwise_loss(BinaryCrossEntropyWithLogits, logits, y, reduction, "logits and y")


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """``x @ weight.T + bias`` as one node: x (…, in), weight (out, in), bias (out,)."""
    x, w = _float_tensor(x), _float_tensor(weight)
    b = None if bias is None else _float_tensor(bias)
    xs, ws = x.data.shape, w.data.shape
    if len(ws) != 2 or not xs or xs[-1] != ws[1]:
        raise _linear_mismatch(xs, ws)
    if b is not None and b.data.shape != (ws[0],):
        raise ValueError(f"linear: bias of shape {b.shape} does not match weight of shape "
                         f"{w.shape}; expected ({w.shape[0]},)")
    return Linear.apply(x, w, b)


def _linear_mismatch(xs: tuple, ws: tuple) -> ValueError:
    return ValueError(f"linear: x of shape {xs} and weight of shape {ws} do not fit: weight "
                      "must be (out, in) with in = x.shape[-1]")


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
    if tracked:  # r ← (1 − momentum)·r + momentum·stat, in place
        n = batch["count"]
        running_mean *= 1 - momentum
        running_mean += momentum * batch["mean"]
        running_var *= 1 - momentum
        running_var += (momentum * n / (n - 1)) * batch["var"]
    return out


def dropout(x: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability p, scale the rest by 1/keep_prob
    (keep_prob = 1 − p), so the expected activation is unchanged and evaluation needs no
    rescaling. The mask comes from the library's generator (``tg.manual_seed``). Identity
    (``x`` itself) when ``training`` is False or p = 0; p = 1 gives zeros.
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    x = _float_tensor(x)
    if not training or p == 0:
        return x
    keep_prob = 1 - p
    mask = random.generator().random(x.shape) < keep_prob
    return Dropout.apply(x, mask=mask, scale=1 / keep_prob if keep_prob > 0 else 0.0)
