"""A snapshot's scores in memory, ranked per target: what rankings and risk pages read.

A stored snapshot never changes, so each worker reads it once (:class:`RankedSnapshots`)
and answers from arrays: a filtered ranking page walks the target's rank order in growing
blocks, testing the filters on integer codes, until the page is full; an employer's scores
are found by binary search over the sorted ids. At 5M workplaces that is about 0.5 GB per
worker and a few seconds' read per new snapshot, against a SQL row per workplace and target
whose writing alone took longer than rescoring may (:mod:`calle.store.snapshot_tables`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from calle.store.snapshot_tables import DIRECTORY_COLUMNS, read_scores, score_schema

log = logging.getLogger(__name__)

#: The first block of a walk; each next one is 4× larger, up to ``_LARGEST_BLOCK``.
_FIRST_BLOCK = 2_048
_LARGEST_BLOCK = 1 << 20
#: An office area of up to this many states and municipalities is read from each one's own
#: list, merged; a larger one by walking the whole ranking.
MAX_MERGED_GROUPS = 8


@dataclass(frozen=True)
class RankingFilter:
    """Which workplaces a ranking keeps: each set field must hold (``sector`` is a prefix);
    ``area_states``/``area_municipalities``, an office's area, keep a workplace in either."""

    state: str | None = None
    municipality: str | None = None
    sector: str | None = None
    size_band: str | None = None
    area_states: tuple[str, ...] | None = None
    area_municipalities: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Score:
    probability: float
    rank: int
    percentile: float


class _Codes:
    """One directory column as integer codes; 0 is a missing value."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        encoded = pc.dictionary_encode(column).combine_chunks()
        self.values: list[str] = encoded.dictionary.to_pylist()
        indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        self.codes = (indices + 1).astype(np.int32)
        self._code_of = {value: code for code, value in enumerate(self.values, start=1)}

    def table_of(self, wanted: Collection[str]) -> np.ndarray:
        """A lookup table over codes: True where the value is one of ``wanted``."""
        table = np.zeros(len(self.values) + 1, bool)
        for value in wanted:
            code = self._code_of.get(value)
            if code is not None:
                table[code] = True
        return table

    def prefix_table(self, prefix: str) -> np.ndarray:
        return self.table_of([v for v in self.values if v.startswith(prefix)])

    def code(self, value: str) -> int | None:
        return self._code_of.get(value)

    def value(self, position: int) -> str | None:
        code = int(self.codes[position])
        return self.values[code - 1] if code else None


class RankedSnapshot:
    """One snapshot's scores, rank orders and directory codes (see the module docstring)."""

    def __init__(self, snapshot_id: str, targets: Collection[str], scores: pa.Table) -> None:
        self.snapshot_id = snapshot_id
        self.targets = tuple(targets)
        self.size = scores.num_rows
        ids = scores.column("employer_id").to_pylist()
        # as bytes, not Python strings: a tenth of the memory at national scale
        self._ids = np.array([i.encode() for i in ids], dtype=bytes)
        self._by_id = np.argsort(self._ids, kind="stable").astype(np.int32)
        self._sorted_ids = self._ids[self._by_id]
        self._codes = {c: _Codes(scores.column(c)) for c in DIRECTORY_COLUMNS}
        self.probabilities: dict[str, np.ndarray] = {}
        self.ranks: dict[str, np.ndarray] = {}
        self._orders: dict[str, np.ndarray] = {}
        for target in self.targets:
            rank = scores.column(f"rank_{target}").to_numpy().astype(np.int32)
            self.probabilities[target] = scores.column(f"p_{target}").to_numpy()
            self.ranks[target] = rank
            order = np.empty(self.size, np.int32)
            order[rank - 1] = np.arange(self.size, dtype=np.int32)
            self._orders[target] = order
        #: per (target, column): positions sorted by code then rank, and where each code starts
        self._grouped: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def employer_id(self, position: int) -> str:
        return self._ids[position].decode()

    def position(self, employer_id: str) -> int | None:
        """Where ``employer_id`` is held, or None if the snapshot did not score it."""
        key = employer_id.encode()
        at = int(np.searchsorted(self._sorted_ids, key))
        if at < self.size and self._sorted_ids[at] == key:
            return int(self._by_id[at])
        return None

    def score(self, target: str, position: int) -> Score:
        rank = int(self.ranks[target][position])
        return Score(
            probability=float(self.probabilities[target][position]),
            rank=rank,
            percentile=100.0 * (self.size - rank) / self.size,
        )

    def directory(self, position: int) -> dict[str, str | None]:
        """The workplace's directory entry when it was scored."""
        return {c: codes.value(position) for c, codes in self._codes.items()}

    def page(self, target: str, keep: RankingFilter, after: int, limit: int) -> np.ndarray:
        """Positions of the first ``limit`` workplaces ranked below ``after`` that ``keep``
        holds, in rank order.

        A municipality or state is read from its own list in rank order; an office area of up
        to ``MAX_MERGED_GROUPS`` states and municipalities from each of theirs, merged; anything
        else, or a larger area (which covers much of the country and soon fills a page), by
        walking the whole ranking."""
        test = self._test(keep)
        groups = self._groups_of(keep)
        if groups is None or len(groups) > MAX_MERGED_GROUPS:
            return _walk(self._orders[target], after, test, limit)
        parts = []
        for column, value in groups:
            members, member_ranks = self._group(target, column, value)
            start = int(np.searchsorted(member_ranks, after, side="right"))
            parts.append(_walk(members, start, test, limit))
        if len(parts) == 1:
            return parts[0]
        merged = np.unique(np.concatenate(parts))  # a workplace two groups cover comes once
        return merged[np.argsort(self.ranks[target][merged], kind="stable")][:limit]

    @staticmethod
    def _groups_of(keep: RankingFilter) -> list[tuple[str, str]] | None:
        if keep.municipality is not None:
            return [("municipality", keep.municipality)]
        if keep.state is not None:
            return [("state", keep.state)]
        if keep.area_states is None and keep.area_municipalities is None:
            return None
        return [("state", s) for s in keep.area_states or ()] + [
            ("municipality", m) for m in keep.area_municipalities or ()
        ]

    def _group(self, target: str, column: str, value: str) -> tuple[np.ndarray, np.ndarray]:
        """The workplaces whose ``column`` is ``value`` in rank order, and their ranks."""
        key = (target, column)
        grouped = self._grouped.get(key)
        if grouped is None:  # built on first use: most of a worker's reads rank one target
            codes = self._codes[column].codes
            order = np.lexsort((self.ranks[target], codes)).astype(np.int32)
            starts = np.searchsorted(codes[order], np.arange(len(self._codes[column].values) + 2))
            grouped = self._grouped[key] = (order, self.ranks[target][order], starts)
        order, ranks, starts = grouped
        code = self._codes[column].code(value)
        if code is None:
            return order[:0], ranks[:0]
        return order[starts[code] : starts[code + 1]], ranks[starts[code] : starts[code + 1]]

    def _test(self, keep: RankingFilter) -> Callable[[np.ndarray], np.ndarray] | None:
        """A function of positions to a mask, or None when every workplace is kept."""
        tests = []
        for column in ("state", "municipality", "size_band"):
            value = getattr(keep, column)
            if value is not None:
                tests.append((self._codes[column].codes, self._codes[column].table_of([value])))
        if keep.sector is not None:
            tests.append(
                (self._codes["sector"].codes, self._codes["sector"].prefix_table(keep.sector))
            )
        either = []
        if keep.area_states is not None:
            either.append(
                (self._codes["state"].codes, self._codes["state"].table_of(keep.area_states))
            )
        if keep.area_municipalities is not None:
            municipalities = self._codes["municipality"]
            either.append((municipalities.codes, municipalities.table_of(keep.area_municipalities)))
        if not tests and not either:
            return None

        def test(positions: np.ndarray) -> np.ndarray:
            mask = np.ones(len(positions), bool)
            for codes, table in tests:
                mask &= table[codes[positions]]
            if either:
                covered = np.zeros(len(positions), bool)
                for codes, table in either:
                    covered |= table[codes[positions]]
                mask &= covered
            return mask

        return test


