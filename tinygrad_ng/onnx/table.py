"""The op-mapping table: each of the library's ops as ONNX ops, one small entry per op.

A new op adds one entry here: a line in ``_ELEMENTWISE``/``_UNARY`` when it is one ONNX op
of the same name, else a function decorated with ``@register(TheFunction)`` (see
:mod:`tinygrad_ng.onnx.graph` for what ``g``, ``ctx`` and the inputs are).
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import ops
from ..function import Identity
from .graph import ExportError, OnnxGraph, register, tensor_type

_INT64_MAX, _INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min


def _in_output_dtype(g: OnnxGraph, *inputs: str | None) -> list[str | None]:
    """The inputs cast to the output's dtype (absent optional inputs, None, kept)."""
    return [None if x is None else g.cast(x, g.output.dtype) for x in inputs]


def _elementwise(op_type: str):
    """An ONNX op over same-typed inputs (ONNX never promotes: inputs are cast to the
    output's dtype, as NumPy promoted them)."""
    def convert(g: OnnxGraph, ctx, *inputs: str) -> str:
        return g.op(op_type, *_in_output_dtype(g, *inputs))
    return convert


def _unary(op_type: str):
    def convert(g: OnnxGraph, ctx, x: str) -> str:
        return g.op(op_type, x)
    return convert


_ELEMENTWISE = {ops.Add: "Add", ops.Sub: "Sub", ops.Mul: "Mul", ops.Div: "Div",
                ops.Pow: "Pow", ops.MatMul: "MatMul", ops.Maximum: "Max", ops.Minimum: "Min"}
_UNARY = {ops.Neg: "Neg", ops.Exp: "Exp", ops.Log: "Log", ops.Sqrt: "Sqrt", ops.Abs: "Abs",
          F.Sigmoid: "Sigmoid", F.Tanh: "Tanh", F.ReLU: "Relu", Identity: "Identity"}
for _cls, _op_type in _ELEMENTWISE.items():
    register(_cls, _elementwise(_op_type))
for _cls, _op_type in _UNARY.items():
    register(_cls, _unary(_op_type))


# ----------------------------------------------------------------------------- elementwise
@register(ops.Square)
def _square(g, ctx, x):
    return g.op("Mul", x, x)


@register(ops.Clip)
def _clip(g, ctx, x):
    dt = g.dtype(x)
    lo, hi = (None if v is None else g.const(np.asarray(v, dt)) for v in (ctx.lo, ctx.hi))
    return g.op("Clip", x, lo, hi)


@register(ops.Cast)
def _cast(g, ctx, x):
    return g.op("Cast", x, to=tensor_type(g.output.dtype))


@register(ops.Where)
def _where(g, ctx, a, b, cond):
    dt = g.output.dtype
    return g.op("Where", g.const(cond), g.cast(a, dt), g.cast(b, dt))


@register(F.LeakyReLU)
def _leaky_relu(g, ctx, z):
    return g.op("LeakyRelu", z, alpha=float(ctx.slope))


@register(F.Softmax)
def _softmax(g, ctx, z):
    return g.op("Softmax", z, axis=int(ctx.axis))


@register(F.LogSoftmax)
def _log_softmax(g, ctx, z):
    return g.op("LogSoftmax", z, axis=int(ctx.axis))


# ----------------------------------------------------------------------------- reductions
def _reduction(op_type: str):
    def convert(g: OnnxGraph, ctx, x: str) -> str:
        return g.reduce(op_type, x, ctx.axis, ctx.keepdims)
    return convert


for _cls, _op_type in {ops.Sum: "ReduceSum", ops.Mean: "ReduceMean", ops.Max: "ReduceMax",
                       ops.Min: "ReduceMin", ops.LogSumExp: "ReduceLogSumExp"}.items():
    register(_cls, _reduction(_op_type))


@register(ops.Var)
def _var(g, ctx, x):
    """mean((x − x̄)²), times n/(n − ddof) for ``ddof`` > 0 (n: values per result)."""
    centred = g.op("Sub", x, g.reduce("ReduceMean", x, ctx.axis, True))
    squares = g.op("Mul", centred, centred)
    ddof = ctx.kwargs.get("ddof", 0)
    if not ddof:
        return g.reduce("ReduceMean", squares, ctx.axis, ctx.keepdims)
    n_minus_ddof = 2.0 / ctx.scale
    total = g.reduce("ReduceSum", squares, ctx.axis, ctx.keepdims)
    return g.op("Div", total, g.const(np.asarray(n_minus_ddof, g.dtype(x))))


