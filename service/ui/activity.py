"""What the inspectorate did: inspections by month, state, origin and category, hit rates by
origin, and the inspectors and offices whose finding rates stand out.

Within an office, visits are shared among its inspectors without regard to the workplace,
so each inspector's workplaces are comparable with the office peers'. An inspector whose
finding rate lies far from the office's (in binomial standard errors, over enough visits)
is worth a supervisor's look: unusually lenient or unusually strict. Offices are compared
the same way with the whole inspectorate, which is rougher (offices cover different
workplaces), and said so on the page.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pandas as pd
import sqlalchemy as sa

from calle.store import schema

#: Fewest visits for an inspector's or office's rate to be judged.
MIN_VISITS = 30
#: Standard errors from the peers' rate that flag a divergence.
FLAG_Z = 3.0


def _month(connection: sa.Connection, day: sa.ColumnElement) -> sa.ColumnElement:
    """``YYYY-MM`` of a date, in the store's own SQL."""
    if connection.dialect.name == "postgresql":
        return sa.func.to_char(day, "YYYY-MM")
    return sa.func.strftime("%Y-%m", day)


def _rate_table(
    connection: sa.Connection,
    since: date,
    keys: dict[str, sa.ColumnElement],
    with_directory: bool = False,
) -> pd.DataFrame:
    """Inspections since ``since`` and those that found a violation, per ``keys`` (columns of
    the inspections, or of the employers' directory ``with_directory``), counted by the
    store: a national window is hundreds of thousands of visits, and reading them row by
    row took seconds."""
    insp = schema.inspections
    query = (
        sa.select(
            *(column.label(name) for name, column in keys.items()),
            sa.func.count().label("inspections"),
            sa.func.sum(sa.case((insp.c.violation_found == 1, 1), else_=0)).label(
                "with_violations"
            ),
        )
        .where(insp.c.date >= since)
        .group_by(*keys.values())
    )
    if with_directory:
        query = query.join_from(
            insp, schema.employers, schema.employers.c.employer_id == insp.c.employer_id
        )
    rows = connection.execute(query).all()
    table = pd.DataFrame(
        [tuple(row) for row in rows], columns=[*keys, "inspections", "with_violations"]
    )
    table["with_violations"] = table["with_violations"].astype(int)
    table["hit_rate"] = table["with_violations"] / table["inspections"]
    return table


def _divergent(counts: pd.DataFrame, peers: pd.Series, label: str) -> list[dict[str, Any]]:
    """Rows whose rate lies more than FLAG_Z standard errors from ``peers`` (their peers'
    rate), over at least MIN_VISITS visits; farthest first."""
    rows = []
    for row, peer_rate in zip(counts.itertuples(), peers, strict=True):
        n = row.inspections
        if n < MIN_VISITS or not 0 < peer_rate < 1:
            continue
        z = (row.with_violations - n * peer_rate) / math.sqrt(n * peer_rate * (1 - peer_rate))
        if abs(z) >= FLAG_Z:
            rows.append(
                {
                    label: getattr(row, label),
                    "office": getattr(row, "office", None),
                    "inspections": int(n),
                    "hit_rate": float(row.hit_rate),
                    "peer_rate": float(peer_rate),
                    "z": round(float(z), 1),
                }
            )
    return sorted(rows, key=lambda r: -abs(r["z"]))


def inspection_activity(connection: sa.Connection, since: date) -> dict[str, Any]:
    insp, found = schema.inspections, schema.findings
    offices = _rate_table(connection, since, {"office": insp.c.office})
    total = int(offices["inspections"].sum()) if len(offices) else 0
    if total == 0:
        return {"since": since, "inspections": 0}
    # findings are several per visit: counted by the store, not carried over
    by_category = pd.DataFrame(
        connection.execute(
            sa.select(
                found.c.category,
                sa.func.count().label("inspections"),
                sa.func.sum(sa.case((found.c.violation == 1, 1), else_=0)).label("with_violations"),
            )
            .join(insp, insp.c.inspection_id == found.c.inspection_id)
            .where(insp.c.date >= since)
            .group_by(found.c.category)
            .order_by(found.c.category)
        ).all(),
        columns=["category", "inspections", "with_violations"],
    )
    by_category["hit_rate"] = by_category["with_violations"] / by_category["inspections"]
    overall = float(offices["with_violations"].sum() / total)
    inspectors = _rate_table(
        connection, since, {"office": insp.c.office, "inspector_id": insp.c.inspector_id}
    )
    inspectors = inspectors[inspectors["inspector_id"].notna()].reset_index(drop=True)
    office_rates = offices.set_index("office")["hit_rate"]
    month = _month(connection, insp.c.date)
    return {
        "since": since,
        "inspections": total,
        "hit_rate": overall,
        "by_month": _rate_table(connection, since, {"month": month})
        .sort_values("month")
        .to_dict("records"),
        "by_state": _rate_table(connection, since, {"state": schema.employers.c.state}, True)
        .sort_values("state")
        .to_dict("records"),
        "by_origin": _rate_table(connection, since, {"origin": insp.c.origin})
        .sort_values("inspections", ascending=False)
        .to_dict("records"),
        "by_category": by_category.to_dict("records"),
        "divergent_inspectors": _divergent(
            inspectors, inspectors["office"].map(office_rates), "inspector_id"
        ),
        "divergent_offices": _divergent(offices, pd.Series(overall, index=offices.index), "office"),
        "min_visits": MIN_VISITS,
        "flag_z": FLAG_Z,
    }
