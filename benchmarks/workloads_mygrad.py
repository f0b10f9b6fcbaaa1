"""MyGrad as a peer (another autograd engine over NumPy). MyGrad has tensors, ops and losses
but no layers or optimisers, so the MLP is written with its ops (batch-first,
``relu(X @ W.T + b)``) and updated with the same hand-written SGD/Adam as the NumPy floor.
Only run when mygrad is installed; never a dependency of tinygrad_ng."""

from __future__ import annotations

import mygrad as mg
import numpy as np
from mygrad.nnet.activations import relu, sigmoid
from mygrad.nnet.losses import softmax_crossentropy
from workloads import Batches, HandOptimizer, chain_plan, labels, run_chain, targets


def version() -> str:
    return mg.__version__


def configure(threads: int) -> None:
    """Nothing to do: NumPy's BLAS reads OPENBLAS_NUM_THREADS, set by the harness."""


class Net:
    def __init__(self, params: list[tuple[np.ndarray, np.ndarray]], output: str,
                 optimizer: str, lr: float) -> None:
        self.params = [(mg.tensor(W.copy()), mg.tensor(b.copy())) for W, b in params]
        self.flat = [p for pair in self.params for p in pair]
        self.output = output
        self.opt = HandOptimizer([p.data for p in self.flat], optimizer, lr)

    def _forward(self, X):
        A = X
        for l, (W, b) in enumerate(self.params):
            A = A @ W.T + b
            if l < len(self.params) - 1:
                A = relu(A)
        return sigmoid(A) if self.output == "sigmoid" else A

    def step(self, batch: tuple[np.ndarray, np.ndarray]) -> float:
        X, Y = batch
        out = self._forward(X)
        if self.output == "sigmoid":
            loss = -mg.mean(Y * mg.log(out) + (1 - Y) * mg.log(1 - out))
        else:
            loss = softmax_crossentropy(out, Y)
        loss.backward()
        self.opt.step([p.grad for p in self.flat])
        return loss.item()

    def predict(self, X: np.ndarray) -> np.ndarray:
        with mg.no_autodiff:
            out = np.asarray(self._forward(X))
        return labels(out, self.output)


make_net = Net  # the engine interface's constructor


def batch(X: np.ndarray, y: np.ndarray, output: str) -> tuple[np.ndarray, np.ndarray]:
    """MyGrad ops take NumPy arrays directly: float (m, 1) targets for BCE, int labels else."""
    return X, targets(y, output, X.dtype)


def loader(X: np.ndarray, y: np.ndarray, output: str, batch_size: int, seed: int) -> Batches:
    Xb, Yb = batch(X, y, output)
    return Batches(len(X), batch_size, seed, lambda idx: (Xb[idx], Yb[idx]))


_OPS = {"mul": lambda x, c: x * c, "add": lambda x, c: x + c, "sub": lambda x, c: x - c,
        "div": lambda x, c: x / c, "exp": lambda x, _: mg.exp(x), "log": lambda x, _: mg.log(x)}


def op_chain(x0: np.ndarray, n_ops: int):
    plan = [(_OPS[name], c) for name, c in chain_plan(n_ops)]
    x = mg.tensor(x0.copy())

    def forward() -> mg.Tensor:
        return run_chain(x, plan)

    def backward(out: mg.Tensor) -> np.ndarray:
        out.backward()  # MyGrad seeds a non-scalar output with ones (∂ of the sum)
        return np.asarray(x.grad)

    return forward, backward
