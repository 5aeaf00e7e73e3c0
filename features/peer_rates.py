"""Peer rates: how often inspections of similar workplaces found violations, as of a date.

This is the signal the inspectorate's current official model relies on: the smoothed
historical violation rate of the employer's cell. Smoothing (empirical Bayes toward the
overall rate, ``PRIOR_INSPECTIONS`` pseudo-inspections) keeps small cells from
producing extreme rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec
from features.frames import ContractFrames

FAMILY = "peer_rates"
PRIOR_INSPECTIONS = 20.0
#: Cells, each a set of attribute features; the first is the official model's cell.
CELLS: dict[str, tuple[str, ...]] = {
    "state_sector2_size": ("state", "sector2", "size_band"),
    "state_sector3": ("state", "sector3"),
    "sector4": ("sector4",),
}


def peer_rate_specs(categories: list[str]) -> list[FeatureSpec]:
    specs = []
    for cell, keys in CELLS.items():
        specs.append(
            FeatureSpec(
                f"peer_rate_{cell}",
                f"smoothed share of inspections finding a violation among workplaces "
                f"with the same {' × '.join(keys)}, before the as-of date",
                FAMILY,
            )
        )
    first = next(iter(CELLS))
    for c in categories:
        specs.append(
            FeatureSpec(
                f"peer_rate_{c}_{first}",
                f"smoothed share of {c} findings that were violations in the same "
                f"{' × '.join(CELLS[first])} cell, before the as-of date",
                FAMILY,
            )
        )
    return specs


def _smoothed_rate(
    cell_of_employer: pd.Series, event_cells: pd.Series, outcomes: np.ndarray
) -> np.ndarray:
    overall = float(outcomes.mean()) if len(outcomes) else 0.0
    stats = (
        pd.DataFrame({"cell": event_cells.to_numpy(), "y": outcomes})
        .groupby("cell", observed=True)["y"]
        .agg(["sum", "count"])
    )
    rate = (stats["sum"] + PRIOR_INSPECTIONS * overall) / (stats["count"] + PRIOR_INSPECTIONS)
    return cell_of_employer.map(rate).fillna(overall).to_numpy(dtype=np.float64)


def _cell_key(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.Series:
    key = frame[keys[0]].astype("string").fillna("?")
    for k in keys[1:]:
        key = key + "|" + frame[k].astype("string").fillna("?")
    return key


def peer_rate_features(
    frames: ContractFrames, attributes: pd.DataFrame, categories: list[str]
) -> pd.DataFrame:
    """``attributes`` is the output of ``attribute_features`` for the same employers."""
    insp = frames.inspections
    known = insp["employer_id"].isin(attributes.index)
    insp = insp[known]
    at_insp = attributes.loc[insp["employer_id"].to_numpy()]
    out: dict[str, np.ndarray] = {}
    for cell, keys in CELLS.items():
        out[f"peer_rate_{cell}"] = _smoothed_rate(
            _cell_key(attributes, keys),
            _cell_key(at_insp, keys),
            insp["violation_found"].to_numpy(dtype=np.float64),
        )
    first = next(iter(CELLS))
    find = frames.findings.merge(insp[["inspection_id", "employer_id"]], on="inspection_id")
    at_find = attributes.loc[find["employer_id"].to_numpy()]
    employer_cell = _cell_key(attributes, CELLS[first])
    finding_cell = _cell_key(at_find, CELLS[first])
    for c in categories:
        is_c = (find["category"] == c).to_numpy()
        out[f"peer_rate_{c}_{first}"] = _smoothed_rate(
            employer_cell,
            finding_cell[is_c],
            find.loc[is_c, "violation"].to_numpy(dtype=np.float64),
        )
    return pd.DataFrame(out, index=attributes.index)
