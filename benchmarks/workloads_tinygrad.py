"""tinygrad_ng through its public API, written as a user would: ``nn.Sequential`` of
``nn.Linear``/``nn.ReLU``, ``nn.CrossEntropyLoss`` or ``nn.Sigmoid`` + ``nn.BCELoss``,
``optim.SGD``/``optim.Adam`` and ``data.DataLoader``. Batch-first: X of shape (m, n_x)."""

from __future__ import annotations

import numpy as np
import tinygrad_ng.nn as nn
from workloads import METHOD_OPS, chain_plan, labels, run_chain, targets

import tinygrad_ng as tg
from tinygrad_ng import optim
from tinygrad_ng.data import DataLoader


def version() -> str:
    return tg.__version__


def configure(threads: int) -> None:
    """Nothing to do: NumPy's BLAS reads OPENBLAS_NUM_THREADS, set by the harness."""


class Net:
    def __init__(self, params: list[tuple[np.ndarray, np.ndarray]], output: str,
                 optimizer: str, lr: float) -> None:
        layers: list[nn.Module] = []
        for l, (W, b) in enumerate(params):
            linear = nn.Linear(W.shape[1], W.shape[0])
            linear.weight.data[...] = W
            linear.bias.data[...] = b
            layers.append(linear)
            if l < len(params) - 1:
                layers.append(nn.ReLU())
        if output == "sigmoid":
            layers.append(nn.Sigmoid())
        self.model = nn.Sequential(*layers)
        self.loss_fn = nn.BCELoss() if output == "sigmoid" else nn.CrossEntropyLoss()
        self.output = output
        opt = optim.SGD if optimizer == "sgd" else optim.Adam
        self.opt = opt(self.model.parameters(), lr=lr)

    def train_step(self, X: tg.Tensor, Y: tg.Tensor) -> tg.Tensor:
        """One step on a batch: forward, backward, update; returns the cost."""
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(X), Y)
        loss.backward()
        self.opt.step()
        return loss

    def step(self, batch: tuple[tg.Tensor, tg.Tensor]) -> float:
        return self.train_step(*batch).item()

    def predict(self, X: np.ndarray) -> np.ndarray:
        with tg.no_grad():
            out = self.model(tg.Tensor(X)).data
        return labels(out, self.output)


make_net = Net  # the engine interface's constructor


def batch(X: np.ndarray, y: np.ndarray, output: str) -> tuple[tg.Tensor, tg.Tensor]:
    return tg.Tensor(X), tg.Tensor(targets(y, output, X.dtype))


def loader(X: np.ndarray, y: np.ndarray, output: str, batch_size: int, seed: int) -> DataLoader:
    return DataLoader(X, targets(y, output, X.dtype), batch_size=batch_size, shuffle=True,
                      seed=seed)


def op_chain(x0: np.ndarray, n_ops: int):
    plan = [(METHOD_OPS[name], c) for name, c in chain_plan(n_ops)]
    x = tg.Tensor(x0.copy(), requires_grad=True)

    def forward() -> tg.Tensor:
        x.grad = None
        return run_chain(x, plan)

    def backward(out: tg.Tensor) -> np.ndarray:
        out.backward(np.ones(out.shape, dtype=out.dtype))
        return x.grad

    return forward, backward
