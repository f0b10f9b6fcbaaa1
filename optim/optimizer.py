"""``Optimizer``: the base class of every update rule.

An optimiser holds ``param_groups`` (lists of parameters, each with its own hyper-parameters
such as ``lr``) and a per-parameter ``state`` (momentum buffers, step counts). ``step()``
reads each parameter's ``.grad`` (dW, db in the course's notation) and moves the parameter::

    opt = optim.Adam(model.parameters(), lr=1e-3)
    for X, Y in loader:
        opt.zero_grad()
        loss_fn(model(X), Y).backward()
        opt.step()

A subclass only writes :meth:`Optimizer.update`: given one parameter's array, its gradient
and its state, return the amount to subtract from it.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_ng.autograd import no_grad
from tinygrad_ng.tensor import Tensor

ParamsArg = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``step``, ``zero_grad``, state dicts.

    ``params`` is an iterable of tensors, or of dicts ``{"params": [...], "lr": ...}`` to give
    groups their own hyper-parameters (missing ones fall back to ``defaults``).
    """

    #: True when weight decay is applied to the weights directly (AdamW) rather than added
    #: to the gradient as the L2 term (λ/m)·W of the cost (every other optimiser).
    decoupled_weight_decay = False

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params must be an iterable of tensors (e.g. "
                            "model.parameters()), not a single Tensor: wrap it in a list")
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} tensors, {settings}")
        return "\n".join(lines) + "\n)"

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters (e.g. a layer to fine-tune with its own ``lr``)."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{self._name}: a parameter group must be a dict with a 'params' "
                            "entry")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: parameter {i} is a {type(p).__name__}, "
                                "not a Tensor")
            if p.dtype.kind != "f":
                raise TypeError(f"{self._name}: parameter {i} has dtype {p.dtype}; only "
                                "floating-point tensors can be optimised")
            if not p.is_leaf:
                raise ValueError(f"{self._name}: parameter {i} (shape {p.shape}) is not a leaf: "
                                 f"it was computed by '{p.op}'; optimise the tensor it came "
                                 "from")
            if id(p) in seen:
                raise ValueError(f"{self._name}: parameter {i} (shape {p.shape}) appears more "
                                 "than once")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise TypeError(f"{self._name}: unknown hyper-parameter(s) {sorted(unknown)} in a "
                            f"parameter group; expected {sorted(self.defaults)}")
        full = {**self.defaults, **group, "params": params}
        self.validate(full)
        self.param_groups.append(full)

    def validate(self, group: dict[str, Any]) -> None:
        """Check a group's hyper-parameters (subclasses extend this)."""
        _check(self._name, "lr", group["lr"], low=0.0)
        _check(self._name, "weight_decay", group.get("weight_decay", 0.0), low=0.0)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``) before the next backward."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    @no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient.

        Updates are in place when the parameter's array is writeable (so views of it stay
        valid) and rebind ``p.data`` otherwise (an array still saved for a backward pass is
        read-only). The parameter keeps its dtype: float32 stays float32.
        """
        states, update = self.state, self.update
        for group in self.param_groups:
            decay = group.get("weight_decay", 0.0)
            l2 = decay and not self.decoupled_weight_decay
            for p in group["params"]:
                if p.grad is None:
                    continue
                w = p.data
                grad = np.asarray(p.grad, dtype=w.dtype)
                if grad.shape != w.shape:
                    raise ValueError(f"{self._name}: a parameter of shape {w.shape} has a "
                                     f"gradient of shape {grad.shape}")
                if l2:
                    grad = grad + decay * w  # dW + (λ/m)·W, the L2 term's gradient
                state = states.get(p)
                if state is None:
                    state = states[p] = {}
                delta = update(w, grad, group, state).astype(w.dtype, copy=False)
                if w.flags.writeable:
                    w -= delta
                else:
                    p.data = w - delta

    def update(self, w: np.ndarray, grad: np.ndarray, group: dict[str, Any],
               state: dict[str, Any]) -> np.ndarray:
        """The amount to subtract from ``w`` given its gradient; may update ``state``."""
        raise NotImplementedError(f"{self._name} must define update(w, grad, group, state)")

    # ------------------------------------------------------------------ checkpoints
    def _indexed(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state (copied): ``{"state": {index: {...}}, "param_groups": [...]}``.

        Parameters are referred to by their position across the groups, as in PyTorch, so
        the dict can be saved with ``nn.save`` and loaded into a fresh optimiser built over
        the same parameters; training then continues exactly as if it had never stopped.
        """
        params = self._indexed()
        index = {id(p): i for i, p in enumerate(params)}
        state = {index[id(p)]: copy.deepcopy(s) for p, s in self.state.items() if s}
        groups = []
        for group in self.param_groups:
            entry = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            entry["params"] = [index[id(p)] for p in group["params"]]
            groups.append(entry)
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state saved by :meth:`state_dict`."""
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if groups is None or "state" not in state_dict:
            raise ValueError(f"{self._name}.load_state_dict: expected a dict with 'state' and "
                             "'param_groups' (from Optimizer.state_dict())")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{self._name}.load_state_dict: the checkpoint has {len(groups)} "
                             f"parameter groups, this optimiser {len(self.param_groups)}")
        for i, (saved, mine) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(f"{self._name}.load_state_dict: group {i} has "
                                 f"{len(saved['params'])} parameters in the checkpoint but "
                                 f"{len(mine['params'])} here")
        params = self._indexed()
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, saved in state_dict["state"].items():
            i = int(key)
            if not 0 <= i < len(params):
                raise ValueError(f"{self._name}.load_state_dict: state for parameter {i}, but "
                                 f"there are only {len(params)}")
            p = params[i]
            entry = {}
            for name, value in saved.items():
                if isinstance(value, np.ndarray) and value.ndim:
                    if value.shape != p.shape:
                        raise ValueError(f"{self._name}.load_state_dict: state '{name}' of "
                                         f"parameter {i} has shape {value.shape}, the "
                                         f"parameter {p.shape}")
                    value = value.astype(p.dtype, copy=True)
                entry[name] = _python_scalar(value)
            new_state[p] = entry
        for saved, mine in zip(groups, self.param_groups):
            mine.update({k: _python_scalar(copy.deepcopy(v))
                         for k, v in saved.items() if k != "params"})
        self.state = new_state


def zeros_state(state: dict[str, Any], key: str, like: np.ndarray) -> np.ndarray:
    """``state[key]``, created as zeros shaped like the parameter on the first step
    (the course's v₀ = 0, s₀ = 0)."""
    buf = state.get(key)
    if buf is None:
        buf = state[key] = np.zeros_like(like)
    return buf


def _python_scalar(value: Any) -> Any:
    """0-d arrays and NumPy scalars (what a loaded ``.npz`` holds) back to Python numbers."""
    if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0:
        return value.item()
    if isinstance(value, (tuple, list)):
        return type(value)(_python_scalar(v) for v in value)
    return value


def _check(opt: str, name: str, value: Any, low: float = 0.0, high: float | None = None,
           high_open: bool = False) -> None:
    """Raise a clear ValueError unless ``low <= value <= high`` (``< high`` if open)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{opt}: {name} must be a number, got {value!r}")
    too_high = high is not None and (value >= high if high_open else value > high)
    if not value >= low or too_high:
        bound = "" if high is None else f" and {'<' if high_open else '<='} {high}"
        raise ValueError(f"{opt}: {name} must be >= {low}{bound}, got {value}")