# ----------------------------------------------------------------------------- shapes
@register(ops.Reshape)
def _reshape(g, ctx, x):
    """Leading axes kept from the input are written as 0 ("copy this axis") and the next
    axis as -1 ("the rest"), so ``flatten(1)`` of an ``(m, C, H, W)`` batch, or
    ``(m, L, n)`` → ``(m·L, n)``, works for any batch size m. (Export's second trace
    catches a reshape whose other axes depend on the batch size.)"""
    shape = list(g.output.shape)
    copied = 0
    for n_in, n_out in zip(g.shape(x), shape):
        if n_in != n_out:
            break
        copied += 1
    shape[:copied] = [0] * copied
    if copied < len(shape) and 0 not in g.output.shape:
        shape[copied] = -1
    return g.op("Reshape", x, g.int64s(shape))


@register(ops.Transpose)
def _transpose(g, ctx, x):
    return g.op("Transpose", x, perm=[int(a) for a in ctx.axes])


@register(ops.BroadcastTo)
def _broadcast_to(g, ctx, x):
    """Expand broadcasts both ways: an axis the input already has at full size is written
    as 1, so it follows the input (e.g. a dynamic batch axis)."""
    target = list(g.output.shape)
    before = g.shape(x)
    for i in range(1, len(before) + 1):
        if before[-i] == target[-i]:
            target[-i] = 1
    return g.op("Expand", x, g.int64s(target))


@register(ops.Concatenate)
def _concatenate(g, ctx, *xs):
    return g.op("Concat", *(g.cast(x, g.output.dtype) for x in xs), axis=int(ctx.axis))


@register(ops.Stack)
def _stack(g, ctx, *xs):
    axis = g.int64s([ctx.axis])
    parts = [g.op("Unsqueeze", g.cast(x, g.output.dtype), axis) for x in xs]
    return g.op("Concat", *parts, axis=int(ctx.axis))


@register(ops.Index)
def _getitem(g, ctx, x):
    """``x[index]``: ints, slices, ``None`` and ``...`` (Slice, Squeeze, Unsqueeze), or one
    integer array on one axis (Gather)."""
    items = _expand_ellipsis(ctx.index, len(g.shape(x)))
    arrays = [i for i, it in enumerate(items) if isinstance(it, np.ndarray)]
    if not arrays:
        return _basic_index(g, x, items)
    k = arrays[0] if len(arrays) == 1 else None
    if k is not None and items[k].dtype.kind in "iu" and all(
            isinstance(it, slice) and it == slice(None) for i, it in enumerate(items) if i != k):
        return g.op("Gather", x, g.const(items[k].astype(np.int64)), axis=k)
    raise ExportError(f"{g.where}: indexing with {ctx.index!r} cannot be exported: only ints, "
                      "slices, None, ... and one integer array with full slices elsewhere "
                      "map to ONNX (a boolean mask selects a data-dependent number of values)")


def _expand_ellipsis(index, ndim: int) -> list:
    items = list(index) if isinstance(index, tuple) else [index]
    if any(it is Ellipsis for it in items):
        at = next(i for i, it in enumerate(items) if it is Ellipsis)
        used = sum(1 for it in items if it is not None and it is not Ellipsis)
        items[at:at + 1] = [slice(None)] * (ndim - used)
    return items


def _basic_index(g: OnnxGraph, x: str, items: list) -> str:
    bounds, dropped, added = [], [], []  # (axis, start, stop, step) of each real slice
    axis = out_axis = 0
    for it in items:
        if it is None:  # a new axis of length 1 at this place in the result
            added.append(out_axis)
            out_axis += 1
            continue
        if isinstance(it, slice):
            step = 1 if it.step is None else int(it.step)
            first = (0 if step > 0 else _INT64_MAX) if it.start is None else int(it.start)
            stop = (_INT64_MAX if step > 0 else _INT64_MIN) if it.stop is None else int(it.stop)
            out_axis += 1
        else:  # an int: slice [i, i + 1) and drop the axis
            first = int(it)
            stop, step = (first + 1 if first != -1 else _INT64_MAX), 1
            dropped.append(axis)
        if (first, stop, step) != (0, _INT64_MAX, 1):
            bounds.append((axis, first, stop, step))
        axis += 1
    out = x
    if bounds:
        axes, starts, stops, steps = zip(*bounds)
        out = g.op("Slice", out, g.int64s(starts), g.int64s(stops), g.int64s(axes),
                   g.int64s(steps))
    if dropped:
        out = g.op("Squeeze", out, g.int64s(dropped))
    if added:
        out = g.op("Unsqueeze", out, g.int64s(added))
    return out if out is not x else g.op("Identity", x)


