import itertools
from datetime import date, timedelta

import pytest

from training.temporal_split import TemporalConfig, temporal_folds

CONFIG = TemporalConfig(first_as_of=date(2018, 1, 1), last_day=date(2025, 12, 31))


def test_default_folds_are_yearly_and_end_at_the_data():
    folds = temporal_folds(CONFIG)
    assert [f.test_as_of for f in folds] == [date(2023, 1, 1), date(2024, 1, 1), date(2025, 1, 1)]
    assert folds[-1].test_label_end == date(2026, 1, 1)  # the day after last_day
    assert folds[0].train_as_of == tuple(date(y, 1, 1) for y in range(2018, 2023))


@pytest.mark.parametrize("horizon", [90, 180, 365, 500])
@pytest.mark.parametrize("history", [None, "3y"])
@pytest.mark.parametrize("train_every", ["3m", "1y"])
def test_training_labels_end_before_the_test_date(horizon, history, train_every):
    config = TemporalConfig(
        first_as_of=date(2017, 3, 1),
        last_day=date(2025, 12, 31),
        horizon_days=horizon,
        train_every=train_every,
        max_training_history=history,
        folds=None,
    )
    folds = temporal_folds(config)
    assert folds, "a 9-year span must give folds"
    for fold in folds:
        assert len(fold.train_as_of) >= 2, "training dates and an out-of-time validation date"
        for t in fold.train_as_of:
            assert t + timedelta(days=horizon) <= fold.test_as_of
            assert t >= config.first_as_of
            if history is not None:
                assert fold.test_as_of - t <= timedelta(days=3 * 366)
        assert fold.test_label_end <= config.last_day + timedelta(days=1)
        assert list(fold.train_as_of) == sorted(set(fold.train_as_of))
    tests = [f.test_as_of for f in folds]
    assert tests == sorted(tests)
    assert all((b.month, b.day) == (a.month, a.day) for a, b in itertools.pairwise(tests))
    assert all(b.year - a.year == 1 for a, b in itertools.pairwise(tests))


def test_fold_count_keeps_the_latest():
    config = TemporalConfig(first_as_of=date(2018, 1, 1), last_day=date(2025, 12, 31), folds=1)
    assert [f.test_as_of for f in temporal_folds(config)] == [date(2025, 1, 1)]


def test_too_short_a_span_gives_no_fold():
    config = TemporalConfig(first_as_of=date(2025, 1, 1), last_day=date(2025, 12, 31))
    assert temporal_folds(config) == []


@pytest.mark.parametrize(
    "field, value",
    [("horizon_days", 0), ("update_every", "yearly"), ("train_every", "0d"), ("folds", 0)],
)
def test_invalid_configuration_names_the_field(field, value):
    kwargs = {"first_as_of": date(2018, 1, 1), "last_day": date(2025, 12, 31), field: value}
    with pytest.raises(ValueError, match=field):
        TemporalConfig(**kwargs)
