"""What the service has read from the store, kept in memory for a few seconds.

At national scale a ranked page costs PostgreSQL a few milliseconds, while the round trips
around it (looking up the caller's key, finding the latest snapshot, reading the page again
when another planner asks for the same list) cost several times that. Keys change only when
revoked, and which snapshot is the latest changes with each ``calle score``: those are kept
for a bounded time (``CALLE_KEY_CACHE_SECONDS``, ``CALLE_READ_CACHE_SECONDS``). A ranked page
is kept by its snapshot's id until newer pages push it out (``CALLE_READ_CACHE_PAGES``): a
stored snapshot never changes, and neither does a directory entry once imported (the import
rejects a known id with other content), so a page of a given snapshot is the same forever.

A snapshot's scores are read into memory whole, once per worker (:mod:`service.ranked_snapshot`).
What is never kept: the audit row (every access is written, cached or not), an employer's
history (read fresh), and anything not found (an unknown key or a missing
snapshot is looked up again on the next request), and a page with a score left unexplained
(the model that scored it still loading, or no longer served).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import LRUCache, TTLCache

from calle.settings import Settings
from service.ranked_snapshot import RankedSnapshots

V = TypeVar("V")

#: Keys kept per worker: more than an inspectorate issues; each is a small record.
KEY_ENTRIES = 4096
#: Snapshot lookups kept per worker: the latest and those cursors point at.
SNAPSHOT_ENTRIES = 64


class ReadCache(Generic[V]):
    """A bounded, thread-safe map from a lookup to what the store answered.

    Entries expire after ``seconds``, or with ``expires=False`` live until the least recently
    used go to make room; ``seconds=0`` keeps nothing either way (the switch that turns
    caching off)."""

    def __init__(
        self,
        seconds: float,
        entries: int,
        timer: Callable[[], float] = time.monotonic,
        *,
        expires: bool = True,
    ) -> None:
        self.seconds = seconds
        self._entries: LRUCache[Hashable, V] | None = None
        if seconds > 0:
            self._entries = (
                TTLCache(maxsize=entries, ttl=seconds, timer=timer)
                if expires
                else LRUCache(maxsize=entries)
            )
        self._lock = threading.Lock()

    def get(
        self,
        key: Hashable,
        read: Callable[[], V | None],
        keep: Callable[[V], bool] | None = None,
    ) -> V | None:
        """The kept answer for ``key``, or ``read()``'s, kept unless it is None or ``keep``
        says it is not final.

        ``read`` runs outside the lock: two workers' threads missing the same key at once
        both read it, which costs a query and keeps every other lookup unblocked."""
        if self._entries is None:
            return read()
        with self._lock:
            found = self._entries.get(key)
        if found is not None:
            return found
        value = read()
        if value is not None and (keep is None or keep(value)):
            with self._lock:
                self._entries[key] = value
        return value

    def clear(self) -> None:
        if self._entries is not None:
            with self._lock:
                self._entries.clear()


@dataclass(frozen=True)
class ServiceCaches:
    """The caches of one app: keys by hash, snapshots by lookup, ranked pages by request."""

    keys: ReadCache[Any]
    snapshots: ReadCache[Any]
    pages: ReadCache[Any]
    #: the snapshots' scores, read whole once per worker (they never change)
    ranked: RankedSnapshots

    @classmethod
    def from_settings(
        cls, settings: Settings, timer: Callable[[], float] = time.monotonic
    ) -> ServiceCaches:
        return cls(
            keys=ReadCache(settings.key_cache_seconds, KEY_ENTRIES, timer),
            snapshots=ReadCache(settings.read_cache_seconds, SNAPSHOT_ENTRIES, timer),
            pages=ReadCache(
                settings.read_cache_seconds, settings.read_cache_pages, timer, expires=False
            ),
            ranked=RankedSnapshots(),
        )
