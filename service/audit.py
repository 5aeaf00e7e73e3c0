"""The audit log: who read employer risk, when, with which filters, and how many rows.

Routes that return employer risk call :func:`record_access` before answering; if the row
cannot be written the request fails, so no risk leaves the service unrecorded. Admins read
the log through ``GET /api/v1/audit``, newest first.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from calle.store import schema, statement_connection
from service.auth import require
from service.cursors import decode_cursor, encode_cursor
from service.dependencies import EngineDep
from service.keys import ApiKey
from service.problems import problem_responses
from service.roles import Role
from service.timestamps import as_utc


def record_access(
    engine: sa.Engine,
    key: ApiKey,
    method: str,
    endpoint: str,
    filters: dict[str, Any],
    rows: int,
    status: int,
) -> None:
    with statement_connection(engine) as connection:  # one INSERT: atomic on its own
        connection.execute(
            schema.audit_log.insert().values(
                at=datetime.now(UTC),
                key_id=key.key_id,
                role=key.role.value,
                method=method,
                endpoint=endpoint,
                filters=json.dumps(filters, sort_keys=True, default=str),
                rows=rows,
                status=status,
            )
        )


class AuditEntry(BaseModel):
    audit_id: int
    at: datetime
    key_id: str = Field(description="The public id of the key used (see `calle keys list`).")
    role: str
    method: str
    endpoint: str
    filters: dict[str, Any] = Field(description="The request's filters, as it gave them.")
    rows: int = Field(description="How many employers' risk the response carried.")
    status: int


class AuditPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "audit_id": 42,
                            "at": "2026-11-22T10:15:03.120000Z",
                            "key_id": "3f9a0c1b2d4e",
                            "role": "planner",
                            "method": "GET",
                            "endpoint": "/api/v1/rankings",
                            "filters": {"state": "11", "category": "any", "limit": 50},
                            "rows": 50,
                            "status": 200,
                        }
                    ],
                    "next_cursor": "eyJiZWZvcmUiOjQyfQ",
                }
            ]
        }
    )

    items: list[AuditEntry]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for older entries; null at the end."
    )


router = APIRouter(tags=["audit"])


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="The audit log, newest first (admin)",
    responses=problem_responses(401, 403, 422),
)
def read_audit(
    engine: EngineDep,
    _key: Annotated[ApiKey, Depends(require(Role.admin))],
    limit: Annotated[int, Query(ge=1, le=1000, description="Entries per page.")] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> AuditPage:
    table = schema.audit_log
    query = sa.select(table).order_by(table.c.audit_id.desc()).limit(limit + 1)
    if cursor:  # an empty cursor (`cursor=`) is the first page
        before = decode_cursor(cursor, {"before": int})["before"]
        query = query.where(table.c.audit_id < before)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    items = [
        AuditEntry(
            audit_id=row.audit_id,
            at=as_utc(row.at),
            key_id=row.key_id,
            role=row.role,
            method=row.method,
            endpoint=row.endpoint,
            filters=json.loads(row.filters),
            rows=row.rows,
            status=row.status,
        )
        for row in rows[:limit]
    ]
    more = len(rows) > limit
    return AuditPage(
        items=items,
        next_cursor=encode_cursor({"before": items[-1].audit_id}) if more else None,
    )
