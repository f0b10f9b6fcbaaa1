"""W7/W8 in MyGrad: its conv_nd, max_pool and batchnorm, hand-written Adam. MyGrad's
padding is symmetric, so an even kernel's "same" padding (one more row and column at the
bottom/right, as PyTorch) is a concatenation of zeros. Only run when mygrad is installed."""

from __future__ import annotations

import mygrad as mg
import numpy as np
from mygrad.nnet.activations import relu
from mygrad.nnet.layers import batchnorm, conv_nd, max_pool
from mygrad.nnet.losses import softmax_crossentropy
from workloads import HandOptimizer


def _pad_after(x: mg.Tensor, n: int) -> mg.Tensor:
    """n zero rows and columns after the last ones (the odd part of a "same" padding)."""
    N, C, H, W = x.shape
    x = mg.concatenate([x, np.zeros((N, C, n, W), x.dtype)], axis=2)
    return mg.concatenate([x, np.zeros((N, C, H + n, n), x.dtype)], axis=3)


class Net:
    def __init__(self, workload: str, params: dict[str, np.ndarray], lr: float) -> None:
        self.workload = workload
        self.p = {k: mg.tensor(v.copy()) for k, v in params.items()}
        self.opt = HandOptimizer([t.data for t in self.p.values()], "adam", lr)

    def _conv(self, x, name: str, pad: int):
        y = conv_nd(x, self.p[f"{name}.weight"], stride=1, padding=pad)
        bias = self.p.get(f"{name}.bias")
        return y if bias is None else y + bias.reshape(1, -1, 1, 1)

    def _bn(self, x, name: str):
        g, b = self.p[f"{name}.weight"], self.p[f"{name}.bias"]
        return batchnorm(x, gamma=g, beta=b, eps=1e-5)

    def _block(self, x, name: str):
        out = relu(self._bn(self._conv(x, f"{name}.conv1", 1), f"{name}.bn1"))
        out = self._bn(self._conv(out, f"{name}.conv2", 1), f"{name}.bn2")
        return relu(out + self._conv(x, f"{name}.skip", 0))

    def _forward(self, X):
        p = self.p
        if self.workload == "W7":  # 4×4 "same": 1 before, 2 after; 2×2: 0 before, 1 after
            a = max_pool(relu(self._conv(_pad_after(X, 1), "conv1", 1)), (8, 8), 8)
            a = max_pool(relu(self._conv(_pad_after(a, 1), "conv2", 0)), (4, 4), 4)
            a = a.reshape(a.shape[0], -1)
        else:
            a = self._block(self._block(X, "block1"), "block2").mean(axis=(2, 3))
        return a @ p["fc.weight"].T + p["fc.bias"]

    def step(self, X: np.ndarray, y: np.ndarray) -> float:
        loss = softmax_crossentropy(self._forward(X), y)
        loss.backward()
        self.opt.step([t.grad for t in self.p.values()])
        return loss.item()


make_cnn = Net


def batch(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return X, y
