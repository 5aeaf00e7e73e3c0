"""The inspection-activity page and the models page (plots, drift, realised hit rate)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient

from calle.store import schema
from service.app import create_app
from service.roles import Role
from service.ui.activity import inspection_activity
from tests.service.ui.test_pages import sign_in
from training.monitoring import latest_report
from training.scoring import score_population


def _visits(inspector: str, office: str, found: int, total: int, start: int) -> list[dict]:
    return [
        {
            "inspection_id": f"I{start + i:05d}",
            "employer_id": "E001",
            "date": datetime(2025, 1 + i % 12, 1 + i % 27),
            "origin": "planned" if i % 2 else "random",
            "office": office,
            "inspector_id": inspector,
            "violation_found": int(i < found),
        }
        for i in range(total)
    ]


def test_inspectors_far_from_their_office_are_flagged(engine, employers):
    rows = (
        _visits("INS-A", "O1", 40, 50, 0)  # 80% where the office finds 50%
        + _visits("INS-B", "O1", 10, 50, 100)  # 20%
        + _visits("INS-C", "O1", 25, 50, 200)  # 50%: as the office
        + _visits("INS-D", "O2", 3, 10, 300)  # too few visits to judge
    )
    findings = [
        {"inspection_id": r["inspection_id"], "category": category, "violation": flag}
        for r in rows[:10]
        for category, flag in (("safety_health", 1), ("subcontracting", 0))
    ]
    with engine.begin() as connection:
        connection.execute(schema.inspections.insert(), rows)
        connection.execute(schema.findings.insert(), findings)
        report = inspection_activity(connection, date(2024, 1, 1))
    by_category = {r["category"]: (r["inspections"], r["hit_rate"]) for r in report["by_category"]}
    assert by_category == {"safety_health": (10, 1.0), "subcontracting": (10, 0.0)}
    assert report["inspections"] == 160
    flagged = {r["inspector_id"]: r for r in report["divergent_inspectors"]}
    assert set(flagged) == {"INS-A", "INS-B"}
    assert flagged["INS-A"]["peer_rate"] == pytest.approx(0.5)
    assert flagged["INS-A"]["z"] == pytest.approx(15 / (50 * 0.25) ** 0.5, abs=0.05)
    origins = {r["origin"]: r["inspections"] for r in report["by_origin"]}
    assert origins == {"planned": 80, "random": 80}
    assert sum(r["inspections"] for r in report["by_month"]) == 160


def test_the_activity_page_shows_the_store_s_record(settings, engine, employers, keys):
    with engine.begin() as connection:
        connection.execute(schema.inspections.insert(), _visits("INS-A", "O1", 40, 50, 0))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        sign_in(client, keys[Role.planner])
        page = client.get("/ui/activity", params={"years": 3})
    assert page.status_code == 200
    assert re.search(r'id="activity-summary">50 ', page.text)
    assert "80.0%" in page.text  # the hit rate of all 50


def test_the_models_page_shows_the_champion_its_plots_and_monitoring(
    serving_settings, world_engine, keys
):
    with TestClient(create_app(serving_settings), raise_server_exceptions=False) as client:
        sign_in(client, keys[Role.data_scientist])
        before = client.get("/ui/models")
        assert before.status_code == 200
        assert 'id="champion"' in before.text and 'id="no-report"' in before.text
        plot = client.get("/ui/models/1/plots/calibration.png")
        assert plot.status_code == 200 and plot.content.startswith(b"\x89PNG")
        assert client.get("/ui/models/1/plots/secrets.txt").status_code == 404
        snapshot = score_population(serving_settings, date(2024, 1, 1), engine=world_engine)
        after = client.get("/ui/models")
    report = latest_report(world_engine, "employer-risk", "1")
    assert report is not None and report[0] == snapshot.snapshot_id
    most_shifted = report[1]["features"][0]["feature"]
    assert 'id="drift"' in after.text and f"<td>{most_shifted}</td>" in after.text
    assert after.text.count('class="score-drift"') == len(snapshot.targets)
    rows = re.findall(r'<tr><td>any</td><td class="num">(\d+)</td>', after.text)
    assert rows and int(rows[0]) > 0  # inspections since the snapshot, judged


def test_the_employer_timeline_names_the_categories_found(settings, engine, snapshot, keys):
    with engine.begin() as connection:
        connection.execute(schema.inspections.insert(), _visits("INS-A", "O1", 1, 2, 0))
        connection.execute(
            schema.findings.insert(),
            [
                {"inspection_id": "I00000", "category": "safety_health", "violation": 1},
                {"inspection_id": "I00000", "category": "subcontracting", "violation": 0},
                {"inspection_id": "I00001", "category": "safety_health", "violation": 0},
            ],
        )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        sign_in(client, keys[Role.planner])
        page = client.get("/ui/employers/E001")
    assert page.status_code == 200
    timeline = page.text.split('id="timeline"')[1].split("</table>")[0]
    assert timeline.count("<tr>") == 1 + 2  # header and two visits
    assert "violación: safety_health<" in timeline  # found only what was violated
    assert "subcontracting" not in timeline
