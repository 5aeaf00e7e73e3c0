"""WorldConfig: parsing the command line's values and the world's calendar."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from features.world import WorldConfig
from features.world.config import months_of, truth_dates


def test_from_cli_defaults_to_the_end_of_2025() -> None:
    config = WorldConfig.from_cli(employers=100, years=3, seed=1, messy=0.0, end=None)
    assert config.end == dt.date(2025, 12, 31)
    assert config.start == dt.date(2023, 1, 1)


def test_from_cli_parses_an_iso_end() -> None:
    config = WorldConfig.from_cli(employers=100, years=2, seed=1, messy=0.0, end="2024-06-30")
    assert config.end == dt.date(2024, 6, 30)
    assert config.start == dt.date(2022, 7, 1)


@pytest.mark.parametrize("end", ["31/12/2025", "2025-02-30", "yesterday", ""])
def test_from_cli_rejects_a_bad_end_with_a_clear_message(end: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        WorldConfig.from_cli(employers=100, years=2, seed=1, messy=0.0, end=end)


@pytest.mark.parametrize(
    ("field", "value"), [("employers", 0), ("years", 0), ("messy", 0.9), ("seed", -1)]
)
def test_out_of_range_values_are_refused(field: str, value: float) -> None:
    values = {"employers": 100, "years": 2, "seed": 1, "messy": 0.0, "end": None} | {field: value}
    with pytest.raises(ValueError, match=field):
        WorldConfig.from_cli(**values)


def test_months_cover_the_span_exactly_once() -> None:
    config = WorldConfig.from_cli(employers=100, years=2, seed=1, messy=0.0, end="2024-06-15")
    months = months_of(config)
    assert months[0].first_day == (config.start - dt.date(1970, 1, 1)).days
    assert months[-1].last_day == (config.end - dt.date(1970, 1, 1)).days
    for before, after in itertools.pairwise(months):
        assert after.first_day == before.last_day + 1


def test_truth_dates_are_each_first_of_january_and_the_last_day() -> None:
    config = WorldConfig.from_cli(employers=100, years=3, seed=1, messy=0.0, end="2025-06-30")
    assert truth_dates(config) == [
        dt.date(2023, 1, 1),
        dt.date(2024, 1, 1),
        dt.date(2025, 1, 1),
        dt.date(2025, 6, 30),
    ]


def test_from_cli_refuses_an_end_after_today() -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with pytest.raises(ValueError, match="after today"):
        WorldConfig.from_cli(employers=100, years=2, seed=1, messy=0.0, end=tomorrow.isoformat())
