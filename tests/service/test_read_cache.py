"""The service's read caches: what they keep, for how long, and that every access is still
audited. A hand-driven clock stands in for time, so nothing here waits."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from calle.settings import Settings
from calle.store import schema
from service.app import create_app
from service.keys import list_keys, revoke_key
from service.read_cache import ReadCache, ServiceCaches
from service.roles import Role
from tests.service.conftest import audit_rows, bearer, is_problem, later, store_snapshot

RANKINGS = "/api/v1/rankings"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_kept_answer_is_read_once_until_it_expires():
    clock = Clock()
    cache: ReadCache[str] = ReadCache(seconds=5, entries=10, timer=clock)
    reads: list[str] = []

    def read() -> str:
        reads.append("x")
        return f"answer {len(reads)}"

    assert cache.get("k", read) == "answer 1"
    clock.now += 4.9
    assert cache.get("k", read) == "answer 1"
    clock.now += 0.2
    assert cache.get("k", read) == "answer 2"
    assert len(reads) == 2


def test_nothing_found_is_never_kept_and_zero_seconds_keeps_nothing():
    clock = Clock()
    cache: ReadCache[str] = ReadCache(seconds=5, entries=10, timer=clock)
    answers = iter([None, "found"])
    assert cache.get("k", lambda: next(answers)) is None
    assert cache.get("k", lambda: next(answers)) == "found"  # looked up again

    uncached: ReadCache[int] = ReadCache(seconds=0, entries=10, timer=clock)
    counter = iter(range(10))
    assert [uncached.get("k", lambda: next(counter)) for _ in range(3)] == [0, 1, 2]


def test_an_answer_its_reader_calls_not_final_is_returned_but_not_kept():
    cache: ReadCache[tuple[str, bool]] = ReadCache(seconds=60, entries=10, timer=Clock())
    answers = iter([("partial", False), ("whole", True), ("again", True)])

    def final(answer: tuple[str, bool]) -> bool:
        return answer[1]

    assert cache.get("k", lambda: next(answers), keep=final) == ("partial", False)
    assert cache.get("k", lambda: next(answers), keep=final) == ("whole", True)
    assert cache.get("k", lambda: next(answers), keep=final) == ("whole", True)  # kept


def test_the_oldest_entries_go_first_when_full():
    cache: ReadCache[int] = ReadCache(seconds=60, entries=2, timer=Clock())
    for key in ("a", "b", "c"):
        cache.get(key, lambda key=key: ord(key))
    reread: list[str] = []
    cache.get("a", lambda: reread.append("a") or 0)
    cache.get("c", lambda: reread.append("c") or 0)
    assert reread == ["a"]


def test_entries_that_never_go_stale_are_kept_until_pushed_out():
    clock = Clock()
    cache: ReadCache[int] = ReadCache(seconds=10, entries=2, timer=clock, expires=False)
    reads: list[str] = []
    for key in ("a", "b"):
        cache.get(key, lambda key=key: reads.append(key) or ord(key))
    clock.now += 86_400
    assert cache.get("a", lambda: reads.append("a again") or 0) == ord("a")  # a day later
    cache.get("c", lambda: reads.append("c") or ord("c"))  # pushes out b, the least recent
    cache.get("b", lambda: reads.append("b again") or ord("b"))
    assert reads == ["a", "b", "c", "b again"]

    uncached: ReadCache[int] = ReadCache(seconds=0, entries=2, timer=clock, expires=False)
    counter = iter(range(10))
    assert [uncached.get("k", lambda: next(counter)) for _ in range(2)] == [0, 1]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cached_client(settings: Settings, engine: sa.Engine, clock: Clock) -> Iterator[TestClient]:
    """The app with its default cache durations, on the hand-driven clock."""
    settings = settings.model_copy(update={"key_cache_seconds": 5, "read_cache_seconds": 10})
    app = create_app(settings)
    app.state.caches = ServiceCaches.from_settings(settings, timer=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_revoked_key_is_refused_once_the_key_cache_expires(
    cached_client: TestClient, engine, keys, snapshot, clock
):
    key = keys[Role.planner]
    assert cached_client.get(RANKINGS, headers=bearer(key)).status_code == 200
    revoke_key(engine, next(k.key_id for k in list_keys(engine) if k.role is Role.planner))
    clock.now += 4
    assert cached_client.get(RANKINGS, headers=bearer(key)).status_code == 200
    clock.now += 1.5
    body = is_problem(cached_client.get(RANKINGS, headers=bearer(key)), 401)
    assert "revoked" in body["detail"]


def test_a_new_snapshot_is_served_once_the_read_cache_expires(
    cached_client: TestClient, engine, keys, snapshot, clock
):
    headers = bearer(keys[Role.planner])
    first = cached_client.get(RANKINGS, headers=headers, params={"limit": 5}).json()
    assert first["snapshot_id"] == snapshot.snapshot_id
    store_snapshot(engine, "20260201-bbbb0002", created_at=later(60))
    clock.now += 9
    assert cached_client.get(RANKINGS, headers=headers, params={"limit": 5}).json() == first
    clock.now += 2
    fresh = cached_client.get(RANKINGS, headers=headers, params={"limit": 5}).json()
    assert fresh["snapshot_id"] == "20260201-bbbb0002"


def test_a_page_from_the_cache_is_still_audited_every_time(
    cached_client: TestClient, engine, keys, snapshot
):
    headers = bearer(keys[Role.planner])
    params = {"state": "11", "limit": 3}
    answers = [cached_client.get(RANKINGS, headers=headers, params=params) for _ in range(3)]
    assert all(a.status_code == 200 for a in answers)
    assert answers[0].json() == answers[2].json()
    audited = [row for row in audit_rows(engine) if row.endpoint == RANKINGS]
    assert [(row.rows, row.status) for row in audited] == [(3, 200)] * 3


def test_a_kept_page_is_not_read_again_from_the_store(
    cached_client: TestClient, engine, keys, snapshot
):
    """Deleting the snapshot's reasons behind the service's back shows what is kept: the same
    page still answers with them, and a page not yet read comes without."""
    headers = bearer(keys[Role.planner])
    kept = cached_client.get(RANKINGS, headers=headers, params={"limit": 4}).json()
    assert all(row["reasons"] for row in kept["items"])
    with engine.begin() as connection:
        connection.execute(sa.delete(schema.snapshot_reasons))
    assert cached_client.get(RANKINGS, headers=headers, params={"limit": 4}).json() == kept
    other = cached_client.get(RANKINGS, headers=headers, params={"limit": 6}).json()
    assert [row["reasons"] for row in other["items"]] == [[]] * 6


def test_a_ranked_page_is_read_from_the_store_once_while_its_snapshot_is_the_latest(
    cached_client: TestClient, engine, keys, snapshot, clock
):
    """Pages are kept by snapshot, not for a time: long after the snapshot lookup expired
    the page is not read again, and a new snapshot's pages are read fresh."""
    page_reads: list[str] = []

    def count(conn, cursor, statement: str, *args) -> None:
        if "snapshot_reasons" in statement:  # read for every page, after its rows
            page_reads.append(statement)

    served = cached_client.app.state.engine
    sa.event.listen(served, "before_cursor_execute", count)
    try:
        headers = bearer(keys[Role.planner])
        params = {"state": "19", "limit": 4}
        first = cached_client.get(RANKINGS, headers=headers, params=params).json()
        clock.now += 3600  # the snapshot lookup expired many times over
        assert cached_client.get(RANKINGS, headers=headers, params=params).json() == first
        assert len(page_reads) == 1
        store_snapshot(engine, "20260201-bbbb0002", created_at=later(60))
        clock.now += 11
        fresh = cached_client.get(RANKINGS, headers=headers, params=params).json()
        assert fresh["snapshot_id"] == "20260201-bbbb0002"
        assert len(page_reads) == 2
    finally:
        sa.event.remove(served, "before_cursor_execute", count)
