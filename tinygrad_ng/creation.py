"""PyTorch's constructors beside ``tg.zeros``, ``tg.ones``, ``tg.randn`` … (in
``tensor.py``): ``tg.tensor``, ``tg.from_numpy``, the ``*_like`` family, ``tg.randint``,
``tg.linspace`` and ``tg.empty``.

Floats get the default float dtype (``tg.set_default_dtype``) unless ``dtype=`` says
otherwise; random draws come from the library's generator (``tg.manual_seed``).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import random
from .tensor import Tensor, _float, _shape_args, rand, randn, zeros
from .tensor_pytorch import check_device


# ---------------------------------------------------------------------- PyTorch's factories
def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None,
           name: str | None = None) -> Tensor:
    """PyTorch's ``torch.tensor``: a tensor holding a **copy** of ``data`` (a number, a nested
    list, an array or a Tensor), under the same dtype rules as ``Tensor(data)`` (which
    shares an array instead of copying it). ``device`` may only be ``"cpu"``."""
    check_device("tensor", device)
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        data = data.copy()
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory (PyTorch's ``torch.from_numpy``): in-place updates
    of either are seen by the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    return Tensor(array)


def _like(x: Any, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    return arr.shape, arr.dtype if dtype is None else np.dtype(dtype)


def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``x``'s shape and dtype (or ``dtype``)."""
    shape, dt = _like(x, dtype)
    return Tensor(np.zeros(shape, dt), requires_grad=requires_grad)


def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``x``'s shape and dtype (or ``dtype``)."""
    shape, dt = _like(x, dtype)
    return Tensor(np.ones(shape, dt), requires_grad=requires_grad)


def full_like(x: Any, fill_value: float, dtype: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, in ``x``'s shape and dtype (or ``dtype``)."""
    shape, dt = _like(x, dtype)
    return Tensor(np.full(shape, fill_value, dt), requires_grad=requires_grad)


def _float_like(x: Any, dtype: Any, op: str) -> tuple[tuple[int, ...], np.dtype]:
    shape, dt = _like(x, dtype)
    if dt.kind != "f":
        raise TypeError(f"{op}: draws floats; x has dtype {dt}: pass dtype=tg.float32")
    return shape, dt


def randn_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples in ``x``'s shape and (floating) dtype."""
    shape, dt = _float_like(x, dtype, "randn_like")
    return randn(*shape, dtype=dt, requires_grad=requires_grad)


def rand_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) in ``x``'s shape and (floating) dtype."""
    shape, dt = _float_like(x, dtype, "rand_like")
    return rand(*shape, dtype=dt, requires_grad=requires_grad)


def randint(low: int, high: int | None = None, size: Any = None, dtype: Any = np.int64,
            requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high) (``randint(high, size)`` starts at 0), as
    PyTorch's ``torch.randint(low, high, size)``: ``size`` is required."""
    if size is None:
        if high is None or isinstance(high, numbers.Integral):
            raise TypeError("randint: give the size, e.g. tg.randint(0, 10, (3,)) or "
                            "tg.randint(10, (3,))")
        low, high, size = 0, low, high
    shape = (size,) if isinstance(size, numbers.Integral) else _shape_args(tuple(size))
    if not high > low:
        raise ValueError(f"randint: need low < high, got [{low}, {high})")
    data = random.generator().integers(low, high, size=shape).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (PyTorch's
    ``torch.linspace``; the default float dtype)."""
    if not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    return Tensor(np.linspace(start, end, int(steps), dtype=_float(dtype)),
                  requires_grad=requires_grad)


def empty(*shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """PyTorch's ``torch.empty``; filled with zeros here (never uninitialised memory)."""
    return zeros(*shape, requires_grad=requires_grad, dtype=dtype)
