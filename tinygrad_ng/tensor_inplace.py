"""In-place updates of a Tensor: ``+= -= *= /=``, ``x[i] = v`` and PyTorch's underscore
methods (``zero_``, ``fill_``, ``add_``, ``sub_``, ``mul_``, ``div_``, ``clamp_``, ``copy_``,
``masked_fill_``, ``normal_``, ``uniform_``).

They write into ``.data`` and keep the tensor's identity, ``requires_grad`` and its place
among a model's parameters; under ``tg.no_grad()`` that is how parameters are updated by
hand. The rules, PyTorch's where it has one:

- In grad mode, a leaf that requires grad refuses them (PyTorch's error).
- In grad mode, on a tensor that is part of a graph (or with an operand that requires grad),
  ``y += x`` records ``y = y + x`` as a new node and rebinds the name ``y``; the named
  methods (``y.add_(x)``) raise instead: this library does not rewrite recorded graphs.
- An array saved by a graph that has not been backpropagated is read-only: updating it
  raises rather than corrupt that gradient.
- The dtype is kept (``int_tensor += 0.5`` raises, as in PyTorch); the result must have the
  tensor's shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from . import autograd, random

_LEAF = ("{op}: a leaf tensor that requires grad cannot be used in an in-place operation "
         "(PyTorch's rule): update parameters inside `with tg.no_grad():`, or build a new "
         "tensor (w = w - lr * g)")


class InPlaceMethods:
    """The in-place methods of :class:`~tinygrad_ng.tensor.Tensor` (a mixin)."""

    __slots__ = ()

    def __iadd__(self, other: Any) -> Any:
        return self._inplace("+=", np.add, other, lambda: self + other)

    def __isub__(self, other: Any) -> Any:
        return self._inplace("-=", np.subtract, other, lambda: self - other)

    def __imul__(self, other: Any) -> Any:
        return self._inplace("*=", np.multiply, other, lambda: self * other)

    def __itruediv__(self, other: Any) -> Any:
        return self._inplace("/=", np.true_divide, other, lambda: self / other)

    def add_(self, other: Any, alpha: float = 1) -> Any:
        """``self += alpha·other`` in place (see the module's rules)."""
        return self._inplace("add_", np.add, other if alpha == 1 else _scaled(other, alpha))

    def sub_(self, other: Any, alpha: float = 1) -> Any:
        """``self −= alpha·other`` in place."""
        return self._inplace("sub_", np.subtract,
                             other if alpha == 1 else _scaled(other, alpha))

    def mul_(self, other: Any) -> Any:
        return self._inplace("mul_", np.multiply, other)

    def div_(self, other: Any) -> Any:
        return self._inplace("div_", np.true_divide, other)

    def masked_fill_(self, mask: Any, value: Any) -> Any:
        """:meth:`masked_fill` in place."""
        return self._overwrite("masked_fill_", self.masked_fill(mask, value).data)

    def zero_(self) -> Any:
        """Set every element to 0 in place."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Any:
        """Set every element to ``value`` in place."""
        return self._overwrite("fill_", value)

    def copy_(self, src: Any) -> Any:
        """Copy ``src``'s values (broadcast to this shape) into this tensor in place."""
        return self._overwrite("copy_", src)

    def clamp_(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002
        """:meth:`clamp` in place."""
        self._check_inplace("clamp_", min, max)
        self._write("clamp_", lambda a: np.clip(a, _value(min), _value(max), out=a))
        return self

    clip_ = clamp_

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Any:
        """Fill with normal samples from the library's generator, in place."""
        return self._overwrite("normal_", random.source().normal(mean, std, self.shape))

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Any:
        """Fill with uniform samples from [a, b), in place."""
        return self._overwrite("uniform_", random.source().uniform(a, b, self.shape))

    def __setitem__(self, index: Any, value: Any) -> None:
        """``x[index] = value`` in place, under the in-place rules."""
        self._check_inplace("setitem", value)
        idx = _tensor._index(index)
        self._write("setitem", lambda a: a.__setitem__(idx, _value(value)))

    def _inplace(self, op: str, ufunc: np.ufunc, other: Any,
                 out_of_place: Callable[[], Any] | None = None) -> Any:
        """``ufunc(self, other)`` written into ``self.data``; in grad mode, on a tensor of
        a graph, the operators record ``out_of_place()`` instead (a new node)."""
        if out_of_place is not None and self._recording(other):
            if self.requires_grad and self._ctx is None:
                raise RuntimeError(_LEAF.format(op=op))
            return out_of_place()
        self._check_inplace(op, other)
        o = _value(other)
        self._write(op, lambda a: ufunc(a, o, out=a, casting="same_kind"))
        return self

    def _overwrite(self, op: str, value: Any) -> Any:
        self._check_inplace(op, value)
        v = _value(value)
        self._write(op, lambda a: np.copyto(a, v, casting="same_kind"))
        return self

    def _recording(self, *others: Any) -> bool:
        """Whether an update of self by ``others`` would have to be recorded in a graph."""
        return autograd.is_grad_enabled() and (self.requires_grad or any(
            isinstance(o, _tensor.Tensor) and o.requires_grad for o in others))

    def _check_inplace(self, op: str, *others: Any) -> None:
        """Refuse an in-place update that a graph would have to record."""
        if not self._recording(*others):
            return
        if self.requires_grad and self._ctx is None:
            raise RuntimeError(_LEAF.format(op=op))
        raise RuntimeError(f"{op}: this in-place update would have to be recorded in the "
                           "graph, which named in-place methods do not do: write it as a new "
                           "tensor (y = y + x, tg.where(mask, v, y)), or run it under "
                           "tg.no_grad()")

    def _write(self, op: str, fn: Callable[[np.ndarray], Any]) -> None:
        a = self.data
        base = a.base if isinstance(a.base, np.ndarray) else None  # (a view: x.T, x[0])
        if not a.flags.writeable or (base is not None and not base.flags.writeable):
            if id(a) in autograd._locks or (base is not None and id(base) in autograd._locks):
                raise RuntimeError(
                    f"{op}: this tensor's array is saved for a backward pass that has not run "
                    "yet (it stays read-only until backward() frees the graph, or the graph "
                    "is dropped); updating it in place would corrupt that gradient. Call "
                    "backward() first, or build a new tensor (x = x + y)")
            raise RuntimeError(f"{op}: this tensor's array is read-only (a broadcast view or "
                               "a read-only NumPy array); work on a copy: x = x.clone()")
        try:
            fn(a)
        except (TypeError, ValueError) as e:
            kind = TypeError if isinstance(e, TypeError) else ValueError  # (not NumPy's
            raise kind(f"{op}: cannot update a tensor of shape {self.shape} and dtype "  # own
                       f"{self.dtype} in place: {e}") from None  # subclasses: other arguments)


def zero_grads(params: Iterable[Any], set_to_none: bool = True) -> None:
    """``p.grad = None`` for every ``p``, or zeros in place with ``set_to_none=False``."""
    for p in params:
        if set_to_none or p.grad is None:
            p.grad = None
        elif p.grad.flags.writeable:
            p.grad[...] = 0
        else:
            p.grad = np.zeros_like(p.grad)

def _value(x: Any) -> Any:
    """The array behind a Tensor operand; anything else as it is."""
    if isinstance(x, memoryview):
        raise TypeError("got a memoryview: in tinygrad_ng p.grad is already the NumPy array "
                        "(p.grad.data is NumPy's raw buffer); use p.grad itself")
    return x.data if isinstance(x, _tensor.Tensor) else x


def _scaled(other: Any, alpha: float) -> Any:
    return other * alpha if isinstance(other, _tensor.Tensor) else np.multiply(
        _value(other), alpha)



from . import tensor as _tensor  # noqa: E402  (a base of Tensor: names resolved at call time)
