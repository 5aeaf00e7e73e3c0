"""The in-memory ranking answers exactly what a scan of every workplace in rank order would,
for every filter, from any position, across the growing blocks it walks in."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from service.ranked_snapshot import (
    MAX_MERGED_GROUPS,
    RankedSnapshot,
    RankedSnapshots,
    RankingFilter,
)
from tests.snapshot_scores import TARGETS, scores_of

N = 20_000  # several walk blocks (2,048, then 8,192, ...)


@pytest.fixture(scope="module")
def table():
    return scores_of(N)


@pytest.fixture(scope="module")
def ranked(table) -> RankedSnapshot:
    return RankedSnapshot("S1", TARGETS, table)


def by_scan(table, target: str, keep: RankingFilter, after: int, limit: int) -> list[str]:
    rows = sorted(table.to_pylist(), key=lambda r: r[f"rank_{target}"])

    def kept(row: dict) -> bool:
        for column in ("state", "municipality", "size_band"):
            wanted = getattr(keep, column)
            if wanted is not None and row[column] != wanted:
                return False
        if keep.sector is not None and not (row["sector"] or "").startswith(keep.sector):
            return False
        if keep.area_states is not None or keep.area_municipalities is not None:
            return row["state"] in (keep.area_states or ()) or row["municipality"] in (
                keep.area_municipalities or ()
            )
        return True

    return [r["employer_id"] for r in rows if r[f"rank_{target}"] > after and kept(r)][:limit]


FILTERS = [
    RankingFilter(),
    RankingFilter(state="14"),
    RankingFilter(municipality="09003"),
    RankingFilter(sector="336"),
    RankingFilter(sector="4"),
    RankingFilter(sector="Ñ"),
    RankingFilter(size_band="micro", state="09"),
    RankingFilter(state="14", municipality="09001"),
    RankingFilter(state="99"),  # a code the snapshot does not hold
    RankingFilter(municipality="99999", sector="4"),
    RankingFilter(area_states=("14",), area_municipalities=("09002",)),  # their lists, merged
    RankingFilter(area_states=("09", "14", "01"), area_municipalities=("09002",)),
    RankingFilter(  # more than MAX_MERGED_GROUPS: a walk of the whole ranking
        area_states=("09", "14", "01", "02", "03"),
        area_municipalities=("09002", "09005", "09007", "09010"),
        sector="3",
    ),
    RankingFilter(area_states=(), area_municipalities=("09004", "09001"), size_band="micro"),
]


@pytest.mark.parametrize("keep", FILTERS, ids=repr)
@pytest.mark.parametrize(("after", "limit"), [(0, 100), (0, 1_000), (9_000, 50), (19_990, 100)])
def test_a_page_is_the_scan_s_rows_in_rank_order(table, ranked, keep, after, limit):
    for target in TARGETS:
        positions = ranked.page(target, keep, after, limit)
        assert [ranked.employer_id(p) for p in positions] == by_scan(
            table, target, keep, after, limit
        )


def test_a_rare_filter_is_read_to_the_end_of_the_ranking(table, ranked):
    keep = RankingFilter(municipality="09003", size_band="micro", sector="Ñ")
    expected = by_scan(table, "any", keep, 0, N)
    assert 0 < len(expected) < 1_000
    assert [ranked.employer_id(p) for p in ranked.page("any", keep, 0, N)] == expected


def test_each_workplace_is_found_with_its_scores_and_directory(table, ranked):
    rows = table.to_pylist()
    for i in (0, 1, 4_567, N - 1):
        position = ranked.position(rows[i]["employer_id"])
        assert position == i
        for target in TARGETS:
            score = ranked.score(target, position)
            assert score.probability == rows[i][f"p_{target}"]
            assert score.rank == rows[i][f"rank_{target}"]
            assert score.percentile == pytest.approx(100.0 * (N - score.rank) / N)
        entry = ranked.directory(position)
        assert entry == {c: rows[i][c] for c in ("state", "municipality", "sector", "size_band")}
    assert ranked.position("E999999") is None and ranked.position("") is None


def test_the_riskiest_is_ranked_first_and_a_percentile_near_100(ranked):
    [first] = ranked.page("any", RankingFilter(), 0, 1)
    assert ranked.score("any", first).rank == 1
    assert ranked.score("any", first).percentile == pytest.approx(100.0 * (N - 1) / N)
    assert np.max(ranked.probabilities["any"]) == ranked.score("any", first).probability


def test_the_filters_above_take_every_way_of_reading():
    """A group's own list, several merged, and the walk of the whole ranking: the exactness
    tests above cover each."""
    ways = [RankedSnapshot._groups_of(f) for f in FILTERS]
    assert None in ways  # the whole ranking
    assert any(w is not None and len(w) == 1 for w in ways)
    assert any(w is not None and 1 < len(w) <= MAX_MERGED_GROUPS for w in ways)
    assert any(w is not None and len(w) > MAX_MERGED_GROUPS for w in ways)


def test_a_held_snapshot_is_answered_while_a_newer_one_is_read(table):
    snapshots = RankedSnapshots()
    snapshots.get_or_read("S1", TARGETS, lambda: table)
    reading, release = threading.Event(), threading.Event()

    def slow_read():
        reading.set()
        assert release.wait(10)
        return table

    reader = threading.Thread(target=snapshots.get_or_read, args=("S2", TARGETS, slow_read))
    reader.start()
    try:
        assert reading.wait(10)
        again = snapshots.get_or_read("S1", TARGETS, lambda: pytest.fail("S1 read again"))
        assert again.snapshot_id == "S1" and not snapshots.holds("S2")
        assert reader.is_alive()  # answered during the read, not after it
    finally:
        release.set()
        reader.join(10)
    assert snapshots.holds("S2") and snapshots.holds("S1")


def test_concurrent_first_requests_read_a_snapshot_once(table):
    snapshots, reads, release = RankedSnapshots(), [], threading.Event()

    def read():
        reads.append(threading.get_ident())
        assert release.wait(10)
        return table

    got: list[RankedSnapshot] = []
    askers = [
        threading.Thread(target=lambda: got.append(snapshots.get_or_read("S1", TARGETS, read)))
        for _ in range(4)
    ]
    for asker in askers:
        asker.start()
    time.sleep(0.2)
    release.set()
    for asker in askers:
        asker.join(10)
    assert len(reads) == 1 and len(got) == 4 and len({id(g) for g in got}) == 1


def test_a_failed_read_leaves_the_next_request_to_read_again(table):
    snapshots = RankedSnapshots()

    def broken():
        raise OSError("the store went away")

    with pytest.raises(OSError):
        snapshots.get_or_read("S1", TARGETS, broken)
    assert not snapshots.holds("S1")
    assert snapshots.get_or_read("S1", TARGETS, lambda: table).size == N
