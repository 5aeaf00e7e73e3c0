"""Peer rates: how often inspections of similar workplaces found violations, as of a date.

This is the signal the inspectorate's current official model relies on: the smoothed
historical violation rate of the employer's cell. Smoothing (empirical Bayes toward the
overall rate, ``PRIOR_INSPECTIONS`` pseudo-inspections) keeps small cells from
producing extreme rates.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class SmoothedRates:
    """Smoothed rate per cell of ``keys``; ``default`` for cells never inspected."""

    keys: tuple[str, ...]
    by_cell: pd.Series
    default: float

    def of(self, cells: pd.Series) -> np.ndarray:
        """The rate of each workplace's cell (``cells`` as made by :func:`_cell_key`)."""
        return cells.map(self.by_cell).fillna(self.default).to_numpy(dtype=np.float64)


@dataclass(frozen=True)
class PeerRateTables:
    """Every peer-rate feature's table of cell rates, as learnt from one population.

    Computing them needs the whole population's inspections, applying them only a
    workplace's cell: so features for a few workplaces (``POST /score`` by id) can use
    tables computed once from everyone, and agree exactly with the population's matrix.
    """

    rates: dict[str, SmoothedRates]


def _smoothed_rates(
    keys: tuple[str, ...], event_cells: pd.Series, outcomes: np.ndarray
) -> SmoothedRates:
    overall = float(outcomes.mean()) if len(outcomes) else 0.0
    stats = (
        pd.DataFrame({"cell": event_cells.to_numpy(), "y": outcomes})
        .groupby("cell", observed=True)["y"]
        .agg(["sum", "count"])
    )
    rate = (stats["sum"] + PRIOR_INSPECTIONS * overall) / (stats["count"] + PRIOR_INSPECTIONS)
    return SmoothedRates(keys, rate, overall)


def _cell_key(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.Series:
    key = frame[keys[0]].astype("string").fillna("?")
    for k in keys[1:]:
        key = key + "|" + frame[k].astype("string").fillna("?")
    return key


def peer_rate_tables(
    frames: ContractFrames, attributes: pd.DataFrame, categories: list[str]
) -> PeerRateTables:
    """The cell rates of ``frames`` (already cut as of the date); ``attributes`` is the output
    of ``attribute_features`` for the same employers."""
    insp = frames.inspections
    insp = insp[insp["employer_id"].isin(attributes.index)]
    at_insp = attributes.loc[insp["employer_id"].to_numpy()]
    rates: dict[str, SmoothedRates] = {}
    for cell, keys in CELLS.items():
        rates[f"peer_rate_{cell}"] = _smoothed_rates(
            keys, _cell_key(at_insp, keys), insp["violation_found"].to_numpy(dtype=np.float64)
        )
    first = next(iter(CELLS))
    find = frames.findings.merge(insp[["inspection_id", "employer_id"]], on="inspection_id")
    finding_cell = _cell_key(attributes.loc[find["employer_id"].to_numpy()], CELLS[first])
    for c in categories:
        is_c = (find["category"] == c).to_numpy()
        rates[f"peer_rate_{c}_{first}"] = _smoothed_rates(
            CELLS[first], finding_cell[is_c], find.loc[is_c, "violation"].to_numpy(dtype=np.float64)
        )
    return PeerRateTables(rates)


def apply_peer_rates(tables: PeerRateTables, attributes: pd.DataFrame) -> pd.DataFrame:
    """Each workplace's peer rates: the rate of its cell in ``tables``."""
    cells: dict[tuple[str, ...], pd.Series] = {}
    out: dict[str, np.ndarray] = {}
    for name, rates in tables.rates.items():
        if rates.keys not in cells:
            cells[rates.keys] = _cell_key(attributes, rates.keys)
        out[name] = rates.of(cells[rates.keys])
    return pd.DataFrame(out, index=attributes.index)
