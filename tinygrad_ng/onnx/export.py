"""``tg.onnx.export``: trace the model once, map each op through the table, check, write.

Tracing runs the model's forward on the example input with every input tensor recording
its graph, then walks that graph from the outputs (the walk graph drawings use), writing
each op with its mapping (:mod:`tinygrad_ng.onnx.table`). Parameters and buffers become
initializers under their state-dict names. When an input axis is dynamic (the batch axis,
by default), the model is traced a second time on an input one longer along that axis:
both traces must give the same ONNX graph, or something the trace cannot see (control flow,
a size read from the input) has been baked in, and export says where.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from itertools import zip_longest
from typing import IO, Any

import numpy as np

from .. import autograd
from ..autograd import enable_grad
from ..tensor import Tensor
from .graph import ExportError, OnnxGraph, mapping, tensor_type

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax over one axis, Squeeze/Unsqueeze/ReduceSum axes as inputs

__all__ = ["DEFAULT_OPSET", "export"]


def export(model: Any, example_input: Any, path: str | os.PathLike | IO[bytes],
           input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None,
           dynamic_axes: Mapping[str, Any] | None = None,
           opset: int | None = None) -> Any:
    """Write ``model`` as an ONNX file at ``path`` (PyTorch's ``torch.onnx.export``).

    ``model`` is an ``nn.Module`` (or any function of tensors); it is traced once on
    ``example_input`` (a Tensor or array, or a tuple of them for several inputs) in
    evaluation mode (``model.eval()`` for the export, its modes restored after), so batch
    norm uses its running statistics and dropout is the identity.

    - ``input_names`` / ``output_names``: the graph's value names (default ``input``,
      ``output``; ``input_0``, ``input_1``, … for several).
    - ``dynamic_axes``: ``{name: {axis: "label"}}`` or ``{name: [axes]}`` for inputs and
      outputs whose size may change at run time. Default: axis 0 (the batch) of every
      input, and the output axes that follow it. ``{}`` exports fixed shapes.
    - ``opset``: the ONNX opset (default 17; 13 or later).

    The model may return a Tensor or nested tuples and lists of them (flattened in order).
    An op without a mapping but with a ``composed`` form is written as that composition.
    Every export passes ``onnx.checker.check_model`` (full check). Returns the
    ``onnx.ModelProto``. Raises :class:`ExportError` naming the op and its module path for
    an op without a mapping (``tg.onnx.register`` adds one), and when the graph traced on a
    second input with the dynamic axes one longer differs from the first (Python control
    flow or shapes read from the input, which tracing bakes in).
    """
    onnx = _import_onnx()
    opset = _check_opset(opset, onnx)
    arrays = _example_arrays(example_input)
    in_names = _names(input_names, len(arrays), "input", "input_names")
    named = _model_names(model)
    with _eval_mode(model):
        trace = _trace(model, arrays)
        out_names = _names(output_names, len(trace[1]), "output", "output_names")
        if set(in_names) & set(out_names) or set(in_names + out_names) & set(named.values()):
            raise ValueError(f"export: input and output names must differ from each other and "
                             f"from the parameters' names, got inputs {in_names}, outputs "
                             f"{out_names}")
        shapes = {n: t.shape for n, t in zip(in_names + out_names, trace[0] + trace[1])}
        axes = _dynamic_axes(dynamic_axes, in_names, shapes)
        graph = _convert(trace, in_names, out_names, named, model, opset)
        grown = _grow(arrays, [axes.get(n, {}) for n in in_names], in_names)
        if grown is not None:
            second = _trace(model, grown, retrace=True)
            other = _convert(second, in_names, out_names, named, model, opset)
            shapes_1, shapes_2 = [a.shape for a in arrays], [a.shape for a in grown]
            _sized_by_inputs(graph, other, in_names, shapes_1, shapes_2, axes)
            _same_program(graph, other, shapes_1, shapes_2)
            _add_changed_axes(axes, out_names, trace[1], second[1], default=dynamic_axes is None)
    proto = _model_proto(onnx, graph, in_names, out_names, trace, axes, opset)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as e:  # the checker's own exception types vary between versions
        raise ExportError(f"export: the written model fails onnx.checker: {e}") from e
    onnx.save_model(proto, path if not isinstance(path, os.PathLike) else os.fspath(path))
    return proto


# ----------------------------------------------------------------------------- arguments
def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError("tg.onnx.export needs the onnx package: pip install "
                          "'tinygrad_ng[onnx]' (onnx, and onnxruntime to run the file)") from None
    return onnx


def _check_opset(opset: int | None, onnx: Any) -> int:
    if opset is None:
        return DEFAULT_OPSET
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"export: opset must be an int from {MIN_OPSET} to {newest} (the "
                         f"newest this onnx package knows), got {opset!r}")
    return opset


def _example_arrays(example_input: Any) -> list[np.ndarray]:
    items = example_input if isinstance(example_input, tuple) else (example_input,)
    if not items:
        raise ValueError("export: example_input is an empty tuple; give the model's inputs")
    return [x.data if isinstance(x, Tensor) else Tensor(x).data for x in items]


def _names(names: Sequence[str] | None, n: int, kind: str, arg: str) -> list[str]:
    """The given names, the missing ones filled in as ``input``/``input_0``…"""
    given = [] if names is None else list(names)
    if isinstance(names, str) or len(given) > n or not all(isinstance(s, str) and s
                                                           for s in given):
        raise ValueError(f"export: {arg} must be a list of at most {n} non-empty strings (one "
                         f"per model {kind}), got {names!r}")
    default = [kind] if n == 1 else [f"{kind}_{i}" for i in range(n)]
    out = given + default[len(given):]
    if len(set(out)) != len(out):
        raise ValueError(f"export: {arg} has repeated names: {out}")
    return out


def _dynamic_axes(spec: Mapping[str, Any] | None, in_names: list[str],
                  shapes: dict[str, tuple[int, ...]]) -> dict[str, dict[int, str]]:
    """``{value name: {axis: label}}`` from PyTorch's two spellings (default: the batch)."""
    if spec is None:
        return {n: {0: "batch"} for n in in_names if shapes[n]}
    if not isinstance(spec, Mapping):
        raise TypeError(f"export: dynamic_axes must be a dict, got {type(spec).__name__}")
    result: dict[str, dict[int, str]] = {}
    for name, axes in spec.items():
        if name not in shapes:
            raise ValueError(f"export: dynamic_axes names {name!r}, which is not an input or "
                             f"output name ({', '.join(shapes)})")
        items = (axes.items() if isinstance(axes, Mapping)
                 else [(a, f"{name}_dynamic_axes_{i + 1}") for i, a in enumerate(axes)])
        ndim = len(shapes[name])
        result[name] = {}
        for axis, label in items:
            if isinstance(axis, bool) or not isinstance(axis, int) or not -ndim <= axis < ndim:
                raise ValueError(f"export: dynamic_axes[{name!r}] has axis {axis!r}, but "
                                 f"{name} has shape {shapes[name]}")
            if not isinstance(label, str) or not label:
                raise ValueError(f"export: dynamic_axes[{name!r}] labels must be non-empty "
                                 f"strings, got {label!r}")
            result[name][axis % ndim] = label
    return result


