"""Weight initialisation, in place, with the course's schemes: ``nn.init.he_normal_(W)``.

For a weight ``W[l]`` of shape ``(n[l], n[l-1])`` (out, in), the fan-in is n[l-1] and the
fan-out n[l]. Why scale at all: with z = Σ wᵢxᵢ over n[l-1] inputs, Var(wᵢ) = 1/n[l-1] keeps
z's variance near 1, so activations neither explode nor vanish through the layers.

============================  ====================================  =====================
function                      the course's name                     distribution
============================  ====================================  =====================
``zeros_``                    zeros (fine for b, fatal for W:       0
                              every unit stays identical)
``normal_(std=0.01)``         "× 0.01"                              N(0, std²)
``he_normal_``                He (for ReLU)                         N(0, 2/n[l-1])
``lecun_normal_``             "Xavier" for tanh                     N(0, 1/n[l-1])
``xavier_normal_``            Glorot/Bengio                         N(0, 2/(n[l-1]+n[l]))
``xavier_uniform_``           Glorot, uniform                       U(±√(6/(n[l-1]+n[l])))
``uniform_(a, b)``                                                  U(a, b)
============================  ====================================  =====================

Every function draws from the library generator (``tg.manual_seed``), keeps the tensor's
dtype and shape, and returns the tensor. After ``tg.manual_seed(s, legacy=True)`` each call
is the course's ``np.random.randn(n[l], n[l-1]) * scale`` (``/ np.sqrt(n[l-1])`` for
``lecun_normal_``, as the course's ``initialize_parameters_deep``): initialising the layers
in order reproduces ``initialize_parameters``, ``_deep`` and ``_he`` seeded with ``s``.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_ng import random
from tinygrad_ng.tensor import Tensor

__all__ = ["calculate_gain", "constant_", "fans", "he_normal_", "kaiming_normal_",
           "kaiming_uniform_", "lecun_normal_", "normal_", "ones_", "uniform_", "xavier_normal_",
           "xavier_uniform_", "zeros_"]


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    """Write ``values`` into ``tensor`` (in place when its array is writeable)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init: expected a Tensor, got {type(tensor).__name__}")
    values = values.astype(tensor.dtype, copy=False)
    if tensor.data.flags.writeable:
        tensor.data[...] = values
    else:
        tensor.data = values
    return tensor


def fans(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` = (n[l-1], n[l]) of a weight of shape ``(n[l], n[l-1])``."""
    if tensor.ndim < 2:
        raise ValueError(f"nn.init: fan-in and fan-out need a weight with at least 2 axes "
                         f"(out, in), got shape {tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0 (the course's choice for biases)."""
    return _fill(tensor, np.zeros(tensor.shape))


def normal_(tensor: Tensor, *, std: float = 0.01, mean: float = 0.0) -> Tensor:
    """N(mean, std²); the default is the course's ``np.random.randn(...) * 0.01`` (PyTorch's
    default is std = 1). ``mean`` and ``std`` are keywords only: PyTorch's positional order
    is ``normal_(w, mean, std)``, so a positional call would be read differently."""
    return _fill(tensor, mean + std * random.source().standard_normal(tensor.shape))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """U(a, b)."""
    if not a <= b:
        raise ValueError(f"nn.init.uniform_: need a <= b, got a={a}, b={b}")
    return _fill(tensor, random.source().uniform(a, b, tensor.shape))


def he_normal_(tensor: Tensor) -> Tensor:
    """He initialisation for ReLU layers: N(0, 2/n[l-1])."""
    fan_in, _ = fans(tensor)
    return normal_(tensor, std=math.sqrt(2.0 / fan_in))


def lecun_normal_(tensor: Tensor) -> Tensor:
    """N(0, 1/n[l-1]): what the course calls Xavier initialisation, for tanh layers."""
    fan_in, _ = fans(tensor)
    if random.is_legacy():  # the course's randn(...) / np.sqrt(n[l-1]), rounded as it rounds
        return _fill(tensor, random.source().standard_normal(tensor.shape) / math.sqrt(fan_in))
    return normal_(tensor, std=math.sqrt(1.0 / fan_in))


def xavier_normal_(tensor: Tensor) -> Tensor:
    """Glorot & Bengio: N(0, 2/(n[l-1] + n[l]))."""
    fan_in, fan_out = fans(tensor)
    return normal_(tensor, std=math.sqrt(2.0 / (fan_in + fan_out)))


def xavier_uniform_(tensor: Tensor) -> Tensor:
    """Glorot & Bengio, uniform: U(−r, r) with r = √(6/(n[l-1] + n[l])) (same variance)."""
    fan_in, fan_out = fans(tensor)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


# ---------------------------------------------------------------------- PyTorch's names
def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _fill(tensor, np.ones(tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(tensor, np.full(tensor.shape, val))


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain for an activation: 1 (linear, sigmoid), 5/3 (tanh), √2
    (relu), √(2/(1 + a²)) (leaky_relu with slope a, default 0.01), 3/4 (selu)."""
    if nonlinearity == "leaky_relu":
        a = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + a * a))
    gains = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "tanh": 5 / 3,
             "relu": math.sqrt(2.0), "selu": 0.75}
    if nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity not in gains:
        raise ValueError(f"nn.init.calculate_gain: unknown nonlinearity {nonlinearity!r}")
    return gains[nonlinearity]


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"nn.init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fans(tensor)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """PyTorch's He initialisation: N(0, std²), std = gain/√fan (the defaults give
    √(2/n[l-1]), as :func:`he_normal_`)."""
    return normal_(tensor, std=_kaiming_std(tensor, a, mode, nonlinearity))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """U(−r, r) with r = gain·√(3/fan) (``a=√5`` gives nn.Linear's default, 1/√n[l-1])."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)
