"""The reverse-mode engine: grad mode, anomaly mode, array locks and backpropagation.

Backpropagation visits nodes in reverse creation order: each node is numbered when it is
created, after its inputs, so taking the highest-numbered pending node (a heap) reaches a
node only once every consumer has sent its gradient. No recursion, no counting pass: a
chain of a million ops is fine. The engine (not the ops) does the plumbing: it
un-broadcasts each gradient to its input's shape, casts it to the input's dtype, skips
inputs that need no gradient and sums the contributions of every path.
"""

from __future__ import annotations

import contextvars
import itertools
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy import ndarray

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

#: Expressions of constants kept for drawings only: an op that records no node (no input
#: requires grad) but has a named input, e.g. ``1 - y`` with ``y = Tensor(1., name="y")``,
#: keeps its op (``ctx.parents`` set) here under ``id(output)``, so a drawing shows
#: ``1 − y`` rather than a constant ``0``. The output stays a leaf (``_ctx`` is None):
#: backpropagation and everything else ignore this table. An entry dies with its tensor
#: (a weak reference's callback removes it), so an id is never looked up after its reuse.
recipes: dict[int, Any] = {}
#: Ops a kept expression may have between it and its named inputs: a named constant updated
#: in a loop in grad mode keeps no ever-growing history.
RECIPE_DEPTH = 8


def keep_recipe(t: Tensor, ctx: Any) -> None:
    """Keep ``ctx`` as the op that computed the constant ``t``, for as long as ``t`` lives."""
    key = id(t)
    ctx.kept_ref = weakref.ref(t, lambda _: recipes.pop(key, None))
    recipes[key] = ctx


def recipe(t: Tensor) -> Any:
    """The op a kept constant expression ``t`` was computed by (see :data:`recipes`), else
    None."""
    ctx = recipes.get(id(t))
    return ctx if ctx is not None and ctx.kept_ref() is t else None

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
    """``file:line: code`` of the innermost stack frame outside this package.

    A frame belongs to the package when its module (``__name__``) is ``tinygrad_ng`` or one
    of its submodules (``tinygrad_ng.nn`` …): decided by module, not by path, so a user's
    own script in a folder that happens to be called ``tinygrad_ng`` is still the user's.
    """
    import linecache
    import sys

    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__") or ""
        if module != _PACKAGE and not module.startswith(_PACKAGE + "."):
            code = frame.f_code
            line = linecache.getline(code.co_filename, frame.f_lineno).strip()
            return f"{code.co_filename}:{frame.f_lineno}: {line}"
        frame = frame.f_back
    return "<unknown>"


_PACKAGE = __name__.partition(".")[0]  # "tinygrad_ng"


def check_finite(array: np.ndarray, op: str, where: str, source: str | None) -> None:
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = "NaN" if np.isnan(array).any() else "Inf"
        origin = (f"the op was created at {source}" if source else "the op was created "
                  "outside detect_anomaly(), so its source line is unknown: build the graph "
                  "inside the block too")
        raise AnomalyError(f"{op}: {where} produced {bad}; {origin}")


# ---------------------------------------------------------------------- floating-point errors
# Ops give IEEE results (inf, nan) silently, as PyTorch does, instead of NumPy's
# RuntimeWarnings: `detect_anomaly()` is the tool that stops at the first inf or nan.
# While NumPy's error modes are its defaults ("warn"), Function.apply runs every forward,
# and backprop the whole backward pass, with them set to "ignore"; modes you set yourself
# (``np.errstate(over="raise")``) are left alone. NumPy >= 2 keeps the modes in a context
# variable: setting and resetting it directly costs ~0.2 µs per op, np.errstate ~1 µs.


class _SetErr:
    """NumPy 1.x: the context variable's get/set/reset through np.geterr and np.seterr."""

    @staticmethod
    def get() -> tuple:
        return tuple(sorted(np.geterr().items()))

    @staticmethod
    def set(modes: dict) -> dict:
        return np.seterr(**modes)

    @staticmethod
    def reset(token: dict) -> None:
        np.seterr(**token)


try:
    from numpy._core.umath import _extobj_contextvar as errmodes

    WARN = contextvars.Context().run(errmodes.get)  # NumPy's default modes (one object)
    with np.errstate(all="ignore"):
        QUIET = errmodes.get()
