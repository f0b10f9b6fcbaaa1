"""Neural-network building blocks (installed as tinygrad_ng.nn)."""
