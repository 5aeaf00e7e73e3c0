"""Probability calibration that keeps the ranking.

Platt scaling (a logistic fit on the raw margin) is strictly increasing, so calibrating
never reorders workplaces or creates ties, unlike isotonic regression whose steps tie
many scores together and would hand the tie-break to the employer id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression


@dataclass(frozen=True)
class PlattCalibrator:
    slope: float
    intercept: float

    @classmethod
    def fit(cls, margin: np.ndarray, y: np.ndarray) -> PlattCalibrator:
        y = np.asarray(y, dtype=np.float64)
        if y.min() == y.max():  # one class only: no information about the scale
            rate = float(np.clip(y.mean(), 1e-4, 1 - 1e-4))
            return cls(0.0, float(np.log(rate / (1 - rate))))
        fit = LogisticRegression(C=1e6).fit(np.asarray(margin).reshape(-1, 1), y)
        slope = max(float(fit.coef_[0, 0]), 1e-6)  # never reverse or flatten the ranking
        return cls(slope, float(fit.intercept_[0]))

    def __call__(self, margin: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.slope * np.asarray(margin) + self.intercept)))
