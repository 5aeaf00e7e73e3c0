"""ECMS events over HTTP: validated as the import validates, idempotent, stored as training
data, complainants protected; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import logging
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from calle.settings import Settings
from calle.store import schema
from features.contract import TABLES_BY_NAME
from features.contract_import import import_folder
from features.store_frames import load_frames
from service.roles import Role
from tests.service.conftest import EMPLOYERS, bearer, is_problem

API = "/api/v1"
TOMORROW = (date.today() + timedelta(days=1)).isoformat()

INSPECTION = {
    "inspection_id": "INS-1",
    "employer_id": "E001",
    "date": "2025-03-02",
    "origin": "complaint",
    "office": "11-LEO",
    "inspector_id": "INSP-7",
    "violation_found": 1,
}
FINDING = {
    "inspection_id": "INS-1",
    "category": "safety_health",
    "violation": 1,
    "sanction_amount": 2500.0,
}
COMPLAINT = {
    "complaint_id": "Q-1",
    "employer_id": "E001",
    "date": "2025-02-20",
    "category": "working_conditions",
    "channel": "web",
}
BODIES = {"inspections": INSPECTION, "findings": FINDING, "complaints": COMPLAINT}


@pytest.fixture
def ecms(keys) -> dict[str, str]:
    return bearer(keys[Role.ecms])


@pytest.fixture
def inspection(client: TestClient, ecms, employers) -> dict:
    """INS-1 stored (violation_found = 1)."""
    assert client.post(f"{API}/inspections", json=INSPECTION, headers=ecms).status_code == 201
    return INSPECTION


def stored(engine: sa.Engine, table: str) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(schema.CONTRACT_TABLES[table])).mappings().all()
    return [dict(row) for row in rows]


@pytest.mark.parametrize(
    ("table", "changed"),
    [
        ("inspections", {"origin": "random"}),
        ("inspections", {"office": None}),
        ("findings", {"sanction_amount": 100.0}),
        ("findings", {"violation": 0}),
        ("complaints", {"channel": "phone"}),
        ("complaints", {"date": "2025-02-21"}),
    ],
)
def test_new_is_201_same_again_200_different_409(
    client: TestClient, engine, ecms, inspection, table, changed
):
    body = BODIES[table]
    path = f"{API}/{table}"
    if table != "inspections":
        first = client.post(path, json=body, headers=ecms)
        assert first.status_code == 201, first.text
        assert first.json() == body
    again = client.post(path, json=body, headers=ecms)
    assert again.status_code == 200, again.text
    assert again.json() == body
    conflict = is_problem(client.post(path, json={**body, **changed}, headers=ecms), 409)
    assert conflict["errors"] == [
        {"location": "body", "field": name, "reason": "duplicate_conflict"} for name in changed
    ]
    noun = {"inspections": "An inspection", "findings": "A finding", "complaints": "A complaint"}
    assert conflict["detail"].startswith(f"{noun[table]} with this ")
    assert len(stored(engine, table)) == 1


def test_equal_content_in_other_spellings_is_the_same_record(client: TestClient, ecms, inspection):
    """The import's comparison: typed values, so `1`, `"1"` and `true` are one flag."""
    for spelling in ("1", True, 1.0, " 1 "):
        body = {**INSPECTION, "violation_found": spelling, "date": " 2025-03-02"}
        assert client.post(f"{API}/inspections", json=body, headers=ecms).status_code == 200


def test_absent_optional_fields_are_missing(client: TestClient, engine, ecms, employers):
    body = {k: v for k, v in INSPECTION.items() if k not in ("office", "inspector_id")}
    response = client.post(f"{API}/inspections", json=body, headers=ecms)
    assert response.status_code == 201
    assert response.json() == {**body, "office": None, "inspector_id": None}
    assert stored(engine, "inspections")[0]["office"] is None


