"""Estimators of CALLE: the risk model, baselines, calibration, explanations. No store access."""
