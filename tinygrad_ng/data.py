"""Data: mini-batches, train/dev/test splits, standardisation and small 2-D datasets.

Everything is batch-first: ``X`` has shape ``(m, n_x)`` (one example per row) and labels
``y`` shape ``(m,)``. The course stacks examples as columns, ``X`` of shape ``(n_x, m)``;
``X.T`` converts. Randomness comes from ``seed`` when given, otherwise from the library's
generator, so ``tg.manual_seed(n)`` makes every shuffle and dataset repeatable. In legacy
mode (``tg.manual_seed(n, legacy=True)``) the shuffles and data sets are the course's own:
``DataLoader`` shuffles as ``random_mini_batches``, ``make_flower`` is
``load_planar_dataset`` and ``make_moons``/``make_circles`` are the course's calls of
scikit-learn's generators, each after ``np.random.seed(seed)`` when given a seed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import random
from .dtypes import get_default_dtype
from .tensor import Tensor

__all__ = ["DataLoader", "Standardizer", "TensorDataset", "make_circles", "make_flower",
           "make_moons", "make_spirals", "train_dev_test_split"]


def _rng(seed: int | None) -> np.random.Generator:
    return random.generator() if seed is None else np.random.default_rng(seed)


def _array(a: Any, who: str, name: str) -> np.ndarray:
    arr = a.data if isinstance(a, Tensor) else np.asarray(a)
    if arr.ndim == 0:
        raise ValueError(f"{who}: {name} must have a batch axis (one example per row), got a "
                         "scalar")
    return arr


def _same_length(X: np.ndarray, Y: np.ndarray, who: str) -> None:
    if len(X) != len(Y):
        raise ValueError(f"{who}: X has {len(X)} examples (shape {X.shape}) but Y has "
                         f"{len(Y)} (shape {Y.shape}); both must be batch-first")


class TensorDataset:
    """Examples stored in tensors of equal length, PyTorch's ``TensorDataset(X, y)``:
    ``dataset[i]`` is the tuple of their i-th rows.

    ``DataLoader(TensorDataset(X, Y))``, PyTorch's form, has PyTorch's defaults
    ``batch_size=1, shuffle=False``; ``DataLoader(X, Y)`` has the course's, ``batch_size=64,
    shuffle=True``.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        lengths = {len(_array(t, "TensorDataset", "each tensor")) for t in self.tensors}
        if len(lengths) != 1:
            raise ValueError(f"TensorDataset: the tensors have different lengths "
                             f"{[len(t) for t in self.tensors]}")

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: Any) -> tuple:
        return tuple(t[index] for t in self.tensors)


class DataLoader:
    """Shuffled mini-batches ``(X_batch, Y_batch)`` as Tensors, the course's mini-batch GD.

    Each pass (epoch) visits every example exactly once, in a new random order when
    ``shuffle`` is on; the last batch holds the ``m mod batch_size`` leftovers unless
    ``drop_last``. With ``seed`` the sequence of epochs is repeatable on its own; without,
    it follows ``tg.manual_seed``. ``len(loader)`` is the number of batches per epoch.
    Arrays keep their dtype (``Standardizer`` and the ``make_*`` datasets give float32).

    In legacy mode each epoch shuffles as the course's ``random_mini_batches`` does,
    ``np.random.permutation(m)`` from NumPy's global generator; with ``seed``, epoch e first
    calls ``np.random.seed(seed + e)``, as the course's training loop, which adds 1 to the
    seed before each epoch's ``random_mini_batches(X, Y, batch_size, seed)``: its seed 10
    is ``seed=11`` here. ``DataLoader(X.T, Y.T, batch_size, seed)`` (the course stacks
    examples as columns) then gives the course's mini-batches, transposed.
    """

    def __init__(self, X: Any, Y: Any = None, batch_size: int | None = None,
                 shuffle: bool | None = None, seed: int | None = None,
                 drop_last: bool = False) -> None:
        if isinstance(X, TensorDataset) and Y is None:
            if len(X.tensors) != 2:
                raise ValueError(f"DataLoader: expects a TensorDataset of 2 tensors (inputs, "
                                 f"targets), got {len(X.tensors)}")
            (X, Y), defaults = X.tensors, (1, False)  # PyTorch's defaults
        elif Y is None:
            raise TypeError("DataLoader: give the targets too, DataLoader(X, Y, ...), or a "
                            "TensorDataset(X, Y)")
        else:
            defaults = (64, True)
        batch_size = defaults[0] if batch_size is None else batch_size
        shuffle = defaults[1] if shuffle is None else shuffle
        self.X = _array(X, "DataLoader", "X")
        self.Y = _array(Y, "DataLoader", "Y")
        _same_length(self.X, self.Y, "DataLoader")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)
        self._epoch = 0

    def __len__(self) -> int:
        m = len(self.X)
        return m // self.batch_size if self.drop_last else math.ceil(m / self.batch_size)

    def _order(self) -> np.ndarray:
        """This epoch's order of the examples."""
        m = len(self.X)
        if not self.shuffle:
            return np.arange(m)
        if self.seed is not None and random.is_legacy():
            rng = random.source(self.seed + self._epoch)
        else:
            rng = self._generator or random.source()
        self._epoch += 1
        return rng.permutation(m)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        order = self._order()
        for k in range(len(self)):
            idx = order[k * self.batch_size:(k + 1) * self.batch_size]
            yield Tensor(self.X[idx]), Tensor(self.Y[idx])

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.X)} examples, batch_size={self.batch_size}, "
                f"{len(self)} batches, shuffle={self.shuffle}, drop_last={self.drop_last})")


