"""Peer rates: how often inspections of similar workplaces found violations, as of a date.

This is the signal the inspectorate's current official model relies on: the smoothed
historical violation rate of the employer's cell. Smoothing (empirical Bayes toward the
overall rate, ``PRIOR_INSPECTIONS`` pseudo-inspections) keeps small cells from
producing extreme rates.
"""

from __future__ import annotations

import json
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

    def to_json(self) -> str:
        """A few thousand numbers as JSON, kept with a snapshot (floats round-trip exactly)."""
        return json.dumps(
            {
                name: {
                    "keys": list(r.keys),
                    "default": r.default,
                    "cells": [[str(k), float(v)] for k, v in r.by_cell.items()],
                }
                for name, r in self.rates.items()
            }
        )

    @classmethod
    def from_json(cls, text: str) -> PeerRateTables:
        rates = {}
        for name, table in json.loads(text).items():
            cells = table["cells"]
            by_cell = pd.Series(
                [rate for _, rate in cells],
                index=pd.Index([key for key, _ in cells], dtype=object, name="cell"),
                dtype=np.float64,
            )
            rates[name] = SmoothedRates(tuple(table["keys"]), by_cell, float(table["default"]))
        return cls(rates)


@dataclass(frozen=True)
class PeerRateCounts:
    """Per cell of each peer-rate feature, the violations found and the inspections made.

    Counts add up: the population's are the sum of any split of it by workplace (each
    inspection counts in its workplace's part), which is how a cluster computes them,
    one part per worker. :meth:`tables` then smooths them into rates.
    """

    #: feature name -> (cell keys, frame indexed by cell with columns ``sum`` and ``count``)
    cells: dict[str, tuple[tuple[str, ...], pd.DataFrame]]

    def __add__(self, other: PeerRateCounts) -> PeerRateCounts:
        return PeerRateCounts(
            {
                name: (keys, counts.add(other.cells[name][1], fill_value=0))
                for name, (keys, counts) in self.cells.items()
            }
        )

    def tables(self) -> PeerRateTables:
        """Each cell's rate shrunk toward the overall rate by ``PRIOR_INSPECTIONS``."""
        rates = {}
        for name, (keys, counts) in self.cells.items():
            events = float(counts["count"].sum())
            overall = float(counts["sum"].sum()) / events if events else 0.0
            rate = (counts["sum"] + PRIOR_INSPECTIONS * overall) / (
                counts["count"] + PRIOR_INSPECTIONS
            )
            rates[name] = SmoothedRates(keys, rate, overall)
        return PeerRateTables(rates)


def _cell_counts(cells: pd.Index, codes: np.ndarray, outcomes: np.ndarray) -> pd.DataFrame:
    """Per cell with at least one event, the sum of ``outcomes`` and the number of events;
    ``codes`` are each event's position in ``cells``."""
    count = np.bincount(codes, minlength=len(cells)).astype(np.float64)
    # float even without events (bincount of nothing is int, weights or not)
    total = np.bincount(codes, weights=outcomes, minlength=len(cells)).astype(np.float64)
    seen = count > 0
    return pd.DataFrame(
        {"sum": total[seen], "count": count[seen]},
        index=pd.Index(np.asarray(cells, dtype=object)[seen], name="cell"),
    ).sort_index()


def _cell_key(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.Series:
    key = frame[keys[0]].astype("string").fillna("?")
    for k in keys[1:]:
        key = key + "|" + frame[k].astype("string").fillna("?")
    return key


def peer_rate_counts(
    frames: ContractFrames, attributes: pd.DataFrame, categories: list[str]
) -> PeerRateCounts:
    """The cell counts of ``frames`` (already cut as of the date); ``attributes`` is the
    output of ``attribute_features`` for the same employers.

    Each workplace's cell is keyed once and events reach it by position: keying every
    inspection and finding (millions at national size) cost 8% of a 1M-workplace training.
    """
    insp = frames.inspections
    employer_of_inspection = attributes.index.get_indexer(insp["employer_id"].astype(str))
    known = employer_of_inspection >= 0
    employer_of_inspection = employer_of_inspection[known]
    outcomes = insp["violation_found"].to_numpy(dtype=np.float64)[known]
    cells: dict[str, tuple[tuple[str, ...], pd.DataFrame]] = {}
    cell_of_employer: dict[str, tuple[np.ndarray, pd.Index]] = {}
    for cell, keys in CELLS.items():
        codes, uniques = pd.factorize(_cell_key(attributes, keys))
        cell_of_employer[cell] = (codes, uniques)
        cells[f"peer_rate_{cell}"] = (
            keys,
            _cell_counts(uniques, codes[employer_of_inspection], outcomes),
        )
    first = next(iter(CELLS))
    findings = frames.findings
    inspection = pd.Index(insp["inspection_id"].astype(str)[known]).get_indexer(
        findings["inspection_id"].astype(str)
    )
    of_known = inspection >= 0
    codes, uniques = cell_of_employer[first]
    finding_cell = codes[employer_of_inspection[inspection[of_known]]]
    category = findings["category"].to_numpy(dtype=object)[of_known]
    violation = findings["violation"].to_numpy(dtype=np.float64)[of_known]
    for c in categories:
        is_c = category == c
        cells[f"peer_rate_{c}_{first}"] = (
            CELLS[first],
            _cell_counts(uniques, finding_cell[is_c], violation[is_c]),
        )
    return PeerRateCounts(cells)


def peer_rate_tables(
    frames: ContractFrames, attributes: pd.DataFrame, categories: list[str]
) -> PeerRateTables:
    """The cell rates of ``frames`` (already cut as of the date); ``attributes`` is the output
    of ``attribute_features`` for the same employers."""
    return peer_rate_counts(frames, attributes, categories).tables()


def apply_peer_rates(tables: PeerRateTables, attributes: pd.DataFrame) -> pd.DataFrame:
    """Each workplace's peer rates: the rate of its cell in ``tables``."""
    cells: dict[tuple[str, ...], pd.Series] = {}
    out: dict[str, np.ndarray] = {}
    for name, rates in tables.rates.items():
        if rates.keys not in cells:
            cells[rates.keys] = _cell_key(attributes, rates.keys)
        out[name] = rates.of(cells[rates.keys])
    return pd.DataFrame(out, index=attributes.index)
