"""Reasons explained on read, written to the store behind the answers, in batches.

A first read of a score explains it (:mod:`service.reasons_on_read`) and keeps the reasons
for the next read. Writing them inside the request cost a statement, a commit and, on
PostgreSQL, a flush of the write-ahead log per first read, on the same two cores that answer
the readers. Here each worker holds the reasons it explained until a background thread
writes them, a few hundred milliseconds later, in one transaction; reads in between find
them here. Reasons are derived data: a batch lost to a crash or a failed write costs only
explaining those scores again on their next read, so the transaction does not wait for the
log to reach the disk (PostgreSQL's ``synchronous_commit`` off, for it alone).
"""

from __future__ import annotations

import logging
import threading
import time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from calle.store import schema

log = logging.getLogger(__name__)

#: (target, employer id)
ScoreKey = tuple[str, str]

#: Reasons held before the writer is woken early rather than at its next interval.
WAKE_AT = 4_000


class ReasonsWriter:
    """One worker's reasons explained on read and not yet stored, and the thread that
    stores them every ``interval_seconds`` (and when stopped)."""

    def __init__(self, engine: sa.Engine, interval_seconds: float = 0.25) -> None:
        self._engine = engine
        self._interval = interval_seconds
        self._pending: dict[str, dict[ScoreKey, str]] = {}  # by snapshot id
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def held(self, snapshot_id: str, wanted: list[ScoreKey]) -> dict[ScoreKey, str]:
        """Those of ``wanted`` explained here and not stored yet."""
        with self._lock:
            pending = self._pending.get(snapshot_id)
            if not pending:
                return {}
            return {key: pending[key] for key in wanted if key in pending}

    def add(self, snapshot_id: str, reasons: dict[ScoreKey, str]) -> None:
        """Hold ``reasons`` until the next write; found by :meth:`held` meanwhile."""
        if not reasons:
            return
        with self._lock:
            pending = self._pending.setdefault(snapshot_id, {})
            pending.update(reasons)
            count = sum(len(held) for held in self._pending.values())
        if count >= WAKE_AT:
            self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="reasons-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is held, then end the thread."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.write_held()

    def write_held(self) -> int:
        """Store every reason held now, one transaction per snapshot, and forget them once
        stored (or once the write failed, e.g. the snapshot was deleted meanwhile: they will
        be explained again). How many it wrote (a score stored already keeps its first)."""
        with self._lock:
            batches = {snapshot_id: dict(held) for snapshot_id, held in self._pending.items()}
        written = 0
        for snapshot_id, held in batches.items():
            started = time.perf_counter()
            try:
                _insert(self._engine, snapshot_id, held)
                written += len(held)
                log.debug(
                    "stored %d reasons of snapshot %s in %.1f ms",
                    len(held),
                    snapshot_id,
                    1000 * (time.perf_counter() - started),
                )
            except sa.exc.SQLAlchemyError as error:
                log.warning(
                    "could not store %d reasons of snapshot %s explained on read (they will "
                    "be explained again on their next read): %s",
                    len(held),
                    snapshot_id,
                    error,
                )
            with self._lock:  # reasons added meanwhile stay for the next write
                pending = self._pending.get(snapshot_id, {})
                for key in held:
                    pending.pop(key, None)
                if not pending:
                    self._pending.pop(snapshot_id, None)
        return written

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self.write_held()
            except Exception:  # the thread must outlive any one write
                log.exception("the reasons writer failed; it goes on")


def _insert(engine: sa.Engine, snapshot_id: str, held: dict[ScoreKey, str]) -> None:
    """One executemany of a statement compiled once (building a multi-row VALUES clause per
    write held the interpreter's lock for milliseconds, stalling the worker's requests), in
    one transaction; a score two workers both explained keeps what the first one stored."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    rows = [
        {"snapshot_id": snapshot_id, "target": target, "employer_id": employer_id, "reasons": text}
        for (target, employer_id), text in held.items()
    ]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
        connection.execute(insert(schema.snapshot_reasons).on_conflict_do_nothing(), rows)