except (ImportError, AttributeError):  # NumPy 1.x
    errmodes, WARN, QUIET = _SetErr, None, {"all": "ignore"}  # type: ignore[assignment]

DEFAULT = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}
_verdicts: dict = {}  # error-mode object -> whether it holds NumPy's default modes


def is_default(modes: Any) -> bool:
    """Whether ``modes``, the current error-mode object, holds NumPy's default modes. (After
    ``np.seterr(**old)`` a new object holds them; the verdict is kept per object.)"""
    verdict = _verdicts.get(modes)
    if verdict is None:
        if len(_verdicts) >= 16:
            _verdicts.clear()
        verdict = _verdicts[modes] = np.geterr() == DEFAULT
    return verdict


def quiet() -> Any:
    """Switch NumPy's default error modes to "ignore"; the token for :func:`restore`."""
    modes = errmodes.get()
    return errmodes.set(QUIET) if modes is WARN or is_default(modes) else None


def restore(token: Any) -> None:
    if token is not None:
        errmodes.reset(token)


# ----------------------------------------------------------------------------- array locks
# An array saved for backward is made read-only until every graph that saved it has used it
# (or is freed), so `w.data[...] = 0` between forward and backward fails loudly instead of
# silently corrupting the gradient.
#
# Holds are counted per block of memory, i.e. per *owner*: the array at the end of a view's
# ``.base``. Saving a view locks the view and its owner (a write through either would change
# what backward reads); other views of that memory, which the graph never saw, are not
# locked. The last release of an owner makes it writeable again and then the views locked
# with it: NumPy refuses to make a view writeable while its owner is read-only, so the order
# matters. Only what was writeable is locked, so what is restored is exactly what was there.
# Memory NumPy does not own (``np.from_dlpack``, ``np.frombuffer``, a memmap, another
# library's ``.numpy()``) may refuse to become writeable again once locked: such an array is
# never locked; if it is writeable, it is copied when saved instead.

#: What a node's ``saved`` becomes once backward has released it.
FREED = object()

_locks: dict[int, int] = {}  # id(owner) -> number of live holds (the holds keep it alive)
_views: dict[int, list] = {}  # id(owner) -> the views locked with it (rare: usually empty)


class Lock(list):
    """A hold on the memory one node saved for backward (a list of the owners): it stays
    read-only while any hold on it lives. Dropping the hold (after backward, or with a graph
    that is never backpropagated) releases it; the last release restores the writeable flags.
    (A list subclass: made by C code, no Python ``__init__`` per op.)"""

    __slots__ = ()

    # (the defaults keep the dicts and ``id`` reachable at interpreter exit, when the
    # module's globals may be gone before the last graphs are freed)
    def __del__(self, _locks: dict = _locks, _views: dict = _views, _id=id) -> None:
        for owner in self:
            key = _id(owner)
            n = _locks.get(key, 1) - 1  # (get, pop: nothing here may raise)
            if n:
                _locks[key] = n
                continue
            _locks.pop(key, None)
            owner.setflags(True)  # (positional: much cheaper than write=True)
            if _views and key in _views:  # then its views (not before: NumPy refuses)
                for view in _views.pop(key):
                    try:
                        view.setflags(True)
                    except ValueError:  # its owner was made read-only again meanwhile
                        pass


def lock(arrays: tuple, ctx: Any) -> Lock | None:
    """Make the memory of the writeable arrays among ``arrays`` read-only; None when nothing
    was locked. A writeable array whose memory NumPy does not own is copied into
    ``ctx.saved`` instead (it might not become writeable again)."""
    held = []
    foreign = False
    for a in arrays:
        if type(a) is not ndarray:
            continue
        owner = a.base
        if owner is None:  # a owns its memory (the usual case)
            owner = a
        elif type(owner) is not ndarray or owner.base is not None:  # NumPy does not own it
            foreign |= a.flags.writeable
            continue
        key = id(owner)
        n = _locks.get(key)
        if n is not None:
            _locks[key] = n + 1
        elif owner.flags.writeable:
            owner.setflags(False)
            _locks[key] = 1
        elif owner is a or not a.flags.writeable:  # read-only already (a constant, a
            continue                               # broadcast view): nothing to guard
        else:  # a writeable view of a read-only owner could not become writeable again
            foreign = True
            continue
        if owner is not a and a.flags.writeable:
            a.setflags(False)
            _views.setdefault(key, []).append(a)
        held.append(owner)
    if foreign:  # (everything lockable is read-only by now)
        ctx.saved = tuple(_unlockable_copy(a) for a in arrays)
    return Lock(held) if held else None


