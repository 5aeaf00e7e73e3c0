import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from calle.config_files import ConfigError
from calle.store import open_store
from features.contract_import import import_folder
from service.app import create_app
from service.roles import Role
from tests.service.conftest import (
    EMPLOYERS,
    bearer,
    is_problem,
    later,
    store_snapshot,
)

RANKINGS = "/api/v1/rankings"
BY_ID = {e["employer_id"]: e for e in EMPLOYERS}


@pytest.fixture
def planner(keys) -> dict[str, str]:
    return bearer(keys[Role.planner])


def walk(
    client: TestClient, headers: dict[str, str], cursor: str | None = None, **params
) -> list[dict]:
    """Every row of every page from ``cursor`` on, following next_cursor."""
    rows: list[dict] = []
    while True:
        response = client.get(RANKINGS, headers=headers, params={**params, "cursor": cursor})
        assert response.status_code == 200, response.text
        page = response.json()
        rows += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


def test_a_page_names_the_snapshot_and_holds_the_riskiest_rows(client, planner, snapshot):
    page = client.get(RANKINGS, headers=planner, params={"limit": 5}).json()
    assert page["snapshot_id"] == snapshot.snapshot_id
    assert (page["model_name"], page["model_version"], page["as_of"]) == (
        "employer-risk",
        "3",
        "2026-01-01",
    )
    assert page["category"] == "any"
    assert [row["rank"] for row in page["items"]] == [1, 2, 3, 4, 5]
    first = page["items"][0]
    employer = BY_ID[first["employer_id"]]
    for field in ("name", "state", "municipality", "sector", "size_band"):
        assert first[field] == employer[field]
    assert 0 < first["score"] < 1 and first["percentile"] == pytest.approx(97.5)
    assert first["reasons"] == [
        {
            "feature": "violations_3y",
            "contribution": 0.1,
            "value": 2,
            "text_es": "2 inspecciones con violaciones en los últimos 3 años",
            "text_en": "2 inspections that found violations in the last 3 years",
        }
    ]
    assert page["next_cursor"]


def test_the_default_limit_is_50_and_the_end_has_no_cursor(client, planner, snapshot):
    page = client.get(RANKINGS, headers=planner).json()
    assert len(page["items"]) == 40 and page["next_cursor"] is None


@pytest.mark.parametrize("category", ["any", "safety_health"])
@pytest.mark.parametrize("limit", [1, 7, 40])
def test_pages_walk_every_row_once_in_rank_order(client, planner, snapshot, category, limit):
    rows = walk(client, planner, category=category, limit=limit)
    assert [row["rank"] for row in rows] == list(range(1, 41))
    assert sorted(row["employer_id"] for row in rows) == sorted(snapshot.employer_ids)


def test_categories_rank_differently(client, planner, snapshot):
    overall = walk(client, planner, limit=40)
    safety = walk(client, planner, category="safety_health", limit=40)
    assert [r["employer_id"] for r in overall] != [r["employer_id"] for r in safety]
    assert safety[0]["reasons"][0]["feature"] == "safety_health_violations_3y"
    assert safety[0]["reasons"][0]["text_es"].endswith(
        "de seguridad e higiene en los últimos 3 años"
    )


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"state": "11"}, lambda e: e["state"] == "11"),
        ({"municipality": "19002"}, lambda e: e["municipality"] == "19002"),
        ({"sector": "3363"}, lambda e: e["sector"].startswith("3363")),
        ({"sector": "33639"}, lambda e: e["sector"].startswith("33639")),
        ({"sector": "46"}, lambda e: e["sector"].startswith("46")),
        ({"size_band": "large"}, lambda e: e["size_band"] == "large"),
        (
            {"state": "11", "sector": "336", "size_band": "small"},
            lambda e: (
                e["state"] == "11" and e["sector"].startswith("336") and e["size_band"] == "small"
            ),
        ),
    ],
)
def test_filters_keep_exactly_the_matching_workplaces(client, planner, snapshot, params, keep):
    rows = walk(client, planner, limit=3, **params)
    expected = {e["employer_id"] for e in EMPLOYERS if keep(e)}
    assert expected, "the fixture must hold matching workplaces"
    assert {row["employer_id"] for row in rows} == expected
    assert len(rows) == len(expected)
    ranks = [row["rank"] for row in rows]
    assert ranks == sorted(ranks)
    for row in rows:
        assert keep(row)


