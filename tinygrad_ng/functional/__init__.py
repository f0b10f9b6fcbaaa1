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
- Every op is differentiable twice (``tg.grad(..., create_graph=True)``): the backward is
  written with operators and :mod:`tinygrad_ng.xp`, or, for ``cross_entropy`` and
  ``batch_norm`` whose closed forms use intermediates, the op also has a ``composed()``
  form from primitive ops, differentiated only under ``create_graph``.
- Forward passes have no side effects except ``batch_norm``'s documented update of the
  running statistics (done outside the op), so a node can be replayed with ``ctx.kwargs``.
"""

from ._common import _float_tensor as _float_tensor  # (nn.s layers share its dtype rule)
from .activations import (
    ELU,
    GELU,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
    elu,
    gelu,
    hardswish,
    hardtanh,
    leaky_relu,
    log_softmax,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from .attention import scaled_dot_product_attention
from .conv import Conv2d, Conv2dWeight, ConvTranspose2d, conv1d, conv2d, conv_transpose2d
from .distance import cosine_similarity
from .dropout import Dropout, dropout, dropout2d
from .embedding import Embedding, embedding
from .encoding import one_hot
from .linear import Linear, linear
from .losses import (
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    CrossEntropy,
    MSELoss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .normalization import BatchNorm, LayerNorm, batch_norm, layer_norm, normalize
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
from .recurrent import (
    GRULayer,
    LSTMLayer,
    RNNLayer,
    gru_cell,
    gru_layer,
    lstm_cell,
    lstm_layer,
    rnn_cell,
    rnn_layer,
)

__all__ = [
    "BatchNorm", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "CrossEntropy",
    "Dropout", "Embedding", "GRULayer", "LSTMLayer", "LeakyReLU", "Linear", "LogSoftmax",
    "MSELoss", "RNNLayer", "ReLU", "Sigmoid", "Softmax", "Tanh", "batch_norm",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout",
    "embedding", "gru_cell", "gru_layer", "leaky_relu", "linear", "log_softmax", "lstm_cell",
    "lstm_layer", "mse_loss", "relu", "rnn_cell", "rnn_layer", "scaled_dot_product_attention",
    "sigmoid", "softmax", "tanh",
    "ELU", "GELU", "Hardtanh", "LayerNorm", "Softplus", "cosine_similarity", "elu", "gelu",
    "hardswish", "hardtanh", "huber_loss", "l1_loss", "layer_norm", "mish", "nll_loss",
    "normalize", "one_hot", "relu6", "selu", "silu", "smooth_l1_loss", "softplus",
    "ConstantPad", "Conv2d", "Conv2dWeight", "ConvTranspose2d", "MaxPool2d", "MaxUnpool",
    "adaptive_avg_pool2d", "avg_pool2d", "conv1d", "conv2d", "conv_transpose2d", "dropout2d",
    "interpolate", "max_pool2d", "pad", "upsample",
]
