"""Training diagnostics: smoothed cost curves, early stopping, and the bias/variance reading.

* :func:`ewa` — the exponentially weighted average ``v_t = β·v_{t−1} + (1 − β)·θ_t``, with
  bias correction, to smooth a noisy mini-batch cost curve before plotting it.
* :class:`EarlyStopping` — stop when the dev metric stops improving and put the best
  weights back.
* :func:`diagnose` — the course's basic recipe: compare train error with Bayes (or
  human-level) error (avoidable bias), dev error with train error (variance), and — with a
  train-dev set — dev error with train-dev error (data mismatch).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .tensor import Tensor

__all__ = ["REMEDIES", "Diagnosis", "EarlyStopping", "diagnose", "ewa"]


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


#: The course's remedies for each gap (Course 2 week 1, Course 3 weeks 1-2).
REMEDIES: dict[str, tuple[str, ...]] = {
    "avoidable bias": ("bigger network", "train longer or with a better optimiser (momentum, "
                       "RMSprop, Adam)", "other architecture or hyperparameters"),
    "variance": ("more data", "regularization (L2, dropout, data augmentation)",
                 "other architecture or hyperparameters"),
    "data mismatch": ("error analysis of how training and dev/test data differ",
                      "make training data more like dev/test (artificial data synthesis)",
                      "collect more training data like dev/test"),
    "overfitting to dev": ("a bigger dev set",),
}

_SHORT = {"avoidable bias": "bias"}  # the name in the verdict ("high bias")


@dataclass(frozen=True)
class Diagnosis:
    """The reading of :func:`diagnose` (errors as fractions, 0.11 = 11%).

    ``bias`` is the avoidable bias (train − Bayes); ``variance`` is train-dev − train when a
    train-dev error was given, else dev − train; ``data_mismatch`` (dev − train-dev) and
    ``dev_overfitting`` (test − dev) are ``None`` unless those errors were given. ``gaps``
    collects them by name; ``largest_gap`` names the biggest and ``remedies`` lists the
    course's remedies for it. ``human_level`` is true when ``bayes_error`` is the human-level
    error used as its proxy.
    """

    train_error: float
    dev_error: float
    bayes_error: float
    tolerance: float
    bias: float          # avoidable bias = train error − Bayes error
    variance: float      # (train-dev or dev) error − train error
    high_bias: bool
    high_variance: bool
    train_dev_error: float | None = None
    test_error: float | None = None
    data_mismatch: float | None = None    # dev error − train-dev error
    dev_overfitting: float | None = None  # test error − dev error
    human_level: bool = False

    @property
    def gaps(self) -> dict[str, float]:
        """Each measured gap by name, in the order of the course's table."""
        gaps = {"avoidable bias": self.bias, "variance": self.variance,
                "data mismatch": self.data_mismatch, "overfitting to dev": self.dev_overfitting}
        return {name: gap for name, gap in gaps.items() if gap is not None}

    def is_high(self, gap: str) -> bool:
        """Whether the gap ``gap`` (a key of :attr:`gaps`) is more than the tolerance."""
        return self.gaps[gap] > self.tolerance + _EPS

    @property
    def high_data_mismatch(self) -> bool:
        return self.data_mismatch is not None and self.is_high("data mismatch")

    @property
    def largest_gap(self) -> str:
        """The name of the largest gap: where the next piece of work pays most."""
        gaps = self.gaps
        return max(gaps, key=gaps.__getitem__)

    @property
    def remedies(self) -> tuple[str, ...]:
        """The course's remedies for the largest gap."""
        return REMEDIES[self.largest_gap]

    @property
    def verdict(self) -> str:
        """Every high gap ("high bias and high variance"), or "low …" for each when none
        is: "low bias and low variance"."""
        names = [_SHORT.get(name, name) for name in self.gaps]
        high = [f"high {n}" for n, gap in zip(names, self.gaps) if self.is_high(gap)]
        return _join(high or [f"low {n}" for n in names])

    def __str__(self) -> str:
        bayes = "human-level (proxy for Bayes)" if self.human_level else "Bayes"
        rows = [(bayes, self.bayes_error, None), ("train", self.train_error, "avoidable bias")]
        if self.train_dev_error is not None:
            rows.append(("train-dev", self.train_dev_error, "variance"))
            rows.append(("dev", self.dev_error, "data mismatch"))
        else:
            rows.append(("dev", self.dev_error, "variance"))
        if self.test_error is not None:
            rows.append(("test", self.test_error, "overfitting to dev"))
        width = max(len(r[0]) for r in rows) + len(" error")
        lines = []
        for (name, error, gap), previous in zip(rows, [None, *rows]):
            line = f"{name + ' error':<{width}}  {error:6.1%}"
            if gap is not None:
                level = "high" if self.is_high(gap) else "low"
                line += (f"   {gap} = {error:.1%} - {previous[1]:.1%} = {self.gaps[gap]:.1%}"
                         f" -> {level}")
            lines.append(line)
        lines.append(f"verdict: {self.verdict} (high means more than {self.tolerance:.1%})")
        if self.bias < 0:
            lines.append(f"train error is below {bayes} error: it no longer tells how much "
                         "bias is avoidable")
        lines.append(f"largest gap: {self.largest_gap} ({self.gaps[self.largest_gap]:.1%})")
        for gap in self.gaps:
            if self.is_high(gap):
                lines.append(f"to reduce {gap}: {', '.join(REMEDIES[gap])}")
        return "\n".join(lines)


