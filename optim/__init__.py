"""Optimisers and learning-rate schedules (installed as tinygrad_ng.optim)."""
