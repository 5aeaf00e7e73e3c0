"""What a world is made of: its size, span, seed and messiness, and its calendar.

The calendar (span and months) lives here because every other module needs the same
answer to "which days belong to the world".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import numpy as np

DEFAULT_END = dt.date(2025, 12, 31)
EPOCH = dt.date(1970, 1, 1)
#: A missing day (days before 1970 are negative, so -1 cannot mean missing).
MISSING_DAY = np.iinfo(np.int32).min


def to_day(day: dt.date) -> int:
    """Days since 1970-01-01: the integer form (Arrow date32) used for all event dates."""
    return (day - EPOCH).days


def from_day(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


@dataclass(frozen=True)
class WorldConfig:
    """Everything that determines a world: same config, same files, byte for byte."""

    employers: int
    years: int
    seed: int
    messy: float = 0.0
    end: dt.date = DEFAULT_END

    def __post_init__(self) -> None:
        if self.employers < 1:
            raise ValueError(f"employers must be at least 1, got {self.employers}")
        if not 1 <= self.years <= 100:
            raise ValueError(f"years must be between 1 and 100, got {self.years}")
        if not 0.0 <= self.messy <= 0.5:
            raise ValueError(f"messy is a share of rows to damage in [0, 0.5], got {self.messy}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")

    @classmethod
    def from_cli(
        cls, employers: int, years: int, seed: int, messy: float, end: str | None
    ) -> WorldConfig:
        """Build a config from command-line values; ``end`` is ``YYYY-MM-DD`` or None."""
        if end is None:
            end_date = DEFAULT_END
        else:
            try:
                end_date = dt.date.fromisoformat(end)
            except ValueError:
                raise ValueError(
                    f"end must be a date written YYYY-MM-DD, e.g. 2025-12-31; got {end!r}"
                ) from None
            if end_date > dt.date.today():
                raise ValueError(
                    f"end {end} is after today: the import would reject every event dated "
                    "in the future; choose today or an earlier day"
                )
        return cls(employers=employers, years=years, seed=seed, messy=messy, end=end_date)

    @property
    def start(self) -> dt.date:
        """The world's first day: ``years`` whole years before ``end``, the day after."""
        try:
            year_before = self.end.replace(year=self.end.year - self.years)
        except ValueError:  # 29 February ending a span that starts in a common year
            year_before = self.end.replace(year=self.end.year - self.years, day=28)
        return year_before + dt.timedelta(days=1)

    def to_dict(self) -> dict[str, object]:
        values = asdict(self)
        values["end"] = self.end.isoformat()
        values["start"] = self.start.isoformat()
        return values


@dataclass(frozen=True)
class Month:
    """One step of the simulation: the days of a calendar month that lie inside the world."""

    index: int
    first_day: int  # inclusive, days since epoch
    last_day: int  # inclusive
    year: int
    month: int

    @property
    def starts_year(self) -> bool:
        return self.month == 1 and from_day(self.first_day).day == 1


def months_of(config: WorldConfig) -> list[Month]:
    """The calendar months of the world, the first and last possibly partial."""
    months: list[Month] = []
    year, month = config.start.year, config.start.month
    while (year, month) <= (config.end.year, config.end.month):
        first = max(dt.date(year, month, 1), config.start)
        next_first = dt.date(year + month // 12, month % 12 + 1, 1)
        last = min(next_first - dt.timedelta(days=1), config.end)
        months.append(Month(len(months), to_day(first), to_day(last), year, month))
        year, month = next_first.year, next_first.month
    return months


def truth_dates(config: WorldConfig) -> list[dt.date]:
    """Every 1 January inside the world's span, then its last day."""
    dates = [
        dt.date(year, 1, 1)
        for year in range(config.start.year, config.end.year + 1)
        if config.start <= dt.date(year, 1, 1) <= config.end
    ]
    if config.end not in dates:
        dates.append(config.end)
    return dates


def uniform_days(rng: np.random.Generator, low: np.ndarray, high: int | np.ndarray) -> np.ndarray:
    """A day drawn uniformly in ``[low, high]`` for each row (inclusive bounds)."""
    span = np.asarray(high, dtype=np.int64) - low + 1
    return (low + np.floor(rng.random(len(low)) * span)).astype(np.int32)
