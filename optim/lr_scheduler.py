"""Learning-rate decay, stepped once per epoch (the course's "1 epoch = 1 pass through the data").

``t`` counts the calls to ``scheduler.step()`` so far (PyTorch's convention): the learning
rate before the first call is α₀, and each schedule sets every group's ``lr`` to
α₀·factor(t)::

    opt = optim.SGD(model.parameters(), lr=0.2)
    sched = optim.lr_scheduler.InverseTimeDecay(opt, decay_rate=1.0)
    for epoch in range(4):
        train_one_epoch(model, opt)
        sched.step()            # lr: 0.1, 0.0667, 0.05, 0.04 (the course's table)
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from typing import Any

from .optimizer import Optimizer, _check


class LRScheduler:
    """Base class: sets each group's ``lr`` to its initial value times :meth:`factor`\\ (t)."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.t = 0

    def factor(self, t: int) -> float:
        """Multiplier of α₀ after ``t`` calls of ``step()``."""
        raise NotImplementedError(f"{type(self).__name__} must define factor(t)")

    def step(self) -> None:
        """Advance one epoch and set the new learning rate in every group."""
        self.t += 1
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.t)

    def lr_at(self, base: float, t: int) -> float:
        """The learning rate of a group that started at ``base``, after ``t`` steps."""
        return base * self.factor(t)

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group now."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {"t": self.t, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.t = int(state_dict["t"])
        self.base_lrs = [float(b) for b in state_dict["base_lrs"]]


class InverseTimeDecay(LRScheduler):
    """α = α₀ / (1 + decay_rate·t), the course's learning-rate decay.

    With α₀ = 0.2 and decay_rate = 1: 0.1, 0.0667, 0.05, 0.04 after epochs 1-4.
    """

    def __init__(self, optimizer: Optimizer, decay_rate: float) -> None:
        _check("InverseTimeDecay", "decay_rate", decay_rate)
        self.decay_rate = decay_rate
        super().__init__(optimizer)

    def factor(self, t: int) -> float:
        return 1.0 / (1.0 + self.decay_rate * t)


