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


#: The kinds of row :func:`_record_rows` returns, one per part of the summary.
BY_ORIGIN, LAST, VIOLATIONS, COMPLAINTS, OPEN_REMEDIATION = (
    "by_origin",
    "last",
    "violations",
    "complaints",
    "open_remediation",
)


def _record_rows(employer_id: str) -> sa.CompoundSelect:
    """Every part of the summary in one statement (a UNION ALL of five aggregates), so the
    employer risk page costs the store one round trip for the record instead of five.

    Columns: ``kind``, ``key`` (origin, category or source), ``detail`` (a complaint's
    channel), ``n`` (a count, or the last inspection's violation flag), ``found`` (inspections
    with violations) and ``day`` (the last inspection's date, a remediation's opening)."""
    inspections, findings = schema.inspections, schema.findings
    complaints, remediations = schema.complaints, schema.remediations
    no_text = sa.cast(sa.null(), sa.String)
    no_count = sa.cast(sa.null(), sa.Integer)
    no_day = sa.cast(sa.null(), sa.Date)

    def kind(name: str) -> sa.ColumnElement[str]:
        return sa.literal(name, sa.String).label("kind")

    by_origin = (
        sa.select(
            kind(BY_ORIGIN),
            inspections.c.origin.label("key"),
            no_text.label("detail"),
            sa.func.count().label("n"),
            sa.func.coalesce(sa.func.sum(inspections.c.violation_found), 0).label("found"),
            no_day.label("day"),
        )
        .where(inspections.c.employer_id == employer_id)
        .group_by(inspections.c.origin)
    )
    last = (
        sa.select(inspections.c.origin, inspections.c.violation_found, inspections.c.date)
        .where(inspections.c.employer_id == employer_id)
        .order_by(inspections.c.date.desc(), inspections.c.inspection_id.desc())
        .limit(1)
        .subquery()  # a member of a UNION may not have its own ORDER BY and LIMIT
    )
    violations = (
        sa.select(kind(VIOLATIONS), findings.c.category, no_text, sa.func.count(), no_count, no_day)
        .join(inspections, inspections.c.inspection_id == findings.c.inspection_id)
        .where(inspections.c.employer_id == employer_id, findings.c.violation == 1)
        .group_by(findings.c.category)
    )
    by_complaint = (
        sa.select(
            kind(COMPLAINTS),
            complaints.c.category,
            complaints.c.channel,
            sa.func.count(),
            no_count,
            no_day,
        )
        .where(complaints.c.employer_id == employer_id)
        .group_by(complaints.c.category, complaints.c.channel)
    )
    open_plans = sa.select(
        kind(OPEN_REMEDIATION),
        remediations.c.source,
        no_text,
        no_count,
        no_count,
        remediations.c.opened_on,
    ).where(remediations.c.employer_id == employer_id, remediations.c.closed_on.is_(None))
    return sa.union_all(
        by_origin,
        sa.select(
            kind(LAST), last.c.origin, no_text, last.c.violation_found, no_count, last.c.date
        ),
        violations,
        by_complaint,
        open_plans,
    )


def history_summary(connection: sa.Connection, employer_id: str) -> HistorySummary:
    """The summary of ``employer_id``'s record; all zeros and empty for a clean workplace."""
    by_origin: dict[str, InspectionCounts] = {}
    last: LastInspection | None = None
    violations: dict[str, int] = {}
    by_category: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    open_plans: list[OpenRemediation] = []
    for row in connection.execute(_record_rows(employer_id)):
        if row.kind == BY_ORIGIN:
            by_origin[_named(row.key)] = InspectionCounts(
                inspections=row.n, with_violations=int(row.found)
            )
        elif row.kind == LAST:
            last = LastInspection(date=row.day, origin=row.key, violation_found=bool(row.n))
        elif row.kind == VIOLATIONS:
            violations[row.key] = row.n
        elif row.kind == COMPLAINTS:
            by_category[_named(row.key)] = by_category.get(_named(row.key), 0) + row.n
            by_channel[_named(row.detail)] = by_channel.get(_named(row.detail), 0) + row.n
        else:
            open_plans.append(OpenRemediation(opened_on=row.day, source=row.key))
    # sorted here, not by the store: the engines place a missing value differently
    return HistorySummary(
        inspections=InspectionCounts(
            inspections=sum(c.inspections for c in by_origin.values()),
            with_violations=sum(c.with_violations for c in by_origin.values()),
        ),
        by_origin=dict(sorted(by_origin.items())),
        last_inspection=last,
        violations_by_category=dict(sorted(violations.items())),
        complaints=ComplaintCounts(
            total=sum(by_category.values()),
            by_category=dict(sorted(by_category.items())),
            by_channel=dict(sorted(by_channel.items())),
        ),
        open_remediations=sorted(open_plans, key=lambda p: (p.opened_on, p.source or "")),
    )
