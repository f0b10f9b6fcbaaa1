"""Inverted dropout (the course's keep_prob mask)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import random, xp
from ..function import Function
from ..tensor import Tensor
from ._common import _float_tensor
from .conv import _check_batch


class Dropout(Function):
    """Inverted dropout with the course's mask d (True with probability keep_prob):

        a = x ⊙ d / keep_prob,   da/dx = d / keep_prob.

    The mask is drawn by :func:`dropout` and passed in, so the node can be replayed.
    """

    op, inputs, derivatives = "dropout", ("x",), ("d/keep_prob",)
    twice_differentiable = True

    @staticmethod
    def forward(ctx, x, mask, scale):
        ctx.mask, ctx.scale = mask, scale
        out = np.where(mask, x, 0)
        out *= scale
        return out

    @staticmethod
    def backward(ctx, g):
        return xp.where(ctx.mask, g, 0) * ctx.scale


def _check_p(p: Any, op: str) -> None:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"{op}: p must be a probability in [0, 1], got {p!r}")


def dropout(x: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability p, scale the rest by 1/keep_prob
    (keep_prob = 1 − p), so the expected activation is unchanged and evaluation needs no
    rescaling. The mask comes from the library's generator (``tg.manual_seed``). Identity
    (``x`` itself) when ``training`` is False or p = 0; p = 1 gives zeros.

    In legacy mode (``tg.manual_seed(s, legacy=True)``) the mask is the course's
    ``D = np.random.rand(*A.shape) < keep_prob`` for its activation ``A = x.T`` (the course
    stacks examples as columns, ``x`` is batch-first), transposed back: dropout layers
    called in forward order draw the course's D1, D2, ... For an ``x`` already in the
    course's layout (features × examples), call ``F.dropout(x.T, p).T``.
    """
    _check_p(p, "dropout")
    x = _float_tensor(x)
    if not training or p == 0:
        return x
    keep_prob = 1 - p
    mask = draw_mask(x.shape, keep_prob)
    return Dropout.apply(x, mask=mask, scale=1 / keep_prob if keep_prob > 0 else 0.0)


def dropout2d(input: Any, p: float = 0.5, training: bool = True) -> Tensor:  # noqa: A002
    """Channel dropout for (N, C, H, W) feature maps: each whole channel of each example is
    zeroed with probability p and the rest scaled by 1/keep_prob (neighbouring pixels are
    correlated, so dropping single pixels would hardly regularise). Identity when
    ``training`` is False or p = 0."""
    _check_p(p, "dropout2d")
    x = _float_tensor(input)
    _check_batch(x, 4, "dropout2d")
    if not training or p == 0:
        return x
    keep_prob = 1 - p
    keep = random.generator().random(x.shape[:2] + (1, 1)) < keep_prob
    scale = keep * (1 / keep_prob) if keep_prob > 0 else np.zeros(keep.shape)
    return x * Tensor(scale.astype(x.dtype))  # a product: differentiable to any order


def draw_mask(shape: tuple[int, ...], keep_prob: float) -> np.ndarray:
    """The dropout mask d: True with probability keep_prob, from the library's generator
    (in legacy mode the course's ``np.random.rand(*A.shape) < keep_prob`` for ``A = x.T``,
    transposed back). ``tg.jit`` calls it again on every replay, so a compiled step draws
    fresh masks in the same order as the eager step."""
    if random.is_legacy():
        return random.source().random(shape[::-1]).T < keep_prob
    return random.generator().random(shape) < keep_prob
