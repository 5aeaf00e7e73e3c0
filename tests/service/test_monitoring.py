"""``GET /api/v1/models/{version}/monitoring``: drift stored by `calle score`, hit rate live.

The champion (version 1, trained on the small world up to its end) scores the store as of
2024-01-01: its features then differ from the population it was shipped for, and every
inspection recorded since is judged against the probability that snapshot gave.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from calle.store import schema
from service.roles import Role
from tests.service.conftest import bearer, is_problem
from training.scoring import score_population

URL = "/api/v1/models/{}/monitoring"


def test_a_scored_version_reports_drift_and_its_realised_hit_rate(
    serving_settings, world_engine, serving_client, keys
):
    snapshot = score_population(serving_settings, date(2024, 1, 1), engine=world_engine)
    response = serving_client.get(URL.format(1), headers=bearer(keys[Role.data_scientist]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["snapshot_id"], body["as_of"]) == (snapshot.snapshot_id, "2024-01-01")
    assert body["reference_as_of"] > "2024-01-01"  # shipped for the end of the data
    features = {f["feature"]: f for f in body["features"]}
    assert {"violations_ever", "sector2"} <= set(features)
    assert all(f["psi"] >= 0 for f in body["features"])
    assert [f["psi"] for f in body["features"]] == sorted(
        (f["psi"] for f in body["features"]), reverse=True
    )
    assert {s["target"] for s in body["scores"]} == set(snapshot.targets)
    with world_engine.connect() as connection:
        visited = connection.execute(
            sa.select(schema.inspections.c.employer_id).where(
                schema.inspections.c.date >= date(2024, 1, 1)
            )
        ).scalars()
        # workplaces registered after the snapshot had no prediction to judge
        since = sum(1 for employer in visited if employer in snapshot.scores.index)
    rates = {r["target"]: r for r in body["hit_rate"]}
    assert rates["any"]["inspections"] == since > 0
    assert 0 < rates["any"]["observed_rate"] < 1 and 0 < rates["any"]["predicted_rate"] < 1
    assert rates["any"]["status"] in ("as predicted", "off")
    for target in snapshot.targets:
        assert 0 < rates[target]["inspections"] <= since
    off = [r for r in body["hit_rate"] if r["status"] == "off"]
    assert len([w for w in body["warnings"] if w.startswith("hit rate")]) == len(off)


def test_a_version_that_never_scored_says_so(serving_client, keys):
    body = serving_client.get(URL.format(2), headers=bearer(keys[Role.admin])).json()
    assert body["snapshot_id"] is None and body["features"] == [] and body["hit_rate"] == []
    assert "no snapshot scored by version 2" in body["warnings"][0]


def test_an_unknown_version_is_a_404(serving_client, keys):
    response = serving_client.get(URL.format(99), headers=bearer(keys[Role.data_scientist]))
    assert "no version 99" in is_problem(response, 404)["detail"]
