"""``Module``: a layer or a whole model, with its parameters found automatically.

Assigning attributes is all it takes::

    class TwoLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(2, 4)      # a submodule: its W, b become ours
            self.out = nn.Linear(4, 1)

        def forward(self, X):
            return self.out(self.hidden(X).tanh()).sigmoid()

    model = TwoLayer()
    dict(model.named_parameters())   # {'hidden.weight': W[1], 'hidden.bias': b[1], ...}

Rules of discovery (checked when an attribute is assigned):

- a ``Module`` is a submodule;
- a leaf ``Tensor`` that requires grad (what :func:`Parameter` makes) is a parameter, and
  the name stays a parameter slot if it is later frozen or replaced;
- tensors registered with :meth:`Module.register_buffer` are buffers: state that is saved
  but not trained (BatchNorm's running statistics);
- anything else (including a tensor that does not require grad) is a plain attribute.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from tinygrad_ng import autograd
from tinygrad_ng.dtypes import get_default_dtype
from tinygrad_ng.tensor import Tensor
from tinygrad_ng.tensor_inplace import zero_grads
from tinygrad_ng.tensor_pytorch import to_dtype

__all__ = ["Module", "ModuleDict", "ModuleList", "Parameter", "Sequential"]


def Parameter(data: Any, requires_grad: bool = True) -> Tensor:  # noqa: N802 (PyTorch's name)
    """A trainable tensor: ``Tensor(data, requires_grad=True)`` as a floating-point array.

    Python numbers and lists get the default float dtype; integer arrays are converted to it
    (a parameter must be differentiable); float arrays keep their dtype and are shared, not
    copied. It returns a plain ``Tensor`` (not a subclass): a module recognises it as a
    parameter when it is assigned as an attribute (see :class:`Module`).
    """
    t = data if isinstance(data, Tensor) else Tensor(data)
    if t.dtype.kind != "f":
        t = Tensor(t.data.astype(get_default_dtype()))
    elif not t.is_leaf:
        t = t.detach()
    return t.requires_grad_(requires_grad)


class _IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


# Depth of nested Module.__call__s: the outermost call names every submodule by its path.
_call_depth = [0]
# Bumped by every change to a module tree: a root renames its modules' scopes only then.
_tree_version = [0]


class Module:
    """Base class of layers and models: subclass it, assign layers and parameters as
    attributes in ``__init__`` (after ``super().__init__()``) and write ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_param_names", {})
        object.__setattr__(self, "_buffer_names", {})
        object.__setattr__(self, "_module_names", {})
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_scope_name", type(self).__name__)
        object.__setattr__(self, "_scope_root", None)
        object.__setattr__(self, "_named_at", None)

    # ------------------------------------------------------------------ registration
    def _registry(self, who: str) -> None:
        if "_param_names" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() at the start "
                                 f"of __init__ before assigning {who}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._registry(repr(name))
        self._assign(name, value, self._slot_for(name, value))

    def _assign(self, name: str, value: Any, kind: dict | None) -> None:
        """Set the attribute and record ``name`` in registry ``kind`` only (None: none)."""
        if kind is self._module_names or name in self._module_names:
            _tree_version[0] += 1  # a submodule changed: scope names must be refreshed
        for registry in (self._param_names, self._buffer_names, self._module_names):
            if registry is not kind:
                registry.pop(name, None)
        if kind is not None:
            kind[name] = None
        object.__setattr__(self, name, value)

    def _slot_for(self, name: str, value: Any) -> dict | None:
        """The registry ``name`` belongs to after assigning ``value`` (None: plain attribute)."""
        params, buffers, modules = self._param_names, self._buffer_names, self._module_names
        if isinstance(value, Module):
            return modules
        if value is None:  # keeps an existing slot (e.g. ``self.bias = None``)
            return next((r for r in (params, buffers, modules) if name in r), None)
        if not isinstance(value, Tensor):
            if name in params or name in buffers:
                kind = "parameter" if name in params else "buffer"
                raise TypeError(f"{type(self).__name__}: cannot assign a "
                                f"{type(value).__name__} to the {kind} {name!r}: assign a "
                                f"Tensor (Parameter(...)), None, or set {name}.data")
            return None
        if name in buffers:
            return buffers
        if name in params and not value.is_leaf:
            raise TypeError(f"{type(self).__name__}: cannot assign the result of '{value.op}' "
                            f"to the parameter {name!r}: a parameter must be a leaf; update "
                            f"its values with {name}.data = ... or wrap them in Parameter()")
        if name in params or (value.is_leaf and value.requires_grad):
            return params
        return None

    def __delattr__(self, name: str) -> None:
        if name in self._module_names:
            _tree_version[0] += 1
        for registry in (self._param_names, self._buffer_names, self._module_names):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def _register(self, who: str, name: str, value: Any, expected: type, kind: str) -> None:
        self._registry(f"{who}s")
        if value is not None and not isinstance(value, expected):
            raise TypeError(f"{type(self).__name__}: {who} {name!r} must be a "
                            f"{expected.__name__} or None, got {type(value).__name__}")
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"{type(self).__name__}: a {who} name must be a non-empty string "
                             f"without '.', got {name!r}")
        self._assign(name, value, self.__dict__[kind])

    def register_parameter(self, name: str, param: Tensor | None) -> None:
        """Make ``name`` a parameter slot (also for a frozen tensor, or ``None``)."""
        self._register("parameter", name, param, Tensor, "_param_names")

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Keep ``tensor`` in the state dict without training it (e.g. running statistics)."""
        self._register("buffer", name, tensor, Tensor, "_buffer_names")

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a submodule under ``name`` (for names that are not identifiers)."""
        self._register("submodule", name, module, Module, "_module_names")

    # ------------------------------------------------------------------ forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` inside a graph scope named by the module's path in the model
        (``"layers.0"``), so graph drawings can group nodes by module. A model called inside
        a scope of the caller's (``with tg.autograd.scope("t=3"): cell(x, h)``) nests its
        scopes in it, so a loop over time steps draws one box per step."""
        depth = _call_depth[0]
        if depth == 0 and self._named_at != _tree_version[0]:
            self._name_scopes()
        _call_depth[0] = depth + 1
        scopes = autograd.scopes
        if depth == 0 and scopes:
            scopes.append(f"{scopes[-1]}.{self._scope_name}")
        else:
            scopes.append(self._scope_name)
        try:
            return self.forward(*args, **kwargs)
        finally:
            scopes.pop()
            _call_depth[0] = depth

    def _name_scopes(self) -> None:
        """Name every module of this tree by its path from this root (for graph scopes).

        Redone only when a module tree changed, or when a module named by another root
        (a block also called on its own) is taken over."""
        taken = False
        for path, module in self.named_modules():
            taken |= module._scope_root not in (None, id(self))
            object.__setattr__(module, "_scope_root", id(self))
            object.__setattr__(module, "_scope_name", path or type(module).__name__)
        if taken:
            _tree_version[0] += 1
        object.__setattr__(self, "_named_at", _tree_version[0])

    # ------------------------------------------------------------------ traversal
    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name in self._module_names:
            module = getattr(self, name)
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and every submodule, by dotted path; a module
        reachable under several names is listed once unless ``remove_duplicate=False``."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield path, module
            kids = [(f"{path}.{n}" if path else n, m) for n, m in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def _named_tensors(self, kind: str, unique: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        for path, module in self.named_modules(remove_duplicate=unique):
            for name in module.__dict__[kind]:
                t = getattr(module, name)
                if t is None or (unique and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{path}.{name}" if path else name), t

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, parameter)`` pairs, e.g. ``("0.weight", W[1])``; a parameter
        shared by two layers is listed once."""
        return self._named_tensors("_param_names", unique=True)

    def parameters(self) -> Iterator[Tensor]:
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        return self._named_tensors("_buffer_names", unique=True)

    def buffers(self) -> Iterator[Tensor]:
        for _, b in self.named_buffers():
            yield b

    def num_parameters(self) -> int:
        """Total number of trainable numbers (the sizes of all parameters)."""
        return sum(p.size for p in self.parameters())

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule and on this module (e.g. a custom initialiser)."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout drops, batch norm uses batch statistics) for this module and
        every submodule; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter; returns self.

        ``requires_grad_(False)`` **freezes** the module (transfer learning: keep a
        pre-trained body fixed): backward no longer computes its gradients and optimisers
        leave it unchanged. Frozen parameters stay parameters (in ``parameters()`` and the
        state dict); ``requires_grad_()`` unfreezes them for fine-tuning.
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (``.grad = None``; ``set_to_none=False`` fills
        the gradient arrays with zeros instead)."""
        zero_grads(self.parameters(), set_to_none)

    # ------------------------------------------------------------------ dtypes
    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Module:
        """PyTorch's ``to``: ``model.to(tg.float64)`` casts every floating-point parameter
        and buffer in place (the tensors, and so an optimiser's references to them, stay the
        same); ``model.to("cpu")`` does nothing; another device raises."""
        dtype = to_dtype(f"{type(self).__name__}.to", args, dtype, device)
        if dtype is None:
            return self
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"{type(self).__name__}.to: only floating dtypes, got {dt}")
        for kind in ("_param_names", "_buffer_names"):
            for _, t in self._named_tensors(kind, unique=True):
                if t.dtype.kind == "f" and t.dtype != dt:
                    t.data = t.data.astype(dt)
                    if t.grad is not None:
                        t.grad = t.grad.astype(dt)
        return self

    def double(self) -> Module:
        """Cast the floating-point parameters and buffers to float64."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Cast the floating-point parameters and buffers to float32."""
        return self.to(np.float32)

    def half(self) -> Module:
        """Cast the floating-point parameters and buffers to float16."""
        return self.to(np.float16)

    def cpu(self) -> Module:
        """The module itself (it already lives on the CPU)."""
        return self

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Every parameter and buffer by dotted name, as copied arrays (a snapshot that later
        training does not change). A tensor shared by two layers appears under both names."""
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        for kind in ("_param_names", "_buffer_names"):
            for name, t in self._named_tensors(kind, unique=False):
                out[name] = t.data.copy()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any],
                        strict: bool = True) -> _IncompatibleKeys:
        """Copy arrays (or tensors) from ``state_dict`` into the parameters and buffers.

        ``strict`` (the default) requires exactly the model's keys. Missing or unexpected
        keys and shape mismatches raise a ``KeyError``/``ValueError`` naming them, before
        anything is changed. Values are cast to each tensor's dtype. Returns
        ``(missing_keys, unexpected_keys)`` (non-empty only when not strict).
        """
        who = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{who}: expected a mapping of names to arrays, got "
                            f"{type(state_dict).__name__}")
        targets = OrderedDict(self._named_tensors("_param_names", unique=False))
        targets.update(self._named_tensors("_buffer_names", unique=False))
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append("missing key(s) " + ", ".join(repr(k) for k in missing))
            if unexpected:
                parts.append("unexpected key(s) " + ", ".join(repr(k) for k in unexpected))
            raise KeyError(f"{who}: " + "; ".join(parts) + " (strict=False loads the keys "
                           "that match)")
        new = {}
        for key, t in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            arr = value.data if isinstance(value, Tensor) else np.asarray(value)
            if arr.shape != t.shape:
                raise ValueError(f"{who}: shape mismatch for {key!r}: the checkpoint has "
                                 f"{arr.shape}, the model {t.shape}")
            new[key] = np.array(arr, dtype=t.dtype, copy=True)
        for key, t in targets.items():
            if key in new:
                t.data = new[key]
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """The settings shown between the parentheses (``in_features=2, ...``)."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        own = sum(getattr(self, n).size for n in self._param_names
                  if getattr(self, n) is not None)
        if not children:
            count = f"  # {own} parameters" if own else ""
            return f"{type(self).__name__}({self.extra_repr()}){count}"
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, module in children:
            body = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + f"\n)  # {self.num_parameters()} parameters"


