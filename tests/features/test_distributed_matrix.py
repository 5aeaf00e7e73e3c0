"""Features on a Dask cluster equal the single-process matrix, exactly, on both store engines.

Two real worker processes each read their slices of workplaces from the store; the
single-process :func:`feature_matrix` (whose point-in-time cut is tested on its own) is the
yardstick, so the cluster path inherits its no-leakage guarantee only if they agree.
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from calle.settings import Settings
from calle.store import open_store
from features.contract_import import import_folder
from features.distributed_matrix import distributed_feature_matrix, employer_ranges
from features.matrix import attribute_kinds_of, feature_matrix
from features.store_frames import load_frames


@pytest.fixture
def world_store(settings: Settings, small_world: Path) -> Settings:
    import_folder(small_world, settings)
    return settings


@pytest.mark.parametrize("as_of", [date(2022, 3, 15), date(2026, 1, 1)])
def test_the_cluster_computes_the_same_matrix(world_store: Settings, dask_client, as_of: date):
    engine = open_store(world_store)
    try:
        frames = load_frames(engine)
        ranges = employer_ranges(engine, 7)
    finally:
        engine.dispose()
    categories = list(world_store.categories)
    kinds = attribute_kinds_of(frames)
    here = feature_matrix(frames, as_of, categories, kinds)

    matrix = distributed_feature_matrix(world_store.store_url, ranges, as_of, categories, kinds)
    assert matrix.npartitions == 7
    on_cluster = dask_client.compute(matrix).result()

    assert on_cluster.index.is_monotonic_increasing  # slices come back in id order
    pd.testing.assert_frame_equal(on_cluster, here)
    assert len(here) > 1000 and here["peer_rate_state_sector2_size"].nunique() > 10


def test_ranges_cover_every_workplace_once_in_order(world_store: Settings):
    engine = open_store(world_store)
    try:
        ids = sorted(load_frames(engine).employers["employer_id"])
        for slices in (1, 2, 7, len(ids) + 5):
            ranges = employer_ranges(engine, slices)
            assert len(ranges) == min(slices, len(ids))
            assert ranges[0][0] is None and ranges[-1][1] is None
            for (_, high), (low, _) in itertools.pairwise(ranges):
                assert high == low  # adjacent, no gap and no overlap

            def slice_of(employer_id: str, ranges=ranges) -> int:
                return next(
                    i
                    for i, (low, high) in enumerate(ranges)
                    if (low is None or employer_id >= low) and (high is None or employer_id < high)
                )

            owners = [slice_of(i) for i in ids]
            assert owners == sorted(owners)
    finally:
        engine.dispose()
