"""What the benchmark measures: the workloads W1–W6, their data, and the engine interface.

Everything here is engine-neutral (NumPy only): the harness (``harness.py``) makes the data
and the initial weights once, hands the same arrays to every engine, and times the engine's
own code. An *engine module* (``workloads_numpy.py``, ``workloads_tinygrad.py``,
``workloads_torch.py``, ``workloads_mygrad.py``) exposes the same small interface:

``version() -> str``, ``configure(threads: int) -> None`` (thread settings that env vars miss),
``TRACEMALLOC`` (optional, default True: False where the engine allocates outside
``tracemalloc``'s view, as PyTorch does, so W5 cannot be measured),

``make_net(params, output, optimizer, lr) -> net``
    an MLP from the initial arrays ``params = [(W1, b1), (W2, b2), ...]`` (``W[l]`` of the
    course's shape ``(n[l], n[l-1])``, ``b[l]`` of shape ``(n[l],)``), ReLU on every hidden
    layer, ``output`` ``"softmax"`` (softmax cross-entropy on int labels) or ``"sigmoid"``
    (sigmoid + binary cross-entropy on 0/1 labels), trained by ``optimizer`` ``"sgd"`` or
    ``"adam"`` (β₁ = 0.9, β₂ = 0.999, ε = 1e-8). ``net.step(batch) -> float`` runs one
    forward, backward and update and returns the mini-batch cost before the update;
    ``net.predict(X) -> np.ndarray`` gives int labels for a NumPy batch ``X`` of shape ``(m, n_x)``.

``batch(X, y, output)``
    one NumPy batch converted to what ``net.step`` takes (the engine's tensors or layout).

``loader(X, y, output, batch_size, seed)``
    an iterable of such batches, one pass per epoch, reshuffled each epoch. Every engine
    shuffles with ``np.random.default_rng(seed).permutation`` (``tinygrad_ng.data.DataLoader``
    does exactly that), so all engines see the same mini-batches in the same order.

``op_chain(x0, n_ops) -> (forward, backward)``
    the elementwise chain of :func:`chain_plan` on a copy of ``x0``; ``forward()`` builds it
    and returns a handle, ``backward(handle)`` backpropagates ∂(sum of the output)/∂x0 and
    returns it as a NumPy array.

Since all engines start from the same weights and see the same batches, their costs,
accuracies and gradients must agree; the harness checks that too.
"""

from __future__ import annotations

import numpy as np

#: The repeating op cycle of W2/W3: ((x·1.01 + 0.1).exp().log() − 0.1) / 1.01 = x. Each full
#: cycle is the identity with derivative 1 (exp and log undo each other), so even a chain of
#: a million ops keeps values and gradients O(1): no overflow, no underflow, no denormals,
#: and every engine's gradient can be compared with the hand-written one.
CHAIN_CYCLE: tuple[tuple[str, float | None], ...] = (
    ("mul", 1.01), ("add", 0.1), ("exp", None), ("log", None), ("sub", 0.1), ("div", 1.01))


def chain_plan(n_ops: int) -> list[tuple[str, float | None]]:
    """The first ``n_ops`` ops of the repeated :data:`CHAIN_CYCLE`, as (name, constant)."""
    return [CHAIN_CYCLE[k % len(CHAIN_CYCLE)] for k in range(n_ops)]


def run_chain(x, plan: list[tuple[object, float | None]]):
    """Apply ``plan`` (engine functions ``f(x, c)`` with their constants) to ``x`` in turn."""
    for f, c in plan:
        x = f(x, c)
    return x


#: The chain's ops for engines whose tensors have Python operators and ``exp``/``log`` methods.
METHOD_OPS = {"mul": lambda x, c: x * c, "add": lambda x, c: x + c,
              "sub": lambda x, c: x - c, "div": lambda x, c: x / c,
              "exp": lambda x, _: x.exp(), "log": lambda x, _: x.log()}


def targets(y: np.ndarray, output: str, dtype: np.dtype) -> np.ndarray:
    """Batch-first targets: int labels for cross-entropy, a float column (m, 1) for BCE."""
    return y.reshape(-1, 1).astype(dtype) if output == "sigmoid" else y


def labels(out: np.ndarray, output: str) -> np.ndarray:
    """Predicted int labels from a batch-first output: σ > 0.5, or the largest score."""
    return (out[:, 0] > 0.5).astype(np.int64) if output == "sigmoid" else out.argmax(axis=1)


