"""The truth file: what an inspection would find, for every workplace, at a date.

Definition, at date d, for each workplace registered by d:

* ``p_<c>`` = v_c(d) × D_c × s̄ — the probability that a standard inspection covering
  category c finds a violation there: the true probability of being in violation
  (risk.py) times the category's detection probability and the mean inspector skill.
* ``p_any`` = 1 − Π_c (1 − K_c × p_c) — the probability that a standard inspection
  finds at least one violation, with K_c the chance an ordinary inspection covers c.

Snapshots are taken on each 1 January of the span (the state the month starts with)
and on the last day (the state after the last month). Sorting by ``p_any`` is the
oracle ranking every model is compared with. The truth is never damaged.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from calle.settings import MEXICO_CATEGORIES
from features.world.config import to_day
from features.world.population import Population
from features.world.risk import COVERAGE, DETECTION

TRUTH_DECIMALS = 6


def truth_columns() -> tuple[str, ...]:
    return ("employer_id", "p_any", *(f"p_{c}" for c in MEXICO_CATEGORIES))


def truth_file_stem(as_of: dt.date) -> str:
    return f"risk_{as_of.isoformat()}"


def truth_table(
    as_of: dt.date,
    violation: np.ndarray,
    population: Population,
    employer_ids: pa.Array,
    mean_skill: float,
) -> pa.Table:
    """The truth at ``as_of`` from the true violation probabilities v (workplaces × 5)."""
    registered = np.flatnonzero(population.registered_day <= to_day(as_of))
    found = violation[registered].astype(np.float64) * (DETECTION * mean_skill)
    p_any = 1.0 - np.prod(1.0 - COVERAGE * found, axis=1)
    columns: dict[str, pa.Array] = {
        "employer_id": employer_ids.take(pa.array(registered)),
        "p_any": pa.array(np.round(p_any, TRUTH_DECIMALS)),
    }
    for k, category in enumerate(MEXICO_CATEGORIES):
        columns[f"p_{category}"] = pa.array(np.round(found[:, k], TRUTH_DECIMALS))
    return pa.table(columns)
