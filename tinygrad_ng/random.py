"""The library's randomness: ``tg.manual_seed(n)`` makes every draw repeatable (``tg.randn``,
initialisers, dropout masks, shuffling and data sets without an explicit seed).

Two modes. The default draws from a NumPy ``Generator`` (``np.random.default_rng``).
``tg.manual_seed(n, legacy=True)`` draws instead from NumPy's legacy global generator, the
one behind ``np.random.seed`` and ``np.random.randn``, in the order the course's code draws,
so that its published numbers come out to the digit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# NumPy's global RandomState, the one np.random.seed, np.random.randn, ... use (and
# scikit-learn's generators when given no random_state).
_NUMPY_GLOBAL: np.random.RandomState = np.random.mtrand._rand


class _Mode(NamedTuple):
    generator: np.random.Generator
    legacy: bool


# One slot, replaced whole by manual_seed, so a reader never sees half of a change.
_mode = [_Mode(np.random.default_rng(), False)]


def manual_seed(seed: int | None, legacy: bool = False) -> None:
    """Seed everything the library draws.

    ``manual_seed(seed)`` (the default mode) gives the library its own
    ``np.random.default_rng(seed)`` and leaves NumPy's global generator alone.

    ``manual_seed(seed, legacy=True)`` reproduces the course's numbers: it calls
    ``np.random.seed(seed)`` itself, as the course's code does before it draws, and from then
    on (until ``manual_seed`` without ``legacy``) ``tg.randn``/``tg.rand``, the ``nn.init``
    initialisers, dropout masks, ``DataLoader`` shuffling and the ``data.make_*`` data sets
    draw from NumPy's global generator exactly as the course's code does
    (``np.random.randn(n[l], n[l-1]) * scale`` layer by layer, ``np.random.rand(...) <
    keep_prob``, ``np.random.permutation(m)``, ...). That generator is shared: your own
    ``np.random`` calls draw from the same stream, just as in the course, so one extra draw
    in between shifts every later one, and ``np.random.seed(n)`` reseeds the library too.
    A seed must then be an int in [0, 2**32) (NumPy's rule for ``np.random.seed``).

    The mode is process-wide. Draws from several threads are safe but come in no
    repeatable order: draw from one thread to reproduce a run.
    """
    if not isinstance(legacy, bool):
        raise TypeError(f"manual_seed: legacy must be True or False, got {legacy!r}")
    try:
        generator = np.random.default_rng(seed)
        if legacy:
            np.random.seed(seed)
    except (TypeError, ValueError) as e:
        rule = "an int in [0, 2**32)" if legacy else "a non-negative int"
        raise type(e)(f"manual_seed: the seed must be {rule} or None, got {seed!r} ({e})") \
            from None
    _mode[0] = _Mode(generator, legacy)


def is_legacy() -> bool:
    """Whether the library draws as the course does (``tg.manual_seed(n, legacy=True)``)."""
    return _mode[0].legacy


def generator() -> np.random.Generator:
    """The library's ``Generator`` (seeded by ``tg.manual_seed``). In legacy mode the draws
    the course makes come from NumPy's global generator instead (see :func:`source`); the
    rest (``tune``'s random search, ``train_dev_test_split``) still come from here."""
    return _mode[0].generator


def source(seed: int | None = None) -> np.random.Generator | np.random.RandomState:
    """Where a draw comes from now: ``generator()``, or NumPy's global generator in legacy
    mode. With ``seed``: a fresh ``np.random.default_rng(seed)``, or in legacy mode the global
    generator after ``np.random.seed(seed)`` (what the course's data loaders do).

    Both kinds have the methods the library draws with: ``standard_normal(shape)`` (= the
    course's ``np.random.randn(*shape)``), ``random(shape)`` (= ``np.random.rand(*shape)``),
    ``uniform(low, high, shape)`` and ``permutation(m)``.
    """
    mode = _mode[0]
    if not mode.legacy:
        return mode.generator if seed is None else np.random.default_rng(seed)
    if seed is not None:
        try:
            np.random.seed(seed)
        except (TypeError, ValueError) as e:
            raise type(e)(f"legacy mode seeds NumPy's global generator, whose seed must be an "
                          f"int in [0, 2**32), got {seed!r} ({e})") from None
    return _NUMPY_GLOBAL


def get_state() -> dict:
    """Everything the next draws depend on (the mode, and NumPy's global state in legacy
    mode), for :func:`set_state`: gradient checks replay the same dropout masks with it."""
    mode = _mode[0]
    state = {"legacy": mode.legacy, "generator": mode.generator.bit_generator.state}
    if mode.legacy:
        state["numpy_global"] = _NUMPY_GLOBAL.get_state(legacy=False)
    return state


def set_state(state: dict) -> None:
    """Return to a state taken by :func:`get_state`."""
    generator = _mode[0].generator
    generator.bit_generator.state = state["generator"]
    if state["legacy"]:
        _NUMPY_GLOBAL.set_state(state["numpy_global"])
    _mode[0] = _Mode(generator, state["legacy"])