class ModuleList(Module):
    """A list of submodules, named ``"0"``, ``"1"``, … (e.g. a variable number of layers);
    index, slice, iterate, ``len()`` and ``append`` like a list."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: expected a Module, got "
                            f"{type(module).__name__}")
        self.add_module(_free_index(self), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def __len__(self) -> int:
        return len(self._module_names)

    def __iter__(self) -> Iterator[Module]:
        return self.children()

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self.children())
        if isinstance(index, slice):
            return type(self)._of(modules[index])
        return modules[index]

    @classmethod
    def _of(cls, modules: list[Module]) -> ModuleList:
        return cls(modules)


def _free_index(container: Module) -> str:
    """The name for an appended module: its position, or the next unused number when a
    module was deleted (so appending never overwrites one)."""
    names = container._module_names
    index = len(names)
    while str(index) in names:
        index += 1
    return str(index)


class Sequential(ModuleList):
    """Layers applied in order: ``Sequential(Linear(2, 4), Tanh(), Linear(4, 1))``.

    Submodules are named ``"0"``, ``"1"``, … (or by the keys of one dict argument); index,
    slice, iterate and ``len()`` like a list.
    """

    def __init__(self, *layers: Module) -> None:
        Module.__init__(self)
        if len(layers) == 1 and isinstance(layers[0], Mapping):
            layers_named = list(layers[0].items())
        else:
            layers_named = [(str(i), m) for i, m in enumerate(layers)]
        for name, layer in layers_named:
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {name!r} is a {type(layer).__name__}, not a "
                                "Module")
            self.add_module(name, layer)

    @classmethod
    def _of(cls, modules: list[Module]) -> Sequential:
        return cls(*modules)

    def forward(self, x: Any) -> Any:
        layers = self.__dict__  # (what children() yields, without its two generators)
        for name in self._module_names:
            layer = layers[name]
            if layer is not None:
                x = layer(x)
        return x


class ModuleDict(Module):
    """A dict of named submodules: ``ModuleDict({"encoder": ..., "head": ...})``."""

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        for name, m in (modules or {}).items():
            self[name] = m

    def __setitem__(self, name: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {name!r} must be a Module, got {type(module).__name__}")
        self.add_module(name, module)

    def __getitem__(self, name: str) -> Module:
        if name not in self._module_names:
            raise KeyError(f"ModuleDict: no module named {name!r}; have {list(self.keys())}")
        return getattr(self, name)

    def __delitem__(self, name: str) -> None:
        self[name]  # noqa: B018  (raises the KeyError above for an unknown name)
        delattr(self, name)

    def __contains__(self, name: object) -> bool:
        return name in self._module_names

    def __len__(self) -> int:
        return len(self._module_names)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._module_names))

    def keys(self) -> list[str]:
        return list(self._module_names)

    def values(self) -> list[Module]:
        return [getattr(self, n) for n in self._module_names]

    def items(self) -> list[tuple[str, Module]]:
        return [(n, getattr(self, n)) for n in self._module_names]