def _take(a: np.ndarray, idx: np.ndarray, tensor: bool) -> Any:
    """Rows ``idx`` of ``a``, a Tensor if the input was one."""
    return Tensor(a[idx]) if tensor else a[idx]


def _sizes(fractions: Any, m: int, who: str) -> tuple[int, int, int]:
    """Numbers of (train, dev, test) examples of ``m``: dev and test get ``round(f·m)``."""
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or not math.isclose(sum(fractions), 1.0,
                                                                      abs_tol=1e-6):
        raise ValueError(f"{who}: fractions must be three non-negative numbers summing to 1, "
                         f"got {fractions}")
    n_dev, n_test = round(fractions[1] * m), round(fractions[2] * m)
    return max(m - n_dev - n_test, 0), n_dev, n_test


def train_dev_test_split(X: Any, Y: Any, fractions: tuple[float, float, float] = (0.98, 0.01,
                                                                                  0.01),
                         seed: int | None = None, *, train_dev: float | None = None,
                         target: tuple[Any, Any] | None = None) -> tuple[tuple[Any, Any], ...]:
    """Shuffle, then split into ``(train, dev, test)``, each an ``(X, Y)`` pair (Tensors in,
    Tensors out).

    ``fractions`` are the shares of the examples (the course's 98/1/1 for big data sets,
    60/20/20 for small ones); dev and test get ``round(fraction·m)`` examples, train the rest.

    Course 3, when the data you train on differs from the data you care about:

    * ``target=(X_t, Y_t)``: examples from the distribution the system must do well on
      (the course's 10,000 mobile-app images beside 200,000 web images). Dev and test are
      drawn from ``target`` only — aim at the target — and ``fractions`` then split the
      *target* examples into (added to training, dev, test); all of ``(X, Y)`` is training
      data. ``fractions=(0.5, 0.25, 0.25)`` is the course's 5,000 / 2,500 / 2,500.
    * ``train_dev``: the share of the training set held out as a **train-dev** set (same
      distribution as training, not trained on). The result is then
      ``(train, train_dev, dev, test)``; comparing train, train-dev and dev errors separates
      variance from data mismatch (:func:`tinygrad_ng.utils.diagnose`).
    """
    who = "train_dev_test_split"
    Xa, Ya = _array(X, who, "X"), _array(Y, who, "Y")
    _same_length(Xa, Ya, who)
    if train_dev is not None and not 0 <= train_dev < 1:
        raise ValueError(f"{who}: train_dev must be a fraction in [0, 1), got {train_dev!r}")
    rng = _rng(seed)
    if target is None:
        m = len(Xa)
        n_train, n_dev, _ = _sizes(fractions, m, who)
        train, dev, test = np.split(rng.permutation(m), [n_train, n_train + n_dev])
    else:
        if not (isinstance(target, (tuple, list)) and len(target) == 2):
            raise TypeError(f"{who}: target must be an (X, Y) pair, got {type(target).__name__}")
        Xt, Yt = _array(target[0], who, "target X"), _array(target[1], who, "target Y")
        _same_length(Xt, Yt, who)
        for name, mine, theirs in (("X", Xa, Xt), ("Y", Ya, Yt)):
            if mine.shape[1:] != theirs.shape[1:]:
                raise ValueError(f"{who}: the examples of {name} have shape {mine.shape[1:]} "
                                 f"but those of the target's {name} {theirs.shape[1:]}")
        m, m_t = len(Xa), len(Xt)
        n_extra, n_dev, _ = _sizes(fractions, m_t, who)
        extra, dev, test = np.split(m + rng.permutation(m_t), [n_extra, n_extra + n_dev])
        train = rng.permutation(np.concatenate([np.arange(m), extra]))
        Xa, Ya = np.concatenate([Xa, Xt]), np.concatenate([Ya, Yt])  # indices point here
    parts = [train, dev, test]
    if train_dev is not None:
        n_held = round(train_dev * len(train))
        parts[:1] = np.split(train, [len(train) - n_held])
    tensors = isinstance(X, Tensor), isinstance(Y, Tensor)
    return tuple((_take(Xa, idx, tensors[0]), _take(Ya, idx, tensors[1])) for idx in parts)


