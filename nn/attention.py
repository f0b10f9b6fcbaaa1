"""``MultiheadAttention``: PyTorch's layer, parameter names and masks, on
:func:`tinygrad_ng.functional.attention`.

For each head h: Q_h = X_q·W_qhᵀ, K_h = X_k·W_khᵀ, V_h = X_v·W_vhᵀ, then
head_h = softmax(Q_h·K_hᵀ/√d_head + mask)·V_h, and the output is the heads side by side
through ``out_proj``. The three input projections are the blocks of ``in_proj_weight``
(3E, E): rows 0…E−1 for queries, E…2E−1 for keys, 2E…3E−1 for values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygrad_ng.functional as F
from tinygrad_ng.dtypes import get_default_dtype
from tinygrad_ng.functional.attention import _allowed_and_bias, attention
from tinygrad_ng.tensor import Tensor

from . import init as nn_init
from .layers import Linear, _check_features
from .module import Module, Parameter

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention, ``mha(query, key, value)`` → ``(output, weights)``.

    Shapes (E = ``embed_dim``; with ``batch_first`` the first two axes swap; a 2-D input is
    one unbatched sequence): query (L, N, E), key (S, N, kdim), value (S, N, vdim) →
    output (L, N, E); weights (N, L, S) averaged over heads, (N, num_heads, L, S) with
    ``average_attn_weights=False``, or None with ``need_weights=False``.

    Masks, as PyTorch's layer (note: True means the opposite of
    ``F.scaled_dot_product_attention``'s boolean mask):

    - ``key_padding_mask`` (N, S): True marks a key to ignore (padding); float values are
      added to the scores;
    - ``attn_mask`` (L, S) or (N·num_heads, L, S): bool True = may NOT attend, or float
      added to the scores;
    - ``is_causal=True``: query i attends to keys 0…i (used when no ``attn_mask`` is given).

    Parameters: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,) — or ``q_proj_weight``,
    ``k_proj_weight``, ``v_proj_weight`` when kdim/vdim differ from E — and ``out_proj``
    (a Linear E → E). Initialised as PyTorch: Xavier-uniform projections, zero biases.
    ``dropout`` applies to the attention weights in training mode. ``add_bias_kv`` and
    ``add_zero_attn`` are not supported.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 dtype: Any = None) -> None:
        super().__init__()
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are "
                                      "not supported (PyTorch's signature keeps their places)")
        E = self.embed_dim = _check_features(embed_dim, "MultiheadAttention", "embed_dim")
        self.num_heads = _check_features(num_heads, "MultiheadAttention", "num_heads")
        if E % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {E} must be divisible by "
                             f"num_heads {num_heads}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        self.head_dim, self.dropout, self.batch_first = E // num_heads, dropout, batch_first
        self.kdim, self.vdim = kdim or E, vdim or E
        self._qkv_same_embed_dim = self.kdim == E and self.vdim == E
        dt = get_default_dtype() if dtype is None else np.dtype(dtype)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.zeros((3 * E, E), dtype=dt))
        else:
            self.q_proj_weight = Parameter(np.zeros((E, E), dtype=dt))
            self.k_proj_weight = Parameter(np.zeros((E, self.kdim), dtype=dt))
            self.v_proj_weight = Parameter(np.zeros((E, self.vdim), dtype=dt))
        self.in_proj_bias = Parameter(np.zeros(3 * E, dtype=dt)) if bias else None
        self.out_proj = Linear(E, E, bias=bias, dtype=dt)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases."""
        if self._qkv_same_embed_dim:
            nn_init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                nn_init.xavier_uniform_(w)
        self.out_proj.reset_parameters()
        for b in (self.in_proj_bias, self.out_proj.bias):
            if b is not None:
                nn_init.zeros_(b)

    def _projections(self) -> list[tuple[Tensor, Tensor | None]]:
        """(weight, bias) of the query, key and value projections."""
        E, b = self.embed_dim, self.in_proj_bias
        biases = [None] * 3 if b is None else [b[k * E:(k + 1) * E] for k in range(3)]
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            weights = [w[k * E:(k + 1) * E] for k in range(3)]
        else:
            weights = [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight]
        return list(zip(weights, biases))

    def _batch_first(self, t: Any, n: int, name: str) -> tuple[Tensor, bool]:
        """``t`` as (N, len, n), and whether it was unbatched."""
        t = F._float_tensor(t)
        layout = "(N, len, {})" if self.batch_first else "(len, N, {})"
        if t.ndim not in (2, 3) or t.shape[-1] != n:
            raise ValueError(f"MultiheadAttention: expected {name} of shape "
                             f"{layout.format(n)} or (len, {n}) unbatched, got {t.shape}"
                             + ("" if self.batch_first else
                                "; pass batch_first=True for (N, len, features) data"))
        if t.ndim == 2:
            return t.reshape(1, *t.shape), True
        return (t if self.batch_first else t.transpose(1, 0, 2)), False

    def _masks(self, key_padding_mask: Any, attn_mask: Any, is_causal: bool, N: int, L: int,
               S: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(allowed (N, h, L, S)-broadcastable bool or None, additive bias or None)."""
        h, who = self.num_heads, "MultiheadAttention"
        allowed, bias = None, None
        if attn_mask is not None:
            m = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
            if m.shape not in ((L, S), (N * h, L, S)):
                raise ValueError(f"{who}: attn_mask must be (L, S) = {(L, S)} or "
                                 f"(N·num_heads, L, S) = {(N * h, L, S)}, got {m.shape}")
            m = m.reshape(N, h, L, S) if m.ndim == 3 else m
            allowed, bias = _allowed_and_bias(~m if m.dtype == np.bool_ else m, False, L, S, who)
        elif is_causal:
            allowed, _ = _allowed_and_bias(None, True, L, S, who)
        if key_padding_mask is not None:
            k = key_padding_mask.data if isinstance(key_padding_mask, Tensor) \
                else np.asarray(key_padding_mask)
            if k.shape != (N, S):
                raise ValueError(f"{who}: key_padding_mask must be (N, S) = {(N, S)}, got "
                                 f"{k.shape}")
            keep, kbias = _allowed_and_bias(~k if k.dtype == np.bool_ else k, False, 1, S, who)
            if keep is not None:
                keep = keep.reshape(N, 1, 1, S)
                allowed = keep if allowed is None else allowed & keep
            if kbias is not None:
                kbias = kbias.reshape(N, 1, 1, S)
                bias = kbias if bias is None else bias + kbias
        return allowed, bias

    def forward(self, query: Any, key: Any, value: Any, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True, is_causal: bool = False
                ) -> tuple[Tensor, Tensor | None]:
        q, unbatched = self._batch_first(query, self.embed_dim, "query")
        k, _ = self._batch_first(key, self.kdim, "key")
        v, _ = self._batch_first(value, self.vdim, "value")
        N, L, S, h, d = q.shape[0], q.shape[1], k.shape[1], self.num_heads, self.head_dim
        if k.shape[:2] != (N, S) or v.shape[:2] != (N, S):
            raise ValueError(f"MultiheadAttention: key and value must hold the same number of "
                             f"sequences and steps as each other and the query (N = {N}), got "
                             f"key {k.shape[:2]} and value {v.shape[:2]} as (N, len)")
        allowed, bias = self._masks(key_padding_mask, attn_mask, is_causal, N, L, S)
        heads = []
        for t, (w, b), n in zip((q, k, v), self._projections(), (L, S, S)):  # (N, h, n, d)
            heads.append(F.linear(t, w, b).reshape(N, n, h, d).transpose(0, 2, 1, 3))
        p = self.dropout if self.training else 0.0
        out, weights = attention(*heads, allowed, bias, p)
        out = self.out_proj(out.transpose(0, 2, 1, 3).reshape(N, L, self.embed_dim))
        if unbatched:
            out = out.reshape(L, self.embed_dim)
        elif not self.batch_first:
            out = out.transpose(1, 0, 2)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, (weights.reshape(*weights.shape[1:]) if unbatched else weights)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"
