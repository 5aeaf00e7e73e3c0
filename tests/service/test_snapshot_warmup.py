"""Each worker reads the latest snapshot into memory without waiting for a request: at start,
and again when `calle score` writes a newer one."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from calle.settings import Settings
from service.app import create_app
from service.ranked_snapshot import RankedSnapshots
from service.snapshot_warmup import SnapshotWarmer
from tests.service.conftest import StoredSnapshot, store_snapshot


def held_within(ranked: RankedSnapshots, snapshot_id: str, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ranked.holds(snapshot_id):
            return True
        time.sleep(0.05)
    return False


def store_newer_snapshot(engine: sa.Engine) -> StoredSnapshot:
    """A snapshot written after the one the worker started with, as `calle score` would."""
    later = datetime.now(UTC) + timedelta(seconds=1)
    return store_snapshot(engine, "20260102-bbbb0002", created_at=later)


def test_a_started_worker_holds_the_latest_snapshot_before_any_request(
    settings: Settings, engine: sa.Engine, snapshot: StoredSnapshot
):
    app = create_app(settings)
    with TestClient(app):
        assert held_within(app.state.caches.ranked, snapshot.snapshot_id)


def test_a_newer_snapshot_is_read_ahead_and_the_one_before_kept(
    settings: Settings, engine: sa.Engine, snapshot: StoredSnapshot
):
    app = create_app(settings.model_copy(update={"snapshot_poll_seconds": 0.1}))
    with TestClient(app):
        ranked = app.state.caches.ranked
        assert held_within(ranked, snapshot.snapshot_id)
        newer = store_newer_snapshot(engine)
        assert held_within(ranked, newer.snapshot_id)
        assert ranked.holds(snapshot.snapshot_id)  # pages of cursors issued before still work


def test_with_polling_off_only_the_snapshot_at_start_is_read_ahead(
    settings: Settings, engine: sa.Engine, snapshot: StoredSnapshot
):
    app = create_app(settings.model_copy(update={"snapshot_poll_seconds": 0}))
    with TestClient(app):
        ranked = app.state.caches.ranked
        assert held_within(ranked, snapshot.snapshot_id)
        newer = store_newer_snapshot(engine)
        time.sleep(0.5)
        assert not ranked.holds(newer.snapshot_id)


def test_warming_a_store_without_snapshots_reads_nothing(engine: sa.Engine):
    ranked = RankedSnapshots()
    assert SnapshotWarmer(engine, ranked, poll_seconds=0).warm() is None


def test_warming_reads_a_held_snapshot_only_once(
    engine: sa.Engine, snapshot: StoredSnapshot, monkeypatch: pytest.MonkeyPatch
):
    ranked = RankedSnapshots()
    warmer = SnapshotWarmer(engine, ranked, poll_seconds=0)
    assert warmer.warm() == snapshot.snapshot_id
    reads = []
    monkeypatch.setattr(ranked, "get", lambda *args: reads.append(args))
    assert warmer.warm() == snapshot.snapshot_id
    assert reads == []


def test_a_store_out_of_reach_is_retried_and_stopping_is_prompt(caplog: pytest.LogCaptureFixture):
    unreachable = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    warmer = SnapshotWarmer(unreachable, RankedSnapshots(), poll_seconds=0.05)
    with caplog.at_level(logging.WARNING, logger="service.snapshot_warmup"):
        warmer.start()
        time.sleep(0.5)
        assert warmer.running  # the failures did not end the thread
        started = time.monotonic()
        warmer.stop()
    assert time.monotonic() - started < 5 and not warmer.running
    failures = [r for r in caplog.records if "could not read the latest snapshot" in r.message]
    assert len(failures) >= 2
