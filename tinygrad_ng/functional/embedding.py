"""Embedding lookup: row ``i`` of a table for every integer ``i`` (the course's word vectors).

Multiplying a one-hot vector oᵢ by the embedding matrix E picks out row i (the course writes
e_i = E·oᵢ with E of shape (300, 10000)); a lookup does the same without building oᵢ. Its
backward adds every incoming gradient row to the row it came from: rows used twice get both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import xp
from ..function import Function
from ..tensor import Tensor
from ._common import _float_tensor


class Embedding(Function):
    """out[..., :] = weight[indices[...], :];  ∂/∂weight[i] = Σ of the gradient rows at i.

    With ``padding_idx`` the row of that index receives no gradient (PyTorch's rule: it stays
    as it is, usually zeros, through training).
    """

    op, inputs, derivatives = "embedding", ("weight",), ("1 at the looked-up rows",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None):
        ctx.rows, ctx.indices = weight.shape, indices
        ctx.keep = None if padding_idx is None else (indices != padding_idx)[..., None]
        return weight[indices]

    @staticmethod
    def backward(ctx, g):
        if ctx.keep is not None:
            g = g * ctx.keep
        return xp.scatter(ctx.rows, ctx.indices, g), None


def embedding(input: Any, weight: Any, padding_idx: int | None = None) -> Tensor:  # noqa: A002
    """Rows of ``weight`` (num_embeddings, embedding_dim) at the integer ``input`` (any
    shape): a tensor of shape ``input.shape + (embedding_dim,)``.

    ``padding_idx`` (negative counts from the end, as PyTorch) marks a row that gets no
    gradient. Indices must be integers in ``[0, num_embeddings)``; one outside names itself
    and the table's size.
    """
    w = _float_tensor(weight)
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be a 2-D table (num_embeddings, "
                         f"embedding_dim), got shape {w.shape}")
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    n = w.shape[0]
    if idx.size:
        low, high = idx.min(), idx.max()
        if low < 0 or high >= n:
            bad = int(low if low < 0 else high)
            raise IndexError(f"embedding: index {bad} is out of range for a table of {n} rows "
                             f"(num_embeddings={n}); indices must be in [0, {n - 1}]")
    return Embedding.apply(w, idx, padding_idx=_padding_idx(padding_idx, n, "embedding"))


def _padding_idx(padding_idx: int | None, n: int, who: str) -> int | None:
    """``padding_idx`` checked against a table of ``n`` rows, made non-negative."""
    if padding_idx is None:
        return None
    if not -n <= padding_idx < n:
        raise ValueError(f"{who}: padding_idx {padding_idx} is out of range for a table of "
                         f"{n} rows")
    return int(padding_idx) % n
