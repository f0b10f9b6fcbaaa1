"""The array functions that backward rules are written with: NumPy on arrays, ops on Tensors.

Every op's ``backward(ctx, g)`` is written once, with Python operators, the array methods
Tensor shares with ``np.ndarray`` (``.reshape``, ``.sum``, ``.T``, indexing …) and the
functions below. A plain ``backward()`` calls it with NumPy arrays, so each function here is
NumPy itself. With ``tg.grad(..., create_graph=True)`` the engine calls the same rule with
Tensors, and each function records the differentiable op instead, so the gradient is itself
a graph that can be differentiated again (HIPS autograd writes its derivatives the same way,
in differentiable primitives)::

    class Exp(Function):                       # d/dx eˣ = eˣ
        def backward(ctx, g):
            (out,) = ctx.saved_tensors
            return g * out                     # arrays, or Tensors under create_graph

    class Log(Function):                       # d/dx ln x = 1/x
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g / x

Masks and other piecewise-constant factors (``x > 0`` for relu, the ties of ``max``) are
computed from :func:`value` and enter as constants: their derivative is 0 almost everywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd import unbroadcast


def _tensors(*xs: Any) -> bool:
    """True when any argument is a Tensor (then the Tensor ops are used)."""
    return any(isinstance(x, Tensor) for x in xs)


def value(x: Any) -> Any:
    """The NumPy array behind ``x`` (a Tensor's ``.data``; anything else as it is): for
    masks and other constants that no derivative flows through."""
    return x.data if isinstance(x, Tensor) else x


# ----------------------------------------------------------------------------- elementwise


def exp(x: Any) -> Any:
    return x.exp() if isinstance(x, Tensor) else np.exp(x)


def log(x: Any) -> Any:
    return x.log() if isinstance(x, Tensor) else np.log(x)


def sqrt(x: Any) -> Any:
    return x.sqrt() if isinstance(x, Tensor) else np.sqrt(x)


def tanh(x: Any) -> Any:
    return x.tanh() if isinstance(x, Tensor) else np.tanh(x)


def sin(x: Any) -> Any:
    return x.sin() if isinstance(x, Tensor) else np.sin(x)


def cos(x: Any) -> Any:
    return x.cos() if isinstance(x, Tensor) else np.cos(x)


def sinh(x: Any) -> Any:
    return x.sinh() if isinstance(x, Tensor) else np.sinh(x)


def cosh(x: Any) -> Any:
    return x.cosh() if isinstance(x, Tensor) else np.cosh(x)


def erf(x: Any) -> Any:
    return x.erf() if isinstance(x, Tensor) else ops.maths.erf_array(x)


def sigmoid(x: Any) -> Any:
    """σ(x) = 1/(1 + e⁻ˣ) without overflow: with e = exp(−|x|) ≤ 1, σ = 1/(1+e) for x ≥ 0,
    e/(1+e) else."""
    if isinstance(x, Tensor):
        return x.sigmoid()
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def maximum(x: Any, y: Any) -> Any:
    """Elementwise max (at ties each side gets half the gradient)."""
    if isinstance(x, Tensor):
        return x.maximum(y)
    if isinstance(y, Tensor):
        return y.maximum(x)
    return np.maximum(x, y)


def sign(x: Any) -> np.ndarray:
    """sign(x) as a constant (its derivative is 0 wherever it exists)."""
    return np.sign(value(x))


def where(cond: Any, a: Any, b: Any) -> Any:
    """``cond ? a : b``; ``cond`` is a constant mask."""
    if _tensors(a, b):
        return _where(value(cond), a, b)
    return np.where(cond, a, b)


def astype(x: Any, dtype: Any) -> Any:
    """``x`` in ``dtype`` (``x`` itself when it has it already)."""
    if isinstance(x, Tensor):
        return x.astype(dtype)
    return x if x.dtype is dtype else x.astype(dtype, copy=False)


# ----------------------------------------------------------------------------- shapes


def broadcast_to(x: Any, shape: tuple) -> Any:
    return x.broadcast_to(shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def expand_dims(x: Any, axis: int | tuple[int, ...]) -> Any:
    """``x`` with new axes of length 1 at ``axis`` (positions in the result)."""
    if not isinstance(x, Tensor):
        return np.expand_dims(x, axis)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    ndim = x.ndim + len(axes)
    new = sorted(a % ndim for a in axes)
    shape = list(x.shape)
    for a in new:
        shape.insert(a, 1)
    return x.reshape(*shape)


def permute(x: Any, axes: tuple) -> Any:
    """The axes of ``x`` reordered (NumPy's ``transpose(axes)``; a full permutation)."""
    if not isinstance(x, Tensor):
        return x.transpose(axes)
    return ops.Transpose.apply(x, axes=tuple(int(a) % x.ndim for a in axes))


def swapaxes(x: Any, a: int, b: int) -> Any:
    if not isinstance(x, Tensor):
        return np.swapaxes(x, a, b)
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return permute(x, axes)


def moveaxis(x: Any, source: int, destination: int) -> Any:
    if not isinstance(x, Tensor):
        return np.moveaxis(x, source, destination)
    axes = list(range(x.ndim))
    axes.insert(destination % x.ndim, axes.pop(source % x.ndim))
    return permute(x, axes)


def sum_to(x: Any, shape: tuple) -> Any:
    """Sum ``x`` down to ``shape``: the adjoint of broadcasting ``shape`` to ``x.shape``."""
    return unbroadcast(x, shape)  # (written with .sum only, so it serves both)


def scatter(shape: tuple, index: Any, g: Any) -> Any:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeats accumulate): the adjoint of
    ``x[index]``."""
    if isinstance(g, Tensor):
        return ops.Scatter.apply(g, shape=shape, index=index)
    return ops.shape._scatter_array(g, shape, index)


def flip(x: Any, axis: int) -> Any:
    """``x`` reversed along ``axis``."""
    if not isinstance(x, Tensor):
        return np.flip(x, axis)
    return x.flip(axis)


def cumsum(x: Any, axis: int) -> Any:
    return x.cumsum(axis) if isinstance(x, Tensor) else np.cumsum(x, axis=axis)


def split(x: Any, sections: Any, axis: int) -> list:
    """``np.split(x, sections, axis)`` (indices of the cuts), as slices on a Tensor."""
    if not isinstance(x, Tensor):
        return np.split(x, sections, axis=axis)
    bounds = [0, *sections, x.shape[axis]]
    lead = (slice(None),) * axis
    return [x[(*lead, slice(lo, hi))] for lo, hi in zip(bounds[:-1], bounds[1:])]


from . import ops  # noqa: E402  (the ops' backward rules call back into this module)
from .tensor import Tensor  # noqa: E402
from .tensor import where as _where  # noqa: E402
