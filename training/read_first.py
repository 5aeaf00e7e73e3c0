"""Which scores a snapshot explains when it is written: those planners read first.

TreeSHAP for a workplace's six targets costs 0.6 to 3.5 ms on two cores (the service
benchmark's champion of 209 trees; a model trained on a million workplaces), ten minutes to an
hour per million workplaces, and each score explained is a row of ``snapshot_reasons``, while
planners read the tops of a few rankings. So `calle score`
explains, per target, the top ``top`` workplaces nationally, in every state and in every
office's area (``CALLE_OFFICES_FILE``). The service explains any other score when it is
first read (:mod:`service.reasons_on_read`).

Each office's own top is chosen, not the top of every municipality it names: offices name
municipalities one by one (the synthetic world's 42 offices name all 2,477), and the top 100
of each municipality was a fifth of a million workplaces at 1M, explained for pages few
planners open.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calle.offices import load_office_areas
from calle.settings import Settings


@dataclass(frozen=True)
class Area:
    """An office's area: the workplaces in any of its states or municipalities."""

    states: Collection[str] = ()
    municipalities: Collection[str] = ()


def rows_read_first(
    ranks: pd.DataFrame,
    directory: pd.DataFrame,
    areas: Sequence[Area],
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
    members = [np.flatnonzero(_members(area, state, municipality)) for area in areas]
    out: dict[str, np.ndarray] = {}
    for target in targets:
        rank = ranks[f"rank_{target}"].to_numpy()
        chosen = rank <= top
        chosen |= _top_per_group(rank, state.codes, top)
        for inside in members:  # ranks are distinct: the partition's first ``top`` are exact
            best = (
                inside if len(inside) <= top else inside[np.argpartition(rank[inside], top)[:top]]
            )
            chosen[best] = True
        out[target] = np.flatnonzero(chosen)
    return out


def _members(area: Area, state: pd.Categorical, municipality: np.ndarray) -> np.ndarray:
    codes = [state.categories.get_loc(s) for s in area.states if s in state.categories]
    inside = np.isin(state.codes, codes)
    if area.municipalities:
        inside |= pd.Series(municipality).isin(list(area.municipalities)).to_numpy()
    return inside


def office_areas(settings: Settings) -> list[Area]:
    """The areas of the offices in ``CALLE_OFFICES_FILE`` (none without one)."""
    areas = load_office_areas(settings.offices_file)
    if areas is None:
        return []
    return [Area(area.states, area.municipalities) for area in areas.offices.values()]


def _top_per_group(rank: np.ndarray, group: np.ndarray, top: int) -> np.ndarray:
    """Whether each row is among the ``top`` best-ranked of its group (code -1: no group)."""
    order = np.lexsort((rank, group))
    sorted_group = group[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_group)) + 1]
    place = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    chosen = np.zeros(len(rank), bool)
    chosen[order] = (place < top) & (sorted_group >= 0)
    return chosen