def why_read_only(error: Exception) -> str:
    """The reason to add to NumPy's bare "… is read-only" error (empty for other errors)."""
    if "read-only" not in str(error):
        return ""
    return (" (an array saved for backward is read-only until the graph that saved it has "
            "been backpropagated or dropped: call backward() first, or write into a copy)")


def _unlockable_copy(a: Any) -> Any:
    """``a``, or a copy of it when ``lock`` had to leave it writeable."""
    return a.copy() if type(a) is ndarray and a.flags.writeable else a


# ----------------------------------------------------------------------------- backpropagation


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum ``grad`` down to ``shape``: the adjoint of NumPy broadcasting. Written with
    ``.sum`` only, so it also runs on a Tensor, recording the sums (``xp.sum_to``)."""
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
    token = quiet()  # inf and nan without NumPy's warnings, as in forward
    try:
        return _backprop(roots, grads, retain_graph, retain_grads, targets, create_graph)
    finally:
        restore(token)


def _backprop(roots: list[Tensor], grads: list, retain_graph: bool, retain_grads: bool,
              targets: list[Tensor] | None, create_graph: bool) -> list | None:
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
                    g = _conform(g, data, ctx, True)
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
    for i, o in enumerate(outs):
        if not o.requires_grad:
            raise RuntimeError(
                f"grad: output {i} (shape {o.shape}) does not require grad: no input of it "
                "requires grad (an integer path carries none), or it was computed under "
                "no_grad(). (A gradient from grad(create_graph=True) that does not require "
                "grad is constant in the inputs: its own derivative is 0.)")
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


def _conform(g, data: np.ndarray, ctx, graph: bool = False):
    """Un-broadcast ``g`` to the input's shape and cast it to the input's dtype (``ctx``:
    the node whose backward returned ``g``; None for the gradient a backward starts from).
    Under ``create_graph`` (``graph``) ``g`` is a Tensor (an array becomes a constant) and
    the sum and the cast are recorded."""
    if graph:
        from ..tensor import Tensor

        g = g if isinstance(g, Tensor) else Tensor(np.asarray(g))
    else:
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


def _backward_on_tensors(ctx, node: Tensor, g: Tensor):
    """Run ``ctx``'s backward on Tensors, recording it (``create_graph=True``)."""
    cls = type(ctx)
    if cls.composed is not None:
        return _backward_at_inputs(ctx, g, cls.composed)
    if not cls.twice_differentiable:
        return _once_differentiable(ctx, g)
    if _shared_arrays(ctx.parents):  # saved arrays cannot name their input: replay the op
        return _backward_at_inputs(ctx, g, cls.apply)
    prev, state.node = state.node, node  # saved_tensors now hands out the graph's tensors
    scopes.append(f"backward of {ctx.op_name}")  # (drawings group the nodes made here)
    try:
        return cls.backward(ctx, g)
    finally:
        state.node = prev
        scopes.pop()


def _shared_arrays(parents: tuple) -> bool:
    """True when two different input tensors share one array (``x * x.detach()``), so an
    array saved by forward does not tell which of them it came from."""
    from ..tensor import Tensor

    tensors = {id(p): p.data for p in parents if isinstance(p, Tensor)}
    return len({id(a) for a in tensors.values()}) < len(tensors)


def _backward_at_inputs(ctx, g: Tensor, fn) -> tuple:
    """Differentiate ``fn`` (the op's ``composed`` form, or the op itself) applied again to
    the node's inputs. The inputs enter through fresh identity nodes (each with its own
    view of the data), so the backward pass stops there instead of walking the whole graph
    before them."""
    from ..function import Identity
    from ..tensor import Tensor

    parents = [Identity.apply(p) if isinstance(p, Tensor) else p for p in ctx.parents]
    wanted = [i for i, (p, need) in enumerate(zip(parents, ctx.needs_input_grad))
              if need and isinstance(p, Tensor)]
    with scope(f"backward of {ctx.op_name}"):
        out = fn(*parents, **ctx.kwargs)
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
