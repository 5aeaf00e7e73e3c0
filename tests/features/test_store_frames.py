"""Features for a few workplaces read by id agree with the whole population's matrix.

``POST /score`` by id reads only those workplaces' records and takes the peer rates from
the whole population; these tests hold that path to the full one on a real store, on both
engines, at an as-of date inside the history (so later events exist and must stay unseen).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from calle.settings import Settings
from calle.store import open_store
from features.contract_import import import_folder
from features.matrix import attribute_kinds_of, feature_matrix, population_peer_rates
from features.store_frames import PEER_RATE_TABLES, load_frames, load_frames_for

CATEGORIES = ["safety_health", "working_conditions", "subcontracting"]
AS_OF = date(2023, 7, 1)


@pytest.fixture
def imported(small_world: Path, settings: Settings):
    import_folder(small_world, settings)
    engine = open_store(settings)
    yield engine
    engine.dispose()


def test_a_few_workplaces_get_exactly_their_rows_of_the_population_matrix(imported):
    everything = load_frames(imported)
    kinds = attribute_kinds_of(everything)
    full = feature_matrix(everything, AS_OF, CATEGORIES, kinds)
    inspected = everything.inspections["employer_id"].drop_duplicates().sort_values()
    ids = [*inspected.iloc[:40], *full.index[-20:], "NOT-AN-EMPLOYER"]

    some = load_frames_for(imported, ids)
    assert set(some.employers["employer_id"]) == set(ids) - {"NOT-AN-EMPLOYER"}
    assert set(some.inspections["employer_id"]) <= set(ids)
    assert set(some.findings["inspection_id"]) == set(
        everything.findings.loc[
            everything.findings["inspection_id"].isin(some.inspections["inspection_id"]),
            "inspection_id",
        ]
    )
    assert len(some.inspections) > 40  # the chosen workplaces have a history to get right

    peer_rates = population_peer_rates(load_frames(imported, PEER_RATE_TABLES), AS_OF, CATEGORIES)
    subset = feature_matrix(some, AS_OF, CATEGORIES, kinds, peer_rates=peer_rates)
    expected = full.loc[sorted(set(ids) & set(full.index))]
    pd.testing.assert_frame_equal(subset, expected, check_exact=False, rtol=1e-12)


def test_without_the_population_s_rates_a_subset_would_be_wrong(imported):
    """The reason for ``peer_rates``: a subset's own inspections give other cell rates."""
    everything = load_frames(imported)
    full = feature_matrix(everything, AS_OF, CATEGORIES).iloc[:30]
    ids = list(full.index)
    alone = feature_matrix(load_frames_for(imported, ids), AS_OF, CATEGORIES)
    assert not alone["peer_rate_state_sector2_size"].equals(full["peer_rate_state_sector2_size"])
