"""Shared test settings: hypothesis profiles sized for a 2-core CI machine."""

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile("default")


@pytest.fixture(autouse=True)
def _fresh_defaults():
    """Each test starts with float32 default, grad mode on and a seeded generator."""
    import tinygrad_ng as tg

    tg.set_default_dtype(np.float32)
    tg.manual_seed(0)
    yield
    tg.set_default_dtype(np.float32)
