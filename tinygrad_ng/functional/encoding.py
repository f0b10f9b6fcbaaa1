"""Class indices as vectors: ``one_hot``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ._common import _tensor


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """The one-hot rows of integer class indices: shape ``(*tensor.shape, num_classes)``,
    int64 (PyTorch's ``F.one_hot``); ``num_classes=-1`` takes the largest index + 1."""
    t = _tensor(tensor)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects integer class indices, got {t.dtype}")
    labels = t.data
    if num_classes == -1:
        if not labels.size:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor")
        num_classes = int(labels.max()) + 1
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: class values must lie in [0, {num_classes}), got "
                         f"[{labels.min()}, {labels.max()}]")
    return Tensor(np.eye(num_classes, dtype=np.int64)[labels])
