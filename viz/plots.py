"""Training plots as the course draws them: the cost curve, a 2-D decision boundary, and
the misclassified examples of an error analysis.

Matplotlib is an optional extra (``pip install tinygrad_ng[plots]``), imported only when a
plot is made. Each function draws into ``ax`` (or a new figure), returns the Axes
(``ax.figure`` is the Figure) and, given ``path``, also saves the figure there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_ng import autograd
from tinygrad_ng.dtypes import get_default_dtype
from tinygrad_ng.metrics import ErrorAnalysis, error_analysis
from tinygrad_ng.tensor import Tensor


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("tinygrad_ng.viz plots need matplotlib: pip install matplotlib "
                          "(or pip install 'tinygrad_ng[plots]')") from e
    return plt


def _axes(ax):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=(6, 4))
    return ax


def _save(fig, path: str | Path | None) -> None:
    """Write ``fig`` to ``path`` when one is given (every plot here is saved this way)."""
    if path is not None:
        fig.savefig(path, bbox_inches="tight", dpi=120)


def _finish(ax, path: str | Path | None):
    _save(ax.figure, path)
    return ax


def _floats(values: Sequence[Any], what: str) -> np.ndarray:
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"plot_history: {what} must be a sequence of numbers or one-element "
                        f"tensors: {e}") from None


def plot_history(history: Sequence[Any] | Mapping[str, Sequence[Any]], every: int = 1,
                 xlabel: str = "iteration", ylabel: str = "cost", title: str | None = None,
                 logy: bool = False, ax=None, path: str | Path | None = None):
    """The cost curve: ``history`` is a list of costs, or a dict of named lists
    (``{"train": [...], "dev": [...]}``) drawn as one line each.

    ``every``: iterations between two recorded values (the course records the cost every
    100 iterations; the x axis then counts iterations). ``logy`` uses a log scale.
    """
    if every < 1:
        raise ValueError(f"plot_history: every must be a positive integer, got {every}")
    series = dict(history) if isinstance(history, Mapping) else {None: history}
    if not series or any(len(v) == 0 for v in series.values()):
        raise ValueError("plot_history: nothing to plot (an empty history)")
    ax = _axes(ax)
    for name, values in series.items():
        y = _floats(values, "the history" if name is None else f"history[{name!r}]")
        ax.plot(np.arange(len(y)) * every, y, label=name, linewidth=1.8)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel if every == 1 else f"{xlabel} (recorded every {every})")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(series) > 1 or None not in series:
        ax.legend()
    ax.grid(alpha=0.3)
    return _finish(ax, path)


@contextmanager
def evaluation_mode(model: Any) -> Iterator[None]:
    """Run ``model`` in evaluation mode (dropout off, batch norm on its running statistics),
    then give it, and each of its submodules, the mode it had before.

    Applies to a model with ``eval()`` and a ``training`` flag (an ``nn.Module``); anything
    else (a plain function) is left alone.
    """
    if not (callable(getattr(model, "eval", None)) and hasattr(model, "training")):
        yield
        return
    modules = list(model.modules()) if callable(getattr(model, "modules", None)) else [model]
    before = [(m, m.training) for m in modules]
    model.eval()
    try:
        yield
    finally:
        for m, mode in before:
            if m.training != mode:
                m.training = mode


def predicted_labels(model: Callable[[Tensor], Any] | None, X: np.ndarray,
                     predict: Callable[[np.ndarray], Any] | None = None,
                     output: str = "auto") -> np.ndarray:
    """Class labels for the rows of ``X`` (shape (n, 2)), as integers of shape (n,).

    ``predict`` (an array → labels callable) wins when given. Otherwise ``model`` maps a
    Tensor (n, 2) to scores: several columns → argmax; one column (or shape (n,)) →
    binary, thresholded at 0.5 for ``output="probabilities"`` and at 0 for
    ``output="logits"``; ``"auto"`` takes probabilities when every score lies in [0, 1].
    A model with ``eval()`` (an ``nn.Module``) predicts in evaluation mode and is then put
    back in the mode it was in: predicting changes neither it nor its running statistics.
    """
    if predict is not None:
        labels = np.asarray(predict(X))
        if labels.ndim == 2 and labels.shape[1] > 1:
            return labels.argmax(axis=1)
        return labels.reshape(-1).astype(int)
    if output not in ("auto", "logits", "probabilities"):
        raise ValueError(f"plot_decision_boundary: output must be 'auto', 'logits' or "
                         f"'probabilities', got {output!r}")
    with autograd.no_grad(), evaluation_mode(model):
        scores = model(Tensor(X.astype(get_default_dtype())))
    scores = np.asarray(scores.data if isinstance(scores, Tensor) else scores, dtype=np.float64)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    scores = scores.reshape(-1)
    if scores.size != len(X):
        raise ValueError(f"plot_decision_boundary: the model returned {scores.size} scores "
                         f"for {len(X)} points; expected shape (n,), (n, 1) or (n, classes)")
    if output == "auto":
        output = "probabilities" if ((scores >= 0) & (scores <= 1)).all() else "logits"
    return (scores > (0.5 if output == "probabilities" else 0.0)).astype(int)


def plot_decision_boundary(model: Callable[[Tensor], Any] | None, X: Any, y: Any,
                           predict: Callable[[np.ndarray], Any] | None = None,
                           output: str = "auto", resolution: int = 200, padding: float = 0.5,
                           title: str | None = None, ax=None, path: str | Path | None = None):
    """The regions a classifier assigns to each class, with the data on top.

    ``X``: points of shape (n, 2) (array or Tensor), ``y``: their labels (n,). ``model``
    takes a Tensor (n, 2) and returns logits or probabilities (see
    :func:`predicted_labels` for ``predict`` and ``output``). The grid covers the data
    plus ``padding`` with ``resolution`` points per axis.
    """
    X = np.asarray(X.data if isinstance(X, Tensor) else X, dtype=np.float64)
    y = np.asarray(y.data if isinstance(y, Tensor) else y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        hint = " (the course's (2, m) layout: pass X.T)" if X.ndim == 2 and X.shape[0] == 2 \
            else ""
        raise ValueError(f"plot_decision_boundary: X must have shape (n, 2), got "
                         f"{X.shape}{hint}")
    if len(y) != len(X):
        raise ValueError(f"plot_decision_boundary: {len(X)} points but {len(y)} labels")
    if model is None and predict is None:
        raise ValueError("plot_decision_boundary: give a model or a predict callable")
    lo, hi = X.min(axis=0) - padding, X.max(axis=0) + padding
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    zz = predicted_labels(model, grid, predict, output).reshape(xx.shape)
    ax = _axes(ax)
    classes = np.unique(np.concatenate([np.unique(zz), np.unique(y)]))
    levels = np.append(classes - 0.5, classes[-1] + 0.5)
    ax.contourf(xx, yy, zz, levels=levels, cmap="Spectral", alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="Spectral", vmin=levels[0], vmax=levels[-1],
               s=18, edgecolors="k", linewidths=0.4)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return _finish(ax, path)


def plot_misclassified(images: Any, y_true: Any, y_pred: Any,
                       image_shape: tuple[int, ...] | None = None,
                       analysis: ErrorAnalysis | None = None,
                       class_names: Sequence[str] | None = None, max_images: int = 24,
                       ncols: int = 8, path: str | Path | None = None):
    """A grid of the misclassified examples — what you look at during error analysis —
    each titled "true → predicted" (and its tags when ``analysis`` is given).

    ``images``: the examples, shape ``(m, H, W)``, ``(m, H, W, 3)`` or flat ``(m, n)`` with
    ``image_shape=(H, W)``. Shows the first ``max_images`` mistakes, or the reviewed ones of
    ``analysis`` (from :func:`tinygrad_ng.metrics.error_analysis`). Returns the Figure.
    """
    X = np.asarray(images.data if isinstance(images, Tensor) else images)
    if image_shape is not None:
        X = X.reshape(len(X), *image_shape)
    if X.ndim not in (3, 4):
        raise ValueError(f"plot_misclassified: images must have shape (m, H, W) or "
                         f"(m, H, W, 3), got {X.shape}; give image_shape for flat images")
    if analysis is None:
        analysis = error_analysis(y_true, y_pred, [None] * len(X))
    elif analysis.n_examples != len(X):
        raise ValueError(f"plot_misclassified: the analysis covers {analysis.n_examples} "
                         f"examples but there are {len(X)} images")
    rows = analysis.rows[:max_images]
    if not rows:
        raise ValueError("plot_misclassified: no misclassified examples to show")
    ncols = min(ncols, len(rows))
    nrows = -(-len(rows) // ncols)
    fig, axes = _pyplot().subplots(nrows, ncols, figsize=(1.5 * ncols, 1.8 * nrows),
                                   squeeze=False)

    def name(label: Any) -> str:
        return str(label) if class_names is None else str(class_names[label])

    for ax, (index, true, pred, tags) in zip(axes.flat, rows):
        ax.imshow(X[index], cmap="gray_r" if X.ndim == 3 else None)
        ax.set_title(f"{name(true)} → {name(pred)}" + ("\n" + ", ".join(tags) if tags else ""),
                     fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    _save(fig, path)
    return fig
