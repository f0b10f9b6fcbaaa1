"""Hyperparameter search: sample on the right scale, try at random, then zoom in.

The course's recipe (Course 2, week 3):

* **Try random values, don't use a grid.** With a grid of 5 × 5 you only ever try 5 distinct
  learning rates; 25 random points try 25.
* **Sample on the appropriate scale.** A learning rate α in [0.0001, 1] is drawn as
  ``α = 10^r`` with ``r`` uniform in [−4, 0], so each decade gets the same share of trials.
  A momentum/Adam β in [0.9, 0.999] is drawn as ``β = 1 − 10^r`` with ``r`` uniform in
  [−3, −1], because results are most sensitive to β near 1.
* **Coarse to fine.** Find the region where the best trials are, then search it more densely.

::

    from tinygrad_ng import tune

    space = {"lr": tune.log_uniform(1e-4, 1), "beta": tune.beta_range(0.9, 0.999),
             "hidden": tune.integer(16, 128), "act": tune.choice(["relu", "tanh"]),
             "epochs": 20}                        # plain values are passed through as is
    results = tune.random_search(train, space, trials=30, seed=0)  # train(**params) -> dev loss
    print(results)                                # table, best trial first
    finer = tune.refine(results, top_k=5)         # coarse to fine
    results2 = tune.random_search(train, finer, trials=30, seed=1)

Every primitive has ``.sample(rng)`` (``rng``: a ``numpy.random.Generator``), ``.grid(n)``,
``.refine(values)`` and a repr that can be pasted back into code.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np
from tqdm import tqdm

from . import random as _random

__all__ = [
    "BetaRange", "Choice", "Integer", "LogUniform", "SearchResults", "Trial", "Uniform",
    "beta_range", "choice", "grid_search", "integer", "log_uniform", "random_search", "refine",
    "sample", "uniform",
]


# ----------------------------------------------------------------------------------------------
# Search-space primitives
# ----------------------------------------------------------------------------------------------

class _Continuous:
    """A range ``[low, high]`` sampled uniformly on a transformed scale ``u = forward(x)``.

    Subclasses define ``forward`` (value → sampling scale) and ``inverse``; both are monotone,
    so the min/max of values is also the min/max on the sampling scale.
    """

    name = ""

    def __init__(self, low: float, high: float) -> None:
        low, high = float(low), float(high)
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise ValueError(f"{self.name}: need finite low <= high, got ({low}, {high})")
        self.low, self.high = low, high

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def inverse(self, u: np.ndarray) -> np.ndarray:
        return u

    def _bounds(self) -> tuple[float, float]:
        """The range on the sampling scale, smaller end first."""
        a, b = float(self.forward(np.float64(self.low))), float(self.forward(np.float64(self.high)))
        return min(a, b), max(a, b)

    def _clip(self, x: float) -> float:
        """Guard against round-off of the scale transform pushing a value out of range."""
        return min(max(float(x), self.low), self.high)

    def sample(self, rng: np.random.Generator) -> float:
        """One value: ``inverse(u)`` with ``u`` uniform on the sampling scale."""
        return self._clip(self.inverse(np.float64(rng.uniform(*self._bounds()))))

    def grid(self, n: int) -> list[float]:
        """``n`` points evenly spaced on the sampling scale (both ends included)."""
        u = np.linspace(*self._bounds(), _check_n(n))
        return sorted(self._clip(x) for x in self.inverse(u))

    def refine(self, values: Sequence[float], margin: float = 0.0) -> _Continuous:
        """The range spanned by ``values``, widened by ``margin`` × its width on each side
        (measured on the sampling scale) and kept inside the current range."""
        lo, hi = float(min(values)), float(max(values))
        if margin > 0:
            u = self.forward(np.array([lo, hi]))
            pad = margin * abs(u[1] - u[0])
            wide = self.inverse(np.array([u.min() - pad, u.max() + pad]))
            lo, hi = min(lo, wide.min()), max(hi, wide.max())
        return type(self)(max(lo, self.low), min(hi, self.high))

    def __repr__(self) -> str:
        return f"{self.name}({self.low:g}, {self.high:g})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (self.low, self.high) == (other.low, other.high)



class Uniform(_Continuous):
    """``x`` uniform in ``[low, high]`` — for hyperparameters whose effect is linear
    (e.g. dropout ``keep_prob`` in [0.5, 1])."""

    name = "uniform"


class LogUniform(_Continuous):
    """``x = 10^r`` with ``r`` uniform in ``[log10 low, log10 high]``: every decade gets the
    same share of samples (learning rate α, L2 λ, ε)."""

    name = "log_uniform"

    def __init__(self, low: float, high: float) -> None:
        if not low > 0:
            raise ValueError(f"log_uniform: low must be > 0, got {low}")
        super().__init__(low, high)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log10(x)

    def inverse(self, u: np.ndarray) -> np.ndarray:
        return 10.0 ** u


class BetaRange(_Continuous):
    """``β = 1 − 10^r`` with ``r`` uniform in ``[log10(1 − high), log10(1 − low)]``, so
    0.9…0.99 and 0.99…0.999 are covered evenly (momentum β, Adam β₁/β₂, batch-norm momentum).
    """

    name = "beta_range"

    def __init__(self, low: float, high: float) -> None:
        if not (0 <= low and high < 1):
            raise ValueError(f"beta_range: need 0 <= low <= high < 1, got ({low}, {high})")
        super().__init__(low, high)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log10(1.0 - x)

    def inverse(self, u: np.ndarray) -> np.ndarray:
        return 1.0 - 10.0 ** u


class Integer:
    """An integer uniform in ``[low, high]``, **both ends included** (number of layers,
    hidden units, mini-batch size)."""

    name = "integer"

    def __init__(self, low: int, high: int) -> None:
        if not (_is_int(low) and _is_int(high)) or low > high:
            raise ValueError(f"integer: need integers low <= high, got ({low!r}, {high!r})")
        self.low, self.high = int(low), int(high)

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high + 1))

    def grid(self, n: int) -> list[int]:
        """Up to ``n`` evenly spaced integers (fewer if the range is shorter)."""
        return sorted({int(round(x)) for x in np.linspace(self.low, self.high, _check_n(n))})

    def refine(self, values: Sequence[int], margin: float = 0.0) -> Integer:
        lo, hi = min(values), max(values)
        pad = math.ceil(margin * (hi - lo))
        return Integer(max(lo - pad, self.low), min(hi + pad, self.high))

    def __repr__(self) -> str:
        return f"integer({self.low}, {self.high})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Integer and (self.low, self.high) == (other.low, other.high)


class Choice:
    """One of a fixed list of options, each equally likely (activation, optimiser name)."""

    name = "choice"

    def __init__(self, options: Sequence[Any]) -> None:
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence) or not options:
            raise ValueError(f"choice: need a non-empty list of options, got {options!r}")
        self.options = list(options)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(len(self.options)))]

    def grid(self, n: int | None = None) -> list[Any]:
        """All options (``n`` is ignored: a grid over a choice tries each one)."""
        return list(self.options)

    def refine(self, values: Sequence[Any], margin: float = 0.0) -> Choice:
        """Only the options that occur in ``values``, in their original order."""
        return Choice([o for o in self.options if any(_same(o, v) for v in values)])

    def __repr__(self) -> str:
        return f"choice({self.options!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Choice and self.options == other.options


# The course-style spellings used in search spaces: tune.log_uniform(1e-4, 1), ...
uniform = Uniform
log_uniform = LogUniform
beta_range = BetaRange
integer = Integer
choice = Choice

_PRIMITIVES = (_Continuous, Integer, Choice)


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _same(a: Any, b: Any) -> bool:
    """Option equality that never turns into an array comparison."""
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _check_mode(mode: str, who: str) -> None:
    if mode not in ("min", "max"):
        raise ValueError(f"{who}: mode must be 'min' or 'max', got {mode!r}")


def _check_n(n: int) -> int:
    if not _is_int(n) or n < 1:
        raise ValueError(f"grid: number of points must be a positive integer, got {n!r}")
    return int(n)


def sample(space: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One draw from ``space``: primitives are sampled (in the dict's order, so a seeded
    ``rng`` gives a repeatable sequence); any other value is passed through unchanged."""
    return {k: v.sample(rng) if isinstance(v, _PRIMITIVES) else v for k, v in space.items()}


