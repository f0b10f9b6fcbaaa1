"""Neural-network building blocks (installed as ``tinygrad_ng.nn``).

    import tinygrad_ng.nn as nn
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    loss_fn = nn.BCELoss()

Course notation → here: the layer ``l`` weights ``W[l]`` of shape ``(n[l], n[l-1])`` are
``Linear(n[l-1], n[l]).weight``; ``b[l]`` is ``.bias`` (shape ``(n[l],)``); inputs are
batch-first, ``X`` of shape ``(m, n_x)`` (the course's ``X.T``).
"""

import sys

from tinygrad_ng import functional

from . import init, utils
from .activation import ELU, GELU, SELU, Hardswish, Hardtanh, Mish, ReLU6, SiLU, Softplus
from .attention import MultiheadAttention
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .embedding import Embedding
from .interop import from_torch_state_dict, to_torch_state_dict
from .layers import (
    BatchNorm1d,
    BatchNorm2d,
    Dropout,
    Dropout2d,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, Upsample
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .serialization import load, save
from .transfer import freeze_all_but_last, layers_with_parameters, replace_head

# PyTorch's path to the functional ops, torch.nn.functional: tg.nn.functional is
# tinygrad_ng.functional, and `import tinygrad_ng.nn.functional as F` works too
sys.modules[f"{__name__}.functional"] = functional

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d",
    "BatchNorm2d", "Conv1d", "Conv2d", "ConvTranspose2d", "CrossEntropyLoss", "Dropout",
    "Dropout2d", "Embedding", "Flatten", "GRU", "GRUCell", "Identity", "LSTM", "LSTMCell",
    "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleDict",
    "ModuleList", "MultiheadAttention", "Parameter", "RNN", "RNNCell", "ReLU", "Sequential",
    "Sigmoid", "Softmax", "Tanh", "Upsample", "utils",
    "freeze_all_but_last", "from_torch_state_dict", "functional", "init",
    "layers_with_parameters", "load", "replace_head", "save", "to_torch_state_dict",
    "ELU", "GELU", "SELU", "Hardswish", "Hardtanh", "HuberLoss", "L1Loss", "LayerNorm", "Mish",
    "NLLLoss", "ReLU6", "SiLU", "SmoothL1Loss", "Softplus",
]
