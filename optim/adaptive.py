"""Adaptive learning rates: ``Adagrad``, ``RMSprop``, ``Adam`` and ``AdamW``.

These divide each gradient element by a running root mean square of its past values, so
directions with large oscillating gradients take smaller steps (the course's picture: damp
the vertical oscillation, keep moving horizontally).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsArg, _check, zeros_state


class RMSprop(Optimizer):
    """Root-mean-square propagation (PyTorch's rule, the course's with β₂ = ``alpha``)::

        S = α·S + (1 − α)·dW²        (elementwise; S₀ = 0)
        W -= lr · dW / (√S + ε)

    ε sits outside the square root, as in PyTorch and the course's programming exercises.
    """

    elementwise = True
    update_reads_weights = False

    def __init__(self, params: ParamsArg, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))

    def validate(self, group: dict[str, Any]) -> None:
        super().validate(group)
        _check("RMSprop", "alpha", group["alpha"], high=1.0)
        _check("RMSprop", "eps", group["eps"])

    def update(self, w: np.ndarray, grad: np.ndarray, group: dict[str, Any],
               state: dict[str, Any]) -> np.ndarray:
        alpha = group["alpha"]
        s = zeros_state(state, "square_avg", w)
        s *= alpha
        s += (1 - alpha) * grad * grad
        return group["lr"] * grad / (np.sqrt(s) + group["eps"])


class Adam(Optimizer):
    """Adaptive moment estimation with bias correction (the course's and PyTorch's rule).

    From V₀ = S₀ = 0, on step t = 1, 2, …::

        V = β₁·V + (1 − β₁)·dW            S = β₂·S + (1 − β₂)·dW²
        V̂ = V / (1 − β₁ᵗ)                 Ŝ = S / (1 − β₂ᵗ)
        W -= lr · V̂ / (√Ŝ + ε)

    Defaults are the paper's (lr = 0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-8).
    ``weight_decay`` adds the L2 term to dW before the moments (for decoupled decay use
    :class:`AdamW`).
    """

    elementwise = True
    update_reads_weights = False
    update_scratch = 2

    def __init__(self, params: ParamsArg, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def validate(self, group: dict[str, Any]) -> None:
        super().validate(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{self._name}: betas must be a pair (β₁, β₂), got {betas!r}")
        for i, beta in enumerate(betas, 1):
            _check(self._name, f"beta{i}", beta, high=1.0, high_open=True)
        _check(self._name, "eps", group["eps"])

    def update(self, w: np.ndarray, grad: np.ndarray, group: dict[str, Any],
               state: dict[str, Any], scratch: tuple[np.ndarray, np.ndarray] | None = None
               ) -> np.ndarray:
        """The step α·V̂/(√Ŝ + ε). ``scratch``: two arrays shaped like ``w`` to compute in
        instead of new ones (a compiled step's, see ``update_scratch``); the step is then
        returned in the first."""
        a, b = (None, None) if scratch is None else scratch
        beta1, beta2 = group["betas"]
        t = state["step"] = state.get("step", 0) + 1
        v = zeros_state(state, "exp_avg", w)
        s = zeros_state(state, "exp_avg_sq", w)
        v *= beta1
        v += np.multiply(grad, 1 - beta1, a)
        s *= beta2
        square = np.square(grad, b)
        square *= 1 - beta2
        s += square
        # α·V̂/(√Ŝ + ε) with V̂ = V/(1 − β₁ᵗ), Ŝ = S/(1 − β₂ᵗ), in four array passes: with
        # c = √(1 − β₂ᵗ), √Ŝ + ε = (√S + ε·c)/c, so the step is (α·c/(1 − β₁ᵗ))·V/(√S + ε·c)
        c = math.sqrt(1 - beta2**t)
        denom = np.sqrt(s, b)
        denom += group["eps"] * c
        delta = np.multiply(v, group["lr"] * c / (1 - beta1**t), a)
        delta /= denom
        return delta


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter; PyTorch's ``AdamW``)::

        W -= lr·weight_decay·W + lr · V̂ / (√Ŝ + ε)

    The decay shrinks the weights directly instead of entering the moments as an L2
    gradient, so it is not rescaled by 1/√Ŝ. Defaults as PyTorch (``weight_decay=1e-2``).
    """

    decoupled_weight_decay = True

    def __init__(self, params: ParamsArg, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def update(self, w: np.ndarray, grad: np.ndarray, group: dict[str, Any],
               state: dict[str, Any]) -> np.ndarray:
        decay = group["lr"] * group["weight_decay"] * w
        return decay + super().update(w, grad, group, state)


class Adagrad(Optimizer):
    """Adaptive gradient (PyTorch's rule): the step of each element shrinks with the sum of
    its squared gradients so far. On step t = 1, 2, …::

        S = S + dW²                    (elementwise; S₀ = initial_accumulator_value)
        W -= lr/(1 + (t − 1)·lr_decay) · dW / (√S + ε)
    """

    elementwise = True
    update_reads_weights = False

    def __init__(self, params: ParamsArg, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps))

    def validate(self, group: dict[str, Any]) -> None:
        super().validate(group)
        for name in ("lr_decay", "initial_accumulator_value", "eps"):
            _check("Adagrad", name, group[name])

    def update(self, w: np.ndarray, grad: np.ndarray, group: dict[str, Any],
               state: dict[str, Any]) -> np.ndarray:
        t = state["step"] = state.get("step", 0) + 1
        s = state.get("sum")
        if s is None:
            s = state["sum"] = np.full_like(w, group["initial_accumulator_value"])
        s += grad * grad
        rate = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        return rate * grad / (np.sqrt(s) + group["eps"])
