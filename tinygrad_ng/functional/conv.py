"""Convolutions over NCHW batches: ``conv2d``, ``conv1d``, ``conv_transpose2d``.

In the course's notation a convolution layer slides f × f filters over an
n_H × n_W × n_C volume with padding p and stride s, giving an output of
⌊(n + 2p − f)/s⌋ + 1 rows and columns. Here, as in PyTorch, a batch is
``(N, C, H, W)`` (the course's ``(m, n_H, n_W, n_C)`` with the channels moved before
the rows) and the filters are ``weight`` of shape ``(C_out, C_in/groups, kH, kW)``.

How it is computed (im2col): for each of the kH·kW kernel positions one strided slice of
the padded input is copied into a column buffer, so the whole convolution is ONE matrix
product ``W (C_out, C_in·kH·kW) @ cols (C_in·kH·kW, N·H_out·W_out)`` (one per group).
The loops run over the kernel's positions (16 for a 4 × 4 kernel), never over the
output's pixels.

A convolution is bilinear in its input x and its weight W, so its two gradients are the
two adjoint maps, and those are themselves convolutions:

- ∂/∂x: ``conv_transpose2d(g, W)`` (col2im of ``Wᵀ @ g``: the transposed convolution);
- ∂/∂W: ``conv2d_weight(x, g)``, the correlation of x with g (``g @ colsᵀ``).

Each of the three is one :class:`~tinygrad_ng.Function` whose backward calls the other
two, so the set is closed under differentiation: ``tg.grad(..., create_graph=True)``
differentiates a convolution's gradient again, to any order.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._common import _float_tensor

IntPair = tuple[int, int]


@dataclass(frozen=True)
class Geometry:
    """Where a convolution's windows lie: the spatial sizes of its input x (``size``) and
    output y (``out``), the kernel, stride, padding ((top, bottom), (left, right)),
    dilation and groups. The three convolution ops of one layer share it."""

    size: IntPair
    out: IntPair
    kernel: IntPair
    stride: IntPair = (1, 1)
    padding: tuple[IntPair, IntPair] = ((0, 0), (0, 0))
    dilation: IntPair = (1, 1)
    groups: int = 1

    def window(self, i: int, j: int) -> tuple[slice, slice]:
        """The rows and columns of the padded input that kernel position (i, j) meets, one
        per output pixel: a strided slice (rows i·d, i·d + s, …)."""
        (sh, sw), (dh, dw), (oh, ow) = self.stride, self.dilation, self.out
        return (slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))

    def padded(self) -> IntPair:
        (h, w), ((pt, pb), (pl, pr)) = self.size, self.padding
        return h + pt + pb, w + pl + pr


def output_size(n: int, kernel: int, stride: int, pad: int, dilation: int = 1) -> int:
    """⌊(n + 2p − d·(f − 1) − 1)/s⌋ + 1 (the course's ⌊(n + 2p − f)/s⌋ + 1 when d = 1);
    ``pad`` is the total padding of the axis (both sides)."""
    return (n + pad - dilation * (kernel - 1) - 1) // stride + 1


# ----------------------------------------------------------------------------- the kernels
# On arrays, in NCHW. The batch is processed a few images at a time: each chunk is copied
# into a zero-padded buffer (its border zeroed once per call), then its column buffer
# (n, C, kH, kW, H_out, W_out) is filled by ONE copy from a strided view of every window,
# and one matrix product per chunk reads it while it is still in the cache (a whole
# batch's column buffer is 9-16× the input: writing it out to memory and reading it back
# doubled the time of a convolution). Both buffers are allocated once per call.

#: Elements of the column buffer per chunk of the batch.
CHUNK = 2**17


def _chunks(n: int, geom: Geometry, channels: int) -> list[slice]:
    """The batch cut into slices whose column buffers hold about CHUNK elements."""
    per_image = channels * math.prod(geom.kernel) * math.prod(geom.out)
    step = max(1, CHUNK // max(per_image, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


class _Columns:
    """im2col for one call on x (N, C, H, W): ``of(s)`` gives chunk s's columns (n,
    groups, C/groups·kH·kW, H_out·W_out), each kernel position's window of every input
    channel in one row, the output pixels along it. A 1 × 1 kernel with stride 1 and no
    padding reads x itself (no copy)."""

    def __init__(self, x: np.ndarray, geom: Geometry, chunks: list[slice], dtype: Any) -> None:
        self.x, self.geom = x, geom
        (kh, kw), (oh, ow), c = geom.kernel, geom.out, x.shape[1]
        padded = any(p for pair in geom.padding for p in pair)
        self.direct = (kh, kw) == (1, 1) and geom.stride == (1, 1) and not padded
        self.interior = None  # where a chunk goes inside the zero border, if padded
        self.views: dict[int, tuple] = {}
        if self.direct:
            return
        chunk = max((s.stop - s.start for s in chunks), default=0)
        self.cols = np.empty((chunk, c, kh, kw, oh, ow), dtype=dtype)
        if padded:  # each chunk is copied inside a zero border, zeroed once here
            pad = np.zeros((chunk, c) + geom.padded(), dtype=x.dtype)
            ((pt, _), (pl, _)), (h, w) = geom.padding, geom.size
            self.interior = pad[:, :, pt:pt + h, pl:pl + w]
            self.windows = _windows(pad, geom)
        else:
            self.windows = _windows(x, geom)

    def of(self, s: slice) -> np.ndarray:
        n, (g, c) = s.stop - s.start, (self.geom.groups, self.x.shape[1])
        if self.direct:
            return self.x[s].reshape(n, g, c // g, -1)
        if n not in self.views:  # the views of an n-image chunk, made once (~1 ms a call)
            cols = self.cols[:n]
            self.views[n] = (cols, cols.reshape(n, g, -1, math.prod(self.geom.out)),
                             None if self.interior is None else self.interior[:n],
                             None if self.interior is None else self.windows[:n])
        cols, matrices, interior, windows = self.views[n]
        if interior is not None:
            interior[...] = self.x[s]
        np.copyto(cols, self.windows[s] if windows is None else windows)
        return matrices


def _windows(xp: np.ndarray, geom: Geometry, writeable: bool = False) -> np.ndarray:
    """Every window of a padded batch xp (n, C, H', W') as a strided view (n, C, kH, kW,
    H_out, W_out): [..., i, j, h, w] = xp[..., s·h + d·i, s·w + d·j]. No copy; windows
    overlap, so a write through it must take one kernel position (i, j) at a time."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = geom.kernel, geom.stride, geom.dilation, geom.out
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    views = np.lib.stride_tricks.sliding_window_view(xp, span, axis=(2, 3),
                                                    writeable=writeable)
    return views[:, :, :sh * (oh - 1) + 1:sh, :sw * (ow - 1) + 1:sw, ::dh, ::dw].transpose(
        0, 1, 4, 5, 2, 3)


