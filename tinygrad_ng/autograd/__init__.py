"""The reverse-mode engine: grad mode, anomaly mode, array locks and backpropagation.

Backpropagation visits nodes in reverse creation order: each node is numbered when it is
created, after its inputs, so taking the highest-numbered pending node (a heap) reaches a
node only once every consumer has sent its gradient. No recursion, no counting pass: a
chain of a million ops is fine. The engine (not the ops) does the plumbing: it
un-broadcasts each gradient to its input's shape, casts it to the input's dtype, skips
inputs that need no gradient and sums the contributions of every path.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..tensor import Tensor


class _State(threading.local):
    """Per-thread modes; class attributes are every new thread's defaults."""

    grad = True
    anomaly = False
    node = None  # the tensor whose backward runs on Tensors now (create_graph=True)


state = _State()


def is_grad_enabled() -> bool:
    """True when operations record a graph (the default, per thread)."""
    return state.grad


class _GradMode:
    """Context manager and decorator that sets grad mode for the current thread."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.prev: list[bool] = []

    def __enter__(self) -> None:
        self.prev.append(is_grad_enabled())
        state.grad = self.enabled

    def __exit__(self, *exc: object) -> None:
        state.grad = self.prev.pop()

    def __call__(self, fn):  # used as a decorator
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _GradMode(self.enabled):
                return fn(*args, **kwargs)

        return wrapper


def no_grad() -> _GradMode:
    """``with tg.no_grad():`` — ops inside record no graph (inference, optimiser updates)."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """``with tg.enable_grad():`` — turns recording back on inside a ``no_grad`` block."""
    return _GradMode(True)


class set_grad_enabled(_GradMode):  # noqa: N801 (a function in PyTorch's spelling)
    """``tg.set_grad_enabled(False)`` sets grad mode now; used in a ``with`` statement it
    restores the previous mode at the end of the block."""

    def __init__(self, mode: bool) -> None:
        super().__init__(bool(mode))
        self.prev.append(is_grad_enabled())
        state.grad = self.enabled

    def __enter__(self) -> None:  # already set by the call
        pass


#: Creation order of graph nodes: a node's inputs always have smaller numbers than it.
sequence = itertools.count()

# ----------------------------------------------------------------------------- module scopes
# nn.Module.__call__ pushes its dotted name here, and every node records the innermost one
# (``ctx.scope``), so graph drawings can group nodes by the module that produced them.

scopes: list[str] = []


@contextmanager
def scope(name: str) -> Iterator[None]:
    """Label the nodes created inside (used by ``nn.Module.__call__``)."""
    scopes.append(name)
    try:
        yield
    finally:
        scopes.pop()


# ----------------------------------------------------------------------------- anomaly mode


def is_anomaly_enabled() -> bool:
    return state.anomaly


class AnomalyError(FloatingPointError):
    """A NaN or Inf appeared while ``tg.detect_anomaly()`` was active."""


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise at the first NaN/Inf produced in forward or backward.

    The error names the op and the line of user code that created the node, so a
    ``nan`` cost can be traced to its source. It costs a stack walk per op: debug only.
    """
    prev = is_anomaly_enabled()
    state.anomaly = True
    try:
        with np.errstate(all="ignore"):
            yield
    finally:
        state.anomaly = prev


def user_source_line() -> str:
    """``file:line: code`` of the innermost stack frame outside this package."""
    import os
    import sys
    import traceback

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pkg_roots = {here, os.path.join(here, "autograd"), os.path.join(os.path.dirname(here), "nn"),
                 os.path.join(os.path.dirname(here), "optim"),
                 os.path.join(os.path.dirname(here), "viz")}
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.dirname(os.path.abspath(frame.f_code.co_filename))
        if path not in pkg_roots and "/tinygrad_ng/" not in frame.f_code.co_filename:
            summary = traceback.FrameSummary(frame.f_code.co_filename, frame.f_lineno,
                                             frame.f_code.co_name)
            return f"{summary.filename}:{summary.lineno}: {(summary.line or '').strip()}"
        frame = frame.f_back
    return "<unknown>"


def check_finite(array: np.ndarray, op: str, where: str, source: str | None) -> None:
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = "NaN" if np.isnan(array).any() else "Inf"
        origin = (f"the op was created at {source}" if source else "the op was created "
                  "outside detect_anomaly(), so its source line is unknown: build the graph "
                  "inside the block too")
        raise AnomalyError(f"{op}: {where} produced {bad}; {origin}")


