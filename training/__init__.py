"""Training side of CALLE: labels, temporal evaluation, metrics, experiments, registry."""
