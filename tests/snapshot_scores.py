"""Snapshot scores for tests: made up (:func:`scores_of`), or read back from the store in
long form (:func:`stored_scores`).

Snapshots are stored a row per workplace (:mod:`calle.store.snapshot_tables`); tests that
check ranks, probabilities and directory entries read them back through the same reader the
product uses, one row per snapshot, target and workplace.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from calle.store import schema
from calle.store.snapshot_tables import DIRECTORY_COLUMNS, read_scores, score_schema


def stored_scores(engine: sa.Engine) -> pd.DataFrame:
    """Every stored snapshot's scores in long form, as tests compare them: a row per snapshot,
    target and workplace with its probability, rank, percentile and directory entry."""
    with engine.connect() as connection:
        snapshots = connection.execute(
            sa.select(schema.score_snapshots.c.snapshot_id, schema.score_snapshots.c.targets)
        ).all()
        parts = []
        for snapshot_id, targets in snapshots:
            wide = read_scores(connection, snapshot_id).to_pandas()
            for target in json.loads(targets):
                parts.append(
                    pd.DataFrame(
                        {
                            "snapshot_id": snapshot_id,
                            "target": target,
                            "employer_id": wide["employer_id"],
                            "probability": wide[f"p_{target}"],
                            "rank": wide[f"rank_{target}"],
                            "percentile": 100.0 * (len(wide) - wide[f"rank_{target}"]) / len(wide),
                            **{c: wide[c] for c in DIRECTORY_COLUMNS},
                        }
                    )
                )
    return pd.concat(parts, ignore_index=True).sort_values(["snapshot_id", "target", "rank"])


TARGETS = ["any", "safety_health"]


def scores_of(n: int) -> pa.Table:
    """``n`` workplaces' stored scores, random but seeded, with missing directory values
    and a non-ASCII sector among them."""
    rng = np.random.default_rng(7)
    ids = [f"E{i:06d}" for i in range(n)]
    columns: dict[str, object] = {
        "employer_id": ids,
        # ten states of 10% each and 11 municipalities of ~7%: small enough to be read from
        # their own lists (service.ranked_snapshot), with missing values among them
        "state": [
            ("09", "14", "01", "02", "03", "04", "05", "06", "07", None)[i % 10] for i in range(n)
        ],
        "municipality": [f"09{i % 11:03d}" if i % 4 else None for i in range(n)],
        "sector": [("336390", "46", "Ñ")[i % 3] for i in range(n)],
        "size_band": [("micro", None)[i % 2] for i in range(n)],
    }
    for target in TARGETS:
        p = rng.random(n)
        columns[f"p_{target}"] = p
        rank = np.empty(n, np.int32)
        rank[np.argsort(-p, kind="stable")] = np.arange(1, n + 1)
        columns[f"rank_{target}"] = rank
    return pa.table(columns, schema=score_schema(TARGETS))