# ----------------------------------------------------------------------------- array locks
# An array saved for backward is made read-only until the graph has used it (or is freed),
# so `w.data[...] = 0` between forward and backward fails loudly instead of silently
# corrupting the gradient. Counts let several graphs hold the same array.

#: What a node's ``saved`` becomes once backward has released it.
FREED = object()

_locks: dict[int, int] = {}  # id(array) -> number of live holds (the holds keep it alive)
#: Views released while another node still held their base read-only (NumPy refuses to
#: make such a view writeable): made writeable when a later release frees their base.
_waiting: list = []


class Lock(list):
    """A hold on the arrays one node saved for backward (a list of them): they stay
    read-only while any hold on them lives. Dropping the hold (after backward, or with a
    graph that is never backpropagated) releases it; the last release makes an array
    writeable again. (A list subclass: made by C code, no Python ``__init__`` per op.)"""

    __slots__ = ()

    def __del__(self) -> None:
        for a in self:
            key = id(a)
            n = _locks[key] - 1
            if n:
                _locks[key] = n
            else:
                del _locks[key]
                try:
                    a.setflags(True)  # (positional: much cheaper than write=True)
                except ValueError:  # a view of an array another node holds: later
                    _waiting.append(a)
        if _waiting:
            _release_waiting()


def _release_waiting() -> None:
    """Make writeable the waiting views whose base is free again. (A waiting view is
    read-only, so no newer node locks it meanwhile.)"""
    for a in list(_waiting):
        try:
            a.setflags(True)
        except ValueError:  # its base is still held
            continue
        _waiting.remove(a)


def lock(arrays: tuple) -> Lock | None:
    """Make the writeable arrays among ``arrays`` read-only; None when there were none."""
    held = []
    for a in arrays:
        if type(a) is not np.ndarray:
            continue
        key = id(a)
        n = _locks.get(key)
        if n is not None:
            _locks[key] = n + 1
        elif a.flags.writeable:
            a.setflags(False)
            _locks[key] = 1
        else:  # read-only already (a constant, a broadcast view): nothing to guard
            continue
        held.append(a)
    return Lock(held) if held else None


