"""``GET /api/v1/rankings``: the latest snapshot's riskiest workplaces, filtered and paged.

Pages are keyset-paginated on rank, walked in the snapshot's rank order held in memory
(:mod:`service.ranked_snapshot`); the names, and the reasons explained so far, are read from
the store for the page's rows alone. A
cursor pins the snapshot and the filters it was issued for: a walk through all pages sees
every matching workplace exactly once, in rank order, even if a new snapshot is stored
meanwhile. The office filter keeps the workplaces in the office's area
(:mod:`calle.offices`, from ``CALLE_OFFICES_FILE``).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from calle.offices import OfficeArea, OfficeAreas
from calle.store import schema, statement_connection
from service.audit import record_access
from service.auth import require
from service.cursors import decode_cursor, encode_cursor
from service.dependencies import (
    CachesDep,
    EngineDep,
    OfficeAreasDep,
    ReasonsOnReadDep,
    SettingsDep,
)
from service.keys import ApiKey
from service.problems import Problem, problem_responses
from service.ranked_snapshot import RankedSnapshot, RankingFilter
from service.read_cache import ServiceCaches
from service.reasons import RiskReason, explained
from service.reasons_on_read import Explainer
from service.roles import Role
from service.snapshots import SnapshotInfo, current_snapshot, stored_snapshot

#: The overall target every snapshot holds (models.risk_model.OVERALL).
OVERALL = "any"

#: A SCIAN prefix: the 2-digit sector down to the 6-digit national class.
_SECTOR_PREFIX = re.compile(r"\d{1,6}")

ENDPOINT = "/api/v1/rankings"


class RankedEmployer(BaseModel):
    employer_id: str
    name: str | None
    state: str
    municipality: str | None
    sector: str = Field(description="SCIAN code.")
    size_band: str | None
    score: float = Field(description="Calibrated probability that an inspection finds a violation.")
    rank: int = Field(description="1 = riskiest in this category; ties go to the smaller id.")
    percentile: float = Field(description="Share of all scored workplaces ranked lower, in %.")
    reasons: list[RiskReason] = Field(
        description="The top reasons raising the score, strongest first, in plain words; "
        "explained when first read if the snapshot was stored without them; empty only when "
        "the model that scored the snapshot is no longer the one served."
    )


class RankingPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "snapshot_id": "20260101-1a2b3c4d",
                    "model_name": "employer-risk",
                    "model_version": "7",
                    "as_of": "2026-01-01",
                    "category": "any",
                    "items": [
                        {
                            "employer_id": "E0001234",
                            "name": "Autopartes del Bajío SA de CV",
                            "state": "11",
                            "municipality": "11020",
                            "sector": "336390",
                            "size_band": "large",
                            "score": 0.83,
                            "rank": 1,
                            "percentile": 99.99,
                            "reasons": [
                                {
                                    "feature": "safety_health_violations_3y",
                                    "contribution": 0.41,
                                    "value": 3,
                                    "text_es": "3 violaciones de seguridad e higiene en los "
                                    "últimos 3 años",
                                    "text_en": "3 safety and health violations in the last 3 years",
                                }
                            ],
                        }
                    ],
                    "next_cursor": "eyJhZnRlciI6NTB9",
                }
            ]
        }
    )

    snapshot_id: str
    model_name: str
    model_version: str
    as_of: date = Field(description="The date the features were computed as of.")
    category: str = Field(description="Which target the ranking is by; `any` is overall.")
    items: list[RankedEmployer]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same filters) for the next page; null at the end."
    )


router = APIRouter(tags=["rankings"])


def _fingerprint(filters: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:16]


def _check_filters(settings_regions: list[str], state: str | None, sector: str | None) -> None:
    if state is not None and settings_regions and state not in settings_regions:
        raise Problem.invalid(
            "query",
            "state",
            f"unknown state code {state!r}; valid codes: " + ", ".join(settings_regions),
        )
    if sector is not None and not _SECTOR_PREFIX.fullmatch(sector):
        raise Problem.invalid("query", "sector", "a SCIAN code prefix: 1 to 6 digits")


def _snapshot(
    engine: sa.Engine, caches: ServiceCaches, cursor: dict[str, Any] | None
) -> SnapshotInfo:
    if cursor is not None:
        snapshot = stored_snapshot(engine, caches.snapshots, cursor["snapshot"])
        if snapshot is None:
            raise Problem.invalid("query", "cursor", "its snapshot no longer exists; start over")
        return snapshot
    snapshot = current_snapshot(engine, caches.snapshots)
    if snapshot is None:
        raise Problem(
            409, "no-snapshot", "No score snapshot is stored yet: run `calle score` first."
        )
    return snapshot


def _ranking_filter(filters: dict[str, Any], area: OfficeArea | None) -> RankingFilter:
    return RankingFilter(
        state=filters["state"],
        municipality=filters["municipality"],
        sector=filters["sector"],
        size_band=filters["size_band"],
        area_states=None if area is None else tuple(area.states),
        area_municipalities=None if area is None else tuple(area.municipalities),
    )


def _shown(
    connection: sa.Connection, snapshot_id: str, category: str, employer_ids: list[str]
) -> dict[str, sa.Row]:
    """The shown workplaces' directory entries (name, and where they are now) and the reasons
    stored for their scores, in one statement."""
    employers, reasons = schema.employers, schema.snapshot_reasons
    rows = connection.execute(
        sa.select(
            employers.c.employer_id,
            employers.c.name,
            employers.c.state,
            employers.c.municipality,
            employers.c.sector,
            employers.c.size_band,
            reasons.c.reasons,
        )
        .select_from(
            employers.outerjoin(
                reasons,
                sa.and_(
                    reasons.c.snapshot_id == snapshot_id,
                    reasons.c.target == category,
                    reasons.c.employer_id == employers.c.employer_id,
                ),
            )
        )
        .where(employers.c.employer_id.in_(employer_ids))
    ).all()
    return {row.employer_id: row for row in rows}


def office_area_of(areas: OfficeAreas | None, office: str | None) -> OfficeArea | None:
    if office is None:
        return None
    if areas is None:
        raise Problem.invalid(
            "query",
            "office",
            "no office areas are configured: set CALLE_OFFICES_FILE (`calle world` writes one)",
        )
    try:
        return areas.area(office)
    except KeyError as error:
        raise Problem.invalid("query", "office", str(error.args[0])) from None


def _row(
    ranked: RankedSnapshot,
    category: str,
    position: int,
    employer_id: str,
    employer: sa.Row | None,
    reasons: str | None,
) -> dict[str, Any]:
    """A :class:`RankedEmployer`'s fields: the directory entry as it is now (as scored, for a
    workplace the directory no longer holds)."""
    entry = ranked.directory(position) if employer is None else employer._mapping
    score = ranked.score(category, position)
    return {
        "employer_id": employer_id,
        "name": entry.get("name"),
        "state": entry["state"],
        "municipality": entry["municipality"],
        "sector": entry["sector"],
        "size_band": entry["size_band"],
        "score": score.probability,
        "rank": score.rank,
        "percentile": score.percentile,
        "reasons": explained(reasons),
    }


@router.get(
    "/rankings",
    response_model=RankingPage,
    summary="The riskiest workplaces of the latest snapshot",
    description="Filtered by state, municipality, SCIAN sector prefix, size band and office "
    "(its area from `CALLE_OFFICES_FILE`), for the "
    "overall target or one category. Every call is written to the audit log. "
    "409 until a snapshot exists (`calle score`).",
    responses=problem_responses(401, 403, 409, 422),
)
def rankings(
    request: Request,
    engine: EngineDep,
    caches: CachesDep,
    explain: ReasonsOnReadDep,
    settings: SettingsDep,
    office_areas: OfficeAreasDep,
    key: Annotated[ApiKey, Depends(require(Role.planner))],
    state: Annotated[
        str | None, Query(min_length=1, max_length=16, description="State code, e.g. `11`.")
    ] = None,
    municipality: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Municipality code, exact.")
    ] = None,
    sector: Annotated[
        str | None, Query(min_length=1, max_length=6, description="SCIAN prefix, e.g. `3363`.")
    ] = None,
    size_band: Annotated[
        str | None, Query(min_length=1, max_length=32, description="e.g. `micro`, `large`.")
    ] = None,
    office: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description="Inspection office, e.g. `OF-11`."),
    ] = None,
    category: Annotated[
        str,
        Query(min_length=1, max_length=64, description="`any` (overall) or a category."),
    ] = OVERALL,
    limit: Annotated[int, Query(ge=1, le=1000, description="Rows per page.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=2048, description="`next_cursor` of the previous page.")
    ] = None,
) -> Response:
    filters = {
        "state": state,
        "municipality": municipality,
        "sector": sector,
        "size_band": size_band,
        "office": office,
        "category": category,
    }
    audited: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
    audited["limit"] = limit
    try:
        area = office_area_of(office_areas, office)
        page = ranking_page(
            engine, caches, explain, settings.region_codes, filters, area, limit, cursor, audited
        )
    except Problem as problem:
        record_access(engine, key, request.method, ENDPOINT, audited, 0, problem.status)
        raise
    record_access(engine, key, request.method, ENDPOINT, audited, len(page["items"]), 200)
    # serialised directly (RankingPage documents it): the rows are built from the store's
    # typed columns, and validating 100 rows again only to serialise them doubled the cost
    return Response(to_json(page), media_type="application/json")


def ranking_page(
    engine: sa.Engine,
    caches: ServiceCaches,
    explain: Explainer,
    regions: list[str],
    filters: dict[str, Any],
    area: OfficeArea | None,
    limit: int,
    cursor: str | None,
    audited: dict[str, Any],
) -> dict[str, Any]:
    """A :class:`RankingPage`'s fields. A stored snapshot never changes, so a page read once is
    kept by (snapshot, filters, position) until newer pages push it out; the caller audits
    every access, kept or read. Scores stored without reasons are explained by ``explain``."""
    _check_filters(regions, filters["state"], filters["sector"])
    fingerprint = _fingerprint(filters)
    position = None
    if cursor:  # an empty cursor (`cursor=`) is the first page
        position = decode_cursor(cursor, {"snapshot": str, "after": int, "filters": str})
        if position["filters"] != fingerprint:
            raise Problem.invalid(
                "query", "cursor", "it was issued for other filters; repeat them unchanged"
            )
        audited["after_rank"] = position["after"]
    category = filters["category"]
    snapshot = _snapshot(engine, caches, position)
    if category not in snapshot.targets:
        raise Problem.invalid(
            "query",
            "category",
            f"unknown category {category!r}; this snapshot ranks: " + ", ".join(snapshot.targets),
        )
    after = position["after"] if position else 0

    def read() -> tuple[tuple[dict[str, Any], ...], bool, bool]:
        """The page, whether more follow, and whether every score on it has its reasons."""
        ranked = caches.ranked.get(engine, snapshot.snapshot_id, snapshot.targets)
        positions = ranked.page(category, _ranking_filter(filters, area), after, limit + 1)
        shown = positions[:limit].tolist()
        ids = [ranked.employer_id(p) for p in shown]
        with statement_connection(engine) as connection:
            rows = _shown(connection, snapshot.snapshot_id, category, ids)
        stored = {e: row.reasons for e, row in rows.items() if row.reasons is not None}
        missing = [(category, e) for e in ids if e not in stored]
        found = explain(snapshot, missing)
        page = tuple(
            _row(ranked, category, p, e, rows.get(e), stored.get(e) or found.get((category, e)))
            for p, e in zip(shown, ids, strict=True)
        )
        return page, len(positions) > limit, len(found) == len(missing)

    found = caches.pages.get(
        (snapshot.snapshot_id, category, fingerprint, after, limit), read, keep=lambda p: p[2]
    )
    assert found is not None  # read() always answers
    items, more, _ = found
    next_cursor = (
        encode_cursor(
            {"snapshot": snapshot.snapshot_id, "after": items[-1]["rank"], "filters": fingerprint}
        )
        if more
        else None
    )
    return {
        "snapshot_id": snapshot.snapshot_id,
        "model_name": snapshot.model_name,
        "model_version": snapshot.model_version,
        "as_of": snapshot.as_of,
        "category": category,
        "items": items,
        "next_cursor": next_cursor,
    }