def test_a_filter_nothing_matches_is_an_empty_page(client, planner, snapshot):
    page = client.get(RANKINGS, headers=planner, params={"sector": "99"}).json()
    assert page["items"] == [] and page["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"category": "piracy"}, "category"),
        ({"state": "33"}, "state"),
        ({"sector": "33a"}, "sector"),
        ({"sector": "3363%"}, "sector"),
        ({"sector": "1234567"}, "sector"),
        ({"cursor": "not a cursor"}, "cursor"),
        ({"cursor": "eyJhZnRlciI6IjEifQ"}, "cursor"),  # {"after":"1"}
        ({"cursor": "W10"}, "cursor"),  # []
    ],
)
def test_invalid_parameters_are_422_naming_the_parameter(client, planner, snapshot, params, field):
    body = is_problem(client.get(RANKINGS, headers=planner, params=params), 422)
    assert [e["field"] for e in body["errors"]] == [field]
    assert body["errors"][0]["location"] == "query" and body["errors"][0]["reason"]
    assert field in body["detail"]


def test_the_unknown_category_error_lists_the_snapshots_targets(client, planner, snapshot):
    body = is_problem(client.get(RANKINGS, headers=planner, params={"category": "x"}), 422)
    assert "safety_health" in body["errors"][0]["reason"]


def test_any_state_code_is_accepted_when_no_region_codes_are_configured(
    settings, engine, keys, snapshot
):
    open_settings = settings.model_copy(update={"region_codes": []})
    with TestClient(create_app(open_settings)) as client:
        response = client.get(RANKINGS, headers=bearer(keys[Role.planner]), params={"state": "ZZ"})
    assert response.status_code == 200 and response.json()["items"] == []


def test_a_cursor_only_continues_the_filters_it_was_issued_for(client, planner, snapshot):
    cursor = client.get(RANKINGS, headers=planner, params={"limit": 2}).json()["next_cursor"]
    params = {"limit": 2, "cursor": cursor, "state": "11"}
    body = is_problem(client.get(RANKINGS, headers=planner, params=params), 422)
    assert body["errors"][0]["field"] == "cursor"


def test_no_snapshot_yet_is_409_saying_to_run_calle_score(client, planner, employers):
    body = is_problem(client.get(RANKINGS, headers=planner), 409)
    assert "calle score" in body["detail"]


def test_the_newest_snapshot_is_served_and_a_walk_stays_on_its_snapshot(
    client, planner, engine, snapshot
):
    first = client.get(RANKINGS, headers=planner, params={"limit": 10}).json()
    newer = store_snapshot(engine, "20260102-bbbb0002", targets=("any",), created_at=later(60))
    rest = walk(client, planner, limit=10, cursor=first["next_cursor"])
    assert [r["rank"] for r in first["items"] + rest] == list(range(1, 41))
    page = client.get(RANKINGS, headers=planner).json()
    assert page["snapshot_id"] == newer.snapshot_id
    body = is_problem(
        client.get(RANKINGS, headers=planner, params={"category": "safety_health"}), 422
    )
    assert "any" in body["errors"][0]["reason"]


def test_missing_reasons_are_an_empty_list(client, planner, engine, employers):
    store_snapshot(engine, "20250101-old00001", with_reasons=False)
    rows = client.get(RANKINGS, headers=planner).json()["items"]
    assert rows and all(row["reasons"] == [] for row in rows)


