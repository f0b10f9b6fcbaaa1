"""W9: one training step of a character-level LSTM language model (course 5, week 1).

Vocabulary 64, embedding 32, one LSTM layer of 128, sequence 25, batch 32; softmax
cross-entropy over every step, ``clip_grad_norm_`` at 5, Adam: forward + backward + clip +
step, on a fixed batch. Every engine starts from the same arrays (PyTorch's names and
layouts) and sees the same batch, so the losses after the timed steps must agree.

An engine's W9 lives in ``charlm_<engine>.py`` beside its ``workloads_<engine>.py``, with
``make_char_lstm(params, cfg) -> model`` and ``model.step(X, Y) -> float`` (the loss before
the update) for int arrays X, Y of shape (seq, batch). Importing this module registers W9's
configurations and description with ``workloads``.
"""

from __future__ import annotations

import importlib.util
import statistics

import numpy as np
import workloads as wl

CONFIGS = {
    "full": dict(vocab=64, embed=32, hidden=128, seq=25, batch=32, lr=2e-3, clip=5.0,
                 warmup=3, steps=20),
    "quick": dict(vocab=64, embed=32, hidden=128, seq=25, batch=32, lr=2e-3, clip=5.0,
                  warmup=1, steps=2),
}
DESCRIPTION = ("char-level LSTM LM: vocab {vocab}, embedding {embed}, LSTM {hidden}, seq {seq}, "
               "batch {batch}, CE every step, clip_grad_norm_ {clip}, Adam: one step")
METRICS = [("step_ms", "ms/step", True), ("loss", "loss after the steps", False)]
TARGETS = [("W9", "step_ms", "torch", 2.0, "W9 step ≤ 2× PyTorch"),
           ("W9", "step_ms", "numpy", 1.5, "W9 step ≤ 1.5× NumPy")]

for size, cfg in CONFIGS.items():
    wl.CONFIGS[size]["W9"] = cfg
wl.DESCRIPTIONS["W9"] = DESCRIPTION


def init_params(cfg: dict, seed: int) -> dict[str, np.ndarray]:
    """float32 arrays under PyTorch's names: ``emb`` (V, E) ~ N(0, 1); the LSTM's and the
    output layer's weights U(±1/√fan) as PyTorch initialises them."""
    rng = np.random.default_rng(seed)
    V, E, H = cfg["vocab"], cfg["embed"], cfg["hidden"]
    u = lambda shape, n: rng.uniform(-1 / np.sqrt(n), 1 / np.sqrt(n), shape)  # noqa: E731
    params = {"emb": rng.standard_normal((V, E)), "weight_ih": u((4 * H, E), H),
              "weight_hh": u((4 * H, H), H), "bias_ih": u(4 * H, H), "bias_hh": u(4 * H, H),
              "head_w": u((V, H), H), "head_b": u(V, H)}
    return {k: v.astype(np.float32) for k, v in params.items()}


def layers(nn, cfg: dict) -> tuple:
    """The model's embedding, LSTM and output layer from a library's ``nn`` (tinygrad_ng's
    and PyTorch's take the same arguments)."""
    V, E, H = cfg["vocab"], cfg["embed"], cfg["hidden"]
    return nn.Embedding(V, E), nn.LSTM(E, H), nn.Linear(H, V)


def state_dict(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays of :func:`init_params` under a model's names: ``emb`` (an Embedding),
    ``lstm`` (an LSTM), ``head`` (a Linear)."""
    lstm = {f"lstm.{k}_l0": params[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    return {"emb.weight": params["emb"], "head.weight": params["head_w"],
            "head.bias": params["head_b"], **lstm}


def batch(cfg: dict, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids X (seq, batch) and the next-character targets Y (seq, batch)."""
    ids = np.random.default_rng(seed + 1).integers(0, cfg["vocab"], (cfg["seq"] + 1,
                                                                       cfg["batch"]))
    return ids[:-1], ids[1:]


def measure(eng, cfg: dict, seed: int, time_runs) -> dict:
    """W9: the fastest of ``steps`` training steps after ``warmup`` of them, timed by the
    harness's ``time_runs(fn, warmup, runs) -> (times, last result)``."""
    name = eng.__name__.replace("workloads_", "charlm_")
    if importlib.util.find_spec(name) is None:
        return {"skipped": f"no {name}.py"}
    model = importlib.import_module(name).make_char_lstm(init_params(cfg, seed), cfg)
    X, Y = batch(cfg, seed)
    times, loss = time_runs(lambda: model.step(X, Y), cfg["warmup"], cfg["steps"])
    return {"step_ms": min(times) * 1e3, "step_ms_median": statistics.median(times) * 1e3,
            "loss": loss}
