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
and its state, return the amount to subtract from it. A rule that works element by element
(every built-in one) sets ``elementwise = True``: ``step`` then calls ``update`` once per
parameter group, on the group's parameters joined end to end, which saves a dozen NumPy
calls per parameter (a 2-5-2-1 net trained with Adam: about 15 % faster per step); groups
of more than ``FLAT_MAX`` elements, where copying would cost more than it saves, are not joined.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Iterable
from operator import attrgetter, is_, itemgetter
from typing import Any

import numpy as np

from tinygrad_ng.autograd import no_grad
from tinygrad_ng.tensor import Tensor
from tinygrad_ng.tensor_inplace import zero_grads

ParamsArg = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``step``, ``zero_grad``, state dicts.

    ``params`` is an iterable of tensors, or of dicts ``{"params": [...], "lr": ...}`` to give
    groups their own hyper-parameters (missing ones fall back to ``defaults``).
    """

    #: True when weight decay is applied to the weights directly (AdamW) rather than added
    #: to the gradient as the L2 term (λ/m)·W of the cost (every other optimiser).
    decoupled_weight_decay = False
    #: True when ``update`` is elementwise: each element of its result depends only on the
    #: same element of ``w``, ``grad`` and the state arrays. ``step`` may then update a whole
    #: parameter group with one call, on the group's parameters laid end to end.
    elementwise = False
    #: False when ``update`` reads only the shape and dtype of ``w``, never its values: a
    #: compiled step (``tg.jit``) then skips joining the weights end to end before the update.
    #: It is read from the class that defines ``update``, so a subclass overriding ``update``
    #: counts as reading the weights unless it says otherwise.
    update_reads_weights = True
    #: How many scratch arrays ``update`` takes as ``scratch=`` (arrays shaped like ``w`` to
    #: compute in instead of allocating new ones; a compiled step passes them); 0: none.
    #: Read from the class that defines ``update``, as ``update_reads_weights``.
    update_scratch = 0

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        self._flat: dict[int, _Flat | None] = {}  # group index -> its end-to-end layout
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

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (``.grad = None``) before the next backward;
        ``set_to_none=False`` fills the gradient arrays with zeros instead."""
        for group in self.param_groups:
            zero_grads(group["params"], set_to_none)

    @no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient and requires grad (a frozen
        parameter, ``requires_grad_(False)``, is skipped even if it kept an old ``.grad``).

        Updates are in place when the parameter's array is writeable (so views of it stay
        valid) and rebind ``p.data`` otherwise (an array still saved for a backward pass is
        read-only). The parameter keeps its dtype: float32 stays float32. When the rule is
        elementwise, a group's parameters are updated together (see :class:`_Flat`).
        """
        states = self.state
        for i, group in enumerate(self.param_groups):
            params = [p for p in group["params"] if p.grad is not None and p.requires_grad]
            flat = self._flat_layout(i, params) if self.elementwise and len(params) > 1 else None
            if flat is not None:
                flat.step(self, group)
                continue
            self._flat.pop(i, None)  # per-parameter steps: the group's buffers are stale
            for p in params:
                state = states.get(p)
                if state is None:
                    state = states[p] = {}
                _subtract(p, self._delta(p.data, _grad(p, self._name), group, state))

    def _delta(self, w: np.ndarray, grad: np.ndarray, group: dict[str, Any],
               state: dict[str, Any]) -> np.ndarray:
        """The amount to subtract from ``w``: the L2 term added to ``grad``, then ``update``."""
        if group.get("weight_decay", 0.0) and not self.decoupled_weight_decay:
            grad = grad + group["weight_decay"] * w  # dW + (λ/m)·W, the L2 term's gradient
        return self.update(w, grad, group, state).astype(w.dtype, copy=False)

    def _flat_layout(self, i: int, params: list[Tensor]) -> _Flat | None:
        """Group ``i``'s parameters laid end to end, reusing last step's layout while it
        still describes them; None when their states cannot be joined."""
        flat = self._flat.get(i)
        if flat is None or not flat.valid(params, self.state):
            flat = self._flat[i] = _Flat.join(params, self.state)
        return flat

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


def _grad(p: Tensor, opt: str) -> np.ndarray:
    """``p.grad`` as an array of ``p``'s dtype, checked against ``p``'s shape."""
    grad = np.asarray(p.grad, dtype=p.data.dtype)
    if grad.shape != p.data.shape:
        raise ValueError(f"{opt}: a parameter of shape {p.data.shape} has a gradient of shape "
                         f"{grad.shape}")
    return grad


def _subtract(p: Tensor, delta: np.ndarray) -> None:
    """``p.data -= delta``: in place when the array is writeable, else a new array (one still
    saved for a backward pass is read-only)."""
    w = p.data
    if w.flags.writeable:
        w -= delta
    else:
        p.data = w - delta


class _Flat:
    """A parameter group laid end to end, so an elementwise rule runs once per group.

    Small models have many small parameters (W1, b1, W2, …); updating each costs a dozen
    NumPy calls, mostly overhead. Here the gradients are joined into one vector, ``update``
    runs once on it with one state (flat ``exp_avg``, ``exp_avg_sq``, … and the shared
    ``step``), and each parameter gets its slice of the result. Every parameter's own
    ``optimizer.state[p]`` stays in step: its arrays are views into the flat ones and its
    numbers are copied after each update, so ``state_dict`` and readers see no difference.
    (The checks below map C functions over the parameters: a Python loop would cost as
    much as the NumPy calls saved.)
    """

    __slots__ = ("params", "ids", "shapes", "states", "bounds", "state", "views")

    def __init__(self, params: list[Tensor], states: list[dict], state: dict) -> None:
        self.params = params
        self.ids = list(map(id, params))
        self.shapes = list(map(_data_shape, params))
        self.states = states  # the per-parameter state dicts (kept in step)
        self.state = state  # the group's flat state, what update() sees
        self.views: dict[str, list[np.ndarray]] = {}  # key -> each parameter's view
        self.bounds = np.cumsum([0] + [p.data.size for p in params]).tolist()

    @classmethod
    def join(cls, params: list[Tensor], states: dict) -> _Flat | None:
        """Lay ``params`` end to end with their states joined; None when they are too big to
        gain (over ``FLAT_MAX`` elements), the dtypes differ or the states differ in kind
        (e.g. step counts, after some parameter missed a step)."""
        dtype = params[0].data.dtype
        if sum(map(_data_size, params)) > FLAT_MAX or any(p.data.dtype != dtype
                                                           for p in params):
            return None
        per = [states.setdefault(p, {}) for p in params]
        first = per[0]
        if any(s.keys() != first.keys() for s in per):
            return None
        state: dict[str, Any] = {}
        for key, value in first.items():
            values = [s[key] for s in per]
            if isinstance(value, np.ndarray):  # one array per parameter, shaped like it
                if any(not isinstance(v, np.ndarray) or v.shape != p.data.shape
                       for v, p in zip(values, params)):
                    return None
                state[key] = values  # joined below, once every entry has been checked
            elif any(type(v) is not type(value) or v != value for v in values):
                return None
            else:
                state[key] = value
        for key, values in state.items():
            if type(values) is list:
                state[key] = np.concatenate(values, axis=None).astype(dtype, copy=False)
        flat = cls(params, per, state)
        flat.share()
        return flat

    def valid(self, params: list[Tensor], states: dict) -> bool:
        """Whether this layout still describes ``params`` and their states: the same tensors
        of the same shapes, the same state dicts, holding the same views."""
        return (list(map(id, params)) == self.ids
                and list(map(_data_shape, params)) == self.shapes
                and all(map(is_, map(states.get, params), self.states))
                and all(all(map(is_, map(itemgetter(key), self.states), views))
                        for key, views in self.views.items()))

    def step(self, opt: Optimizer, group: dict[str, Any]) -> None:
        """Update every parameter of the group with one call of ``opt.update``."""
        params = self.params
        w = np.concatenate(list(map(_data, params)), axis=None)
        grads = list(map(_grad_attr, params))
        try:
            usable = list(map(_shape, grads)) == self.shapes
        except AttributeError:  # a gradient set by hand as a list or a number
            usable = False
        if not usable:
            grads = [_grad(p, opt._name) for p in params]  # converted, or a clear error
        grad = np.concatenate(grads, axis=None).astype(w.dtype, copy=False)
        delta = opt._delta(w, grad, group, self.state)
        bounds = self.bounds
        for i, (p, shape) in enumerate(zip(params, self.shapes)):
            _subtract(p, delta[bounds[i]:bounds[i + 1]].reshape(shape))
        self.share()

    def share(self) -> None:
        """Mirror the flat state into every parameter's state: arrays as views, numbers as
        copies."""
        bounds, n = self.bounds, self.bounds[-1]
        for key, value in self.state.items():
            if isinstance(value, np.ndarray) and value.shape == (n,):
                views = self.views.get(key)
                if views is None or views[0].base is not value:  # a new array: new views
                    views = self.views[key] = [value[bounds[i]:bounds[i + 1]].reshape(shape)
                                               for i, shape in enumerate(self.shapes)]
                    for s, view in zip(self.states, views):
                        s[key] = view
            else:
                for s in self.states:
                    s[key] = value


_data, _grad_attr, _shape = attrgetter("data"), attrgetter("grad"), attrgetter("shape")
_data_shape, _data_size = attrgetter("data.shape"), attrgetter("data.size")

#: Groups of more elements than this are updated parameter by parameter: joining them would
#: copy megabytes (weights and gradients) to save a few microseconds of NumPy calls.
FLAT_MAX = 2**16


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
