"""W7/W8 with tinygrad_ng's public API: nn.Conv2d, nn.MaxPool2d, nn.BatchNorm2d, optim.Adam."""

from __future__ import annotations

import numpy as np
import tinygrad_ng.nn as nn

import tinygrad_ng as tg
from tinygrad_ng import optim


class Block(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.skip = nn.Conv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: tg.Tensor) -> tg.Tensor:
        out = self.bn1(self.conv1(x)).relu()
        return (self.bn2(self.conv2(out)) + self.skip(x)).relu()


class ResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block1, self.block2 = Block(1, 16), Block(16, 32)
        self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(32, 10)

    def forward(self, x: tg.Tensor) -> tg.Tensor:
        return self.fc(self.pool(self.block2(self.block1(x))).flatten(1))


def happy() -> nn.Module:
    model = nn.Sequential()
    for name, layer in (("conv1", nn.Conv2d(3, 8, 4, padding="same")), ("relu1", nn.ReLU()),
                        ("pool1", nn.MaxPool2d(8)),
                        ("conv2", nn.Conv2d(8, 16, 2, padding="same")), ("relu2", nn.ReLU()),
                        ("pool2", nn.MaxPool2d(4)), ("flat", nn.Flatten()),
                        ("fc", nn.Linear(64, 6))):
        model.add_module(name, layer)
    return model


class Net:
    def __init__(self, workload: str, params: dict[str, np.ndarray], lr: float) -> None:
        self.model = happy() if workload == "W7" else ResNet()
        self.model.load_state_dict(params, strict=False)  # (BatchNorm's running stats: kept)
        self.loss_fn = nn.CrossEntropyLoss()
        self.opt = optim.Adam(self.model.parameters(), lr=lr)

    def step(self, X: tg.Tensor, y: tg.Tensor) -> float:
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(X), y)
        loss.backward()
        self.opt.step()
        return loss.item()


make_cnn = Net


def batch(X: np.ndarray, y: np.ndarray) -> tuple[tg.Tensor, tg.Tensor]:
    return tg.Tensor(X), tg.Tensor(y)
