import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.app import create_app
from tests.service.conftest import is_problem, wait_for_model


def test_health_needs_no_key_and_no_snapshot(client: TestClient):
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_is_503_until_a_snapshot_exists(client: TestClient):
    body = is_problem(client.get("/ready"), 503)
    assert "calle score" in body["detail"]


def test_ready_names_the_snapshot_and_the_model_it_serves(serving_client: TestClient, snapshot):
    response = serving_client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "snapshot_id": snapshot.snapshot_id,
        "model_name": "employer-risk",
        "model_version": "3",
        "as_of": "2026-01-01",
        "serving_model_version": "1",
        "warnings": [],
    }


def test_ready_is_503_while_no_model_can_be_loaded(settings, snapshot):
    """A fresh CALLE_HOME's registry holds no model: rankings could be served, scoring not."""
    app = create_app(settings.model_copy(update={"model_poll_seconds": 0.0}))
    with TestClient(app) as client:
        wait_for_model(app)
        body = is_problem(client.get("/ready"), 503)
        assert "no model registry" in body["detail"] and "calle train" in body["detail"]


def test_ready_is_503_when_the_store_does_not_answer(settings, tmp_path, snapshot):
    app = create_app(settings)
    with TestClient(app) as client:
        app.state.engine.dispose()
        app.state.engine = sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
        body = is_problem(client.get("/ready"), 503)
        assert "store" in body["detail"]
        assert client.get("/health").status_code == 200


def test_unknown_routes_and_methods_are_problems(client: TestClient):
    body = is_problem(client.get("/api/v1/nothing-here"), 404)
    assert "/api/v1" in body["detail"]
    is_problem(client.post("/health"), 405)


def test_the_openapi_document_describes_errors_as_problem_json(client: TestClient):
    document = client.get("/openapi.json").json()
    rankings = document["paths"]["/api/v1/rankings"]["get"]
    for status in ("401", "403", "409", "422"):
        assert set(rankings["responses"][status]["content"]) == {"application/problem+json"}
    assert document["components"]["schemas"]["RankingPage"]["examples"]
    assert {"/health", "/ready", "/api/v1/rankings", "/api/v1/audit"} <= set(document["paths"])


def test_two_apps_do_not_share_state(settings, tmp_path):
    other = settings.model_copy(update={"home": tmp_path / "other"})
    first, second = create_app(settings), create_app(other)
    assert first.state.settings is not second.state.settings
