"""Training diagnostics: smoothed cost curves, early stopping, and the bias/variance reading.

* :func:`ewa` — the exponentially weighted average ``v_t = β·v_{t−1} + (1 − β)·θ_t``, with
  bias correction, to smooth a noisy mini-batch cost curve before plotting it.
* :class:`EarlyStopping` — stop when the dev metric stops improving and put the best
  weights back.
* :func:`diagnose` — the course's basic recipe: compare train error with Bayes error
  (avoidable bias) and dev error with train error (variance).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .tensor import Tensor

__all__ = ["Diagnosis", "EarlyStopping", "diagnose", "ewa"]


def ewa(values: Iterable[float], beta: float = 0.9, bias_correction: bool = True) -> np.ndarray:
    """Exponentially weighted average of a 1-D series (float64 result, same length).

    ``v_0 = 0``, ``v_t = β·v_{t−1} + (1 − β)·θ_t``; it averages over roughly the last
    ``1/(1 − β)`` values (β = 0.9: ~10, β = 0.98: ~50). Starting from ``v_0 = 0`` makes the
    first values too small, so by default each is divided by ``1 − β^t`` (bias correction);
    ``bias_correction=False`` returns the raw ``v_t``.
    """
    if not 0 <= beta < 1:
        raise ValueError(f"ewa: beta must be in [0, 1), got {beta}")
    theta = np.asarray(values, dtype=np.float64)
    if theta.ndim != 1:
        raise ValueError(f"ewa: expected a 1-D series of values, got shape {theta.shape}")
    out = np.empty_like(theta)
    v = 0.0
    for t, x in enumerate(theta, start=1):
        v = beta * v + (1 - beta) * x
        out[t - 1] = v / (1 - beta**t) if bias_correction else v
    return out


class _HasStateDict(Protocol):
    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: dict[str, Any]) -> Any: ...


class EarlyStopping:
    """Stop training once the dev metric has not improved for ``patience`` epochs.

    ::

        stopper = EarlyStopping(patience=5)
        for epoch in range(200):
            ...                                   # one epoch of training
            if stopper.step(dev_loss, model):     # True: stop (best weights already back)
                break
        else:
            stopper.restore(model)                # ran out of epochs: still take the best

    An epoch improves when the metric beats ``best`` by more than ``min_delta``
    (``mode='min'``, the default, for a loss; ``mode='max'`` for accuracy). A NaN metric
    never improves. With ``restore_best=True`` each improvement snapshots a copy of
    ``model.state_dict()`` and stopping loads it back. ``model`` is anything with
    ``state_dict()`` (name → array) and ``load_state_dict(sd)``, e.g. an ``nn.Module``.

    Attributes: ``best`` (best metric so far), ``best_epoch`` (0-based index of the
    ``step`` call that set it, ``None`` before any), ``counter`` (alias
    ``epochs_without_improvement``), ``epochs`` (number of ``step`` calls), ``stopped``.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, restore_best: bool = True,
                 mode: str = "min") -> None:
        if not isinstance(patience, numbers.Integral) or isinstance(patience, bool) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be a positive integer, got "
                             f"{patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        self.patience, self.min_delta = patience, float(min_delta)
        self.restore_best, self.mode = restore_best, mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.best_state: dict[str, np.ndarray] | None = None
        self.counter = 0
        self.epochs = 0
        self.stopped = False

    @property
    def epochs_without_improvement(self) -> int:
        return self.counter

    def _improves(self, metric: float) -> bool:
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric: float, model: _HasStateDict | None = None) -> bool:
        """Record this epoch's dev metric; returns ``True`` when training should stop."""
        metric = float(metric)
        epoch, self.epochs = self.epochs, self.epochs + 1
        if self._improves(metric):
            self.best, self.best_epoch, self.counter = metric, epoch, 0
            if self.restore_best and model is not None:
                self.best_state = _copy_state(model.state_dict())
            return False
        self.counter += 1
        if self.counter >= self.patience:
            self.stopped = True
            if self.restore_best and model is not None and self.best_state is not None:
                self.restore(model)
        return self.stopped

    def restore(self, model: _HasStateDict) -> None:
        """Load the best snapshot (a fresh copy, so later training cannot change it)."""
        if self.best_state is None:
            raise RuntimeError("EarlyStopping.restore: no snapshot yet (no improving step() "
                               "was given a model, or restore_best=False)")
        model.load_state_dict(_copy_state(self.best_state))

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
                f"mode={self.mode!r}, best={self.best:.6g}, best_epoch={self.best_epoch}, "
                f"counter={self.counter}, stopped={self.stopped})")


