"""Pictures of what training does, measured on the user's model: gradient norms per layer
(vanishing and exploding gradients), weight/update ratios, and the state an optimiser keeps
(momentum's v, RMSprop's s, Adam's bias-corrected moments) with the learning rate over steps.

Two recorders collect the numbers during training, one call after each ``optimizer.step()``::

    flow, trace = GradientFlow(model), OptimizerTrace(opt)
    for ...:
        opt.zero_grad(); cost.backward(); opt.step()
        flow.record(); trace.record()
    plot_gradient_flow(flow); plot_optimizer_state(trace)

Matplotlib is imported on use, as in :mod:`.plots`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_ng.tensor import Tensor

from .plots import _finish, _pyplot, _save


def _norm(a: np.ndarray) -> float:
    x = np.asarray(a, dtype=np.float64)
    return float(np.sqrt(np.sum(x * x)))


def _layers(model: Any, which: str) -> list[tuple[str, Tensor]]:
    """``(name, parameter)`` pairs of a model: its weights (parameters with two or more
    dimensions, one per layer) or, with ``which="all"``, every parameter."""
    if which not in ("weights", "all"):
        raise ValueError(f"gradient flow: which must be 'weights' or 'all', got {which!r}")
    if not hasattr(model, "named_parameters"):
        raise TypeError(f"gradient flow: expected a model with named_parameters() (an "
                        f"nn.Module), got {type(model).__name__}")
    pairs = [(n, p) for n, p in model.named_parameters()
             if p.requires_grad and (which == "all" or p.ndim >= 2)]
    if not pairs:
        raise ValueError("gradient flow: the model has no parameters to show")
    return pairs


class GradientFlow:
    """Records, per layer, the gradient norm ‖dW‖ and the update ratio ‖ΔW‖ / ‖W‖ over
    training. Call :meth:`record` once after each ``optimizer.step()`` (the gradients are
    still there; the update is the change since the previous record).

    ``which``: ``"weights"`` (the default: parameters with 2+ dimensions, one per layer) or
    ``"all"`` (biases too). A ratio near 1e-3 is the usual healthy size; far below, the
    layer barely learns; far above, it is unstable.
    """

    def __init__(self, model: Any, which: str = "weights") -> None:
        self.layers = _layers(model, which)
        self.grad_norms: dict[str, list[float]] = {n: [] for n, _ in self.layers}
        self.update_ratios: dict[str, list[float]] = {n: [] for n, _ in self.layers}
        self._before = {n: p.data.copy() for n, p in self.layers}

    def record(self) -> None:
        """Add one iteration's numbers (a missing gradient counts as 0)."""
        for name, p in self.layers:
            self.grad_norms[name].append(0.0 if p.grad is None else _norm(p.grad))
            before = self._before[name]
            size = _norm(before)
            change = _norm(p.data.astype(np.float64) - before)
            if size > 0:
                ratio = change / size
            else:  # a zero weight: no change is ratio 0, a change has no ratio
                ratio = np.nan if change > 0 else 0.0
            self.update_ratios[name].append(ratio)
            self._before[name] = p.data.copy()

    def __len__(self) -> int:
        return len(next(iter(self.grad_norms.values())))