_EPS = 1e-12  # so that e.g. 0.10 − 0.08 counts as exactly the 2% tolerance, not more


def _join(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def diagnose(train_error: float, dev_error: float, bayes_error: float = 0.0,
             tolerance: float = 0.02, *, human_error: float | None = None,
             train_dev_error: float | None = None,
             test_error: float | None = None) -> Diagnosis:
    """Read bias and variance (and data mismatch) off the errors, the course's way.

    Errors are fractions in [0, 1] (0.15 for 15%). Avoidable bias is ``train − bayes`` and
    variance is ``dev − train``; each is "high" when it is more than ``tolerance`` (default
    0.02 = 2 percentage points). With Bayes error ≈ 0 this gives the course's four cases:
    1%/11% high variance, 15%/16% high bias, 15%/30% both, 0.5%/1% neither — and with Bayes
    error 15% (blurry images) 15%/16% is neither.

    Course 3 adds:

    * ``human_error``: human-level error (the best a team of experts achieves) as the proxy
      for Bayes error, in place of ``bayes_error``;
    * ``train_dev_error``: the error on a *train-dev* set, held out from the training
      distribution (:func:`~tinygrad_ng.data.train_dev_test_split` with ``train_dev=``).
      Variance becomes ``train-dev − train`` and **data mismatch** ``dev − train-dev``:
      human 1%, train 1.5%, train-dev 1.8%, dev 8% is a data-mismatch problem;
      1% / 8% / 10% / 10.5% an avoidable-bias one;
    * ``test_error``: ``test − dev`` measures overfitting to the dev set.

    The result's ``largest_gap`` and ``remedies`` say what to work on next.
    """
    values = {"train_error": train_error, "dev_error": dev_error, "bayes_error": bayes_error,
              "human_error": human_error, "train_dev_error": train_dev_error,
              "test_error": test_error}
    for name, value in values.items():
        if value is not None and not 0 <= float(value) <= 1:
            raise ValueError(f"diagnose: {name} must be a fraction in [0, 1] "
                             f"(0.11 for 11%), got {value!r}")
    if not 0 <= tolerance < 1:
        raise ValueError(f"diagnose: tolerance must be in [0, 1), got {tolerance!r}")
    if human_error is not None and bayes_error != 0.0:
        raise ValueError("diagnose: give bayes_error or human_error (its proxy), not both")
    train, dev = float(train_error), float(dev_error)
    bayes = float(bayes_error if human_error is None else human_error)
    train_dev = None if train_dev_error is None else float(train_dev_error)
    test = None if test_error is None else float(test_error)
    bias = train - bayes
    variance = (dev if train_dev is None else train_dev) - train
    return Diagnosis(train, dev, bayes, float(tolerance), bias, variance,
                     high_bias=bias > tolerance + _EPS,
                     high_variance=variance > tolerance + _EPS,
                     train_dev_error=train_dev, test_error=test,
                     data_mismatch=None if train_dev is None else dev - train_dev,
                     dev_overfitting=None if test is None else test - dev,
                     human_level=human_error is not None)
