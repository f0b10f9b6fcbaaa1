"""The dtype policy: Python floats become the default float dtype (float32 unless changed),
Python ints int64, bools bool; NumPy arrays keep their dtype."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

_default = [np.dtype(np.float32)]


def get_default_dtype() -> np.dtype:
    """The float dtype given to Python floats and to constructors without ``dtype=``."""
    return _default[0]


def set_default_dtype(dtype) -> None:
    """``tg.set_default_dtype(np.float64)``: only float16/32/64 are accepted."""
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dt}")
    _default[0] = dt


@contextmanager
def default_dtype(dtype) -> Iterator[None]:
    """Temporarily change the default float dtype (used by the gradient checkers)."""
    prev = get_default_dtype()
    set_default_dtype(dtype)
    try:
        yield
    finally:
        _default[0] = prev


def is_float(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


# PyTorch's dtype names (``tg.float32``, ``tg.long`` …): the NumPy types they stand for, so
# ``Tensor(x, dtype=tg.float64)`` and ``x.dtype == tg.float32`` work as in PyTorch.
float16 = half = np.float16
float32 = np.float32
float64 = double = np.float64
int8, int16, int32, int64, uint8 = np.int8, np.int16, np.int32, np.int64, np.uint8
short, long = np.int16, np.int64
bool_ = np.bool_
