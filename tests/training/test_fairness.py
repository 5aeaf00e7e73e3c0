"""The fairness audit's counts, rates and disparities, on rankings small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.fairness import MIN_RANDOM_LABELLED, fairness_table, fold_group_counts, out_of_band


def _population(groups: list[str]) -> pd.DataFrame:
    ids = [f"E{i:03d}" for i in range(len(groups))]
    return pd.DataFrame({"state": groups}, index=pd.Index(ids, name="employer_id"))


def test_counts_and_rates_by_group_on_all_inspections():
    # 6 workplaces in A (the reference: largest), 4 in B; the top 4 by score are selected
    population = _population(["A"] * 6 + ["B"] * 4)
    scores = np.array([0.9, 0.8, 0.1, 0.1, 0.1, 0.1, 0.7, 0.6, 0.1, 0.1])
    # labelled: A: E000 (1, selected), E001 (0, selected), E002 (1, not selected)
    #           B: E006 (1, selected), E007 (1, selected), E008 (1, not selected)
    labels = pd.Series(
        [1.0, 0.0, 1.0, 1.0, 1.0, 1.0], index=["E000", "E001", "E002", "E006", "E007", "E008"]
    )
    lottery = pd.Series(False, index=labels.index)
    counts = fold_group_counts(population, scores, labels, lottery, 4, ["state"])
    table = fairness_table([counts]).set_index("group")
    assert list(table["reference"].unique()) == ["A"]
    assert (table["basis"] == "all").all()  # no lottery inspections at all
    a, b = table.loc["A"], table.loc["B"]
    assert a["selection_rate"] == pytest.approx(2 / 6)
    assert b["selection_rate"] == pytest.approx(2 / 4)
    assert a["precision"] == pytest.approx(1 / 2) and b["precision"] == pytest.approx(1.0)
    assert a["false_negative_rate"] == pytest.approx(1 / 2)  # E002 missed of E000, E002
    assert b["false_negative_rate"] == pytest.approx(1 / 3)
    assert b["selection_rate_disparity"] == pytest.approx((2 / 4) / (2 / 6))
    assert b["false_discovery_rate_disparity"] == 0.0  # no false discovery in B, half in A
    assert b["false_negative_rate_disparity"] == pytest.approx((1 / 3) / (1 / 2))
    assert a["false_negative_rate_disparity"] == pytest.approx(1.0)


def test_rates_come_from_lottery_inspections_where_there_are_enough():
    n = 2 * (MIN_RANDOM_LABELLED + 10)
    population = _population(["A"] * (n // 2) + ["B"] * (n // 2))
    scores = np.linspace(1, 0, n)
    ids = population.index
    labels = pd.Series(1.0, index=ids)
    # the planned inspections (not lottery) all found violations in A's top; the lottery
    # ones are 0 in half of the cases
    lottery = pd.Series(np.arange(n) % 2 == 0, index=ids)
    labels[lottery & (np.arange(n) % 4 == 0)] = 0.0
    counts = fold_group_counts(population, scores, labels, lottery, n // 2, ["state"])
    table = fairness_table([counts, counts]).set_index("group")  # two identical folds pool
    assert (table["basis"] == "random").all()
    assert table.loc["A", "labelled"] == 2 * (n // 4)  # lottery ones only, both folds
    assert table.loc["A", "precision"] == pytest.approx(0.5)


def test_missing_values_form_their_own_group_and_every_workplace_counts_once():
    population = _population(["A", None, "B", None])
    labels = pd.Series([1.0], index=["E000"])
    counts = fold_group_counts(
        population,
        np.array([1, 2, 3, 4.0]),
        labels,
        pd.Series(False, index=labels.index),
        2,
        ["state"],
    )
    table = fairness_table([counts])
    assert set(table["group"]) == {"A", "B", "(missing)"}
    assert table["workplaces"].sum() == 4 and table["selected"].sum() == 2


def test_out_of_band_skips_the_reference_and_small_groups():
    table = pd.DataFrame(
        {
            "attribute": ["state"] * 4,
            "group": ["A", "B", "C", "D"],
            "reference": ["A"] * 4,
            "labelled_selected": [500, 200, 200, 20],
            "labelled_positive": [400, 150, 150, 300],
            "false_negative_rate_disparity": [1.0, 1.4, 0.9, 3.0],  # D: 300 positives
            "false_discovery_rate_disparity": [1.0, 1.0, 0.5, 3.0],
        }
    )
    outside = out_of_band(
        table, ["false_discovery_rate", "false_negative_rate"], (0.8, 1.25), min_labelled=100
    )
    assert sorted(zip(outside["group"], outside["metric"], strict=True)) == [
        ("B", "false_negative_rate"),
        ("C", "false_discovery_rate"),
        ("D", "false_negative_rate"),  # its FDR rests on 20 selected: not judged
    ]
    small_reference = table.assign(labelled_positive=[40, 150, 150, 300])
    assert out_of_band(small_reference, ["false_negative_rate"], (0.8, 1.25), 100).empty
