"""Fused single-node ops against the same functions composed from primitive Tensor ops.

For ``cross_entropy`` and ``batch_norm`` this times forward + backward (median of repeats,
``time.perf_counter``) and measures the peak memory allocated during one forward +
backward (``tracemalloc``, which sees NumPy's buffers), then prints a table with the
composed/fused ratios. It also checks that both versions give the same gradients.

    python benchmarks/bench_fused.py              # default sizes, 30 repeats
    python benchmarks/bench_fused.py --repeats 5  # quicker
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import tinygrad_ng.functional as F
from tinygrad_ng import Tensor

# ---------------------------------------------------------------- composed references


def composed_cross_entropy(z: Tensor, y_onehot: Tensor) -> Tensor:
    """J = −1/m Σ y·log softmax(z), max-shifted, from sub/max/exp/sum/log/mul/mean."""
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - shifted.exp().sum(axis=1, keepdims=True).log()
    return -(y_onehot * log_probs).sum(axis=1).mean()


def composed_batch_norm(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    """The course's z_norm = (z − μ)/√(σ² + ε), z̃ = γ·z_norm + β from mean/sub/mul/sqrt/div."""
    axes = (0,) + tuple(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred / (var + eps).sqrt() * gamma.reshape(view) + beta.reshape(view)


# ---------------------------------------------------------------- cases


@dataclass
class Case:
    name: str
    shape: tuple
    inputs: list[Tensor]               # leaves whose gradients are compared
    fused: Callable[[], Tensor]
    composed: Callable[[], Tensor]
    upstream: np.ndarray | None = None  # ∂J/∂out for non-scalar outputs


def cross_entropy_case(m: int, k: int, rng: np.random.Generator) -> Case:
    z = Tensor(rng.standard_normal((m, k)).astype(np.float32), requires_grad=True)
    y = rng.integers(0, k, m)
    onehot = Tensor(np.eye(k, dtype=np.float32)[y])
    return Case("cross_entropy", (m, k), [z], lambda: F.cross_entropy(z, y),
                lambda: composed_cross_entropy(z, onehot))


def batch_norm_case(shape: tuple, rng: np.random.Generator) -> Case:
    c = shape[1]
    x = Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    gamma = Tensor(rng.standard_normal(c).astype(np.float32), requires_grad=True)
    beta = Tensor(rng.standard_normal(c).astype(np.float32), requires_grad=True)
    upstream = rng.standard_normal(shape).astype(np.float32)
    return Case("batch_norm", shape, [x, gamma, beta], lambda: F.batch_norm(x, gamma, beta),
                lambda: composed_batch_norm(x, gamma, beta), upstream)


def step(case: Case, fn: Callable[[], Tensor]) -> None:
    """One forward + backward from fresh gradients."""
    for t in case.inputs:
        t.grad = None
    fn().backward(case.upstream)


def median_time(case: Case, fn: Callable[[], Tensor], repeats: int) -> float:
    step(case, fn)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step(case, fn)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_memory(case: Case, fn: Callable[[], Tensor]) -> int:
    """Peak bytes allocated above the starting level during one forward + backward."""
    for t in case.inputs:
        t.grad = None
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn().backward(case.upstream)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def max_grad_difference(case: Case) -> float:
    step(case, case.fused)
    fused = [t.grad.copy() for t in case.inputs]
    step(case, case.composed)
    return max(float(np.max(np.abs(a - t.grad))) for a, t in zip(fused, case.inputs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cases = [cross_entropy_case(256, 10, rng), cross_entropy_case(512, 1000, rng),
             cross_entropy_case(4096, 100, rng),
             batch_norm_case((512, 256), rng), batch_norm_case((4096, 64), rng),
             batch_norm_case((64, 32, 16, 16), rng)]
    header = (f"{'op':<14}{'shape':<18}{'fused ms':>10}{'composed ms':>13}{'time ×':>8}"
              f"{'fused MB':>10}{'composed MB':>13}{'mem ×':>7}{'max |Δgrad|':>13}")
    print("forward + backward, float32, median of", args.repeats, "repeats")
    print(header)
    print("-" * len(header))
    for case in cases:
        t_fused = median_time(case, case.fused, args.repeats)
        t_comp = median_time(case, case.composed, args.repeats)
        m_fused, m_comp = peak_memory(case, case.fused), peak_memory(case, case.composed)
        print(f"{case.name:<14}{str(case.shape):<18}{t_fused * 1e3:>10.3f}{t_comp * 1e3:>13.3f}"
              f"{t_comp / t_fused:>8.2f}{m_fused / 2**20:>10.2f}{m_comp / 2**20:>13.2f}"
              f"{m_comp / max(m_fused, 1):>7.2f}{max_grad_difference(case):>13.2e}")


if __name__ == "__main__":
    main()
