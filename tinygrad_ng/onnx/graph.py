"""The ONNX graph being written, and the table that maps each op to ONNX ops.

A mapping is a function ``fn(g, ctx, *inputs) -> str``: ``g`` is the :class:`OnnxGraph`
being written, ``ctx`` the op's node (its ``kwargs`` and whatever ``forward`` stored on it,
e.g. ``ctx.axis``), and ``inputs`` the ONNX names of the op's tensor inputs, in the order
they were passed to ``apply`` (other arguments, e.g. a ``None`` bias, come as they are). It
adds ONNX nodes with ``g.op`` and returns the name of the value that equals the op's
output::

    @tg.onnx.register(Cube)                      # Cube.apply(x) = x ** 3
    def cube(g, ctx, x):
        return g.op("Pow", x, g.const(3, g.dtype(x)))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..function import Function


class ExportError(RuntimeError):
    """A model that cannot be written as ONNX: the message names the op and where it is."""


Mapping = Callable[..., str]
_TABLE: dict[type, Mapping] = {}


def register(function: type[Function], fn: Mapping | None = None) -> Any:
    """Map the op ``function`` (a :class:`~tinygrad_ng.Function` subclass) to ONNX ops.

    ``fn(g, ctx, *inputs)`` writes ONNX nodes into ``g`` and returns the name of the output
    (see the module docs). Use as ``register(MyFunction, fn)`` or as a decorator,
    ``@register(MyFunction)``. A later registration replaces an earlier one, so a built-in
    mapping can be overridden. The mapping is looked up by the exact class: a subclass of a
    mapped op computes something else and needs its own.
    """
    if not (isinstance(function, type) and issubclass(function, Function)):
        raise TypeError(f"onnx.register: expected a Function subclass, got {function!r}")

    def add(f: Mapping) -> Mapping:
        if not callable(f):
            raise TypeError(f"onnx.register: the mapping for {function.__name__} must be a "
                            f"function (g, ctx, *inputs) -> name, got {f!r}")
        _TABLE[function] = f
        return f

    return add if fn is None else add(fn)


def mapping(function: type[Function]) -> Mapping | None:
    """The registered mapping of an op class, or ``None``."""
    return _TABLE.get(function)


class OnnxGraph:
    """The ONNX graph under construction, written by the op mappings.

    Values are referred to by name. ``g.shape(name)`` and ``g.dtype(name)`` give the traced
    shape and NumPy dtype of the op's inputs; ``g.output`` is the traced output tensor of
    the op being mapped (its ``.shape`` and ``.dtype``); ``g.opset`` the target opset.
    """

    def __init__(self, opset: int) -> None:
        self.opset = opset
        #: (op_type, inputs, outputs, attributes, where) for each node, in order
        self.nodes: list[tuple[str, tuple[str, ...], tuple[str, ...], dict, str]] = []
        #: name → array, in order of creation
        self.initializers: dict[str, np.ndarray] = {}
        self.output: Any = None
        self.where = ""  # "model.3 (Linear)": the op being mapped, for messages
        self._info: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
        self._counts: dict[str, int] = {}
        self._const_ids: dict[tuple[int, str], str] = {}
        self._keep: list[Any] = []  # arrays named by id stay alive, so ids are not reused
        self._produced: set[str] = set()  # the node outputs
        self._renamed: dict[str, str] = {}  # node output → the graph output it became
        #: id(array) → name, for the model's parameters and buffers (their state-dict names)
        self.model_names: dict[int, str] = {}

    # ------------------------------------------------------------ what converters call
    def op(self, op_type: str, *inputs: str | None, outputs: int = 1,
           **attributes: Any) -> Any:
        """Add the ONNX node ``op_type`` on ``inputs`` (``None``: an omitted optional input)
        with ``attributes``; returns its output's name (a list of names if ``outputs`` > 1).
        """
        for name in inputs:
            if name is not None and not isinstance(name, str):
                raise ExportError(f"{self.where}: inputs of g.op({op_type!r}) must be value "
                                  f"names (str) or None, got {name!r}; use g.const(array)")
        while inputs and inputs[-1] is None:  # trailing optional inputs are left out
            inputs = inputs[:-1]
        outs = tuple(self.fresh(op_type) for _ in range(outputs))
        self._produced.update(outs)
        attrs = {k: v for k, v in attributes.items() if v is not None}
        self.nodes.append((op_type, tuple("" if i is None else i for i in inputs), outs,
                           attrs, self.where))
        return outs[0] if outputs == 1 else list(outs)

    def const(self, value: Any, dtype: Any = None, name: str | None = None) -> str:
        """An initializer holding ``value`` (cast to ``dtype`` when given); returns its name.

        The same array object (or a model tensor's array) gives the same initializer.
        """
        arr = np.asarray(value)
        dt = arr.dtype if dtype is None else np.dtype(dtype)
        key = (id(value), dt.str)
        if isinstance(value, np.ndarray) and key in self._const_ids:
            return self._const_ids[key]
        if name is None and dt == arr.dtype:
            name = self.model_names.get(id(value))
        if name is None or name in self._info:
            name = self.fresh("const")
        self.initializers[name] = np.array(arr, dtype=dt)  # a copy: the model may change
        self.set_info(name, arr.shape, dt)
        if isinstance(value, np.ndarray):
            self._const_ids[key] = name
            self._keep.append(value)
        return name

    def int64s(self, values: Any) -> str:
        """A 1-D int64 initializer (axes, shapes, slice bounds)."""
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1))

    def shape(self, name: str) -> tuple[int, ...]:
        """The traced shape of a value (an op input, or a model parameter)."""
        return self._info[name][0]

    def dtype(self, name: str) -> np.dtype:
        """The NumPy dtype of a value (an op input, or a model parameter)."""
        return self._info[name][1]

    def cast(self, name: str, dtype: Any) -> str:
        """``name`` as ``dtype``: itself if it has that dtype already, else a Cast node."""
        dt = np.dtype(dtype)
        if self.dtype(name) == dt:
            return name
        out = self.op("Cast", name, to=tensor_type(dt))
        self.set_info(out, self.shape(name), dt)
        return out

    def reduce(self, op_type: str, x: str, axes: Any, keepdims: bool) -> str:
        """``ReduceSum``/``ReduceMean``/… of ``x`` over ``axes`` (None: all), written for the
        opset: axes are an input from opset 18 on (13 for ReduceSum), an attribute before."""
        keep = int(bool(keepdims))
        if axes is None:
            return self.op(op_type, x, keepdims=keep)
        axes = [int(a) for a in np.atleast_1d(axes)]
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, x, self.int64s(axes), keepdims=keep)
        return self.op(op_type, x, axes=axes, keepdims=keep)

    # ------------------------------------------------------------ bookkeeping
    def has(self, name: Any) -> bool:
        """Whether ``name`` is a value of the graph (an input, initializer or node output)."""
        return isinstance(name, str) and (name in self._info or name in self._produced)

    def keep(self, *objects: Any) -> None:
        """Hold ``objects`` until the export ends (values are looked up by their ids)."""
        self._keep.extend(objects)

    def shape_from_inputs(self, name: str, ties: list[tuple[str, int] | None]) -> None:
        """Replace the initializer ``name``, the same along each tied axis, by its first
        slice expanded to a shape read at run time: axis i has the size of axis
        ``ties[i][1]`` of input ``ties[i][0]`` (its traced size where ``ties[i]`` is None)."""
        arr = self.initializers.pop(name)
        start = len(self.nodes)
        parts = [self.int64s([n]) if tie is None else
                 self.op("Gather", self.op("Shape", tie[0]), self.int64s([tie[1]]))
                 for n, tie in zip(arr.shape, ties)]
        value = self.const(arr[tuple(slice(None) if tie is None else slice(0, 1)
                                     for tie in ties)])
        self.op("Expand", value, self.op("Concat", *parts, axis=0))
        op_type, ins, _, attrs, where = self.nodes.pop()
        new = self.nodes[start:] + [(op_type, ins, (name,), attrs, where)]
        self.nodes[start:] = []
        self.nodes[:0] = new

    def drop_unused_constants(self) -> None:
        """Forget the initializers no node reads (a mapping may leave an input out, e.g. an
        all-zero initial state that the ONNX op assumes when it is omitted)."""
        used = {name for node in self.nodes for name in node[1]}
        self.initializers = {k: v for k, v in self.initializers.items() if k in used}

    def name_output(self, value: str, name: str) -> None:
        """Make the graph output ``name`` be ``value``: the node output is renamed, or an
        Identity added when ``value`` is an input, a constant or already another output."""
        if value in self._renamed:
            value = self.op("Identity", self._renamed[value])
        elif value not in self._produced:
            value = self.op("Identity", value)
        self._renamed[value] = name
        self._produced.add(name)
        self.nodes = [(op, tuple(name if i == value else i for i in ins),
                       tuple(name if o == value else o for o in outs), attrs, where)
                      for op, ins, outs, attrs, where in self.nodes]

    def fresh(self, base: str) -> str:
        """A new value name ``base_k`` (deterministic: the same model gives the same names)."""
        k = self._counts.get(base, 0)
        self._counts[base] = k + 1
        return f"{base}_{k}"

    def set_info(self, name: str, shape: tuple[int, ...], dtype: Any) -> None:
        self._info[name] = (tuple(shape), np.dtype(dtype))


def tensor_type(dtype: Any) -> int:
    """The ONNX element type (``TensorProto.FLOAT`` …) of a NumPy dtype."""
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
