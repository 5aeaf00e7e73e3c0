"""Which scores a snapshot explains when it is written: those planners read first.

TreeSHAP costs about a millisecond per workplace and target, an hour for a million
workplaces' six targets, while planners read the tops of a few rankings. So `calle score`
explains, per target, the top ``top`` workplaces nationally, in every state and in every
municipality an office area names; that holds every office's top ``top`` too (a workplace
among its office's first ``top`` is among the first ``top`` of its covered state or
municipality). The service explains any other score when it is first read
(:mod:`service.reasons_on_read`).
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from calle.offices import load_office_areas
from calle.settings import Settings


def rows_read_first(
    ranks: pd.DataFrame,
    directory: pd.DataFrame,
    municipalities: Collection[str],
    top: int,
) -> dict[str, np.ndarray]:
    """Per target, the sorted positions (rows of ``ranks``) to explain now.

    ``ranks`` holds ``rank_<target>`` columns (1 = riskiest); ``directory`` the ``state`` and
    ``municipality`` of the same rows, in the same order. ``top`` 0 means every row.
    """
    targets = [c.removeprefix("rank_") for c in ranks.columns if c.startswith("rank_")]
    n = len(ranks)
    if top == 0 or top >= n:
        return {target: np.arange(n) for target in targets}
    state = pd.Categorical(directory["state"].to_numpy(dtype=object))
    municipality = directory["municipality"].to_numpy(dtype=object)
    named = pd.Series(municipality).isin(list(municipalities)).to_numpy()
    out: dict[str, np.ndarray] = {}
    for target in targets:
        rank = ranks[f"rank_{target}"].to_numpy()
        chosen = rank <= top
        chosen |= _top_per_group(rank, state.codes, top)
        if named.any():
            groups = pd.Categorical(municipality[named]).codes
            within = np.zeros(n, bool)
            within[np.flatnonzero(named)] = _top_per_group(rank[named], groups, top)
            chosen |= within
        out[target] = np.flatnonzero(chosen)
    return out


def office_municipalities(settings: Settings) -> set[str]:
    """The municipalities office areas name one by one (``CALLE_OFFICES_FILE``)."""
    areas = load_office_areas(settings.offices_file)
    if areas is None:
        return set()
    return {m for area in areas.offices.values() for m in area.municipalities}


def _top_per_group(rank: np.ndarray, group: np.ndarray, top: int) -> np.ndarray:
    """Whether each row is among the ``top`` best-ranked of its group (code -1: no group)."""
    order = np.lexsort((rank, group))
    sorted_group = group[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_group)) + 1]
    place = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    chosen = np.zeros(len(rank), bool)
    chosen[order] = (place < top) & (sorted_group >= 0)
    return chosen
