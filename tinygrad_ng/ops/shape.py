"""Shape ops: reshape, transpose, broadcast, indexing, concatenate, stack."""

from __future__ import annotations

import numpy as np

from .. import xp
from ..function import Function


class Reshape(Function):
    op, derivatives = "reshape", ("1 (reshaped)",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} "
                             f"elements) into {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Transpose(Function):
    op, derivatives = "transpose", ("1 (permuted)",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        return xp.permute(g, np.argsort(ctx.axes))


class BroadcastTo(Function):
    op, derivatives = "broadcast_to", ("1 (summed back)",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return g  # the engine sums over the broadcast axes


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer))
               for i in items)


def _scatter_array(g: np.ndarray, shape: tuple, index) -> np.ndarray:
    full = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        full[index] = g
    else:
        np.add.at(full, index, g)
    return full


class Index(Function):
    """``x[index]``: basic slicing, integer arrays and boolean masks; repeated indices
    accumulate their gradients."""

    op, derivatives = "getitem", ("1 at the selected positions",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(f"getitem: index {index!r} on a tensor of shape {x.shape}: "
                             f"{e}") from None

    @staticmethod
    def backward(ctx, g):
        return xp.scatter(ctx.shape, ctx.index, g)


class Scatter(Function):
    """Zeros of ``shape`` with ``g`` added at ``index``: the adjoint of ``x[index]``, so
    the backward of indexing is itself differentiable."""

    op, derivatives = "scatter", ("1 at the index",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, g, shape, index):
        ctx.index = index
        return _scatter_array(g, shape, index)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.index]


class Concatenate(Function):
    op, derivatives = "concatenate", ("1 (its slice)",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.splits = np.cumsum([a.shape[axis] if a.ndim else 1 for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return tuple(xp.split(g, ctx.splits, axis=ctx.axis))


class Stack(Function):
    op, derivatives = "stack", ("1 (its slice)",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        out = np.stack(arrays, axis=axis)
        ctx.axis = axis % out.ndim
        return out

    @staticmethod
    def backward(ctx, g):
        g = xp.moveaxis(g, ctx.axis, 0)
        return tuple(g[i] for i in range(g.shape[0]))
