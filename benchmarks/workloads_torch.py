"""PyTorch (CPU) as a peer, written the idiomatic way: ``torch.nn`` layers, ``nn.CrossEntropyLoss``
or ``nn.Sigmoid`` + ``nn.BCELoss``, ``torch.optim``. Only run when torch is installed; never a
dependency of tinygrad_ng."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from workloads import METHOD_OPS, Batches, chain_plan, labels, run_chain, targets

#: PyTorch's CPU allocator bypasses Python's, so tracemalloc cannot see its tensors (no W5).
TRACEMALLOC = False


def version() -> str:
    return torch.__version__


def configure(threads: int) -> None:
    torch.set_num_threads(threads)


class Net:
    def __init__(self, params: list[tuple[np.ndarray, np.ndarray]], output: str,
                 optimizer: str, lr: float) -> None:
        layers: list[nn.Module] = []
        for l, (W, b) in enumerate(params):
            linear = nn.Linear(W.shape[1], W.shape[0])
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W))
                linear.bias.copy_(torch.from_numpy(b))
            layers.append(linear)
            if l < len(params) - 1:
                layers.append(nn.ReLU())
        if output == "sigmoid":
            layers.append(nn.Sigmoid())
        self.model = nn.Sequential(*layers)
        self.loss_fn = nn.BCELoss() if output == "sigmoid" else nn.CrossEntropyLoss()
        self.output = output
        if optimizer == "sgd":
            self.opt = torch.optim.SGD(self.model.parameters(), lr=lr)
        else:
            self.opt = torch.optim.Adam(self.model.parameters(), lr=lr, eps=1e-8)

    def step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> float:
        X, Y = batch
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(X), Y)
        loss.backward()
        self.opt.step()
        return loss.item()

    def predict(self, X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = self.model(torch.from_numpy(X)).numpy()
        return labels(out, self.output)


make_net = Net  # the engine interface's constructor


def batch(X: np.ndarray, y: np.ndarray, output: str) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(X), torch.from_numpy(targets(y, output, X.dtype))


def loader(X: np.ndarray, y: np.ndarray, output: str, batch_size: int, seed: int) -> Batches:
    Xt, Yt = batch(X, y, output)
    return Batches(len(X), batch_size, seed,
                   lambda idx: (Xt[torch.from_numpy(idx)], Yt[torch.from_numpy(idx)]))


def op_chain(x0: np.ndarray, n_ops: int):
    plan = [(METHOD_OPS[name], c) for name, c in chain_plan(n_ops)]
    x = torch.tensor(x0, requires_grad=True)

    def forward() -> torch.Tensor:
        x.grad = None
        return run_chain(x, plan)

    def backward(out: torch.Tensor) -> np.ndarray:
        out.backward(torch.ones_like(out))
        return x.grad.numpy()

    return forward, backward
