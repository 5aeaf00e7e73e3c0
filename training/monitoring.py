"""Is the champion still right? Drift of its inputs and scores, and its realised hit rate.

Training saves a profile of the population the model was shipped for (its features and
its own scores, as of the day its training data ends) with the run. Each scoring run
compares the new population with it (:func:`drift_report`, stored beside the snapshot
and logged, with a warning past ``CALLE_DRIFT_WARNING_PSI``). The hit rate compares what
inspections found since the model's first snapshot with what the model predicted for
those workplaces in the latest snapshot made before each visit: honest predictions,
made before the outcome was known.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from calle.store import schema
from calle.store.snapshot_tables import read_scores
from models.risk_model import OVERALL, RiskModel
from training.drift import SHIFTED, STABLE, profile_frame, stability

log = logging.getLogger(__name__)

#: The run artifact holding the shipped population's profile.
REFERENCE_ARTIFACT = "monitoring_reference.json"
#: Most workplaces the reference profile is taken on (a random sample of them).
REFERENCE_ROWS = 200_000
#: Fewest inspections for a hit rate to be judged.
MIN_INSPECTIONS = 30
#: Ids per ``IN (...)`` list: far below every engine's bound-parameter limit.
_CHUNK = 5_000


def reference_profile(
    model: RiskModel, population: pd.DataFrame, as_of: date, seed: int = 0
) -> dict:
    """What the model's inputs and scores looked like on the population it was shipped for.

    Profiled on a random sample of at most ``REFERENCE_ROWS`` workplaces: decile shares
    from 200,000 are within a few thousandths of everyone's, and scoring a national
    population only for this took half a minute at 1M.
    """
    fixed = getattr(model, "neutral", {})  # the same for everyone: nothing to drift
    columns = [c for c in model.encoder.columns if c not in fixed]
    profiled = population
    if len(population) > REFERENCE_ROWS:
        profiled = population.sample(REFERENCE_ROWS, random_state=seed)
    scores = model.predict(profiled)
    return {
        "as_of": as_of.isoformat(),
        "employers": len(population),
        "profiled": len(profiled),
        "features": profile_frame(profiled[columns], model.encoder.categorical),
        "scores": profile_frame(scores.rename(columns=lambda c: c.removeprefix("p_")), []),
        "mean_probability": {c.removeprefix("p_"): float(scores[c].mean()) for c in scores.columns},
    }


def load_reference(client: MlflowClient, run_id: str | None) -> dict | None:
    """The run's reference profile; None for a run made before monitoring existed."""
    if not run_id:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run_id, REFERENCE_ARTIFACT, tmp)
        except (MlflowException, OSError):
            return None
        return json.loads(Path(path).read_text())


def _status(psi: float, warn_at: float) -> str:
    if psi >= warn_at:
        return "shifted"
    return "stable" if psi < min(STABLE, warn_at) else "moving"


def drift_report(
    reference: dict,
    features: pd.DataFrame,
    scores: pd.DataFrame,
    as_of: date,
    warn_at: float = SHIFTED,
) -> dict:
    """PSI of every model feature and every target's score, newest population vs reference."""
    feature_psi = stability(reference["features"], features)
    score_psi = stability(
        reference["scores"], scores.rename(columns=lambda c: c.removeprefix("p_"))
    )
    features_out = [
        {"feature": name, "psi": round(psi, 5), "status": _status(psi, warn_at)}
        for name, psi in sorted(feature_psi.items(), key=lambda kv: -kv[1])
    ]
    scores_out = [
        {
            "target": target,
            "psi": round(psi, 5),
            "status": _status(psi, warn_at),
            "reference_mean": reference["mean_probability"].get(target),
            "mean": float(scores[f"p_{target}"].mean()) if f"p_{target}" in scores else None,
        }
        for target, psi in score_psi.items()
    ]
    warnings = [
        f"feature {f['feature']} shifted since training: PSI {f['psi']:.3f}"
        for f in features_out
        if f["status"] == "shifted"
    ] + [
        f"score {s['target']} shifted since training: PSI {s['psi']:.3f}"
        for s in scores_out
        if s["status"] == "shifted"
    ]
    return {
        "reference_as_of": reference["as_of"],
        "as_of": as_of.isoformat(),
        "warn_at_psi": warn_at,
        "features": features_out,
        "scores": scores_out,
        "warnings": warnings,
    }


def store_report(
    connection: sa.Connection, snapshot_id: str, model_name: str, version: str, report: dict
) -> None:
    connection.execute(
        schema.monitoring_reports.insert().values(
            snapshot_id=snapshot_id,
            model_name=model_name,
            model_version=version,
            created_at=datetime.now(UTC),
            report=json.dumps(report),
        )
    )


