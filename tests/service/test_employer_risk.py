"""``GET /api/v1/employers/{id}/risk`` on both engines: scores, reasons, record, errors, audit.

The expected record is counted with plain SQL straight from the store, independently of the
service's queries.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from calle.store import open_store, schema
from features.contract_import import import_folder
from service.app import create_app
from service.roles import Role
from tests.service.conftest import (
    EMPLOYERS,
    audit_rows,
    bearer,
    is_problem,
    later,
    store_snapshot,
)
from tests.snapshot_scores import stored_scores

BY_ID = {e["employer_id"]: e for e in EMPLOYERS}
ENDPOINT = "/api/v1/employers/{employer_id}/risk"


def url(employer_id: str) -> str:
    return f"/api/v1/employers/{employer_id}/risk"


INSPECTIONS = [
    ("I1", "E001", date(2023, 3, 1), "planned", 1),
    ("I2", "E001", date(2024, 5, 10), "complaint", 1),
    ("I3", "E001", date(2024, 11, 2), "random", 0),
    ("I4", "E001", date(2025, 2, 3), "complaint", 0),
    ("I5", "E002", date(2025, 6, 1), "follow_up", 1),
]
FINDINGS = [
    ("I1", "safety_health", 1),
    ("I1", "working_conditions", 0),
    ("I2", "safety_health", 1),
    ("I2", "subcontracting", 1),
    ("I3", "safety_health", 0),
    ("I5", "working_conditions", 1),
]
COMPLAINTS = [
    ("C-secret-1", "E001", date(2024, 4, 1), "safety_health", "phone"),
    ("C-secret-2", "E001", date(2024, 4, 2), "safety_health", "web"),
    ("C-secret-3", "E001", date(2024, 4, 3), None, None),
    ("C-secret-4", "E001", date(2024, 9, 9), "subcontracting", "phone"),
    ("C-secret-5", "E002", date(2025, 1, 1), "working_conditions", "in_person"),
]
REMEDIATIONS = [
    ("E001", date(2023, 3, 10), date(2023, 9, 1), "EXP-1"),
    ("E001", date(2024, 5, 20), None, "EXP-2"),
    ("E001", date(2024, 6, 1), None, None),
    ("E002", date(2025, 6, 5), None, "EXP-3"),
]


def as_rows(columns: tuple[str, ...], data: list[tuple]) -> list[dict]:
    return [dict(zip(columns, row, strict=True)) for row in data]


@pytest.fixture
def history(engine: sa.Engine, employers: list[dict]) -> None:
    """A known record for E001 (rich) and E002 (one inspection); the others have none."""
    with engine.begin() as connection:
        connection.execute(
            schema.inspections.insert(),
            as_rows(
                ("inspection_id", "employer_id", "date", "origin", "violation_found"), INSPECTIONS
            ),
        )
        connection.execute(
            schema.findings.insert(),
            as_rows(("inspection_id", "category", "violation"), FINDINGS),
        )
        connection.execute(
            schema.complaints.insert(),
            as_rows(("complaint_id", "employer_id", "date", "category", "channel"), COMPLAINTS),
        )
        connection.execute(
            schema.remediations.insert(),
            [
                {
                    "remediation_key": schema.remediation_key(e, o.isoformat(), s),
                    "employer_id": e,
                    "opened_on": o,
                    "closed_on": c,
                    "source": s,
                }
                for e, o, c, s in REMEDIATIONS
            ],
        )


@pytest.fixture
def planner(keys) -> dict[str, str]:
    return bearer(keys[Role.planner])


def expected_history(engine: sa.Engine, employer_id: str) -> dict:
    """The record summary computed with plain SQL, as the API should send it."""
    with engine.connect() as c:
        inspections = c.execute(
            sa.text(
                "SELECT inspection_id, date, origin, violation_found FROM inspections "
                "WHERE employer_id = :e ORDER BY date, inspection_id"
            ),
            {"e": employer_id},
        ).all()
        violations = c.execute(
            sa.text(
                "SELECT f.category FROM findings f JOIN inspections i "
                "ON i.inspection_id = f.inspection_id "
                "WHERE i.employer_id = :e AND f.violation = 1"
            ),
            {"e": employer_id},
        ).all()
        complaints = c.execute(
            sa.text("SELECT category, channel FROM complaints WHERE employer_id = :e"),
            {"e": employer_id},
        ).all()
        open_plans = c.execute(
            sa.text(
                "SELECT opened_on, source FROM remediations "
                "WHERE employer_id = :e AND closed_on IS NULL"
            ),
            {"e": employer_id},
        ).all()
    by_origin: dict[str, dict[str, int]] = {}
    for row in inspections:
        counts = by_origin.setdefault(row.origin, {"inspections": 0, "with_violations": 0})
        counts["inspections"] += 1
        counts["with_violations"] += row.violation_found
    last = inspections[-1] if inspections else None
    name = lambda v: v or "unspecified"  # noqa: E731
    return {
        "inspections": {
            "inspections": len(inspections),
            "with_violations": sum(r.violation_found for r in inspections),
        },
        "by_origin": by_origin,
        "last_inspection": None
        if last is None
        else {
            "date": str(last.date),
            "origin": last.origin,
            "violation_found": bool(last.violation_found),
        },
        "violations_by_category": dict(Counter(r.category for r in violations)),
        "complaints": {
            "total": len(complaints),
            "by_category": dict(Counter(name(r.category) for r in complaints)),
            "by_channel": dict(Counter(name(r.channel) for r in complaints)),
        },
        "open_remediations": [
            {"opened_on": str(r.opened_on), "source": r.source}
            for r in sorted(open_plans, key=lambda r: (r.opened_on, r.source or ""))
        ],
    }


def test_the_page_holds_the_scores_of_every_target_with_reasons(
    client, planner, engine, snapshot, history
):
    body = client.get(url("E001"), headers=planner).json()
    employer = BY_ID["E001"]
    for field in ("employer_id", "name", "state", "municipality", "sector", "size_band"):
        assert body[field] == employer[field]
    assert (body["snapshot_id"], body["model_name"], body["model_version"], body["as_of"]) == (
        snapshot.snapshot_id,
        "employer-risk",
        "3",
        "2026-01-01",
    )
    assert body["scored"] == 40
    assert set(body["categories"]) == {"safety_health"}
    scores = stored_scores(engine)
    stored = {row.target: row for row in scores[scores["employer_id"] == "E001"].itertuples()}
    for target, risk in (
        ("any", body["overall"]),
        ("safety_health", body["categories"]["safety_health"]),
    ):
        row = stored[target]
        assert (risk["probability"], risk["rank"], risk["percentile"]) == pytest.approx(
            (row.probability, row.rank, row.percentile)
        )
    assert body["overall"]["rank"] != body["categories"]["safety_health"]["rank"]
    assert body["overall"]["reasons"] == [
        {
            "feature": "violations_3y",
            "contribution": 0.1,
            "value": 2,
            "text_es": "2 inspecciones con violaciones en los últimos 3 años",
            "text_en": "2 inspections that found violations in the last 3 years",
        }
    ]
    [reason] = body["categories"]["safety_health"]["reasons"]
    assert reason["text_es"].endswith("de seguridad e higiene en los últimos 3 años")
    assert reason["text_en"].endswith("safety and health violations in the last 3 years")


def test_the_record_summary_is_exact(client, planner, snapshot, history):
    body = client.get(url("E001"), headers=planner).json()
    assert body["history"] == {
        "inspections": {"inspections": 4, "with_violations": 2},
        "by_origin": {
            "complaint": {"inspections": 2, "with_violations": 1},
            "planned": {"inspections": 1, "with_violations": 1},
            "random": {"inspections": 1, "with_violations": 0},
        },
        "last_inspection": {"date": "2025-02-03", "origin": "complaint", "violation_found": False},
        "violations_by_category": {"safety_health": 2, "subcontracting": 1},
        "complaints": {
            "total": 4,
            "by_category": {"safety_health": 2, "subcontracting": 1, "unspecified": 1},
            "by_channel": {"phone": 2, "unspecified": 1, "web": 1},
        },
        "open_remediations": [
            {"opened_on": "2024-05-20", "source": "EXP-2"},
            {"opened_on": "2024-06-01", "source": None},
        ],
    }


@pytest.mark.parametrize("employer_id", ["E001", "E002", "E003"])
def test_the_record_summary_matches_the_store(
    client, planner, engine, snapshot, history, employer_id
):
    body = client.get(url(employer_id), headers=planner).json()
    assert body["history"] == expected_history(engine, employer_id)


def test_no_complainant_detail_leaves_the_service(client, planner, snapshot, history):
    text = client.get(url("E001"), headers=planner).text
    assert "C-secret" not in text
    assert "2024-04-0" not in text and "2024-09-09" not in text  # complaint dates


def test_a_workplace_without_a_record_has_zero_counts(client, planner, snapshot):
    history = client.get(url("E007"), headers=planner).json()["history"]
    assert history["inspections"] == {"inspections": 0, "with_violations": 0}
    assert history["last_inspection"] is None
    assert history["by_origin"] == history["violations_by_category"] == {}
    assert history["complaints"] == {"total": 0, "by_category": {}, "by_channel": {}}
    assert history["open_remediations"] == []


@pytest.mark.parametrize("role", [Role.planner, Role.admin])
def test_planners_and_admins_may_read_it(client, keys, snapshot, role):
    assert client.get(url("E001"), headers=bearer(keys[role])).status_code == 200


@pytest.mark.parametrize("role", [Role.ecms, Role.data_scientist])
def test_other_roles_are_refused_with_403(client, keys, snapshot, role):
    body = is_problem(client.get(url("E001"), headers=bearer(keys[role])), 403)
    assert role.value in body["detail"]


def test_no_or_a_bad_key_is_401(client, keys, snapshot):
    is_problem(client.get(url("E001")), 401)
    is_problem(client.get(url("E001"), headers=bearer("calle_nope")), 401)


def test_an_unknown_employer_is_404_naming_it(client, planner, snapshot):
    body = is_problem(client.get(url("E999"), headers=planner), 404)
    assert "E999" in body["detail"] and body["type"] == "/problems/unknown-employer"


def test_an_employer_registered_after_the_snapshot_is_404_saying_so(
    client, planner, engine, snapshot
):
    with engine.begin() as connection:
        connection.execute(
            schema.employers.insert().values(employer_id="E100", state="11", sector="461110")
        )
    body = is_problem(client.get(url("E100"), headers=planner), 404)
    assert "E100" in body["detail"] and snapshot.snapshot_id in body["detail"]
    assert "not in the latest snapshot" in body["detail"]
    assert body["type"] == "/problems/employer-not-scored"


def test_no_snapshot_yet_is_409(client, planner, employers):
    body = is_problem(client.get(url("E001"), headers=planner), 409)
    assert "calle score" in body["detail"]


def test_the_newest_snapshot_is_served(client, planner, engine, snapshot):
    newer = store_snapshot(engine, "20260102-bbbb0002", targets=("any",), created_at=later(60))
    body = client.get(url("E001"), headers=planner).json()
    assert body["snapshot_id"] == newer.snapshot_id and body["categories"] == {}


def test_an_overlong_id_is_422(client, planner, snapshot):
    body = is_problem(client.get(url("E" * 129), headers=planner), 422)
    assert body["errors"][0]["field"] == "employer_id"


def test_every_request_is_audited_with_the_employer_and_one_row(
    client, planner, keys, engine, snapshot
):
    client.get(url("E001"), headers=planner)
    client.get(url("E999"), headers=planner)
    client.get(url("E002"), headers=bearer(keys[Role.ecms]))  # refused: not audited
    rows = audit_rows(engine)
    assert [(r.role, r.method, r.endpoint, r.rows, r.status) for r in rows] == [
        ("planner", "GET", ENDPOINT, 1, 200),
        ("planner", "GET", ENDPOINT, 0, 404),
    ]
    assert [json.loads(r.filters) for r in rows] == [
        {"employer_id": "E001"},
        {"employer_id": "E999"},
    ]


def test_a_small_world_records_match_the_store(settings, keys, small_world):
    """The real import path: the busiest workplaces of a 3,000-workplace world."""
    import_folder(small_world, settings)
    engine = open_store(settings)
    try:
        store_snapshot(engine, "20260101-world001")
        with engine.connect() as connection:
            busiest = list(
                connection.execute(
                    sa.text(
                        "SELECT employer_id FROM complaints GROUP BY employer_id "
                        "ORDER BY count(*) DESC, employer_id LIMIT 3"
                    )
                ).scalars()
            ) + list(
                connection.execute(
                    sa.text(
                        "SELECT employer_id FROM remediations WHERE closed_on IS NULL "
                        "ORDER BY employer_id LIMIT 2"
                    )
                ).scalars()
            )
        expected = {e: expected_history(engine, e) for e in busiest}
    finally:
        engine.dispose()
    assert len(busiest) == 5
    with TestClient(create_app(settings)) as client:
        for employer_id in busiest:
            response = client.get(url(employer_id), headers=bearer(keys[Role.planner]))
            assert response.status_code == 200, response.text
            assert response.json()["history"] == expected[employer_id], employer_id
    assert any(expected[e]["complaints"]["total"] > 1 for e in busiest)
    assert any(expected[e]["open_remediations"] for e in busiest)
