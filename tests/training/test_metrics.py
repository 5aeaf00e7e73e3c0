import numpy as np
import pytest

from training.metrics import (
    average_precision,
    brier_score,
    calibration_table,
    capacity_k,
    expected_calibration_error,
    id_ranks,
    lift_at_k,
    oracle_efficiency,
    oracle_efficiency_of_orders,
    precision_at_k,
    ranking_order,
    recall_at_k,
    roc_auc,
)

IDS = np.array(["E5", "E1", "E3", "E2", "E4"])
Y = np.array([1, 0, 1, 0, 0])
S = np.array([0.9, 0.5, 0.5, 0.1, 0.7])


def test_ranking_breaks_ties_by_employer_id():
    # 0.9 E5, 0.7 E4, then the 0.5 tie: E1 before E3, then 0.1 E2
    assert list(IDS[ranking_order(S, IDS)]) == ["E5", "E4", "E1", "E3", "E2"]


def test_id_ranks_break_ties_exactly_as_the_ids():
    ids = np.array(["E10", "E9", "E2", "E100", "E1"])
    scores = np.array([0.5, 0.5, 0.5, 0.9, 0.5])
    assert list(ranking_order(scores, id_ranks(ids))) == list(ranking_order(scores, ids))
    assert list(ids[ranking_order(scores, id_ranks(ids))]) == ["E100", "E1", "E10", "E2", "E9"]


def test_precision_recall_and_lift_at_k():
    assert precision_at_k(Y, S, IDS, 1) == 1.0
    assert precision_at_k(Y, S, IDS, 2) == 0.5
    assert precision_at_k(Y, S, IDS, 3) == pytest.approx(1 / 3)  # the tie goes to E1
    assert recall_at_k(Y, S, IDS, 4) == 1.0
    assert recall_at_k(Y, S, IDS, 2) == 0.5
    assert lift_at_k(Y, S, IDS, 1) == pytest.approx(1.0 / 0.4)


def test_capacity_as_share_or_count():
    assert capacity_k(1000, 0.05) == 50
    assert capacity_k(1000, 10) == 10
    assert capacity_k(5, 10) == 5
    assert capacity_k(10, 0.01) == 1
    with pytest.raises(ValueError, match="capacity"):
        capacity_k(10, 0)


def test_threshold_free_metrics():
    assert roc_auc(Y, S) == pytest.approx(4.5 / 6)  # 4 pairs ordered, 1 tied, 1 reversed
    assert np.isnan(roc_auc(np.ones(3), np.arange(3)))
    assert 0 < average_precision(Y, S) <= 1
    assert brier_score(np.array([1, 0]), np.array([1.0, 0.5])) == pytest.approx(0.125)


def test_calibration_of_a_calibrated_forecast_is_close():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200_000)
    y = rng.uniform(0, 1, p.size) < p
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.1
    table = calibration_table(y, p, bins=4)
    assert [round(r["predicted"], 1) for r in table] == [0.1, 0.4, 0.6, 0.9]


def test_oracle_efficiency():
    truth = np.array([0.9, 0.1, 0.5, 0.2, 0.8])
    assert oracle_efficiency(truth, truth, IDS, 2) == 1.0
    # picks E4 (0.8) and E5 (0.9) -> perfect; picks E2 (0.2) and E1 (0.1) -> 0.15/0.85
    assert oracle_efficiency(truth, -truth, IDS, 2) == pytest.approx(0.15 / 0.85)
    orders = ranking_order(-truth, IDS), ranking_order(truth, IDS)
    assert oracle_efficiency_of_orders(truth, *orders, 2) == pytest.approx(0.15 / 0.85)
