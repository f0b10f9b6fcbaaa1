"""The Tensor methods a PyTorch user types: ``view``, ``permute``, ``gather``, ``add_`` …

:class:`~tinygrad_ng.tensor.Tensor` inherits them from :class:`PyTorchMethods`; each is a
composition of the differentiable ops (so gradients, and second derivatives, come for free)
or one call into an op of ``ops/``. The rules they follow:

- PyTorch's meaning wherever PyTorch has the name; where NumPy gives the same spelling
  another meaning (``x.max(1)``, ``x.var(1)``, ``x.repeat``, ``x.sort``), the docstring says
  which one applies, and ambiguous calls raise instead of guessing.
- In-place updates (``+=``, ``add_``, ``zero_`` …) write into ``.data`` and keep the
  tensor's identity. Under ``tg.no_grad()`` that is how parameters are updated by hand. In
  grad mode a leaf that requires grad refuses them (PyTorch's rule); on a tensor that is part
  of a graph, ``y += x`` records ``y = y + x`` as a new node (the name is rebound) and the
  named methods (``y.add_(x)``) raise. An array saved by a graph that has not been
  backpropagated is read-only: updating it raises rather than corrupt that gradient.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from . import autograd, random


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


class ValuesIndices(NamedTuple):
    """``(values, indices)`` from ``max(dim)``, ``min(dim)``, ``sort`` and ``topk`` (PyTorch's
    named tuple)."""

    values: Any
    indices: Any

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"'{name}': this is the named tuple (values, indices) that PyTorch's x.max(dim) / "
            "x.min(dim) / sort / topk return; use .values and .indices (NumPy's reading, the "
            "values only, is x.max(axis=...))")


_LEAF = ("{op}: a leaf tensor that requires grad cannot be used in an in-place operation "
         "(PyTorch's rule): update parameters inside `with tg.no_grad():`, or build a new "
         "tensor (w = w - lr * g)")


class PyTorchMethods:
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
        dims = _tensor._shape_args(dims)
        if len(dims) != self.ndim or sorted(d % max(self.ndim, 1) for d in dims) \
                != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of the {self.ndim} axes "
                             f"of a tensor of shape {self.shape}")
        return _tensor.ops.Transpose.apply(self, axes=tuple(d % self.ndim for d in dims))

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

    # ------------------------------------------------------------------ reductions
    def var(self, *args: Any, axis: Any = None, keepdims: bool = False, ddof: Any = None,
            dim: Any = None, keepdim: bool | None = None, correction: Any = None,
            unbiased: bool | None = None) -> Any:
        """Variance Σ(x − μ)²/(n − c) over ``axis``/``dim``, with c the correction.

        NumPy's spelling ``var(axis=…)`` (and a bare ``var()``) divides by n (c = ``ddof``,
        default 0); PyTorch's ``var(dim=…)`` by n − 1 (c = ``correction``, default 1;
        ``unbiased=False`` gives n). A bare positional axis, ``x.var(1)``, means n in NumPy
        and n − 1 in PyTorch, so it raises unless the correction is given.
        """
        axes, keepdims, ddof = _variance_args("var", self.ndim, args, axis, keepdims, ddof,
                                              dim, keepdim, correction, unbiased)
        return _tensor.ops.Var.apply(self._floating(), axis=axes, keepdims=keepdims,
                                     ddof=ddof)

    def std(self, *args: Any, axis: Any = None, keepdims: bool = False, ddof: Any = None,
            dim: Any = None, keepdim: bool | None = None, correction: Any = None,
            unbiased: bool | None = None) -> Any:
        """√var, with the same arguments and the same NumPy/PyTorch rules as :meth:`var`."""
        axes, keepdims, ddof = _variance_args("std", self.ndim, args, axis, keepdims, ddof,
                                              dim, keepdim, correction, unbiased)
        return _tensor.ops.Var.apply(self._floating(), axis=axes, keepdims=keepdims,
                                     ddof=ddof).sqrt()

    def _extreme_at(self, op: str, dim: Any, keepdim: bool, axis: Any) -> ValuesIndices:
        """PyTorch's ``max(dim)`` / ``min(dim)``: the values at the first extreme, picked by
        index, so the gradient goes to that element only."""
        if axis is not None:
            raise TypeError(f"{op}: got both dim (PyTorch's, (values, indices)) and axis= "
                            "(NumPy's, values); give one")
        if not isinstance(dim, numbers.Integral):
            raise TypeError(f"{op}: dim must be an int, got {dim!r}; for several axes use "
                            f"x.{op}(axis={dim!r}) (values only)")
        if self.ndim == 0:
            _tensor._axes(dim, 0, op)
            values, indices = self.reshape(1)._extreme_at(op, 0, False, None)
            return ValuesIndices(values.reshape(()), indices.reshape(()))
        d = _tensor._axes(dim, self.ndim, op)[0]
        idx = (self.argmax if op == "max" else self.argmin)(d, keepdim=True)
        values = self.gather(d, idx)
        if not keepdim:
            values, idx = values.squeeze(d), idx.squeeze(d)
        return ValuesIndices(values, idx)

    def amax(self, dim: Any = None, keepdim: bool = False) -> Any:
        """The largest values over ``dim`` (an int, a tuple or None); ties share the
        gradient (PyTorch's ``amax``, NumPy's ``max(axis=…)``)."""
        return self.max(axis=dim, keepdims=keepdim)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Any:
        """The smallest values over ``dim``; see :meth:`amax`."""
        return self.min(axis=dim, keepdims=keepdim)

    def nonzero(self) -> Any:
        """The indices of the non-zero elements, one row each: an ``(n, ndim)`` int64
        tensor (PyTorch's ``nonzero``; NumPy's ``argwhere``)."""
        return self._make(np.argwhere(self.data).astype(np.int64), False)

    def argmax(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
               keepdims: bool | None = None) -> Any:
        """Index of the (first) largest value along ``dim``, over the flattened tensor when
        None; an int64 tensor outside the graph."""
        return self._arg_extreme(np.argmax, "argmax", dim, keepdim, axis, keepdims)

    def argmin(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
               keepdims: bool | None = None) -> Any:
        """Index of the (first) smallest value; see :meth:`argmax`."""
        return self._arg_extreme(np.argmin, "argmin", dim, keepdim, axis, keepdims)

    def _arg_extreme(self, fn: Callable, op: str, dim: Any, keepdim: bool, axis: Any,
                     keepdims: Any) -> Any:
        axis, keep = _tensor._reduce_args(op, axis, keepdims, dim, keepdim)
        if axis is not None and not isinstance(axis, numbers.Integral):
            raise TypeError(f"{op}: dim must be an int or None, got {axis!r}")
        if axis is not None:
            axis = (_tensor._axes(axis, self.ndim, op) or (None,))[0]
        if self.data.size == 0:
            raise ValueError(f"{op}: the tensor of shape {self.shape} is empty")
        out = fn(self.data, axis=axis, keepdims=bool(keep))
        return self._make(np.asarray(out, dtype=np.int64), False)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """Indices that sort the tensor along ``dim`` (ties keep their order)."""
        d = _tensor._axes(dim, self.ndim, "argsort")[0] if self.ndim else None
        a = self.data
        if descending:
            order = np.argsort(-a if a.dtype.kind in "fi" else ~a if a.dtype == bool else
                               a.max() - a, axis=d, kind="stable")
        else:
            order = np.argsort(a, axis=d, kind="stable")
        return self._make(order.astype(np.int64, copy=False), False)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False
             ) -> ValuesIndices:
        """``(values, indices)`` sorted along ``dim`` (PyTorch's ``sort``; unlike NumPy's
        ``ndarray.sort`` it returns the result and leaves the tensor as it is)."""
        idx = self.argsort(dim, descending)
        if not self.ndim:
            return ValuesIndices(self.clone(), idx)
        return ValuesIndices(self.gather(dim, idx), idx)

    def topk(self, k: int, dim: int = -1, largest: bool = True,
             sorted: bool = True) -> ValuesIndices:  # noqa: A002 (PyTorch's name)
        """The ``k`` largest (or smallest) entries along ``dim``: ``(values, indices)``."""
        d = _tensor._axes(dim, self.ndim, "topk")[0]
        if not isinstance(k, numbers.Integral) or not 0 <= k <= self.shape[d]:
            raise ValueError(f"topk: k={k!r} is out of range for axis {d} of length "
                             f"{self.shape[d]}")
        idx = np.take(self.argsort(d, descending=largest).data, np.arange(k), axis=d)
        return ValuesIndices(self.gather(d, idx), self._make(idx, False))

    def prod(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool | None = None) -> Any:
        """Product of the elements along ``dim`` (all when None); gradients exact with
        zeros."""
        axis, keep = _tensor._reduce_args("prod", axis, keepdims, dim, keepdim)
        axes = _tensor._axes(axis, self.ndim, "prod")
        if axes is None:
            out = self.reshape(-1).prod(0)
            return out.reshape(*(1,) * self.ndim) if keep else out
        out = self
        for a in sorted(axes, reverse=True):
            n = out.shape[a]
            if n == 0:
                out = out.sum(axis=a, keepdims=True) * 0 + 1
            else:
                out = out.cumprod(a)._take(a, slice(n - 1, n))
            if not keep:
                out = out.squeeze(a)
        return out

    def cumsum(self, dim: Any = None, *, axis: Any = None) -> Any:
        """Running sums along ``dim`` (over the flattened tensor when None)."""
        x, d = self._scan_axis("cumsum", dim, axis)
        return _tensor.ops.CumSum.apply(x, axis=d)

    def cumprod(self, dim: Any = None, *, axis: Any = None) -> Any:
        """Running products along ``dim`` (over the flattened tensor when None)."""
        x, d = self._scan_axis("cumprod", dim, axis)
        return _tensor.ops.CumProd.apply(x, axis=d)

    def _scan_axis(self, op: str, dim: Any, axis: Any) -> tuple[Any, int]:
        axis, _ = _tensor._reduce_args(op, axis, False, dim, None)
        if axis is None or self.ndim == 0:
            return self.reshape(-1), 0
        return self, _tensor._axes(axis, self.ndim, op)[0]

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False, *,
             axis: Any = None, keepdims: bool | None = None) -> Any:
        """The p-norm over ``dim`` (all elements when None): p = 2 or ``"fro"`` (Euclidean;
        gradient 0 at the origin), 1, ``inf``, ``-inf``, 0 (count of non-zeros) or any
        other positive number."""
        axis, keep = _tensor._reduce_args("norm", axis, keepdims, dim, keepdim)
        x = self._floating()
        if p in ("fro", 2, None):
            return _tensor.ops.Norm.apply(x, axis=_tensor._axes(axis, x.ndim, "norm"),
                                          keepdims=keep)
        if p == math.inf:
            return x.abs().max(axis=axis, keepdims=keep)
        if p == -math.inf:
            return x.abs().min(axis=axis, keepdims=keep)
        if p == 0:
            return (x != 0).astype(x.dtype).sum(axis=axis, keepdims=keep)
        if p == 1:
            return x.abs().sum(axis=axis, keepdims=keep)
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or p < 0:
            raise ValueError(f"norm: p must be 'fro', a non-negative number or ±inf, got {p!r}")
        return (x.abs() ** p).sum(axis=axis, keepdims=keep) ** (1 / p)

    def all(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """True where every element along ``dim`` is non-zero (a bool tensor)."""
        axis, keep = _tensor._reduce_args("all", axis, keepdims, dim, keepdim)
        return self._make(np.asarray(np.all(self.data, axis=_tensor._axes(
            axis, self.ndim, "all"), keepdims=keep)), False)

    def any(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """True where some element along ``dim`` is non-zero (a bool tensor)."""
        axis, keep = _tensor._reduce_args("any", axis, keepdims, dim, keepdim)
        return self._make(np.asarray(np.any(self.data, axis=_tensor._axes(
            axis, self.ndim, "any"), keepdims=keep)), False)

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

    # ------------------------------------------------------------------ in place
    def __iadd__(self, other: Any) -> Any:
        return self._inplace("+=", np.add, other, lambda: self + other)

    def __isub__(self, other: Any) -> Any:
        return self._inplace("-=", np.subtract, other, lambda: self - other)

    def __imul__(self, other: Any) -> Any:
        return self._inplace("*=", np.multiply, other, lambda: self * other)

    def __itruediv__(self, other: Any) -> Any:
        return self._inplace("/=", np.true_divide, other, lambda: self / other)

    def add_(self, other: Any, alpha: float = 1) -> Any:
        """``self += alpha·other`` in place (see the module's rules)."""
        return self._inplace("add_", np.add, other if alpha == 1 else _scaled(other, alpha))

    def sub_(self, other: Any, alpha: float = 1) -> Any:
        """``self −= alpha·other`` in place."""
        return self._inplace("sub_", np.subtract,
                             other if alpha == 1 else _scaled(other, alpha))

    def mul_(self, other: Any) -> Any:
        return self._inplace("mul_", np.multiply, other)

    def div_(self, other: Any) -> Any:
        return self._inplace("div_", np.true_divide, other)

    def masked_fill_(self, mask: Any, value: Any) -> Any:
        """:meth:`masked_fill` in place."""
        return self._overwrite("masked_fill_", self.masked_fill(mask, value).data)

    def zero_(self) -> Any:
        """Set every element to 0 in place."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Any:
        """Set every element to ``value`` in place."""
        return self._overwrite("fill_", value)

    def copy_(self, src: Any) -> Any:
        """Copy ``src``'s values (broadcast to this shape) into this tensor in place."""
        return self._overwrite("copy_", src)

    def clamp_(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002
        """:meth:`clamp` in place."""
        self._check_inplace("clamp_", min, max)
        self._write("clamp_", lambda a: np.clip(a, _value(min), _value(max), out=a))
        return self

    clip_ = clamp_

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Any:
        """Fill with normal samples from the library's generator, in place."""
        return self._overwrite("normal_", random.generator().normal(mean, std, self.shape))

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Any:
        """Fill with uniform samples from [a, b), in place."""
        return self._overwrite("uniform_", random.generator().uniform(a, b, self.shape))

    def __setitem__(self, index: Any, value: Any) -> None:
        """``x[index] = value`` in place, under the in-place rules."""
        self._check_inplace("setitem", value)
        idx = _tensor._index(index)
        self._write("setitem", lambda a: a.__setitem__(idx, _value(value)))

    def _inplace(self, op: str, ufunc: np.ufunc, other: Any,
                 out_of_place: Callable[[], Any] | None = None) -> Any:
        """``ufunc(self, other)`` written into ``self.data``; in grad mode, on a tensor of
        a graph, the operators record ``out_of_place()`` instead (a new node)."""
        if out_of_place is not None and self._recording(other):
            if self.requires_grad and self._ctx is None:
                raise RuntimeError(_LEAF.format(op=op))
            return out_of_place()
        self._check_inplace(op, other)
        o = _value(other)
        self._write(op, lambda a: ufunc(a, o, out=a, casting="same_kind"))
        return self

    def _overwrite(self, op: str, value: Any) -> Any:
        self._check_inplace(op, value)
        v = _value(value)
        self._write(op, lambda a: np.copyto(a, v, casting="same_kind"))
        return self

    def _recording(self, *others: Any) -> bool:
        """Whether an update of self by ``others`` would have to be recorded in a graph."""
        return autograd.is_grad_enabled() and (self.requires_grad or any(
            isinstance(o, _tensor.Tensor) and o.requires_grad for o in others))

    def _check_inplace(self, op: str, *others: Any) -> None:
        """Refuse an in-place update that a graph would have to record."""
        if not self._recording(*others):
            return
        if self.requires_grad and self._ctx is None:
            raise RuntimeError(_LEAF.format(op=op))
        raise RuntimeError(f"{op}: this in-place update would have to be recorded in the "
                           "graph, which named in-place methods do not do: write it as a new "
                           "tensor (y = y + x, tg.where(mask, v, y)), or run it under "
                           "tg.no_grad()")

    def _write(self, op: str, fn: Callable[[np.ndarray], Any]) -> None:
        a = self.data
        if not a.flags.writeable:
            if id(a) in autograd._locks:
                raise RuntimeError(
                    f"{op}: this tensor's array is saved for a backward pass that has not run "
                    "yet (it stays read-only until backward() frees the graph, or the graph "
                    "is dropped); updating it in place would corrupt that gradient. Call "
                    "backward() first, or build a new tensor (x = x + y)")
            raise RuntimeError(f"{op}: this tensor's array is read-only (a broadcast view or "
                               "a read-only NumPy array); work on a copy: x = x.clone()")
        try:
            fn(a)
        except (TypeError, ValueError) as e:
            kind = TypeError if isinstance(e, TypeError) else ValueError  # (not NumPy's
            raise kind(f"{op}: cannot update a tensor of shape {self.shape} and dtype "  # own
                       f"{self.dtype} in place: {e}") from None  # subclasses: other arguments)


def zero_grads(params: Iterable[Any], set_to_none: bool = True) -> None:
    """``p.grad = None`` for every ``p``, or zeros in place with ``set_to_none=False``."""
    for p in params:
        if set_to_none or p.grad is None:
            p.grad = None
        elif p.grad.flags.writeable:
            p.grad[...] = 0
        else:
            p.grad = np.zeros_like(p.grad)


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


def _value(x: Any) -> Any:
    """The array behind a Tensor operand; anything else as it is."""
    if isinstance(x, memoryview):
        raise TypeError("got a memoryview: in tinygrad_ng p.grad is already the NumPy array "
                        "(p.grad.data is NumPy's raw buffer); use p.grad itself")
    return x.data if isinstance(x, _tensor.Tensor) else x


def _scaled(other: Any, alpha: float) -> Any:
    return other * alpha if isinstance(other, _tensor.Tensor) else np.multiply(
        _value(other), alpha)


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


def _variance_args(op: str, ndim: int, args: tuple, axis: Any, keepdims: bool, ddof: Any,
                   dim: Any, keepdim: Any, correction: Any,
                   unbiased: Any) -> tuple[Any, bool, Any]:
    """(axes, keepdims, ddof) for ``var``/``std`` under the rules of :meth:`var`."""
    if len(args) > 1:
        raise TypeError(f"{op}: the second positional argument is keepdims in NumPy and "
                        "unbiased in PyTorch; give it by name (keepdims=, ddof= or keepdim=, "
                        "correction=, unbiased=)")
    given = [c for c in (ddof, correction, None if unbiased is None else int(bool(unbiased)))
             if c is not None]
    if len(given) > 1:
        raise TypeError(f"{op}: give one of ddof=, correction= and unbiased=")
    if args:
        if axis is not None or dim is not None:
            raise TypeError(f"{op}: the axis was given both by position and by name")
        if not given:
            raise TypeError(f"{op}: x.{op}({args[0]!r}) divides by n in NumPy and by n − 1 in "
                            f"PyTorch; say which: x.{op}(axis={args[0]!r}) (n), "
                            f"x.{op}(dim={args[0]!r}) (n − 1), or pass ddof=/correction=")
        axis = args[0]
    torch = dim is not None
    axis, keepdims = _tensor._reduce_args(op, axis, keepdims, dim, keepdim)
    correction = given[0] if given else (1 if torch else 0)
    return _tensor._axes(axis, ndim, op), keepdims, correction


from . import tensor as _tensor  # noqa: E402  (this module is Tensor's base: names at call time)
