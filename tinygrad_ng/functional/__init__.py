"""Neural-network ops, each ONE graph node with a hand-derived, numerically stable backward.

``import tinygrad_ng.functional as F``. In the course's notation a layer computes
``Z = W·A_prev + b`` and ``A = g(Z)``; backward needs ``dZ = dA * g'(Z)``, and each
activation below states its ``g'`` in terms of what it saved. The losses give the course's
famous shortcuts directly (``dZ = A − Y`` for sigmoid + cross-entropy, ``dZ = Ŷ − Y`` for
softmax + cross-entropy) instead of chaining through ``log`` and ``exp``.

Conventions shared by every function here:

- Batch-first data: ``m`` examples along axis 0 (the course stacks them as columns).
- Losses take ``reduction='mean' | 'sum' | 'none'``: the cost ``J = 1/m Σᵢ L⁽ⁱ⁾``, the sum
  ``Σᵢ L⁽ⁱ⁾``, or every ``L⁽ⁱ⁾`` unreduced. ``m`` counts the per-example losses.
- Integer and bool inputs are converted to the default float dtype (``relu`` keeps
  integers). A target tensor that requires grad gets its gradient too.
- Forward passes have no side effects except ``batch_norm``'s documented update of the
  running statistics (done outside the op), so a node can be replayed with ``ctx.kwargs``.
"""

from ._common import _float_tensor as _float_tensor  # (nn.s layers share its dtype rule)
from .activations import (
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from .conv import Conv2d, Conv2dWeight, ConvTranspose2d, conv1d, conv2d, conv_transpose2d
from .dropout import Dropout, dropout, dropout2d
from .linear import Linear, linear
from .losses import (
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    CrossEntropy,
    MSELoss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
from .normalization import BatchNorm, batch_norm
from .padding import ConstantPad, pad
from .pooling import (
    MaxPool2d,
    MaxUnpool,
    adaptive_avg_pool2d,
    avg_pool2d,
    interpolate,
    max_pool2d,
    upsample,
)

__all__ = [
    "BatchNorm", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "ConstantPad", "Conv2d",
    "Conv2dWeight", "ConvTranspose2d", "CrossEntropy", "Dropout", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "MaxPool2d", "MaxUnpool", "ReLU", "Sigmoid", "Softmax", "Tanh",
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv_transpose2d",
    "cross_entropy", "dropout", "dropout2d", "interpolate", "leaky_relu", "linear",
    "log_softmax", "max_pool2d", "mse_loss", "pad", "relu", "sigmoid", "softmax", "tanh",
    "upsample",
]
