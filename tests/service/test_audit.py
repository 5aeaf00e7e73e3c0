import json

import pytest
import sqlalchemy as sa

from service.keys import list_keys
from service.roles import Role
from tests.service.conftest import EMPLOYERS, audit_rows, bearer, is_problem

RANKINGS = "/api/v1/rankings"
AUDIT = "/api/v1/audit"


def key_id(engine: sa.Engine, role: Role) -> str:
    return next(k.key_id for k in list_keys(engine) if k.role is role)


def test_every_ranking_request_is_audited_with_its_filters_and_row_count(
    client, engine, keys, snapshot
):
    planner = bearer(keys[Role.planner])
    first = client.get(RANKINGS, headers=planner, params={"state": "11", "limit": 5}).json()
    client.get(RANKINGS, headers=planner, params={"state": "11", "cursor": first["next_cursor"]})
    client.get(RANKINGS, headers=bearer(keys[Role.admin]), params={"sector": "99"})
    rows = audit_rows(engine)
    assert [(r.role, r.method, r.endpoint, r.status) for r in rows] == [
        ("planner", "GET", RANKINGS, 200),
        ("planner", "GET", RANKINGS, 200),
        ("admin", "GET", RANKINGS, 200),
    ]
    in_state = sum(e["state"] == "11" for e in EMPLOYERS)
    assert [r.rows for r in rows] == [5, in_state - 5, 0]
    assert rows[0].key_id == key_id(engine, Role.planner)
    assert rows[2].key_id == key_id(engine, Role.admin)
    assert json.loads(rows[0].filters) == {"state": "11", "category": "any", "limit": 5}
    assert json.loads(rows[1].filters)["after_rank"] == first["items"][-1]["rank"]


def test_refused_ranking_requests_are_audited_with_their_status(client, engine, keys, snapshot):
    planner = bearer(keys[Role.planner])
    client.get(RANKINGS, headers=planner, params={"category": "piracy"})
    [row] = audit_rows(engine)
    assert (row.status, row.rows) == (422, 0)
    assert json.loads(row.filters)["category"] == "piracy"


def test_requests_without_a_valid_key_or_role_write_nothing(client, engine, keys, snapshot):
    client.get(RANKINGS)
    client.get(RANKINGS, headers=bearer("calle_nope"))
    client.get(RANKINGS, headers=bearer(keys[Role.ecms]))
    assert audit_rows(engine) == []


def test_the_audit_log_reads_newest_first_in_pages(client, engine, keys, snapshot):
    planner = bearer(keys[Role.planner])
    for limit in range(1, 8):
        client.get(RANKINGS, headers=planner, params={"limit": limit})
    admin = bearer(keys[Role.admin])
    entries, cursor = [], None
    while True:
        page = client.get(AUDIT, headers=admin, params={"limit": 3, "cursor": cursor}).json()
        entries += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["rows"] for e in entries] == [7, 6, 5, 4, 3, 2, 1]
    ids = [e["audit_id"] for e in entries]
    assert ids == sorted(ids, reverse=True)
    assert entries[0]["filters"] == {"category": "any", "limit": 7}
    assert entries[0]["key_id"] == key_id(engine, Role.planner)
    assert entries[0]["at"].endswith(("Z", "+00:00"))


def test_reading_the_audit_log_is_not_itself_audited(client, engine, keys):
    client.get(AUDIT, headers=bearer(keys[Role.admin]))
    assert audit_rows(engine) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"cursor": "zz"}, "cursor")],
)
def test_bad_audit_parameters_are_422(client, keys, params, field):
    body = is_problem(client.get(AUDIT, headers=bearer(keys[Role.admin]), params=params), 422)
    assert body["errors"][0]["field"] == field