INVALID = [
    ("inspections", {"date": "2025-02-30"}, "date", "bad_type:date"),
    ("inspections", {"date": "02/03/2025"}, "date", "bad_type:date"),
    ("inspections", {"date": 20250302}, "date", "bad_type:date"),
    ("inspections", {"date": TOMORROW}, "date", "future_date:date"),
    ("inspections", {"date": None}, "date", "missing_value:date"),
    ("inspections", {"employer_id": "E999"}, "employer_id", "unknown_employer"),
    ("inspections", {"origin": "lottery"}, "origin", "not_allowed:origin"),
    ("inspections", {"origin": "  "}, "origin", "missing_value:origin"),
    ("inspections", {"violation_found": "yes"}, "violation_found", "bad_type:violation_found"),
    ("inspections", {"violation_found": 2}, "violation_found", "bad_type:violation_found"),
    ("inspections", {"violation_found": [1]}, "violation_found", "bad_type:violation_found"),
    ("findings", {"inspection_id": "INS-404"}, "inspection_id", "unknown_inspection"),
    ("findings", {"category": "wages"}, "category", "not_allowed:category"),
    ("findings", {"sanction_amount": -1}, "sanction_amount", "out_of_range:sanction_amount"),
    ("findings", {"sanction_amount": "a lot"}, "sanction_amount", "bad_type:sanction_amount"),
    ("findings", {"violation": None}, "violation", "missing_value:violation"),
    ("complaints", {"employer_id": "E999"}, "employer_id", "unknown_employer"),
    ("complaints", {"date": TOMORROW}, "date", "future_date:date"),
    ("complaints", {"category": "other"}, "category", "not_allowed:category"),
    ("complaints", {"complaint_id": ""}, "complaint_id", "missing_value:complaint_id"),
]


@pytest.mark.parametrize(("table", "change", "field", "reason"), INVALID)
def test_a_bad_record_is_422_naming_the_field_and_the_import_reason(
    client: TestClient, engine, ecms, inspection, table, change, field, reason
):
    before = len(stored(engine, table))
    body = {**BODIES[table], **change}
    problem = is_problem(client.post(f"{API}/{table}", json=body, headers=ecms), 422)
    assert problem["errors"] == [{"location": "body", "field": field, "reason": reason}]
    assert len(stored(engine, table)) == before


@pytest.mark.parametrize("table", ["inspections", "complaints"])
def test_a_missing_required_field_is_the_import_missing_value(
    client: TestClient, ecms, employers, table
):
    body = {k: v for k, v in BODIES[table].items() if k != "date"}
    problem = is_problem(client.post(f"{API}/{table}", json=body, headers=ecms), 422)
    assert problem["errors"][0]["reason"] == "missing_value:date"


@pytest.mark.parametrize(
    ("table", "change", "reason"),
    [
        (table, change, reason)
        for table, change, _field, reason in INVALID
        if table != "findings" and all(not isinstance(v, int | list) for v in change.values())
    ],
)
def test_the_import_rejects_the_same_row_for_the_same_reason(
    tmp_path: Path, settings: Settings, employers, table, change, reason
):
    """The HTTP answer and `calle import` agree: the same row in a file gets the same code."""
    folder = tmp_path / "folder"
    folder.mkdir()
    _write_csv(folder / "employers.csv", EMPLOYERS)
    key = TABLES_BY_NAME[table].key[0]
    good = {**BODIES[table], key: "OK-1"}  # a file needs one parsable value per column
    rows = [
        {k: "" if v is None else v for k, v in r.items()}
        for r in (good, {**BODIES[table], **change})
    ]
    _write_csv(folder / "inspections.csv", rows if table == "inspections" else [])
    if table == "complaints":
        _write_csv(folder / "complaints.csv", rows)
    report = import_folder(folder, settings)
    assert report.table(table).rejected_by_reason == {reason: 1}


def _write_csv(path: Path, rows: list[dict]) -> None:
    table = TABLES_BY_NAME[path.stem]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table.column_names))
        writer.writeheader()
        writer.writerows(rows)


def test_unknown_fields_are_refused_by_name(client: TestClient, engine, ecms, employers):
    body = {**INSPECTION, "priority": "high", "notes": "x"}
    problem = is_problem(client.post(f"{API}/inspections", json=body, headers=ecms), 422)
    assert problem["errors"] == [
        {"location": "body", "field": "priority", "reason": "unknown_field"},
        {"location": "body", "field": "notes", "reason": "unknown_field"},
    ]
    assert stored(engine, "inspections") == []


