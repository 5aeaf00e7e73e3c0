"""``GET /api/v1/models`` and ``/models/{version}`` over a real MLflow registry.

The registry is built once per session the way `calle train --promote` builds it: the small
world trained on one fold twice, the first version promoted and the second refused by the
gate (same data, same seed: it cannot beat the champion). Keys live in the per-test store,
on both engines.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from calle.settings import Settings
from calle.store import schema
from service.app import create_app
from service.roles import Role
from tests.service.conftest import TrainedRegistry, bearer, is_problem

MODELS = "/api/v1/models"
BASELINES = {"random", "business_as_usual", "cell_rate", "logistic"}


@pytest.fixture
def registry(trained_registry: TrainedRegistry) -> dict:
    """The session's registry: versions 1 (champion) and 2 (refused), with their runs."""
    return {
        "uri": trained_registry.uri,
        "client": trained_registry.client,
        "first": trained_registry.first,
        "second": trained_registry.second,
    }


@pytest.fixture
def models_client(settings: Settings, registry: dict) -> Iterator[TestClient]:
    """The app over this test's store, following the module's registry."""
    following = settings.model_copy(update={"mlflow_tracking_uri": registry["uri"]})
    with TestClient(create_app(following), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def scientist(keys) -> dict[str, str]:
    return bearer(keys[Role.data_scientist])


def test_the_list_names_the_champion_and_every_version_newest_first(
    models_client, scientist, registry
):
    body = models_client.get(MODELS, headers=scientist).json()
    assert body["model_name"] == "employer-risk"
    assert body["champion"] == "1"
    assert [v["version"] for v in body["versions"]] == ["2", "1"]
    newer, older = body["versions"]
    assert (older["champion"], older["aliases"]) == (True, ["champion"])
    assert (newer["champion"], newer["aliases"]) == (False, [])
    assert older["run_id"] == registry["first"].run_id
    assert newer["run_id"] == registry["second"].run_id
    assert older["created_at"] <= newer["created_at"]
    assert older["created_at"].endswith(("Z", "+00:00"))
    assert all(v["status"] == "READY" for v in body["versions"])


def test_each_version_carries_its_gate_verdict(models_client, scientist, registry):
    versions = {
        v["version"]: v for v in models_client.get(MODELS, headers=scientist).json()["versions"]
    }
    client = registry["client"]
    for number, verdict in (("1", "promoted"), ("2", "refused")):
        gate = versions[number]["gate"]
        assert gate["result"] == verdict
        tags = client.get_model_version("employer-risk", number).tags
        assert gate == {
            k.removeprefix("gate."): v for k, v in tags.items() if k.startswith("gate.")
        }
    assert versions["2"]["gate"]["champion_version"] == "1"
    assert "does not beat" in versions["2"]["gate"]["reason"]


def test_metrics_are_the_runs_means_for_the_model_and_every_baseline(
    models_client, scientist, registry
):
    [newer, older] = models_client.get(MODELS, headers=scientist).json()["versions"]
    run = registry["client"].get_run(registry["first"].run_id)
    metrics = older["metrics"]
    assert {"model"} | BASELINES <= set(metrics)
    for scorer, values in metrics.items():
        assert values, scorer
        for metric, value in values.items():
            assert value == pytest.approx(run.data.metrics[f"mean/{scorer}/any/{metric}"])
    assert metrics["model"]["precision_at_5pct"] == pytest.approx(
        registry["first"].headline("precision_at_5pct")["model"]
    )
    assert metrics["model"]["precision_at_5pct"] > metrics["random"]["precision_at_5pct"]
    assert newer["metrics"]["model"]


def test_a_version_in_detail_adds_the_models_metrics_per_category(
    models_client, scientist, registry
):
    body = models_client.get(f"{MODELS}/2", headers=scientist).json()
    listed = models_client.get(MODELS, headers=scientist).json()["versions"][0]
    assert body["model_name"] == "employer-risk"
    assert {k: v for k, v in body.items() if k not in ("model_name", "by_category")} == listed
    run = registry["client"].get_run(registry["second"].run_id)
    categories = {key.split("/")[2] for key in run.data.metrics if key.startswith("mean/model/")}
    assert set(body["by_category"]) == categories - {"any"} and body["by_category"]
    for category, values in body["by_category"].items():
        for metric, value in values.items():
            assert value == pytest.approx(run.data.metrics[f"mean/model/{category}/{metric}"])


def test_an_unknown_version_is_404(models_client, scientist, registry):
    body = is_problem(models_client.get(f"{MODELS}/99", headers=scientist), 404)
    assert "99" in body["detail"] and body["type"] == "/problems/unknown-model-version"


def test_a_version_that_is_not_a_number_is_422(models_client, scientist, registry):
    body = is_problem(models_client.get(f"{MODELS}/latest", headers=scientist), 422)
    assert body["errors"][0]["field"] == "version"


@pytest.mark.parametrize("role", [Role.data_scientist, Role.admin])
def test_data_scientists_and_admins_may_read_models(models_client, keys, registry, role):
    headers = bearer(keys[role])
    assert models_client.get(MODELS, headers=headers).status_code == 200
    assert models_client.get(f"{MODELS}/1", headers=headers).status_code == 200


@pytest.mark.parametrize("role", [Role.planner, Role.ecms])
def test_other_roles_are_refused_with_403(models_client, keys, registry, role):
    for path in (MODELS, f"{MODELS}/1"):
        body = is_problem(models_client.get(path, headers=bearer(keys[role])), 403)
        assert role.value in body["detail"]


def test_no_or_a_bad_key_is_401(models_client, registry):
    for path in (MODELS, f"{MODELS}/1"):
        is_problem(models_client.get(path), 401)
        is_problem(models_client.get(path, headers=bearer("calle_nope")), 401)


def test_before_any_training_the_list_is_empty(client, scientist):
    """The default registry under this test's fresh CALLE_HOME holds nothing yet."""
    body = client.get(MODELS, headers=scientist).json()
    assert body == {"model_name": "employer-risk", "champion": None, "versions": []}
    is_problem(client.get(f"{MODELS}/1", headers=scientist), 404)


def test_reading_models_is_not_audited(models_client, scientist, engine, registry):
    models_client.get(MODELS, headers=scientist)
    models_client.get(f"{MODELS}/1", headers=scientist)
    with engine.connect() as connection:
        assert (
            connection.execute(
                sa.select(sa.func.count()).select_from(schema.audit_log)
            ).scalar_one()
            == 0
        )
