"""The floor: the course's hand-written NumPy forward and backward, no autograd at all.

Layout follows the course: examples are COLUMNS, ``A[0] = X`` of shape ``(n_x, m)``,
``Z[l] = W[l] @ A[l-1] + b[l]`` with ``b[l]`` of shape ``(n[l], 1)``, and backward is

    dZ[L] = (A[L] − Y) / m                      (softmax + CE, or sigmoid + BCE)
    dW[l] = dZ[l] @ A[l-1].T      db[l] = Σ_columns dZ[l]
    dZ[l-1] = (W[l].T @ dZ[l]) * g'(Z[l-1])     (g' = 1 where Z > 0 for ReLU)

ReLU's backward is written exactly as the course's ``relu_backward``: a copy of dA, then
``dZ[Z <= 0] = 0``. (Written as ``dZ *= Z > 0`` it is several times faster; an earlier run
with that leaner floor is recorded in RESULTS.md.)

Updates are the course's SGD (W -= α·dW) and Adam (bias-corrected V and S), in place. The
conversion of a batch to columns is done once per batch or epoch, outside the step, as the
course does. Any NumPy autograd engine pays for its graph on top of this work, so its time
over this floor measures its overhead.
"""

from __future__ import annotations

import numpy as np
from workloads import Batches, HandOptimizer, chain_plan


def version() -> str:
    return np.__version__


def configure(threads: int) -> None:
    """Nothing to do: OpenBLAS reads OPENBLAS_NUM_THREADS, set by the harness."""


class Net:
    """An MLP with hand-written forward, backward and update (see the module docstring)."""

    def __init__(self, params: list[tuple[np.ndarray, np.ndarray]], output: str,
                 optimizer: str, lr: float) -> None:
        self.W = [W.copy() for W, _ in params]
        self.b = [b.reshape(-1, 1).copy() for _, b in params]
        self.output = output
        self.opt = HandOptimizer(self.W + self.b, optimizer, lr)

    def _forward(self, X: np.ndarray) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """A[L] and the caches (A[l-1], Z[l]) of every layer; the output activation applied."""
        A, caches = X, []
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            Z = W @ A + b
            caches.append((A, Z))
            A = np.maximum(Z, 0) if l < len(self.W) - 1 else Z
        if self.output == "sigmoid":
            A = 1 / (1 + np.exp(-A))
        else:  # softmax over the classes (rows), shifted for stability
            A = np.exp(A - A.max(axis=0, keepdims=True))
            A /= A.sum(axis=0, keepdims=True)
        return A, caches

    def step(self, batch: tuple[np.ndarray, np.ndarray]) -> float:
        X, Y = batch
        m = X.shape[1]
        A, caches = self._forward(X)
        if self.output == "sigmoid":  # Y of shape (1, m), 0/1
            cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
            dZ = (A - Y) / m
        else:  # Y: int labels of shape (m,); A − Y subtracts 1 at each example's class
            cols = np.arange(m)
            cost = -np.mean(np.log(A[Y, cols]))
            dZ = A
            dZ[Y, cols] -= 1
            dZ /= m
        grads_W, grads_b = [], []
        for l in range(len(self.W) - 1, -1, -1):
            A_prev, _ = caches[l]
            grads_W.append(dZ @ A_prev.T)
            grads_b.append(dZ.sum(axis=1, keepdims=True))
            if l > 0:
                dA = self.W[l].T @ dZ
                dZ = np.array(dA, copy=True)  # the course's relu_backward
                dZ[caches[l - 1][1] <= 0] = 0
        self.opt.step(grads_W[::-1] + grads_b[::-1])
        return float(cost)

    def predict(self, X: np.ndarray) -> np.ndarray:
        A, _ = self._forward(np.ascontiguousarray(X.T))
        return (A[0] > 0.5).astype(np.int64) if self.output == "sigmoid" else A.argmax(axis=0)


make_net = Net  # the engine interface's constructor


def batch(X: np.ndarray, y: np.ndarray, output: str) -> tuple[np.ndarray, np.ndarray]:
    """Columns: X.T of shape (n_x, m); labels (m,) for softmax, a (1, m) float row for sigmoid."""
    Y = y.reshape(1, -1).astype(X.dtype) if output == "sigmoid" else y
    return np.ascontiguousarray(X.T), Y


def loader(X: np.ndarray, y: np.ndarray, output: str, batch_size: int, seed: int) -> Batches:
    """The course's random mini-batches: a new order of the columns each epoch."""
    Xc, Y = batch(X, y, output)
    return Batches(Xc.shape[1], batch_size, seed, lambda idx: (Xc[:, idx], Y[..., idx]))


# The chain by hand: each op's forward f(x, c) and its backward d(g, c, x_in, x_out).
_FORWARD = {"mul": np.multiply, "add": np.add, "sub": np.subtract, "div": np.divide,
            "exp": lambda x, _: np.exp(x), "log": lambda x, _: np.log(x)}
_BACKWARD = {"mul": lambda g, c, x_in, x_out: g * c,
             "div": lambda g, c, x_in, x_out: g / c,
             "exp": lambda g, c, x_in, x_out: g * x_out,
             "log": lambda g, c, x_in, x_out: g / x_in,
             "add": lambda g, c, x_in, x_out: g,
             "sub": lambda g, c, x_in, x_out: g}


def op_chain(x0: np.ndarray, n_ops: int):
    """The chain's forward keeps every intermediate value; backward walks them in reverse."""
    plan = chain_plan(n_ops)
    fplan = [(_FORWARD[name], c) for name, c in plan]
    bplan = [(_BACKWARD[name], c) for name, c in reversed(plan)]

    def forward() -> list[np.ndarray]:
        xs = [x0.copy()]
        x = xs[0]
        for f, c in fplan:
            x = f(x, c)
            xs.append(x)
        return xs

    def backward(xs: list[np.ndarray]) -> np.ndarray:
        g = np.ones_like(xs[-1])
        k = n_ops
        for d, c in bplan:
            g = d(g, c, xs[k - 1], xs[k])
            k -= 1
        return np.asarray(g)

    return forward, backward
