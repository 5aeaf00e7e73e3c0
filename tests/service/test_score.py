"""``POST /api/v1/score`` on both engines, with the registry's real champion.

The expected probabilities are computed the way `calle score` computes them: the whole
population's feature matrix from the store, the registered model loaded from MLflow.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from calle.settings import Settings
from calle.store import schema
from features.matrix import feature_matrix
from features.store_frames import load_frames
from models.packaging import load_version
from models.risk_model import RiskModel
from service.app import create_app
from service.roles import Role
from tests.service.conftest import TrainedRegistry, audit_rows, bearer, is_problem, wait_for_model

SCORE = "/api/v1/score"
AS_OF = date(2023, 1, 1)  # inside the small world's history: later events exist


@pytest.fixture(scope="module")
def champion(trained_registry: TrainedRegistry) -> RiskModel:
    return load_version(trained_registry.uri, "employer-risk", "1")


def population_features(engine: sa.Engine, model: RiskModel, as_of: date) -> pd.DataFrame:
    frames = load_frames(engine)
    return feature_matrix(frames, as_of, model.categories, model.attribute_kinds)


def expected(model: RiskModel, features: pd.DataFrame) -> dict[str, dict[str, float]]:
    probabilities = model.predict(features)
    probabilities.columns = [c.removeprefix("p_") for c in probabilities.columns]
    return probabilities.to_dict(orient="index")


def ecms(keys) -> dict[str, str]:
    return bearer(keys[Role.ecms])


def test_by_id_equals_scoring_the_whole_population_as_of_the_same_date(
    serving_client, world_engine, keys, champion
):
    features = population_features(world_engine, champion, AS_OF)
    ids = [*features.index[::97], features.index[5]]  # a spread, one asked twice
    response = serving_client.post(
        SCORE, json={"employer_ids": ids, "as_of": AS_OF.isoformat()}, headers=ecms(keys)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model_name"], body["model_version"]) == ("employer-risk", "1")
    assert (body["as_of"], body["scored"]) == (AS_OF.isoformat(), len(ids))
    want = expected(champion, features.loc[ids])
    assert [r["employer_id"] for r in body["results"]] == ids
    for result in body["results"]:
        target = want[result["employer_id"]]
        assert set(result["probabilities"]) == {"any", *champion.categories}
        for name, value in result["probabilities"].items():
            assert value == pytest.approx(target[name], abs=1e-12)
    assert len({r["probabilities"]["any"] for r in body["results"]}) > 10  # not constant


def test_by_default_features_see_everything_on_record_until_now(
    serving_client, world_engine, keys, champion
):
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    features = population_features(world_engine, champion, tomorrow)
    ids = list(features.index[:25])
    body = serving_client.post(SCORE, json={"employer_ids": ids}, headers=ecms(keys)).json()
    assert body["as_of"] == tomorrow.isoformat()
    want = expected(champion, features.loc[ids])
    for result in body["results"]:
        assert result["probabilities"]["any"] == pytest.approx(want[result["employer_id"]]["any"])


def test_feature_records_score_like_the_same_workplaces_by_id(
    serving_client, world_engine, keys, champion
):
    features = population_features(world_engine, champion, AS_OF).iloc[:300]
    records = []
    for employer_id, row in features.iterrows():
        record = {k: (None if pd.isna(v) else v) for k, v in row.items()}
        records.append({"employer_id": employer_id, **record})
    payload = json.loads(json.dumps({"records": records}, default=float))
    by_record = serving_client.post(SCORE, json=payload, headers=ecms(keys)).json()
    by_id = serving_client.post(
        SCORE,
        json={"employer_ids": list(features.index), "as_of": AS_OF.isoformat()},
        headers=ecms(keys),
    ).json()
    assert by_record["as_of"] is None and by_record["model_version"] == "1"
    assert [r["employer_id"] for r in by_record["results"]] == list(features.index)
    for mine, theirs in zip(by_record["results"], by_id["results"], strict=True):
        assert mine["probabilities"] == pytest.approx(theirs["probabilities"], abs=1e-12)


def test_a_record_may_leave_features_out_they_are_missing(serving_client, keys, champion):
    sparse = {"employer_id": "new-1", "state": "11", "violations_3y": 3, "complaints_1y": 2}
    body = serving_client.post(
        SCORE, json={"records": [sparse, {"violations_3y": 0}]}, headers=ecms(keys)
    ).json()
    assert [r["employer_id"] for r in body["results"]] == ["new-1", None]
    frame = pd.DataFrame(
        [{k: v for k, v in sparse.items() if k != "employer_id"}, {"violations_3y": 0}],
        columns=[s.name for s in champion.specs],
    ).astype({s.name: "float64" for s in champion.specs if s.kind == "numeric"})
    frame["state"] = frame["state"].astype("string")
    for column in [s.name for s in champion.specs if s.kind == "categorical"]:
        frame[column] = frame[column].astype("string")
    want = champion.predict(frame)["p_any"].tolist()
    assert [r["probabilities"]["any"] for r in body["results"]] == pytest.approx(want)


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        ({"violations_3y": "three"}, "records.1.violations_3y", "number"),
        ({"violations_3y": 10**400}, "records.1.violations_3y", "number"),
        ({"state": 11}, "records.1.state", "text"),
        ({"secret_sauce": 1}, "records.1.secret_sauce", "not a feature"),
        ({"employer_id": 7}, "records.1.employer_id", "text"),
    ],
)
def test_bad_records_are_422_naming_record_and_feature(
    serving_client, keys, engine, record, field, reason
):
    response = serving_client.post(
        SCORE, json={"records": [{"violations_3y": 1}, record]}, headers=ecms(keys)
    )
    body = is_problem(response, 422)
    assert [(e["field"], e["location"]) for e in body["errors"]] == [(field, "body")]
    assert reason in body["errors"][0]["reason"]
    [row] = audit_rows(engine)
    assert (row.status, row.rows) == (422, 0)


def test_unknown_and_not_yet_registered_employers_are_422_by_position(
    serving_client, world_engine, keys, champion
):
    with world_engine.connect() as connection:
        late = connection.execute(
            sa.select(schema.employers.c.employer_id)
            .where(schema.employers.c.registered_on >= AS_OF)
            .limit(1)
        ).scalar_one()
    known = population_features(world_engine, champion, AS_OF).index[0]
    response = serving_client.post(
        SCORE,
        json={"employer_ids": [known, "NOPE", late], "as_of": AS_OF.isoformat()},
        headers=ecms(keys),
    )
    body = is_problem(response, 422)
    errors = {e["field"]: e["reason"] for e in body["errors"]}
    assert set(errors) == {"employer_ids.1", "employer_ids.2"}
    assert "unknown employer" in errors["employer_ids.1"]
    assert "not registered before as_of" in errors["employer_ids.2"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "body"),
        ({"employer_ids": ["E1"], "records": [{}]}, "body"),
        ({"records": [{"violations_3y": 1}], "as_of": "2024-01-01"}, "body"),
        ({"employer_ids": []}, "body.employer_ids"),
        ({"employer_ids": ["E1"] * 10_001}, "body.employer_ids"),
        ({"employer_ids": [""]}, "body.employer_ids.0"),
        ({"employer_ids": "E1"}, "body.employer_ids"),
        ({"employer_ids": ["E1"], "as_of": "yesterday"}, "body.as_of"),
        ({"employer_ids": ["E1"], "limit": 5}, "body.limit"),
        ({"records": [{"violations_3y": [1]}]}, "body.records.0.violations_3y"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(serving_client, keys, payload, field):
    body = is_problem(serving_client.post(SCORE, json=payload, headers=ecms(keys)), 422)
    fields = {f"{e['location']}.{e['field']}".removesuffix(".body") for e in body["errors"]}
    assert any(f == field or f.startswith(field + ".") for f in fields), body


def test_as_of_after_tomorrow_is_422(serving_client, keys, world_engine):
    later = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    body = is_problem(
        serving_client.post(
            SCORE, json={"employer_ids": ["E0000001"], "as_of": later}, headers=ecms(keys)
        ),
        422,
    )
    assert body["errors"][0]["field"] == "as_of"


def test_every_call_is_audited_with_what_it_scored(serving_client, world_engine, keys, champion):
    ids = list(population_features(world_engine, champion, AS_OF).index[:3])
    serving_client.post(
        SCORE, json={"employer_ids": ids, "as_of": "2023-01-01"}, headers=ecms(keys)
    )
    serving_client.post(
        SCORE,
        json={"records": [{"employer_id": "X1"}, {"violations_3y": 2}]},
        headers=bearer(keys[Role.admin]),
    )
    first, second = audit_rows(world_engine)
    assert (first.role, first.method, first.endpoint, first.rows, first.status) == (
        "ecms",
        "POST",
        SCORE,
        3,
        200,
    )
    assert json.loads(first.filters) == {
        "employer_ids": ids,
        "as_of": "2023-01-01",
        "model_version": "1",
    }
    assert (second.role, second.rows) == ("admin", 2)
    assert json.loads(second.filters) == {"records": ["X1", None], "model_version": "1"}


@pytest.mark.parametrize("role", [Role.planner, Role.data_scientist])
def test_other_roles_are_403_and_no_key_is_401(serving_client, keys, role, engine):
    payload = {"records": [{"violations_3y": 1}]}
    is_problem(serving_client.post(SCORE, json=payload, headers=bearer(keys[role])), 403)
    is_problem(serving_client.post(SCORE, json=payload), 401)
    assert audit_rows(engine) == []


def test_without_a_champion_scoring_is_503_and_says_why(settings: Settings, engine, keys):
    """A fresh CALLE_HOME has no registry yet; the service says so and does not create one."""
    app = create_app(settings.model_copy(update={"model_poll_seconds": 0.0}))
    with TestClient(app, raise_server_exceptions=False) as client:
        wait_for_model(app)
        response = client.post(SCORE, json={"records": [{}]}, headers=ecms(keys))
        body = is_problem(response, 503)
        assert "no model registry" in body["detail"] and "calle train" in body["detail"]
    assert not (settings.home / "mlflow.db").exists()


def test_records_score_the_same_whatever_the_order_of_their_keys(
    serving_client, world_engine, keys, champion
):
    features = population_features(world_engine, champion, AS_OF).iloc[:40]
    records = [
        {k: (None if pd.isna(v) else v) for k, v in row.items()} for _, row in features.iterrows()
    ]
    shuffled = [dict(reversed(list(r.items()))) if i % 2 else r for i, r in enumerate(records)]
    first, second = (
        serving_client.post(
            SCORE, json=json.loads(json.dumps({"records": batch})), headers=ecms(keys)
        ).json()
        for batch in (records, shuffled)
    )
    want = expected(champion, features)
    for got, employer_id in zip(second["results"], features.index, strict=True):
        assert got["probabilities"] == pytest.approx(want[employer_id], abs=1e-12)
    assert first["results"] == second["results"]


@pytest.mark.parametrize(
    "records",
    [
        [{"violations_3y": {"n": 1}}],
        [{"violations_3y": [1, 2]}, {"violations_3y": [3, 4]}],
        [{"violations_3y": True}],
        [{"state": ["11"]}],
    ],
)
def test_values_that_are_not_numbers_or_text_are_422(serving_client, keys, records):
    body = is_problem(
        serving_client.post(SCORE, json={"records": records}, headers=ecms(keys)), 422
    )
    assert body["errors"][0]["field"].startswith("records.0.")


def as_columns(records: list[dict]) -> dict[str, list]:
    names = dict.fromkeys(name for record in records for name in record)
    return {name: [record.get(name) for record in records] for name in names}


def test_columns_score_like_the_same_records(serving_client, world_engine, keys, champion):
    features = population_features(world_engine, champion, AS_OF).iloc[:200]
    records = [
        {"employer_id": employer_id, **{k: (None if pd.isna(v) else v) for k, v in row.items()}}
        for employer_id, row in features.iterrows()
    ]
    records = json.loads(json.dumps(records, default=float))
    by_record, by_column = (
        serving_client.post(SCORE, json=payload, headers=ecms(keys)).json()
        for payload in ({"records": records}, {"columns": as_columns(records)})
    )
    assert by_column["scored"] == 200 and by_column["as_of"] is None
    assert by_column["results"] == by_record["results"]
    want = expected(champion, features)
    for got in by_column["results"]:
        assert got["probabilities"] == pytest.approx(want[got["employer_id"]], abs=1e-12)


def test_a_column_left_out_is_missing_as_a_key_left_out_of_records(serving_client, keys):
    records = [
        {"state": "11", "violations_3y": 3, "complaints_1y": 2},
        {"state": "05", "violations_3y": 0, "complaints_1y": None},
    ]
    by_record, by_column = (
        serving_client.post(SCORE, json=payload, headers=ecms(keys)).json()
        for payload in ({"records": records}, {"columns": as_columns(records)})
    )
    assert [r["employer_id"] for r in by_column["results"]] == [None, None]
    assert by_column["results"] == by_record["results"]


@pytest.mark.parametrize(
    ("columns", "field", "reason"),
    [
        ({"violations_3y": [1, "three"]}, "columns.violations_3y.1", "number"),
        ({"violations_3y": [1, True]}, "columns.violations_3y.1", "number"),
        ({"violations_3y": [1.5, True]}, "columns.violations_3y.1", "number"),  # not 1.0
        ({"violations_3y": [1, 10**400]}, "columns.violations_3y.1", "number"),  # no float
        ({"state": ["11", 11]}, "columns.state.1", "text"),
        ({"secret_sauce": [1, 2]}, "columns.secret_sauce", "not a feature"),
        ({"employer_id": ["a", 7]}, "columns.employer_id.1", "text"),
    ],
)
def test_bad_columns_are_422_naming_column_and_position(
    serving_client, keys, engine, columns, field, reason
):
    response = serving_client.post(SCORE, json={"columns": columns}, headers=ecms(keys))
    body = is_problem(response, 422)
    assert [(e["field"], e["location"]) for e in body["errors"]] == [(field, "body")]
    assert reason in body["errors"][0]["reason"]
    [row] = audit_rows(engine)
    audited = {"columns": columns.get("employer_id", [None, None])}  # what was sent
    assert (row.status, row.rows, json.loads(row.filters)) == (422, 0, audited)


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"columns": {}}, "at least 1"),
        ({"columns": {"violations_3y": []}}, "at least 1"),
        ({"columns": {"violations_3y": [1, 2], "complaints_1y": [1]}}, "`complaints_1y` has 1"),
        ({"columns": {"violations_3y": [1] * 10_001}}, "at most 10000"),
        ({"columns": {"violations_3y": [1]}, "records": [{}]}, "exactly one of"),
        ({"columns": {"violations_3y": [1]}, "as_of": "2024-01-01"}, "`as_of` goes with"),
        ({"columns": [{"violations_3y": 1}]}, "should be an object"),
    ],
)
def test_malformed_columns_are_422_saying_why(serving_client, keys, engine, payload, says):
    body = is_problem(serving_client.post(SCORE, json=payload, headers=ecms(keys)), 422)
    assert any(says in e["reason"] for e in body["errors"]), body["errors"]


def test_columns_are_audited_with_their_ids(serving_client, keys, engine):
    columns = {"employer_id": ["X1", None, "X3"], "violations_3y": [1, 2, 3]}
    response = serving_client.post(SCORE, json={"columns": columns}, headers=ecms(keys))
    assert response.status_code == 200, response.text
    assert [r["employer_id"] for r in response.json()["results"]] == ["X1", None, "X3"]
    [row] = audit_rows(engine)
    assert (row.rows, row.status) == (3, 200)
    assert json.loads(row.filters) == {"columns": ["X1", None, "X3"], "model_version": "1"}


@pytest.mark.parametrize("number", ["Infinity", "-Infinity"])
def test_infinities_json_does_not_have_are_422_naming_them(serving_client, keys, number):
    raw = '{"records": [{}, {"violations_3y": ' + number + "}]}"
    response = serving_client.post(
        SCORE, content=raw, headers={**ecms(keys), "content-type": "application/json"}
    )
    body = is_problem(response, 422)
    assert body["errors"][0]["field"] == "records.1.violations_3y"
    assert "finite number" in body["errors"][0]["reason"]


def test_a_nan_is_missing_like_null(serving_client, keys, champion):
    def scored(name: str, value: str) -> list[dict]:
        raw = '{"records": [{"' + name + '": ' + value + ', "complaints_1y": 2}]}'
        response = serving_client.post(
            SCORE, content=raw, headers={**ecms(keys), "content-type": "application/json"}
        )
        assert response.status_code == 200, response.text
        return response.json()["results"]

    numeric = [s.name for s in champion.input_specs if s.kind == "numeric"]
    read = next(name for name in numeric if scored(name, "40") != scored(name, "null"))
    assert scored(read, "NaN") == scored(read, "null")
