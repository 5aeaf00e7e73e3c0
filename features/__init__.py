"""Data side of CALLE: the data contract, its import, the synthetic world, point-in-time features."""
