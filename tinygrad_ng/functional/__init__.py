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
from .attention import scaled_dot_product_attention
from .dropout import Dropout, dropout
from .embedding import Embedding, embedding
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
]