# ----------------------------------------------------------------------------- backpropagation


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the adjoint of NumPy broadcasting."""
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def backprop(roots: list[Tensor], grads: list, retain_graph: bool, retain_grads: bool = False,
             targets: list[Tensor] | None = None, create_graph: bool = False) -> list | None:
    """Send ``grads`` back from ``roots`` through the graph.

    Order: every node carries the sequence number of its creation, and a node's inputs were
    always created before it. Popping pending nodes from a max-heap of sequence numbers
    therefore visits each node after all of its consumers (a reverse topological order)
    without a counting pass and without recursion.

    With ``targets`` None, gradients accumulate into the ``.grad`` of leaves (and of
    non-leaves that retain it); otherwise nothing's ``.grad`` is touched and the gradients
    of ``targets`` are returned (``None`` for a target the roots do not depend on). When
    every target is a non-leaf, nothing created before the earliest one is visited.

    With ``create_graph`` (targets only) the gradients are Tensors and every backward rule
    runs on Tensors, recording the graph of the backward pass itself.
    """
    pending: dict = {}   # non-leaf node -> gradient summed so far
    owned: set[int] = set()  # ids of pending sums allocated here (safe to add into in place)
    handed: set[int] = set()  # ids of arrays given to some .grad in this pass
    capture = None if targets is None else {id(t): None for t in targets}
    stop = -1  # nodes numbered below this cannot lead to a target
    if targets and all(t._ctx is not None for t in targets):
        stop = min(t._ctx.seq for t in targets)
    graph = create_graph
    heap: list = []
    anomaly = state.anomaly

    leaves: dict = {}    # leaf -> gradient summed over every path, stored at the end
    ctx = None

    ndarray = np.ndarray
    # Each round delivers gradients to the inputs of one node (first: the roots' seeds),
    # then takes the newest pending node and runs its backward.
    parents, needs, parent_grads = roots, [True] * len(roots), grads
    while True:
        for parent, needed, g in zip(parents, needs, parent_grads):
            if needed and g is not None:
                data = parent.data
                if graph:
                    g = _conform_tensor(g, parent, ctx)
                elif type(g) is not ndarray or g.shape != data.shape or (
                        g.dtype is not data.dtype and g.dtype != data.dtype):
                    g = _conform(g, data, ctx)
                if anomaly and ctx is not None:  # (ctx None: the roots' seeds)
                    check_finite(g.data if graph else g, ctx.op_name, "backward", ctx.source)
                pctx = parent._ctx
                sums = leaves if pctx is None else pending  # leaves: stored at the end
                if parent in sums:  # a second path to it: add
                    if graph:  # (a Tensor sum, recorded; never updated in place)
                        sums[parent] = sums[parent] + g
                    else:
                        _accumulate(sums, owned, parent, g)
                else:
                    sums[parent] = g
                    if pctx is not None:
                        heappush(heap, (-pctx.seq, parent))
        if not heap:
            break
        node = heappop(heap)[1]
        if node._ctx.seq < stop:  # every target has its gradient
            break
        grad = pending.pop(node)
        if owned:
            owned.discard(id(grad))
        ctx = node._ctx
        if capture is not None:
            if id(node) in capture:
                capture[id(node)] = grad
        elif retain_grads or node._retains_grad:
            _store_grad(node, grad, handed)
        if ctx.saved is FREED:
            raise RuntimeError(
                f"backward: the graph through '{ctx.op_name}' was already freed by an "
                "earlier backward(); pass retain_graph=True to the first backward() to "
                "backpropagate through the same graph twice")
        if anomaly:
            check_finite(grad.data if graph else grad, ctx.op_name,
                         "backward (incoming gradient)", ctx.source)
        parent_grads = _backward_on_tensors(ctx, node, grad) if graph else ctx.backward(ctx, grad)
        if type(parent_grads) is not tuple:
            parent_grads = (tuple(parent_grads) if type(parent_grads) is list
                            else (parent_grads,))
        if not retain_graph:  # free what backward needed (dropping the lock unlocks);
            # a later backward through this node raises
            ctx.saved, ctx.locked = FREED, None
        parents, needs = ctx.parents, ctx.needs_input_grad
        if len(parent_grads) != len(parents):
            parent_grads = _spread(ctx, parent_grads)
    for leaf, g in leaves.items():
        if capture is None:
            _store_grad(leaf, g, handed)
        elif id(leaf) in capture:
            capture[id(leaf)] = g
    if capture is not None:
        return [capture[id(t)] for t in targets]
    return None


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> list:
    """d(outputs)/d(inputs), leaving every ``.grad`` untouched (PyTorch's ``torch.autograd.grad``).

    ``grad_outputs`` (one per output: the gradient of the final objective with respect to
    it) defaults to 1 for one-element outputs. Returns one entry per input: a NumPy array,
    or with ``create_graph=True`` a Tensor that carries the graph of the backward pass, so
    it can be differentiated again, to any order (``retain_graph`` then defaults to True).
    An input the outputs do not depend on raises, unless ``allow_unused=True`` (then its
    entry is None).
    """
    from ..tensor import Tensor

    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: input {i} is a {type(t).__name__}, not a Tensor")
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outs):
        raise ValueError(f"grad: {len(outs)} outputs but {len(grad_outputs)} grad_outputs")
    for o in outs:
        if not o.requires_grad:
            raise RuntimeError("grad: an output does not require grad (no input of it "
                               "requires grad, or it was computed under no_grad())")
    if retain_graph is None:
        retain_graph = create_graph
    seeds: list = []
    for o, g in zip(outs, grad_outputs):
        if create_graph and isinstance(g, Tensor) and g.requires_grad:
            if g.shape != o.shape:
                raise ValueError(f"grad: grad_outputs has shape {g.shape} but the output "
                                 f"has shape {o.shape}")
            seeds.append(g)  # its graph is kept: the result is differentiable in it too
        else:
            seed = o._seed(g, "grad")
            seeds.append(Tensor(seed) if create_graph else seed)
    prev = state.grad
    state.grad = prev or create_graph  # (create_graph records the backward pass even in no_grad)
    try:
        result = backprop(outs, seeds, retain_graph, targets=ins, create_graph=create_graph)
    finally:
        state.grad = prev
    for i, r in enumerate(result):
        if r is None and not allow_unused:
            name = f" {ins[i].name!r}" if ins[i].name else ""
            raise RuntimeError(f"grad: input {i}{name} (shape {ins[i].shape}) was not used to "
                               "compute the outputs; pass allow_unused=True to get None for it")
    return result


def _spread(ctx, grads: tuple) -> tuple:
    """Accept one gradient per *tensor* input from a user op with non-tensor arguments."""
    from ..tensor import Tensor

    tensor_slots = [i for i, p in enumerate(ctx.parents) if isinstance(p, Tensor)]
    if len(grads) != len(tensor_slots):
        raise RuntimeError(f"{ctx.op_name}.backward returned {len(grads)} gradients for "
                           f"{len(ctx.parents)} inputs ({len(tensor_slots)} of them tensors)")
    full: list = [None] * len(ctx.parents)
    for i, g in zip(tensor_slots, grads):
        full[i] = g
    return tuple(full)


def _conform(g, data: np.ndarray, ctx) -> np.ndarray:
    """Un-broadcast ``g`` to the input's shape and cast it to the input's dtype (``ctx``:
    the node whose backward returned ``g``; None for the gradient a backward starts from)."""
    g = np.asarray(g)
    if g.shape != data.shape:
        g = unbroadcast(g, data.shape)
        if g.shape != data.shape:
            op = "backward()" if ctx is None else f"{ctx.op_name}.backward"
            raise RuntimeError(f"{op} returned a gradient of shape {g.shape} "
                               f"for an input of shape {data.shape}")
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    return g


def _conform_tensor(g, parent: Tensor, ctx) -> Tensor:
    """:func:`_conform` for a gradient that is a Tensor (``create_graph=True``): an array
    becomes a constant, the broadcast sum and the cast are recorded."""
    from .. import xp
    from ..tensor import Tensor

    if not isinstance(g, Tensor):
        g = Tensor(np.asarray(g))
    if g.shape != parent.shape:
        g = xp.sum_to(g, parent.shape)
        if g.shape != parent.shape:
            op = "backward()" if ctx is None else f"{ctx.op_name}.backward"
            raise RuntimeError(f"{op} returned a gradient of shape {g.shape} "
                               f"for an input of shape {parent.shape}")
    if g.dtype != parent.dtype:
        g = g.astype(parent.dtype)
    return g


def _backward_on_tensors(ctx, node: Tensor, g: Tensor):
    """Run ``ctx``'s backward on Tensors, recording it (``create_graph=True``)."""
    cls = type(ctx)
    if cls.composed is not None:
        return _composed_backward(ctx, g)
    if not cls.twice_differentiable:
        return _once_differentiable(ctx, g)
    prev, state.node = state.node, node  # saved_tensors now hands out the graph's tensors
    try:
        return cls.backward(ctx, g)
    finally:
        state.node = prev


def _composed_backward(ctx, g: Tensor) -> tuple:
    """Differentiate the op's ``composed`` form (the same function from primitive ops) at
    its inputs. The inputs enter through fresh identity nodes, so the backward pass stops
    there instead of walking the whole graph before them."""
    from ..function import Identity
    from ..tensor import Tensor

    parents = list(ctx.parents)
    wanted = [i for i, (p, need) in enumerate(zip(parents, ctx.needs_input_grad))
              if need and isinstance(p, Tensor)]
    for i in wanted:
        parents[i] = Identity.apply(parents[i])
    out = type(ctx).composed(*parents, **ctx.kwargs)
    grads = backprop([out], [g], True, targets=[parents[i] for i in wanted], create_graph=True)
    full: list = [None] * len(parents)
    for i, r in zip(wanted, grads):
        full[i] = r
    return tuple(full)


def _once_differentiable(ctx, g: Tensor) -> tuple:
    """Run a NumPy-only backward on arrays; its gradients raise if differentiated again."""
    from ..function import _OnceDifferentiable
    from ..tensor import Tensor

    grads = type(ctx).backward(ctx, g.data)
    if type(grads) is not tuple:
        grads = tuple(grads) if type(grads) is list else (grads,)
    sources = [g, *(p for p in ctx.parents if isinstance(p, Tensor))]
    return tuple(None if r is None else
                 _OnceDifferentiable.apply(*sources, value=np.asarray(r), op=ctx.op_name)
                 for r in grads)


def _accumulate(pending: dict, owned: set[int], node, g: np.ndarray) -> None:
    """Add one more path's contribution ``g`` to the sum ``pending[node]``."""
    prev = pending[node]
    if id(prev) in owned:
        prev += g
    else:
        total = prev + g
        if type(total) is not np.ndarray:  # 0-d operands give a NumPy scalar
            total = np.asarray(total)
        owned.add(id(total))
        pending[node] = total


def _store_grad(node: Tensor, g: np.ndarray, handed: set[int]) -> None:
    """Accumulate into ``node.grad`` (PyTorch semantics) without aliasing other arrays.

    A read-only view, a view of another array, or an array already handed to another
    tensor's ``.grad`` in this pass is copied, so ``a.grad`` and ``b.grad`` of ``a + b``
    never share memory.
    """
    if node.grad is not None:
        node.grad = node.grad + g
        return
    if id(g) in handed or not g.flags.writeable or g.base is not None:
        g = g.copy()
    handed.add(id(g))
    node.grad = g
