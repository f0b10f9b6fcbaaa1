"""``nn.save`` / ``nn.load``: checkpoints as ``.npz`` files, never pickle.

``nn.save(model, "model.npz")`` writes the model's state dict, one array per dotted name,
so plain ``np.load("model.npz")["0.weight"]`` reads it too. Anything else built from dicts,
lists, tuples, numbers, strings, arrays and tensors (an optimiser's state dict, or a whole
training checkpoint ``{"model": model, "optimizer": opt.state_dict(), "epoch": 7}``) is
saved as its arrays plus a JSON description of the structure, and comes back from
``nn.load`` as it was saved (modules as their state dicts).

Saving is atomic: the file is written under a temporary name in the same folder, flushed to
disk and then renamed over ``path``, so a crash mid-save never damages an existing
checkpoint. Loading uses ``allow_pickle=False``: a file holding pickled objects is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from tinygrad_ng.tensor import Tensor

from .interop import is_torch_file, load_torch_file
from .module import Module

__all__ = ["load", "save"]

_TREE = "__tinygrad_ng_tree__"  # the JSON description of a structured checkpoint
_NUMERIC = "biuf"


def _as_array(value: Any, where: str) -> np.ndarray:
    arr = value.data if isinstance(value, Tensor) else np.asarray(value)
    if arr.dtype.kind not in _NUMERIC:
        raise TypeError(f"nn.save: {where} has dtype {arr.dtype}; only bool, integer and float "
                        "arrays can be saved (no pickling)")
    return arr


def _encode(obj: Any, arrays: list[np.ndarray], where: str) -> Any:
    """A JSON-able description of ``obj``; its arrays are appended to ``arrays``."""
    if isinstance(obj, Module):
        obj = obj.state_dict()
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        arrays.append(_as_array(obj, where))
        return {"a": len(arrays) - 1}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"v": obj}
    if isinstance(obj, Mapping):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"nn.save: dict keys must be str or int, got {key!r} in {where}")
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]")])
        return {"d": items}
    if isinstance(obj, (list, tuple)):
        tag = "l" if isinstance(obj, list) else "t"
        return {tag: [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    raise TypeError(f"nn.save: cannot save {where} of type {type(obj).__name__}; use arrays, "
                    "tensors, numbers, strings, None, and dicts, lists or tuples of them")


def _decode(node: Any, arrays: Any, path: str) -> Any:
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"nn.load: {path} is not a valid checkpoint (bad structure entry)")
    (tag, value), = node.items()
    if tag == "a":
        return arrays[f"arr_{value}"]
    if tag == "v":
        return value
    if tag == "d":
        return {key: _decode(v, arrays, path) for key, v in value}
    if tag in ("l", "t"):
        items = [_decode(v, arrays, path) for v in value]
        return items if tag == "l" else tuple(items)
    raise ValueError(f"nn.load: {path} is not a valid checkpoint (unknown entry {tag!r})")


def _is_flat(obj: Any) -> bool:
    """A mapping of names to arrays that can be stored under its own keys."""
    reserved = {_TREE, "file", "allow_pickle"}  # the last two are np.savez's own arguments
    return isinstance(obj, Mapping) and all(
        isinstance(k, str) and k not in reserved and isinstance(v, (Tensor, np.ndarray))
        for k, v in obj.items())


def save(obj: Module | Mapping[str, Any] | Any, path: str | os.PathLike) -> None:
    """Save a module's state dict, a state dict, or a nested checkpoint to ``path`` (.npz).

    The file is written exactly at ``path`` (no extension is added) and replaced atomically.
    """
    if isinstance(obj, Module):
        obj = obj.state_dict()
    if _is_flat(obj):
        entries = {k: _as_array(v, repr(k)) for k, v in obj.items()}
    else:
        arrays: list[np.ndarray] = []
        tree = json.dumps(_encode(obj, arrays, "the object"))
        entries = {f"arr_{i}": a for i, a in enumerate(arrays)}
        entries[_TREE] = np.array(tree)
    path = os.fspath(path)
    tmp = f"{path}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "xb") as f:
            np.savez(f, **entries)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


#: What a file's first bytes say it is, when it is not an .npz (a zip archive).
_NOT_NPZ = ((b"\x93NUMPY", "holds a single .npy array, not an .npz checkpoint"),
            (b"\x80", "is a Python pickle, not an .npz checkpoint; pickles are never loaded"))
#: What a damaged zip archive raises while it is read (zlib.error, ValueError, OSError...).
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError)


def load(model_or_path: Module | str | os.PathLike, path: str | os.PathLike | None = None
         ) -> Any:
    """Load what :func:`save` wrote.

    ``nn.load(path)`` returns it: a dict of arrays (a state dict), or the saved structure.
    ``nn.load(model, path)`` loads a state dict into ``model`` (``model.load_state_dict``,
    strict) and returns the model.

    Never unpickles. A file that is not such a checkpoint (missing, empty, truncated or
    damaged, a pickle, a single ``.npy`` array, object arrays) raises one error naming the
    path and what is wrong with it: ``FileNotFoundError`` for a missing file, else
    ``ValueError``. A file written by ``torch.save`` is read through PyTorch's weights-only
    loader, which needs PyTorch (tensors come back as arrays; see
    ``nn.from_torch_state_dict``).
    """
    if isinstance(model_or_path, Module):
        if path is None:
            raise TypeError("nn.load(model, path): the path of the checkpoint is missing")
        state = load(path)
        if not _is_flat(state):
            raise ValueError(f"nn.load: {os.fspath(path)} holds a structured checkpoint, not "
                             "a state dict; load it with nn.load(path) and pass its state dict "
                             "to model.load_state_dict")
        model_or_path.load_state_dict(state)
        return model_or_path
    if path is not None:
        raise TypeError(f"nn.load: the first argument is a path or an nn.Module, got "
                        f"{type(model_or_path).__name__} and a second argument")
    return _read(os.fspath(model_or_path))


def _read(path: str) -> Any:
    """The checkpoint at ``path``: its arrays, decoded into the saved structure."""
    if is_torch_file(path):
        return load_torch_file(path)
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError as e:
        error = FileNotFoundError if isinstance(e, FileNotFoundError) else ValueError
        raise error(f"nn.load: cannot read {path}: {e.strerror or e}") from None
    if not head:
        raise ValueError(f"nn.load: {path} is empty, not an .npz checkpoint")
    if not head.startswith(b"PK"):
        what = next((text for magic, text in _NOT_NPZ if head.startswith(magic)),
                    f"is not an .npz checkpoint (a zip archive): it starts with {head!r}")
        raise ValueError(f"nn.load: {path} {what}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: _entry(archive, name, path) for name in archive.files}
    except _DAMAGED as e:
        if str(e).startswith("nn.load:"):
            raise
        raise ValueError(f"nn.load: {path} is truncated or damaged ({type(e).__name__}: "
                         f"{e})") from None
    tree = arrays.pop(_TREE, None)
    for name, a in arrays.items():
        if a.dtype.kind not in _NUMERIC:
            raise ValueError(f"nn.load: entry {name!r} of {path} has dtype {a.dtype}; expected "
                             "numeric arrays")
    if tree is None:
        return arrays
    if tree.dtype.kind != "U" or tree.ndim != 0:
        raise ValueError(f"nn.load: {path} has a malformed structure entry")
    try:
        description = json.loads(str(tree))
    except json.JSONDecodeError as e:
        raise ValueError(f"nn.load: {path} has a malformed structure entry: {e}") from None
    try:
        return _decode(description, arrays, path)
    except (KeyError, TypeError) as e:
        raise ValueError(f"nn.load: {path} is not a valid checkpoint ({e})") from None


def _entry(archive: Any, name: str, path: str) -> np.ndarray:
    try:
        return archive[name]
    except ValueError as e:
        if "allow_pickle" not in str(e):
            raise
        raise ValueError(f"nn.load: entry {name!r} of {path} is a pickled (object) array; "
                         "pickles are never loaded") from None
