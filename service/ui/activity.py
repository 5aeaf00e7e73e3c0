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


def _rate_table(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    grouped = frame.groupby(by, dropna=False)["found"].agg(["size", "sum"]).reset_index()
    grouped = grouped.rename(columns={"size": "inspections", "sum": "with_violations"})
    grouped["hit_rate"] = grouped["with_violations"] / grouped["inspections"]
    return grouped


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
    visits = pd.DataFrame(
        connection.execute(
            sa.select(
                insp.c.inspection_id,
                insp.c.date,
                insp.c.origin,
                insp.c.office,
                insp.c.inspector_id,
                insp.c.violation_found,
                schema.employers.c.state,
            )
            .join(schema.employers, schema.employers.c.employer_id == insp.c.employer_id)
            .where(insp.c.date >= since)
        ).all(),
        columns=["inspection_id", "date", "origin", "office", "inspector_id", "found", "state"],
    )
    if visits.empty:
        return {"since": since, "inspections": 0}
    visits["found"] = visits["found"].fillna(False).astype(bool)
    visits["month"] = pd.to_datetime(visits["date"]).dt.strftime("%Y-%m")
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
    overall = float(visits["found"].mean())
    inspectors = _rate_table(visits.dropna(subset=["inspector_id"]), ["office", "inspector_id"])
    office_rates = visits.groupby("office")["found"].mean()
    offices = _rate_table(visits, ["office"])
    return {
        "since": since,
        "inspections": len(visits),
        "hit_rate": overall,
        "by_month": _rate_table(visits, ["month"]).sort_values("month").to_dict("records"),
        "by_state": _rate_table(visits, ["state"]).sort_values("state").to_dict("records"),
        "by_origin": _rate_table(visits, ["origin"])
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
