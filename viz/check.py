"""The course's gradient check, run on a recorded graph instead of a function.

For every leaf θ that requires grad, backprop's dθ is compared with centred differences
``(J(θ + εeᵢ) − J(θ − εeᵢ)) / 2ε`` by the relative difference
``‖dθ_approx − dθ‖₂ / (‖dθ_approx‖₂ + ‖dθ‖₂)``. J is re-evaluated by *replaying* the graph:
each node's op (``type(ctx)``) is applied again, with the keyword arguments it was recorded
with (``ctx.kwargs``), to the perturbed values of its parents. Everything runs in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinygrad_ng import autograd, ops, random
from tinygrad_ng.dtypes import default_dtype
from tinygrad_ng.gradcheck import central_differences, grad, relative_difference
from tinygrad_ng.tensor import Tensor

from .walk import recorded_parents, topological_order

#: Relative differences below these are "green" (correct) and "amber" (suspicious);
#: anything larger is "red" (a bug).
GREEN_BELOW = 1e-6
AMBER_BELOW = 1e-3


@dataclass
class LeafCheck:
    """The gradient check of one leaf of a graph."""

    leaf: Tensor
    relative_difference: float

    @property
    def status(self) -> str:
        """``"green"`` (< 1e-6), ``"amber"`` (< 1e-3) or ``"red"``."""
        d = self.relative_difference
        return "green" if d < GREEN_BELOW else "amber" if d < AMBER_BELOW else "red"

    def __repr__(self) -> str:
        name = self.leaf.name or f"leaf {self.leaf.shape}"
        return f"LeafCheck({name}: relative difference {self.relative_difference:.2e}, " \
               f"{self.status})"


def replay(order: list[Tensor], values: dict[int, Tensor]) -> Tensor:
    """Recompute the graph ``order`` (topological, root last) from new leaf values.

    ``values`` maps ``id(leaf)`` to the tensor that replaces it; other leaves are used as
    float64 copies. Returns the new root.
    """
    new: dict[int, Tensor] = {}
    for t in order:
        ctx = t._ctx
        if ctx is None:
            new[id(t)] = values[id(t)] if id(t) in values else _float64(t)
            continue
        if not hasattr(ctx, "kwargs"):
            raise RuntimeError(f"check: node '{ctx.op_name}' did not record its keyword "
                               "arguments (ctx.kwargs), so the graph cannot be replayed")
        kwargs = ctx.kwargs
        if type(ctx) is ops.Cast and np.dtype(kwargs["dtype"]).kind == "f":
            kwargs = {**kwargs, "dtype": np.float64}  # keep the replay in float64
        args = [new[id(p)] if isinstance(p, Tensor) else p for p in ctx.parents]
        new[id(t)] = type(ctx).apply(*args, **kwargs)
    return new[id(order[-1])]


def _float64(t: Tensor) -> Tensor:
    if t.dtype.kind != "f":
        return t
    return Tensor(t.data.astype(np.float64), requires_grad=t.requires_grad, name=t.name)


def check_graph(root: Tensor, eps: float = 1e-6) -> list[LeafCheck]:
    """Gradient-check every leaf of ``root``'s graph that requires grad.

    The objective is ``root`` itself when it has one element, else ``Σ root ⊙ v`` for a
    fixed random ``v`` (a vector-Jacobian product, as ``tg.gradcheck`` does). Random ops
    (dropout) draw the same numbers in every replay. Costs two replays per leaf element:
    meant for small graphs.
    """
    if root._ctx is None:
        raise ValueError("check: the root is a leaf, there is no graph to check")
    order = topological_order(root, parents=recorded_parents)
    leaves = [t for t in order if t._ctx is None and t.requires_grad]
    weight = None if root.size == 1 else np.random.default_rng(0).standard_normal(root.shape)
    state = random.get_state()
    with default_dtype(np.float64):
        copies = {id(t): _float64(t) for t in leaves}

        def objective() -> Tensor:
            random.set_state(state)
            out = replay(order, copies)
            return out.sum() if weight is None else (out * Tensor(weight)).sum()

        try:
            with autograd.no_grad():
                numeric = [central_differences(copies[id(t)].data, lambda: objective().item(),
                                               eps) for t in leaves]
            analytic = grad(objective(), [copies[id(t)] for t in leaves], allow_unused=True)
        finally:
            random.set_state(state)
    return [LeafCheck(t, relative_difference(n, np.zeros_like(n) if a is None else a))
            for t, n, a in zip(leaves, numeric, analytic)]
