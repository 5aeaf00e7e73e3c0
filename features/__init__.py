"""Data side of CALLE: the contract, its import, the synthetic world, point-in-time features."""