def _like(X: Any, Xa: np.ndarray, values: np.ndarray) -> Any:
    """``values`` in Xa's float dtype (the default one for integer data), a Tensor if X is."""
    out = values.astype(Xa.dtype if Xa.dtype.kind == "f" else get_default_dtype())
    return Tensor(out) if isinstance(X, Tensor) else out


class Standardizer:
    """Normalise inputs with the training set's statistics: ``x := (x − μ) / σ`` per feature.

    ``fit`` on the training set only, then ``transform`` train, dev and test with the same
    μ and σ (the course's rule: never recompute them on dev/test). A constant feature gets
    σ = 1 so it maps to 0 instead of dividing by zero.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, X: Any) -> Standardizer:
        Xa = _array(X, "Standardizer.fit", "X")
        if len(Xa) == 0:
            raise ValueError("Standardizer.fit: X has no examples")
        self.mean = Xa.mean(axis=0, dtype=np.float64)  # float64: exact even for float32 data
        std = Xa.std(axis=0, dtype=np.float64)
        self.std = np.where(std > 0, std, 1.0)
        return self

    def _check_fitted(self, who: str, Xa: np.ndarray) -> None:
        if self.mean is None:
            raise RuntimeError(f"Standardizer.{who}: call fit(X_train) first")
        if Xa.shape[1:] != self.mean.shape:
            raise ValueError(f"Standardizer.{who}: X has examples of shape {Xa.shape[1:]} but "
                             f"the fitted ones had shape {self.mean.shape}")

    def transform(self, X: Any) -> Any:
        """``(X − μ) / σ``; a Tensor in gives a Tensor out, an array an array."""
        Xa = _array(X, "Standardizer.transform", "X")
        self._check_fitted("transform", Xa)
        return _like(X, Xa, (Xa - self.mean) / self.std)

    def fit_transform(self, X: Any) -> Any:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> Any:
        """``X·σ + μ``: back to the original units."""
        Xa = _array(X, "Standardizer.inverse_transform", "X")
        self._check_fitted("inverse_transform", Xa)
        return _like(X, Xa, Xa * self.std + self.mean)


# ----------------------------------------------------------------------------- datasets


def _finish(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return X.astype(get_default_dtype()), y.astype(np.int64)


def _check_n(n: int, who: str, minimum: int = 1) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{who}: the number of points must be an int >= {minimum}, got {n!r}")


def _split(n: int, k: int) -> list[int]:
    """Sizes of ``k`` classes sharing ``n`` points as evenly as possible."""
    return [n // k + (i < n % k) for i in range(k)]


def _sklearn_datasets(who: str) -> Any:
    """``sklearn.datasets``, imported when first needed (scikit-learn is an optional extra)."""
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError(f"{who}: in legacy mode (tg.manual_seed(n, legacy=True)) this is the "
                          "course's call of scikit-learn's generator, and scikit-learn is not "
                          "installed: pip install 'tinygrad_ng[datasets]'") from None
    return datasets


def make_flower(m: int = 400, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The course's planar "flower": two classes of ``m`` points in petals (not linearly
    separable; logistic regression gets about 47%, a 4-unit tanh hidden layer about 90%).

    Class j's points have angle θ = linspace(3.12·j, 3.12·(j+1)) + 0.2·noise and radius
    r = 4·sin(4θ) + 0.2·noise, at (r·sin θ, r·cos θ). In legacy mode
    ``make_flower(400, seed=1)`` is the course's ``load_planar_dataset()`` point for point
    (transposed: ``X.T``, ``y.reshape(1, -1)``).
    """
    _check_n(m, "make_flower", 2)
    rng = random.source(seed)
    X, y = [], []
    for j, size in enumerate(_split(m, 2)):
        theta = np.linspace(j * 3.12, (j + 1) * 3.12, size) + rng.standard_normal(size) * 0.2
        r = 4 * np.sin(4 * theta) + rng.standard_normal(size) * 0.2
        X.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        y.append(np.full(size, j))
    return _finish(np.concatenate(X), np.concatenate(y))


