"""``/health`` (the process answers) and ``/ready`` (it can serve rankings), without a key.

Orchestrators restart on a failing health check and route traffic on readiness, so /health
touches nothing but the process while /ready checks the store and that a snapshot exists.
"""

from __future__ import annotations

import logging
from datetime import date

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from service.dependencies import EngineDep
from service.problems import Problem, problem_responses
from service.snapshots import latest_snapshot

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
                    "model_version": "7",
                    "as_of": "2026-01-01",
                }
            ]
        }
    )

    status: str
    snapshot_id: str
    model_version: str
    as_of: date


@router.get("/health", response_model=Health, summary="The process is alive")
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    summary="The store answers and a snapshot is there to serve",
    responses=problem_responses(503),
)
def ready(engine: EngineDep) -> Readiness:
    try:
        with engine.connect() as connection:
            snapshot = latest_snapshot(connection)
    except sa.exc.SQLAlchemyError as error:
        log.warning("not ready: the store does not answer: %s", error)
        raise Problem(503, "not-ready", "The store is not reachable.") from None
    if snapshot is None:
        raise Problem(503, "not-ready", "No score snapshot is stored yet: run `calle score`.")
    return Readiness(
        status="ready",
        snapshot_id=snapshot.snapshot_id,
        model_version=snapshot.model_version,
        as_of=snapshot.as_of,
    )
