"""The library's one random generator: ``tg.manual_seed(n)`` makes every draw repeatable
(``tg.randn``, initialisers, dropout masks, shuffling without an explicit seed)."""

from __future__ import annotations

import numpy as np

_rng = [np.random.default_rng()]


def manual_seed(seed: int) -> None:
    """Seed everything the library draws."""
    _rng[0] = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The library's current generator."""
    return _rng[0]


def get_state() -> dict:
    return _rng[0].bit_generator.state


def set_state(state: dict) -> None:
    _rng[0].bit_generator.state = state