def _walk(
    ranked: np.ndarray,
    start: int,
    test: Callable[[np.ndarray], np.ndarray] | None,
    limit: int,
) -> np.ndarray:
    """The first ``limit`` positions of ``ranked[start:]`` that pass ``test``, read in blocks
    growing 4× from ``_FIRST_BLOCK``: a common filter fills a page from the first block, a
    rare one does not test a million rows one small block at a time."""
    found: list[np.ndarray] = []
    wanted, block = limit, _FIRST_BLOCK
    while wanted > 0 and start < len(ranked):
        positions = ranked[start : start + block]
        if test is not None:
            positions = positions[test(positions)]
        found.append(positions[:wanted])
        wanted -= len(found[-1])
        start += block
        block = min(4 * block, _LARGEST_BLOCK)
    return np.concatenate(found) if found else np.empty(0, np.int32)


class RankedSnapshots:
    """The snapshots this worker has read, newest use last.

    Concurrent first requests for one snapshot wait for a single read instead of each
    reading it; a read happens outside the lock, so while a newer snapshot is being read
    (seconds at national size), requests for the ones held are answered at once.
    """

    def __init__(self, keep: int = 2) -> None:
        self._keep = keep
        self._held: OrderedDict[str, RankedSnapshot] = OrderedDict()
        self._reading: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def holds(self, snapshot_id: str) -> bool:
        with self._lock:
            return snapshot_id in self._held

    def get(self, engine: sa.Engine, snapshot_id: str, targets: Collection[str]) -> RankedSnapshot:
        def read() -> pa.Table:
            with engine.connect() as connection:
                return read_scores(connection, snapshot_id)

        return self.get_or_read(snapshot_id, targets, read)

    def get_or_read(
        self, snapshot_id: str, targets: Collection[str], read: Callable[[], pa.Table]
    ) -> RankedSnapshot:
        """The held snapshot, or the one ``read`` returns (read once however many ask)."""
        while True:
            with self._lock:
                held = self._held.get(snapshot_id)
                if held is not None:
                    self._held.move_to_end(snapshot_id)
                    return held
                reading = self._reading.get(snapshot_id)
                if reading is None:
                    self._reading[snapshot_id] = threading.Event()
            if reading is None:
                break
            reading.wait()  # then held, or the read failed and this request tries itself
        try:
            started = time.perf_counter()
            scores = read()
            if scores.num_columns == 0:  # a snapshot of no workplaces
                scores = score_schema(targets).empty_table()
            ranked = RankedSnapshot(snapshot_id, targets, scores)
            with self._lock:
                self._held[snapshot_id] = ranked
                while len(self._held) > self._keep:
                    self._held.popitem(last=False)
            log.info(
                "snapshot %s read into memory: %d workplaces in %.1f s",
                snapshot_id,
                ranked.size,
                time.perf_counter() - started,
            )
            return ranked
        finally:
            with self._lock:
                self._reading.pop(snapshot_id).set()
