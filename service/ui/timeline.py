"""An employer's record as a planner reads it: visits in order, complaints only as counts.

Complaints are counted per year and nothing else of them is read, so no page can show who
complained or when exactly (a complainant of a small workplace could be told by the day).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa

from calle.store import schema

#: Newest inspections shown; the counts above the timeline cover them all.
MAX_INSPECTIONS = 100


def employer_timeline(connection: sa.Connection, employer_id: str) -> dict[str, Any]:
    insp, found = schema.inspections, schema.findings
    visits = connection.execute(
        sa.select(insp.c.inspection_id, insp.c.date, insp.c.origin, insp.c.violation_found)
        .where(insp.c.employer_id == employer_id)
        .order_by(insp.c.date.desc(), insp.c.inspection_id)
        .limit(MAX_INSPECTIONS)
    ).all()
    violated: dict[str, list[str]] = {}
    if visits:
        rows = connection.execute(
            sa.select(found.c.inspection_id, found.c.category).where(
                found.c.inspection_id.in_([v.inspection_id for v in visits]),
                found.c.violation == 1,
            )
        ).all()
        for row in rows:
            violated.setdefault(row.inspection_id, []).append(row.category)
    complaint_dates = connection.execute(
        sa.select(schema.complaints.c.date).where(schema.complaints.c.employer_id == employer_id)
    ).scalars()
    by_year = Counter(d.year for d in complaint_dates if d is not None)
    rem = schema.remediations
    remediations = connection.execute(
        sa.select(rem.c.opened_on, rem.c.closed_on, rem.c.source)
        .where(rem.c.employer_id == employer_id)
        .order_by(rem.c.opened_on.desc())
    ).all()
    return {
        "inspections": [
            {
                "date": v.date,
                "origin": v.origin,
                "violation_found": v.violation_found,
                "categories": sorted(violated.get(v.inspection_id, [])),
            }
            for v in visits
        ],
        "complaints_by_year": sorted(by_year.items(), reverse=True),
        "remediations": [
            {"opened_on": r.opened_on, "closed_on": r.closed_on, "source": r.source}
            for r in remediations
        ],
    }