class HandOptimizer:
    """The course's SGD (W -= α·dW) and Adam, by hand, updating NumPy arrays in place::

        V = β₁V + (1 − β₁)dW,  S = β₂S + (1 − β₂)dW²,  W -= α·V̂/(√Ŝ + ε)  (V̂, Ŝ bias-corrected)

    Used by the NumPy floor and by engines that have no optimisers of their own (MyGrad).
    """

    def __init__(self, params: list[np.ndarray], optimizer: str, lr: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params, self.optimizer, self.lr = params, optimizer, lr
        self.betas, self.eps, self.t = betas, eps, 0
        self.V = [np.zeros_like(p) for p in params]
        self.S = [np.zeros_like(p) for p in params]

    def step(self, grads: list[np.ndarray]) -> None:
        if self.optimizer == "sgd":
            for p, g in zip(self.params, grads):
                p -= self.lr * g
            return
        self.t += 1
        (beta1, beta2), t = self.betas, self.t
        for p, g, v, s in zip(self.params, grads, self.V, self.S):
            v *= beta1
            v += (1 - beta1) * g
            s *= beta2
            s += (1 - beta2) * g * g
            v_hat = v / (1 - beta1**t)
            s_hat = s / (1 - beta2**t)
            p -= self.lr * v_hat / (np.sqrt(s_hat) + self.eps)


class Batches:
    """Shuffled mini-batches, the course's way and ``tinygrad_ng.data.DataLoader``'s: each pass
    draws ``np.random.default_rng(seed).permutation(n)`` and yields ``take(indices)`` for
    consecutive slices of ``batch_size`` (the last one partial)."""

    def __init__(self, n: int, batch_size: int, seed: int, take) -> None:
        self.n, self.batch_size, self.take = n, batch_size, take
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        order = self.rng.permutation(self.n)
        for k in range(0, self.n, self.batch_size):
            yield self.take(order[k:k + self.batch_size])


# ----------------------------------------------------------------------------- configurations
#: Full sizes (the issue's) and ``--quick`` sizes (a smoke run of a few seconds).
CONFIGS: dict[str, dict[str, dict]] = {
    "full": {
        "W1": dict(sizes=(784, 256, 128, 10), batch=256, lr=0.05, warmup=3, steps=30),
        "W2": dict(shape=(16, 16), n_ops=200, warmup=3, runs=50),
        "W3": dict(n_ops=20_000, warmup=0, runs=3),
        "W3-1M": dict(n_ops=1_000_000, warmup=0, runs=1),
        "W4": dict(sizes=(64, 128, 64, 10), batch=64, lr=1e-3, epochs=20),
        "W5": dict(sizes=(784, 256, 128, 10), batch=256, lr=0.05),
        "W6": dict(sizes=(2, 5, 2, 1), n=300, noise=0.2, batch=64, lr=7e-4, epochs=5000),
    },
    "quick": {
        "W1": dict(sizes=(784, 256, 128, 10), batch=256, lr=0.05, warmup=1, steps=2),
        "W2": dict(shape=(16, 16), n_ops=24, warmup=1, runs=2),
        "W3": dict(n_ops=200, warmup=0, runs=1),
        "W3-1M": dict(n_ops=2_000, warmup=0, runs=1),
        "W4": dict(sizes=(64, 128, 64, 10), batch=64, lr=1e-3, epochs=1),
        "W5": dict(sizes=(784, 256, 128, 10), batch=256, lr=0.05),
        "W6": dict(sizes=(2, 5, 2, 1), n=300, noise=0.2, batch=64, lr=7e-4, epochs=5),
    },
}

DESCRIPTIONS: dict[str, str] = {
    "W1": "MLP {sizes}, ReLU, softmax CE, batch {batch}, float32: one SGD step",
    "W2": "chain of {n_ops} elementwise ops on a {shape} float32 tensor, forward + backward",
    "W3": "chain of {n_ops} scalar ops, forward and backward",
    "W3-1M": "chain of {n_ops} scalar ops, forward and backward",
    "W4": "sklearn digits, MLP {sizes}, batch {batch}, Adam, {epochs} epochs",
    "W5": "peak traced memory (tracemalloc) of one W1 step",
    "W6": "moons ({n} points), MLP {sizes}, sigmoid + BCE, batch {batch}, Adam, {epochs} epochs",
}


# ----------------------------------------------------------------------------- data
def init_params(sizes: tuple[int, ...], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """He initialisation as in the course: W[l] = randn(n[l], n[l-1])·√(2/n[l-1]), b[l] = 0."""
    rng = np.random.default_rng(seed)
    return [((rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)).astype(np.float32),
             np.zeros(n_out, dtype=np.float32))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def mlp_batch(sizes: tuple[int, ...], batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random batch for W1/W5: X ~ N(0, 1) of shape (batch, n_x), int labels (batch,)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    return X, rng.integers(0, sizes[-1], size=batch)


def digits(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 digits, pixels scaled to [0, 1], split 80/20 at random."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = (X[order] / 16.0).astype(np.float32), y[order].astype(np.int64)
    n_train = int(0.8 * len(X))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def moons(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The course's optimisation data set: two moons, from ``tinygrad_ng.data.make_moons``."""
    from tinygrad_ng.data import make_moons

    X, y = make_moons(n, noise=noise, seed=seed)
    return X.astype(np.float32), y.astype(np.int64)
