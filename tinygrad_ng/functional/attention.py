"""Scaled dot-product attention (course 5, week 3–4), composed from Tensor ops.

    weights = softmax(Q·Kᵀ / √d_k + mask),   output = weights · V

Written with ``@``, ``softmax`` and ``where``, so a drawing shows each step and the
backward (and second derivatives) come from those ops. Masks follow PyTorch's
``F.scaled_dot_product_attention``: a boolean ``attn_mask`` is True where a query MAY attend
to a key; a float mask is added to the scores (``-inf`` forbids). A query that may attend to
nothing gets zero weights (and so a zero output) instead of NaN.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor, where
from ._common import _float_tensor
from .activations import softmax
from .dropout import dropout


def _allowed_and_bias(attn_mask: Any, is_causal: bool, L: int, S: int, who: str
                      ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(where a query may attend: bool or None for everywhere, the finite additive bias or
    None) from a bool or float ``attn_mask`` and ``is_causal``."""
    if attn_mask is not None and is_causal:
        raise ValueError(f"{who}: pass either attn_mask or is_causal=True, not both")
    if is_causal:
        return np.tril(np.ones((L, S), dtype=bool)), None
    if attn_mask is None:
        return None, None
    mask = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
    if mask.dtype == np.bool_:
        return mask, None
    if mask.dtype.kind != "f":
        raise TypeError(f"{who}: attn_mask must be bool (True = may attend) or float (added "
                        f"to the scores), got dtype {mask.dtype}")
    allowed = mask != -np.inf
    if allowed.all():
        return None, mask
    return allowed, np.where(allowed, mask, 0)


def _broadcasts(shape: tuple, target: tuple) -> bool:
    """True when an array of ``shape`` broadcasts to ``target`` (without growing it)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def attention(query: Tensor, key: Tensor, value: Tensor, allowed: np.ndarray | None = None,
              bias: np.ndarray | None = None, dropout_p: float = 0.0,
              scale: float | None = None) -> tuple[Tensor, Tensor]:
    """(output, weights) of scaled dot-product attention for (…, L, E) queries, (…, S, E)
    keys and (…, S, Ev) values; ``allowed`` (broadcasting to (…, L, S)) marks the pairs
    that may attend, ``bias`` is added to the scores. The weights returned are those
    before dropout."""
    d_k = query.shape[-1]
    scores = query @ key.transpose(*range(key.ndim - 2), key.ndim - 1, key.ndim - 2)
    scores = scores * (1 / math.sqrt(d_k) if scale is None else scale)
    if bias is not None:
        scores = scores + bias.astype(scores.dtype, copy=False)
    if allowed is not None:
        allowed = np.broadcast_to(allowed, scores.shape)
        scores = where(allowed, scores, np.finfo(scores.dtype).min / 4)  # weight exp(−∞) = 0
    weights = softmax(scores, axis=-1)
    if allowed is not None and not allowed.any(axis=-1).all():
        weights = where(allowed.any(axis=-1, keepdims=True), weights, 0.0)
    dropped = dropout(weights, dropout_p) if dropout_p > 0 else weights
    return dropped @ value, weights


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None) -> Tensor:
    """softmax(Q·Kᵀ/√E + mask)·V for query (…, L, E), key (…, S, E), value (…, S, Ev);
    the output is (…, L, Ev). Batch axes (…) broadcast.

    - ``attn_mask``: bool (True = may attend) or float (added to the scores), broadcasting
      to (…, L, S);
    - ``is_causal``: query i attends to keys 0…i only (the decoder's mask);
    - ``dropout_p``: dropout on the attention weights (always applied when > 0, as
      PyTorch's function does; pass 0 at evaluation time);
    - ``scale``: replaces 1/√E.
    """
    q, k, v = (_float_tensor(t) for t in (query, key, value))
    who = "scaled_dot_product_attention"
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"{who}: query, key and value need at least 2 axes (…, L, E), got "
                         f"{q.shape}, {k.shape} and {v.shape}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{who}: query (…, L, E) {q.shape}, key (…, S, E) {k.shape} and "
                         f"value (…, S, Ev) {v.shape} do not fit: query and key need the same "
                         "E, key and value the same S")
    if not 0 <= dropout_p <= 1:
        raise ValueError(f"{who}: dropout_p must be in [0, 1], got {dropout_p}")
    L, S = q.shape[-2], k.shape[-2]
    allowed, bias = _allowed_and_bias(attn_mask, is_causal, L, S, who)
    for m in (allowed, bias):
        if m is not None:
            scores = q.shape[:-2] + (L, S)
            if not _broadcasts(m.shape, scores):
                raise ValueError(f"{who}: attn_mask of shape {m.shape} does not broadcast to "
                                 f"the scores' shape {scores}")
    return attention(q, k, v, allowed, bias, dropout_p, scale)[0]
