"""A workplace's record in the store, summarised for the employer risk page.

A planner reading a score wants to see what it stands on: how often the workplace was
inspected and why, what was found, what people complained about and which remediation plans
are still open. Everything here is a count or a date; complaints are counted by category and
channel only, so no complainant's detail (not even a complaint id or date) leaves the service.
The summary covers the whole record as stored now, which may include events after the
snapshot's as-of date.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pydantic import BaseModel, Field

from calle.store import schema

#: The key under which records without a category, channel or origin are counted.
UNSPECIFIED = "unspecified"


class InspectionCounts(BaseModel):
    inspections: int
    with_violations: int = Field(description="Inspections that found at least one violation.")


class LastInspection(BaseModel):
    date: dt.date
    origin: str
    violation_found: bool


class OpenRemediation(BaseModel):
    opened_on: dt.date
    source: str | None


class ComplaintCounts(BaseModel):
    total: int
    by_category: dict[str, int] = Field(
        description=f"Complaints per category; `{UNSPECIFIED}` when none was given."
    )
    by_channel: dict[str, int] = Field(
        description=f"Complaints per channel; `{UNSPECIFIED}` when none was given."
    )


class HistorySummary(BaseModel):
    inspections: InspectionCounts
    by_origin: dict[str, InspectionCounts] = Field(
        description="The same counts per inspection origin (`random`, `complaint`, ...)."
    )
    last_inspection: LastInspection | None = Field(description="Null if never inspected.")
    violations_by_category: dict[str, int] = Field(
        description="Inspections whose findings include a violation of each category."
    )
    complaints: ComplaintCounts
    open_remediations: list[OpenRemediation] = Field(
        description="Remediation plans opened and not closed, oldest first."
    )


def _named(value: str | None) -> str:
    return UNSPECIFIED if value is None or value == "" else value


def _inspection_history(
    connection: sa.Connection, employer_id: str
) -> tuple[InspectionCounts, dict[str, InspectionCounts], LastInspection | None]:
    table = schema.inspections
    found = sa.func.coalesce(sa.func.sum(table.c.violation_found), 0)
    rows = connection.execute(
        sa.select(table.c.origin, sa.func.count(), found)
        .where(table.c.employer_id == employer_id)
        .group_by(table.c.origin)
        .order_by(table.c.origin)
    ).all()
    by_origin = {
        _named(origin): InspectionCounts(inspections=count, with_violations=int(violations))
        for origin, count, violations in rows
    }
    overall = InspectionCounts(
        inspections=sum(c.inspections for c in by_origin.values()),
        with_violations=sum(c.with_violations for c in by_origin.values()),
    )
    last = connection.execute(
        sa.select(table.c.date, table.c.origin, table.c.violation_found)
        .where(table.c.employer_id == employer_id)
        .order_by(table.c.date.desc(), table.c.inspection_id.desc())
        .limit(1)
    ).one_or_none()
    latest = (
        None
        if last is None
        else LastInspection(
            date=last.date, origin=last.origin, violation_found=bool(last.violation_found)
        )
    )
    return overall, by_origin, latest


def _violations_by_category(connection: sa.Connection, employer_id: str) -> dict[str, int]:
    findings, inspections = schema.findings, schema.inspections
    rows = connection.execute(
        sa.select(findings.c.category, sa.func.count())
        .join(inspections, inspections.c.inspection_id == findings.c.inspection_id)
        .where(inspections.c.employer_id == employer_id, findings.c.violation == 1)
        .group_by(findings.c.category)
        .order_by(findings.c.category)
    ).all()
    return {category: count for category, count in rows}


def _complaint_counts(connection: sa.Connection, employer_id: str) -> ComplaintCounts:
    table = schema.complaints
    rows = connection.execute(
        sa.select(table.c.category, table.c.channel, sa.func.count())
        .where(table.c.employer_id == employer_id)
        .group_by(table.c.category, table.c.channel)
    ).all()
    by_category: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    for category, channel, count in rows:
        by_category[_named(category)] = by_category.get(_named(category), 0) + count
        by_channel[_named(channel)] = by_channel.get(_named(channel), 0) + count
    return ComplaintCounts(
        total=sum(by_category.values()),
        by_category=dict(sorted(by_category.items())),
        by_channel=dict(sorted(by_channel.items())),
    )


def _open_remediations(connection: sa.Connection, employer_id: str) -> list[OpenRemediation]:
    table = schema.remediations
    rows = connection.execute(
        sa.select(table.c.opened_on, table.c.source).where(
            table.c.employer_id == employer_id, table.c.closed_on.is_(None)
        )
    ).all()
    # Sorted here: the engines place a missing source differently in ORDER BY.
    rows = sorted(rows, key=lambda row: (row.opened_on, row.source or ""))
    return [OpenRemediation(opened_on=row.opened_on, source=row.source) for row in rows]


def history_summary(connection: sa.Connection, employer_id: str) -> HistorySummary:
    """The summary of ``employer_id``'s record; all zeros and empty for a clean workplace."""
    overall, by_origin, last = _inspection_history(connection, employer_id)
    return HistorySummary(
        inspections=overall,
        by_origin=by_origin,
        last_inspection=last,
        violations_by_category=_violations_by_category(connection, employer_id),
        complaints=_complaint_counts(connection, employer_id),
        open_remediations=_open_remediations(connection, employer_id),
    )
