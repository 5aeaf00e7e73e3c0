"""Prometheus metrics: behind a key, counted by route template, with the snapshot served."""

import mlflow
from fastapi.testclient import TestClient

from service.roles import Role
from tests.service.conftest import bearer, is_problem


def test_metrics_need_a_data_scientist_or_admin_key(client: TestClient, keys):
    is_problem(client.get("/api/v1/metrics"), 401)
    is_problem(client.get("/api/v1/metrics", headers=bearer(keys[Role.planner])), 403)
    response = client.get("/api/v1/metrics", headers=bearer(keys[Role.data_scientist]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


def test_requests_are_counted_by_route_and_the_snapshot_is_reported(
    client: TestClient, keys, snapshot
):
    planner = bearer(keys[Role.planner])
    for _ in range(3):
        assert client.get("/api/v1/rankings?limit=2", headers=planner).status_code == 200
    assert client.get("/no/such/place/123").status_code == 404
    text = client.get("/api/v1/metrics", headers=bearer(keys[Role.admin])).text
    assert 'calle_requests_total{method="GET",route="/api/v1/rankings",status="200"} 3.0' in text
    assert 'route="unmatched",status="404"' in text and "/no/such/place" not in text
    assert 'calle_request_seconds_count{method="GET",route="/api/v1/rankings"} 3.0' in text
    assert (
        f'calle_snapshot_info{{model_version="3",snapshot_id="{snapshot.snapshot_id}"}} 1.0' in text
    )
    age = next(line for line in text.splitlines() if line.startswith("calle_snapshot_age_seconds"))
    assert float(age.split()[-1]) >= 0


def test_the_served_model_and_failing_updates_are_reported(
    serving_client: TestClient, keys, registry_uri
):
    admin = bearer(keys[Role.admin])
    text = serving_client.get("/api/v1/metrics", headers=admin).text
    assert 'calle_model_served_info{model_name="employer-risk",model_version="1"} 1.0' in text
    assert "calle_model_update_failing 0.0" in text
    mlflow.MlflowClient(tracking_uri=registry_uri).delete_registered_model_alias(
        "employer-risk", "champion"
    )
    is_problem(serving_client.post("/api/v1/models/reload", headers=admin), 503)
    text = serving_client.get("/api/v1/metrics", headers=admin).text
    assert "calle_model_update_failing 1.0" in text
    assert 'calle_model_served_info{model_name="employer-risk",model_version="1"} 1.0' in text