def make_moons(n: int = 200, noise: float = 0.1,
               seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 on top, class 1 below, shifted right), plus
    Gaussian noise of std ``noise``.

    In legacy mode this is the course's ``np.random.seed(seed);
    sklearn.datasets.make_moons(n_samples=n, noise=noise)`` (scikit-learn's points, shuffled):
    the optimisation lesson's training set is ``make_moons(300, noise=0.2, seed=3)``.
    """
    _check_n(n, "make_moons", 2)
    if random.is_legacy():
        X, y = _sklearn_datasets("make_moons").make_moons(
            n_samples=n, noise=noise, random_state=random.source(seed))
        return _finish(X, y)
    rng = random.source(seed)
    n0, n1 = _split(n, 2)
    a0, a1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    X = np.concatenate([np.stack([np.cos(a0), np.sin(a0)], axis=1),
                        np.stack([1 - np.cos(a1), 0.5 - np.sin(a1)], axis=1)])
    X = X + noise * rng.standard_normal(X.shape)
    return _finish(X, np.repeat([0, 1], [n0, n1]))


def make_circles(n: int = 200, noise: float = 0.05, factor: float = 0.5,
                 seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (< 1).

    In legacy mode this is the course's ``np.random.seed(seed);
    sklearn.datasets.make_circles(n_samples=n, noise=noise, factor=factor)`` (scikit-learn's
    points, shuffled): the initialisation lesson's sets are ``make_circles(300, noise=0.05,
    factor=0.8, seed=1)`` (train) and ``make_circles(100, noise=0.05, factor=0.8, seed=2)``.
    """
    _check_n(n, "make_circles", 2)
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor}")
    if random.is_legacy():
        X, y = _sklearn_datasets("make_circles").make_circles(
            n_samples=n, noise=noise, factor=factor, random_state=random.source(seed))
        return _finish(X, y)
    rng = random.source(seed)
    sizes = _split(n, 2)
    parts = []
    for radius, size in zip((1.0, factor), sizes):
        angle = np.linspace(0, 2 * np.pi, size, endpoint=False)
        parts.append(radius * np.stack([np.cos(angle), np.sin(angle)], axis=1))
    X = np.concatenate(parts) + noise * rng.standard_normal((n, 2))
    return _finish(X, np.repeat([0, 1], sizes))


def make_spirals(n: int = 300, classes: int = 3, noise: float = 0.2,
                 seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms of ``n`` points in total (CS231n's spiral data).

    Arm j has radius r = linspace(0, 1) and angle linspace(4j, 4(j+1)) + ``noise``·N(0, 1).
    """
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"make_spirals: classes must be an int >= 2, got {classes!r}")
    _check_n(n, "make_spirals", classes)
    rng = random.source(seed)
    sizes = _split(n, classes)
    X = []
    for j, size in enumerate(sizes):
        r = np.linspace(0.0, 1.0, size)
        t = np.linspace(4 * j, 4 * (j + 1), size) + noise * rng.standard_normal(size)
        X.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
    return _finish(np.concatenate(X), np.repeat(np.arange(classes), sizes))
