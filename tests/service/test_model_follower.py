"""Live model updates: the service follows the registry's ``champion`` and swaps atomically.

Each test moves the alias in its own copy of the session's registry (versions 1 and 2 of
the same trained model family; a broken version 3 where a test needs one).
"""

from __future__ import annotations

import gc
import json
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections import Counter

import mlflow
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from calle.settings import Settings
from calle.store import schema
from service.app import create_app
from service.roles import Role
from tests.service.conftest import bearer, is_problem, wait_for_model
from tests.service.running_service import running_service

RELOAD = "/api/v1/models/reload"
SCORE = "/api/v1/score"
RECORDS = {"records": [{"violations_3y": n, "complaints_1y": n % 3} for n in range(50)]}


def registry(uri: str) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def crown(uri: str, version: str) -> None:
    registry(uri).set_registered_model_alias("employer-risk", "champion", version)


def broken_version(uri: str) -> str:
    """A registered version whose model files do not exist."""
    made = registry(uri).create_model_version(
        "employer-risk", source="file:///nonexistent/calle-model", run_id=None
    )
    return str(made.version)


def test_the_service_scores_with_the_champion_and_ready_says_so(serving_client, snapshot, keys):
    ready = serving_client.get("/ready").json()
    assert (ready["serving_model_version"], ready["warnings"]) == ("1", [])
    body = serving_client.post(SCORE, json=RECORDS, headers=bearer(keys[Role.ecms])).json()
    assert body["model_version"] == "1"


def test_the_served_model_is_compiled_as_settings_say_and_scores_the_same(
    serving_settings: Settings, world_engine, keys
):
    with world_engine.connect() as connection:
        ids = connection.execute(sa.select(schema.employers.c.employer_id).limit(300)).scalars()
        request = {"employer_ids": list(ids)}
    answers = {}
    for compile_trees in (True, False):
        app = create_app(serving_settings.model_copy(update={"compiled_trees": compile_trees}))
        with TestClient(app) as client:
            wait_for_model(app)
            targets = app.state.model_follower.served.model.targets.values()
            boosters = [t for t in targets if t.booster is not None]
            assert boosters and all((t.compiled is not None) == compile_trees for t in boosters)
            answers[compile_trees] = client.post(
                SCORE, json=request, headers=bearer(keys[Role.ecms])
            ).json()["results"]
    compiled, lightgbm = answers[True], answers[False]
    assert len({r["probabilities"]["any"] for r in lightgbm}) > 20  # not all the same
    for fast, slow in zip(compiled, lightgbm, strict=True):
        assert fast["probabilities"] == pytest.approx(slow["probabilities"], abs=1e-12)


def test_reload_swaps_to_the_new_champion(serving_client, registry_uri, keys):
    admin = bearer(keys[Role.admin])
    before = serving_client.post(SCORE, json=RECORDS, headers=admin).json()
    crown(registry_uri, "2")
    response = serving_client.post(RELOAD, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["champion"], body["serving_version"], body["previous_version"]) == ("2", "2", "1")
    assert body["changed"] is True
    after = serving_client.post(SCORE, json=RECORDS, headers=admin).json()
    assert (before["model_version"], after["model_version"]) == ("1", "2")
    again = serving_client.post(RELOAD, headers=admin).json()
    assert (again["changed"], again["previous_version"]) == (False, "2")


def test_a_swap_freezes_the_new_model_out_of_collections_and_frees_the_old_one(
    serving_client, registry_uri, keys
):
    follower = serving_client.app.state.model_follower
    first = weakref.ref(follower.served.model)
    crown(registry_uri, "2")
    assert serving_client.post(RELOAD, headers=bearer(keys[Role.admin])).status_code == 200
    second = follower.served.model
    assert follower.served.version == "2"
    assert all(tracked is not second for tracked in gc.get_objects())
    assert first() is None


def test_a_champion_that_fails_to_load_leaves_the_current_model_serving(
    serving_client, registry_uri, keys, snapshot
):
    admin = bearer(keys[Role.admin])
    crown(registry_uri, broken_version(registry_uri))
    body = is_problem(serving_client.post(RELOAD, headers=admin), 503)
    assert (
        "version 3 failed to load" in body["detail"] and "still serving version 1" in body["detail"]
    )
    assert serving_client.post(SCORE, json=RECORDS, headers=admin).json()["model_version"] == "1"
    ready = serving_client.get("/ready")
    assert ready.status_code == 200
    [warning] = ready.json()["warnings"]
    assert "version 3 failed to load" in warning and "still serving version 1" in warning
    crown(registry_uri, "2")  # fixed: the next check recovers
    assert serving_client.post(RELOAD, headers=admin).json()["serving_version"] == "2"
    assert serving_client.get("/ready").json()["warnings"] == []


def test_an_unreachable_registry_leaves_the_current_model_serving(
    serving_client, registry_uri, keys, tmp_path
):
    admin = bearer(keys[Role.admin])
    follower = serving_client.app.state.model_follower
    follower.tracking_uri = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        patch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
        body = is_problem(serving_client.post(RELOAD, headers=admin), 503)
    assert "registry did not answer" in body["detail"]
    assert serving_client.post(SCORE, json=RECORDS, headers=admin).json()["model_version"] == "1"


@pytest.mark.parametrize("role", [Role.planner, Role.ecms, Role.data_scientist])
def test_only_admins_may_force_a_reload(serving_client, keys, role):
    body = is_problem(serving_client.post(RELOAD, headers=bearer(keys[role])), 403)
    assert role.value in body["detail"]
    is_problem(serving_client.post(RELOAD), 401)


def _post(url: str, key: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_requests_during_swaps_all_succeed(
    serving_settings: Settings, registry_uri, keys, snapshot
):
    """Clients keep scoring over real HTTP while the champion moves 1 → 2 → 1 → 2 and the
    service follows it on its own (polling); no request fails and each sees one version."""
    following = serving_settings.model_copy(update={"model_poll_seconds": 0.2})
    key = keys[Role.ecms]
    outcomes: Counter[tuple[int, str]] = Counter()
    stop = threading.Event()
    lock = threading.Lock()

    def client(url: str) -> None:
        while not stop.is_set():
            status, body = _post(url, key, RECORDS)
            version = body.get("model_version", body.get("detail", "?"))
            with lock:
                outcomes[(status, version)] += 1

    with running_service(following, ready=True) as base:
        threads = [threading.Thread(target=client, args=(f"{base}{SCORE}",)) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            for version in ("2", "1", "2"):
                crown(registry_uri, version)
                deadline = time.monotonic() + 60
                while True:  # until the clients see the new version
                    with lock:
                        seen = outcomes[(200, version)]
                    time.sleep(0.3)
                    with lock:
                        if outcomes[(200, version)] > seen + 5:
                            break
                    assert time.monotonic() < deadline, outcomes
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
    assert {status for status, _ in outcomes} == {200}, outcomes
    assert {version for _, version in outcomes} == {"1", "2"}
    assert sum(outcomes.values()) > 50