def _copy_state(state: dict[str, Any]) -> dict[str, np.ndarray]:
    """Copy every entry: state dicts often share memory with the live parameters."""
    return {k: np.array(v.numpy() if isinstance(v, Tensor) else v, copy=True)
            for k, v in state.items()}


@dataclass(frozen=True)
class Diagnosis:
    """The bias/variance reading of :func:`diagnose` (errors as fractions, 0.11 = 11%)."""

    train_error: float
    dev_error: float
    bayes_error: float
    tolerance: float
    bias: float          # avoidable bias = train error − Bayes error
    variance: float      # dev error − train error
    high_bias: bool
    high_variance: bool

    @property
    def verdict(self) -> str:
        if self.high_bias and self.high_variance:
            return "high bias and high variance"
        if self.high_bias:
            return "high bias"
        if self.high_variance:
            return "high variance"
        return "low bias and low variance"

    def __str__(self) -> str:
        def level(high: bool) -> str:
            return "high" if high else "low"

        lines = [
            f"avoidable bias = train {self.train_error:.1%} - Bayes {self.bayes_error:.1%} "
            f"= {self.bias:.1%} -> {level(self.high_bias)}",
            f"variance = dev {self.dev_error:.1%} - train {self.train_error:.1%} "
            f"= {self.variance:.1%} -> {level(self.high_variance)}",
            f"verdict: {self.verdict} (high means more than {self.tolerance:.1%})",
        ]
        if self.high_bias:
            lines.append("to reduce bias: bigger network, train longer, other architecture")
        if self.high_variance:
            lines.append("to reduce variance: more data, regularization, other architecture")
        return "\n".join(lines)


def diagnose(train_error: float, dev_error: float, bayes_error: float = 0.0,
             tolerance: float = 0.02) -> Diagnosis:
    """Read bias and variance off train/dev errors, the course's way.

    Errors are fractions in [0, 1] (0.15 for 15%). Avoidable bias is
    ``train − bayes`` and variance is ``dev − train``; each is "high" when it is more than
    ``tolerance`` (default 0.02 = 2 percentage points). With Bayes error ≈ 0 this gives the
    course's four cases: 1%/11% high variance, 15%/16% high bias, 15%/30% both,
    0.5%/1% neither — and with Bayes error 15% (blurry images) 15%/16% is neither.
    """
    values = {"train_error": train_error, "dev_error": dev_error, "bayes_error": bayes_error}
    for name, value in values.items():
        if not 0 <= float(value) <= 1:
            raise ValueError(f"diagnose: {name} must be a fraction in [0, 1] "
                             f"(0.11 for 11%), got {value!r}")
    if not 0 <= tolerance < 1:
        raise ValueError(f"diagnose: tolerance must be in [0, 1), got {tolerance!r}")
    train, dev, bayes = float(train_error), float(dev_error), float(bayes_error)
    bias, variance = train - bayes, dev - train
    eps = 1e-12  # so that e.g. 0.10 − 0.08 counts as exactly the 2% tolerance, not more
    return Diagnosis(train, dev, bayes, float(tolerance), bias, variance,
                     high_bias=bias > tolerance + eps, high_variance=variance > tolerance + eps)
