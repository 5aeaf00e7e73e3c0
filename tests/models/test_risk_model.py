"""The risk model on the small world: probabilities, determinism, monotonicity, ranking."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calle.settings import MEXICO_CATEGORIES
from features.catalogue import Kind
from features.matrix import attribute_kinds_of, feature_specs
from models import baselines
from models.baselines import (
    BusinessAsUsualScorer,
    LogisticDesign,
    LogisticScorer,
    RandomScorer,
    baseline_scorers,
)
from models.risk_model import LightGBMParams, RiskModel
from tests.models.conftest import PARAMS, SCORE, TRAIN, _examples, _fit

CATS = list(MEXICO_CATEGORIES)


@pytest.fixture
def model(small_world_model: RiskModel) -> RiskModel:
    return small_world_model


@pytest.fixture
def population(small_world_population: pd.DataFrame) -> pd.DataFrame:
    return small_world_population


def test_probabilities_for_every_target(model: RiskModel, population: pd.DataFrame):
    p = model.predict(population)
    assert list(p.columns) == ["p_any"] + [f"p_{c}" for c in CATS]
    assert p.index.equals(population.index)
    assert ((p >= 0) & (p <= 1)).all().all()
    assert model.targets["any"].booster is not None, "3000 workplaces are enough to train"


def test_excluded_features_are_not_used(model: RiskModel, population: pd.DataFrame):
    assert "latitude" not in model.encoder.columns and "state" not in model.encoder.columns
    assert "peer_rate_state_sector2_size" in model.encoder.columns
    moved = population.assign(latitude=0.0, state="01")
    pd.testing.assert_frame_equal(model.predict(population), model.predict(moved))


def test_training_is_deterministic(small_world_frames, model, population):
    again = _fit(small_world_frames)
    pd.testing.assert_frame_equal(model.predict(population), again.predict(population))


def test_a_model_with_numeric_levels_reads_them_and_stays_monotone(
    small_world_examples, population
):
    """What several Dask workers need to bin alike (models.feature_encoding)."""
    params = replace(PARAMS, numeric_levels=255, feature_fraction=1.0, bagging_fraction=1.0)
    assert params.drawn_per_worker == []
    levelled = small_world_examples.fit_with(params)
    cut = levelled.encoder.cuts
    assert set(cut) == set(levelled.encoder.numeric)
    levels = levelled.encoded(population)[:, : len(levelled.encoder.numeric)]
    assert np.nanmax(levels) <= max(len(c) for c in cut.values()) <= 254
    assert np.array_equal(levels[~np.isnan(levels)], np.round(levels[~np.isnan(levels)]))
    rows = population.sample(200, random_state=1)
    more = rows.assign(violations_ever=rows["violations_ever"] + 5)
    assert (levelled.predict(more)["p_any"] >= levelled.predict(rows)["p_any"] - 1e-12).all()


def test_settings_a_cluster_draws_per_worker_are_named():
    drawn = LightGBMParams(feature_fraction=0.8, bagging_fraction=0.9, numeric_levels=0)
    assert drawn.drawn_per_worker == [
        "feature_fraction=0.8",
        "bagging_fraction=0.9",
        "numeric_levels=0",
    ]
    assert drawn.booster_params([])["bagging_freq"] == 1
    assert LightGBMParams(bagging_fraction=1.0).booster_params([])["bagging_freq"] == 0


@pytest.mark.parametrize("feature", ["violations_ever", "violations_3y", "complaints_1y"])
def test_more_past_violations_or_complaints_never_lower_risk(model, population, feature):
    rows = population.sample(200, random_state=1)
    previous = model.predict(rows)["p_any"].to_numpy()
    for extra in (1, 2, 5, 10):
        more = rows.copy()
        more[feature] = rows[feature] + extra
        current = model.predict(more)["p_any"].to_numpy()
        assert (current >= previous - 1e-12).all(), f"+{extra} {feature} lowered a risk"
        previous = current


def test_model_ranks_truly_risky_workplaces_first(model, population, small_world: Path):
    truth = pd.read_csv(small_world / "truth" / f"risk_{SCORE}.csv", dtype={"employer_id": str})
    truth = truth.set_index("employer_id")["p_any"].reindex(population.index)
    p = model.predict(population)["p_any"]
    top = p.sort_values(ascending=False).index[: len(p) // 10]
    lottery = RandomScorer(seed=3).score(population)
    random_top = population.index[np.argsort(-lottery)[: len(p) // 10]]
    assert truth.loc[top].mean() > truth.loc[random_top].mean() + 0.05


def test_probabilities_are_calibrated_on_later_data(small_world_frames, model):
    x, labels = _examples(small_world_frames, [SCORE])
    predicted = model.predict(x)["p_any"].mean()
    observed = labels["label"].mean()
    assert abs(predicted - observed) < 0.08, (predicted, observed)


def test_business_as_usual_puts_complaints_first(population: pd.DataFrame):
    scores = pd.Series(BusinessAsUsualScorer().score(population), index=population.index)
    complained = population["complaints_1y"] > 0
    assert complained.any()
    assert scores[complained].min() > scores[~complained].max()


def test_random_baseline_is_reproducible_and_seeded(population: pd.DataFrame):
    a, b = RandomScorer(1).score(population), RandomScorer(1).score(population)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, RandomScorer(2).score(population))


def test_the_lottery_is_uniform_on_the_unit_interval(population: pd.DataFrame):
    draws = RandomScorer(0).score(population)
    assert ((draws >= 0) & (draws < 1)).all()
    assert abs(draws.mean() - 0.5) < 0.05 and len(np.unique(draws)) == len(draws)


def test_the_logistic_baseline_scores_levels_it_never_saw(small_world_frames, population):
    x, labels = _examples(small_world_frames, TRAIN)
    specs = feature_specs(CATS, attribute_kinds_of(small_world_frames))
    scorer = LogisticScorer(specs).fit(x, labels["label"].to_numpy())
    unseen = population.assign(sector2="zz", size_band=None)
    scores = scorer.score(unseen)
    assert np.isfinite(scores).all()
    assert not np.allclose(scores, scorer.score(population)), "levels change the scores"


def test_the_logistic_design_is_the_same_built_in_blocks(
    small_world_frames, population, monkeypatch
):
    x, _ = _examples(small_world_frames, TRAIN)
    design = LogisticDesign(feature_specs(CATS, attribute_kinds_of(small_world_frames)))
    np.testing.assert_array_equal(design.fit_transform(x), design.transform(x))
    whole = design.transform(population)
    monkeypatch.setattr(baselines, "BLOCK_ROWS", 333)
    np.testing.assert_array_equal(design.transform(population), whole)


def test_every_baseline_scores_every_workplace(small_world_frames, population):
    x, labels = _examples(small_world_frames, TRAIN)
    specs = feature_specs(CATS, attribute_kinds_of(small_world_frames))
    for scorer in baseline_scorers(specs, "any"):
        scores = scorer.fit(x, labels["label"].to_numpy()).score(population)
        assert scores.shape == (len(population),) and np.isfinite(scores).all(), scorer.name


def test_the_float_matrix_scores_exactly_as_lightgbm_s_own_frame_handling(
    model: RiskModel, population: pd.DataFrame
):
    """Scoring builds one matrix for every target; it must be what LightGBM makes of the
    categorical frame, for known, unseen and missing levels alike."""
    features = population.copy()
    categorical = model.encoder.categorical
    assert categorical  # the check would be empty without categorical features
    features.loc[features.index[::7], categorical[0]] = "a level never seen"
    features.loc[features.index[::5], categorical[-1]] = pd.NA
    frame, matrix = model.encoder.transform(features), model.encoder.matrix(features)
    boosted = {t: m for t, m in model.targets.items() if m.booster is not None}
    assert "any" in boosted and len(boosted) >= 3
    for target, fitted in boosted.items():
        np.testing.assert_array_equal(fitted.margin(matrix), fitted.margin(frame), err_msg=target)


def test_features_held_as_columns_score_exactly_as_the_frame(
    model: RiskModel, population: pd.DataFrame
):
    """POST /score hands the model its features as arrays of floats and of text, not as a
    frame: known, unseen and missing levels and missing numbers must score alike."""
    features = population.copy()
    categorical = model.encoder.categorical
    features.loc[features.index[::7], categorical[0]] = "a level never seen"
    features.loc[features.index[::5], categorical[-1]] = pd.NA
    numeric = model.encoder.numeric[0]
    features.loc[features.index[::3], numeric] = np.nan
    columns = {
        spec.name: features[spec.name].to_numpy(np.float64, na_value=np.nan)
        if spec.kind == Kind.NUMERIC
        else pd.array(features[spec.name], dtype="string")
        for spec in model.input_specs
    }
    scored = model.predict_columns(columns, len(features), threads=1)
    expected = model.predict(features, threads=1).reset_index(drop=True)
    pd.testing.assert_frame_equal(scored, expected)
    assert scored["p_any"].nunique() > 10  # not one constant answer


def test_one_thread_scores_exactly_as_the_training_s_threads(
    model: RiskModel, population: pd.DataFrame
):
    """The service predicts on one thread per request; the answer must not change."""
    pd.testing.assert_frame_equal(model.predict(population, threads=1), model.predict(population))
