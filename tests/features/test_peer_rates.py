"""Peer-rate counts add up: any split of the population by workplace, counted part by part
and summed, gives exactly the population's rates (what a cluster relies on)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from calle.settings import MEXICO_CATEGORIES
from features.employer_attributes import attribute_features
from features.employer_index import EmployerIndex
from features.frames import ContractFrames
from features.peer_rates import peer_rate_counts, peer_rate_tables

AS_OF = date(2024, 1, 1)
CATEGORIES = list(MEXICO_CATEGORIES)


def _counts(frames: ContractFrames):
    past = frames.as_of(AS_OF)
    index = EmployerIndex(past.employers["employer_id"].sort_values())
    return peer_rate_counts(past, attribute_features(past, index, AS_OF, {}), CATEGORIES)


def _part(frames: ContractFrames, ids: set[str]) -> ContractFrames:
    inspections = frames.inspections[frames.inspections["employer_id"].isin(ids)]
    return replace(
        frames,
        employers=frames.employers[frames.employers["employer_id"].isin(ids)],
        inspections=inspections,
        findings=frames.findings[frames.findings["inspection_id"].isin(inspections.inspection_id)],
        complaints=frames.complaints[frames.complaints["employer_id"].isin(ids)],
        remediations=frames.remediations[frames.remediations["employer_id"].isin(ids)],
        attributes=frames.attributes[frames.attributes["employer_id"].isin(ids)],
    )


def test_counts_of_parts_add_up_to_the_population_rates(small_world_frames: ContractFrames):
    ids = small_world_frames.employers["employer_id"].to_numpy()
    part_of = np.random.default_rng(0).integers(0, 3, len(ids))
    parts = [_part(small_world_frames, set(ids[part_of == p])) for p in range(3)]
    summed = (_counts(parts[0]) + _counts(parts[1]) + _counts(parts[2])).tables()

    past = small_world_frames.as_of(AS_OF)
    index = EmployerIndex(past.employers["employer_id"].sort_values())
    whole = peer_rate_tables(past, attribute_features(past, index, AS_OF, {}), CATEGORIES)
    assert summed.rates.keys() == whole.rates.keys()
    for name, rates in whole.rates.items():
        assert summed.rates[name].default == rates.default, name
        pd.testing.assert_series_equal(
            summed.rates[name].by_cell.sort_index(), rates.by_cell.sort_index(), check_names=False
        )
    # each part alone sees other rates: the sum is what makes them the population's
    alone = _counts(parts[0]).tables()
    assert alone.rates["peer_rate_state_sector2_size"].default != (
        whole.rates["peer_rate_state_sector2_size"].default
    )


def test_tables_kept_as_json_come_back_the_same_and_give_the_same_features(
    small_world_frames: ContractFrames,
):
    from features.matrix import feature_matrix, population_peer_rates
    from features.peer_rates import PeerRateTables

    tables = population_peer_rates(small_world_frames, AS_OF, CATEGORIES)
    back = PeerRateTables.from_json(tables.to_json())
    assert back.rates.keys() == tables.rates.keys()
    for name, rates in tables.rates.items():
        assert back.rates[name].keys == rates.keys and back.rates[name].default == rates.default
        assert back.rates[name].by_cell.to_dict() == rates.by_cell.to_dict(), name
    pd.testing.assert_frame_equal(
        feature_matrix(small_world_frames, AS_OF, CATEGORIES, peer_rates=back),
        feature_matrix(small_world_frames, AS_OF, CATEGORIES),
    )


def test_cells_without_events_count_in_floats_like_the_rest(small_world_frames: ContractFrames):
    """A category nobody was found on (or no inspections at all) still counts in float64."""
    frames = small_world_frames
    counts = _counts(replace(frames, findings=frames.findings.iloc[0:0]))
    for name, (_, frame) in counts.cells.items():
        assert frame["sum"].dtype == np.float64 and frame["count"].dtype == np.float64, name
    assert all(counts.cells[f"peer_rate_{c}_state_sector2_size"][1].empty for c in CATEGORIES)
