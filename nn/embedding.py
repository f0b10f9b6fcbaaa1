"""``Embedding``: a table of learned vectors, one row per token (the course's word embeddings)."""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygrad_ng.functional as F
from tinygrad_ng.dtypes import get_default_dtype
from tinygrad_ng.functional.embedding import _padding_idx
from tinygrad_ng.tensor import Tensor

from . import init as nn_init
from .layers import _check_features
from .module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """A lookup table: ``emb(indices)`` gives row ``i`` of ``weight`` for every integer ``i``,
    shape ``indices.shape + (embedding_dim,)``.

    ``weight`` (num_embeddings, embedding_dim) starts N(0, 1) (PyTorch's default). The course
    writes the embedding matrix E as (embedding_dim, vocabulary) and e_w = E·o_w; here E is
    ``weight.T`` and the lookup replaces the product with the one-hot o_w.
    ``padding_idx``: that row starts at zero and receives no gradient (a padding token).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None, dtype: Any = None) -> None:
        super().__init__()
        self.num_embeddings = _check_features(num_embeddings, "Embedding", "num_embeddings")
        self.embedding_dim = _check_features(embedding_dim, "Embedding", "embedding_dim")
        self.padding_idx = _padding_idx(padding_idx, num_embeddings, "Embedding")
        dt = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.zeros((num_embeddings, embedding_dim), dtype=dt))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fresh rows from N(0, 1); the padding row (if any) zeroed."""
        nn_init.normal_(self.weight, std=1.0)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        padding_idx: int | None = None) -> Embedding:
        """An Embedding holding ``embeddings`` (a 2-D array or tensor, copied), frozen
        (``requires_grad=False``) unless ``freeze=False``."""
        table = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if table.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: expected a 2-D table, got shape "
                             f"{table.shape}")
        emb = cls(*table.shape, padding_idx=padding_idx,
                  dtype=table.dtype if table.dtype.kind == "f" else None)
        emb.weight.data[...] = table
        emb.weight.requires_grad_(not freeze)
        return emb

    def forward(self, input: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
