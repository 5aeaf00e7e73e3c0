"""Scores a snapshot was written without reasons are explained when first read, by the model
that scored the snapshot, the same as if `calle score` had explained them, and are kept
(both engines)."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from calle.settings import Settings
from calle.store import schema
from calle.store.snapshot_features import chunk_starts, read_rows
from calle.store.snapshot_tables import read_scores
from features.matrix import feature_matrix
from features.store_frames import load_frames
from models.explanations import top_reasons
from models.packaging import load_version
from models.risk_model import RiskModel
from service import reasons_on_read
from service.app import create_app
from service.roles import Role
from tests.service.conftest import (
    TrainedRegistry,
    audit_rows,
    bearer,
    store_snapshot,
    wait_for_model,
)
from training.scoring import Snapshot, score_population

AS_OF = date(2025, 6, 1)
RANKINGS = "/api/v1/rankings"


@pytest.fixture(scope="module")
def champion(trained_registry: TrainedRegistry) -> RiskModel:
    return load_version(trained_registry.uri, "employer-risk", "1")


@pytest.fixture
def sparse_snapshot(serving_settings: Settings, world_engine: sa.Engine) -> Snapshot:
    """The champion's snapshot of the small world with each ranking's top 2 explained."""
    settings = serving_settings.model_copy(update={"snapshot_reasons_top": 2})
    return score_population(settings, as_of=AS_OF, engine=world_engine)


def expected_reasons(
    engine: sa.Engine, model: RiskModel, employer_ids: list[str], target: str
) -> dict[str, list[dict]]:
    """What explaining the whole population as of the snapshot's date gives these scores."""
    features = feature_matrix(
        load_frames(engine), AS_OF, model.categories, model.attribute_kinds
    ).loc[employer_ids]
    return {
        e: [r.as_dict() for r in reasons]
        for e, reasons in zip(employer_ids, top_reasons(model, features, target), strict=True)
    }


def stored(engine: sa.Engine, snapshot_id: str, target: str) -> dict[str, str | None]:
    """Every scored workplace's stored reasons for ``target`` (None: not explained yet)."""
    table = schema.snapshot_reasons
    with engine.connect() as connection:
        ids = read_scores(connection, snapshot_id, ["employer_id"]).column("employer_id")
        rows = connection.execute(
            sa.select(table.c.employer_id, table.c.reasons).where(
                table.c.snapshot_id == snapshot_id, table.c.target == target
            )
        ).all()
    return {employer_id: None for employer_id in ids.to_pylist()} | dict(rows)


def written(client: TestClient) -> None:
    """Store what the app holds of the reasons it explained on read (written behind the
    answers, :mod:`service.reasons_writer`)."""
    client.app.state.reasons_writer.write_held()


def as_stored(reasons: list[dict]) -> list[dict]:
    return [{k: r[k] for k in ("feature", "contribution", "value")} for r in reasons]


