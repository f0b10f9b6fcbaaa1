"""Metrics on predictions, choosing between runs, and error analysis (Course 3).

Course 3 ("Structuring machine-learning projects") asks for **one number** to compare
classifiers, **satisficing** constraints beside it, and a look at the dev-set mistakes before
deciding what to work on::

    from tinygrad_ng import metrics

    metrics.accuracy(y_dev, y_hat)                       # 0.93
    metrics.precision(y_dev, y_hat), metrics.recall(y_dev, y_hat)   # binary: class 1 positive
    metrics.f1_score(y_dev, y_hat, average="macro")      # multi-class: mean over classes
    metrics.confusion_matrix(y_dev, y_hat, normalize="true")
    print(metrics.classification_report(y_dev, y_hat))   # per-class table
    metrics.top_k_accuracy(y_dev, scores, k=3)

    runs = [{"name": "A", "f1": 0.92, "time_ms": 80}, {"name": "B", "f1": 0.95, "time_ms": 1500}]
    metrics.select_run(runs, optimizing="f1", satisficing={"time_ms": 100}).best   # run A

    print(metrics.error_analysis(y_dev, y_hat, tags={17: ["blurry"], 42: ["dog", "blurry"]}))

Labels are 1-D (``(m,)``; ``(m, 1)`` and the course's ``(1, m)`` rows are accepted) arrays,
lists or Tensors of class labels: integers, booleans or strings. Predictions must be labels
too — threshold probabilities (``p > 0.5``) or take ``scores.argmax(axis=1)`` first; the
functions say so when handed scores. The names and conventions (rows of a confusion matrix
are true classes, ``average=`` and ``zero_division=``) follow scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = [
    "ClassificationReport", "ErrorAnalysis", "Selection", "accuracy", "classification_report",
    "confusion_matrix", "error_analysis", "f1_score", "f_score", "precision", "recall",
    "select_run", "top_k_accuracy",
]

_AVERAGES = ("binary", "micro", "macro", "weighted", None)
_NORMALIZE = (None, "true", "pred", "all")


# ----------------------------------------------------------------------------- labels

def _vector(a: Any, who: str, name: str) -> np.ndarray:
    """``a`` as a 1-D array of labels; (m, 1) and (1, m) are flattened, other shapes raise."""
    arr = a.data if isinstance(a, Tensor) else np.asarray(a)
    if arr.ndim == 0 or sum(n > 1 for n in arr.shape) > 1:
        raise ValueError(f"{who}: {name} must be a vector of labels, shape (m,), (m, 1) or "
                         f"(1, m), got shape {arr.shape}"
                         + ("; for scores take scores.argmax(axis=1)" if arr.ndim == 2 else ""))
    return arr.reshape(-1)


def _check_labels(arr: np.ndarray, who: str, name: str) -> None:
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError(f"{who}: {name} contains NaN or infinite values")
        if (arr != np.round(arr)).any():
            raise ValueError(f"{who}: {name} holds non-integer floats (probabilities?); pass "
                             "class labels, e.g. (p > 0.5) or scores.argmax(axis=1)")
    elif arr.dtype.kind not in "biuUS":
        raise TypeError(f"{who}: {name} must hold integer, boolean or string labels, got "
                        f"dtype {arr.dtype}")


def _pair(y_true: Any, y_pred: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Both label vectors, checked: same length, at least one example, label-like values."""
    t, p = _vector(y_true, who, "y_true"), _vector(y_pred, who, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"{who}: y_true has {len(t)} labels (shape {np.shape(_raw(y_true))}) "
                         f"but y_pred has {len(p)} (shape {np.shape(_raw(y_pred))})")
    if len(t) == 0:
        raise ValueError(f"{who}: no examples (y_true and y_pred are empty)")
    _check_labels(t, who, "y_true")
    _check_labels(p, who, "y_pred")
    if (t.dtype.kind in "US") != (p.dtype.kind in "US"):
        raise TypeError(f"{who}: y_true has {t.dtype} labels but y_pred {p.dtype}; both must "
                        "be numbers or both strings")
    return t, p


