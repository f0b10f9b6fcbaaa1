"""More activation layers, PyTorch's: ``GELU``, ``SiLU``, ``ELU``, ``SELU``, ``Softplus``,
``Mish``, ``Hardtanh``, ``ReLU6``, ``Hardswish``. Each calls one function of
``tinygrad_ng.functional``."""

from __future__ import annotations

from typing import Any

import tinygrad_ng.functional as F
from tinygrad_ng.tensor import Tensor

from .module import Module

__all__ = ["ELU", "GELU", "SELU", "Hardswish", "Hardtanh", "Mish", "ReLU6", "SiLU", "Softplus"]


class GELU(Module):
    """a = z·Φ(z) (``approximate="tanh"``: the tanh approximation)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, z: Any) -> Tensor:
        return F.gelu(z, self.approximate)

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class SiLU(Module):
    """a = z·σ(z)."""

    def forward(self, z: Any) -> Tensor:
        return F.silu(z)


class ELU(Module):
    """a = z for z > 0, else α(eᶻ − 1)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, z: Any) -> Tensor:
        return F.elu(z, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SELU(Module):
    """a = scale·elu(z, α) with the self-normalising constants."""

    def forward(self, z: Any) -> Tensor:
        return F.selu(z)


class Softplus(Module):
    """a = log(1 + e^(βz))/β (linear above ``threshold``)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, z: Any) -> Tensor:
        return F.softplus(z, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Mish(Module):
    """a = z·tanh(softplus(z))."""

    def forward(self, z: Any) -> Tensor:
        return F.mish(z)


class Hardtanh(Module):
    """a = clip(z, min_val, max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__()
        self.min_val, self.max_val = min_val, max_val

    def forward(self, z: Any) -> Tensor:
        return F.hardtanh(z, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Module):
    """a = min(max(0, z), 6)."""

    def forward(self, z: Any) -> Tensor:
        return F.relu6(z)


class Hardswish(Module):
    """a = z·relu6(z + 3)/6."""

    def forward(self, z: Any) -> Tensor:
        return F.hardswish(z)
