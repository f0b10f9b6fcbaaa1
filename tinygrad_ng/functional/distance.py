"""Similarity between vectors: ``cosine_similarity``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ._common import _float_tensor


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """cos θ = Σ (x1/max(‖x1‖, ε))·(x2/max(‖x2‖, ε)) along ``dim``, after broadcasting the
    two (PyTorch's ``F.cosine_similarity``); a zero vector gives 0, never NaN."""
    x1, x2 = _float_tensor(x1), _float_tensor(x2)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"cosine_similarity: shapes {x1.shape} and {x2.shape} do not "
                         "broadcast") from None
    x1, x2 = x1.broadcast_to(*shape), x2.broadcast_to(*shape)
    u1 = x1 / x1.norm(dim=dim, keepdim=True).clamp_min(eps)
    u2 = x2 / x2.norm(dim=dim, keepdim=True).clamp_min(eps)
    return (u1 * u2).sum(dim=dim)
