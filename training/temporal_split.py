"""Rolling-origin temporal folds, in the manner of DSaPP triage's timechop.

A fold tests the model at one as-of date ``T``: examples are workplaces inspected in
``[T, T + horizon_days)``. Its training examples come from earlier as-of dates ``t``
whose whole label window ends on or before ``T`` (``t + horizon_days <= T``), so nothing
the model learns from happened on or after the day it is tested on.

Spacings are calendar intervals (``"1y"``, ``"6m"``, ``"90d"``, ``"2w"``) so that yearly
folds stay on the same calendar day across leap years.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

_INTERVAL = re.compile(r"^\s*(\d+)\s*([ymwd])\s*$")
_UNITS = {"y": "years", "m": "months", "w": "weeks", "d": "days"}


def parse_interval(text: str) -> relativedelta:
    """``"1y"`` → one calendar year; units y (years), m (months), w (weeks), d (days)."""
    match = _INTERVAL.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not an interval like '1y', '6m', '90d' or '2w'")
    return relativedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass(frozen=True)
class TemporalConfig:
    #: Earliest as-of date usable for training (enough history before it to build features).
    first_as_of: date
    #: Last day with data; a test label window must end on or before it.
    last_day: date
    horizon_days: int = 365
    #: Between successive test as-of dates (how often the model would be retrained).
    update_every: str = "1y"
    #: Between the as-of dates that make up one fold's training set.
    train_every: str = "1y"
    #: How far back a fold's training as-of dates reach; None: back to ``first_as_of``.
    max_training_history: str | None = None
    #: How many folds, the latest ones; None: every fold that fits.
    folds: int | None = 3
    #: A fold keeps only if it has this many training dates: the model trains on all but
    #: the latest and stops early and calibrates on the latest (out of time).
    min_training_dates: int = 2

    def __post_init__(self) -> None:
        if self.horizon_days <= 0:
            raise ValueError("horizon_days must be a positive number of days")
        for name in ("update_every", "train_every", "max_training_history"):
            value = getattr(self, name)
            if value is not None:
                try:
                    parse_interval(value)
                except ValueError as error:
                    raise ValueError(f"{name}: {error}") from None
        if self.first_as_of >= self.last_day:
            raise ValueError("first_as_of must be before last_day")
        if self.folds is not None and self.folds < 1:
            raise ValueError("folds must be at least 1")


@dataclass(frozen=True)
class Fold:
    train_as_of: tuple[date, ...]
    test_as_of: date
    horizon_days: int

    @property
    def test_label_end(self) -> date:
        """First day after the test label window."""
        return self.test_as_of + timedelta(days=self.horizon_days)


def temporal_folds(config: TemporalConfig) -> list[Fold]:
    """Folds from oldest to newest; the newest test window ends on the data's last day."""
    horizon = timedelta(days=config.horizon_days)
    step = parse_interval(config.update_every)
    train_step = parse_interval(config.train_every)
    latest_test = config.last_day + timedelta(days=1) - horizon
    tests: list[date] = []
    k = 0
    while (t := latest_test - k * step) - horizon >= config.first_as_of:
        tests.append(t)
        k += 1
    tests.reverse()
    folds = []
    for test_as_of in tests:
        earliest = config.first_as_of
        if config.max_training_history is not None:
            earliest = max(earliest, test_as_of - parse_interval(config.max_training_history))
        train: list[date] = []
        k = 1
        while (a := test_as_of - k * train_step) >= earliest:
            if a + horizon <= test_as_of:
                train.append(a)
            k += 1
        if len(train) >= config.min_training_dates:
            folds.append(Fold(tuple(sorted(train)), test_as_of, config.horizon_days))
    return folds if config.folds is None else folds[-config.folds :]
