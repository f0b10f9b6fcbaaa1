"""Computation-graph drawings (installed as tinygrad_ng.viz)."""
