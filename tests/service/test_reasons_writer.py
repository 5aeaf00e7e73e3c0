"""Reasons explained on read are held by the worker, found there until stored, and stored
behind the answers: by the writer's thread, and when the app stops (both engines)."""

from __future__ import annotations

import json
import logging
import time

import sqlalchemy as sa

from calle.store import schema
from service.reasons_writer import ReasonsWriter
from tests.service.conftest import store_snapshot


def reasons(text: str) -> str:
    return json.dumps([{"feature": text, "contribution": 0.5, "value": 1}])


def stored(engine: sa.Engine, snapshot_id: str) -> dict[tuple[str, str], str]:
    table = schema.snapshot_reasons
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(table.c.target, table.c.employer_id, table.c.reasons).where(
                table.c.snapshot_id == snapshot_id
            )
        ).all()
    return {(row.target, row.employer_id): row.reasons for row in rows}


def test_held_reasons_are_found_until_stored_then_read_from_the_store(engine, employers):
    snapshot = store_snapshot(engine, "20260101-held0001", with_reasons=False)
    first, second = snapshot.employer_ids[:2]
    writer = ReasonsWriter(engine)
    explained = {("any", first): reasons("a"), ("safety_health", second): reasons("b")}
    writer.add(snapshot.snapshot_id, explained)

    wanted = [("any", first), ("any", second), ("safety_health", second)]
    assert writer.held(snapshot.snapshot_id, wanted) == explained
    assert writer.held("20260101-other001", wanted) == {}
    assert stored(engine, snapshot.snapshot_id) == {}

    assert writer.write_held() == 2
    assert stored(engine, snapshot.snapshot_id) == explained
    assert writer.held(snapshot.snapshot_id, wanted) == {}
    assert writer.write_held() == 0


def test_a_score_stored_already_keeps_the_reasons_stored_first(engine, employers):
    """Two workers explaining the same score both write it: the first one's stays."""
    snapshot = store_snapshot(engine, "20260101-twice001", with_reasons=False)
    key = ("any", snapshot.employer_ids[0])
    one, other = ReasonsWriter(engine), ReasonsWriter(engine)
    one.add(snapshot.snapshot_id, {key: reasons("first")})
    other.add(snapshot.snapshot_id, {key: reasons("second")})
    one.write_held()
    other.write_held()
    assert stored(engine, snapshot.snapshot_id) == {key: reasons("first")}


def test_reasons_of_a_snapshot_gone_meanwhile_are_dropped_and_the_others_stored(
    engine, employers, caplog
):
    snapshot = store_snapshot(engine, "20260101-kept0001", with_reasons=False)
    key = ("any", snapshot.employer_ids[0])
    writer = ReasonsWriter(engine)
    writer.add("20251201-gone0001", {key: reasons("gone")})
    writer.add(snapshot.snapshot_id, {key: reasons("kept")})
    with caplog.at_level(logging.WARNING, logger="service.reasons_writer"):
        assert writer.write_held() == 1
    assert stored(engine, snapshot.snapshot_id) == {key: reasons("kept")}
    assert stored(engine, "20251201-gone0001") == {}
    assert writer.held("20251201-gone0001", [key]) == {}  # explained again when next read
    assert "could not store 1 reasons of snapshot 20251201-gone0001" in caplog.text


def test_the_thread_stores_within_its_interval_and_stopping_stores_the_rest(engine, employers):
    snapshot = store_snapshot(engine, "20260101-thrd0001", with_reasons=False)
    first, second = snapshot.employer_ids[:2]
    writer = ReasonsWriter(engine, interval_seconds=0.05)
    writer.start()
    try:
        writer.add(snapshot.snapshot_id, {("any", first): reasons("a")})
        deadline = time.monotonic() + 10
        while not stored(engine, snapshot.snapshot_id):
            assert time.monotonic() < deadline, "not stored by the writer's thread"
            time.sleep(0.02)
    finally:
        writer.stop()
    assert stored(engine, snapshot.snapshot_id) == {("any", first): reasons("a")}

    slow = ReasonsWriter(engine, interval_seconds=3600)
    slow.start()
    slow.add(snapshot.snapshot_id, {("any", second): reasons("b")})
    slow.stop()  # at once, not in an hour
    assert stored(engine, snapshot.snapshot_id)[("any", second)] == reasons("b")
