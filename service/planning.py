"""Inspection plans: who each office visits next, built from the latest snapshot and kept.

A plan request names the offices and their capacities (or takes them from the office file,
``CALLE_OFFICES_FILE``), an optional category focus, workplaces that must be visited, how
recently inspected workplaces are left out, and the exploration share; how the visits are
chosen is :mod:`service.plan_selection`. Every default is filled in before anything is
chosen (snapshot, as-of date, seed), and the plan's id is a digest of that resolved request:
the same request gives the same plan, and asking again returns the stored one.

``calle plan`` and ``POST /api/v1/plans`` (:mod:`service.plans`) both build plans here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from calle.offices import OfficeArea, OfficeAreas
from calle.store import schema
from calle.store.snapshot_tables import read_scores
from service.plan_selection import (
    OfficeOutcome,
    OfficeQuota,
    PlanError,
    PlannedVisit,
    Selection,
    select,
)
from service.problems import FieldError, Problem
from service.snapshots import SERVED_MODEL, SnapshotInfo, latest_snapshot, snapshot_by_id
from service.timestamps import as_utc

#: The overall target (models.risk_model.OVERALL).
OVERALL = "any"
#: Workplaces one request may name as mandatory.
MAX_MANDATORY = 10_000
CSV_COLUMNS = ("office", "employer_id", "rank", "score", "selection", "selection_probability")

EmployerId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
OfficeName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$", max_length=64)
]


class OfficeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: int | None = Field(
        default=None, ge=0, le=1_000_000, description="Visits; default: the office file's."
    )
    states: list[Annotated[str, StringConstraints(min_length=1, max_length=16)]] | None = Field(
        default=None, max_length=100, description="The area; default: the office file's."
    )
    municipalities: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None = (
        Field(default=None, max_length=5_000)
    )


class PlanRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"offices": {"OF-11": {"capacity": 40}, "OF-14": {"capacity": 25}}},
                {
                    "category": "subcontracting",
                    "offices": {"OF-CAMPAIGN": {"capacity": 30, "states": ["11", "14"]}},
                    "must_include": ["E0001234"],
                    "exclude_inspected_within_days": 365,
                    "exploration_share": 0.1,
                    "seed": 7,
                },
            ]
        },
    )

    offices: dict[OfficeName, OfficeRequest] | None = Field(
        default=None,
        max_length=1_000,
        description="Offices to plan for, with capacity and (optionally) area; default: every "
        "office of the office file that has a capacity.",
    )
    category: str = Field(
        default=OVERALL,
        min_length=1,
        max_length=64,
        description="Rank by this category's risk (a campaign); `any` is overall.",
    )
    must_include: list[EmployerId] = Field(
        default=[],
        max_length=MAX_MANDATORY,
        description="Workplaces that must be visited (e.g. follow-ups); each goes to the first "
        "office (by name) whose area covers it.",
    )
    include_open_remediations: bool = Field(
        default=True,
        description="Also make every workplace with a remediation open on `as_of` mandatory.",
    )
    exclude_inspected_within_days: int = Field(
        default=180,
        ge=0,
        le=3_650,
        description="Leave out workplaces inspected in this many days up to `as_of` (0: none).",
    )
    exploration_share: float = Field(
        default=0.10,
        ge=0.0,
        le=1.0,
        description="Share of each office's non-mandatory capacity drawn at random, so that "
        "future inspections stay an unbiased sample to judge models on.",
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        le=2**31 - 1,
        description="Seed of the random draws; default: derived from the request, so the same "
        "request gives the same plan.",
    )
    as_of: date | None = Field(
        default=None,
        description="The plan's day (for exclusions and remediations); default: today.",
    )
    snapshot_id: str | None = Field(
        default=None, max_length=64, description="Default: the latest snapshot."
    )


class OfficeSummary(BaseModel):
    office: str
    capacity: int
    mandatory: int
    model: int
    exploration: int
    exploration_pool: int = Field(description="Eligible workplaces the exploration drew from.")
    shortfall: int = Field(description="Capacity left unfilled: no eligible workplace was left.")


class Visit(BaseModel):
    office: str
    employer_id: str
    rank: int | None = Field(description="The workplace's rank in the snapshot for the category.")
    score: float | None
    selection: Selection
    selection_probability: float = Field(
        description="Probability that this plan's procedure selects this workplace: 1 for "
        "model and mandatory picks, draws / eligible for exploration."
    )


class Plan(BaseModel):
    plan_id: str
    created_at: datetime
    snapshot_id: str
    model_name: str
    model_version: str
    category: str
    as_of: date
    seed: int
    request: dict[str, Any] = Field(description="The request with every default filled in.")
    offices: list[OfficeSummary]
    visits: list[Visit]


@dataclass(frozen=True)
class ResolvedOffice:
    capacity: int
    states: tuple[str, ...]
    municipalities: tuple[str, ...]


def _invalid(field: str, reason: str) -> Problem:
    return Problem.invalid("body", field, reason)


def _offices(request: PlanRequest, areas: OfficeAreas | None) -> dict[str, ResolvedOffice]:
    known = areas.offices if areas is not None else {}
    asked = request.offices
    if asked is None:
        if not known:
            raise _invalid(
                "offices",
                "no offices given and no office file configured (CALLE_OFFICES_FILE)",
            )
        asked = {name: OfficeRequest() for name, area in known.items() if area.capacity}
        if not asked:
            raise _invalid("offices", "no office of the office file has a capacity: give them")
    resolved = {}
    for name, office in sorted(asked.items()):
        filed: OfficeArea | None = known.get(name)
        if office.states is None and office.municipalities is None:
            if filed is None:
                raise _invalid(
                    f"offices.{name}", "unknown office: give its states or municipalities"
                )
            states, municipalities = filed.states, filed.municipalities
        else:
            states = tuple(office.states or ())
            municipalities = tuple(office.municipalities or ())
            if not states and not municipalities:
                raise _invalid(f"offices.{name}", "an area needs a state or a municipality")
        capacity = office.capacity if office.capacity is not None else (filed and filed.capacity)
        if capacity is None:
            raise _invalid(f"offices.{name}.capacity", "required: the office file gives none")
        resolved[name] = ResolvedOffice(int(capacity), tuple(states), tuple(municipalities))
    return resolved


def _digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def resolve(
    connection: sa.Connection,
    request: PlanRequest,
    areas: OfficeAreas | None,
    model_name: str = SERVED_MODEL,
) -> tuple[SnapshotInfo, dict[str, Any]]:
    """The snapshot (by default the newest of ``model_name``) and the request with every
    default filled in (what the id digests)."""
    snapshot = (
        latest_snapshot(connection, model_name)
        if request.snapshot_id is None
        else snapshot_by_id(connection, request.snapshot_id)
    )
    if snapshot is None:
        if request.snapshot_id is not None:
            raise _invalid("snapshot_id", "no such snapshot")
        raise Problem(
            409,
            "no-snapshot",
            f"No score snapshot of {model_name} is stored yet: run `calle score`.",
        )
    if request.category not in snapshot.targets:
        raise _invalid(
            "category",
            f"unknown category {request.category!r}; the snapshot ranks: "
            + ", ".join(snapshot.targets),
        )
    today = datetime.now(UTC).date()
    as_of = request.as_of or today
    if as_of > today + timedelta(days=1):
        raise _invalid("as_of", f"may not be after tomorrow ({today + timedelta(days=1)})")
    offices = _offices(request, areas)
    resolved: dict[str, Any] = {
        "snapshot_id": snapshot.snapshot_id,
        "category": request.category,
        "as_of": as_of.isoformat(),
        "offices": {name: asdict(office) for name, office in offices.items()},
        "must_include": sorted(set(request.must_include)),
        "include_open_remediations": request.include_open_remediations,
        "exclude_inspected_within_days": request.exclude_inspected_within_days,
        "exploration_share": request.exploration_share,
    }
    seed = request.seed
    if seed is None:
        seed = int(_digest(resolved)[:8], 16) % 2**31
    resolved["seed"] = seed
    return snapshot, resolved


def _candidates(connection: sa.Connection, resolved: dict[str, Any]) -> pd.DataFrame:
    """Every ranked workplace, and every mandatory one, in rank order (unranked last)."""
    employers = schema.employers
    as_of = date.fromisoformat(resolved["as_of"])
    category = resolved["category"]
    stored = read_scores(
        connection,
        resolved["snapshot_id"],
        ["employer_id", f"rank_{category}", f"p_{category}", "state", "municipality"],
    )
    ranked = pd.DataFrame(
        {
            "employer_id": stored.column("employer_id").to_numpy(zero_copy_only=False),
            "rank": stored.column(f"rank_{category}").to_numpy().astype(np.int64),
            "score": stored.column(f"p_{category}").to_numpy(),
            "state": stored.column("state").to_numpy(zero_copy_only=False),
            "municipality": stored.column("municipality").to_numpy(zero_copy_only=False),
        }
    )
    mandatory = set(resolved["must_include"])
    unknown = mandatory - _existing(connection, mandatory)
    if unknown:
        listed = sorted(unknown)
        raise Problem(
            422,
            "invalid-request",
            f"{len(listed)} mandatory workplaces are not in the store: {listed[0]}",
            errors=[
                FieldError(location="body", field="must_include", reason=f"unknown employer {e}")
                for e in listed[:50]
            ],
        )
    if resolved["include_open_remediations"]:
        open_ = schema.remediations
        mandatory |= set(
            connection.execute(
                sa.select(open_.c.employer_id).where(
                    open_.c.opened_on <= as_of,
                    sa.or_(open_.c.closed_on.is_(None), open_.c.closed_on > as_of),
                )
            ).scalars()
        )
    unranked = sorted(mandatory - set(ranked["employer_id"]))
    if unranked:  # registered after the snapshot, or not scored: visited, but unranked
        rows = connection.execute(
            sa.select(employers.c.employer_id, employers.c.state, employers.c.municipality).where(
                employers.c.employer_id.in_(unranked)
            )
        ).all()
        extra = pd.DataFrame(rows, columns=["employer_id", "state", "municipality"])
        ranked = pd.concat([ranked, extra.assign(rank=pd.NA, score=np.nan)], ignore_index=True)
    ranked = ranked.sort_values("rank", na_position="last", kind="stable", ignore_index=True)
    days = resolved["exclude_inspected_within_days"]
    recent: set[str] = set()
    if days:
        inspections = schema.inspections
        recent = set(
            connection.execute(
                sa.select(inspections.c.employer_id)
                .where(
                    inspections.c.date > as_of - timedelta(days=days),
                    inspections.c.date <= as_of,
                )
                .distinct()
            ).scalars()
        )
    ranked["mandatory"] = ranked["employer_id"].isin(mandatory)
    ranked["excluded"] = ranked["employer_id"].isin(recent)
    return ranked


def _existing(connection: sa.Connection, ids: set[str]) -> set[str]:
    found: set[str] = set()
    column = schema.employers.c.employer_id
    chunk = sorted(ids)
    for start in range(0, len(chunk), 1_000):
        part = chunk[start : start + 1_000]
        found |= set(connection.execute(sa.select(column).where(column.in_(part))).scalars())
    return found


def _quotas(candidates: pd.DataFrame, offices: dict[str, dict[str, Any]]) -> list[OfficeQuota]:
    return [
        OfficeQuota(
            office=name,
            capacity=office["capacity"],
            covers=(
                candidates["state"].isin(office["states"])
                | candidates["municipality"].isin(office["municipalities"])
            ).to_numpy(),
        )
        for name, office in offices.items()
    ]


def _uncovered_mandatory(
    candidates: pd.DataFrame, quotas: list[OfficeQuota], must_include: list[str]
) -> list[str]:
    covered = np.zeros(len(candidates), dtype=bool)
    for quota in quotas:
        covered |= quota.covers
    asked = candidates["employer_id"].isin(must_include).to_numpy()
    return sorted(candidates.loc[asked & ~covered, "employer_id"])


def build_plan(
    engine: sa.Engine,
    request: PlanRequest,
    areas: OfficeAreas | None,
    created_by: str,
    model_name: str = SERVED_MODEL,
) -> tuple[Plan, bool]:
    """The plan for ``request`` from ``model_name``'s newest snapshot (unless the request names
    one), and whether it was made now (False: it was stored already)."""
    with engine.connect() as connection:
        snapshot, resolved = resolve(connection, request, areas, model_name)
        plan_id = "P" + _digest(resolved)[:15]
        stored = read_plan(connection, plan_id)
        if stored is not None:
            return stored, False
        candidates = _candidates(connection, resolved)
    quotas = _quotas(candidates, resolved["offices"])
    uncovered = _uncovered_mandatory(candidates, quotas, resolved["must_include"])
    if uncovered:
        raise _invalid(
            "must_include",
            f"{len(uncovered)} mandatory workplaces lie in no planned office's area: "
            + ", ".join(uncovered[:20]),
        )
    try:
        visits, outcomes = select(
            candidates, quotas, resolved["exploration_share"], resolved["seed"]
        )
    except PlanError as error:
        raise _invalid("offices", str(error)) from None
    plan = Plan(
        plan_id=plan_id,
        created_at=datetime.now(UTC),
        snapshot_id=snapshot.snapshot_id,
        model_name=snapshot.model_name,
        model_version=snapshot.model_version,
        category=resolved["category"],
        as_of=date.fromisoformat(resolved["as_of"]),
        seed=resolved["seed"],
        request=resolved,
        offices=[_summary(o) for o in outcomes],
        visits=[Visit(**asdict(v)) for v in visits],
    )
    return _store(engine, plan, created_by)


def _summary(outcome: OfficeOutcome) -> OfficeSummary:
    return OfficeSummary(**asdict(outcome), shortfall=outcome.shortfall)


def _store(engine: sa.Engine, plan: Plan, created_by: str) -> tuple[Plan, bool]:
    try:
        with engine.begin() as connection:
            connection.execute(
                schema.plans.insert().values(
                    plan_id=plan.plan_id,
                    created_at=plan.created_at,
                    created_by=created_by,
                    snapshot_id=plan.snapshot_id,
                    model_name=plan.model_name,
                    model_version=plan.model_version,
                    target=plan.category,
                    as_of=plan.as_of,
                    seed=plan.seed,
                    request=json.dumps(plan.request, sort_keys=True),
                    offices=json.dumps([o.model_dump() for o in plan.offices]),
                )
            )
            if plan.visits:
                connection.execute(
                    schema.plan_visits.insert(),
                    [
                        {"plan_id": plan.plan_id, "position": i, **v.model_dump()}
                        for i, v in enumerate(plan.visits)
                    ],
                )
    except sa.exc.IntegrityError:  # the same plan, stored meanwhile by another request
        with engine.connect() as connection:
            stored = read_plan(connection, plan.plan_id)
        if stored is None:
            raise
        return stored, False
    return plan, True


def read_plan(connection: sa.Connection, plan_id: str) -> Plan | None:
    row = connection.execute(
        sa.select(schema.plans).where(schema.plans.c.plan_id == plan_id)
    ).one_or_none()
    if row is None:
        return None
    visits = schema.plan_visits
    rows = connection.execute(
        sa.select(
            visits.c.office,
            visits.c.employer_id,
            visits.c.rank,
            visits.c.score,
            visits.c.selection,
            visits.c.selection_probability,
        )
        .where(visits.c.plan_id == plan_id)
        .order_by(visits.c.position)
    ).all()
    return Plan(
        plan_id=row.plan_id,
        created_at=as_utc(row.created_at),
        snapshot_id=row.snapshot_id,
        model_name=row.model_name,
        model_version=row.model_version,
        category=row.target,
        as_of=row.as_of,
        seed=row.seed,
        request=json.loads(row.request),
        offices=[OfficeSummary(**o) for o in json.loads(row.offices)],
        visits=[Visit(**r._asdict()) for r in rows],
    )


def plan_csv(plan: Plan) -> str:
    """``office, employer_id, rank, score, selection, selection_probability``, in plan order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for visit in plan.visits:
        writer.writerow(
            [
                visit.office,
                visit.employer_id,
                "" if visit.rank is None else visit.rank,
                "" if visit.score is None else f"{visit.score:.6f}",
                visit.selection.value,
                f"{visit.selection_probability:.6f}",
            ]
        )
    return out.getvalue()


__all__ = ["Plan", "PlanRequest", "PlannedVisit", "build_plan", "plan_csv", "read_plan"]
