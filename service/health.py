"""``/health`` (the process answers) and ``/ready`` (it can serve), without a key.

Orchestrators restart on a failing health check and route traffic on readiness, so /health
touches nothing but the process while /ready checks the store, that a snapshot exists (for
rankings) and that a model is loaded (for scoring). A failed model update does not make the
service unready while it still serves the previous model; /ready lists it under ``warnings``.
"""

from __future__ import annotations

import logging
from datetime import date

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from service.dependencies import EngineDep, FollowerDep
from service.problems import Problem, problem_responses
from service.snapshots import SERVED_MODEL, latest_snapshot

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "snapshot_id": "20260101-1a2b3c4d",
                    "model_name": "employer-risk",
                    "model_version": "7",
                    "as_of": "2026-01-01",
                    "serving_model_version": "8",
                    "warnings": [
                        "employer-risk version 9 failed to load: OSError: ...; "
                        "still serving version 8"
                    ],
                }
            ]
        }
    )

    status: str
    snapshot_id: str = Field(description="The snapshot rankings and employer risk come from.")
    model_name: str = Field(
        description="The registered model the service follows: its champion scores and its "
        "newest snapshot is served (snapshots of other models, e.g. a campaign's, are not)."
    )
    model_version: str = Field(description="The model version that scored that snapshot.")
    as_of: date = Field(description="The snapshot's as-of date.")
    serving_model_version: str = Field(
        description="The version `POST /api/v1/score` scores with: the registry's champion "
        "when last checked, unless it failed to load."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="What is degraded while still serving, e.g. a champion that failed to load.",
    )


@router.get("/health", response_model=Health, summary="The process is alive")
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    summary="The store answers and a snapshot is there to serve",
    responses=problem_responses(503),
)
def ready(engine: EngineDep, follower: FollowerDep) -> Readiness:
    try:
        with engine.connect() as connection:
            snapshot = latest_snapshot(connection, SERVED_MODEL)
    except sa.exc.SQLAlchemyError as error:
        log.warning("not ready: the store does not answer: %s", error)
        raise Problem(503, "not-ready", "The store is not reachable.") from None
    if snapshot is None:
        raise Problem(
            503,
            "not-ready",
            f"No score snapshot of {SERVED_MODEL} is stored yet: run `calle score`.",
        )
    state = follower.state
    if state.served is None:
        why = state.error or "the model is still loading"
        raise Problem(503, "not-ready", f"No model is loaded for scoring: {why}.")
    warnings = []
    if state.error is not None:
        warnings.append(f"{state.error}; still serving version {state.served.version}")
    return Readiness(
        status="ready",
        snapshot_id=snapshot.snapshot_id,
        model_name=snapshot.model_name,
        model_version=snapshot.model_version,
        as_of=snapshot.as_of,
        serving_model_version=state.served.version,
        warnings=warnings,
    )
