"""Reductions, scans and orderings with PyTorch's spellings: ``max(dim)``/``min(dim)`` as
``(values, indices)``, ``var``/``std`` with NumPy's and PyTorch's corrections, ``argmax``,
``sort``, ``topk``, ``prod``, ``cumsum``, ``cumprod``, ``norm``, ``all``, ``any`` …

Where NumPy and PyTorch read one spelling differently, the docstring says which reading
applies, and a call that could be read both ways raises instead of guessing.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np


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


class ReductionMethods:
    """The reductions of :class:`~tinygrad_ng.tensor.Tensor` that PyTorch users type (a
    mixin)."""

    __slots__ = ()

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


from . import tensor as _tensor  # noqa: E402  (a base of Tensor: names resolved at call time)
