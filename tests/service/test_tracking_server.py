"""The product against an MLflow tracking server, as in production (compose.yaml): `mlflow
server` with a PostgreSQL backend and served artifacts, started here for real. Training logs and
registers through HTTP, scoring and the service load the champion from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from calle.cli import app
from calle.settings import Settings
from calle.store import open_store, schema
from service.keys import create_key
from service.roles import Role
from tests.conftest import _fresh_postgres_database
from tests.service.running_service import free_port, running_service

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
MLFLOW = str(Path(sys.executable).with_name("mlflow"))
runner = CliRunner()


@pytest.fixture(scope="module")
def tracking_server(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a running `mlflow server` whose runs and registry live in PostgreSQL."""
    database = _fresh_postgres_database(postgres_server)
    backend = next(database)
    folder = tmp_path_factory.mktemp("tracking-server")
    port = free_port()
    log = folder / "mlflow-server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                *(MLFLOW, "server", "--backend-store-uri", backend),
                *("--artifacts-destination", str(folder / "artifacts")),
                *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, "mlflow server did not start:\n" + log.read_text()
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        next(database, None)  # drops the backend database


@pytest.fixture(scope="module")
def trained_on_server(
    tracking_server: str, small_world: Path, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    home = tmp_path_factory.mktemp("home-with-server")
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'store.db'}",
        mlflow_tracking_uri=tracking_server,
    )
    env = {"CALLE_HOME": str(home), "CALLE_DATABASE_URL": settings.store_url}
    env["CALLE_MLFLOW_TRACKING_URI"] = tracking_server
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        assert runner.invoke(app, ["import", str(small_world)]).exit_code == 0
        trained = runner.invoke(app, ["train", "--promote", "--json"])
        assert trained.exit_code == 0, trained.output
        assert json.loads(trained.output.strip().splitlines()[-1])["version"] == "1"
        scored = runner.invoke(app, ["score"])
        assert scored.exit_code == 0, scored.output
        assert "employer-risk version 1" in scored.output
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    return settings


def test_the_registry_on_the_server_holds_the_promoted_champion(trained_on_server, tracking_server):
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_server, registry_uri=tracking_server)
    champion = client.get_model_version_by_alias("employer-risk", "champion")
    assert champion.version == "1"
    assert client.get_run(champion.run_id).data.metrics  # the evaluation was logged there


def test_the_service_loads_the_champion_from_the_server_and_scores(trained_on_server):
    engine = open_store(trained_on_server)
    try:
        ecms = create_key(engine, Role.ecms, "ecms")[1]
        with engine.connect() as connection:
            ids = list(
                connection.execute(
                    sa.select(schema.employers.c.employer_id)
                    .order_by(schema.employers.c.employer_id)
                    .limit(2)
                ).scalars()
            )
    finally:
        engine.dispose()
    with running_service(trained_on_server, ready=True) as base:
        request = urllib.request.Request(
            f"{base}/api/v1/score",
            data=json.dumps({"employer_ids": ids}).encode(),
            headers={"Authorization": f"Bearer {ecms}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = json.loads(answer.read())
    assert body["model_version"] == "1" and body["scored"] == 2
    assert [r["employer_id"] for r in body["results"]] == ids
    assert all(0 <= r["probabilities"]["any"] <= 1 for r in body["results"])
