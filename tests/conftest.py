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


@pytest.fixture
def mlp_cost():
    """A maker of a small MLP's cost: ``mlp_cost(batch, hidden)`` → (model, J), with J the
    binary cross-entropy of ``Linear(3, hidden) → ReLU → Linear(hidden, 1)`` on a seeded
    batch (used by the step-through page's tests)."""
    import tinygrad_ng.nn as nn

    import tinygrad_ng as tg
    import tinygrad_ng.functional as F

    def make(batch: int = 16, hidden: int = 8):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        X = tg.randn(batch, 3)
        y = tg.Tensor((np.arange(batch) % 2).reshape(-1, 1).astype(np.float32))
        J = F.binary_cross_entropy_with_logits(model(X), y)
        J.name = "J"
        return model, J

    return make
