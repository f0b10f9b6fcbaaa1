"""Gradient descent: ``SGD`` (PyTorch's rule) and ``Momentum`` (the course's rule)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsArg, _check, zeros_state


class SGD(Optimizer):
    """Stochastic gradient descent with PyTorch's exact semantics.

    With g = dW + weight_decay·W (the L2 term; weight_decay = λ/m gives the course's
    ``dW + (λ/m)·W``)::

        momentum = 0:   W -= lr·g
        otherwise:      b = g on the first step, then b = momentum·b + (1 − dampening)·g
                        W -= lr·(g + momentum·b)   if nesterov
                        W -= lr·b                  otherwise

    Note this momentum buffer sums gradients (``b = βb + g``); the course's exponentially
    weighted average ``v = βv + (1 − β)dW`` is :class:`Momentum`.
    """

    elementwise = True
    update_reads_weights = False

    def __init__(self, params: ParamsArg, lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay))

    def validate(self, group: dict[str, Any]) -> None:
        super().validate(group)
        _check("SGD", "momentum", group["momentum"])
        _check("SGD", "dampening", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def update(self, w: np.ndarray, grad: np.ndarray, group: dict[str, Any],
               state: dict[str, Any]) -> np.ndarray:
        mu = group["momentum"]
        if mu == 0:
            return group["lr"] * grad
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = grad.copy()
        else:
            buf *= mu
            buf += (1 - group["dampening"]) * grad
        state["momentum_buffer"] = buf
        direction = grad + mu * buf if group["nesterov"] else buf
        return group["lr"] * direction


class Momentum(Optimizer):
    """Gradient descent with momentum, exactly as in the course.

    From v₀ = 0, on every step (per parameter, e.g. v_dW and v_db)::

        v = β·v + (1 − β)·dW
        W -= α·v

    ``lr`` is α and ``beta`` is β (0.9 averages over about the last 10 gradients). No bias
    correction, as in the course: the first steps are smaller. ``weight_decay`` adds the
    L2 term to dW as in :class:`SGD`.
    """

    elementwise = True
    update_reads_weights = False

    def __init__(self, params: ParamsArg, lr: float, beta: float = 0.9,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, beta=beta, weight_decay=weight_decay))

    def validate(self, group: dict[str, Any]) -> None:
        super().validate(group)
        _check("Momentum", "beta", group["beta"], high=1.0, high_open=True)

    def update(self, w: np.ndarray, grad: np.ndarray, group: dict[str, Any],
               state: dict[str, Any]) -> np.ndarray:
        beta = group["beta"]
        v = zeros_state(state, "velocity", w)
        v *= beta
        v += (1 - beta) * grad
        return group["lr"] * v
