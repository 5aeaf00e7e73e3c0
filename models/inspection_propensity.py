"""How likely a workplace was to be inspected: the correction for selective labels.

A risk model learns only from the workplaces someone chose to inspect, and the
inspectorate chose them partly for their risk (planned campaigns, past violators,
complaints). Modelling the chance of inspection from what was known at the as-of date
lets training weight each example by its inverse, and lets an evaluation estimate
precision over the whole population from the inspected ones (a Hájek estimate). It
corrects only for selection on what the features show: a visit triggered by a complaint
filed after the as-of date stays unexplained, which the synthetic world's truth measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec
from models.feature_encoding import FeatureEncoder

#: Coordinates single out workplaces; every other feature (state and sector codes
#: included: the lottery's pre-selection is by size, sector and region) may explain
#: who gets inspected.
PROPENSITY_EXCLUDED = ("latitude", "longitude")
#: Rows the propensity model is fitted on; a uniform sample keeps probabilities unbiased.
MAX_FIT_ROWS = 300_000
_PARAMS: dict[str, object] = {
    "objective": "binary",
    "num_leaves": 31,
    "learning_rate": 0.1,
    "min_child_samples": 200,
    "feature_fraction": 0.8,
    "lambda_l2": 10.0,
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}
_ROUNDS = 150


@dataclass
class PropensityModel:
    """P(inspected within the horizon | features as of the date)."""

    encoder: FeatureEncoder
    booster: lgb.Booster | None
    base_rate: float

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        if self.booster is None:
            return np.full(len(features), self.base_rate)
        return self.booster.predict(self.encoder.matrix(features))


def fit_propensity(
    population: pd.DataFrame,
    inspected: np.ndarray,
    specs: list[FeatureSpec],
    seed: int = 0,
    threads: int = 2,
) -> PropensityModel:
    """Fit on everyone who existed at the date: inspected within the horizon or not."""
    inspected = np.asarray(inspected, dtype=np.float64)
    used = [s for s in specs if s.name not in PROPENSITY_EXCLUDED]
    encoder = FeatureEncoder.fit(population, used)
    base_rate = float(inspected.mean()) if len(inspected) else 0.0
    if inspected.sum() < 20 or (len(inspected) - inspected.sum()) < 20:
        return PropensityModel(encoder, None, base_rate)
    rows = np.arange(len(population))
    if len(rows) > MAX_FIT_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, MAX_FIT_ROWS, replace=False))
    train = lgb.Dataset(
        encoder.matrix(population.iloc[rows]),
        inspected[rows],
        feature_name=encoder.columns,
        categorical_feature=encoder.categorical,
    )
    booster = lgb.train(
        {**_PARAMS, "seed": seed, "num_threads": threads}, train, num_boost_round=_ROUNDS
    )
    return PropensityModel(encoder, booster, base_rate)


def inverse_propensity_weights(propensity: np.ndarray, max_weight: float) -> np.ndarray:
    """1 / p, capped at ``max_weight`` (a few near-zero propensities must not own the fit),
    scaled to mean 1 so the effective learning rate and regularisation stay as tuned."""
    p = np.clip(np.asarray(propensity, dtype=np.float64), 1.0 / max_weight, 1.0)
    weights = 1.0 / p
    return weights / weights.mean() if len(weights) else weights
