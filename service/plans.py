"""``/api/v1/plans``: build an inspection plan, read it back (JSON or CSV), list plans.

Planners (and admins) build plans; the case-management system may read them. A plan lists
employer risk, so every build and read is audited. How a plan is chosen and kept:
:mod:`service.planning`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from calle.store import schema
from service.audit import record_access
from service.auth import require
from service.dependencies import EngineDep, OfficeAreasDep
from service.keys import ApiKey
from service.planning import Plan, PlanRequest, build_plan, plan_csv, read_plan
from service.problems import Problem, problem_responses
from service.roles import Role
from service.timestamps import as_utc

ENDPOINT = "/api/v1/plans"

router = APIRouter(tags=["plans"])


class PlanListing(BaseModel):
    plan_id: str
    created_at: datetime
    snapshot_id: str
    model_version: str
    category: str
    as_of: date
    visits: int


@router.post(
    "/plans",
    response_model=Plan,
    status_code=201,
    summary="Build an inspection plan for offices and their capacities",
    description="Mandatory workplaces first, then the model's ranking, with a random "
    "exploration share per office; recently inspected workplaces are left out. Every "
    "default is filled in and returned in `request`; the same request gives the same plan "
    "(200 with the stored plan; 201 when it is made now). 409 until a snapshot exists. "
    "Audited.",
    responses={
        200: {"model": Plan, "description": "The same plan was built before."},
        **problem_responses(400, 401, 403, 409, 422),
    },
)
def create_plan(
    request: Request,
    body: PlanRequest,
    engine: EngineDep,
    office_areas: OfficeAreasDep,
    key: Annotated[ApiKey, Depends(require(Role.planner))],
    response: Response,
) -> Plan:
    audited: dict[str, Any] = body.model_dump(mode="json", exclude_defaults=True)
    audited.pop("must_include", None)
    audited["must_include"] = len(body.must_include)
    try:
        plan, made = build_plan(engine, body, office_areas, created_by=key.key_id)
    except Problem as problem:
        record_access(engine, key, request.method, ENDPOINT, audited, 0, problem.status)
        raise
    audited["plan_id"] = plan.plan_id
    status = 201 if made else 200
    record_access(engine, key, request.method, ENDPOINT, audited, len(plan.visits), status)
    response.status_code = status
    return plan


@router.get(
    "/plans/{plan_id}",
    response_model=Plan,
    summary="A stored plan, as JSON or as CSV (`format=csv`)",
    description="CSV columns: office, employer_id, rank, score, selection, "
    "selection_probability. Audited.",
    responses={
        200: {"content": {"text/csv": {}}},
        **problem_responses(401, 403, 404, 422),
    },
)
def get_plan(
    request: Request,
    plan_id: Annotated[str, Path(min_length=1, max_length=64)],
    engine: EngineDep,
    key: Annotated[ApiKey, Depends(require(Role.planner, Role.ecms))],
    format: Annotated[Literal["json", "csv"], Query(description="`json` or `csv`.")] = "json",
) -> Any:
    endpoint = f"{ENDPOINT}/{{plan_id}}"
    audited = {"plan_id": plan_id, "format": format}
    with engine.connect() as connection:
        plan = read_plan(connection, plan_id)
    if plan is None:
        record_access(engine, key, request.method, endpoint, audited, 0, 404)
        raise Problem(404, "not-found", f"No plan {plan_id!r}.")
    record_access(engine, key, request.method, endpoint, audited, len(plan.visits), 200)
    if format == "csv":
        return Response(
            plan_csv(plan),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{plan.plan_id}.csv"'},
        )
    return plan


@router.get(
    "/plans",
    response_model=list[PlanListing],
    summary="The newest plans (no visits; read one for them)",
    responses=problem_responses(401, 403, 422),
)
def list_plans(
    engine: EngineDep,
    _key: Annotated[ApiKey, Depends(require(Role.planner, Role.ecms))],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[PlanListing]:
    return recent_plans(engine, limit)


def recent_plans(engine: sa.Engine, limit: int) -> list[PlanListing]:
    plans, visits = schema.plans, schema.plan_visits
    count = (
        sa.select(sa.func.count())
        .where(visits.c.plan_id == plans.c.plan_id)
        .scalar_subquery()
        .label("visits")
    )
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                plans.c.plan_id,
                plans.c.created_at,
                plans.c.snapshot_id,
                plans.c.model_version,
                plans.c.target.label("category"),
                plans.c.as_of,
                count,
            )
            .order_by(plans.c.created_at.desc(), plans.c.plan_id)
            .limit(limit)
        ).all()
    return [PlanListing(**{**row._asdict(), "created_at": as_utc(row.created_at)}) for row in rows]