def _conv_forward(x: np.ndarray, w: np.ndarray, geom: Geometry) -> np.ndarray:
    """y = conv(x, W): per chunk of the batch, the weight of each group times the chunk's
    columns, written straight into the output."""
    n, g = x.shape[0], geom.groups
    wg = w.reshape(g, w.shape[0] // g, -1)
    dtype = np.result_type(x, w)
    y = np.empty((n, w.shape[0]) + geom.out, dtype=dtype)
    chunks = _chunks(n, geom, x.shape[1])
    columns = _Columns(x, geom, chunks, dtype)
    for s in chunks:
        out = y[s].reshape(s.stop - s.start, g, wg.shape[1], -1)  # (n, groups, C_out/g, HW)
        np.matmul(wg, columns.of(s), out=out)
    return y


def _conv_input_grad(y: np.ndarray, w: np.ndarray, geom: Geometry) -> np.ndarray:
    """conv_transpose(y, W), the adjoint of conv(·, W). For stride 1 it is itself a
    convolution (faster: im2col's copies instead of col2im's sums), else col2im."""
    flipped = _as_stride1_conv(geom)
    if flipped is not None:
        return _conv_forward(y, _flip(w, geom.groups), flipped)
    return _col2im_input_grad(y, w, geom)


def _col2im_input_grad(y: np.ndarray, w: np.ndarray, geom: Geometry) -> np.ndarray:
    """conv_transpose(y, W) as col2im of Wᵀ @ y, for any stride: per chunk, the columns
    Wᵀ @ y are added back, one kernel position at a time, to the input pixels they came
    from (a strided slice of a zero-padded buffer), and the padding is cut off."""
    n, g = y.shape[0], geom.groups
    wt = w.reshape(g, w.shape[0] // g, -1).transpose(0, 2, 1)
    c, (kh, kw), (h, w_) = w.shape[1] * g, geom.kernel, geom.size
    ((pt, _), (pl, _)) = geom.padding
    x = np.empty((n, c) + geom.size, dtype=np.result_type(y, w))
    for s in _chunks(n, geom, c):
        m = s.stop - s.start
        cols = np.matmul(wt, y[s].reshape(m, g, y.shape[1] // g, -1))
        cols = cols.reshape((m, c, kh, kw) + geom.out)
        buf = np.zeros((m, c) + geom.padded(), dtype=x.dtype)
        windows = _windows(buf, geom, writeable=True)  # adding into it adds into buf
        for i in range(kh):
            for j in range(kw):
                windows[:, :, i, j] += cols[:, :, i, j]
        x[s] = buf[:, :, pt:pt + h, pl:pl + w_]
    return x


def _as_stride1_conv(geom: Geometry) -> Geometry | None:
    """For a stride-1 conv, the geometry of the convolution that computes its adjoint: y
    padded by d·(k − 1) − p on each side, correlated with the flipped kernel (a "full"
    convolution). None when that padding would be negative (a padding wider than the
    kernel) or the stride is not 1."""
    if geom.stride != (1, 1):
        return None
    pads = tuple((d * (k - 1) - a, d * (k - 1) - b)
                 for k, d, (a, b) in zip(geom.kernel, geom.dilation, geom.padding))
    if min(min(p) for p in pads) < 0:
        return None
    return Geometry(geom.out, geom.size, geom.kernel, (1, 1), pads,  # type: ignore[arg-type]
                    geom.dilation, geom.groups)


def _flip(w: np.ndarray, groups: int) -> np.ndarray:
    """W (C_out, C_in/g, kH, kW) → the kernel of its adjoint, (C_in, C_out/g, kH, kW),
    rotated by 180°: in each group, input and output channels swap."""
    o, cg, kh, kw = w.shape
    swapped = w.reshape(groups, o // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4)
    return np.ascontiguousarray(swapped.reshape(groups * cg, o // groups, kh, kw)[:, :, ::-1,
                                                                                  ::-1])


def _conv_weight_grad(x: np.ndarray, y: np.ndarray, geom: Geometry) -> np.ndarray:
    """conv2d_weight(x, y) = Σ over the batch of y @ colsᵀ (the adjoint of conv(x, ·)),
    (C_out, C_in/groups, kH, kW)."""
    g, dtype = geom.groups, np.result_type(x, y)
    dwt = np.zeros((g, x.shape[1] // g * math.prod(geom.kernel), y.shape[1] // g), dtype)
    chunks = _chunks(x.shape[0], geom, x.shape[1])
    columns = _Columns(x, geom, chunks, dtype)
    for s in chunks:  # dWᵀ = cols @ yᵀ: BLAS is ~1/3 faster that way than dW = y @ colsᵀ
        ys = y[s].reshape(s.stop - s.start, g, y.shape[1] // g, -1)
        for image in np.matmul(columns.of(s), ys.transpose(0, 1, 3, 2)):
            dwt += image  # (a reduction over n = 1 or 2 images cost 3 µs more)
    return dwt.transpose(0, 2, 1).reshape((y.shape[1], x.shape[1] // g) + geom.kernel)


# ----------------------------------------------------------------------------- the ops
# Each backward calls the other ops through these three, which run the kernel on arrays
# and record the op on Tensors (tg.grad(..., create_graph=True)).


def _run(op: type[Function], kernel: Any, a: Any, b: Any, geom: Geometry) -> Any:
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        a, b = (t if isinstance(t, Tensor) else Tensor(t) for t in (a, b))
        return op.apply(a, b, None, geom=geom)
    return kernel(a, b, geom)


def _conv(x: Any, w: Any, geom: Geometry) -> Any:
    return _run(Conv2d, _conv_forward, x, w, geom)


def _conv_transpose(y: Any, w: Any, geom: Geometry) -> Any:
    return _run(ConvTranspose2d, _conv_input_grad, y, w, geom)


def _conv_weight(x: Any, y: Any, geom: Geometry) -> Any:
    return _run(Conv2dWeight, _conv_weight_grad, x, y, geom)


def _channel_sums(g: Any) -> Any:
    """∂J/∂b of a per-channel bias: g summed over the batch and the pixels."""
    return g.sum(axis=(0, 2, 3))


class _Convolution(Function):
    """What Conv2d and ConvTranspose2d share: out = kernel(a, W) + b, bilinear in (a, W),
    with a kept for dW and W for da."""

    twice_differentiable = True
    kernel: Any = None  # the array kernel, (a, W, geometry) → output

    @staticmethod
    def forward(ctx, a, w, b, geom):
        need_a, need_w, _ = ctx.needs_input_grad
        ctx.save_for_backward(a if need_w else None, w if need_a else None)
        ctx.geom = geom
        out = type(ctx).kernel(a, w, geom)
        if b is not None:
            out += b.reshape(-1, 1, 1).astype(out.dtype, copy=False)
        return out


class Conv2d(_Convolution):
    """y = conv(x, W) + b: y[n, o] = Σ_c Σ_(i,j) W[o, c, i, j] · x_pad[n, c, s·h + d·i, s·w + d·j]
    (a cross-correlation, as in every deep-learning library and the course).

    Backward, with g = ∂J/∂y: dx = conv_transpose2d(g, W), dW = conv2d_weight(x, g),
    db = Σ over n, h, w of g.
    """

    op, inputs = "conv2d", ("x", "W", "b")
    derivatives = ("convᵀ(·, W)", "x ⋆ · (correlation)", "Σ over N, H, W")
    kernel = staticmethod(_conv_forward)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        return (_conv_transpose(g, w, ctx.geom) if need_x else None,
                _conv_weight(x, g, ctx.geom) if need_w else None,
                _channel_sums(g) if need_b else None)


class ConvTranspose2d(_Convolution):
    """x = convᵀ(y, W) + b, the adjoint of ``conv(·, W)``: every input pixel y[n, o, h, w]
    adds W[o, c] · y[n, o, h, w] to the output window it would have come from (the
    "deconvolution" of a U-Net's upsampling path).

    Backward: dy = conv2d(g, W), dW = conv2d_weight(g, y), db = Σ over n, h, w of g.
    """

    op, inputs = "conv_transpose2d", ("y", "W", "b")
    derivatives = ("conv(·, W)", "· ⋆ y (correlation)", "Σ over N, H, W")
    kernel = staticmethod(_conv_input_grad)

    @staticmethod
    def backward(ctx, g):
        y, w = ctx.saved_tensors
        need_y, need_w, need_b = ctx.needs_input_grad
        return (_conv(g, w, ctx.geom) if need_y else None,
                _conv_weight(g, y, ctx.geom) if need_w else None,
                _channel_sums(g) if need_b else None)


class Conv2dWeight(Function):
    """dW = conv2d_weight(x, y): dW[o, c, i, j] = Σ_(n,h,w) y[n, o, h, w] ·
    x_pad[n, c, s·h + d·i, s·w + d·j], the correlation of a conv's input with its output
    gradient (PyTorch's ``torch.nn.grad.conv2d_weight``). Bilinear too; backward, with
    G = ∂J/∂dW: dx = conv_transpose2d(y, G), dy = conv2d(x, G)."""

    op, inputs = "conv2d_weight", ("x", "y")
    derivatives = ("convᵀ(y, ·)", "conv(x, ·)")
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, y, b, geom):  # (b: always None, so the three ops share _run)
        ctx.save_for_backward(x, y)
        ctx.geom = geom
        return _conv_weight_grad(x, y, geom)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need_x, need_y, _ = ctx.needs_input_grad
        return (_conv_transpose(y, g, ctx.geom) if need_x else None,
                _conv(x, g, ctx.geom) if need_y else None, None)


# ----------------------------------------------------------------------------- arguments


def _ints(v: Any, n: int, name: str, op: str, low: int = 1) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints, each ≥ ``low``, as an n-tuple."""
    items = (v,) * n if isinstance(v, numbers.Integral) else tuple(v) \
        if isinstance(v, (tuple, list)) else None
    if (items is None or len(items) != n or any(isinstance(i, bool) or
                                                not isinstance(i, numbers.Integral) or i < low
                                                for i in items)):
        raise ValueError(f"{op}: {name} must be an int ≥ {low} or {n} of them, got {v!r}")
    return tuple(int(i) for i in items)


def _check_batch(x: Tensor, ndim: int, op: str) -> None:
    if x.ndim == ndim:
        return
    layout = "(N, C, H, W)" if ndim == 4 else "(N, C, L)"
    hint = (f"; for a single example add the batch axis: x.unsqueeze(0) (shape "
            f"{(1, *x.shape)})" if x.ndim == ndim - 1 else "")
    raise ValueError(f"{op}: expected a {ndim}-D input {layout}, got shape {x.shape}{hint}")


def _padding(padding: Any, kernel: IntPair, dilation: IntPair, stride: IntPair,
             op: str) -> tuple[IntPair, IntPair]:
    """((top, bottom), (left, right)) from an int, a pair, 'valid' or 'same' (PyTorch's
    'same': total d·(f − 1) per axis, the odd one extra on the bottom/right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got "
                             f"{padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1 (got stride {stride}): the "
                             "output could not keep the input's size")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)  # type: ignore[return-value]
    ph, pw = _ints(padding, 2, "padding", op, low=0)
    return (ph, ph), (pw, pw)


def conv_geometry(x_shape: tuple, w_shape: tuple, stride: Any = 1, padding: Any = 0,
                  dilation: Any = 1, groups: int = 1, op: str = "conv2d") -> Geometry:
    """Check a conv2d's arguments against each other and return its :class:`Geometry`;
    each mistake gets an error that names it."""
    stride, dilation = _ints(stride, 2, "stride", op), _ints(dilation, 2, "dilation", op)
    (groups,) = _ints(groups, 1, "groups", op)
    if len(w_shape) != 4:
        raise ValueError(f"{op}: weight must be 4-D (C_out, C_in/groups, kH, kW), got shape "
                         f"{w_shape}")
    c_out, c_in_g, kh, kw = w_shape
    c_in = x_shape[1]
    if c_in % groups or c_out % groups:
        raise ValueError(f"{op}: groups={groups} must divide both the input channels ({c_in}) "
                         f"and the output channels ({c_out})")
    if c_in != c_in_g * groups:
        raise ValueError(f"{op}: input has {c_in} channels, weight expects {c_in_g * groups} "
                         f"(weight {w_shape} with groups={groups}: C_in = {c_in_g}·{groups})")
    kernel = (kh, kw)
    pads = _padding(padding, kernel, dilation, stride, op)
    size = tuple(x_shape[2:])
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = tuple(n + a + b for n, (a, b) in zip(size, pads))
    if any(s > p for s, p in zip(span, padded)):
        raise ValueError(f"{op}: kernel {kh}×{kw} (spanning {span[0]}×{span[1]} with dilation "
                         f"{dilation}) is larger than the padded input {padded[0]}×{padded[1]} "
                         f"(input {size[0]}×{size[1]}, padding {pads})")
    out = tuple(output_size(n, k, s, a + b, d)
                for n, k, s, (a, b), d in zip(size, kernel, stride, pads, dilation))
    return Geometry(size, out, kernel, stride, pads, dilation, groups)  # type: ignore[arg-type]


def _bias(bias: Any, n: int, op: str) -> Tensor | None:
    if bias is None:
        return None
    b = _float_tensor(bias)
    if b.shape != (n,):
        raise ValueError(f"{op}: bias has shape {b.shape}, expected ({n},) (one per output "
                         "channel)")
    return b


# ----------------------------------------------------------------------------- public API


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of a batch ``input`` (N, C_in, H, W) with
    ``weight`` (C_out, C_in/groups, kH, kW), plus ``bias`` (C_out,); PyTorch's arguments.

    ``padding``: an int, a pair (rows, columns), ``"valid"`` (no padding) or ``"same"``
    (the output keeps the input's size; stride 1 only). The output has
    ``⌊(H + 2p − d·(kH − 1) − 1)/s⌋ + 1`` rows (the course's ⌊(n + 2p − f)/s⌋ + 1), and
    the same rule for the columns. ``groups`` splits the channels into independent
    convolutions (``groups = C_in``: a depthwise convolution).
    """
    x, w = _float_tensor(input), _float_tensor(weight)
    _check_batch(x, 4, "conv2d")
    geom = conv_geometry(x.shape, w.shape, stride, padding, dilation, groups)
    return Conv2d.apply(x, w, _bias(bias, w.shape[0], "conv2d"), geom=geom)


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution of ``input`` (N, C_in, L) with ``weight`` (C_out, C_in/groups, k):
    :func:`conv2d` on a single row (``padding``: an int, ``"valid"`` or ``"same"``)."""
    x, w = _float_tensor(input), _float_tensor(weight)
    _check_batch(x, 3, "conv1d")
    if w.ndim != 3:
        raise ValueError(f"conv1d: weight must be 3-D (C_out, C_in/groups, k), got shape "
                         f"{w.shape}")
    row = padding if isinstance(padding, str) else (0, *_ints(padding, 1, "padding", "conv1d", 0))
    x4 = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])  # (N, C, 1, L): one row
    w4 = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2])
    geom = conv_geometry(x4.shape, w4.shape, (1, *_ints(stride, 1, "stride", "conv1d")), row,
                         (1, *_ints(dilation, 1, "dilation", "conv1d")), groups, "conv1d")
    y = Conv2d.apply(x4, w4, _bias(bias, w.shape[0], "conv1d"), geom=geom)
    return y.reshape(y.shape[0], y.shape[1], y.shape[3])


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed convolution (PyTorch's argument order): the adjoint of :func:`conv2d`,
    which maps an (N, C_in, H, W) batch to (N, C_out, H', W') with
    ``H' = (H − 1)·s − 2p + d·(kH − 1) + output_padding + 1``.

    ``weight`` has shape (C_in, C_out/groups, kH, kW), the shape of the conv2d weight it
    transposes; ``output_padding`` (< stride) adds rows/columns at the bottom/right, to
    pick among the input sizes that a strided conv2d maps to the same output size.
    """
    op = "conv_transpose2d"
    y, w = _float_tensor(input), _float_tensor(weight)
    _check_batch(y, 4, op)
    stride, dilation = _ints(stride, 2, "stride", op), _ints(dilation, 2, "dilation", op)
    pads, extra = _ints(padding, 2, "padding", op, 0), _ints(output_padding, 2,
                                                              "output_padding", op, 0)
    if any(e >= s for e, s in zip(extra, stride)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than the stride "
                         f"{stride}")
    if w.ndim != 4:
        raise ValueError(f"{op}: weight must be 4-D (C_in, C_out/groups, kH, kW), got shape "
                         f"{w.shape}")
    if y.shape[1] != w.shape[0]:
        raise ValueError(f"{op}: input has {y.shape[1]} channels, weight expects {w.shape[0]} "
                         f"(weight shape (C_in, C_out/groups, kH, kW) = {w.shape})")
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1 for n, s, p, d, k, e in
                 zip(y.shape[2:], stride, pads, dilation, w.shape[2:], extra))
    if min(size) < 1:
        raise ValueError(f"{op}: the output would be {size[0]}×{size[1]}: padding {pads} is "
                         f"too large for input {y.shape[2:]} and kernel {w.shape[2:]}")
    x_shape = (y.shape[0], w.shape[1] * groups) + size
    geom = conv_geometry(x_shape, w.shape, stride, pads, dilation, groups, op)
    b = _bias(bias, w.shape[1] * groups, op)
    return ConvTranspose2d.apply(y, w, b, geom=geom)