def test_a_ranking_page_explains_the_scores_stored_without_reasons_and_keeps_them(
    sparse_snapshot, serving_client, world_engine, keys, champion
):
    snapshot_id = sparse_snapshot.snapshot_id
    before = stored(world_engine, snapshot_id, "safety_health")
    unexplained = {e for e, reasons in before.items() if reasons is None}
    assert 0 < len(unexplained) < len(before)

    response = serving_client.get(
        RANKINGS,
        headers=bearer(keys[Role.planner]),
        params={"category": "safety_health", "limit": 150},
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    shown = [row["employer_id"] for row in items]
    explained_now = [e for e in shown if e in unexplained]
    assert len(explained_now) > 75  # most of the page was written without reasons

    expected = expected_reasons(world_engine, champion, shown, "safety_health")
    assert {row["employer_id"]: as_stored(row["reasons"]) for row in items} == expected
    assert all(row["reasons"] for row in items)  # the riskiest 150 all have something raising it
    assert all(r["text_es"] and r["text_en"] for row in items for r in row["reasons"])

    written(serving_client)
    after = stored(world_engine, snapshot_id, "safety_health")
    for employer_id in explained_now:
        assert json.loads(after[employer_id]) == expected[employer_id]
    # nothing but the page's scores was touched
    untouched = unexplained - set(shown)
    assert untouched and all(after[e] is None for e in untouched)


def test_an_employer_risk_explains_every_target_of_an_unexplained_workplace(
    sparse_snapshot, serving_client, world_engine, keys, champion
):
    scores = sparse_snapshot.scores
    middle = scores.index[scores["rank_any"] == len(scores) // 3][0]
    assert all(sparse_snapshot.reasons[t][scores.index.get_loc(middle)] is None for t in ("any",))

    response = serving_client.get(
        f"/api/v1/employers/{middle}/risk", headers=bearer(keys[Role.planner])
    )
    assert response.status_code == 200, response.text
    body = response.json()
    answered = {"any": body["overall"]["reasons"]} | {
        t: risk["reasons"] for t, risk in body["categories"].items()
    }
    assert set(answered) == set(sparse_snapshot.targets)
    written(serving_client)
    for target, reasons in answered.items():
        expected = expected_reasons(world_engine, champion, [middle], target)[middle]
        assert as_stored(reasons) == expected, target
        assert json.loads(stored(world_engine, sparse_snapshot.snapshot_id, target)[middle]) == (
            expected
        )
    assert any(answered.values())
    assert audit_rows(world_engine)[-1].rows == 1


def test_a_score_read_again_before_it_is_stored_is_not_explained_again_and_stopping_stores_it(
    sparse_snapshot, serving_settings, world_engine, keys, monkeypatch
):
    """Reasons are stored behind the answers: until then the worker holds them."""
    explained: list[tuple[str, str]] = []
    explain = reasons_on_read.explain_on_read

    def counted(engine, follower, peer_rates, chunks, snapshot, wanted):
        explained.extend(wanted)
        return explain(engine, follower, peer_rates, chunks, snapshot, wanted)

    monkeypatch.setattr(reasons_on_read, "explain_on_read", counted)
    scores = sparse_snapshot.scores
    middle = scores.index[scores["rank_any"] == len(scores) // 3][0]
    path = f"/api/v1/employers/{middle}/risk"
    app = create_app(serving_settings)
    with TestClient(app) as client:
        wait_for_model(app)
        app.state.reasons_writer.stop()  # its thread stores nothing from here on
        first = client.get(path, headers=bearer(keys[Role.planner])).json()
        assert ("any", middle) in explained  # with any other target the snapshot left
        count = len(explained)
        again = client.get(path, headers=bearer(keys[Role.planner])).json()
        assert again["overall"] == first["overall"] and again["categories"] == first["categories"]
        assert len(explained) == count  # found held, not explained again
        assert stored(world_engine, sparse_snapshot.snapshot_id, "any")[middle] is None
    # the app stopped: what its worker held is stored
    kept = stored(world_engine, sparse_snapshot.snapshot_id, "any")[middle]
    assert kept is not None and json.loads(kept) == as_stored(first["overall"]["reasons"])


def test_without_the_snapshot_s_model_scores_stay_unexplained_and_the_page_is_not_kept(
    settings, engine, employers, keys
):
    """No model served (none registered): nothing to explain with. The page is not kept, so
    once the reasons exist (another worker explained them) the next read shows them."""
    snapshot = store_snapshot(engine, "20260101-nore0001", with_reasons=False)
    app = create_app(settings.model_copy(update={"read_cache_seconds": 60}))
    planner = bearer(keys[Role.planner])
    with TestClient(app) as client:
        wait_for_model(app)
        first = client.get(RANKINGS, headers=planner, params={"limit": 5}).json()["items"]
        assert [row["reasons"] for row in first] == [[]] * 5
        written(client)
        assert all(v is None for v in stored(engine, snapshot.snapshot_id, "any").values())

        reason = [{"feature": "violations_3y", "contribution": 0.25, "value": 4}]
        with engine.begin() as connection:
            connection.execute(
                schema.snapshot_reasons.insert(),
                [
                    {
                        "snapshot_id": snapshot.snapshot_id,
                        "target": "any",
                        "employer_id": employer_id,
                        "reasons": json.dumps(reason),
                    }
                    for employer_id in snapshot.employer_ids
                ],
            )
        again = client.get(RANKINGS, headers=planner, params={"limit": 5}).json()["items"]
        assert [as_stored(row["reasons"]) for row in again] == [reason] * 5


def forget_feature_rows(engine: sa.Engine, snapshot_id: str, every: int = 1) -> int:
    """Drop every ``every``-th of the snapshot's feature chunks, as a snapshot written before
    they were kept (migration 0011) or one a newer snapshot superseded; returns how many."""
    chunks = schema.snapshot_feature_chunks
    with engine.begin() as connection:
        numbers = connection.execute(
            sa.select(chunks.c.chunk).where(chunks.c.snapshot_id == snapshot_id)
        ).scalars()
        dropped = [n for n in numbers if n % every == 0]
        connection.execute(
            chunks.delete().where(chunks.c.snapshot_id == snapshot_id, chunks.c.chunk.in_(dropped))
        )
    return len(dropped)


def test_scores_are_explained_from_the_feature_rows_the_snapshot_kept(
    sparse_snapshot, serving_client, world_engine, keys, champion, monkeypatch
):
    """No workplace's records are read to explain it: the rows `calle score` scored are."""

    def records_read(*args, **kwargs):
        raise AssertionError("features recomputed from the store's records")

    monkeypatch.setattr("service.reasons_on_read.features_from_store", records_read)
    scores = sparse_snapshot.scores
    middle = scores.index[scores["rank_any"] == len(scores) // 4][0]
    body = serving_client.get(
        f"/api/v1/employers/{middle}/risk", headers=bearer(keys[Role.planner])
    ).json()
    assert (
        as_stored(body["overall"]["reasons"])
        == (expected_reasons(world_engine, champion, [middle], "any")[middle])
    )


@pytest.mark.parametrize("every", [1, 2], ids=["none kept", "half kept"])
def test_scores_whose_rows_are_not_kept_are_explained_the_same_from_the_records(
    every, sparse_snapshot, serving_client, world_engine, keys, champion
):
    assert forget_feature_rows(world_engine, sparse_snapshot.snapshot_id, every) > 0
    response = serving_client.get(
        RANKINGS, headers=bearer(keys[Role.planner]), params={"category": "any", "limit": 200}
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    shown = [row["employer_id"] for row in items]
    expected = expected_reasons(world_engine, champion, shown, "any")
    assert {row["employer_id"]: as_stored(row["reasons"]) for row in items} == expected


def test_only_the_newest_snapshot_keeps_its_feature_rows(
    sparse_snapshot, serving_settings, world_engine, champion
):
    newer = score_population(serving_settings, as_of=AS_OF, engine=world_engine)
    with world_engine.connect() as connection:
        assert chunk_starts(connection, sparse_snapshot.snapshot_id) == []
        starts = chunk_starts(connection, newer.snapshot_id)
        ids = list(newer.scores.index[:50].astype(str))
        rows = read_rows(connection, newer.snapshot_id, starts, ids)
    features = feature_matrix(
        load_frames(world_engine), AS_OF, champion.categories, champion.attribute_kinds
    ).loc[ids]
    assert rows.employer_ids == ids
    for name, values in rows.numeric.items():
        np.testing.assert_array_equal(
            values, features[name].to_numpy(np.float64, na_value=np.nan), err_msg=name
        )
    for name, values in rows.categorical.items():
        assert values.tolist() == [None if pd.isna(v) else v for v in features[name]], name


def test_a_snapshot_kept_without_peer_rates_is_explained_the_same_from_the_store(
    sparse_snapshot, serving_client, world_engine, keys, champion
):
    """Snapshots scored before migration 0009 keep no peer rates (nor feature rows): they
    are computed."""
    forget_feature_rows(world_engine, sparse_snapshot.snapshot_id)
    with world_engine.begin() as connection:
        kept = connection.execute(
            sa.select(schema.score_snapshots.c.peer_rates).where(
                schema.score_snapshots.c.snapshot_id == sparse_snapshot.snapshot_id
            )
        ).scalar_one()
        connection.execute(
            schema.score_snapshots.update()
            .where(schema.score_snapshots.c.snapshot_id == sparse_snapshot.snapshot_id)
            .values(peer_rates=None)
        )
    assert kept and json.loads(kept)  # `calle score` kept them
    scores = sparse_snapshot.scores
    middle = scores.index[scores["rank_any"] == len(scores) // 2][0]
    body = serving_client.get(
        f"/api/v1/employers/{middle}/risk", headers=bearer(keys[Role.planner])
    ).json()
    expected = expected_reasons(world_engine, champion, [middle], "any")[middle]
    assert as_stored(body["overall"]["reasons"]) == expected


def test_the_snapshot_stores_reasons_only_for_the_rankings_read_first(sparse_snapshot):
    scores = sparse_snapshot.scores
    reasons = pd.Series(sparse_snapshot.reasons["any"], index=scores.index)
    assert reasons[scores["rank_any"] <= 2].notna().all()
    assert reasons.isna().mean() > 0.9
