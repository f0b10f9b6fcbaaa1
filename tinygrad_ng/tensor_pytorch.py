"""The Tensor methods a PyTorch user types: ``view``, ``permute``, ``gather``, ``add_`` …

:class:`~tinygrad_ng.tensor.Tensor` inherits them from :class:`PyTorchMethods`; each is a
composition of the differentiable ops (so gradients, and second derivatives, come for free)
or one call into an op of ``ops/``. The rules they follow:

- PyTorch's meaning wherever PyTorch has the name; where NumPy gives the same spelling
  another meaning (``x.max(1)``, ``x.var(1)``, ``x.repeat``, ``x.sort``), the docstring says
  which one applies, and ambiguous calls raise instead of guessing.
- In-place updates (``+=``, ``add_``, ``zero_`` …) come from
  :class:`~tinygrad_ng.tensor_inplace.InPlaceMethods`, with their rules; reductions that
  PyTorch and NumPy spell alike (``max(dim)``, ``var``, ``sort`` …) from
  :class:`~tinygrad_ng.tensor_reductions.ReductionMethods`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .tensor_inplace import InPlaceMethods
from .tensor_reductions import ReductionMethods, ValuesIndices  # noqa: F401 (re-exported)


class Size(int):
    """``x.size``: the number of elements, an ``int`` as NumPy's ``a.size``, that PyTorch
    users may also call: ``x.size()`` is the shape, ``x.size(d)`` the length of axis ``d``."""

    def __new__(cls, n: int, shape: tuple[int, ...]) -> Size:
        self = super().__new__(cls, n)
        self.shape = shape
        return self

    def __call__(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.shape
        if not isinstance(dim, numbers.Integral) or not -len(self.shape) <= dim < len(self.shape):
            raise IndexError(f"size: dim {dim!r} is out of range for shape {self.shape}")
        return self.shape[dim]


class PyTorchMethods(ReductionMethods, InPlaceMethods):
    """PyTorch's everyday Tensor methods (mixed into :class:`~tinygrad_ng.tensor.Tensor`)."""

    __slots__ = ()

    # ------------------------------------------------------------------ attributes
    @property
    def device(self) -> str:
        """Always ``"cpu"``: the arrays are NumPy's."""
        return "cpu"

    @property
    def grad_fn(self) -> Any:
        """The node (a :class:`~tinygrad_ng.function.Function`) that made this tensor, or
        ``None`` for a leaf."""
        return self._ctx

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    def dim(self) -> int:
        """The number of axes (``ndim``)."""
        return self.data.ndim

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor's number (as PyTorch)."""
        if not spec:
            return repr(self)
        if self.data.size != 1:
            raise TypeError(f"format: '{spec}' needs a one-element tensor, this one has shape "
                            f"{self.shape}")
        return format(self.data.item(), spec)

    def contiguous(self) -> Any:
        """The tensor itself (NumPy handles memory layout; there is nothing to do)."""
        return self

    # ------------------------------------------------------------------ dtypes and devices
    def float(self) -> Any:
        """As float32."""
        return self.astype(np.float32)

    def double(self) -> Any:
        """As float64."""
        return self.astype(np.float64)

    def half(self) -> Any:
        """As float16."""
        return self.astype(np.float16)

    def long(self) -> Any:
        """As int64 (cut from the graph: integers carry no gradient)."""
        return self.astype(np.int64)

    def int(self) -> Any:
        """As int32."""
        return self.astype(np.int32)

    def bool(self) -> Any:
        """As bool."""
        return self.astype(np.bool_)

    def type_as(self, other: Any) -> Any:
        """As ``other``'s dtype."""
        return self.astype(other.dtype)

    def to(self, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False) -> Any:
        """PyTorch's ``to``: ``x.to(tg.float64)``, ``x.to("cpu")``, ``x.to(other_tensor)``,
        ``x.to("cpu", tg.float32)``. Any device but the CPU raises."""
        dtype = to_dtype("to", args, dtype, device)
        out = self if dtype is None else self.astype(dtype)
        return out.clone() if copy and out is self else out

    def cpu(self) -> Any:
        """The tensor itself (it already lives on the CPU)."""
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Any:
        """Raises: there is no GPU here."""
        raise RuntimeError("cuda: tinygrad_ng runs on the CPU only (NumPy arrays); drop "
                           ".cuda() / .to('cuda')")

    # ------------------------------------------------------------------ copies and views
    def clone(self) -> Any:
        """A copy with its own memory; differentiable (the gradient passes through)."""
        return _tensor.ops.Clone.apply(self)

    def view(self, *shape: Any) -> Any:
        """``reshape`` (NumPy copies when it must, so any layout works)."""
        return self.reshape(*shape)

    def view_as(self, other: Any) -> Any:
        return self.reshape(*other.shape)

    def reshape_as(self, other: Any) -> Any:
        return self.reshape(*other.shape)

    def permute(self, *dims: Any) -> Any:
        """Reorder all the axes: ``x.permute(0, 2, 1)``."""
        dims = _tensor._permutation(_tensor._shape_args(dims), self.shape, "permute")
        return _tensor.ops.Transpose.apply(self, axes=dims)

    def t(self) -> Any:
        """The transpose of a matrix (0-d and 1-d tensors are returned as they are)."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with at most 2 axes, got shape {self.shape}; "
                             "use transpose(a, b) or permute(...)")
        return self.T if self.ndim == 2 else self

    def swapaxes(self, axis0: int, axis1: int) -> Any:
        """Swap two axes (``swapdims`` and two-axis ``transpose`` are the same)."""
        if self.ndim == 0:
            _tensor._axes((axis0, axis1), 0, "transpose")
            return self
        a, b = (_tensor._axes(ax, self.ndim, "transpose")[0] for ax in (axis0, axis1))
        perm = list(range(self.ndim))
        perm[a], perm[b] = perm[b], perm[a]
        return _tensor.ops.Transpose.apply(self, axes=tuple(perm))

    swapdims = swapaxes

    def moveaxis(self, source: Any, destination: Any) -> Any:
        """Move axes to new positions, the others keeping their order (``movedim``)."""
        src = _tensor._axes(source, self.ndim, "moveaxis") or ()
        dst = _tensor._axes(destination, self.ndim, "moveaxis") or ()
        if len(src) != len(dst):
            raise ValueError(f"moveaxis: {len(src)} source axes but {len(dst)} destinations")
        order = [a for a in range(self.ndim) if a not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return _tensor.ops.Transpose.apply(self, axes=tuple(order))

    movedim = moveaxis

    def expand(self, *sizes: Any) -> Any:
        """Broadcast to ``sizes``; -1 keeps an axis's length (PyTorch's ``expand``)."""
        sizes = _tensor._shape_args(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {sizes} has fewer axes than the tensor's shape "
                             f"{self.shape}")
        shape = tuple(self.shape[i - lead] if s == -1 and i >= lead else s
                      for i, s in enumerate(sizes))
        return self.broadcast_to(*shape)

    def expand_as(self, other: Any) -> Any:
        return self.broadcast_to(*other.shape)

    def repeat(self, *repeats: Any) -> Any:
        """Tile the tensor: ``repeats[i]`` copies along axis i (PyTorch's ``repeat``, NumPy's
        ``np.tile``; NumPy's element-wise ``repeat`` is :meth:`repeat_interleave`)."""
        reps = _tensor._shape_args(repeats)
        if len(reps) < self.ndim:
            raise ValueError(f"repeat: give at least one count per axis ({self.ndim}), got "
                             f"{reps}")
        shape = (1,) * (len(reps) - self.ndim) + self.shape
        spread = [n for s in shape for n in (1, s)]
        tiled = [n for r, s in zip(reps, shape) for n in (r, s)]
        return self.reshape(*spread).broadcast_to(*tiled).reshape(
            *(r * s for r, s in zip(reps, shape)))

    def repeat_interleave(self, repeats: int, dim: int | None = None) -> Any:
        """Repeat each element ``repeats`` times along ``dim`` (flattened when None): NumPy's
        ``np.repeat``."""
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else _tensor._axes(dim, x.ndim, "repeat_interleave")[0]
        return x._take(d, np.repeat(np.arange(x.shape[d]), repeats))

    def _take(self, d: int, index: Any) -> Any:
        """``self`` indexed by ``index`` along axis ``d`` (differentiable)."""
        return self[(slice(None),) * d + (index,)]

    def flip(self, *dims: Any) -> Any:
        """Reverse the order along ``dims``."""
        axes = _tensor._axes(_dims(dims), self.ndim, "flip") or ()
        return self[tuple(slice(None, None, -1) if i in axes else slice(None)
                          for i in range(self.ndim))]

    def roll(self, shifts: Any, dims: Any = None) -> Any:
        """Shift elements along ``dims`` cyclically (over the flattened tensor when None)."""
        if dims is None:
            return self.reshape(-1).roll(shifts, 0).reshape(*self.shape)
        shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
        axes = _tensor._axes(dims, self.ndim, "roll")
        if len(shifts) != len(axes):
            raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} dims")
        out = self
        for s, d in zip(shifts, axes):
            n = self.shape[d]
            out = out._take(d, (np.arange(n) - s) % n if n else np.arange(0))
        return out

    def unbind(self, dim: int = 0) -> tuple:
        """The slices along ``dim``, as a tuple."""
        d = _tensor._axes(dim, self.ndim, "unbind")[0]
        return tuple(self._take(d, i) for i in range(self.shape[d]))

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple:
        """Pieces along ``dim``: of ``split_size`` each (the last may be shorter), or of the
        given sizes."""
        d = _tensor._axes(dim, self.ndim, "split")[0]
        n = self.shape[d]
        if isinstance(split_size_or_sections, numbers.Integral):
            step = int(split_size_or_sections)
            if step <= 0:
                raise ValueError(f"split: split_size must be positive, got {step}")
            sizes = [min(step, n - i) for i in range(0, n, step)] or [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != n or min(sizes, default=0) < 0:
                raise ValueError(f"split: sizes {sizes} do not add up to the length {n} of "
                                 f"axis {d} of shape {self.shape}")
        bounds = np.cumsum([0, *sizes]).tolist()
        return tuple(self._take(d, slice(lo, hi)) for lo, hi in zip(bounds, bounds[1:]))

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """``chunks`` pieces (or fewer) of equal length ⌈n/chunks⌉ along ``dim``."""
        if not isinstance(chunks, numbers.Integral) or chunks <= 0:
            raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
        d = _tensor._axes(dim, self.ndim, "chunk")[0]
        return self.split(max(math.ceil(self.shape[d] / chunks), 1), d)

    def unfold(self, dimension: int, size: int, step: int) -> Any:
        """Sliding windows of ``size`` elements every ``step`` along ``dimension``; the windows
        replace that axis and their elements go to a new last axis (PyTorch's ``unfold``)."""
        d = _tensor._axes(dimension, self.ndim, "unfold")[0] if self.ndim else 0
        n = self.shape[d] if self.ndim else 1
        if size > n or size < 0 or step <= 0:
            raise ValueError(f"unfold: windows of size {size} every {step} do not fit axis {d} "
                             f"of length {n}")
        windows = np.arange((n - size) // step + 1)[:, None] * step + np.arange(size)
        x = self if self.ndim else self.reshape(1)
        return x._take(d, windows).moveaxis(d + 1, -1)

    def gather(self, dim: int, index: Any) -> Any:
        """``out[i][j] = x[index[i][j]][j]`` for ``dim=0`` (and so on): values picked along
        ``dim`` by an integer tensor of the same number of axes. Differentiable."""
        idx = _index_array(index, "gather")
        d = _tensor._axes(dim, self.ndim, "gather")[0] if self.ndim else 0
        if idx.ndim != max(self.ndim, 1) or any(
                i != d and k > n for i, (k, n) in enumerate(zip(idx.shape, self.shape))):
            raise ValueError(f"gather: index of shape {idx.shape} does not fit a tensor of "
                             f"shape {self.shape} along dim {d}")
        _check_range(idx, self.shape[d] if self.ndim else 1, "gather")
        if not self.ndim:
            return self.reshape(1)[idx]
        grid = tuple(idx if i == d else np.arange(k).reshape([-1 if j == i else 1
                                                               for j in range(idx.ndim)])
                     for i, k in enumerate(idx.shape))
        return self[grid]

    def index_select(self, dim: int, index: Any) -> Any:
        """The entries at the 1-d integer ``index`` along ``dim``."""
        idx = _index_array(index, "index_select")
        if idx.ndim > 1:
            raise ValueError(f"index_select: index must be 1-d, got shape {idx.shape}")
        d = _tensor._axes(dim, self.ndim, "index_select")[0]
        _check_range(idx, self.shape[d], "index_select")
        return self._take(d, idx.reshape(-1))

    def masked_fill(self, mask: Any, value: Any) -> Any:
        """``value`` where the boolean ``mask`` (broadcast to the tensor) is True."""
        m = mask.data if isinstance(mask, _tensor.Tensor) else np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill: mask must be bool, got {m.dtype} (compare first: "
                            "x.masked_fill(m > 0, v))")
        if np.broadcast_shapes(m.shape, self.shape) != self.shape:
            raise ValueError(f"masked_fill: mask of shape {m.shape} does not broadcast to the "
                             f"tensor's shape {self.shape}")
        return _tensor.where(m, self._operand(value), self)

    # ------------------------------------------------------------------ comparisons
    def eq(self, other: Any) -> Any:
        return self == other

    def ne(self, other: Any) -> Any:
        return self != other

    def lt(self, other: Any) -> Any:
        return self < other

    def le(self, other: Any) -> Any:
        return self <= other

    def gt(self, other: Any) -> Any:
        return self > other

    def ge(self, other: Any) -> Any:
        return self >= other

    def equal(self, other: Any) -> bool:
        """True when ``other`` has the same shape and values (a Python bool)."""
        o = other.data if isinstance(other, _tensor.Tensor) else np.asarray(other)
        return self.shape == o.shape and bool(np.array_equal(self.data, o))

    def isnan(self) -> Any:
        return self._make(np.isnan(self.data), False)

    def isinf(self) -> Any:
        return self._make(np.isinf(self.data), False)

    def isfinite(self) -> Any:
        return self._make(np.isfinite(self.data), False)

    # ------------------------------------------------------------------ arithmetic by name
    def add(self, other: Any, alpha: float = 1) -> Any:
        """``self + alpha·other``."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, alpha: float = 1) -> Any:
        """``self − alpha·other``."""
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> Any:
        return self * other

    def div(self, other: Any, rounding_mode: str | None = None) -> Any:
        if rounding_mode is not None:
            raise NotImplementedError("div: rounding_mode is not supported; use (a / b) and "
                                      "round the .data")
        return self / other

    def neg(self) -> Any:
        return -self

    def matmul(self, other: Any) -> Any:
        return self @ other

    mm = matmul

    def pow(self, exponent: Any) -> Any:
        return self ** exponent

    def reciprocal(self) -> Any:
        """1/x."""
        return 1 / self._floating()

    def sign(self) -> Any:
        """−1, 0 or 1; its gradient is 0."""
        return _tensor.ops.Sign.apply(self)

    def clamp(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002
        """:meth:`clip` (PyTorch's name); tensor bounds use ``maximum``/``minimum``."""
        out = self
        if isinstance(min, _tensor.Tensor):
            out, min = out.maximum(min), None
        if isinstance(max, _tensor.Tensor):
            out, max = out.minimum(max), None
        return out if min is None and max is None else out.clip(min, max)

    def clamp_min(self, min: Any) -> Any:  # noqa: A002
        return self.clamp(min=min)

    def clamp_max(self, max: Any) -> Any:  # noqa: A002
        return self.clamp(max=max)

    # ------------------------------------------------------------------ elementwise maths
    def sin(self) -> Any:
        return _tensor.ops.Sin.apply(self._floating())

    def cos(self) -> Any:
        return _tensor.ops.Cos.apply(self._floating())

    def tan(self) -> Any:
        return _tensor.ops.Tan.apply(self._floating())

    def arcsin(self) -> Any:
        return _tensor.ops.Arcsin.apply(self._floating())

    def arccos(self) -> Any:
        return _tensor.ops.Arccos.apply(self._floating())

    def arctan(self) -> Any:
        return _tensor.ops.Arctan.apply(self._floating())

    def arctan2(self, other: Any) -> Any:
        """The angle of the point (x=other, y=self), in (−π, π]."""
        return _tensor.ops.Arctan2.apply(*self._floating()._pair(other))

    def sinh(self) -> Any:
        return _tensor.ops.Sinh.apply(self._floating())

    def cosh(self) -> Any:
        return _tensor.ops.Cosh.apply(self._floating())

    def arcsinh(self) -> Any:
        return _tensor.ops.Arcsinh.apply(self._floating())

    def arccosh(self) -> Any:
        return _tensor.ops.Arccosh.apply(self._floating())

    def arctanh(self) -> Any:
        return _tensor.ops.Arctanh.apply(self._floating())

    def log2(self) -> Any:
        return _tensor.ops.Log2.apply(self._floating())

    def log10(self) -> Any:
        return _tensor.ops.Log10.apply(self._floating())

    def log1p(self) -> Any:
        """log(1 + x), accurate for tiny x."""
        return _tensor.ops.Log1p.apply(self._floating())

    def exp2(self) -> Any:
        return _tensor.ops.Exp2.apply(self._floating())

    def expm1(self) -> Any:
        """eˣ − 1, accurate for tiny x."""
        return _tensor.ops.Expm1.apply(self._floating())

    def logaddexp(self, other: Any) -> Any:
        """log(eˣ + eʸ) without overflow."""
        return _tensor.ops.LogAddExp.apply(*self._floating()._pair(other))

    def cbrt(self) -> Any:
        return _tensor.ops.Cbrt.apply(self._floating())

    def erf(self) -> Any:
        """The error function (2/√π)∫₀ˣ e^(−t²) dt."""
        return _tensor.ops.Erf.apply(self._floating())

    # PyTorch's spellings of the inverse functions
    asin, acos, atan, atan2 = arcsin, arccos, arctan, arctan2
    asinh, acosh, atanh = arcsinh, arccosh, arctanh

def to_dtype(who: str, args: tuple, dtype: Any = None, device: Any = None) -> Any:
    """The dtype asked for by PyTorch's ``to(*args, dtype=, device=)`` arguments (None: keep
    it), after checking that any device named is the CPU; a tensor argument gives its dtype."""
    for a in args:
        if isinstance(a, str) and a.split(":")[0] in _DEVICES:
            device = a
        elif isinstance(a, _tensor.Tensor):
            dtype = a.dtype
        else:
            dtype = a
    check_device(who, device)
    return dtype


def check_device(who: str, device: Any) -> None:
    """Raise unless ``device`` is None or the CPU (``"cpu"``, ``"cpu:0"``)."""
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"{who}: device {device!r}: tinygrad_ng runs on the CPU only "
                           "(NumPy arrays); use device='cpu' or leave it out")


_DEVICES = ("cpu", "cuda", "mps", "xla", "meta")


def _dims(dims: tuple) -> Any:
    """``f(0, 1)`` or ``f((0, 1))`` → (0, 1)."""
    return tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims


def _index_array(index: Any, op: str) -> np.ndarray:
    idx = index.data if isinstance(index, _tensor.Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must hold integers, got {idx.dtype}")
    return idx


def _check_range(idx: np.ndarray, n: int, op: str) -> None:
    """PyTorch refuses negative indices in gather/index_select (NumPy would wrap them)."""
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].flat[0]
        raise IndexError(f"{op}: index {bad} is out of range for an axis of length {n}")


from . import tensor as _tensor  # noqa: E402  (this module is Tensor's base: names at call time)
