"""``Function``: one differentiable op = its forward, its backward and its derivative formula.

PyTorch's contract over NumPy arrays::

    class Cube(tg.Function):
        derivatives = ("3x²",)                  # local derivative, shown on graph edges

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2            # one gradient per input (None: not needed)

    y = Cube.apply(t)

The instance created by ``apply`` is both the ``ctx`` the two methods receive and the graph
node that the output tensor points to (``y._ctx``). Every built-in op is written this way.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from . import autograd
from .autograd import state


class Function:
    """Base class of every differentiable op (built-in or user-defined)."""

    #: Short name of the op (``"mul"``); defaults to the class name.
    op: str | None = None
    #: Local derivative of the output with respect to each input, as short formulas
    #: (``("b", "a")`` for ``a * b``); graph drawings print them on the edges.
    derivatives: tuple[str, ...] = ()
    #: Names of the inputs used in ``derivatives`` (``∂/∂a``), for the readable formula.
    inputs: tuple[str, ...] = ("x",)
    #: Name of the output where a formula uses it (sigmoid's ``a(1 − a)``: ``"a"``).
    output: str | None = None
    #: True when ``backward`` is written with operators and :mod:`tinygrad_ng.xp`, so it
    #: also runs on Tensors and ``tg.grad(..., create_graph=True)`` can differentiate it
    #: again. Left False (a user op over plain NumPy), the gradients it returns under
    #: ``create_graph=True`` raise when differentiated a second time, never a silent zero.
    #: An op may instead define ``composed(*tensors, **kwargs)``, the same function from
    #: differentiable Tensor ops, which the engine then differentiates.
    twice_differentiable: bool = False
    composed: Any = None

    #: ``file:line: code`` of the user code that created the node (set in anomaly mode).
    source: str | None = None
    #: The op's keyword arguments (``axis=1``), so a drawing can replay it; set when given.
    kwargs: Mapping[str, Any] = MappingProxyType({})

    # Every node's engine fields live in slots; an op's own fields (``ctx.axis = ...``) and
    # the rare ones above go to a __dict__ that is only created when one is set.
    __slots__ = ("parents", "needs_input_grad", "saved", "locked", "scope", "seq", "__dict__")

    @staticmethod
    def forward(ctx: Function, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError("a Function subclass must define forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Function, grad: np.ndarray) -> Any:
        raise NotImplementedError(
            f"{type(ctx).__name__} defines no backward(ctx, grad); it is not differentiable")

    # ---------------------------------------------------------------- ctx helpers
    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward; they are read-only until backward has used them."""
        if self.parents is None:  # no graph is being recorded: keep nothing
            return
        self.saved = arrays
        self.locked = autograd.lock(arrays, self)  # released when the node is freed or dropped

    @property
    def saved_tensors(self) -> tuple:
        """What ``forward`` saved: arrays, or under ``create_graph=True`` the graph's
        Tensors for the saved inputs and output (constants for anything else)."""
        saved = self.saved
        if saved is autograd.FREED:
            raise RuntimeError(
                f"{self.op_name}: saved arrays were freed by an earlier backward(); pass "
                "retain_graph=True to the first backward() to backpropagate twice")
        if saved is None:
            return ()
        node = state.node  # set only while the engine runs this node's backward on Tensors
        if node is not None and node._ctx is self:
            return tuple(_as_graph_tensor(a, self, node) for a in saved)
        return saved

    @property
    def freed(self) -> bool:
        """True once a backward pass has gone through this node and released it."""
        return self.saved is autograd.FREED

    @property
    def op_name(self) -> str:
        return type(self).op or type(self).__name__

    @classmethod
    def formula(cls) -> str:
        """The local derivatives as one line, e.g. ``∂/∂a = b, ∂/∂b = a``."""
        return ", ".join(f"∂/∂{n} = {d}" for n, d in zip(cls.inputs, cls.derivatives))

    # ---------------------------------------------------------------- apply
    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Run the op on the inputs' arrays and, in grad mode, record the node.

        Tensor arguments are differentiable inputs; any other positional argument is passed
        to ``forward`` as it is and receives no gradient.
        """
        ctx = _new(cls)
        ctx.saved = ctx.locked = None
        n = len(args)
        a = args[0] if n else None
        if n == 1 and type(a) is Tensor:  # the common cases, fast: one to three tensors
            needs = _ONE[a.requires_grad]
            arrays = (a.data,)
        elif n == 2 and type(a) is Tensor and type(args[1]) is Tensor:
            needs = _TWO[a.requires_grad][args[1].requires_grad]
            arrays = (a.data, args[1].data)
        elif n == 3 and type(a) is Tensor and type(args[1]) is Tensor and type(args[2]) is Tensor:
            b, c = args[1], args[2]  # (a layer: x, W, b)
            needs = (a.requires_grad, b.requires_grad, c.requires_grad)
            needs = _needs.setdefault(needs, needs)
            arrays = (a.data, b.data, c.data)
        else:  # any other mix: non-tensor arguments go to forward as they are
            arrays = [a.data if isinstance(a, Tensor) else a for a in args]
            needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
            needs = _needs.setdefault(needs, needs)
        record = True in needs and state.grad
        ctx.parents = args if record else None
        ctx.needs_input_grad = needs  # forward may save only what backward will use
        modes = _get_modes()  # overflow gives inf, not a warning: autograd.quiet(), inlined
        token = _set_modes(_QUIET) if modes is _WARN or _is_default(modes) else None
        try:
            out = cls.forward(ctx, *arrays, **kwargs) if kwargs else cls.forward(ctx, *arrays)
        except ValueError as e:  # name the op and the shapes (NumPy's message names neither)
            name = cls.op or cls.__name__
            if str(e).startswith(f"{name}:"):
                raise
            shapes = " and ".join(str(np.shape(a)) for a in arrays)
            raise ValueError(f"{name}: shapes {shapes}: {e}{autograd.why_read_only(e)}"
                             ) from None
        finally:
            if token is not None:
                _reset_modes(token)
        if type(out) is not np.ndarray:  # a NumPy scalar, or a Python number from a user op
            out = np.asarray(out) if isinstance(out, np.generic) else _as_input_dtype(out, arrays)
        result = _new(Tensor)  # what Tensor._make does, inlined on this hot path
        result.data = out
        result.grad = result.name = None
        result._retains_grad = False
        if record:
            result.requires_grad = True
            result._ctx = ctx
            ctx.seq = next(autograd.sequence)  # creation order = a topological order
            if kwargs:
                ctx.kwargs = kwargs  # lets a drawing replay the op (viz's gradient check)
            ctx.scope = autograd.scopes[-1] if autograd.scopes else None
            if state.anomaly:
                ctx.source = autograd.user_source_line()
                autograd.check_finite(out, ctx.op_name, "forward", ctx.source)
        else:
            result.requires_grad = False
            result._ctx = None
            if state.grad:  # a constant expression: kept for drawings if it names an input
                for a in args:
                    if type(a) is Tensor and (a.name is not None or
                                              (recipes and id(a) in recipes)):
                        _keep_recipe(ctx, args, kwargs, result)
                        break
        return result


class Identity(Function):
    """y = x as its own node (the engine's boundary around a composed op's inputs), with
    its own view of the data, so arrays saved downstream name it alone."""

    op, derivatives, twice_differentiable = "identity", ("1",), True

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def backward(ctx, g):
        return g


class _OnceDifferentiable(Function):
    """The gradient an op with a NumPy-only backward gave under ``create_graph=True``:
    its value is right, and differentiating through it raises (PyTorch's
    ``once_differentiable``), so a second derivative is never silently zero."""

    op = "once_differentiable"

    @staticmethod
    def forward(ctx, *arrays, value, op):
        ctx.source_op = op
        return value

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(
            f"{ctx.source_op}: its backward runs on NumPy arrays only, so it cannot be "
            "differentiated twice. Write backward with operators and tinygrad_ng.xp and set "
            "twice_differentiable = True on the Function, or give it a composed() form")


#: The shared needs_input_grad tuples: a million-node graph then holds no million small
#: tuples, and the garbage collector has fewer objects to walk.
_ONE = ((False,), (True,))
_TWO = (((False, False), (False, True)), ((True, False), (True, True)))
_needs: dict[tuple, tuple] = {}  # the same for ops with more inputs
_new = object.__new__  # (faster than looking up object.__new__ on every call)
_get_modes, _set_modes, _reset_modes = (autograd.errmodes.get, autograd.errmodes.set,
                                        autograd.errmodes.reset)
_QUIET, _WARN, _is_default = autograd.QUIET, autograd.WARN, autograd.is_default
recipes = autograd.recipes


def _keep_recipe(ctx: Function, args: tuple, kwargs: dict, result: Tensor) -> None:
    """Keep ``result``'s op in :data:`autograd.recipes` when an input carries a name or is
    itself a kept expression (up to :data:`autograd.RECIPE_DEPTH` ops deep); drawings only."""
    depth = 0
    for a in args:
        if isinstance(a, Tensor):
            kept = recipes.get(id(a))
            if kept is not None:
                depth = max(depth, kept.kept_depth + 1)
            elif a.name is not None:
                depth = max(depth, 1)
    if 0 < depth <= autograd.RECIPE_DEPTH:
        ctx.parents = args
        ctx.kept_depth = depth
        ctx.seq = next(autograd.sequence)
        ctx.scope = autograd.scopes[-1] if autograd.scopes else None
        if kwargs:
            ctx.kwargs = kwargs
        autograd.keep_recipe(result, ctx)


def _as_graph_tensor(a: Any, ctx: Function, node: Tensor) -> Any:
    """The Tensor of the graph that holds the saved array ``a``: an input or the output
    ``node`` (so second derivatives flow through it); a constant for anything else."""
    if a is None or isinstance(a, Tensor):
        return a
    if a is node.data:
        return node
    for p in ctx.parents:
        if isinstance(p, Tensor) and p.data is a:
            return p
    if isinstance(a, np.generic) and node.data.shape == () and a == node.data:
        return node  # a 0-d output: NumPy gave forward a scalar, apply made it an array
    return Tensor(a) if isinstance(a, np.ndarray) else a


def _as_input_dtype(out: Any, arrays: Any) -> np.ndarray:
    """A Python number returned by ``forward`` as an array of the inputs' float dtype."""
    for a in arrays:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            return np.asarray(out, dtype=a.dtype)
    return np.asarray(out)


from .tensor import Tensor  # noqa: E402  (Tensor's methods are built from Functions)
