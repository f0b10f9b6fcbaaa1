"""``Tensor``: an n-d array that records the computation graph that produced it.

A tensor holds its value (``.data``, a NumPy array), its gradient (``.grad``) and, when it
was computed from tensors that require gradients, the graph node that made it (``._ctx``,
a :class:`~tinygrad_ng.function.Function` instance that knows its parents). Every method
below is one small call into an op of ``ops/`` or ``functional/``; ``backward`` hands
the graph to the engine in ``autograd.py``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import autograd
from .dtypes import get_default_dtype
from .tensor_pytorch import PyTorchMethods, Size

Axis = int | tuple[int, ...] | None


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    """The array behind ``Tensor(data)`` under the library's dtype policy."""
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, (bool, np.bool_)):
        arr = np.asarray(data, dtype=np.bool_)
    elif isinstance(data, numbers.Integral):
        arr = np.asarray(data, dtype=np.int64)
    elif isinstance(data, numbers.Real) and not isinstance(data, np.generic):
        arr = np.asarray(data, dtype=get_default_dtype())
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
    elif isinstance(data, (list, tuple)):
        try:
            arr = np.array([d.data if isinstance(d, Tensor) else d for d in data])
        except ValueError as e:
            raise ValueError(f"Tensor: nested sequences must be rectangular: {e}") from None
        if arr.dtype == np.float64 and dtype is None and _all_python(data):
            arr = arr.astype(get_default_dtype())
    else:
        raise TypeError(f"Tensor: unsupported data of type {type(data).__name__}; expected a "
                        "number, a (nested) list, a NumPy array or a Tensor")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Tensor: unsupported dtype {arr.dtype}; expected bool, integer or "
                        "floating-point data")
    if dtype is not None:
        dt = np.dtype(dtype)
        if dt.kind not in "biuf":
            raise TypeError(f"Tensor: unsupported dtype {dt}; expected bool, int or float")
        if arr.dtype != dt:
            arr = arr.astype(dt)
    if not arr.dtype.isnative:  # big-endian data on a little-endian machine, or the reverse
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def _all_python(data: Any) -> bool:
    """True when a nested list holds only Python numbers (so floats follow the default)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, (np.generic, np.ndarray, Tensor)):
            return False
    return True


def _check_grad_dtype(dtype: np.dtype) -> None:
    if dtype.kind != "f":
        raise TypeError(f"only floating-point tensors can require gradients; this tensor is "
                        f"{dtype} (use dtype=np.float32 or .astype(np.float32))")


class Tensor(PyTorchMethods):
    """An n-d array with a gradient and the graph that produced it.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``: ``data`` is a number, a
    nested list, a NumPy array (shared, not copied; its dtype is kept) or a Tensor.
    The methods PyTorch users type (``view``, ``permute``, ``add_``, ``gather`` …) come
    from :class:`~tinygrad_ng.tensor_pytorch.PyTorchMethods`.

    The dtype rule: Python floats (and lists of them) take the default float dtype
    (``tg.get_default_dtype()``, float32), Python ints int64 and bools bool; a NumPy array
    keeps its dtype, except that an array in the non-native byte order (big-endian data on a
    little-endian machine) is copied into native order of the same type (``>f8`` → float64):
    the ops compute in native order, and results and gradients come out native. ``dtype=``
    converts.

    Arrays saved for backward are read-only until the graph that saved them has been
    backpropagated or dropped, so that a write cannot silently change a gradient; afterwards
    they are exactly as writeable as before. Writing into one in between (``t.data[0] = 1``)
    raises NumPy's "assignment destination is read-only": call ``backward()`` first, or write
    into a copy. Saving a view locks the array that owns its memory too; an array whose memory
    NumPy does not own (``np.from_dlpack``, a memmap, another library's ``.numpy()``) is
    copied when saved, never locked.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "name", "_retains_grad",
                 "__weakref__")
    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected operators
    __hash__ = object.__hash__  # tensors are graph nodes: hashed by identity

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        self.data = _to_array(data, dtype)
        if requires_grad:
            _check_grad_dtype(self.data.dtype)
        self.requires_grad = bool(requires_grad)
        self.grad: np.ndarray | None = None
        self._ctx = None
        self.name = name
        self._retains_grad = False

    @staticmethod
    def _make(data: np.ndarray, requires_grad: bool) -> Tensor:
        """Fast constructor for op outputs (no checks, no conversions)."""
        t = object.__new__(Tensor)
        t.data = data
        t.requires_grad = requires_grad
        t.grad = t._ctx = t.name = None
        t._retains_grad = False
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> Size:
        """The number of elements, an int (NumPy's ``a.size``) that can also be called as
        PyTorch's method: ``x.size()`` is the shape, ``x.size(0)`` the length of axis 0."""
        return Size(self.data.size, self.data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user, not by an op that records a graph."""
        return self._ctx is None

    @property
    def op(self) -> str | None:
        """Name of the op that produced this tensor (``None`` for leaves)."""
        return None if self._ctx is None else self._ctx.op_name

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4,
                               prefix="Tensor(").replace("\n", "\n")
        extra = ""
        if self.data.dtype != get_default_dtype():
            extra += f", dtype={self.data.dtype}"
        if self._ctx is not None:
            extra += f", op={self.op}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() on .data or compare .item()")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    # ------------------------------------------------------------------ conversions
    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (shares memory with the tensor)."""
        return self.data

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python "
                             f"number; this one has shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """The same values, cut from the graph (no gradient flows through)."""
        return Tensor._make(self.data, False)

    def astype(self, dtype: Any) -> Tensor:
        """A copy with another dtype; differentiable between float dtypes."""
        dt = np.dtype(dtype)
        if dt == self.data.dtype:
            return self
        if dt.kind != "f":
            return Tensor._make(self.data.astype(dt), False)
        return ops.Cast.apply(self, dtype=dt)

    # ------------------------------------------------------------------ gradients
    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only); returns self."""
        if flag:
            _check_grad_dtype(self.data.dtype)
        elif self._ctx is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach()")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        self._retains_grad = True
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    def backward(self, grad: Any = None, retain_graph: bool = False,
                 retain_grads: bool = False, create_graph: bool = False) -> None:
        """Reverse mode from this tensor: accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``grad`` is the gradient of the final objective with respect to this tensor; it
        defaults to 1 for a one-element tensor. Without ``retain_graph`` the saved arrays of
        the graph are freed, and a second backward through it raises. ``retain_grads=True``
        keeps ``.grad`` on every intermediate tensor too (handy for drawing the graph).

        ``.grad`` is a NumPy array, so it cannot carry a graph: for higher-order gradients
        use ``tg.grad(outputs, inputs, create_graph=True)``, which returns Tensors.
        """
        if create_graph:
            raise RuntimeError(
                "backward(create_graph=True): .grad is a NumPy array and cannot carry a graph; "
                "use tg.grad(loss, [params...], create_graph=True), which returns Tensors "
                "that can be differentiated again")
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad: it was not computed from any "
                "tensor with requires_grad=True, or it was computed under no_grad()")
        autograd.backprop([self], [self._seed(grad, "backward")], retain_graph, retain_grads)

    def _seed(self, grad: Any, who: str) -> np.ndarray:
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"{who}: grad can be omitted only for a one-element output; this tensor "
                    f"has shape {self.shape}: pass grad=np.ones({self.shape}) or the "
                    "gradient of your objective with respect to it")
            return np.ones(self.data.shape, dtype=self.data.dtype)
        g = grad.data if isinstance(grad, Tensor) else grad
        g = np.array(g, dtype=self.data.dtype, copy=True)
        if g.shape != self.data.shape:
            raise ValueError(f"{who}: grad has shape {g.shape} but the tensor has shape "
                             f"{self.shape}")
        return g

    # ------------------------------------------------------------------ operands
    def _operand(self, x: Any) -> Tensor:
        """Wrap a non-tensor operand as a constant tensor under the dtype policy.

        Python and NumPy scalars are 'weak': a float32 tensor times 2.0 stays float32.
        """
        if isinstance(x, Tensor):
            return x
        if isinstance(x, (numbers.Number, np.generic)):
            dt = self.data.dtype
            if dt.kind != "f" and isinstance(x, (float, np.floating)):
                dt = get_default_dtype()
            if dt.kind == "f":
                return _constant(x, dt)
        return Tensor(x)

    def _pair(self, x: Any) -> tuple[Tensor, Tensor]:
        """(self, operand) under PyTorch's promotion: when one side is float and the other
        integer or bool, the integer side takes the float side's dtype (``int_tensor * 0.5``
        and ``float32 + int64`` are float32, not NumPy's float64)."""
        if type(x) is float or type(x) is int:  # the usual scalar operand, fast
            dt = self.data.dtype
            if dt.kind == "f":
                const = _constants.get((x, dt.char))  # _constant(x, dt) when cached
                return self, const if const is not None else _constant(x, dt)
        other = self._operand(x)
        fa, fb = self.data.dtype.kind == "f", other.data.dtype.kind == "f"
        if fa != fb:
            if fa:
                return self, Tensor._make(other.data.astype(self.data.dtype), False)
            return Tensor._make(self.data.astype(other.data.dtype), False), other
        return self, other

    def _floating(self) -> Tensor:
        """Self, or its values in the default float dtype for an integer/bool tensor (for
        ops whose result is real-valued: ``exp``, ``mean``, ``/`` ...)."""
        if self.data.dtype.kind == "f":
            return self
        return Tensor._make(self.data.astype(get_default_dtype()), False)

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other: Any) -> Tensor:
        return ops.Add.apply(*self._pair(other))

    def __radd__(self, other: Any) -> Tensor:
        a, b = self._pair(other)
        return ops.Add.apply(b, a)

    def __sub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(*self._pair(other))

    def __rsub__(self, other: Any) -> Tensor:
        a, b = self._pair(other)
        return ops.Sub.apply(b, a)

    def __mul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(*self._pair(other))

    def __rmul__(self, other: Any) -> Tensor:
        a, b = self._pair(other)
        return ops.Mul.apply(b, a)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(*self._floating()._pair(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        a, b = self._floating()._pair(other)
        return ops.Div.apply(b, a)

    def __pow__(self, other: Any) -> Tensor:
        return ops.Pow.apply(*self._pair(other))

    def __rpow__(self, other: Any) -> Tensor:
        a, b = self._pair(other)
        return ops.Pow.apply(b, a)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(*self._pair(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        a, b = self._pair(other)
        return ops.MatMul.apply(b, a)

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    # comparisons give bool tensors outside the graph
    def _compare(self, other: Any, ufunc: np.ufunc) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return Tensor._make(ufunc(self.data, o), False)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    # ------------------------------------------------------------------ elementwise
    def exp(self) -> Tensor:
        return ops.Exp.apply(self._floating())

    def log(self) -> Tensor:
        return ops.Log.apply(self._floating())

    def sqrt(self) -> Tensor:
        return ops.Sqrt.apply(self._floating())

    def abs(self) -> Tensor:
        return ops.Abs.apply(self)

    def square(self) -> Tensor:
        return ops.Square.apply(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        """Clamp to [min, max]; the gradient passes where min <= x <= max."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        x = self._floating() if isinstance(min, float) or isinstance(max, float) else self
        return ops.Clip.apply(x, lo=min, hi=max)

    def maximum(self, other: Any) -> Tensor:
        return ops.Maximum.apply(*self._pair(other))

    def minimum(self, other: Any) -> Tensor:
        return ops.Minimum.apply(*self._pair(other))

    def sigmoid(self) -> Tensor:
        return functional.sigmoid(self)

    def tanh(self) -> Tensor:
        return functional.tanh(self)

    def relu(self) -> Tensor:
        return functional.relu(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return functional.leaky_relu(self, negative_slope)

    def softmax(self, axis: Axis = -1, *, dim: Axis = None) -> Tensor:
        return functional.softmax(self, axis, dim=dim)

    def log_softmax(self, axis: Axis = -1, *, dim: Axis = None) -> Tensor:
        return functional.log_softmax(self, axis, dim=dim)

    # ------------------------------------------------------------------ reductions
    # Each takes NumPy's ``axis=``/``keepdims=`` or PyTorch's ``dim=``/``keepdim=``.
    def sum(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
            keepdim: bool | None = None) -> Tensor:
        if dim is not None or keepdim is not None:
            axis, keepdims = _reduce_args("sum", axis, keepdims, dim, keepdim)
        return ops.Sum.apply(self, axis=_axes(axis, self.ndim, "sum"), keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
             keepdim: bool | None = None) -> Tensor:
        if dim is not None or keepdim is not None:
            axis, keepdims = _reduce_args("mean", axis, keepdims, dim, keepdim)
        return ops.Mean.apply(self._floating(), axis=_axes(axis, self.ndim, "mean"),
                              keepdims=keepdims)

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Axis = None,
            keepdims: bool | None = None) -> Any:
        """The largest value (``x.max()``, ``x.max(axis=…)``), or PyTorch's forms.

        - ``x.max(axis=1)`` (NumPy): the values; the gradient is shared equally among tied
          maxima.
        - ``x.max(1)`` / ``x.max(dim=1)`` (PyTorch): the named tuple ``(values, indices)``;
          the gradient goes to the element at ``indices`` (the first maximum), as PyTorch.
        - ``x.max(other_tensor)``: the elementwise :meth:`maximum`.
        """
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            keep = keepdim if keepdims is None else keepdims
            return ops.Max.apply(self, axis=_axes(axis, self.ndim, "max"), keepdims=keep)
        return self._extreme_at("max", dim, keepdim or bool(keepdims), axis)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Axis = None,
            keepdims: bool | None = None) -> Any:
        """The smallest value; the forms and their gradients mirror :meth:`max`."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            keep = keepdim if keepdims is None else keepdims
            return ops.Min.apply(self, axis=_axes(axis, self.ndim, "min"), keepdims=keep)
        return self._extreme_at("min", dim, keepdim or bool(keepdims), axis)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
                  keepdim: bool | None = None) -> Tensor:
        """log Σ exp(x), computed max-shifted so it never overflows."""
        if dim is not None or keepdim is not None:
            axis, keepdims = _reduce_args("logsumexp", axis, keepdims, dim, keepdim)
        return ops.LogSumExp.apply(self._floating(), axis=_axes(axis, self.ndim, "logsumexp"),
                                   keepdims=keepdims)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape: Any) -> Tensor:
        shape = _shape_args(shape)
        return ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Two axes swap them, as PyTorch (``x.transpose(0, 1)`` is ``x.T`` for a matrix;
        this agrees with NumPy's ``(1, 0)``); a full permutation of three or more axes
        reorders them, as NumPy; no axes reverse them all (``.T``)."""
        axes = _shape_args(axes) if axes else tuple(range(self.ndim))[::-1]
        if len(axes) == 2:
            return self.swapaxes(*axes)
        return ops.Transpose.apply(self, axes=_permutation(axes, self.shape, "transpose"))

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def flatten(self, start_axis: int = 0, end_axis: int = -1, *, start_dim: int | None = None,
                end_dim: int | None = None) -> Tensor:
        """Merge the axes ``start_axis`` … ``end_axis`` into one (``(m, C, H, W)`` →
        ``(m, C·H·W)`` with ``start_axis=1``); PyTorch's ``start_dim``/``end_dim`` too."""
        start = start_axis if start_dim is None else start_dim
        end = end_axis if end_dim is None else end_dim
        if not self.ndim:
            return self.reshape(1)
        start, end = (_axes(a, self.ndim, "flatten")[0] for a in (start, end))
        if start > end:
            raise ValueError(f"flatten: start axis {start} comes after end axis {end}")
        return self.reshape(*self.shape[:start], -1, *self.shape[end + 1:])

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """Drop axes of length 1: all of them, or ``axis`` (NumPy: an error if its length is
        not 1), or ``dim`` (PyTorch: such an axis is left alone)."""
        lenient = dim is not None
        axis, _ = _reduce_args("squeeze", axis, False, dim, None)
        axes = _axes(axis, self.ndim, "squeeze")
        if axes is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        elif lenient:
            axes = tuple(a for a in axes if self.shape[a] == 1)
        for a in axes:
            if self.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {self.shape} has size "
                                 f"{self.shape[a]}, not 1 (PyTorch's squeeze(dim={a}) leaves "
                                 "such an axis alone)")
        return self.reshape(*(n for i, n in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        axis, _ = _reduce_args("unsqueeze", axis, False, dim, None)
        if axis is None:
            raise TypeError("unsqueeze: give the position of the new axis (axis= or dim=)")
        axis = _axes(axis, self.ndim + 1, "unsqueeze")[0]
        shape = list(self.shape)
        shape.insert(axis, 1)
        return self.reshape(*shape)

    def broadcast_to(self, *shape: Any) -> Tensor:
        return ops.BroadcastTo.apply(self, shape=_shape_args(shape))

    def __getitem__(self, index: Any) -> Tensor:
        return ops.Index.apply(self, index=_index(index))


_constants: dict = {}


def _constant(x: Any, dtype: np.dtype) -> Tensor:
    """A read-only 0-d tensor for a scalar operand, shared by every graph that uses it.

    Constants never change, so they need no lock and can be cached (``y * 1.01`` in a loop
    makes one constant, not one per step). Zero is not cached: 0.0 and -0.0 compare equal.
    """
    key = (x, dtype.char)  # (hashing a dtype object is slow; its one-letter code is not)
    t = _constants.get(key)
    if t is None:
        with np.errstate(over="ignore"):  # 1e300 as float32 is inf, silently (IEEE)
            const = np.array(x, dtype=dtype)
        const.setflags(write=False)
        t = Tensor._make(const, False)
        if x != 0 and x == x:  # not ±0, not NaN
            if len(_constants) >= 1024:
                _constants.clear()
            _constants[key] = t
    return t


def _shape_args(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, (numbers.Integral)):
            raise TypeError(f"shape entries must be integers, got {shape!r}")
    return tuple(int(s) for s in shape)


def _reduce_args(op: str, axis: Any, keepdims: Any, dim: Any,
                 keepdim: Any) -> tuple[Any, Any]:
    """Merge NumPy's ``axis``/``keepdims`` with PyTorch's ``dim``/``keepdim``: either
    spelling, an error for both."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: got both axis= (NumPy's name) and dim= (PyTorch's); "
                            "give one")
        axis = dim
    if keepdim is not None:
        if keepdims:
            raise TypeError(f"{op}: got both keepdims= (NumPy's name) and keepdim= (PyTorch's); "
                            "give one")
        keepdims = keepdim
    return axis, bool(keepdims) if keepdims is not None else keepdims


def _permutation(axes: tuple, shape: tuple, op: str) -> tuple[int, ...]:
    """``axes`` as non-negative ints, checked to be a permutation of ``len(shape)`` axes
    (an axis out of range raises; it never wraps around)."""
    ndim = len(shape)
    if any(not -ndim <= a < max(ndim, 1) for a in axes) or \
            sorted(a % max(ndim, 1) for a in axes) != list(range(ndim)):
        raise ValueError(f"{op}: {axes} is not a permutation of the {ndim} axes of a tensor "
                         f"of shape {shape}")
    return tuple(a % ndim for a in axes) if ndim else ()


def _axes(axis: Axis, ndim: int, op: str) -> tuple[int, ...] | None:
    """Normalise ``axis`` (int, tuple or None) to a tuple of non-negative ints."""
    if axis is None:
        return None
    try:
        items = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    except TypeError:
        raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}"
                        ) from None
    out = []
    for a in items:
        if not isinstance(a, numbers.Integral):
            raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} "
                             f"dimension{'s' if ndim != 1 else ''}")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(out) if ndim else None  # a 0-d tensor's axis 0 is the tensor itself


def _index(index: Any) -> Any:
    """Replace tensors and lists inside an index by arrays (integer or boolean)."""
    if isinstance(index, tuple):
        return tuple(_index_item(i) for i in index)
    return _index_item(index)


def _index_item(i: Any) -> Any:
    if isinstance(i, Tensor):
        return i.data
    if isinstance(i, list):
        a = np.asarray(i)
        return a.astype(np.intp) if a.size == 0 else a  # [] selects nothing (NumPy: float)
    return i


# ---------------------------------------------------------------------- constructors
def _shape_of(shape: tuple) -> tuple[int, ...]:
    return _shape_args(shape) if shape else ()


def _float(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def zeros(*shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    return Tensor(np.zeros(_shape_of(shape), _float(dtype)), requires_grad=requires_grad)


def ones(*shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    return Tensor(np.ones(_shape_of(shape), _float(dtype)), requires_grad=requires_grad)


def full(shape: Any, fill_value: float, requires_grad: bool = False,
         dtype: Any = None) -> Tensor:
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if dtype is None:
        dtype = Tensor(fill_value).dtype
    return Tensor(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1,
           requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Like ``np.arange``: integer arguments give int64, floats the default float dtype."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, stop, step))
        dtype = np.int64 if ints else get_default_dtype()
    return Tensor(np.arange(start, stop, step, dtype=dtype), requires_grad=requires_grad)


def randn(*shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Standard normal samples from the library's generator (``tg.manual_seed``); in legacy
    mode the course's ``np.random.randn(*shape)``."""
    data = random.source().standard_normal(_shape_of(shape)).astype(_float(dtype))
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Uniform samples in [0, 1) from the library's generator; in legacy mode the course's
    ``np.random.rand(*shape)``."""
    data = random.source().random(_shape_of(shape)).astype(_float(dtype))
    return Tensor(data, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    return Tensor(np.eye(n, m, dtype=_float(dtype)), requires_grad=requires_grad)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``condition ? a : b`` elementwise, with broadcasting; no gradient to ``condition``."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    if isinstance(a, Tensor) or not isinstance(b, Tensor):
        a, b = (a if isinstance(a, Tensor) else Tensor(a))._pair(b)
    else:
        b, a = b._pair(a)
    return ops.Where.apply(a, b, cond)


def _as_tensors(items: Sequence[Any], op: str) -> list[Tensor]:
    """``items`` as tensors: Tensors as they are; arrays, lists and numbers as constants under
    the dtype policy of the first Tensor among them (in any position)."""
    items = list(items)
    if not items:
        raise ValueError(f"{op}: need at least one tensor")
    ref = next((t for t in items if isinstance(t, Tensor)), None)
    if ref is None:
        return [Tensor(t) for t in items]
    return [t if isinstance(t, Tensor) else ref._operand(t) for t in items]


def concatenate(tensors: Sequence[Any], axis: int | None = 0, *,
                dim: int | None = None) -> Tensor:
    """Join along an existing ``axis`` (PyTorch's ``dim``); ``axis=None`` flattens every
    input first (as NumPy). Tensors, arrays and (nested) lists may be mixed."""
    axis = axis if dim is None else dim  # PyTorch's name
    tensors = _as_tensors(tensors, "concatenate")
    if axis is None:
        tensors, axis = [t.reshape(-1) for t in tensors], 0
    (axis,) = _axes(axis, tensors[0].ndim, "concatenate") or (0,)
    return ops.Concatenate.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join along a new ``axis`` (PyTorch's ``dim``). Tensors, arrays and (nested) lists may
    be mixed."""
    axis = axis if dim is None else dim  # PyTorch's name
    tensors = _as_tensors(tensors, "stack")
    (axis,) = _axes(axis, tensors[0].ndim + 1, "stack")
    return ops.Stack.apply(*tensors, axis=axis)


from . import functional, ops, random  # noqa: E402  (ops are built on Tensor)
