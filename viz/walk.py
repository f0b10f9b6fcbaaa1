"""Walking a computation graph without recursion (graphs may be a million ops deep).

A graph is reached from its root through ``tensor._ctx.parents``; a parent that is not a
Tensor (a boolean mask, an index array) is an argument of the op, not a node. A constant
computed from a named tensor (``1 - y``) is reached through the op the engine kept for
drawings (:func:`node_of`), so it is drawn as the user wrote it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Container

from tinygrad_ng.autograd import recipe
from tinygrad_ng.function import Function
from tinygrad_ng.tensor import Tensor


def node_of(t: Tensor) -> Function | None:
    """The op a drawing shows as computing ``t``: its graph node, or for a constant
    expression of a named tensor (``1 - y``, recorded by no graph) the op the engine kept
    for drawings; None for a leaf."""
    ctx = t._ctx
    return ctx if ctx is not None else recipe(t)


def tensor_parents(t: Tensor) -> list[Tensor]:
    """The tensors ``t`` was computed from, as a drawing shows them (empty for a leaf)."""
    ctx = node_of(t)
    if ctx is None:
        return []
    return [p for p in ctx.parents if isinstance(p, Tensor)]


def recorded_parents(t: Tensor) -> list[Tensor]:
    """The tensors ``t``'s recorded graph node was computed from (empty for a leaf, a kept
    constant expression included)."""
    if t._ctx is None:
        return []
    return [p for p in t._ctx.parents if isinstance(p, Tensor)]


def nearest_first(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` depends on, breadth-first from the root (root first).

    Cutting this list keeps the part of the graph closest to the output, which is what a
    drawing with ``max_nodes`` shows.
    """
    order = [root]
    seen = {id(root)}
    queue = deque([root])
    while queue:
        for p in tensor_parents(queue.popleft()):
            if id(p) not in seen:
                seen.add(id(p))
                order.append(p)
                queue.append(p)
    return order


def topological_order(root: Tensor, within: Container[int] | None = None,
                      parents: Callable[[Tensor], list[Tensor]] = tensor_parents
                      ) -> list[Tensor]:
    """Every tensor ``root`` depends on, each after all of its parents (root last).

    ``within`` (a set of tensor ids) restricts the walk to those tensors, e.g. the part of a
    graph a drawing shows; ``parents=recorded_parents`` walks the recorded graph only (a
    kept constant expression is a leaf, as for backward). Depth-first post-order with an
    explicit stack of parent iterators.
    """
    order: list[Tensor] = []
    seen = {id(root)}
    stack = [(root, iter(parents(root)))]
    while stack:
        node, todo = stack[-1]
        for p in todo:
            if id(p) not in seen and (within is None or id(p) in within):
                seen.add(id(p))
                stack.append((p, iter(parents(p))))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def consumers(nodes: list[Tensor]) -> dict[int, list[Tensor]]:
    """For each tensor id in ``nodes``: the tensors of ``nodes`` computed from it
    (once per use, so ``x * x`` lists its output twice)."""
    used_by: dict[int, list[Tensor]] = {id(t): [] for t in nodes}
    for t in nodes:
        for p in tensor_parents(t):
            if id(p) in used_by:
                used_by[id(p)].append(t)
    return used_by


def uses(nodes: list[Tensor]) -> dict[int, list[tuple[int, int]]]:
    """For each tensor id: the edges ``(id(child), slot)`` along which the tensors of
    ``nodes`` use it (``x * x``: two edges into one child)."""
    out: dict[int, list[tuple[int, int]]] = {}
    for t in nodes:
        ctx = node_of(t)
        if ctx is not None:
            for slot, p in enumerate(ctx.parents):
                if isinstance(p, Tensor):
                    out.setdefault(id(p), []).append((id(t), slot))
    return out
