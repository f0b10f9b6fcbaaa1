"""Hypothesis strategies for property tests of autograd ops.

    from hypothesis import given
    from tinygrad_ng.testing.strategies import arrays, broadcastable_shapes

    @given(broadcastable_shapes(2).flatmap(lambda s: st.tuples(*(arrays(x) for x in s))))
    def test_mul(pair): ...

Requires the ``hypothesis`` package (``pip install tinygrad_ng[testing]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as e:  # pragma: no cover - exercised only without hypothesis
    raise ImportError("tinygrad_ng.testing.strategies needs hypothesis: "
                      "pip install 'tinygrad_ng[testing]'") from e

from ..tensor import Tensor


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, small enough for finite differences."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(n: int = 2, min_dims: int = 0, max_dims: int = 3,
                         max_side: int = 4) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """``n`` shapes that broadcast together (sizes of 1 and missing leading axes included)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side
                                             ).map(lambda bs: bs.input_shapes)


def arrays(shape: Any = None, low: float = -3.0, high: float = 3.0,
           dtype: Any = np.float64, avoid: float | None = None,
           margin: float = 1e-3) -> st.SearchStrategy[np.ndarray]:
    """Float arrays with values in [low, high]; ``avoid`` keeps them at least ``margin``
    away from a kink (0 for relu/abs) so that finite differences are meaningful."""
    shape = shapes() if shape is None else shape
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
    if avoid is not None:
        elements = elements.filter(lambda v: abs(v - avoid) > margin)
    return hnp.arrays(dtype, shape, elements=elements)


def tensors(shape: Any = None, low: float = -3.0, high: float = 3.0, dtype: Any = np.float64,
            requires_grad: bool = True, **kw: Any) -> st.SearchStrategy[Tensor]:
    """Tensors built from :func:`arrays` (float64 and requiring grad by default)."""
    return arrays(shape, low, high, dtype, **kw).map(
        lambda a: Tensor(a, requires_grad=requires_grad))


def axes(ndim: int, allow_none: bool = True) -> st.SearchStrategy[Any]:
    """A reduction ``axis`` for an ``ndim``-d array: None, an int (maybe negative) or a tuple."""
    options = []
    if allow_none:
        options.append(st.none())
    if ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
        options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                unique=True).map(tuple))
    return st.one_of(*options) if options else st.none()