def test_a_complainant_is_never_stored_echoed_or_logged(
    client: TestClient, engine, ecms, employers, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    body = {**COMPLAINT, "complainant_name": "Rosa Pérez", "phone": "+52 55 1234 5678"}
    response = client.post(f"{API}/complaints", json=body, headers=ecms)
    problem = is_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["complainant_name", "phone"]
    for secret in ("Rosa", "Pérez", "1234"):
        assert secret not in response.text
        assert secret not in caplog.text
    with engine.connect() as connection:
        for table in schema.metadata.sorted_tables:
            dump = repr(connection.execute(sa.select(table)).all())
            assert "Rosa" not in dump, table.name
    assert stored(engine, "complaints") == []


def test_findings_after_their_inspection_and_the_violation_found_rule(
    client: TestClient, engine, ecms, employers
):
    clean = {**INSPECTION, "inspection_id": "INS-0", "violation_found": 0}
    assert client.post(f"{API}/inspections", json=clean, headers=ecms).status_code == 201
    violating = {**FINDING, "inspection_id": "INS-0"}
    problem = is_problem(client.post(f"{API}/findings", json=violating, headers=ecms), 409)
    assert problem["errors"] == [
        {"location": "body", "field": "violation", "reason": "violation_found_mismatch"}
    ]
    assert "violation_found = 0" in problem["detail"]
    compliant = {**violating, "violation": 0, "sanction_amount": None}
    assert client.post(f"{API}/findings", json=compliant, headers=ecms).status_code == 201

    found = {**INSPECTION, "inspection_id": "INS-2", "violation_found": 1}
    assert client.post(f"{API}/inspections", json=found, headers=ecms).status_code == 201
    first = {**FINDING, "inspection_id": "INS-2", "category": "subcontracting", "violation": 0}
    assert client.post(f"{API}/findings", json=first, headers=ecms).status_code == 201
    second = {**FINDING, "inspection_id": "INS-2"}
    assert client.post(f"{API}/findings", json=second, headers=ecms).status_code == 201
    assert len(stored(engine, "findings")) == 3


@pytest.mark.parametrize("table", list(BODIES))
def test_roles(client: TestClient, keys, inspection, table):
    path = f"{API}/{table}"
    is_problem(client.post(path, json=BODIES[table]), 401)
    for role in Role:
        response = client.post(path, json=BODIES[table], headers=bearer(keys[role]))
        if role in (Role.ecms, Role.admin):
            assert response.status_code in (200, 201), (role, response.text)
        else:
            assert role.value in is_problem(response, 403)["detail"]


def test_authentication_comes_before_the_record(client: TestClient):
    is_problem(client.post(f"{API}/complaints", json={"complainant_name": "Rosa"}), 401)


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'"x"', b"null"])
def test_a_malformed_body_is_422(client: TestClient, ecms, content):
    response = client.post(
        f"{API}/inspections", content=content, headers={**ecms, "content-type": "application/json"}
    )
    is_problem(response, 422)


def test_one_info_line_per_accepted_event_with_ids_only(
    client: TestClient, ecms, inspection, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="service.events")
    client.post(f"{API}/complaints", json=COMPLAINT, headers=ecms)
    client.post(f"{API}/complaints", json=COMPLAINT, headers=ecms)
    client.post(f"{API}/findings", json=FINDING, headers=ecms)
    lines = [r.getMessage() for r in caplog.records if r.name == "service.events"]
    assert lines == [
        "ECMS event: complaint Q-1 about employer E001 stored",
        "ECMS event: complaint Q-1 about employer E001 already stored, unchanged",
        "ECMS event: finding INS-1/safety_health stored",
    ]
    assert not any("web" in line or "working_conditions" in line for line in lines)


def test_events_become_training_data(client: TestClient, engine, ecms, inspection):
    client.post(f"{API}/findings", json=FINDING, headers=ecms)
    client.post(f"{API}/complaints", json=COMPLAINT, headers=ecms)
    frames = load_frames(engine)
    row = frames.inspections.set_index("inspection_id").loc["INS-1"]
    assert (row["employer_id"], row["origin"], row["violation_found"]) == ("E001", "complaint", 1)
    assert str(row["date"].date()) == "2025-03-02"
    assert frames.findings[["inspection_id", "category", "violation"]].values.tolist() == [
        ["INS-1", "safety_health", 1]
    ]
    assert frames.complaints["complaint_id"].tolist() == ["Q-1"]


def test_the_openapi_document_describes_the_events(client: TestClient):
    document = client.get("/openapi.json").json()
    for table in BODIES:
        operation = document["paths"][f"{API}/{table}"]["post"]
        assert {"200", "201", "401", "403", "409", "422"} <= set(operation["responses"])
    inspection = document["components"]["schemas"]["InspectionEvent"]
    assert inspection["additionalProperties"] is False
    assert inspection["required"] == [
        "inspection_id",
        "employer_id",
        "date",
        "origin",
        "violation_found",
    ]
    assert inspection["examples"]