def test_a_small_world_pages_through_once_with_filters(settings, keys, small_world):
    """The real import path: every workplace of a 3,000-workplace world, filtered by state."""
    import_folder(small_world, settings)
    engine = open_store(settings)
    try:
        snapshot = store_snapshot(engine, "20260101-world001")
        with engine.connect() as connection:
            states = dict(
                connection.execute(sa.text("SELECT employer_id, state FROM employers")).all()
            )
    finally:
        engine.dispose()
    with TestClient(create_app(settings)) as client:
        headers = bearer(keys[Role.planner])
        everyone = walk(client, headers, limit=1000)
        assert [r["rank"] for r in everyone] == list(range(1, len(snapshot.employer_ids) + 1))
        state = max(set(states.values()), key=list(states.values()).count)
        in_state = walk(client, headers, limit=100, state=state)
    assert {r["employer_id"] for r in in_state} == {e for e, s in states.items() if s == state}


OFFICES_TOML = """
[offices."OF-01"]
states = ["01"]

[offices."OF-MIX"]
states = ["19"]
municipalities = ["11001"]

[offices."OF-OVERLAP"]
states = ["11"]
municipalities = ["11001", "19002"]

[offices."OF-WIDE"]
states = ["01"]
municipalities = ["11001", {}]
""".format(", ".join(f'"19{n:03d}"' for n in range(2, 40)))


@pytest.fixture
def office_client(settings, engine, tmp_path):
    path = tmp_path / "offices.toml"
    path.write_text(OFFICES_TOML, encoding="utf-8")
    app = create_app(settings.model_copy(update={"offices_file": path}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(
    ("office", "covers"),
    [
        ("OF-01", lambda e: e["state"] == "01"),
        ("OF-MIX", lambda e: e["state"] == "19" or e["municipality"] == "11001"),
        # 11001 lies in state 11: its workplaces come once, not once per way the area covers them
        ("OF-OVERLAP", lambda e: e["state"] == "11" or e["municipality"] == "19002"),
        # a state and two municipalities elsewhere
        ("OF-WIDE", lambda e: e["state"] == "01" or e["municipality"] in ("11001", "19002")),
    ],
)
def test_the_office_filter_keeps_the_office_s_area_in_rank_order(
    office_client, planner, snapshot, office, covers
):
    rows = walk(office_client, planner, office=office, limit=4)
    expected = [e for e in snapshot.employer_ids if covers(BY_ID[e])]
    assert sorted(r["employer_id"] for r in rows) == sorted(expected) and rows
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows)
    both = walk(office_client, planner, office=office, size_band="micro")
    assert {r["employer_id"] for r in both} == {
        e for e in expected if BY_ID[e]["size_band"] == "micro"
    }


def test_an_unknown_office_is_422_naming_the_known_ones(office_client, planner, snapshot):
    body = is_problem(office_client.get(RANKINGS, headers=planner, params={"office": "X"}), 422)
    [error] = body["errors"]
    assert error["field"] == "office" and "OF-01, OF-MIX, OF-OVERLAP, OF-WIDE" in error["reason"]


def test_without_office_areas_the_office_filter_is_422(client, planner, snapshot):
    body = is_problem(client.get(RANKINGS, headers=planner, params={"office": "OF-01"}), 422)
    assert "CALLE_OFFICES_FILE" in body["errors"][0]["reason"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[offices."OF-1"]\nstates = "01"\n', "offices.OF-1.states"),
        ('[offices."OF-1"]\n', "at least one state or municipality"),
        ('[offices."OF-1"]\nstate = ["01"]\n', "offices.OF-1.state"),
        ("offices = {}\n", "offices"),
        ("[offices\n", "not valid TOML"),
    ],
)
def test_a_bad_office_file_stops_the_app_naming_the_field(settings, tmp_path, text, named):
    path = tmp_path / "offices.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=named):
        create_app(settings.model_copy(update={"offices_file": path}))
