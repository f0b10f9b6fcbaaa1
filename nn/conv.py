"""Convolution layers: ``Conv2d``, ``Conv1d``, ``ConvTranspose2d`` (NCHW, PyTorch's
parameter names, shapes and default initialisation, so state dicts line up).

In the course's notation, a conv layer l has n_C[l] filters of size f × f × n_C[l−1]:
here ``Conv2d(n_C[l−1], n_C[l], f, stride=s, padding=p).weight`` of shape
``(n_C[l], n_C[l−1], f, f)`` and ``bias`` of shape ``(n_C[l],)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import tinygrad_ng.functional as F
from tinygrad_ng.dtypes import get_default_dtype
from tinygrad_ng.functional.conv import _ints, _padding
from tinygrad_ng.tensor import Tensor

from . import init as nn_init
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate")


class _ConvNd(Module):
    """What the convolution layers share: arguments, parameters and PyTorch's default
    initialisation, W and b uniform in ±1/√fan_in with fan_in = weight.shape[1]·kH·kW
    (``kaiming_uniform_(a=√5)``)."""

    def __init__(self, name: str, in_channels: int, out_channels: int, kernel: tuple,
                 stride: Any, padding: Any, dilation: Any, groups: int, bias: bool,
                 transposed: bool, dtype: Any) -> None:
        super().__init__()
        n = len(kernel)
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            _ints(v, 1, what, name)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels ({in_channels}) "
                             f"and out_channels ({out_channels})")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = kernel
        self.stride, self.dilation = _ints(stride, n, "stride", name), _ints(dilation, n,
                                                                             "dilation", name)
        self.padding = padding if isinstance(padding, str) else _ints(padding, n, "padding",
                                                                      name, 0)
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + kernel
        dt = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.zeros(shape, dtype=dt))
        self.bias = Parameter(np.zeros(out_channels, dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh initial values: PyTorch's default, uniform in ±1/√fan_in."""
        bound = 1 / math.sqrt(self.weight.shape[1] * math.prod(self.kernel_size))
        nn_init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn_init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding not in ((0,) * len(self.kernel_size), "valid"):
            text += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.kernel_size):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    """2-D convolution of (N, C_in, H, W) batches: ``weight`` (C_out, C_in/groups, kH, kW),
    ``bias`` (C_out,). ``padding``: an int, a pair, ``"valid"`` or ``"same"``;
    ``padding_mode``: ``"zeros"`` (the default), ``"reflect"`` or ``"replicate"``. See
    :func:`tinygrad_ng.functional.conv2d`."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None) -> None:
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        super().__init__("Conv2d", in_channels, out_channels,
                         _ints(kernel_size, 2, "kernel_size", "Conv2d"), stride, padding,
                         dilation, groups, bias, False, dtype)
        self.padding_mode = padding_mode

    def forward(self, x: Any) -> Tensor:
        padding = self.padding
        if self.padding_mode != "zeros" and padding != "valid":  # pad first, then no padding
            (top, bottom), (left, right) = _padding(padding, self.kernel_size, self.dilation,
                                                    self.stride, "Conv2d")
            x = F.pad(x, (left, right, top, bottom), mode=self.padding_mode)
            padding = 0
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.padding_mode == "zeros" else \
            f"{text}, padding_mode={self.padding_mode!r}"


class Conv1d(_ConvNd):
    """1-D convolution of (N, C_in, L) sequences: ``weight`` (C_out, C_in/groups, k),
    ``bias`` (C_out,). See :func:`tinygrad_ng.functional.conv1d`."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__("Conv1d", in_channels, out_channels,
                         _ints(kernel_size, 1, "kernel_size", "Conv1d"), stride, padding,
                         dilation, groups, bias, False, dtype)

    def forward(self, x: Any) -> Tensor:
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(x, self.weight, self.bias, self.stride[0], padding, self.dilation[0],
                        self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed convolution (a learnable upsampling, as in a U-Net): ``weight``
    (C_in, C_out/groups, kH, kW), ``bias`` (C_out,); the output has
    ``(H − 1)·s − 2p + d·(kH − 1) + output_padding + 1`` rows. See
    :func:`tinygrad_ng.functional.conv_transpose2d`."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, dtype: Any = None) -> None:
        super().__init__("ConvTranspose2d", in_channels, out_channels,
                         _ints(kernel_size, 2, "kernel_size", "ConvTranspose2d"), stride,
                         padding, dilation, groups, bias, True, dtype)
        self.output_padding = _ints(output_padding, 2, "output_padding", "ConvTranspose2d", 0)

    def forward(self, x: Any) -> Tensor:
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)
