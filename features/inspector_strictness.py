"""How much an inspector finds compared with the peers of the same office, as of a date.

Outcomes depend on who inspected: the same workplace visited by a thorough inspector is
likelier to yield a finding. Within an office, inspectors are assigned to visits without
regard to the workplace, so an inspector's finding rate over the office's is a measure of
the inspector, not of the workplaces. Training may use it (the example's inspector is
known once the visit is made); scoring sets it to 1, the office average, because a planner
ranks workplaces before anyone is assigned.

Only inspections before ``as_of`` count, and rates are shrunk towards the office's by
``prior_inspections`` pseudo-visits, so a new inspector starts at 1.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec, Kind

FEATURE = "inspector_strictness"
#: The value every workplace gets at scoring: an inspector like the office's average.
NEUTRAL = 1.0
SPEC = FeatureSpec(
    FEATURE,
    "finding rate of the visit's inspector over the office's (training only; 1 at scoring)",
    "inspector",
    Kind.NUMERIC,
    monotone=1,
)


def inspector_strictness(
    inspections: pd.DataFrame, as_of: date, prior_inspections: int = 30
) -> pd.Series:
    """Per inspector id: smoothed finding rate over the office's, from visits before ``as_of``."""
    past = inspections[inspections["date"] < np.datetime64(as_of, "s")]
    past = past.dropna(subset=["inspector_id", "office", "violation_found"])
    if past.empty:
        return pd.Series(dtype=np.float64, name=FEATURE)
    found = past["violation_found"].astype(np.float64)
    office = found.groupby(past["office"]).mean()
    by = past.groupby(["inspector_id", "office"])["violation_found"]
    stats = pd.DataFrame({"found": by.sum().astype(np.float64), "visits": by.size()})
    office_rate = stats.index.get_level_values("office").map(office).to_numpy(np.float64)
    rate = (stats["found"] + prior_inspections * office_rate) / (
        stats["visits"] + prior_inspections
    )
    relative = (rate / np.where(office_rate > 0, office_rate, np.nan)).fillna(NEUTRAL)
    # an inspector who moved between offices: weigh each office's figure by visits
    weights = stats["visits"]
    per_inspector = (relative * weights).groupby(level="inspector_id").sum() / weights.groupby(
        level="inspector_id"
    ).sum()
    return per_inspector.rename(FEATURE).astype(np.float64)


def strictness_of(
    inspector_ids: pd.Series, inspections: pd.DataFrame, as_of: date, prior_inspections: int = 30
) -> np.ndarray:
    """The strictness of each given inspector as of the date (neutral if unknown)."""
    table = inspector_strictness(inspections, as_of, prior_inspections)
    return inspector_ids.map(table).fillna(NEUTRAL).to_numpy(np.float64)