def latest_report(engine: sa.Engine, model_name: str, version: str) -> tuple[str, dict] | None:
    """(snapshot id, report) of the newest scoring run by this version, if any."""
    table = schema.monitoring_reports
    query = (
        sa.select(table.c.snapshot_id, table.c.report)
        .where(table.c.model_name == model_name, table.c.model_version == version)
        .order_by(table.c.created_at.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else (row.snapshot_id, json.loads(row.report))


@dataclass
class HitRate:
    target: str
    inspections: int
    observed_rate: float | None
    predicted_rate: float | None
    #: (hits − Σp) / √Σp(1−p): how many standard errors the realised count lies from the
    #: predicted one, were the predictions right.
    z: float | None
    status: str  # "no inspections yet" | "too few" | "as predicted" | "off"


def _judge(target: str, y: np.ndarray, p: np.ndarray, warn_z: float) -> HitRate:
    n = len(y)
    if n == 0:
        return HitRate(target, 0, None, None, None, "no inspections yet")
    observed, predicted = float(y.mean()), float(p.mean())
    variance = float((p * (1 - p)).sum())
    z = (float(y.sum()) - float(p.sum())) / math.sqrt(variance) if variance > 0 else None
    if n < MIN_INSPECTIONS:
        status = "too few"
    else:
        status = "off" if z is not None and abs(z) > warn_z else "as predicted"
    return HitRate(target, n, observed, predicted, None if z is None else round(z, 3), status)


def _in_chunks(
    connection: sa.Connection, query_for: Callable[[list[str]], sa.Select], values: list[str]
) -> pd.DataFrame:
    parts = [
        pd.DataFrame(connection.execute(query_for(values[i : i + _CHUNK])).mappings().all())
        for i in range(0, len(values), _CHUNK)
    ]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _visited_probabilities(
    connection: sa.Connection, snapshot_ids: list[str], targets: list[str], visited: set[str]
) -> pd.DataFrame:
    """The visited workplaces' probabilities per snapshot: index (snapshot_id, employer_id),
    a column per target. Each snapshot's ids and probabilities are read whole, then cut."""
    parts = []
    wanted = pa.array(sorted(visited), pa.string())
    for snapshot_id in snapshot_ids:
        stored = read_scores(connection, snapshot_id)
        held = [t for t in targets if f"p_{t}" in stored.column_names]
        if not held:
            continue
        kept = stored.filter(pc.is_in(stored.column("employer_id"), value_set=wanted))
        part = pd.DataFrame({t: kept.column(f"p_{t}").to_numpy() for t in held})
        part["snapshot_id"] = snapshot_id
        part["employer_id"] = kept.column("employer_id").to_numpy(zero_copy_only=False)
        parts.append(part)
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True).set_index(["snapshot_id", "employer_id"])


def realised_hit_rates(
    engine: sa.Engine,
    model_name: str,
    version: str,
    warn_z: float = 3.0,
) -> list[HitRate]:
    """Per target, what inspections since the version's first snapshot found vs predicted."""
    snap = schema.score_snapshots
    insp, found = schema.inspections, schema.findings
    with engine.connect() as connection:
        snapshots = pd.DataFrame(
            connection.execute(
                sa.select(snap.c.snapshot_id, snap.c.as_of, snap.c.targets)
                .where(snap.c.model_name == model_name, snap.c.model_version == version)
                .order_by(snap.c.as_of, snap.c.created_at)
            )
            .mappings()
            .all()
        )
        if snapshots.empty:
            return []
        targets: list[str] = json.loads(snapshots["targets"].iloc[-1])
        first = snapshots["as_of"].min()
        visits = pd.DataFrame(
            connection.execute(
                sa.select(
                    insp.c.inspection_id, insp.c.employer_id, insp.c.date, insp.c.violation_found
                ).where(insp.c.date >= first)
            )
            .mappings()
            .all()
        )
        if visits.empty:
            return [_judge(t, np.empty(0), np.empty(0), warn_z) for t in targets]
        visits["date"] = pd.to_datetime(visits["date"])
        snapshots["as_of"] = pd.to_datetime(snapshots["as_of"])
        # each visit judged by the newest snapshot made as of (on or before) its date
        visits = pd.merge_asof(
            visits.sort_values("date"),
            snapshots[["as_of", "snapshot_id"]].drop_duplicates("as_of", keep="last"),
            left_on="date",
            right_on="as_of",
        )
        wide = _visited_probabilities(
            connection,
            [s for s in visits["snapshot_id"].dropna().unique()],
            targets,
            set(visits["employer_id"].astype(str)),
        )
        findings = _in_chunks(
            connection,
            lambda ids: sa.select(found.c.inspection_id, found.c.category, found.c.violation).where(
                found.c.inspection_id.in_(ids)
            ),
            sorted(visits["inspection_id"].astype(str).unique()),
        )
    visits = visits.join(wide, on=["snapshot_id", "employer_id"]) if not wide.empty else visits
    out = []
    for target in targets:
        if target not in visits:
            out.append(_judge(target, np.empty(0), np.empty(0), warn_z))
            continue
        if target == OVERALL:
            judged = visits.dropna(subset=[target, "violation_found"])
            y = judged["violation_found"].astype(np.float64).to_numpy()
        else:
            if findings.empty:
                out.append(_judge(target, np.empty(0), np.empty(0), warn_z))
                continue
            inspected = findings[findings["category"] == target]
            judged = visits.merge(inspected, on="inspection_id").dropna(subset=[target])
            y = judged["violation"].astype(np.float64).to_numpy()
        out.append(_judge(target, y, judged[target].to_numpy(dtype=np.float64), warn_z))
    return out
