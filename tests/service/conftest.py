"""Service fixtures: a running app over a real store (both engines), keys, a stored snapshot,
and a real MLflow registry trained once per session on the small world.

Snapshots are written straight into ``score_snapshots``, ``snapshot_score_chunks`` and
``snapshot_reasons`` (no model is trained for them): rankings only read them, and this keeps
those tests fast and exact.
Scoring needs a real model: :func:`trained_registry` holds two versions, and each test that
may move the champion gets its own copy of the registry's database (:func:`registry_uri`).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import mlflow
import pyarrow as pa
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from calle.settings import Settings
from calle.store import open_store, schema
from calle.store.snapshot_tables import DIRECTORY_COLUMNS, score_schema, write_scores
from features.contract_import import import_folder
from service.app import create_app
from service.keys import create_key
from service.roles import Role
from training.config import parse_config
from training.experiment import TrainingResult, train
from training.registry import promote

#: 40 workplaces over 3 states, 2 municipalities each, 3 sectors and 4 size bands (one missing).
EMPLOYERS = [
    {
        "employer_id": f"E{i:03d}",
        "name": f"Empresa {i}",
        "state": ("01", "11", "19")[i % 3],
        "municipality": f"{('01', '11', '19')[i % 3]}00{i % 2 + 1}",
        "sector": ("336390", "336310", "461110")[i % 3 if i % 5 else 2],
        "size_band": ("micro", "small", "medium", "large", None)[i % 5],
    }
    for i in range(40)
]


@dataclass(frozen=True)
class StoredSnapshot:
    snapshot_id: str
    targets: tuple[str, ...]
    employer_ids: tuple[str, ...]


def store_snapshot(
    engine: sa.Engine,
    snapshot_id: str,
    targets: tuple[str, ...] = ("any", "safety_health"),
    created_at: datetime | None = None,
    with_reasons: bool = True,
    model_name: str = "employer-risk",
) -> StoredSnapshot:
    """Score every stored employer: a different, deterministic order per target (another
    ``model_name``: as a campaign's or a data scientist's own model would)."""
    with engine.begin() as connection:
        directory = {
            row.employer_id: row
            for row in connection.execute(
                sa.select(
                    schema.employers.c.employer_id,
                    schema.employers.c.state,
                    schema.employers.c.municipality,
                    schema.employers.c.sector,
                    schema.employers.c.size_band,
                )
            )
        }
        ids = sorted(directory)
        connection.execute(
            schema.score_snapshots.insert().values(
                snapshot_id=snapshot_id,
                model_name=model_name,
                model_version="3",
                as_of=date(2026, 1, 1),
                created_at=created_at or datetime.now(UTC),
                employers=len(ids),
                targets=json.dumps(list(targets)),
            )
        )
        columns: dict[str, list] = {"employer_id": ids}
        for column in DIRECTORY_COLUMNS:
            columns[column] = [getattr(directory[e], column) for e in ids]
        reasons = []
        for t, target in enumerate(targets):
            order = sorted(ids, key=lambda e: ((int(e[1:]) * (7 + 4 * t)) % 41, e))
            rank_of = {employer_id: rank for rank, employer_id in enumerate(order, start=1)}
            columns[f"p_{target}"] = [1.0 - rank_of[e] / (len(ids) + 1) for e in ids]
            columns[f"rank_{target}"] = [rank_of[e] for e in ids]
            feature = "violations_3y" if target == "any" else f"{target}_violations_3y"
            text = json.dumps([{"feature": feature, "contribution": 0.1, "value": 2}])
            reasons += [
                {"snapshot_id": snapshot_id, "target": target, "employer_id": e, "reasons": text}
                for e in ids
            ]
        write_scores(connection, snapshot_id, pa.table(columns, schema=score_schema(list(targets))))
        if with_reasons and reasons:
            connection.execute(schema.snapshot_reasons.insert(), reasons)
    return StoredSnapshot(snapshot_id, targets, tuple(ids))


@pytest.fixture
def engine(settings: Settings) -> Iterator[sa.Engine]:
    engine = open_store(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def employers(engine: sa.Engine) -> list[dict]:
    with engine.begin() as connection:
        connection.execute(schema.employers.insert(), EMPLOYERS)
    return EMPLOYERS


@pytest.fixture
def snapshot(engine: sa.Engine, employers: list[dict]) -> StoredSnapshot:
    return store_snapshot(engine, "20260101-aaaa0001")


@pytest.fixture
def keys(engine: sa.Engine) -> dict[Role, str]:
    """One valid key per role."""
    return {role: create_key(engine, role, f"test {role.value}")[1] for role in Role}


@pytest.fixture
def client(settings: Settings, engine: sa.Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def is_problem(response, status: int) -> dict:
    """The problem document of ``response``, checked to be one with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    return body


def audit_rows(engine: sa.Engine) -> list[sa.Row]:
    """Every audit-log row, oldest first."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(schema.audit_log).order_by(schema.audit_log.c.audit_id)
        ).all()


def later(seconds: int) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


@dataclass(frozen=True)
class TrainedRegistry:
    """Versions 1 (champion) and 2 (refused by the gate) of employer-risk, trained the way
    `calle train --promote` trains them: on the small world, one fold, twice."""

    uri: str
    path: Path
    first: TrainingResult
    second: TrainingResult

    @property
    def client(self) -> mlflow.MlflowClient:
        return mlflow.MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)


@pytest.fixture(scope="session")
def trained_registry(
    small_world: Path, tmp_path_factory: pytest.TempPathFactory
) -> TrainedRegistry:
    home = tmp_path_factory.mktemp("registry-home")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'store.db'}")
    config = parse_config({"temporal": {"folds": 1}})
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)  # train() exports it; undone after
        import_folder(small_world, settings)
        first = train(settings, config)
        client = mlflow.MlflowClient(tracking_uri=settings.tracking_uri)
        promoted = promote(client, first.model_name, first.model_version, config.promotion)
        second = train(settings, config)
        refused = promote(client, second.model_name, second.model_version, config.promotion)
    assert promoted.promoted and not refused.promoted
    return TrainedRegistry(settings.tracking_uri, home / "mlflow.db", first, second)


@pytest.fixture
def registry_uri(trained_registry: TrainedRegistry, tmp_path: Path) -> str:
    """A private copy of the trained registry's database, which the test may change (the
    model files stay where training wrote them, and are only read)."""
    copy = tmp_path / "registry" / "mlflow.db"
    copy.parent.mkdir()
    shutil.copyfile(trained_registry.path, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def serving_settings(settings: Settings, registry_uri: str) -> Settings:
    """This test's store, following its copy of the registry; checks only on request."""
    return settings.model_copy(
        update={"mlflow_tracking_uri": registry_uri, "model_poll_seconds": 0.0}
    )


def wait_for_model(app: FastAPI, timeout: float = 60) -> None:
    """Until the app's first look at the registry is over (the model loads in the background)."""
    deadline = time.monotonic() + timeout
    while app.state.model_follower.state.checked_at is None:
        assert time.monotonic() < deadline, "the model did not load in time"
        time.sleep(0.05)


@pytest.fixture
def serving_client(serving_settings: Settings, engine: sa.Engine) -> Iterator[TestClient]:
    """The app over this test's store, serving the registry's champion (version 1)."""
    app = create_app(serving_settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        wait_for_model(app)
        yield client


@pytest.fixture
def world_engine(engine: sa.Engine, settings: Settings, small_world: Path) -> sa.Engine:
    """This test's store holding the small world the registry was trained on."""
    import_folder(small_world, settings)
    return engine
