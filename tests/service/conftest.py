"""Service fixtures: a running app over a real store (both engines), keys, a stored snapshot.

Snapshots are written straight into ``score_snapshots``/``snapshot_scores`` (no model is
trained): the service only reads them, and this keeps the tests fast and exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from calle.settings import Settings
from calle.store import open_store, schema
from service.app import create_app
from service.keys import create_key
from service.roles import Role

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
) -> StoredSnapshot:
    """Score every stored employer: a different, deterministic order per target."""
    with engine.begin() as connection:
        ids = sorted(connection.execute(sa.select(schema.employers.c.employer_id)).scalars())
        connection.execute(
            schema.score_snapshots.insert().values(
                snapshot_id=snapshot_id,
                model_name="employer-risk",
                model_version="3",
                as_of=date(2026, 1, 1),
                created_at=created_at or datetime.now(UTC),
                employers=len(ids),
                targets=json.dumps(list(targets)),
            )
        )
        rows = []
        for t, target in enumerate(targets):
            order = sorted(ids, key=lambda e: ((int(e[1:]) * (7 + 4 * t)) % 41, e))
            for rank, employer_id in enumerate(order, start=1):
                feature = "violations_3y" if target == "any" else f"{target}_violations_3y"
                reasons = [{"feature": feature, "contribution": 0.1, "value": 2}]
                rows.append(
                    {
                        "snapshot_id": snapshot_id,
                        "target": target,
                        "employer_id": employer_id,
                        "probability": 1.0 - rank / (len(ids) + 1),
                        "rank": rank,
                        "percentile": 100.0 * (len(ids) - rank) / len(ids),
                        "reasons": json.dumps(reasons) if with_reasons else None,
                    }
                )
        connection.execute(schema.snapshot_scores.insert(), rows)
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


def later(seconds: int) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