def _positive(values: Sequence[float]) -> np.ndarray:
    """Values for a log axis: zeros (and non-finite values) become gaps."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def plot_gradient_flow(source: Any, which: str = "weights", label: str | None = None,
                       ax=None, path: str | Path | None = None):
    """Gradient norms layer by layer: vanishing and exploding gradients made visible.

    - ``source`` a model after ``backward()``: ‖dW‖ of each layer (x: the layers from input
      to output, y: log scale), one line; draw several models on one ``ax`` with ``label``
      to compare initialisations. A zero gradient cannot sit on a log axis: it is marked
      with an ``×`` at the bottom and named in the title. Returns the Axes.
    - ``source`` a :class:`GradientFlow`: two panels over iterations, ‖dW‖ and the update
      ratio ‖ΔW‖/‖W‖ (with the 1e-3 rule of thumb dashed), one line per layer. Returns
      the Figure.

    ``path`` also saves the figure there.
    """
    if isinstance(source, GradientFlow):
        return _flow_over_time(source, path)
    layers = _layers(source, which)
    norms = np.array([0.0 if p.grad is None else _norm(p.grad) for _, p in layers])
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(7, 4))
    x = np.arange(1, len(layers) + 1)
    line, = ax.semilogy(x, _positive(norms), marker="o", label=label)
    zero = norms == 0
    if zero.any():
        ax.plot(x[zero], np.full(zero.sum(), 0.05), "x", color=line.get_color(),
                transform=ax.get_xaxis_transform(), markersize=9, clip_on=False)
        names = [n for (n, _), z in zip(layers, zero) if z]
        where = ", ".join(names) if len(names) <= 3 else \
            f"{len(names)} layers, {names[0]} … {names[-1]}"
        note = f"{label + ': ' if label else ''}zero gradient (×) in {where}"
        ax.set_title("\n".join(filter(None, [ax.get_title(), note])), fontsize=9)
    ax.set_xticks(x)
    ax.set_xticklabels([n.rsplit(".", 1)[0] for n, _ in layers],
                       rotation=90 if len(layers) > 8 else 0, fontsize=8)
    ax.set_xlabel("layer (input → output)")
    ax.set_ylabel("‖dW‖ (log scale)")
    ax.grid(alpha=0.3)
    if label is not None:
        ax.legend()
    return _finish(ax, path)


def _flow_over_time(flow: GradientFlow, path: str | Path | None):
    if len(flow) == 0:
        raise ValueError("plot_gradient_flow: the recorder is empty (call record() after "
                         "each optimizer.step())")
    fig, (left, right) = _pyplot().subplots(1, 2, figsize=(12, 4))
    colors = _pyplot().get_cmap("viridis")(np.linspace(0, 0.9, len(flow.layers)))
    for (name, _), color in zip(flow.layers, colors):
        left.semilogy(_positive(flow.grad_norms[name]), color=color, label=name)
        right.semilogy(_positive(flow.update_ratios[name]), color=color, label=name)
    right.axhline(1e-3, color="gray", linestyle="--", linewidth=1)
    left.set(xlabel="iteration", ylabel="‖dW‖", title="gradient norm per layer")
    right.set(xlabel="iteration", ylabel="‖ΔW‖ / ‖W‖",
              title="update / weight ratio (dashed: 1e-3)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    left.legend(fontsize=8, ncol=1 + len(flow.layers) // 8)
    fig.tight_layout()
    _save(fig, path)
    return fig


# ----------------------------------------------------------------------------- optimiser
#: How each optimiser state array is called in the course's notation.
STATE_NAMES = {
    "momentum_buffer": "momentum buffer b (SGD)",
    "velocity": "v (momentum)",
    "square_avg": "s (RMSprop)",
    "exp_avg": "v (Adam, 1st moment)",
    "exp_avg_sq": "s (Adam, 2nd moment)",
}


def optimizer_state(optimizer: Any, p: Tensor) -> dict[str, np.ndarray]:
    """The state arrays the optimiser keeps for parameter ``p``, by their course names;
    for Adam also the bias-corrected v̂ = v / (1 − β₁ᵗ) and ŝ = s / (1 − β₂ᵗ)."""
    state = optimizer.state.get(p, {})
    out = {STATE_NAMES.get(k, k): np.asarray(v, dtype=np.float64)
           for k, v in state.items() if isinstance(v, np.ndarray)}
    t = state.get("step")
    if t and "exp_avg" in state:
        beta1, beta2 = _group_of(optimizer, p)["betas"]
        out["v̂ (bias-corrected)"] = np.asarray(state["exp_avg"], np.float64) / (1 - beta1**t)
        out["ŝ (bias-corrected)"] = np.asarray(state["exp_avg_sq"], np.float64) / \
            (1 - beta2**t)
    return out


def _group_of(optimizer: Any, p: Tensor) -> dict[str, Any]:
    return next(g for g in optimizer.param_groups if any(q is p for q in g["params"]))


class OptimizerTrace:
    """Records an optimiser's state over steps: for each chosen parameter the first
    ``elements`` entries of each state array (momentum's v, RMSprop's s, Adam's v, s and
    bias-corrected v̂, ŝ), and each group's learning rate. Call :meth:`record` once after
    each ``optimizer.step()`` (a scheduler's change shows from the next record on).

    ``params``: the parameters to follow (default: the first one), as tensors or, with
    ``names`` (e.g. ``names=model``), by name.
    """

    def __init__(self, optimizer: Any, params: Iterable[Tensor | str] | None = None,
                 names: Any = None, elements: int = 4) -> None:
        if not hasattr(optimizer, "param_groups") or not hasattr(optimizer, "state"):
            raise TypeError(f"OptimizerTrace: expected an optimizer, got "
                            f"{type(optimizer).__name__}")
        if elements < 1:
            raise ValueError(f"OptimizerTrace: elements must be at least 1, got {elements}")
        self.optimizer = optimizer
        self.elements = elements
        by_name = dict(names.named_parameters()) if hasattr(names, "named_parameters") \
            else dict(names or {})
        chosen = list(params) if params is not None else [optimizer.param_groups[0]["params"][0]]
        self.params: list[tuple[str, Tensor]] = []
        for i, p in enumerate(chosen):
            if isinstance(p, str):
                if p not in by_name:
                    raise KeyError(f"OptimizerTrace: no parameter named {p!r}; known: "
                                   f"{', '.join(by_name) or 'none (pass names=model)'}")
                p = by_name[p]
            name = next((n for n, q in by_name.items() if q is p), p.name or f"param {i}")
            self.params.append((name, p))
        self.lrs: list[list[float]] = []
        #: (parameter name, state name) → one row of ``elements`` values per step
        self.values: dict[tuple[str, str], list[np.ndarray]] = {}

    def record(self) -> None:
        """Add the state after one step."""
        self.lrs.append([float(g["lr"]) for g in self.optimizer.param_groups])
        for name, p in self.params:
            for key, array in optimizer_state(self.optimizer, p).items():
                row = array.reshape(-1)[:self.elements]
                self.values.setdefault((name, key), []).append(row)

    def __len__(self) -> int:
        return len(self.lrs)


def plot_optimizer_state(source: Any, params: Iterable[Tensor | str] | None = None,
                         names: Any = None, elements: int = 4,
                         path: str | Path | None = None):
    """What the optimiser keeps: one panel per state array and parameter, and the learning
    rate.

    - ``source`` an :class:`OptimizerTrace`: each state's first ``elements`` entries over the
      steps (momentum's v, RMSprop's s, Adam's v, s and the bias-corrected v̂, ŝ), and the
      learning rate of each group over the steps (the schedule).
    - ``source`` an optimizer: its state now, as bars per element (``params``, ``names``,
      ``elements`` choose what, as in :class:`OptimizerTrace`).

    Returns the Figure; ``path`` also saves it there.
    """
    trace = source if isinstance(source, OptimizerTrace) else None
    if trace is None:
        trace = OptimizerTrace(source, params, names, elements)
        trace.record()
    elif len(trace) == 0:
        raise ValueError("plot_optimizer_state: the trace is empty (call record() after "
                         "each optimizer.step())")
    over_time = trace is source
    panels = list(trace.values) + (["lr"] if over_time else [])
    if not panels:
        raise ValueError(f"plot_optimizer_state: {type(trace.optimizer).__name__} keeps no "
                         "state arrays yet (take a step first)")
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = _pyplot().subplots(nrows, ncols, figsize=(4.5 * ncols, 3.2 * nrows),
                                   squeeze=False)
    for ax, key in zip(axes.flat, panels):
        if key == "lr":
            lrs = np.array(trace.lrs)
            for i in range(lrs.shape[1]):
                ax.plot(np.arange(1, len(lrs) + 1), lrs[:, i], label=f"group {i}")
            ax.set(title="learning rate α", xlabel="step")
            if lrs.shape[1] > 1:
                ax.legend(fontsize=8)
        else:
            rows = np.array(trace.values[key])
            if over_time:
                steps = np.arange(len(trace) - len(rows) + 1, len(trace) + 1)
                for j in range(rows.shape[1]):
                    ax.plot(steps, rows[:, j], label=f"[{j}]")
                ax.set_xlabel("step")
            else:
                ax.bar(np.arange(rows.shape[1]), rows[-1])
                ax.set_xlabel("element")
            ax.set_title(f"{key[0]}: {key[1]}", fontsize=10)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    _save(fig, path)
    return fig
