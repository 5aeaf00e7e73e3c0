import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec, Kind
from models.feature_encoding import FeatureEncoder, quantile_cuts

SPECS = [
    FeatureSpec("state", "", "a", Kind.CATEGORICAL),
    FeatureSpec("violations_ever", "", "h", monotone=1),
]


def test_levels_are_frozen_at_training_and_unseen_levels_become_missing():
    train = pd.DataFrame({"state": ["09", "14", "14"], "violations_ever": [0, 1, 2]})
    encoder = FeatureEncoder.fit(train, SPECS)
    later = encoder.transform(
        pd.DataFrame({"state": ["14", "33", None], "violations_ever": [1, 2, 3]})
    )
    assert list(later["state"].cat.categories) == ["09", "14"]
    assert later["state"].iloc[0] == "14"
    assert later["state"].isna().tolist() == [False, True, True]
    assert later.columns.tolist() == ["violations_ever", "state"]
    assert encoder.monotone_vector() == [1, 0]
    assert later["violations_ever"].dtype == np.float64


def test_quantile_cuts_make_levels_of_about_equal_counts_from_values_seen():
    values = np.arange(1000, dtype=np.float64)
    cuts = quantile_cuts(values, 4)
    assert cuts.tolist() == [249.0, 499.0, 749.0]
    levels = np.searchsorted(cuts, values, side="left")
    assert np.bincount(levels).tolist() == [250, 250, 250, 250]


def test_quantile_cuts_keep_each_value_whole_and_join_rare_ones_to_a_neighbour():
    # 0 holds most rows; 5 and 6 are rare: they may not make a level of their own
    values = np.array([0.0] * 700 + [1.0] * 150 + [2.0] * 140 + [5.0] * 6 + [6.0] * 4 + [np.nan])
    cuts = quantile_cuts(values, 255, min_rows=100)
    assert cuts.tolist() == [0.0, 1.0]
    levels = np.searchsorted(cuts, values[:-1], side="left")
    assert np.bincount(levels).tolist() == [700, 150, 150]
    # with no floor on rows, few distinct values are each their own level
    assert quantile_cuts(values, 255).tolist() == [0.0, 1.0, 2.0, 5.0]


def test_quantile_cuts_of_a_constant_or_missing_feature_make_one_level():
    assert quantile_cuts(np.full(500, 3.0), 255, 100).size == 0
    assert quantile_cuts(np.full(10, np.nan), 255, 100).size == 0


def test_numeric_levels_keep_order_and_missing_and_read_alike_from_frames_and_columns():
    rng = np.random.default_rng(0)
    train = pd.DataFrame(
        {"state": ["09", "14"] * 500, "violations_ever": rng.exponential(3.0, 1000).round(1)}
    )
    train.loc[::50, "violations_ever"] = np.nan
    encoder = FeatureEncoder.fit(train, SPECS, numeric_levels=16, min_level_rows=20)
    later = pd.DataFrame({"state": ["09"] * 5, "violations_ever": [-1.0, 0.0, 2.5, 1e6, np.nan]})
    levels = encoder.transform(later)["violations_ever"].to_numpy()
    assert levels[0] == 0 and levels[3] == len(encoder.cuts["violations_ever"])  # beyond: ends
    assert np.all(np.diff(levels[:4]) >= 0) and np.isnan(levels[4])
    trained = encoder.transform(train)["violations_ever"]
    assert trained.nunique() <= 16 and trained.value_counts().min() >= 20
    # more never means a lower level: monotone constraints keep their meaning
    ordered = train["violations_ever"].dropna().sort_values()
    assert trained[ordered.index].is_monotonic_increasing
    matrix = encoder.columns_matrix({name: later[name] for name in encoder.columns}, len(later))
    np.testing.assert_array_equal(matrix[:, 0], levels)


def test_rare_categories_become_missing_when_levels_need_rows():
    train = pd.DataFrame({"state": ["09"] * 30 + ["14"] * 5, "violations_ever": [1.0] * 35})
    assert FeatureEncoder.fit(train, SPECS, min_level_rows=10).levels["state"] == ["09"]
    assert FeatureEncoder.fit(train, SPECS).levels["state"] == ["09", "14"]
    # the most frequent level stays, however rare: a feature with values keeps one
    assert FeatureEncoder.fit(train, SPECS, min_level_rows=100).levels["state"] == ["09"]


def test_a_category_with_no_value_in_training_is_read_as_a_missing_number():
    train = pd.DataFrame({"state": [None] * 3, "violations_ever": [1.0, 2.0, 3.0]})
    encoder = FeatureEncoder.fit(train, SPECS)
    assert encoder.levels["state"] == []
    later = pd.DataFrame({"state": ["09", None], "violations_ever": [1.0, 2.0]})
    encoded = encoder.transform(later)
    assert encoded["state"].dtype == np.float64 and encoded["state"].isna().all()
    matrix = encoder.columns_matrix({name: later[name] for name in encoder.columns}, 2)
    assert np.isnan(matrix[:, 1]).all()


def test_without_levels_values_pass_unchanged_as_in_encoders_pickled_before_levels():
    train = pd.DataFrame({"state": ["09", "14"], "violations_ever": [0.25, 7.5]})
    encoder = FeatureEncoder.fit(train, SPECS)
    assert encoder.cuts == {}
    assert encoder.transform(train)["violations_ever"].tolist() == [0.25, 7.5]
    del encoder.cuts  # as unpickled from a model trained before levels existed
    assert encoder.transform(train)["violations_ever"].tolist() == [0.25, 7.5]
