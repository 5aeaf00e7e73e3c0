"""Train, promote and score through the Python API on both store engines, without a truth
folder (the path real, confidential data takes)."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import sqlalchemy as sa

from calle.settings import Settings
from calle.store import open_store, schema
from calle.store.snapshot_tables import read_scores
from features.contract_import import import_folder
from training.config import TrainConfig, parse_config
from training.experiment import train
from training.registry import promote
from training.scoring import score_population

ONE_FOLD: TrainConfig = parse_config({"temporal": {"folds": 1}})


def test_train_promote_score_on_this_engine(settings: Settings, small_world: Path):
    import_folder(small_world, settings)
    result = train(settings, ONE_FOLD)
    assert len(result.folds) == 1
    assert "oracle" not in set(result.summary.index.get_level_values("scorer"))
    assert "oracle_efficiency_at_5pct" not in result.summary.columns
    mlflow.set_tracking_uri(settings.tracking_uri)
    gate = promote(mlflow.MlflowClient(), result.model_name, None, ONE_FOLD.promotion)
    assert gate.promoted
    snapshot = score_population(settings)
    engine = open_store(settings)
    try:
        with engine.connect() as connection:
            stored = read_scores(connection, snapshot.snapshot_id).to_pandas()
            rows = [
                (
                    target,
                    len(stored),
                    stored[f"rank_{target}"].min(),
                    stored[f"rank_{target}"].max(),
                )
                for target in sorted(snapshot.targets)
            ]
            top_ids = stored.loc[stored["rank_any"] <= 20, "employer_id"].tolist()
            top = (
                connection.execute(
                    sa.select(schema.snapshot_reasons.c.reasons).where(
                        schema.snapshot_reasons.c.snapshot_id == snapshot.snapshot_id,
                        schema.snapshot_reasons.c.target == "any",
                        schema.snapshot_reasons.c.employer_id.in_(top_ids),
                    )
                )
                .scalars()
                .all()
            )
            as_of = connection.execute(
                sa.text("SELECT as_of FROM score_snapshots WHERE snapshot_id = :s"),
                {"s": snapshot.snapshot_id},
            ).scalar_one()
    finally:
        engine.dispose()
    n = len(snapshot.scores)
    assert len(rows) == 6 and all(r[1:] == (n, 1, n) for r in rows)
    assert str(as_of) == "2026-01-01"  # the day after the world's last day
    reasons = [json.loads(text) for text in top]
    assert len(reasons) == 20 and all(reasons), "the riskiest workplaces have reasons"
    known = {s.name for s in result.model.specs}
    for row in reasons:
        assert len(row) <= 3 and all(r["feature"] in known and r["contribution"] > 0 for r in row)
