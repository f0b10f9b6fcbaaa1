"""ONNX export: ``tg.onnx.export(model, example_input, "model.onnx")``.

The model is traced once on the example input and each op of the traced graph is written
as ONNX ops through a mapping table (:mod:`tinygrad_ng.onnx.table`); ``register`` adds the
mapping of your own ``Function``. Needs the optional ``onnx`` package
(``pip install 'tinygrad_ng[onnx]'``, which also brings ``onnxruntime`` to run the file).
"""

from . import table as table  # fills the mapping table
from .export import DEFAULT_OPSET, export
from .graph import ExportError, OnnxGraph, mapping, register

__all__ = ["DEFAULT_OPSET", "ExportError", "OnnxGraph", "export", "mapping", "register"]
