"""Fold evaluation on the small world: model, baselines and oracle on the same fold."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calle.settings import MEXICO_CATEGORIES
from models.explanations import top_reasons
from models.risk_model import LightGBMParams
from training.config import InspectorSection, SelectionSection
from training.evaluation import _target_metrics, evaluate_fold, fit_fold_model, summarise
from training.examples import ExampleBuilder
from training.temporal_split import Fold
from training.truth import TruthFiles

CATS = list(MEXICO_CATEGORIES)
FOLD = Fold((date(2022, 1, 1), date(2023, 1, 1), date(2024, 1, 1)), date(2025, 1, 1), 365)
CAPACITIES = (0.05, 0.1, 100)


@pytest.fixture(scope="module")
def result(small_world_frames, small_world: Path):
    builder = ExampleBuilder(small_world_frames, CATS, 365)
    return evaluate_fold(
        builder,
        FOLD,
        LightGBMParams(min_child_samples=20),
        CAPACITIES,
        TruthFiles(small_world / "truth"),
    )


def _value(result, scorer: str, target: str, metric: str) -> float:
    m = result.metrics
    row = m[(m.scorer == scorer) & (m.target == target) & (m.metric == metric)]
    assert len(row) == 1, (scorer, target, metric)
    return float(row.value.iloc[0])


def test_every_scorer_is_measured_for_every_target(result):
    scorers = set(result.metrics.scorer)
    assert {"model", "random", "business_as_usual", "cell_rate", "logistic", "oracle"} <= scorers
    assert set(result.metrics.target) == {"any", *CATS}
    for metric in (
        "precision_at_5pct",
        "recall_at_10pct",
        "lift_at_k100",
        "roc_auc",
        "oracle_efficiency_at_5pct",
    ):
        assert metric in set(result.metrics.metric)


def test_oracle_is_its_own_yardstick_and_the_model_beats_the_lottery(result):
    assert _value(result, "oracle", "any", "oracle_efficiency_at_10pct") == pytest.approx(1.0)
    model = _value(result, "model", "any", "oracle_efficiency_at_10pct")
    lottery = _value(result, "random", "any", "oracle_efficiency_at_10pct")
    assert model > lottery + 0.1
    assert 0 < model <= 1


def test_counts_are_consistent(result):
    labelled = _value(result, "model", "any", "labelled")
    assert 0 < _value(result, "model", "any", "labelled_in_top_10pct") <= labelled
    assert _value(result, "model", "any", "recall_at_10pct") <= 1


def test_brier_only_for_probabilities(result):
    assert 0 < _value(result, "model", "any", "brier") < 0.3
    brier = result.metrics[result.metrics.metric == "brier"]
    assert set(brier.scorer) == {"model", "logistic"}


def test_curves_and_summary(result):
    curve = result.curves[("model", "any")]
    oracle = result.curves[("oracle", "any")]
    assert len(curve) == len(oracle) and (oracle >= curve - 1e-12).all()
    summary = summarise([result])
    assert summary.loc[("model", "any"), "precision_at_5pct"] == _value(
        result, "model", "any", "precision_at_5pct"
    )


def test_a_fold_needs_an_out_of_time_validation_date(small_world_frames):
    builder = ExampleBuilder(small_world_frames, CATS, 365)
    with pytest.raises(ValueError, match="two training as-of dates"):
        fit_fold_model(builder, (date(2024, 1, 1),), LightGBMParams())


def test_precision_is_also_estimated_from_lottery_inspections_alone():
    ids = np.array([f"E{i}" for i in range(10)])
    scores = np.linspace(1.0, 0.1, 10)  # E0 riskiest
    # labelled: E0..E3 in the top 4 (k = 40% of 10), E8 and E9 below
    labelled = pd.Series([1.0, 0.0, 1.0, 1.0, 0.0, 1.0], index=["E0", "E1", "E2", "E3", "E8", "E9"])
    lottery = np.array([False, True, True, False, True, False])
    metrics = _target_metrics(scores, ids, labelled, (0.4,), None, False, lottery)
    assert metrics["precision_at_40pct"] == pytest.approx(3 / 4)  # every labelled top-4
    assert metrics["random_precision_at_40pct"] == pytest.approx(1 / 2)  # E1 and E2 only
    assert metrics["random_labelled_in_top_40pct"] == 2
    nobody = _target_metrics(scores, ids, labelled, (0.4,), None, False, np.zeros(6, bool))
    assert np.isnan(nobody["random_precision_at_40pct"])


def test_a_fold_reports_the_lottery_estimate_beside_the_naive_one(result):
    in_top = _value(result, "model", "any", "labelled_in_top_10pct")
    random_in_top = _value(result, "model", "any", "random_labelled_in_top_10pct")
    assert 0 < random_in_top < in_top
    assert 0 <= _value(result, "model", "any", "random_precision_at_10pct") <= 1


def test_precision_is_also_estimated_by_inverse_propensity_weights():
    ids = np.array([f"E{i}" for i in range(10)])
    scores = np.linspace(1.0, 0.1, 10)
    labelled = pd.Series([1.0, 0.0, 1.0, 0.0], index=["E0", "E1", "E2", "E9"])
    # E0 was near-certain to be inspected (weight 1), E1 a long shot (weight 10)
    propensity = np.array([1.0, 0.1, 0.5, 0.2])
    metrics = _target_metrics(scores, ids, labelled, (0.3,), None, False, None, propensity)
    assert metrics["precision_at_30pct"] == pytest.approx(2 / 3)
    assert metrics["weighted_precision_at_30pct"] == pytest.approx((1 + 2) / (1 + 10 + 2))
    assert "weighted_precision_at_30pct" not in _target_metrics(
        scores, ids, labelled, (0.3,), None, False
    )


@pytest.fixture(scope="module")
def weighted_result(small_world_frames, small_world: Path):
    builder = ExampleBuilder(small_world_frames, CATS, 365, propensity=True)
    selection = SelectionSection(weighting="inverse_propensity", compare_weighting=True)
    return builder, evaluate_fold(
        builder,
        FOLD,
        LightGBMParams(min_child_samples=20),
        CAPACITIES,
        TruthFiles(small_world / "truth"),
        selection=selection,
    )


def test_weighted_training_is_compared_with_unweighted_on_the_same_fold(weighted_result):
    builder, result = weighted_result
    for scorer in ("model", "model_unweighted"):
        assert 0 < _value(result, scorer, "any", "oracle_efficiency_at_10pct") <= 1
        assert 0 <= _value(result, scorer, "any", "weighted_precision_at_10pct") <= 1
    # the two differ: the weights reached the booster
    shipped = result.metrics[(result.metrics.scorer == "model")].value.to_numpy()
    other = result.metrics[(result.metrics.scorer == "model_unweighted")].value.to_numpy()
    assert not np.allclose(shipped, other, equal_nan=True)
    # every labelled example of every date carries a modelled chance of inspection
    for as_of in (*FOLD.train_as_of, FOLD.test_as_of):
        _, labels = builder.examples(as_of)
        p = labels["inspection_propensity"]
        assert p.notna().all() and ((p > 0) & (p < 1)).all()


def test_propensity_is_higher_where_the_inspectorate_looks_more(weighted_result):
    """Planned inspections favour past violators: the model must see it."""
    builder, _ = weighted_result
    features, labels = builder.examples(FOLD.test_as_of)
    past = features.filter(like="violations").sum(axis=1) > 0
    p = labels["inspection_propensity"]
    assert p[past].mean() > p[~past].mean()


def test_weighted_training_needs_modelled_propensity(small_world_frames):
    builder = ExampleBuilder(small_world_frames, CATS, 365)
    with pytest.raises(ValueError, match="propensity"):
        fit_fold_model(builder, FOLD.train_as_of, LightGBMParams(), max_weight=20.0)


def test_propensity_only_where_asked_is_the_same_there_and_absent_elsewhere(
    small_world_frames, weighted_result
):
    """Unweighted training needs the chance of inspection only on test dates; the fit there is
    the one every-date modelling makes, and weighted training refuses the gaps."""
    everywhere, _ = weighted_result
    builder = ExampleBuilder(
        small_world_frames, CATS, 365, propensity=True, propensity_dates=[FOLD.test_as_of]
    )
    _, tested = builder.examples(FOLD.test_as_of)
    _, reference = everywhere.examples(FOLD.test_as_of)
    pd.testing.assert_series_equal(
        tested["inspection_propensity"], reference["inspection_propensity"]
    )
    for as_of in FOLD.train_as_of:
        assert "inspection_propensity" not in builder.examples(as_of)[1]
    with pytest.raises(ValueError, match="every training date"):
        fit_fold_model(
            builder, (*FOLD.train_as_of, FOLD.test_as_of), LightGBMParams(), max_weight=20.0
        )


@pytest.fixture(scope="module")
def adjusted(small_world_frames, small_world: Path):
    builder = ExampleBuilder(small_world_frames, CATS, 365, inspector_prior=30)
    result = evaluate_fold(
        builder,
        FOLD,
        LightGBMParams(min_child_samples=20),
        CAPACITIES,
        TruthFiles(small_world / "truth"),
        inspectors=InspectorSection(adjust=True, compare_adjustment=True),
    )
    return builder, result


def test_inspector_adjustment_is_compared_on_the_same_fold(adjusted):
    builder, result = adjusted
    for scorer in ("model", "model_unadjusted"):
        assert 0 < _value(result, scorer, "any", "oracle_efficiency_at_10pct") <= 1
    assert result.model.neutral == {"inspector_strictness": 1.0}
    features, _ = builder.examples(FOLD.test_as_of)
    assert features["inspector_strictness"].std() > 0  # inspectors do differ in the world


def test_the_adjusted_model_never_ranks_by_the_inspector(adjusted):
    """Whatever strictness a caller passes, the prediction is the neutral one."""
    builder, result = adjusted
    features, _ = builder.examples(FOLD.test_as_of)
    model = result.model
    plain = model.predict(features.drop(columns="inspector_strictness"))
    strict = model.predict(features.assign(inspector_strictness=1.6))
    lenient = model.predict(features.assign(inspector_strictness=0.4))
    pd.testing.assert_frame_equal(plain, strict)
    pd.testing.assert_frame_equal(plain, lenient)
    # features held as columns (POST /score's way) are neutralised alike
    given = {s.name: features[s.name] for s in model.input_specs}
    pd.testing.assert_frame_equal(
        model.predict_columns(given, len(features)), plain.reset_index(drop=True)
    )
    reasons = top_reasons(model, features.head(200))
    assert all(r.feature != "inspector_strictness" for row in reasons for r in row)
    # the booster did learn from it: with the column free, a stricter inspector finds more
    booster = model.targets["any"].booster
    assert booster.feature_importance("split")[model.encoder.columns.index("inspector_strictness")]
