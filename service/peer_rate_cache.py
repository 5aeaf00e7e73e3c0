"""The population's peer rates for scoring a few workplaces by id, computed once and kept.

A workplace's peer rates depend on every inspection of its cell, so scoring even one
workplace from the store needs the population's inspections. Reading them per request
would cost seconds at national scale; the rates themselves are a few thousand numbers.
They are kept per (as-of date, categories) for ``max_age_seconds`` and dropped at once when
the service itself accepts an event; events imported by another process show up when the
entry expires. Each peer rate is one smoothed cell average over thousands of inspections, so
a few minutes of staleness moves it by a rounding error, while a workplace's own history is
always read fresh.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date

import sqlalchemy as sa

from features.matrix import population_peer_rates
from features.peer_rates import PeerRateTables
from features.store_frames import PEER_RATE_TABLES, load_frames

log = logging.getLogger(__name__)


class PeerRateCache:
    def __init__(self, max_age_seconds: float) -> None:
        self.max_age_seconds = max_age_seconds
        #: (as-of date, categories), when computed, the tables: the newest request's only
        self._entry: tuple[tuple[date, tuple[str, ...]], float, PeerRateTables] | None = None
        self._lock = threading.Lock()  # one computation at a time; the others wait for it

    def get(self, engine: sa.Engine, as_of: date, categories: list[str]) -> PeerRateTables:
        key = (as_of, tuple(categories))
        with self._lock:
            if self._entry is not None:
                found, computed, tables = self._entry
                if found == key and time.monotonic() - computed < self.max_age_seconds:
                    return tables
            started = time.monotonic()
            tables = population_peer_rates(load_frames(engine, PEER_RATE_TABLES), as_of, categories)
            log.info(
                "peer rates as of %s computed from the store in %.1f s",
                as_of,
                time.monotonic() - started,
            )
            self._entry = (key, time.monotonic(), tables)
            return tables

    def clear(self) -> None:
        with self._lock:
            self._entry = None
