"""``GET /api/v1/employers/{employer_id}/risk``: one workplace's risk, its reasons and record.

The page a planner opens before sending an inspector: the latest snapshot's overall and
per-category probability, rank and percentile with the reasons behind each in plain words,
and a summary of the workplace's history in the store (:mod:`service.history`). Every call
is audited, refused ones included, like rankings.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from calle.store import schema, statement_connection
from service.audit import record_access
from service.auth import require
from service.dependencies import CachesDep, EngineDep, ReasonsOnReadDep
from service.history import HistorySummary, history_summary
from service.keys import ApiKey
from service.problems import Problem, problem_responses
from service.ranked_snapshot import RankedSnapshot
from service.read_cache import ServiceCaches
from service.reasons import RiskReason, explained
from service.reasons_on_read import Explainer, ScoreKey, stored_reasons
from service.roles import Role
from service.snapshots import SnapshotInfo, current_snapshot

#: The overall target every snapshot holds (models.risk_model.OVERALL).
OVERALL = "any"

#: As written to the audit log; the employer id goes in its filters.
ENDPOINT = "/api/v1/employers/{employer_id}/risk"


class TargetRisk(BaseModel):
    probability: float = Field(
        description="Calibrated probability that an inspection finds a violation (of this "
        "category, or of any for the overall risk)."
    )
    rank: int = Field(description="1 = riskiest of the snapshot for this target.")
    percentile: float = Field(description="Share of all scored workplaces ranked lower, in %.")
    reasons: list[RiskReason] = Field(
        description="The top reasons raising this score, strongest first; explained when first "
        "read if the snapshot was stored without them; empty only when the model that scored "
        "the snapshot is no longer the one served."
    )


_EXAMPLE_RISK = {
    "probability": 0.83,
    "rank": 1,
    "percentile": 99.99,
    "reasons": [
        {
            "feature": "safety_health_violations_3y",
            "contribution": 0.41,
            "value": 3,
            "text_es": "3 violaciones de seguridad e higiene en los últimos 3 años",
            "text_en": "3 safety and health violations in the last 3 years",
        }
    ],
}


class EmployerRisk(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "employer_id": "E0001234",
                    "name": "Autopartes del Bajío SA de CV",
                    "state": "11",
                    "municipality": "11020",
                    "sector": "336390",
                    "size_band": "large",
                    "snapshot_id": "20260101-1a2b3c4d",
                    "model_name": "employer-risk",
                    "model_version": "7",
                    "as_of": "2026-01-01",
                    "scored": 1000000,
                    "overall": _EXAMPLE_RISK,
                    "categories": {"safety_health": _EXAMPLE_RISK},
                    "history": {
                        "inspections": {"inspections": 4, "with_violations": 3},
                        "by_origin": {
                            "complaint": {"inspections": 1, "with_violations": 1},
                            "planned": {"inspections": 3, "with_violations": 2},
                        },
                        "last_inspection": {
                            "date": "2025-06-12",
                            "origin": "complaint",
                            "violation_found": True,
                        },
                        "violations_by_category": {"safety_health": 3, "working_conditions": 1},
                        "complaints": {
                            "total": 2,
                            "by_category": {"safety_health": 2},
                            "by_channel": {"phone": 1, "web": 1},
                        },
                        "open_remediations": [{"opened_on": "2025-06-20", "source": "EXP-88"}],
                    },
                }
            ]
        }
    )

    employer_id: str
    name: str | None
    state: str
    municipality: str | None
    sector: str = Field(description="SCIAN code.")
    size_band: str | None
    snapshot_id: str
    model_name: str
    model_version: str
    as_of: dt.date = Field(description="The date the features were computed as of.")
    scored: int = Field(description="How many workplaces the snapshot ranks.")
    overall: TargetRisk = Field(description="The risk of a violation of any category.")
    categories: dict[str, TargetRisk] = Field(description="The risk per finding category.")
    history: HistorySummary


router = APIRouter(tags=["employers"])


def _employer(connection: sa.Connection, employer_id: str) -> sa.Row:
    table = schema.employers
    row = connection.execute(
        sa.select(
            table.c.employer_id,
            table.c.name,
            table.c.state,
            table.c.municipality,
            table.c.sector,
            table.c.size_band,
        ).where(table.c.employer_id == employer_id)
    ).one_or_none()
    if row is None:
        raise Problem(404, "unknown-employer", f"No employer {employer_id!r} is in the store.")
    return row


def _scored(ranked: RankedSnapshot, snapshot: SnapshotInfo, employer_id: str) -> int:
    """Where the snapshot holds ``employer_id``; 404 if it did not score it."""
    position = ranked.position(employer_id)
    if position is None:
        raise Problem(
            404,
            "employer-not-scored",
            f"Employer {employer_id!r} is not in the latest snapshot {snapshot.snapshot_id} "
            f"(as of {snapshot.as_of}); it was probably registered after it: run `calle score` "
            "to score it.",
        )
    return position


def _scores(
    ranked: RankedSnapshot,
    position: int,
    stored: dict[ScoreKey, str],
    explain: Explainer,
    snapshot: SnapshotInfo,
    employer_id: str,
) -> dict[str, TargetRisk]:
    """Each target's risk; its reasons as stored, or explained now."""
    missing = [(t, employer_id) for t in snapshot.targets if (t, employer_id) not in stored]
    found = explain(snapshot, missing)
    by_target = {}
    for target in snapshot.targets:
        score = ranked.score(target, position)
        by_target[target] = TargetRisk(
            probability=score.probability,
            rank=score.rank,
            percentile=score.percentile,
            reasons=explained(
                stored.get((target, employer_id)) or found.get((target, employer_id))
            ),
        )
    return by_target