def _model_names(model: Any) -> dict[int, str]:
    """id(array) → state-dict name of each parameter and buffer (none for a function)."""
    names: dict[int, str] = {}
    for kind in ("named_parameters", "named_buffers"):
        for name, t in getattr(model, kind, lambda: ())():
            names.setdefault(id(t.data), name)
    return names


@contextlib.contextmanager
def _eval_mode(model: Any) -> Iterator[None]:
    """Every module in evaluation mode for the trace, its own mode restored after."""
    modules = list(model.modules()) if callable(getattr(model, "modules", None)) else []
    modes = [m.training for m in modules]
    for m in modules:
        m.training = False
    try:
        yield
    finally:
        for m, mode in zip(modules, modes):
            m.training = mode


# ----------------------------------------------------------------------------- tracing
def _trace(model: Any, arrays: list[np.ndarray],
           retrace: bool = False) -> tuple[list[Tensor], list[Tensor]]:
    """Run the model on copies of ``arrays`` with their graph recorded: (inputs, outputs)."""
    inputs = [Tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    try:
        with enable_grad():
            result = model(*inputs)
    except Exception as e:
        if not retrace:
            raise
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ExportError(f"export: to check that the trace holds for other sizes, the model "
                          f"was run on inputs with each dynamic axis one longer ({shapes}) and "
                          f"failed: {type(e).__name__}: {e}. If the model only works at "
                          f"this size, export with fixed shapes: dynamic_axes={{}}") from e
    outputs = _flatten(result)
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise ExportError(f"export: the model's output {i} is a {type(out).__name__}; "
                              "ONNX export needs the model to return Tensors (or tuples and "
                              "lists of them)")
    return inputs, outputs


def _flatten(result: Any) -> list[Any]:
    """The model's outputs in order, nested tuples and lists flattened (as PyTorch does:
    ``out, (h, c)`` gives three graph outputs)."""
    if isinstance(result, (tuple, list)):
        return [t for item in result for t in _flatten(item)]
    return [result]


def _topological(outputs: list[Tensor]) -> list[Tensor]:
    from tinygrad_ng.viz.walk import recorded_parents, topological_order

    seen: set[int] = set()
    order = []
    for out in outputs:
        for t in topological_order(out, parents=recorded_parents):
            if id(t) not in seen:
                seen.add(id(t))
                order.append(t)
    return order


def _convert(trace: tuple[list[Tensor], list[Tensor]], in_names: list[str],
             out_names: list[str], named: dict[int, str], model: Any, opset: int) -> OnnxGraph:
    """The ONNX graph of a trace: each op through its mapping, outputs named last."""
    inputs, outputs = trace
    g = OnnxGraph(opset)
    g.model_names = named
    values = {id(t): name for t, name in zip(inputs, in_names)}
    for t, name in zip(inputs, in_names):
        g.set_info(name, t.shape, t.dtype)
    _write(g, outputs, values, _module_paths(model))
    for t, name in zip(outputs, out_names):
        g.name_output(values[id(t)], name)
    g.drop_unused_constants()
    return g


def _module_paths(model: Any) -> set[str]:
    if not callable(getattr(model, "named_modules", None)):
        return set()
    return {path for path, _ in model.named_modules() if path}


def _write(g: OnnxGraph, outputs: list[Tensor], values: dict[int, str],
           paths: set[str]) -> None:
    """Write every op the outputs depend on, parents first; ``values`` maps each tensor
    (by id) to its ONNX name and starts with the inputs'."""
    for t in _topological(outputs):
        if id(t) in values:
            continue
        if t._ctx is None:  # a leaf: a parameter, a buffer or a constant
            values[id(t)] = g.const(t.data)
            continue
        values[id(t)] = _convert_node(g, t, values, paths)


def _convert_node(g: OnnxGraph, t: Tensor, values: dict[int, str], paths: set[str]) -> str:
    ctx = t._ctx
    cls = type(ctx)
    where = f"model.{ctx.scope}" if ctx.scope in paths else "model"
    g.where, g.output = f"{where} ({cls.__name__})", t
    fn = mapping(cls)
    if fn is None and cls.composed is not None:
        name = _convert_composed(g, t, values, paths)
        g.set_info(name, t.shape, t.dtype)
        return name
    if fn is None:
        raise ExportError(f"{g.where}: no ONNX mapping; register one with "
                          f"tg.onnx.register({cls.__name__}, fn), where fn(g, ctx, *inputs) "
                          "adds ONNX nodes and returns the output's name (see the ONNX page "
                          "of the docs)")
    args = [values[id(p)] if isinstance(p, Tensor) else p for p in ctx.parents]
    try:
        name = fn(g, ctx, *args)
    except ExportError:
        raise
    except Exception as e:
        raise ExportError(f"{g.where}: its ONNX mapping failed: {type(e).__name__}: {e}") from e
    if not g.has(name):
        raise ExportError(f"{g.where}: its ONNX mapping returned {name!r}, which is not the "
                          "name of a value in the graph (return what g.op(...) returned)")
    g.set_info(name, t.shape, t.dtype)
    return name


def _convert_composed(g: OnnxGraph, t: Tensor, values: dict[int, str], paths: set[str]) -> str:
    """An op without a mapping but with a ``composed`` form (the same function from other
    ops, e.g. a fused recurrent layer unrolled) is written as that composition, traced on
    fresh copies of its inputs inside the op's module scope."""
    ctx = t._ctx
    fresh = [Tensor(p.data, requires_grad=p.dtype.kind == "f") if isinstance(p, Tensor) else p
             for p in ctx.parents]
    for f, p in zip(fresh, ctx.parents):
        if isinstance(p, Tensor):
            values[id(f)] = values[id(p)]
    inside = autograd.scope(ctx.scope) if ctx.scope is not None else contextlib.nullcontext()
    with enable_grad(), inside:
        out = type(ctx).composed(*fresh, **ctx.kwargs)
    where = g.where
    if not isinstance(out, Tensor) or out.shape != t.shape:
        raise ExportError(f"{where}: its composed form gave {out!r}, not a tensor of the "
                          f"op's shape {t.shape}")
    g.keep(fresh, out)  # (their ids name values: they must outlive the export)
    _write(g, [out], values, paths)
    return values[id(out)]


# ----------------------------------------------------------------------------- checks
def _grow(arrays: list[np.ndarray], axes: list[dict[int, str]],
          names: list[str]) -> list[np.ndarray] | None:
    """The inputs with each dynamic axis one longer (values reversed along it, then the
    first slice again), or None when no axis is dynamic."""
    if not any(axes):
        return None
    grown = []
    for a, name, dynamic in zip(arrays, names, axes):
        for axis in dynamic:
            if a.shape[axis] == 0:
                raise ValueError(f"export: input {name!r} of shape {a.shape} is empty along "
                                 f"its dynamic axis {axis}; give an example with data")
            a = np.concatenate([np.flip(a, axis), np.take(a, [0], axis=axis)], axis=axis)
        grown.append(a)
    return grown


def _sized_by_inputs(first: OnnxGraph, second: OnnxGraph, in_names: list[str],
                     shapes_1: list, shapes_2: list, axes: dict[str, dict[int, str]]) -> None:
    """Constants whose size followed a dynamic input axis between the traces while their
    values stayed the same along it (an initial state ``tg.zeros(x.shape[0], n)``, a mask
    repeated for each example) take that size from the input at run time, in both graphs.
    A size that several dynamic axes had is taken from them only when they share a label
    (the batch of two inputs), else it is ambiguous and stays a constant."""
    found: dict[tuple[int, int], list[tuple[str, int]]] = {}  # (size 1, size 2) → axes
    labels: dict[tuple[int, int], set[str]] = {}
    for name, s1, s2 in zip(in_names, shapes_1, shapes_2):
        for axis, (n1, n2) in enumerate(zip(s1, s2)):
            if n1 != n2:
                found.setdefault((n1, n2), []).append((name, axis))
                labels.setdefault((n1, n2), set()).add(axes[name][axis])
    by_sizes = {sizes: where[0] for sizes, where in found.items() if len(labels[sizes]) == 1}
    for name, a in list(first.initializers.items()):
        b = second.initializers.get(name)
        if b is None or a.shape == b.shape or a.ndim != b.ndim or not a.size or not b.size:
            continue
        changed = [n1 != n2 for n1, n2 in zip(a.shape, b.shape)]
        ties = [by_sizes.get((n1, n2)) if c else None for n1, n2, c in zip(a.shape, b.shape,
                                                                               changed)]
        if any(c and tie is None for c, tie in zip(changed, ties)):
            continue
        first_slice = tuple(slice(0, 1) if c else slice(None) for c in changed)
        a0, b0 = a[first_slice], b[first_slice]
        if np.array_equal(a0, b0) and (a == a0).all() and (b == b0).all():
            first.shape_from_inputs(name, ties)
            second.shape_from_inputs(name, ties)


def _same_program(first: OnnxGraph, second: OnnxGraph, shapes: list, grown: list) -> None:
    """Raise unless the two traces wrote the same nodes and the same constants."""
    problem = where = None
    for i, (a, b) in enumerate(zip_longest(first.nodes, second.nodes)):
        if a is None or b is None or a[:4] != b[:4]:
            node = a or b
            problem = (f"node {i} is {_describe(a)} in the first and {_describe(b)} in the "
                       "second")
            where = node[4]
            break
    else:
        for name in first.initializers.keys() | second.initializers.keys():
            a, b = first.initializers.get(name), second.initializers.get(name)
            if a is None or b is None or a.shape != b.shape or not np.array_equal(a, b):
                problem = f"the constant {name!r} differs"
                where = next((n[4] for n in first.nodes if name in n[1]), "model")
                break
    if problem is None:
        return
    raise ExportError(
        f"{where}: tracing cannot capture this model: the graph traced on inputs of shape "
        f"{', '.join(map(str, shapes))} differs from the one traced on "
        f"{', '.join(map(str, grown))} ({problem}). A trace records tensor ops only: Python "
        "control flow on tensor values or shapes, sizes read from the input (x.shape[0]) "
        "and values computed outside the graph (comparisons, .numpy(), .item()) are baked "
        "in as constants. Write them with tensor ops, or export for this input shape only "
        "with dynamic_axes={}")


def _describe(node: tuple | None) -> str:
    if node is None:
        return "missing"
    op_type, inputs, _, attrs, _ = node
    return f"{op_type}({', '.join(inputs)}{''.join(f', {k}={v}' for k, v in attrs.items())})"


def _add_changed_axes(axes: dict[str, dict[int, str]], out_names: list[str],
                      first: list[Tensor], second: list[Tensor], default: bool) -> None:
    """Mark the output axes whose size followed the inputs' dynamic axes as dynamic."""
    for name, a, b in zip(out_names, first, second):
        marked = axes.setdefault(name, {})
        for axis, (n, m) in enumerate(zip(a.shape, b.shape)):
            if n != m and axis not in marked:
                marked[axis] = "batch" if default and axis == 0 else f"{name}_dim{axis}"


# ----------------------------------------------------------------------------- the file
def _model_proto(onnx: Any, g: OnnxGraph, in_names: list[str], out_names: list[str],
                 trace: tuple[list[Tensor], list[Tensor]], axes: dict[str, dict[int, str]],
                 opset: int) -> Any:
    from onnx import helper, numpy_helper

    from .. import __version__

    def value_info(name: str, t: Tensor) -> Any:
        dims = [axes.get(name, {}).get(i, n) for i, n in enumerate(t.shape)]
        return helper.make_tensor_value_info(name, tensor_type(t.dtype), dims)

    nodes = [helper.make_node(op_type, list(ins), list(outs), name=outs[0], doc_string=where,
                              **attrs)
             for op_type, ins, outs, attrs, where in g.nodes]
    graph = helper.make_graph(
        nodes, "tinygrad_ng", [value_info(n, t) for n, t in zip(in_names, trace[0])],
        [value_info(n, t) for n, t in zip(out_names, trace[1])],
        [numpy_helper.from_array(a, name) for name, a in g.initializers.items()])
    opsets = [helper.make_opsetid("", opset)]
    return helper.make_model(graph, opset_imports=opsets, producer_name="tinygrad_ng",
                             producer_version=__version__,
                             ir_version=helper.find_min_ir_version_for(opsets))
