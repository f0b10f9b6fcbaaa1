"""The primitive ops: one small class each, holding forward, backward and the local derivative.

Conventions: ``forward(ctx, *arrays, **params)`` returns an array; ``backward(ctx, g)``
returns one gradient per input, where ``g`` is ∂J/∂out. A gradient may keep the broadcast
shape of the output: the engine sums it back to the input's shape. ``ctx.needs_input_grad``
lets an op skip work for inputs that need no gradient.
"""

from __future__ import annotations

import numpy as np

from .function import Function

# ------------------------------------------------------------------------ binary arithmetic


class Add(Function):
    op, inputs, derivatives = "add", ("a", "b"), ("1", "1")

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    op, inputs, derivatives = "sub", ("a", "b"), ("1", "-1")

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    op, inputs, derivatives = "mul", ("a", "b"), ("b", "a")

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad  # keep only what backward will read
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (None if b is None else g * b), (None if a is None else g * a)


class Div(Function):
    op, inputs, derivatives = "div", ("a", "b"), ("1/b", "-a/b²")

    @staticmethod
    def forward(ctx, a, b):
        out = a / b
        ctx.save_for_backward(b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        b, out = ctx.saved_tensors
        ga = g / b
        return ga, (-ga * out if ctx.needs_input_grad[1] else None)


class Pow(Function):
    """``a ** b``; ∂/∂b = aᵇ·ln a is taken as 0 where a = 0 (the limit for b > 0)."""

    op, inputs, derivatives = "pow", ("a", "b"), ("b·a^(b-1)", "a^b·ln(a)")

    @staticmethod
    def forward(ctx, a, b):
        out = a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors[:2]
        out = ctx.saved_tensors[2]
        ga = gb = None
        if ctx.needs_input_grad[0]:  # b·a^(b−1), taken as 0 where b = 0 (d/da a⁰ = 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                ga = np.where(b == 0, 0, g * b * a ** (b - 1))
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = g * np.where(a == 0, 0, out * np.log(np.where(a == 0, 1, a)))
        return ga, gb


class MatMul(Function):
    """``a @ b`` with NumPy's rules: 1-D operands are promoted, batch dims broadcast."""

    op, inputs, derivatives = "matmul", ("A", "B"), ("Bᵀ", "Aᵀ")

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: operands must have at least one dimension; "
                             "use * to multiply by a scalar")
        k_a, k_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
        if k_a != k_b:
            raise ValueError(f"matmul: {a.shape} @ {b.shape}: inner dimensions "
                                    f"{k_a} != {k_b}")
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.ndims = a.ndim, b.ndim
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_ndim, b_ndim = ctx.ndims
        if b_ndim == 1:  # restore the axes NumPy dropped: g gets the shape of a2 @ b2
            g = g[..., None]
        if a_ndim == 1:
            g = g[..., None, :]
        ga = gb = None
        if b is not None:  # dA = g Bᵀ
            ga = g @ np.swapaxes(b[:, None] if b_ndim == 1 else b, -1, -2)
            if a_ndim == 1:
                ga = ga.squeeze(-2)
        if a is not None:  # dB = Aᵀ g
            gb = np.swapaxes(a[None, :] if a_ndim == 1 else a, -1, -2) @ g
            if b_ndim == 1:
                gb = gb.squeeze(-1)
        return ga, gb