def risk_of(
    engine: sa.Engine, caches: ServiceCaches, explain: Explainer, employer_id: str
) -> EmployerRisk:
    """The latest snapshot's risk of ``employer_id`` (its scores from the snapshot in memory,
    its history read fresh); scores without stored reasons are explained by ``explain``."""
    snapshot = current_snapshot(engine, caches.snapshots)
    ranked = (
        None
        if snapshot is None
        else caches.ranked.get(engine, snapshot.snapshot_id, snapshot.targets)
    )
    with statement_connection(engine) as connection:
        employer = _employer(connection, employer_id)
        if snapshot is None or ranked is None:
            raise Problem(
                409, "no-snapshot", "No score snapshot is stored yet: run `calle score` first."
            )
        position = _scored(ranked, snapshot, employer_id)
        stored = stored_reasons(
            connection, snapshot.snapshot_id, list(snapshot.targets), [employer_id]
        )
        history = history_summary(connection, employer_id)
    # explained after the connection is back: explaining reads and writes on its own
    by_target = _scores(ranked, position, stored, explain, snapshot, employer_id)
    return EmployerRisk(
        employer_id=employer.employer_id,
        name=employer.name,
        state=employer.state,
        municipality=employer.municipality,
        sector=employer.sector,
        size_band=employer.size_band,
        snapshot_id=snapshot.snapshot_id,
        model_name=snapshot.model_name,
        model_version=snapshot.model_version,
        as_of=snapshot.as_of,
        scored=snapshot.employers,
        overall=by_target[OVERALL],
        categories={t: by_target[t] for t in snapshot.targets if t != OVERALL and t in by_target},
        history=history,
    )


@router.get(
    "/employers/{employer_id}/risk",
    response_model=EmployerRisk,
    summary="One workplace's risk, its reasons and a summary of its record",
    description="From the latest snapshot: overall and per-category probability, rank and "
    "percentile, each with its reasons in Spanish and English; and counts from the store of "
    "the workplace's inspections, violations, complaints (counts only) and open remediation "
    "plans. Every call is written to the audit log. 404 for an unknown employer or one the "
    "snapshot does not hold; 409 until a snapshot exists (`calle score`).",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def employer_risk(
    request: Request,
    engine: EngineDep,
    caches: CachesDep,
    explain: ReasonsOnReadDep,
    key: Annotated[ApiKey, Depends(require(Role.planner))],
    employer_id: Annotated[
        str, Path(min_length=1, max_length=128, description="The employer's id, e.g. `E0001234`.")
    ],
) -> EmployerRisk:
    audited = {"employer_id": employer_id}
    try:
        risk = risk_of(engine, caches, explain, employer_id)
    except Problem as problem:
        record_access(engine, key, request.method, ENDPOINT, audited, 0, problem.status)
        raise
    record_access(engine, key, request.method, ENDPOINT, audited, 1, 200)
    return risk
