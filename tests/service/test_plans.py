"""Plans over HTTP and from `calle plan`: capacities, exclusions, mandatory visits and the
exploration share honoured exactly; the same request gives the same plan; audited."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from calle.cli import app as cli
from calle.store import schema
from service.app import create_app
from service.roles import Role
from tests.service.conftest import EMPLOYERS, audit_rows, bearer, is_problem
from tests.snapshot_scores import stored_scores

PLANS = "/api/v1/plans"
AS_OF = "2026-06-30"
STATE = {e["employer_id"]: e["state"] for e in EMPLOYERS}
OFFICES_TOML = """
[offices."OF-01"]
states = ["01"]
capacity = 5

[offices."OF-11"]
states = ["11"]
capacity = 4

[offices."OF-NOCAP"]
states = ["19"]
"""


@pytest.fixture
def offices_file(tmp_path):
    path = tmp_path / "offices.toml"
    path.write_text(OFFICES_TOML, encoding="utf-8")
    return path


@pytest.fixture
def plan_client(settings, engine, offices_file):
    with TestClient(
        create_app(settings.model_copy(update={"offices_file": offices_file})),
        raise_server_exceptions=False,
    ) as client:
        yield client


@pytest.fixture
def planner(keys):
    return bearer(keys[Role.planner])


def ranked(engine, state: str, target: str = "any") -> list[str]:
    scores = stored_scores(engine)
    kept = scores[(scores["target"] == target) & (scores["state"] == state)]
    return kept.sort_values("rank")["employer_id"].tolist()


def post(client, headers, **body):
    return client.post(PLANS, headers=headers, json={"as_of": AS_OF, **body})


def test_a_plan_fills_each_office_s_capacity_from_its_area(plan_client, planner, snapshot, engine):
    response = post(plan_client, planner)
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["snapshot_id"] == snapshot.snapshot_id and plan["model_version"] == "3"
    assert plan["request"]["offices"]["OF-01"] == {
        "capacity": 5,
        "states": ["01"],
        "municipalities": [],
    }
    assert "OF-NOCAP" not in plan["request"]["offices"]  # no capacity: not planned
    by_office = {o["office"]: o for o in plan["offices"]}
    # 10% of 5 rounds to 1 exploration visit; of 4, to 0
    assert by_office["OF-01"] | {"office": 0} == {
        "office": 0,
        "capacity": 5,
        "mandatory": 0,
        "model": 4,
        "exploration": 1,
        "exploration_pool": len(ranked(engine, "01")) - 4,
        "shortfall": 0,
    }
    assert (by_office["OF-11"]["model"], by_office["OF-11"]["exploration"]) == (4, 0)
    visits = plan["visits"]
    assert len(visits) == 9
    for visit in visits:
        assert STATE[visit["employer_id"]] == visit["office"][3:]
    model_01 = [
        v["employer_id"] for v in visits if v["office"] == "OF-01" and v["selection"] == "model"
    ]
    assert model_01 == ranked(engine, "01")[:4]
    explored = [v for v in visits if v["selection"] == "exploration"]
    assert explored[0]["employer_id"] in ranked(engine, "01")[4:]
    assert explored[0]["selection_probability"] == pytest.approx(
        1 / (len(ranked(engine, "01")) - 4)
    )


def test_the_same_request_gives_the_same_plan_and_a_new_seed_another(
    plan_client, planner, snapshot, engine
):
    first = post(plan_client, planner, exploration_share=0.5).json()
    again = post(plan_client, planner, exploration_share=0.5)
    assert again.status_code == 200
    assert again.json()["plan_id"] == first["plan_id"]
    assert again.json()["visits"] == first["visits"]
    other = post(plan_client, planner, exploration_share=0.5, seed=first["seed"] + 1)
    assert other.status_code == 201 and other.json()["plan_id"] != first["plan_id"]
    rows = [r for r in audit_rows(engine) if r.endpoint == PLANS]
    assert [(r.status, r.rows) for r in rows] == [(201, 9), (200, 9), (201, 9)]


def test_exclusions_and_mandatory_workplaces_are_honoured(plan_client, planner, snapshot, engine):
    top_01, top_11 = ranked(engine, "01")[0], ranked(engine, "11")[0]
    follow_up, asked = ranked(engine, "11")[-1], ranked(engine, "01")[-1]
    day = date.fromisoformat(AS_OF)
    with engine.begin() as connection:
        connection.execute(
            schema.inspections.insert(),
            [
                {
                    "inspection_id": "I-recent",
                    "employer_id": top_01,
                    "date": day - timedelta(days=10),
                    "origin": "planned",
                    "violation_found": 0,
                },
                {
                    "inspection_id": "I-old",
                    "employer_id": top_11,
                    "date": day - timedelta(days=400),
                    "origin": "planned",
                    "violation_found": 0,
                },
            ],
        )
        connection.execute(
            schema.remediations.insert(),
            [
                {
                    "remediation_key": "R1",
                    "employer_id": follow_up,
                    "opened_on": day - timedelta(days=30),
                }
            ],
        )
    plan = post(plan_client, planner, must_include=[asked]).json()
    selection = {v["employer_id"]: v["selection"] for v in plan["visits"]}
    assert top_01 not in selection  # inspected 10 days ago
    assert selection[top_11] == "model"  # 400 days ago: beyond the default 180
    assert selection[follow_up] == "mandatory" and selection[asked] == "mandatory"
    by_office = {o["office"]: o for o in plan["offices"]}
    assert by_office["OF-11"]["mandatory"] == 1 and by_office["OF-11"]["model"] == 3
    no_exclusion = post(plan_client, planner, must_include=[asked], exclude_inspected_within_days=0)
    assert top_01 in {v["employer_id"] for v in no_exclusion.json()["visits"]}
    without = post(plan_client, planner, include_open_remediations=False).json()
    assert follow_up not in {v["employer_id"] for v in without["visits"]}


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"offices": {"OF-NOCAP": {}}}, "offices.OF-NOCAP.capacity", "required"),
        ({"offices": {"OF-XX": {"capacity": 3}}}, "offices.OF-XX", "unknown office"),
        (
            {"offices": {"OF-01": {"capacity": 1}}, "must_include": ["E000", "E003"]},
            "offices",
            "office OF-01: 2 mandatory workplaces exceed its capacity of 1",
        ),
        ({"must_include": ["NOPE"]}, "must_include", "unknown employer NOPE"),
        (
            {"offices": {"OF-01": {"capacity": 2}}, "must_include": ["E001"]},
            "must_include",
            "in no planned office's area: E001",
        ),
        ({"category": "nope"}, "category", "the snapshot ranks: any, safety_health"),
        ({"exploration_share": 1.5}, "exploration_share", "less than or equal to 1"),
        ({"offices": {"bad/name": {"capacity": 1}}}, "offices.bad/name", "pattern"),
    ],
)
def test_a_request_that_cannot_be_planned_is_422_naming_the_field(
    plan_client, planner, snapshot, body, field, reason
):
    problem = is_problem(post(plan_client, planner, **body), 422)
    error = next(e for e in problem["errors"] if e["field"].startswith(field))
    assert reason in error["reason"], problem


def test_a_campaign_office_may_bring_its_own_area(plan_client, planner, snapshot, engine):
    body = {"category": "safety_health", "offices": {"CAMPAIGN": {"capacity": 6, "states": ["19"]}}}
    plan = post(plan_client, planner, **body, exploration_share=0).json()
    expected = ranked(engine, "19", "safety_health")[:6]
    assert [v["employer_id"] for v in plan["visits"]] == expected


def test_a_stored_plan_reads_back_as_json_and_csv_and_ecms_may_read(
    plan_client, planner, keys, snapshot, engine
):
    plan = post(plan_client, planner).json()
    ecms = bearer(keys[Role.ecms])
    assert plan_client.get(f"{PLANS}/{plan['plan_id']}", headers=ecms).json() == plan
    response = plan_client.get(
        f"{PLANS}/{plan['plan_id']}", headers=planner, params={"format": "csv"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "office",
        "employer_id",
        "rank",
        "score",
        "selection",
        "selection_probability",
    ]
    assert [r["employer_id"] for r in rows] == [v["employer_id"] for v in plan["visits"]]
    listing = plan_client.get(PLANS, headers=ecms).json()
    assert [(p["plan_id"], p["visits"]) for p in listing] == [(plan["plan_id"], 9)]
    is_problem(plan_client.get(f"{PLANS}/P-none", headers=planner), 404)
    reads = [r for r in audit_rows(engine) if r.endpoint == f"{PLANS}/{{plan_id}}"]
    assert [(r.role, r.rows, r.status) for r in reads] == [
        ("ecms", 9, 200),
        ("planner", 9, 200),
        ("planner", 0, 404),
    ]
    is_problem(plan_client.post(PLANS, headers=ecms, json={}), 403)


def test_no_snapshot_yet_is_409(plan_client, planner, employers):
    assert "calle score" in is_problem(post(plan_client, planner), 409)["detail"]


def test_calle_plan_writes_the_same_plan_as_csv(
    settings, engine, snapshot, offices_file, tmp_path, monkeypatch
):
    monkeypatch.setenv("CALLE_HOME", str(settings.home))
    monkeypatch.setenv("CALLE_DATABASE_URL", settings.store_url)
    monkeypatch.setenv("CALLE_OFFICES_FILE", str(offices_file))
    out = tmp_path / "plan.csv"
    args = [
        "plan",
        "--capacity",
        "OF-01=5",
        "--capacity",
        "OF-11=4",
        "--as-of",
        AS_OF,
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "OF-01" in result.output and "made" in result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 9 and {r["selection"] for r in rows} == {"model", "exploration"}
    again = CliRunner().invoke(cli, args)
    assert "already stored" in again.output
    bad = CliRunner().invoke(cli, ["plan", "--capacity", "OF-01"])
    assert bad.exit_code == 2 and "OFFICE=VISITS" in bad.output
    over = CliRunner().invoke(
        cli, ["plan", "--capacity", "OF-01=1", "--include", "E000", "--include", "E003"]
    )
    assert over.exit_code == 2 and "exceed its capacity" in over.output
