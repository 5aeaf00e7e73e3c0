"""Each worker reads the latest snapshot into memory before a planner asks for it.

A worker reads a snapshot on the first ranking or risk request that needs it: about a
second at a million workplaces and five at five million, inside that request. With one
worker per core and clients that keep their connections, the first request each worker
receives after a restart or a new `calle score` paid it (measured: a p99 of 2.3 s over
20 s of rankings at one client, against 3.4 ms at p50). The warmer reads it in the
background at start and whenever a newer snapshot appears, so requests find it held.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from service.ranked_snapshot import RankedSnapshots
from service.snapshots import SERVED_MODEL, latest_snapshot

log = logging.getLogger(__name__)


class SnapshotWarmer:
    """Looks for the served model's latest snapshot every ``poll_seconds`` (0: only at
    start) and reads it into ``ranked`` if it is not held yet."""

    def __init__(
        self,
        engine: sa.Engine,
        ranked: RankedSnapshots,
        poll_seconds: float,
        model_name: str = SERVED_MODEL,
    ) -> None:
        self.engine = engine
        self.ranked = ranked
        self.poll_seconds = poll_seconds
        self.model_name = model_name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def warm(self) -> str | None:
        """Read the latest snapshot if it is not held; its id, or None if there is none."""
        with self.engine.connect() as connection:
            latest = latest_snapshot(connection, self.model_name)
        if latest is None:
            return None
        if not self.ranked.holds(latest.snapshot_id):
            self.ranked.get(self.engine, latest.snapshot_id, latest.targets)
        return latest.snapshot_id

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="calle-snapshot-warmer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.warm()
            except Exception:  # a store that is down now may be up at the next look
                log.warning("could not read the latest snapshot ahead of requests", exc_info=True)
            if self.poll_seconds <= 0 or self._stop.wait(self.poll_seconds):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)  # a read in progress finishes; none outlives the app