def _raw(a: Any) -> Any:
    return a.data if isinstance(a, Tensor) else a


def _label_set(t: np.ndarray, p: np.ndarray, labels: Any, who: str) -> np.ndarray:
    """The classes, in order: ``labels`` when given (every label in t and p must be in it),
    else the sorted union of both vectors."""
    if labels is None:
        return np.unique(np.concatenate([t, p]))
    lab = np.asarray(labels).reshape(-1)
    if len(lab) == 0 or len(np.unique(lab)) != len(lab):
        raise ValueError(f"{who}: labels must be a non-empty list without repeats, got "
                         f"{lab.tolist()}")
    for name, arr in (("y_true", t), ("y_pred", p)):
        unknown = np.setdiff1d(arr, lab)
        if unknown.size:
            raise ValueError(f"{who}: {name} contains label {unknown[0].item()!r}, which is "
                             f"not in labels={lab.tolist()}")
    return lab


def _index(arr: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Position of each element of ``arr`` in ``lab`` (all present, checked before)."""
    order = np.argsort(lab, kind="stable")
    return order[np.searchsorted(lab[order], arr)]


def _counts(t: np.ndarray, p: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """The confusion matrix of checked label vectors over the classes ``lab`` (int64)."""
    k = len(lab)
    cells = _index(t, lab) * k + _index(p, lab)
    return np.bincount(cells, minlength=k * k).reshape(k, k).astype(np.int64)


# ----------------------------------------------------------------------------- metrics

def accuracy(y_true: Any, y_pred: Any) -> float:
    """The share of examples whose predicted label equals the true one (1 − error)."""
    t, p = _pair(y_true, y_pred, "accuracy")
    return float(np.mean(t == p))


def confusion_matrix(y_true: Any, y_pred: Any, labels: Any = None,
                     normalize: str | None = None) -> np.ndarray:
    """``C[i, j]`` = number of examples of true class ``labels[i]`` predicted as ``labels[j]``.

    ``labels`` (default: the sorted labels that occur) fixes the order of rows and columns.
    ``normalize``: ``None`` gives counts (int64); ``"true"`` divides each row by the class's
    size (the diagonal is then each class's recall), ``"pred"`` each column by the number of
    predictions of that class (diagonal: precision), ``"all"`` by the number of examples.
    An empty row or column stays 0.

    For two classes ``[0, 1]`` the counts are ``[[TN, FP], [FN, TP]]``.
    """
    if normalize not in _NORMALIZE:
        raise ValueError(f"confusion_matrix: normalize must be one of {_NORMALIZE}, got "
                         f"{normalize!r}")
    t, p = _pair(y_true, y_pred, "confusion_matrix")
    counts = _counts(t, p, _label_set(t, p, labels, "confusion_matrix"))
    if normalize is None:
        return counts
    if normalize == "all":
        return counts / counts.sum()
    axis = 1 if normalize == "true" else 0
    totals = counts.sum(axis=axis, keepdims=True)
    return _divide(counts, totals, 0.0)


def _divide(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    """``num / den`` elementwise, ``zero_division`` where ``den`` is 0."""
    return np.divide(num, den, out=np.full(num.shape, float(zero_division)), where=den > 0)


def _prf(t: np.ndarray, p: np.ndarray, average: str | None, pos_label: Any, labels: Any,
         zero_division: float, who: str) -> tuple[Any, Any, Any, np.ndarray]:
    """Precision, recall and F1 of checked label vectors (each a float, or per-class arrays
    for ``average=None``) and the per-class supports (numbers of true examples)."""
    if average not in _AVERAGES:
        raise ValueError(f"{who}: average must be one of {_AVERAGES}, got {average!r}")
    if not (zero_division in (0, 1) or (isinstance(zero_division, float)
                                        and math.isnan(zero_division))):
        raise ValueError(f"{who}: zero_division must be 0, 1 or nan, got {zero_division!r}")
    if average == "binary":
        present = np.unique(np.concatenate([t, p])).tolist()
        if len(present) > 2:
            raise ValueError(f"{who}: average='binary' needs two classes, but the labels are "
                             f"{present}; choose average='macro', 'micro', 'weighted' or None")
        if labels is not None:
            raise ValueError(f"{who}: labels= is for multi-class averages; with "
                             "average='binary' choose the positive class with pos_label=")
        if pos_label not in present and len(present) == 2:
            raise ValueError(f"{who}: pos_label={pos_label!r} is not one of the labels "
                             f"{present}")
        is_true, is_pred = t == pos_label, p == pos_label
        tp = np.array([np.sum(is_true & is_pred)], dtype=np.float64)
        predicted = np.array([is_pred.sum()], dtype=np.float64)
        support = np.array([is_true.sum()], dtype=np.int64)
    else:
        cm = _counts(t, p, _label_set(t, p, labels, who))
        tp, predicted = np.diag(cm).astype(np.float64), cm.sum(axis=0).astype(np.float64)
        support = cm.sum(axis=1)
    actual = support.astype(np.float64)
    if average == "micro":  # the counts pooled over the classes
        tp, predicted, actual = tp.sum(keepdims=True), predicted.sum(keepdims=True), \
            actual.sum(keepdims=True)
    prec = _divide(tp, predicted, zero_division)
    rec = _divide(tp, actual, zero_division)
    f1 = _divide(2 * tp, predicted + actual, zero_division)  # = 2PR/(P + R) where defined
    if average is None:
        return prec, rec, f1, support
    weights = support if average == "weighted" else None
    return (*(float(np.average(v, weights=weights)) for v in (prec, rec, f1)), support)


def _score(which: int, who: str, y_true: Any, y_pred: Any, average: str | None,
           pos_label: Any, labels: Any, zero_division: float) -> Any:
    t, p = _pair(y_true, y_pred, who)
    return _prf(t, p, average, pos_label, labels, zero_division, who)[which]


_PRF_DOC = """

    ``average``: ``"binary"`` (default) scores only the class ``pos_label`` of a two-class
    problem; ``"macro"`` is the plain mean over the classes, ``"weighted"`` the mean
    weighted by each class's number of true examples, ``"micro"`` pools the counts of all
    classes (for single-label data it equals the accuracy), ``None`` returns one value per
    class (in the order of ``labels``, default the sorted labels present).
    ``zero_division`` (0, 1 or nan) is the value when the denominator is 0.
    """


def precision(y_true: Any, y_pred: Any, average: str | None = "binary", pos_label: Any = 1,
              labels: Any = None, zero_division: float = 0.0) -> Any:
    """Precision = TP / (TP + FP): of the examples predicted positive, the share that are."""
    return _score(0, "precision", y_true, y_pred, average, pos_label, labels, zero_division)


def recall(y_true: Any, y_pred: Any, average: str | None = "binary", pos_label: Any = 1,
           labels: Any = None, zero_division: float = 0.0) -> Any:
    """Recall = TP / (TP + FN): of the positive examples, the share predicted positive."""
    return _score(1, "recall", y_true, y_pred, average, pos_label, labels, zero_division)


def f1_score(y_true: Any, y_pred: Any, average: str | None = "binary", pos_label: Any = 1,
             labels: Any = None, zero_division: float = 0.0) -> Any:
    """F1 = 2PR / (P + R) = 2TP / (2TP + FP + FN), the harmonic mean of precision P and
    recall R: the course's single-number metric that combines the two."""
    return _score(2, "f1_score", y_true, y_pred, average, pos_label, labels, zero_division)


for _f in (precision, recall, f1_score):
    _f.__doc__ += _PRF_DOC


def f_score(precision: Any, recall: Any, beta: float = 1.0) -> Any:
    """F_β from given precision P and recall R: ``(1 + β²)·P·R / (β²·P + R)`` (0 when both
    are 0); β = 1 is F1, the harmonic mean ``2 / (1/P + 1/R)``.

    The course's example: classifier A (P 95%, R 90%) has F1 92.4%, classifier B
    (P 98%, R 85%) 91.0% — so A is better. Works elementwise on arrays.
    """
    if not beta > 0:
        raise ValueError(f"f_score: beta must be > 0, got {beta!r}")
    p, r = np.asarray(precision, dtype=np.float64), np.asarray(recall, dtype=np.float64)
    for name, v in (("precision", p), ("recall", r)):
        if not ((v >= 0) & (v <= 1)).all():
            raise ValueError(f"f_score: {name} must lie in [0, 1], got {v}")
    b2 = beta * beta
    out = _divide((1 + b2) * p * r, b2 * p + r, 0.0)
    return float(out) if out.ndim == 0 else out


def top_k_accuracy(y_true: Any, scores: Any, k: int = 5) -> float:
    """The share of examples whose true class is among the ``k`` highest ``scores``.

    ``scores`` has shape ``(m, C)`` (logits or probabilities); ``y_true`` holds class
    indices 0 … C−1. Ties are broken in favour of the lower class index, as ``argmax``
    does, so ``top_k_accuracy(y, s, k=1) == accuracy(y, s.argmax(axis=1))``.
    """
    who = "top_k_accuracy"
    t = _vector(y_true, who, "y_true")
    s = np.asarray(_raw(scores))
    if s.ndim != 2:
        raise ValueError(f"{who}: scores must have shape (m, classes), got {s.shape}")
    if len(t) != len(s):
        raise ValueError(f"{who}: y_true has {len(t)} labels but scores has {len(s)} rows "
                         f"(shape {s.shape})")
    if len(t) == 0:
        raise ValueError(f"{who}: no examples")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{who}: k must be a positive integer, got {k!r}")
    if t.dtype.kind not in "iu" or t.min() < 0 or t.max() >= s.shape[1]:
        raise ValueError(f"{who}: y_true must hold class indices 0 to {s.shape[1] - 1} (the "
                         f"columns of scores), got values {np.unique(t)[:10].tolist()}")
    if s.dtype.kind not in "fiub" or not np.isfinite(s).all():
        raise ValueError(f"{who}: scores must be finite numbers")
    own = s[np.arange(len(t)), t][:, None]
    cols = np.arange(s.shape[1])
    ahead = (s > own) | ((s == own) & (cols < t[:, None]))  # classes ranked above the truth
    return float(np.mean(ahead.sum(axis=1) < k))


# ----------------------------------------------------------------------------- report

@dataclass(frozen=True)
class ClassificationReport:
    """Per-class precision, recall, F1 and support (number of true examples), with the
    accuracy and the macro and weighted averages. ``print(report)`` gives the table;
    ``as_dict()`` the numbers keyed by class name."""

    names: list[str]
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    accuracy: float

    def _average(self, weights: np.ndarray | None) -> dict[str, float]:
        return {k: float(np.average(getattr(self, k), weights=weights))
                for k in ("precision", "recall", "f1")}

    @property
    def macro(self) -> dict[str, float]:
        """Plain means over the classes."""
        return self._average(None)

    @property
    def weighted(self) -> dict[str, float]:
        """Means weighted by support."""
        return self._average(self.support if self.support.sum() else None)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            name: {"precision": float(p), "recall": float(r), "f1": float(f),
                   "support": int(s)}
            for name, p, r, f, s in zip(self.names, self.precision, self.recall, self.f1,
                                        self.support)}
        total = int(self.support.sum())
        out["accuracy"] = self.accuracy
        out["macro avg"] = {**self.macro, "support": total}
        out["weighted avg"] = {**self.weighted, "support": total}
        return out

    def __str__(self) -> str:
        width = max(12, *(len(n) for n in self.names))
        head = f"{'':>{width}}  precision     recall         f1    support"
        rows = [f"{n:>{width}}  {p:9.3f}  {r:9.3f}  {f:9.3f}  {s:9d}"
                for n, p, r, f, s in zip(self.names, self.precision, self.recall, self.f1,
                                         self.support)]
        total = int(self.support.sum())
        rows.append("")
        rows.append(f"{'accuracy':>{width}}  {'':9}  {'':9}  {self.accuracy:9.3f}  {total:9d}")
        for name, avg in (("macro avg", self.macro), ("weighted avg", self.weighted)):
            rows.append(f"{name:>{width}}  {avg['precision']:9.3f}  {avg['recall']:9.3f}  "
                        f"{avg['f1']:9.3f}  {total:9d}")
        return "\n".join([head, "", *rows])


def classification_report(y_true: Any, y_pred: Any, labels: Any = None,
                          target_names: Sequence[str] | None = None,
                          zero_division: float = 0.0) -> ClassificationReport:
    """Precision, recall, F1 and support for every class (``labels``, default the sorted
    labels present), named by ``target_names`` (default ``str(label)``)."""
    who = "classification_report"
    t, p = _pair(y_true, y_pred, who)
    prec, rec, f1, support = _prf(t, p, None, 1, labels, zero_division, who)
    lab = _label_set(t, p, labels, who)
    if target_names is None:
        names = [str(x) for x in lab]
    else:
        names = [str(n) for n in target_names]
        if len(names) != len(lab):
            raise ValueError(f"{who}: {len(names)} target_names for {len(lab)} classes "
                             f"{lab.tolist()}")
    return ClassificationReport(names, prec, rec, f1, support, float(np.mean(t == p)))


# ----------------------------------------------------------------------------- choosing runs

def _get(run: Any, key: str) -> Any:
    if isinstance(run, Mapping):
        return run[key]
    return getattr(run, key)


@dataclass
class Selection:
    """The outcome of :func:`select_run`.

    ``ranking``: indices of the runs meeting every satisficing constraint, best first;
    ``rejected``: index → the reasons a run was excluded; ``values``: each run's optimising
    metric. ``best`` / ``best_index`` raise ``RuntimeError`` when no run qualifies.
    """

    runs: list[Any]
    optimizing: str
    values: list[float]
    ranking: list[int]
    rejected: dict[int, list[str]] = field(default_factory=dict)
    mode: str = "max"

    @property
    def best_index(self) -> int:
        if not self.ranking:
            reasons = "; ".join(f"run {i}: {', '.join(r)}" for i, r in self.rejected.items())
            raise RuntimeError(f"select_run: no run meets the satisficing constraints "
                               f"({reasons})")
        return self.ranking[0]

    @property
    def best(self) -> Any:
        """The run with the best optimising metric among those that satisfy every
        constraint."""
        return self.runs[self.best_index]

    def __str__(self) -> str:
        better = "higher" if self.mode == "max" else "lower"
        lines = [f"optimising {self.optimizing} ({better} is better) over {len(self.runs)} "
                 f"runs; {len(self.ranking)} meet the satisficing constraints"]
        for rank, i in enumerate(self.ranking, 1):
            lines.append(f"  #{rank}: run {i}  {self.optimizing} = {self.values[i]:.4g}")
        for i, reasons in self.rejected.items():
            lines.append(f"  rejected run {i}: {', '.join(reasons)}")
        return "\n".join(lines)


def select_run(runs: Sequence[Any], optimizing: str | Callable[[Any], float],
               satisficing: Mapping[str, float | Callable[[Any], bool]] | None = None,
               mode: str = "max") -> Selection:
    """Choose a run the course's way: **optimise** one metric subject to **satisficing**
    constraints that only have to be good enough.

    ``runs``: dicts (or objects with attributes) of metrics, e.g.
    ``{"f1": 0.92, "time_ms": 80}``. ``optimizing``: the key to maximise (``mode='max'``)
    or minimise (``'min'``), or a function of a run giving one number — the single-number
    evaluation metric (e.g. F1 from precision and recall, or the mean error over regions).
    ``satisficing``: key → bound; a number means "at most" (running time ≤ 100 ms, at most
    one false alarm a day), a function of the value returns whether it is acceptable
    (``{"recall": lambda r: r >= 0.9}``). A run with a NaN metric is never chosen.
    """
    if mode not in ("min", "max"):
        raise ValueError(f"select_run: mode must be 'min' or 'max', got {mode!r}")
    runs = list(runs)
    if not runs:
        raise ValueError("select_run: no runs to choose from")
    name = optimizing if isinstance(optimizing, str) else getattr(optimizing, "__name__",
                                                                   "metric")
    if not (isinstance(optimizing, str) or callable(optimizing)):
        raise TypeError(f"select_run: optimizing must be a key or a function of a run, got "
                        f"{optimizing!r}")
    measure = (lambda run: _get(run, optimizing)) if isinstance(optimizing, str) else optimizing
    constraints = dict(satisficing or {})
    values: list[float] = []
    rejected: dict[int, list[str]] = {}
    for i, run in enumerate(runs):
        try:
            value = float(measure(run))
        except (KeyError, AttributeError) as e:
            raise KeyError(f"select_run: run {i} has no metric {name!r} ({e})") from None
        values.append(value)
        reasons = [f"{name} is NaN"] if math.isnan(value) else []
        for key, bound in constraints.items():
            try:
                x = _get(run, key)
            except (KeyError, AttributeError):
                raise KeyError(f"select_run: run {i} has no metric {key!r} for the "
                               "satisficing constraint") from None
            if callable(bound):
                if not bound(x):
                    reasons.append(f"{key} = {x} fails its constraint")
            elif not float(x) <= float(bound):
                reasons.append(f"{key} = {x:.4g} > {bound:.4g}")
        if reasons:
            rejected[i] = reasons
    sign = -1.0 if mode == "max" else 1.0
    ranking = sorted((i for i in range(len(runs)) if i not in rejected),
                     key=lambda i: (sign * values[i], i))
    return Selection(runs, name, values, ranking, rejected, mode)


# ----------------------------------------------------------------------------- error analysis

def _tag_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        tags = list(value)
        if all(isinstance(x, str) for x in tags):
            return tags
    raise TypeError(f"error_analysis: tags of {where} must be a string or a list of strings, "
                    f"got {value!r}")


@dataclass(frozen=True)
class ErrorAnalysis:
    """The course's error-analysis spreadsheet, as data.

    ``rows``: one ``(index, true label, predicted label, tags)`` per reviewed mistake;
    ``counts``: tag → number of reviewed mistakes with it, most common first; ``shares``:
    tag → fraction of the reviewed mistakes; ``error_rate``: the dev error.
    ``ceiling(tag)`` is the dev error left if every mistake with that tag were fixed: the
    most that working on the tag can gain. ``print()`` gives the summary table and
    :meth:`spreadsheet` the row-by-row sheet.
    """

    n_examples: int
    n_errors: int
    rows: list[tuple[int, Any, Any, list[str]]]
    counts: dict[str, int]

    @property
    def n_reviewed(self) -> int:
        return len(self.rows)

    @property
    def error_rate(self) -> float:
        return self.n_errors / self.n_examples

    @property
    def shares(self) -> dict[str, float]:
        return {tag: (n / self.n_reviewed if self.n_reviewed else 0.0)
                for tag, n in self.counts.items()}

    def ceiling(self, tag: str) -> float:
        """The dev error if every mistake with ``tag`` were fixed (shares measured on the
        reviewed mistakes are taken to hold for all of them)."""
        if tag not in self.counts:
            raise KeyError(f"ErrorAnalysis: no tag {tag!r}; tags are {list(self.counts)}")
        return self.error_rate * (1 - self.shares[tag])

    def __str__(self) -> str:
        head = (f"error analysis: {self.n_errors} mistakes in {self.n_examples} examples "
                f"(error {self.error_rate:.1%}), {self.n_reviewed} reviewed")
        width = max([3, *(len(t) for t in self.counts)])
        lines = [head, f"{'tag':<{width}}  mistakes  % of reviewed  error if all fixed"]
        for tag, n in self.counts.items():
            lines.append(f"{tag:<{width}}  {n:8d}  {self.shares[tag]:13.1%}  "
                         f"{self.ceiling(tag):18.1%}")
        return "\n".join(lines)

    def spreadsheet(self, max_rows: int | None = 20) -> str:
        """The sheet: one line per reviewed mistake with a ✓ under each of its tags, and the
        percentage of mistakes per tag at the bottom."""
        tags = list(self.counts)
        widths = [max(len(t), 5) for t in tags]
        lines = ["index   true   pred  " + "  ".join(f"{t:>{w}}" for t, w in zip(tags, widths))]
        shown = self.rows if max_rows is None else self.rows[:max_rows]
        for index, true, pred, mine in shown:
            marks = "  ".join(f"{'✓' if t in mine else '':>{w}}" for t, w in zip(tags, widths))
            lines.append(f"{index:5d}  {str(true):>5}  {str(pred):>5}  {marks}")
        if len(shown) < len(self.rows):
            lines.append(f"  … {len(self.rows) - len(shown)} more")
        lines.append("% of total          " + "  ".join(
            f"{self.shares[t]:>{w}.0%}" for t, w in zip(tags, widths)))
        return "\n".join(lines)


def error_analysis(y_true: Any, y_pred: Any,
                   tags: Mapping[Any, Any] | Sequence[Any]) -> ErrorAnalysis:
    """Count, per tag, the share of the dev-set mistakes that have it — the course's
    spreadsheet ("dog", "great cat", "blurry", "mislabelled" …).

    ``tags`` is one of:

    * a dict *index → tag or list of tags* for the mistakes you looked at (the course
      reviews ~100 of them); shares are fractions of those reviewed, and a tagged example
      that was classified correctly raises ``ValueError`` (a misaligned index);
    * a list with one entry (tag, list of tags or None) per example: every mistake counts
      as reviewed, tags of correct examples are ignored;
    * a dict *tag → boolean mask* over the examples (tags computed in code).

    An example may have several tags, so shares can add up to more than 100%.
    """
    who = "error_analysis"
    t, p = _pair(y_true, y_pred, who)
    m = len(t)
    wrong = np.flatnonzero(t != p)
    per_example: dict[int, list[str]] = {}
    if isinstance(tags, Mapping) and tags and all(isinstance(k, str) for k in tags):
        reviewed = wrong
        for tag, mask in tags.items():
            mask = _vector(mask, who, f"the mask of tag {tag!r}")
            if mask.dtype != bool or len(mask) != m:
                raise ValueError(f"{who}: the mask of tag {tag!r} must be a boolean array of "
                                 f"length {m}, got {mask.dtype} of length {len(mask)}")
            for i in np.flatnonzero(mask):
                per_example.setdefault(int(i), []).append(tag)
    elif isinstance(tags, Mapping):
        idx = []
        for k, v in tags.items():
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < m:
                raise ValueError(f"{who}: tag keys must be example indices 0 to {m - 1} (or "
                                 f"all tag names with masks), got {k!r}")
            if t[k] == p[k]:
                raise ValueError(f"{who}: example {k} is tagged {v!r} but was classified "
                                 f"correctly ({t[k].item()!r}); tag only the mistakes")
            per_example[int(k)] = _tag_list(v, f"example {k}")
            idx.append(int(k))
        reviewed = np.array(sorted(idx), dtype=np.int64)
    elif isinstance(tags, Sequence) and not isinstance(tags, str):
        if len(tags) != m:
            raise ValueError(f"{who}: a list of tags needs one entry per example ({m}), got "
                             f"{len(tags)}")
        reviewed = wrong
        per_example = {int(i): _tag_list(tags[i], f"example {i}") for i in wrong}
    else:
        raise TypeError(f"{who}: tags must be a dict or a list, got {type(tags).__name__}")
    rows = [(int(i), t[i].item(), p[i].item(), per_example.get(int(i), [])) for i in reviewed]
    counts: dict[str, int] = {}
    for *_, mine in rows:
        for tag in dict.fromkeys(mine):  # a tag listed twice counts once
            counts[tag] = counts.get(tag, 0) + 1
    counts = dict(sorted(counts.items(), key=lambda kv: -kv[1]))
    return ErrorAnalysis(m, len(wrong), rows, counts)
