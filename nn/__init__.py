"""Neural-network building blocks (installed as ``tinygrad_ng.nn``).

    import tinygrad_ng.nn as nn
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    loss_fn = nn.BCELoss()

Course notation → here: the layer ``l`` weights ``W[l]`` of shape ``(n[l], n[l-1])`` are
``Linear(n[l-1], n[l]).weight``; ``b[l]`` is ``.bias`` (shape ``(n[l],)``); inputs are
batch-first, ``X`` of shape ``(m, n_x)`` (the course's ``X.T``).
"""

from . import init
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .layers import (
    BatchNorm1d,
    BatchNorm2d,
    Dropout,
    Dropout2d,
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
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, Upsample
from .serialization import load, save

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d",
    "BatchNorm2d", "Conv1d", "Conv2d", "ConvTranspose2d", "CrossEntropyLoss", "Dropout",
    "Dropout2d", "Flatten", "Identity", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss",
    "MaxPool2d", "Module", "ModuleDict", "ModuleList", "Parameter", "ReLU", "Sequential",
    "Sigmoid", "Softmax", "Tanh", "Upsample", "init", "load", "save",
]
