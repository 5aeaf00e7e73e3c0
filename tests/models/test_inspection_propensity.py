"""The chance-of-inspection model and its weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.catalogue import FeatureSpec, Kind
from models.inspection_propensity import fit_propensity, inverse_propensity_weights


def _spec(name: str, kind: Kind) -> FeatureSpec:
    return FeatureSpec(name=name, meaning=name, family="test", kind=kind)


def test_the_propensity_model_recovers_who_was_likelier_to_be_inspected():
    rng = np.random.default_rng(0)
    n = 20_000
    population = pd.DataFrame(
        {
            "past_violations": rng.poisson(0.5, n).astype(float),
            "state": rng.choice(["09", "15", "19"], n),
            "latitude": rng.normal(20, 2, n),
        }
    )
    true_p = 0.05 + 0.25 * (population["past_violations"] > 0) + 0.1 * (population["state"] == "19")
    inspected = rng.random(n) < true_p
    specs = [
        _spec("past_violations", Kind.NUMERIC),
        _spec("state", Kind.CATEGORICAL),
        _spec("latitude", Kind.NUMERIC),
    ]
    model = fit_propensity(population, inspected, specs)
    assert "latitude" not in model.encoder.columns  # coordinates single out workplaces
    p = model.probability(population)
    assert np.abs(p - true_p).mean() < 0.03
    assert p.mean() == pytest.approx(inspected.mean(), abs=0.01)


def test_too_few_inspections_give_the_base_rate():
    population = pd.DataFrame({"x": np.arange(100.0)})
    inspected = np.zeros(100, bool)
    inspected[:3] = True
    model = fit_propensity(population, inspected, [_spec("x", Kind.NUMERIC)])
    assert np.allclose(model.probability(population), 0.03)


def test_weights_are_capped_and_average_one():
    weights = inverse_propensity_weights(np.array([0.001, 0.5, 1.0]), max_weight=20)
    assert weights.mean() == pytest.approx(1.0)
    raw = np.array([20.0, 2.0, 1.0])
    assert np.allclose(weights, raw / raw.mean())
