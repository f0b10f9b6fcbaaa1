"""Pooling and resizing over NCHW batches: ``max_pool2d``, ``avg_pool2d``,
``adaptive_avg_pool2d``, ``interpolate`` (nearest).

A pooling layer has no parameters: it summarises each f × f window (stride s, padding
p) of every channel by its maximum or its mean, so the output has
⌊(n + 2p − f)/s⌋ + 1 rows and columns (``ceil_mode=True`` rounds up instead, as PyTorch).

- Average pooling is linear: it is a convolution of each channel with a constant
  f × f kernel of 1/f² (rescaled for partial windows), so it reuses :func:`conv2d`'s op
  and its gradient (a transposed convolution) is differentiable again.
- Max pooling picks one input per window; its gradient goes back to that input and
  nowhere else. Ties: the whole gradient goes to the FIRST maximum of the window in
  row-major order (PyTorch's rule; a NaN counts as the maximum). The backward is the op
  :class:`MaxUnpool` (put each value back where its maximum came from), whose own
  backward is indexing again, so max pooling is twice differentiable (the second
  derivative is 0 almost everywhere, as for relu).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._common import _float_tensor
from .conv import Conv2d, Geometry, _check_batch, _ints, output_size


class MaxPool2d(Function):
    """y[n, c, h, w] = max of x over the window (h, w); ∂y/∂x = 1 at the window's (first)
    maximum, 0 elsewhere. The flat positions of the maxima are kept (``ctx.index``) for
    backward, which is :class:`MaxUnpool`."""

    op, derivatives = "max_pool2d", ("1 at each window's max",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, geom):
        windows = _windows(x, geom)
        k = windows.argmax(axis=-1)  # the first maximum (or the first NaN) of each window
        ctx.index, ctx.unique = _flat_index(k, x.shape, geom)
        ctx.shape = x.shape
        return x.reshape(-1)[ctx.index]

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return MaxUnpool.apply(g, index=ctx.index, shape=ctx.shape, unique=ctx.unique)
        return _unpool(g, ctx.index, ctx.shape, ctx.unique)


def _windows(x: np.ndarray, geom: Geometry) -> np.ndarray:
    """Every window of x as a row: (N, C, H_out, W_out, kH·kW), padding cells −inf."""
    (kh, kw), (oh, ow), (sh, sw) = geom.kernel, geom.out, geom.stride
    ((pt, pb), (pl, pr)) = geom.padding
    n, c = x.shape[:2]
    if (sh, sw) == (kh, kw) and geom.dilation == (1, 1) and not (pt or pb or pl or pr):
        # windows side by side (the usual pooling): one reshape, one transposing copy
        tiles = x[:, :, :oh * kh, :ow * kw].reshape(n, c, oh, kh, ow, kw)
        return tiles.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
    if pt or pb or pl or pr:  # padding never wins: it is −inf
        x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=-np.inf)
    windows = np.empty((n, c, oh, ow, kh, kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            windows[..., i, j] = x[(slice(None), slice(None)) + geom.window(i, j)]
    return windows.reshape(n, c, oh, ow, kh * kw)


def _flat_index(k: np.ndarray, shape: tuple, geom: Geometry) -> tuple[np.ndarray, bool]:
    """Flat positions in x (of ``shape``) of the window maxima at kernel offsets ``k``, and
    whether no two windows can share one (then backward scatters without adding)."""
    n, c, h, w = shape
    (kh, kw), (sh, sw), (dh, dw), ((pt, _), (pl, _)) = (geom.kernel, geom.stride,
                                                       geom.dilation, geom.padding)
    oh, ow = geom.out
    rows = np.arange(oh)[:, None] * sh + (k // kw) * dh - pt
    cols = np.arange(ow) * sw + (k % kw) * dw - pl
    # a window that is all −inf (or padding) may pick a padding cell: take its nearest pixel
    inside = k.size == 0 or (rows.min() >= 0 and cols.min() >= 0 and rows.max() < h
                             and cols.max() < w)
    rows, cols = np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)
    planes = np.arange(n * c).reshape(n, c, 1, 1) * (h * w)
    disjoint = sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1
    return planes + rows * w + cols, bool(inside and disjoint)


def _unpool(g: np.ndarray, index: np.ndarray, shape: tuple, unique: bool) -> np.ndarray:
    if unique:  # each input cell receives at most one value: a plain assignment
        out = np.zeros(math.prod(shape), dtype=g.dtype)
        out[index.ravel()] = g.ravel()
    else:  # overlapping windows: sum the values that land on one cell (no np.add.at)
        out = np.bincount(index.ravel(), weights=g.ravel(), minlength=math.prod(shape))
        out = out.astype(g.dtype, copy=False)
    return out.reshape(shape)


class MaxUnpool(Function):
    """Zeros of x's shape with each pooled gradient put back at the flat position
    ``index`` its maximum came from (values landing on one cell add up): the adjoint of
    picking ``x.ravel()[index]``, so its backward is that indexing."""

    op, derivatives = "max_unpool2d", ("1 at the window's max",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, g, index, shape, unique):
        ctx.index, ctx.out_shape = index, g.shape
        return _unpool(g, index, shape, unique)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(-1)[ctx.index.ravel()].reshape(ctx.out_shape)


# ----------------------------------------------------------------------------- arguments


def pool_geometry(shape: tuple, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                  ceil_mode: bool, op: str) -> Geometry:
    """The windows of a pooling op, with PyTorch's checks and its ``ceil_mode`` rule (a
    last window is kept only if it starts inside the input or the left padding)."""
    kernel = _ints(kernel_size, 2, "kernel_size", op)
    stride = kernel if stride is None or stride == () else _ints(stride, 2, "stride", op)
    pads, dilation = _ints(padding, 2, "padding", op, 0), _ints(dilation, 2, "dilation", op)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(2 * p > s for p, s in zip(pads, span)):
        raise ValueError(f"{op}: padding {pads} must be at most half the kernel "
                         f"{kernel} (dilated: {span})")
    size, out = tuple(shape[2:]), []
    for n, k, s, p, d in zip(size, kernel, stride, pads, dilation):
        extra = s - 1 if ceil_mode else 0
        o = output_size(n + extra, k, s, 2 * p, d)
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        out.append(o)
    if min(out) < 1:
        raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}) is larger than the padded "
                         f"input {tuple(n + 2 * p for n, p in zip(size, pads))} (input "
                         f"{size}, padding {pads})")
    # bottom/right padding grows to hold ceil_mode's last, partial window
    padding = tuple((p, max(p, (o - 1) * s + sp - n - p))
                    for n, o, s, p, sp in zip(size, out, stride, pads, span))
    return Geometry(size, tuple(out), kernel, stride, padding, dilation)  # type: ignore[arg-type]


def _pool_input(input: Any, op: str) -> Tensor:  # noqa: A002
    x = _float_tensor(input)
    _check_batch(x, 4, op)
    return x


# ----------------------------------------------------------------------------- public API


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    """The maximum of each ``kernel_size`` window of each channel of ``input`` (N, C, H, W);
    ``stride`` defaults to the kernel size (windows side by side). Padding cells are −inf
    (they never win). Ties send the whole gradient to the first maximum, in row-major
    order within the window (PyTorch's rule)."""
    x = _pool_input(input, "max_pool2d")
    geom = pool_geometry(x.shape, kernel_size, stride, padding, dilation, ceil_mode,
                         "max_pool2d")
    return MaxPool2d.apply(x, geom=geom)


def _window_counts(n: int, out: int, k: int, s: int, p: int, with_padding: bool) -> np.ndarray:
    """Per output row, how many cells PyTorch's average divides by: the window clipped to
    the padded input (``count_include_pad``) or to the input itself."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if not with_padding:
        start, end = np.maximum(start, 0), np.minimum(end, n)
    return end - start


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each ``kernel_size`` window of each channel of ``input`` (N, C, H, W);
    ``stride`` defaults to the kernel size. Padding cells are zeros; they count in the
    window's size when ``count_include_pad`` (the default), not otherwise;
    ``divisor_override`` replaces the window's size. Computed as a convolution of every
    channel with a constant kernel (so its backward is a transposed convolution)."""
    x = _pool_input(input, "avg_pool2d")
    geom = pool_geometry(x.shape, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    n, c, h, w = x.shape
    cells = math.prod(geom.kernel)  # kernel 1/cells: means of huge values do not overflow
    kernel = Tensor(np.full((1, 1) + geom.kernel, 1 / cells, dtype=x.dtype))
    means = Conv2d.apply(x.reshape(n * c, 1, h, w), kernel, None, geom=geom)
    means = means.reshape(n, c, *geom.out)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int) \
                or divisor_override == 0:
            raise ValueError(f"avg_pool2d: divisor_override must be a non-zero int, got "
                             f"{divisor_override!r}")
        return means * (cells / divisor_override)
    pads = _ints(padding, 2, "padding", "avg_pool2d", 0)
    rows, cols = (_window_counts(size, o, k, s, p, count_include_pad) for size, o, k, s, p in
                  zip(geom.size, geom.out, geom.kernel, geom.stride, pads))
    counts = rows[:, None] * cols
    if (counts == cells).all():  # every window whole: the means are done
        return means
    return means * (cells / counts).astype(x.dtype)


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling to a given ``output_size`` (an int, or a pair whose None entries
    keep that axis): output cell i averages rows ⌊i·H/oh⌋ … ⌈(i+1)·H/oh⌉ − 1 (PyTorch's
    windows). ``output_size=1`` is global average pooling. When the sizes divide evenly
    it is :func:`avg_pool2d`; otherwise it is ``A_h @ x @ A_wᵀ`` with averaging matrices."""
    x = _pool_input(input, "adaptive_avg_pool2d")
    sizes = (output_size,) * 2 if output_size is None or isinstance(output_size, int) \
        else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got "
                         f"{output_size!r}")
    out = tuple(n if o is None else o for n, o in zip(x.shape[2:], sizes))
    if any(isinstance(o, bool) or not isinstance(o, int) or o < 1 for o in out):
        raise ValueError(f"adaptive_avg_pool2d: output_size must hold positive ints (or None), "
                         f"got {output_size!r}")
    (h, w), (oh, ow) = x.shape[2:], out
    if out == (1, 1):  # global average pooling (scaled first: no overflow near the max)
        return (x * (1 / (h * w))).sum(axis=(2, 3), keepdims=True)
    if h % oh == 0 and w % ow == 0:
        return avg_pool2d(x, (h // oh, w // ow))
    rows, cols = _averaging_matrix(h, oh, x.dtype), _averaging_matrix(w, ow, x.dtype)
    return Tensor(rows) @ x @ Tensor(cols.T)


def _averaging_matrix(n: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, n): row i averages cells ⌊i·n/out⌋ … ⌈(i+1)·n/out⌉ − 1."""
    i = np.arange(out)
    start, end = (i * n) // out, -((-(i + 1) * n) // out)
    cells = np.arange(n)
    inside = (cells >= start[:, None]) & (cells < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def interpolate(input: Any, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest") -> Tensor:
    """Resize the spatial axes of ``input`` (N, C, L), (N, C, H, W) or more to ``size``, or
    by ``scale_factor``, with nearest-neighbour sampling: output cell i reads input cell
    ⌊i·n/out⌋ (⌊i/scale⌋ when ``scale_factor`` is given; PyTorch's 'nearest'). Integer
    factors are a broadcast (each value repeated), whose backward sums the copies."""
    if mode != "nearest":
        raise ValueError(f"interpolate: only mode='nearest' is implemented, got {mode!r}")
    x = _float_tensor(input)
    if x.ndim < 3:
        raise ValueError(f"interpolate: expected (N, C, ...) input with at least one spatial "
                         f"axis, got shape {x.shape}")
    spatial = x.shape[2:]
    k = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        out = _ints(size, k, "size", "interpolate")
        scales = [n / o for n, o in zip(spatial, out)]
    else:
        factors = (scale_factor,) * k if isinstance(scale_factor, (int, float)) \
            else tuple(scale_factor)
        if len(factors) != k or any(not f > 0 for f in factors):
            raise ValueError(f"interpolate: scale_factor must be a positive number or {k} of "
                             f"them, got {scale_factor!r}")
        out = tuple(int(math.floor(n * f)) for n, f in zip(spatial, factors))
        scales = [1 / f for f in factors]
    if all(o % n == 0 and math.isclose(s, n / o) for n, o, s in zip(spatial, out, scales)):
        return _repeat(x, [o // n for n, o in zip(spatial, out)])
    for axis, (n, o, s) in enumerate(zip(spatial, out, scales), start=2):
        source = np.minimum(np.floor(np.arange(o) * s).astype(np.int64), n - 1)
        x = x[(slice(None),) * axis + (source,)]
    return x


def _repeat(x: Tensor, factors: list[int]) -> Tensor:
    """Each spatial cell repeated ``factors`` times along its axis, as one broadcast."""
    lead = x.shape[:2]
    spread = lead + tuple(v for n in x.shape[2:] for v in (n, 1))
    wide = lead + tuple(v for n, f in zip(x.shape[2:], factors) for v in (n, f))
    return x.reshape(*spread).broadcast_to(wide).reshape(
        *lead, *(n * f for n, f in zip(x.shape[2:], factors)))


def upsample(input: Any, size: Any = None, scale_factor: Any = None,  # noqa: A002
             mode: str = "nearest") -> Tensor:
    """:func:`interpolate` (PyTorch's older name)."""
    return interpolate(input, size, scale_factor, mode)
