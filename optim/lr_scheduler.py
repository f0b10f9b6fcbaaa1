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

import math
from collections.abc import Callable
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
        f = self.factor(self.t)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * f

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