# ----------------------------------------------------------------------------------------------
# Trials and results
# ----------------------------------------------------------------------------------------------

@dataclass
class Trial:
    """One call ``train_fn(**params)``. ``metric`` is ``nan`` when it raised; then ``error``
    holds ``"ExceptionType: message"``."""

    number: int
    params: dict[str, Any]
    metric: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Finished with a real (non-NaN) metric."""
        return self.error is None and not math.isnan(self.metric)


@dataclass
class SearchResults:
    """Trials sorted best first (``mode='min'``: lowest metric first; ``'max'``: highest).
    NaN metrics come after every real one, failed trials last.

    Iterate over it, index it (``results[0]``), ``len()`` it, print it for a table.
    ``space`` is the space searched (``refine`` narrows it)."""

    trials: list[Trial]
    space: dict[str, Any]
    mode: str = "min"
    method: str = "random search"

    def __post_init__(self) -> None:
        _check_mode(self.mode, "SearchResults")
        sign = 1.0 if self.mode == "min" else -1.0

        def key(t: Trial) -> tuple[int, float, int]:
            group = 0 if t.ok else (1 if t.error is None else 2)  # real, NaN, failed
            return group, (sign * t.metric if t.ok else 0.0), t.number

        self.trials = sorted(self.trials, key=key)

    @property
    def best(self) -> Trial:
        """The best trial with a real metric."""
        if not self.trials or not self.trials[0].ok:
            errors = [t.error for t in self.trials if t.error]
            hint = f"; first error: {errors[0]}" if errors else ""
            raise RuntimeError(f"{self.method}: none of the {len(self.trials)} trials gave a "
                               f"real metric{hint}")
        return self.trials[0]

    @property
    def best_params(self) -> dict[str, Any]:
        return self.best.params

    def __iter__(self) -> Iterator[Trial]:
        return iter(self.trials)

    def __len__(self) -> int:
        return len(self.trials)

    def __getitem__(self, i: int) -> Trial:
        return self.trials[i]

    def __str__(self) -> str:
        names = list(dict.fromkeys(k for t in self.trials for k in t.params))
        header = ["rank", "trial", *names, "metric"]
        rows = [[str(r), str(t.number), *(_fmt(t.params.get(k, "")) for k in names),
                 _fmt(t.metric) if t.error is None else "-"]
                for r, t in enumerate(self.trials, 1)]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        def line(row: list[str], error: str | None = None) -> str:
            text = "  ".join(c.rjust(w) for c, w in zip(row, widths))
            return text + (f"  error: {' '.join(error.split())}" if error else "")

        better = "lower" if self.mode == "min" else "higher"
        return "\n".join([f"{self.method}: {len(self.trials)} trials, {better} metric is better",
                          line(header), *(line(r, t.error) for r, t in zip(rows, self.trials))])

    def __repr__(self) -> str:
        best = f", best={self.trials[0].metric:.6g}" if self.trials and self.trials[0].ok else ""
        return (f"SearchResults({self.method!r}, trials={len(self.trials)}, "
                f"mode={self.mode!r}{best})")


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


# ----------------------------------------------------------------------------------------------
# Searches
# ----------------------------------------------------------------------------------------------

def _run(train_fn: Callable[..., Any], param_sets: Sequence[dict[str, Any]],
         space: dict[str, Any], mode: str, progress: bool, method: str) -> SearchResults:
    """Call ``train_fn(**params)`` for every set; exceptions are recorded, not raised."""
    if not callable(train_fn):
        raise TypeError(f"{method}: train_fn must be callable, got {type(train_fn).__name__}")
    _check_mode(mode, method)
    trials: list[Trial] = []
    bar = tqdm(param_sets, desc=method, unit="trial", disable=not progress)
    for number, params in enumerate(bar):
        try:
            metric, error = _as_metric(train_fn(**params)), None
        except Exception as e:  # a failing trial must not stop the search
            metric, error = math.nan, f"{type(e).__name__}: {e}"
        trials.append(Trial(number, params, metric, error))
        finished = [t.metric for t in trials if t.ok]
        if finished:
            bar.set_postfix(best=f"{(min if mode == 'min' else max)(finished):.4g}", refresh=False)
    return SearchResults(trials, dict(space), mode, method)


def _as_metric(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"train_fn must return a number (the metric), got {value!r}") from None


def _check_space(space: Any, method: str) -> None:
    if not isinstance(space, Mapping) or not all(isinstance(k, str) for k in space):
        raise TypeError(f"{method}: space must be a dict of name -> primitive or value, "
                        f"got {type(space).__name__}")


def random_search(train_fn: Callable[..., Any], space: Mapping[str, Any], trials: int = 20,
                  seed: int | None = None, mode: str = "min",
                  progress: bool = True) -> SearchResults:
    """Call ``train_fn(**params)`` for ``trials`` random draws from ``space``.

    ``train_fn`` returns the metric (a float, 0-d array or scalar Tensor). ``mode='min'``
    (default) treats it as a loss/error — lower is better; use ``mode='max'`` for accuracy.
    ``seed`` makes the draws repeatable; without it they come from the library generator
    (``tg.manual_seed``). A trial that raises is recorded with its error message and sorts
    last; a NaN metric sorts after every real one. ``progress=False`` hides the tqdm bar.
    """
    _check_space(space, "random_search")
    if not _is_int(trials) or trials < 1:
        raise ValueError(f"random_search: trials must be a positive integer, got {trials!r}")
    rng = np.random.default_rng(seed) if seed is not None else _random.generator()
    param_sets = [sample(space, rng) for _ in range(trials)]
    return _run(train_fn, param_sets, space, mode, progress, "random search")


def grid_search(train_fn: Callable[..., Any], space: Mapping[str, Any], points: int = 3,
                mode: str = "min", progress: bool = True) -> SearchResults:
    """Call ``train_fn(**params)`` for every combination of a grid (the course's foil for
    random search: 5 × 5 grid points try only 5 distinct values of each hyperparameter).

    Each primitive contributes ``points`` values evenly spaced on its own scale
    (``Choice``: all options); a list contributes its items; any other value is fixed.
    ``mode``, ``progress`` and failure handling as in :func:`random_search`.
    """
    _check_space(space, "grid_search")
    space = {k: Choice(v) if isinstance(v, list) else v for k, v in space.items()}
    axes = {k: v.grid(points) if isinstance(v, _PRIMITIVES) else [v] for k, v in space.items()}
    param_sets = [dict(zip(axes, combo)) for combo in product(*axes.values())]
    return _run(train_fn, param_sets, space, mode, progress, "grid search")


def refine(results: SearchResults, top_k: int = 5, margin: float = 0.0) -> dict[str, Any]:
    """Coarse to fine: a new space around the ``top_k`` best trials.

    Each range becomes the min/max of the top trials' values on the primitive's own scale
    (log scale for ``log_uniform``, ``log(1 − β)`` for ``beta_range``), widened by
    ``margin`` × its width on each side but never beyond the old range; a ``choice`` keeps
    only the options seen in the top trials. Fixed values are kept. Failed and NaN trials
    are ignored.
    """
    if not isinstance(results, SearchResults):
        raise TypeError(f"refine: expected the SearchResults of a search, got "
                        f"{type(results).__name__}")
    if not _is_int(top_k) or top_k < 1:
        raise ValueError(f"refine: top_k must be a positive integer, got {top_k!r}")
    if not margin >= 0:
        raise ValueError(f"refine: margin must be >= 0, got {margin!r}")
    top = [t for t in results.trials if t.ok][:top_k]
    if not top:
        raise ValueError(f"refine: no trial of the {results.method} gave a real metric")
    return {k: v.refine([t.params[k] for t in top], margin) if isinstance(v, _PRIMITIVES) else v
            for k, v in results.space.items()}
