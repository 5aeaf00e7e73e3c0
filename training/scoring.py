"""Score every workplace with the champion and store the result as a snapshot.

A snapshot names the model version and the as-of date; per workplace and target it holds
the probability, the rank (1 = riskiest; ties broken by employer id, so rankings are
deterministic) and the percentile (share of workplaces scored lower, in %).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from calle.settings import Settings
from calle.store import bulk, open_store, schema, snapshot_tables
from calle.store.snapshot_features import ScoredFeatures, drop_older_features, write_features
from features.matrix import population_peer_rates
from features.peer_rates import PeerRateTables
from features.store_frames import load_frames
from models.compiled_forest import compiled_if_possible
from models.explanations import reasons_json, top_reasons
from models.packaging import load_version
from models.risk_model import OVERALL, RiskModel, probability_column
from training.compute import IN_PROCESS, Compute
from training.metrics import ranking_order
from training.monitoring import (
    drift_report,
    load_reference,
    realised_hit_rates,
    store_report,
)
from training.read_first import office_areas, rows_read_first
from training.registry import RegistryError, current_champion

log = logging.getLogger(__name__)


@dataclass
class Snapshot:
    snapshot_id: str
    model_name: str
    model_version: str
    as_of: date
    scores: pd.DataFrame  # index employer_id; p_<target>, rank_<target>, percentile_<target>
    #: Per target, per workplace (in ``scores`` order): the top reasons as JSON text, or None
    #: where they are left to be explained when first read (training.read_first).
    reasons: dict[str, list[str | None]]
    #: The population's peer rates the features used (None: not kept, as by benchmarks).
    peer_rates: PeerRateTables | None = None
    #: The feature rows scored, kept so the service explains any score on first read
    #: without recomputing them (None: not kept, as by benchmarks).
    features: ScoredFeatures | None = None

    @property
    def targets(self) -> list[str]:
        return [c.removeprefix("p_") for c in self.scores.columns if c.startswith("p_")]


def load_champion(settings: Settings, model_name: str) -> tuple[str, RiskModel]:
    client = mlflow.MlflowClient(
        tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri
    )
    version = current_champion(client, model_name)
    if version is None:
        raise RegistryError(
            f"{model_name} has no champion: run `calle train --promote` or `calle promote`"
        )
    return version, load_version(settings.tracking_uri, model_name, version)


def rank_scores(probabilities: pd.DataFrame) -> pd.DataFrame:
    """Add rank and percentile per target; ties go to the smaller employer id."""
    ids = probabilities.index.to_numpy().astype(str)
    n = len(ids)
    out = probabilities.copy()
    for column in probabilities.columns:
        target = column.removeprefix("p_")
        rank = np.empty(n, np.int64)
        rank[ranking_order(probabilities[column].to_numpy(), ids)] = np.arange(1, n + 1)
        out[f"rank_{target}"] = rank
        out[f"percentile_{target}"] = 100.0 * (n - rank) / n
    return out


def score_population(
    settings: Settings,
    as_of: date | None = None,
    model_name: str = "employer-risk",
    engine: sa.Engine | None = None,
    compute: Compute = IN_PROCESS,
) -> Snapshot:
    """Score everyone with the champion as of ``as_of`` and store the snapshot.

    By default ``as_of`` is the day after the latest event on record: the features then
    see everything the store knows, and nothing is pretended about days it has no data for.
    """
    version, model = load_champion(settings, model_name)
    if settings.compiled_trees:
        model = compiled_if_possible(model, settings.compiled_trees_dir)
    own_engine = engine is None
    engine = engine or open_store(settings)
    try:
        frames = load_frames(engine)
        if as_of is None:
            as_of = frames.last_event_day() + timedelta(days=1)
        # kept with the snapshot: the service explains its scores on read with them
        peer_rates = population_peer_rates(frames, as_of, model.categories)
        features = compute.features(
            frames, as_of, model.categories, model.attribute_kinds, peer_rates
        )
        scores = rank_scores(model.predict(features))
        drift = _drift(settings, model_name, version, features, scores, as_of)
        explained_rows = rows_read_first(
            scores,
            frames.employers.set_index("employer_id").reindex(scores.index.astype(str)),
            office_areas(settings),
            settings.snapshot_reasons_top,
        )
        snapshot = Snapshot(
            snapshot_id=f"{as_of:%Y%m%d}-{uuid.uuid4().hex[:8]}",
            model_name=model_name,
            model_version=version,
            as_of=as_of,
            scores=scores,
            reasons=explain(model, features, explained_rows),
            peer_rates=peer_rates,
            features=scored_features(model, features),
        )
        store_snapshot(engine, snapshot, frames.employers, drift)
        _log_hit_rates(engine, settings, model_name, version)
    finally:
        if own_engine:
            engine.dispose()
    log.info(
        "snapshot %s: %d workplaces scored by %s version %s as of %s",
        snapshot.snapshot_id,
        len(scores),
        model_name,
        version,
        as_of,
    )
    return snapshot


def scored_features(model: RiskModel, features: pd.DataFrame) -> ScoredFeatures:
    """The rows to keep: what the boosters read, but the neutralised features (fixed)."""
    inputs = set(model.encoded_inputs)
    return ScoredFeatures(
        features,
        [name for name in model.encoder.numeric if name in inputs],
        [name for name in model.encoder.categorical if name in inputs],
    )


def _drift(
    settings: Settings,
    model_name: str,
    version: str,
    features: pd.DataFrame,
    scores: pd.DataFrame,
    as_of: date,
) -> dict | None:
    """The population's drift since the version was trained, logged; None for a version
    trained before monitoring existed."""
    client = mlflow.MlflowClient(
        tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri
    )
    run_id = client.get_model_version(model_name, version).run_id
    reference = load_reference(client, run_id)
    if reference is None:
        log.warning("version %s has no monitoring reference: drift not measured", version)
        return None
    report = drift_report(reference, features, scores, as_of, settings.drift_warning_psi)
    for warning in report["warnings"]:
        log.warning("drift: %s (trained as of %s)", warning, report["reference_as_of"])
    top = report["features"][0] if report["features"] else None
    log.info(
        "drift since training (as of %s): %s; scores: %s",
        report["reference_as_of"],
        f"largest feature PSI {top['psi']:.3f} ({top['feature']})" if top else "no features",
        ", ".join(f"{s['target']} PSI {s['psi']:.3f}" for s in report["scores"]),
    )
    return report


def _log_hit_rates(engine: sa.Engine, settings: Settings, model_name: str, version: str) -> None:
    for rate in realised_hit_rates(engine, model_name, version, settings.hit_rate_warning_z):
        if rate.status == "off":
            log.warning(
                "hit rate of %s since version %s's first snapshot: %.3f found vs %.3f "
                "predicted over %d inspections (z = %.1f)",
                rate.target,
                version,
                rate.observed_rate,
                rate.predicted_rate,
                rate.inspections,
                rate.z,
            )
        elif rate.inspections:
            log.info(
                "hit rate of %s: %.3f found vs %.3f predicted over %d inspections (%s)",
                rate.target,
                rate.observed_rate,
                rate.predicted_rate,
                rate.inspections,
                rate.status,
            )


#: Rows explained at once: contributions are rows × features floats per target.
EXPLAIN_CHUNK = 50_000


def explain(
    model: RiskModel, features: pd.DataFrame, rows: dict[str, np.ndarray] | None = None
) -> dict[str, list[str | None]]:
    """The top reasons of every target's score as JSON text, for the ``rows`` (positions)
    given per target, or every row; None for the rows not explained."""
    out: dict[str, list[str | None]] = {}
    started, explained = time.perf_counter(), 0
    for target in model.targets:
        wanted = np.arange(len(features)) if rows is None else rows[target]
        texts: list[str | None] = [None] * len(features)
        for start in range(0, len(wanted), EXPLAIN_CHUNK):
            positions = wanted[start : start + EXPLAIN_CHUNK]
            chunk = features.iloc[positions]
            reasons = top_reasons(model, chunk, target, encoded=model.encoded(chunk))
            for position, found in zip(positions.tolist(), reasons, strict=True):
                texts[position] = reasons_json(found)
        out[target] = texts
        explained += len(wanted)
    log.info(
        "explained %d scores (of %d) in %.1f s",
        explained,
        len(features) * len(model.targets),
        time.perf_counter() - started,
    )
    return out


def store_snapshot(
    engine: sa.Engine, snapshot: Snapshot, employers: pd.DataFrame, drift: dict | None = None
) -> None:
    """Write the snapshot, its scores (one row per workplace, :mod:`calle.store.snapshot_tables`),
    the reasons explained so far and the feature rows scored (dropping the model's older
    snapshots' rows, :mod:`calle.store.snapshot_features`), in one transaction."""
    with engine.begin() as connection:
        connection.execute(
            schema.score_snapshots.insert().values(
                snapshot_id=snapshot.snapshot_id,
                model_name=snapshot.model_name,
                model_version=snapshot.model_version,
                as_of=snapshot.as_of,
                created_at=datetime.now(UTC),
                employers=len(snapshot.scores),
                targets=json.dumps(snapshot.targets),
                peer_rates=None if snapshot.peer_rates is None else snapshot.peer_rates.to_json(),
            )
        )
        snapshot_tables.write_scores(
            connection, snapshot.snapshot_id, score_table(snapshot, employers)
        )
        bulk.insert_rows(connection, schema.snapshot_reasons, _reason_rows(snapshot))
        if snapshot.features is not None:
            started = time.perf_counter()
            chunks = write_features(connection, snapshot.snapshot_id, snapshot.features)
            drop_older_features(connection, snapshot.model_name, snapshot.snapshot_id)
            log.info(
                "kept the %d feature rows scored (%d chunks) for explaining on read in %.1f s",
                len(snapshot.features.frame),
                chunks,
                time.perf_counter() - started,
            )
        if drift is not None:
            store_report(
                connection, snapshot.snapshot_id, snapshot.model_name, snapshot.model_version, drift
            )
    bulk.refresh_statistics(engine, [schema.score_snapshots, schema.snapshot_reasons])


def score_table(snapshot: Snapshot, employers: pd.DataFrame) -> pa.Table:
    """The snapshot's scores with each workplace's directory entry, as stored."""
    scores = snapshot.scores
    ids = scores.index.astype(str)
    directory = employers.set_index("employer_id").reindex(ids)
    columns: dict[str, object] = {"employer_id": ids.to_numpy(dtype=object)}
    for column in snapshot_tables.DIRECTORY_COLUMNS:  # missing values (NaN) become nulls
        columns[column] = pa.array(
            directory[column].to_numpy(dtype=object), pa.string(), from_pandas=True
        )
    for target in snapshot.targets:
        columns[f"p_{target}"] = scores[probability_column(target)].to_numpy(np.float64)
        columns[f"rank_{target}"] = scores[f"rank_{target}"].to_numpy(np.int32)
    return pa.table(columns, schema=snapshot_tables.score_schema(snapshot.targets))


def _reason_rows(snapshot: Snapshot) -> pa.Table:
    ids = snapshot.scores.index.astype(str).to_numpy(dtype=object)
    parts = []
    for target in snapshot.targets:
        texts = np.asarray(snapshot.reasons[target], dtype=object)
        explained = np.flatnonzero(texts != None)  # noqa: E711 - elementwise test for None
        parts.append(
            pa.table(
                {
                    "snapshot_id": pa.array([snapshot.snapshot_id] * len(explained), pa.string()),
                    "target": pa.array([target] * len(explained), pa.string()),
                    "employer_id": pa.array(ids[explained], pa.string()),
                    "reasons": pa.array(texts[explained], pa.string()),
                }
            )
        )
    return pa.concat_tables(parts)


def write_scores(snapshot: Snapshot, path: Path) -> Path:
    """``employer_id, rank, score, score_<category>``, riskiest first."""
    scores = snapshot.scores.sort_values(f"rank_{OVERALL}")
    out = pd.DataFrame(
        {
            "employer_id": scores.index.astype(str),
            "rank": scores[f"rank_{OVERALL}"].to_numpy(),
            "score": scores[probability_column(OVERALL)].to_numpy(),
        }
    )
    for target in snapshot.targets:
        if target != OVERALL:
            out[f"score_{target}"] = scores[probability_column(target)].to_numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        out.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        out.to_csv(path, index=False, float_format="%.6f")
    else:
        raise ValueError(f"{path}: write .csv or .parquet")
    return path
