"""Neural-network building blocks (installed as ``tinygrad_ng.nn``).

    import tinygrad_ng.nn as nn
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    loss_fn = nn.BCELoss()

Course notation → here: the layer ``l`` weights ``W[l]`` of shape ``(n[l], n[l-1])`` are
``Linear(n[l-1], n[l]).weight``; ``b[l]`` is ``.bias`` (shape ``(n[l],)``); inputs are
batch-first, ``X`` of shape ``(m, n_x)`` (the course's ``X.T``).
"""

from . import init, utils
from .attention import MultiheadAttention
from .embedding import Embedding
from .layers import (
    BatchNorm1d,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .serialization import load, save

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout", "Embedding",
    "Flatten", "GRU", "GRUCell", "Identity", "LSTM", "LSTMCell", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "Module", "ModuleDict", "ModuleList", "MultiheadAttention",
    "Parameter", "RNN", "RNNCell", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "init",
    "load", "save", "utils",
]