class ExponentialLR(LRScheduler):
    """α = α₀·γᵗ (the course's exponential decay, e.g. γ = 0.95)."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        _check("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer)

    def factor(self, t: int) -> float:
        return self.gamma**t


class StepLR(LRScheduler):
    """α = α₀·γ^⌊t / step_size⌋: a staircase, multiplied by γ every ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        _check("StepLR", "gamma", gamma)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def factor(self, t: int) -> float:
        return self.gamma ** (t // self.step_size)


class InverseSqrtDecay(LRScheduler):
    """α = α₀·k/√t for t ≥ 1 (α₀ before the first step), the course's k/√epoch decay."""

    def __init__(self, optimizer: Optimizer, k: float) -> None:
        _check("InverseSqrtDecay", "k", k)
        self.k = k
        super().__init__(optimizer)

    def factor(self, t: int) -> float:
        return self.k / math.sqrt(t)


class LambdaLR(LRScheduler):
    """α = α₀·lr_lambda(t) for any function of the epoch count (PyTorch's ``LambdaLR``)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]) -> None:
        if not callable(lr_lambda):
            raise TypeError("LambdaLR: lr_lambda must be a function of the epoch count t")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)
        for group, base in zip(optimizer.param_groups, self.base_lrs):
            group["lr"] = base * lr_lambda(0)

    def factor(self, t: int) -> float:
        return float(self.lr_lambda(t))


class MultiStepLR(LRScheduler):
    """α = α₀·γ^(number of milestones ≤ t): multiplied by γ at each milestone epoch
    (PyTorch's ``MultiStepLR``)."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int],
                 gamma: float = 0.1) -> None:
        self.milestones = sorted(int(m) for m in milestones)
        _check("MultiStepLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer)

    def factor(self, t: int) -> float:
        return self.gamma ** bisect.bisect_right(self.milestones, t)


class CosineAnnealingLR(LRScheduler):
    """α = η_min + (α₀ − η_min)·(1 + cos(π·t/T_max))/2: from α₀ down to η_min in ``T_max``
    steps along a half cosine (and back up after, as PyTorch's ``CosineAnnealingLR``)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        if not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive int, got {T_max!r}")
        _check("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def lr_at(self, base: float, t: int) -> float:
        return self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2


class OneCycleLR(LRScheduler):
    """The one-cycle policy (Smith & Topsis; PyTorch's ``OneCycleLR``), stepped after every
    **batch**: the learning rate rises from max_lr/div_factor to ``max_lr`` over the first
    ``pct_start`` of the ``total_steps``, then anneals to max_lr/(div_factor·final_div_factor);
    the momentum (SGD's ``momentum`` or Adam's β₁) moves the opposite way between
    ``max_momentum`` and ``base_momentum``. ``three_phase=True`` adds PyTorch's third phase
    (back to the initial rate first, then down to the minimum). Annealing is ``"cos"`` or
    ``"linear"``; stepping past ``total_steps`` raises."""

    def __init__(self, optimizer: Optimizer, max_lr: float, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: float = 0.85,
                 max_momentum: float = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False) -> None:
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if not isinstance(total_steps, int) or total_steps < 1:
            raise ValueError(f"OneCycleLR: total_steps must be a positive int, got "
                             f"{total_steps!r}")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        up = float(pct_start * total_steps) - 1
        # (end step, lr from, lr to, momentum from, momentum to) per phase; the rates are
        # the keys of each group that hold them
        self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum")]
        if three_phase:
            self.phases += [(2 * up, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                            (total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                             "max_momentum")]
        else:
            self.phases += [(total_steps - 1, "max_lr", "min_lr", "base_momentum",
                             "max_momentum")]
        groups = optimizer.param_groups
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * len(groups)
        self.cycle_momentum = cycle_momentum
        if cycle_momentum and not all("momentum" in g or "betas" in g for g in groups):
            raise ValueError("OneCycleLR: cycle_momentum=True needs an optimiser with momentum "
                             "(SGD) or betas (Adam); pass cycle_momentum=False")
        for group, top in zip(groups, max_lrs):
            group.update(initial_lr=top / div_factor, max_lr=top,
                         min_lr=top / div_factor / final_div_factor)
            if cycle_momentum:
                group.update(max_momentum=max_momentum, base_momentum=base_momentum)
        super().__init__(optimizer)
        self.t = -1
        self.step()  # step 0: the initial rate (and the maximal momentum)

    def step(self) -> None:
        """Advance one batch: set every group's rate (and momentum) for the next step."""
        self.t += 1
        if self.t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {self.t} times but total_steps is "
                             f"{self.total_steps}")
        for group in self.optimizer.param_groups:
            lr, momentum = self._values(group, self.t)
            group["lr"] = lr
            if self.cycle_momentum:
                if "betas" in group:
                    group["betas"] = (momentum, *tuple(group["betas"])[1:])
                else:
                    group["momentum"] = momentum

    def _values(self, group: dict[str, Any], t: int) -> tuple[float, float]:
        start = 0.0
        for i, (end, lr0, lr1, m0, m1) in enumerate(self.phases):
            if t <= end or i == len(self.phases) - 1:
                pct = (t - start) / (end - start)
                momentum = self._anneal(group[m0], group[m1], pct) if self.cycle_momentum \
                    else 0.0
                return self._anneal(group[lr0], group[lr1], pct), momentum
            start = end
        raise AssertionError("unreachable: the last phase always matches")

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start


class ReduceLROnPlateau:
    """Multiply the learning rate by ``factor`` when a metric has stopped improving for
    ``patience`` epochs (PyTorch's ``ReduceLROnPlateau``): call ``step(metric)`` once per
    epoch with, e.g., the dev loss.

    "Improving" means below ``best·(1 − threshold)`` (``mode="min"``, ``threshold_mode=
    "rel"``), below ``best − threshold`` (``"abs"``), or above the mirror images for
    ``mode="max"``. After a reduction ``cooldown`` epochs pass before counting again; the
    rate never goes below ``min_lr``, and changes smaller than ``eps`` are skipped.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0.0,
                 eps: float = 1e-8) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: expected an Optimizer, got "
                            f"{type(optimizer).__name__}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min'/'max' and threshold_mode "
                             f"'rel'/'abs', got {mode!r}, {threshold_mode!r}")
        if not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1), got {factor}")
        self.optimizer, self.mode, self.factor = optimizer, mode, factor
        self.patience, self.threshold, self.threshold_mode = patience, threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        n = len(optimizer.param_groups)
        self.min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.t = 0

    def is_better(self, value: float, best: float) -> bool:
        """Whether ``value`` improves on ``best`` by more than the threshold."""
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return value < (best * (1 - self.threshold) if rel else best - self.threshold)
        return value > (best * (1 + self.threshold) if rel else best + self.threshold)

    def step(self, metrics: float) -> None:
        """Record this epoch's metric; reduce the rates after ``patience`` bad epochs."""
        current = float(metrics)
        self.t += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(group["lr"] * self.factor, floor)
                if group["lr"] - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group now."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        vars(self).update(state_dict)
