"""tinygrad_ng with each step compiled by ``tg.jit``: the model, loss, optimiser and data of
``workloads_tinygrad``, the step wrapped once (``step = tg.jit(train_step)``). The first call
records, the later ones replay the tape."""

from __future__ import annotations

import numpy as np
import workloads_tinygrad as eager
from workloads import METHOD_OPS, chain_plan, run_chain
from workloads_tinygrad import batch, configure, loader, version  # noqa: F401  (same)

import tinygrad_ng as tg


class Net(eager.Net):
    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.compiled = tg.jit(self.train_step)

    def step(self, data: tuple[tg.Tensor, tg.Tensor]) -> float:
        return self.compiled(*data).item()


make_net = Net


def op_chain(x0: np.ndarray, n_ops: int):
    """The chain's forward and backward as ONE compiled step: the harness's "forward" time
    is the whole step, its "backward" time only reads ``x.grad``."""
    plan = [(METHOD_OPS[name], c) for name, c in chain_plan(n_ops)]
    x = tg.Tensor(x0.copy(), requires_grad=True)
    seed = np.ones(x0.shape, dtype=x0.dtype)

    @tg.jit
    def step(x: tg.Tensor) -> None:
        x.zero_grad()
        run_chain(x, plan).backward(seed)

    def forward() -> tg.Tensor:
        step(x)
        return x

    def backward(_: tg.Tensor) -> np.ndarray:
        return x.grad

    return forward, backward
