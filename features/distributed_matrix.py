"""The point-in-time feature matrix computed on a Dask cluster, one slice of workplaces per task.

Each task reads its slice (workplaces with ids in a range, and all their records) straight
from the store, so neither the client nor any one worker holds the whole history. The only
population-wide features, the peer rates, are made in two passes: every slice counts its
inspections per cell, the counts are added up (:class:`PeerRateCounts` adds exactly), and
every slice then applies the population's rates to its workplaces. The result is a
``dask.dataframe`` indexed by employer id, equal to :func:`feature_matrix` on the whole store.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from datetime import date

import dask
import dask.dataframe as dd
import pandas as pd
import sqlalchemy as sa

from features.employer_attributes import attribute_features
from features.employer_index import EmployerIndex
from features.frames import ContractFrames
from features.matrix import feature_matrix
from features.peer_rates import PeerRateCounts, PeerRateTables, peer_rate_counts
from features.store_frames import empty_frames, load_frames_between

#: Id bounds of one slice, ``[low, high)``; None is unbounded.
IdRange = tuple[str | None, str | None]


def employer_ranges(engine: sa.Engine, slices: int) -> list[IdRange]:
    """``slices`` id ranges holding about as many workplaces each (fewer if there are few)."""
    with engine.connect() as connection:
        ids = (
            connection.execute(sa.text("SELECT employer_id FROM employers ORDER BY employer_id"))
            .scalars()
            .all()
        )
    starts = sorted({len(ids) * i // slices for i in range(1, slices)} - {0})  # no empty slice
    cuts = [ids[start] for start in starts]
    bounds: list[str | None] = [None, *cuts, None]
    return list(itertools.pairwise(bounds))


@functools.cache
def _engine(store_url: str) -> sa.Engine:
    """One connection pool per worker process and store, reused by its tasks."""
    return sa.create_engine(store_url)


def _slice(store_url: str, bounds: IdRange) -> ContractFrames:
    return load_frames_between(_engine(store_url), *bounds)


def _slice_counts(frames: ContractFrames, as_of: date, categories: list[str]) -> PeerRateCounts:
    past = frames.as_of(as_of)
    index = EmployerIndex(past.employers["employer_id"].sort_values())
    return peer_rate_counts(past, attribute_features(past, index, as_of, {}), categories)


def _population_tables(counts: Sequence[PeerRateCounts]) -> PeerRateTables:
    return functools.reduce(lambda a, b: a + b, counts).tables()


def _slice_features(
    frames: ContractFrames,
    as_of: date,
    categories: list[str],
    attribute_kinds: dict[str, str],
    tables: PeerRateTables,
) -> pd.DataFrame:
    return feature_matrix(frames, as_of, categories, attribute_kinds, peer_rates=tables)


def distributed_feature_matrix(
    store_url: str,
    ranges: Sequence[IdRange],
    as_of: date,
    categories: list[str],
    attribute_kinds: dict[str, str],
) -> dd.DataFrame:
    """Features of every workplace as known at the start of ``as_of``, as a Dask frame with
    one partition per id range (in id order, so the partitions' divisions are known).

    Nothing runs until the frame is computed, on whatever scheduler is active (a
    ``distributed.Client`` once created is the default)."""
    slices = [dask.delayed(_slice)(store_url, bounds) for bounds in ranges]
    counts = [dask.delayed(_slice_counts)(s, as_of, categories) for s in slices]
    tables = dask.delayed(_population_tables)(counts)
    parts = [
        dask.delayed(_slice_features)(s, as_of, categories, attribute_kinds, tables) for s in slices
    ]
    return dd.from_delayed(parts, meta=_meta(as_of, categories, attribute_kinds))


def _meta(as_of: date, categories: list[str], attribute_kinds: dict[str, str]) -> pd.DataFrame:
    """The matrix's empty frame (columns and dtypes), from no workplaces at all."""
    empty = empty_frames()
    tables = _slice_counts(empty, as_of, categories).tables()
    return feature_matrix(empty, as_of, categories, attribute_kinds, peer_rates=tables)
