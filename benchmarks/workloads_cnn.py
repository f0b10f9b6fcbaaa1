"""W7 and W8: one training step of a convolutional network (issue 17), engine-neutral.

- W7, the course-4 "happy signs" CNN: a batch of 64 float32 3×64×64 images; conv 3→8 4×4
  "same", ReLU, max-pool 8; conv 8→16 2×2 "same", ReLU, max-pool 4; flatten, linear → 6,
  softmax cross-entropy, Adam: forward + backward + step.
- W8, a small residual network on 1×28×28 images, batch 64: two residual blocks (16 and 32
  channels), each conv 3×3 → batch norm → ReLU → conv 3×3 → batch norm, plus the skip
  (a 1×1 convolution where the channels change), then ReLU; global average pool, linear → 10;
  Adam.

Every engine gets the same images, labels and initial weights (:func:`init_params`); an
engine's CNN module is ``workloads_cnn_<engine>.py`` with ``make_cnn(workload, params, lr)``
→ a net whose ``step(X, y)`` returns the batch's loss before the update, and
``batch(X, y)``. An engine without one (the NumPy floor: there is no hand-written CNN) is
reported as skipped. PyTorch's "same" pads an even kernel's extra row/column at the
bottom/right, and every engine here does the same.
"""

from __future__ import annotations

import importlib
import statistics
import time

import numpy as np

WORKLOADS = ("W7", "W8")
METRICS = {w: [("step_ms", "ms/step, fwd+bwd+Adam", True), ("loss", "loss after the steps",
                                                               False)] for w in WORKLOADS}
TARGETS = [
    ("W7", "step_ms", "torch", 1.5, "W7 CNN step ≤ 1.5× PyTorch"),
    ("W7", "step_ms", "mygrad", 0.25, "W7 CNN step ≥ 4× faster than MyGrad"),
    ("W8", "step_ms", "torch", 1.5, "W8 ResNet step ≤ 1.5× PyTorch"),
    ("W8", "step_ms", "mygrad", 0.25, "W8 ResNet step ≥ 4× faster than MyGrad"),
]
CONFIGS = {
    "full": {"W7": dict(batch=64, lr=1e-3, warmup=2, steps=10),
             "W8": dict(batch=64, lr=1e-3, warmup=2, steps=10)},
    "quick": {"W7": dict(batch=4, lr=1e-3, warmup=1, steps=2),
              "W8": dict(batch=4, lr=1e-3, warmup=1, steps=2)},
}
DESCRIPTIONS = {
    "W7": "CNN 3×64×64 → conv 8 4×4 same, ReLU, max-pool 8, conv 16 2×2 same, ReLU, max-pool "
          "4, linear → 6, batch {batch}, float32, Adam: one step",
    "W8": "ResNet 1×28×28 → residual blocks of 16 and 32 channels (conv 3×3, batch norm), "
          "global average pool, linear → 10, batch {batch}, float32, Adam: one step",
}
#: (input shape, classes) per workload
DATA = {"W7": ((3, 64, 64), 6), "W8": ((1, 28, 28), 10)}


def init_params(workload: str, seed: int) -> dict[str, np.ndarray]:
    """He-normal conv and linear weights (fan-in = C_in·kH·kW), zero biases, γ = 1, β = 0;
    names follow the PyTorch modules of ``workloads_cnn_torch``."""
    rng = np.random.default_rng(seed)

    def he(*shape: int) -> np.ndarray:
        fan_in = int(np.prod(shape[1:]))
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    zeros, ones = (lambda n: np.zeros(n, np.float32)), (lambda n: np.ones(n, np.float32))
    if workload == "W7":
        return {"conv1.weight": he(8, 3, 4, 4), "conv1.bias": zeros(8),
                "conv2.weight": he(16, 8, 2, 2), "conv2.bias": zeros(16),
                "fc.weight": he(6, 64), "fc.bias": zeros(6)}
    params: dict[str, np.ndarray] = {}
    for name, c_in, c_out in (("block1", 1, 16), ("block2", 16, 32)):
        params.update({f"{name}.conv1.weight": he(c_out, c_in, 3, 3),
                       f"{name}.bn1.weight": ones(c_out), f"{name}.bn1.bias": zeros(c_out),
                       f"{name}.conv2.weight": he(c_out, c_out, 3, 3),
                       f"{name}.bn2.weight": ones(c_out), f"{name}.bn2.bias": zeros(c_out),
                       f"{name}.skip.weight": he(c_out, c_in, 1, 1)})
    params.update({"fc.weight": he(10, 32), "fc.bias": zeros(10)})
    return params


def images(workload: str, batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed batch of N(0, 1) float32 images and int labels."""
    shape, classes = DATA[workload]
    rng = np.random.default_rng(seed + 1)
    return (rng.standard_normal((batch, *shape)).astype(np.float32),
            rng.integers(0, classes, size=batch))


def measure(eng, cfg: dict, seed: int, workload: str) -> dict:
    """Time ``steps`` training steps on one batch after ``warmup`` ones; fastest and median."""
    try:
        mod = importlib.import_module(eng.__name__.replace("workloads_", "workloads_cnn_"))
    except ModuleNotFoundError:
        return {"skipped": "no CNN for this engine"}
    net = mod.make_cnn(workload, init_params(workload, seed), cfg["lr"])
    X, y = mod.batch(*images(workload, cfg["batch"], seed))
    for _ in range(cfg["warmup"]):
        net.step(X, y)
    times, loss = [], float("nan")
    for _ in range(cfg["steps"]):
        t0 = time.perf_counter()
        loss = net.step(X, y)
        times.append(time.perf_counter() - t0)
    return {"step_ms": min(times) * 1e3, "step_ms_median": statistics.median(times) * 1e3,
            "loss": loss}