# ----------------------------------------------------------------------------- layers
@register(F.Linear)
def _linear(g, ctx, x, w, b):
    """Gemm(x, W, b, transB=1) for a 2-D batch; MatMul(x, Wᵀ) (+ b) for more axes."""
    x, w, b = _in_output_dtype(g, x, w, b)
    if len(g.shape(x)) == 2:
        return g.op("Gemm", x, w, b, transB=1)
    z = g.op("MatMul", x, g.op("Transpose", w, perm=[1, 0]))
    return z if b is None else g.op("Add", z, b)


@register(F.BatchNorm)
def _batch_norm(g, ctx, x, gamma, beta):
    stats = ctx.kwargs.get("stats")
    if stats is None:
        raise ExportError(f"{g.where}: batch_norm in training mode (batch statistics) cannot "
                          "be exported; export() puts nn modules in eval mode, so this is a "
                          "direct F.batch_norm(..., training=True) call: pass training=False")
    dt, channels = g.dtype(x), g.shape(x)[1]
    scale = g.const(np.ones(channels, dt)) if gamma is None else g.cast(gamma, dt)
    shift = g.const(np.zeros(channels, dt)) if beta is None else g.cast(beta, dt)
    mean, var = (g.const(s, dt) for s in stats)
    eps = float(ctx.kwargs.get("eps", 1e-5))
    return g.op("BatchNormalization", x, scale, shift, mean, var, epsilon=eps)


@register(F.Dropout)
def _dropout(g, ctx, x):
    raise ExportError(f"{g.where}: dropout in training mode draws a random mask and cannot be "
                      "exported; export() puts nn modules in eval mode (dropout is then the "
                      "identity), so this is a direct F.dropout(..., training=True) call: "
                      "pass training=False")


# ----------------------------------------------------------------------------- convolutions
def _window_attributes(geom) -> dict:
    """A Geometry as ONNX's Conv/ConvTranspose/MaxPool attributes (pads: begins, then ends)."""
    (pt, pb), (pl, pr) = geom.padding
    return {"kernel_shape": list(geom.kernel), "strides": list(geom.stride),
            "pads": [pt, pl, pb, pr], "dilations": list(geom.dilation)}


@register(F.Conv2d)
def _conv2d(g, ctx, x, w, b):
    geom = ctx.kwargs["geom"]
    return g.op("Conv", *_in_output_dtype(g, x, w, b), group=geom.groups,
                **_window_attributes(geom))


@register(F.ConvTranspose2d)
def _conv_transpose2d(g, ctx, y, w, b):
    """ConvTranspose, with output_padding picking the size conv_transpose2d made (ONNX's
    size: s·(n − 1) + d·(k − 1) + 1 − pads + output_padding)."""
    geom = ctx.kwargs["geom"]
    attrs = _window_attributes(geom)
    extra = [size - (s * (n - 1) + d * (k - 1) + 1 - a - b) for size, n, s, d, k, (a, b) in
             zip(geom.size, geom.out, geom.stride, geom.dilation, geom.kernel, geom.padding)]
    return g.op("ConvTranspose", *_in_output_dtype(g, y, w, b), group=geom.groups,
                output_padding=extra, **attrs)


@register(F.MaxPool2d)
def _max_pool2d(g, ctx, x):
    """MaxPool with explicit pads (ceil_mode's extra bottom/right padding is in them)."""
    return g.op("MaxPool", x, **_window_attributes(ctx.kwargs["geom"]))


@register(F.ConstantPad)
def _constant_pad(g, ctx, x):
    widths = ctx.kwargs["widths"]
    pads = [a for a, _ in widths] + [b for _, b in widths]
    value = g.const(np.asarray(ctx.kwargs["value"], g.dtype(x)))
    return g.op("Pad", x, g.int64s(pads), value, mode="constant")