class _Pairwise(Function):
    """Elementwise max/min of two tensors; at ties each input gets half the gradient
    (as PyTorch)."""

    pick = staticmethod(np.maximum)  # the op
    wins = staticmethod(np.greater)  # where a alone is picked

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return type(ctx).pick(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        share = type(ctx).wins(a, b) + 0.5 * (a == b)  # a's share of the gradient
        return g * share, g * (1 - share)


class Maximum(_Pairwise):
    op, inputs, derivatives = "maximum", ("a", "b"), ("[a>b] (½ at ties)", "[b>a] (½ at ties)")
    pick, wins = staticmethod(np.maximum), staticmethod(np.greater)


class Minimum(_Pairwise):
    op, inputs, derivatives = "minimum", ("a", "b"), ("[a<b] (½ at ties)", "[b<a] (½ at ties)")
    pick, wins = staticmethod(np.minimum), staticmethod(np.less)


class Where(Function):
    op, inputs, derivatives = "where", ("a", "b"), ("[cond]", "[not cond]")

    @staticmethod
    def forward(ctx, a, b, cond):
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        zero = np.zeros((), g.dtype)
        return np.where(ctx.cond, g, zero), np.where(ctx.cond, zero, g), None


# ------------------------------------------------------------------------ unary elementwise


class Neg(Function):
    op, derivatives = "neg", ("-1",)

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    op, derivatives = "exp", ("exp(x)",)

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    op, derivatives = "log", ("1/x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    op, derivatives = "sqrt", ("1/(2√x)",)

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class Abs(Function):
    """|x|; the derivative at 0 is taken as 0 (as PyTorch)."""

    op, derivatives = "abs", ("sign(x)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * np.sign(x)


class Square(Function):
    op, derivatives = "square", ("2x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.square(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (2 * x)


class Clip(Function):
    """Clamp to [lo, hi]; the gradient passes where lo <= x <= hi (as PyTorch)."""

    op, derivatives = "clip", ("[lo ≤ x ≤ hi]",)

    @staticmethod
    def forward(ctx, x, lo=None, hi=None):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        inside = np.ones(x.shape, dtype=bool)
        if ctx.lo is not None:
            inside &= x >= ctx.lo
        if ctx.hi is not None:
            inside &= x <= ctx.hi
        return g * inside


class Cast(Function):
    op, derivatives = "cast", ("1",)

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g  # the engine casts it back to the input's dtype


# ------------------------------------------------------------------------ reductions


def _expand(g: np.ndarray, axis, keepdims: bool) -> np.ndarray:
    """Re-insert reduced axes into ``g`` so it broadcasts against the input."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return g


def _squeeze(out: np.ndarray, axis) -> np.ndarray:
    """Drop the reduced axes of a keepdims result."""
    return out.reshape(()) if axis is None else np.squeeze(out, axis=axis)


class Sum(Function):
    op, derivatives = "sum", ("1",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(_expand(g, ctx.axis, ctx.keepdims), ctx.shape)


class Mean(Function):
    op, derivatives = "mean", ("1/n",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        out = x.mean(axis=axis, keepdims=keepdims)
        ctx.n = x.size // max(np.size(out), 1) if x.size else 0
        return out

    @staticmethod
    def backward(ctx, g):
        g = _expand(g, ctx.axis, ctx.keepdims) / max(ctx.n, 1)
        return np.broadcast_to(g, ctx.shape)


class Var(Function):
    op, derivatives = "var", ("2(x − μ)/(n − ddof)",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, ddof=0):
        n = x.size if axis is None else int(np.prod([x.shape[a] for a in axis]))
        if n - ddof <= 0:
            raise ValueError(f"var: {n} elements with ddof={ddof}; need more than ddof")
        centred = x - x.mean(axis=axis, keepdims=True)
        ctx.axis, ctx.keepdims, ctx.scale = axis, keepdims, 2.0 / (n - ddof)
        ctx.save_for_backward(centred)
        return np.square(centred).sum(axis=axis, keepdims=keepdims) / (n - ddof)

    @staticmethod
    def backward(ctx, g):
        (centred,) = ctx.saved_tensors
        return _expand(g, ctx.axis, ctx.keepdims) * (ctx.scale * centred)


class _Extreme(Function):
    """max/min over axes: the gradient is split evenly among tied extremes."""

    reduce = staticmethod(np.max)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        out = type(ctx).reduce(x, axis=axis, keepdims=True)  # NumPy refuses empty axes
        ctx.axis, ctx.keepdims = axis, keepdims
        ctx.save_for_backward(x, out)
        return out if keepdims else _squeeze(out, axis)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        hits = x == out
        share = hits / hits.sum(axis=ctx.axis, keepdims=True)
        return share * g.reshape(out.shape)


class Max(_Extreme):
    op, derivatives, reduce = "max", ("[x = max]/#ties",), staticmethod(np.max)


class Min(_Extreme):
    op, derivatives, reduce = "min", ("[x = min]/#ties",), staticmethod(np.min)


class LogSumExp(Function):
    op, derivatives = "logsumexp", ("softmax(x)",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)  # -inf for an empty axis
        m = np.where(np.isfinite(m), m, 0)
        e = np.exp(x - m)
        s = e.sum(axis=axis, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):  # all −inf: log 0 = −inf
            out = np.log(s) + m
            softmax = e / s
        ctx.axis, ctx.keepdims = axis, keepdims
        ctx.save_for_backward(softmax)
        return out if keepdims else _squeeze(out, axis)

    @staticmethod
    def backward(ctx, g):
        (softmax,) = ctx.saved_tensors
        return _expand(g, ctx.axis, ctx.keepdims) * softmax


# ------------------------------------------------------------------------ shape


class Reshape(Function):
    op, derivatives = "reshape", ("1 (reshaped)",)

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

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(np.argsort(ctx.axes))


class BroadcastTo(Function):
    op, derivatives = "broadcast_to", ("1 (summed back)",)

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


class Index(Function):
    """``x[index]``: basic slicing, integer arrays and boolean masks; repeated indices
    accumulate their gradients."""

    op, derivatives = "getitem", ("1 at the selected positions",)

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
        full = np.zeros(ctx.shape, dtype=g.dtype)
        if _is_basic(ctx.index):
            full[ctx.index] = g
        else:
            np.add.at(full, ctx.index, g)
        return full


class Concatenate(Function):
    op, derivatives = "concatenate", ("1 (its slice)",)

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.splits = np.cumsum([a.shape[axis] if a.ndim else 1 for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.split(g, ctx.splits, axis=ctx.axis))


class Stack(Function):
    op, derivatives = "stack", ("1 (its slice)",)

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        out = np.stack(arrays, axis=axis)
        ctx.axis = axis % out.ndim
        return out

    @staticmethod
    def backward(ctx, g):
        return tuple(np.moveaxis(g, ctx.axis, 0))
