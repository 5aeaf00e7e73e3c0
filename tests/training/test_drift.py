"""Population stability: profiles at training, PSI later; the drift report's verdicts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from features.matrix import feature_matrix
from tests.models.conftest import CATS, SCORE, _fit
from training import monitoring
from training.drift import (
    categorical_profile,
    numeric_profile,
    population_stability_index,
    profile_frame,
    shares_like,
    stability,
)
from training.monitoring import _judge, drift_report


def test_the_same_population_is_stable_and_a_shifted_one_is_not():
    rng = np.random.default_rng(0)
    before = pd.Series(rng.normal(0, 1, 50_000))
    profile = numeric_profile(before)
    assert sum(profile["shares"]) == pytest.approx(1.0)
    assert len(profile["edges"]) == 9  # ten bins of a continuous variable
    same = population_stability_index(profile["shares"], shares_like(profile, before))
    resampled = shares_like(profile, pd.Series(rng.normal(0, 1, 50_000)))
    shifted = shares_like(profile, pd.Series(rng.normal(0.5, 1, 50_000)))
    assert same == pytest.approx(0.0, abs=1e-12)
    assert population_stability_index(profile["shares"], resampled) < 0.01
    assert population_stability_index(profile["shares"], shifted) > 0.2


def test_psi_by_hand():
    # bins 50/50 → 25/75: (0.25-0.5)ln(0.5) + (0.75-0.5)ln(1.5)
    expected = (0.25 - 0.5) * np.log(0.25 / 0.5) + (0.75 - 0.5) * np.log(0.75 / 0.5)
    assert population_stability_index([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected)
    assert population_stability_index([1.0, 0.0], [1.0, 0.0]) == 0.0  # empty bins floored


def test_counts_with_repeated_values_and_missing_get_their_own_bins():
    values = pd.Series([0.0] * 80 + [1.0] * 10 + [np.nan] * 10)
    profile = numeric_profile(values)
    assert profile["edges"] == [0.0, 1.0]
    assert profile["shares"] == pytest.approx([0.8, 0.1, 0.0, 0.1])  # ≤0, (0,1], >1, missing
    more_missing = pd.Series([0.0] * 40 + [np.nan] * 60)
    assert shares_like(profile, more_missing) == pytest.approx([0.4, 0.0, 0.0, 0.6])


def test_categorical_levels_unseen_at_training_count_as_other():
    profile = categorical_profile(pd.Series(["09", "09", "15", None]))
    assert profile["levels"] == ["09", "15"]
    assert profile["shares"] == pytest.approx([0.5, 0.25, 0.0, 0.25])
    later = pd.Series(["09", "32", "32", "32"], dtype="string")
    assert shares_like(profile, later) == pytest.approx([0.25, 0.0, 0.75, 0.0])


def test_the_drift_report_names_what_shifted():
    rng = np.random.default_rng(1)
    n = 20_000
    reference_features = pd.DataFrame({"complaints": rng.poisson(1, n), "state": ["09"] * n})
    reference = {
        "as_of": "2025-01-01",
        "features": profile_frame(reference_features, ["state"]),
        "scores": profile_frame(pd.DataFrame({"any": rng.beta(2, 20, n)}), []),
        "mean_probability": {"any": 0.09},
    }
    now = pd.DataFrame({"complaints": rng.poisson(3, n), "state": ["09"] * n})
    scores = pd.DataFrame({"p_any": rng.beta(2, 20, n), "rank_any": np.arange(n)})
    report = drift_report(reference, now, scores, date(2026, 1, 1), warn_at=0.25)
    by_feature = {f["feature"]: f for f in report["features"]}
    assert by_feature["complaints"]["status"] == "shifted"
    assert by_feature["state"]["status"] == "stable"
    assert report["features"][0]["feature"] == "complaints"  # most shifted first
    assert [s["target"] for s in report["scores"]] == ["any"]
    assert report["scores"][0]["status"] == "stable"
    assert report["warnings"] == [
        f"feature complaints shifted since training: PSI {by_feature['complaints']['psi']:.3f}"
    ]
    assert stability(reference["features"], now.drop(columns="state")).keys() == {"complaints"}


def test_a_hit_rate_is_judged_in_standard_errors():
    p = np.full(400, 0.5)
    as_predicted = _judge("any", np.r_[np.ones(205), np.zeros(195)], p, warn_z=3)
    assert as_predicted.status == "as predicted" and as_predicted.z == pytest.approx(0.5)
    off = _judge("any", np.r_[np.ones(260), np.zeros(140)], p, warn_z=3)
    assert off.status == "off" and off.z == pytest.approx(6.0)
    assert _judge("any", np.ones(5), np.full(5, 0.5), 3).status == "too few"
    assert _judge("any", np.empty(0), np.empty(0), 3).status == "no inspections yet"


def test_a_sampled_reference_finds_the_whole_population_stable(small_world_frames, monkeypatch):
    model = _fit(small_world_frames)
    population = feature_matrix(small_world_frames, SCORE, CATS)
    monkeypatch.setattr(monitoring, "REFERENCE_ROWS", len(population) // 3)
    reference = monitoring.reference_profile(model, population, SCORE)
    assert reference["employers"] == len(population)
    assert reference["profiled"] == len(population) // 3
    report = drift_report(reference, population, model.predict(population), SCORE, 0.25)
    assert max(f["psi"] for f in report["features"]) < 0.05, report["features"][0]
    assert max(s["psi"] for s in report["scores"]) < 0.05
    assert not report["warnings"]
