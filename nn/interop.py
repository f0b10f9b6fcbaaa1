"""Weights to and from PyTorch: state dicts of ``torch.Tensor``s, and ``torch.save`` files.

The layers here use PyTorch's parameter names and shapes (``Linear.weight`` is
``(out_features, in_features)``; ``BatchNorm1d`` has ``weight``, ``bias``, ``running_mean``
and ``running_var``), so a state dict moves between the two unchanged: only the array type
differs. A model built the same way in both (the same attribute names, the same order in a
``Sequential``) has the same names::

    torch_model.load_state_dict(nn.to_torch_state_dict(model))
    nn.from_torch_state_dict(model, torch_model.state_dict())
    nn.from_torch_state_dict(model, nn.load("weights.pt"))      # a torch.save file

PyTorch is never a dependency: it is imported on use. Reading a ``torch.save`` file needs it,
because such a file is a pickle: it is read only through PyTorch's weights-only loader
(``torch.load(weights_only=True)``), which refuses anything but tensors and plain
containers; tinygrad_ng never unpickles a file itself.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from tinygrad_ng.tensor import Tensor

from .module import Module

__all__ = ["from_torch_state_dict", "to_torch_state_dict"]

#: How a file written by ``torch.save(..., _use_new_zipfile_serialization=False)`` starts:
#: PyTorch's magic number as pickle protocol 2 writes it (compared as bytes, never loaded).
_LEGACY_MAGIC = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19."


def _import_torch(what: str) -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(f"{what} needs PyTorch, which is optional: pip install torch") from None
    return torch


def to_torch_state_dict(model: Module | Mapping[str, Any]) -> OrderedDict[str, Any]:
    """The model's state dict (or a given state dict) as ``torch.Tensor``s, for
    ``torch_model.load_state_dict``. The tensors are copies. Needs PyTorch."""
    torch = _import_torch("to_torch_state_dict")
    if isinstance(model, Module):
        state = model.state_dict()
    elif isinstance(model, Mapping):
        state = model
    else:
        raise TypeError(f"to_torch_state_dict: expected an nn.Module or a state dict, got "
                        f"{type(model).__name__}")
    return OrderedDict((name, torch.from_numpy(np.array(_numpy(v, name, "to_torch_state_dict"))))
                       for name, v in state.items())


def from_torch_state_dict(model: Module, state_dict: Mapping[str, Any],
                          strict: bool = True) -> Any:
    """Load a PyTorch state dict (``torch.Tensor``s, or arrays) into ``model``.

    Names and shapes are checked before anything changes, as ``model.load_state_dict``
    does: a missing or unexpected name raises ``KeyError``, a wrong shape ``ValueError``,
    each naming the entries. PyTorch's batch-norm counter ``num_batches_tracked``, which
    these layers do not keep, is skipped. Values are cast to the model's dtypes. Does not
    itself need PyTorch. Returns ``(missing_keys, unexpected_keys)`` as ``load_state_dict``.
    """
    if not isinstance(model, Module):
        raise TypeError(f"from_torch_state_dict: expected an nn.Module, got "
                        f"{type(model).__name__}")
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"from_torch_state_dict: expected a state dict (a mapping of names to "
                        f"tensors), got {type(state_dict).__name__}")
    own = model.state_dict()
    arrays = OrderedDict(
        (name, _numpy(v, name, "from_torch_state_dict")) for name, v in state_dict.items()
        if not (name.rpartition(".")[2] == "num_batches_tracked" and name not in own))
    try:
        return model.load_state_dict(arrays, strict=strict)
    except KeyError as e:
        shapes_match = [a.shape for a in arrays.values()] == [a.shape for a in own.values()]
        hint = (" The two have the same shapes in the same order: if the layers correspond, "
                "rename the entries, e.g. dict(zip(model.state_dict(), sd.values()))."
                if shapes_match else "")
        raise KeyError(f"from_torch_state_dict: {e.args[0]}.{hint}") from None


def _numpy(value: Any, name: str, who: str) -> np.ndarray:
    """A torch.Tensor, Tensor, array or number as a NumPy array (torch's bfloat16, which
    NumPy lacks, as float32)."""
    if hasattr(value, "detach") and type(value).__module__.startswith("torch"):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.numpy()
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        return np.asarray(value)
    raise TypeError(f"{who}: entry {name!r} is a {type(value).__name__}; expected a tensor or "
                    "an array")


# ----------------------------------------------------------------------------- torch.save files
def is_torch_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` was written by ``torch.save`` (looked at, never unpickled)."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(_LEGACY_MAGIC))
        if head == _LEGACY_MAGIC:
            return True
        if not head.startswith(b"PK"):
            return False
        with zipfile.ZipFile(path) as archive:  # an .npz is a zip too: torch's has data.pkl
            return any(n == "data.pkl" or n.endswith("/data.pkl") for n in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def load_torch_file(path: str | os.PathLike) -> Any:
    """What ``torch.save`` wrote at ``path``, through PyTorch's weights-only loader, with
    every tensor as a NumPy array (a state dict comes back as a dict of arrays)."""
    torch = _import_torch(f"nn.load: {os.fspath(path)} was written by torch.save; reading it "
                          "safely (PyTorch's weights-only loader; tinygrad_ng never unpickles "
                          "a file itself)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        reason = str(e).strip().splitlines()[-1]
        raise ValueError(f"nn.load: {os.fspath(path)} holds more than tensors and plain "
                         f"containers, so PyTorch's weights-only loader refused it and it is "
                         f"not loaded ({reason})") from None
    return _to_arrays(obj)


def _to_arrays(obj: Any) -> Any:
    if hasattr(obj, "detach") and type(obj).__module__.startswith("torch"):
        return _numpy(obj, "", "nn.load")
    if isinstance(obj, Mapping):
        return {k: _to_arrays(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_arrays(v) for v in obj)
    return obj
