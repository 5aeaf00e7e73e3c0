import pytest
from fastapi.testclient import TestClient

from service.keys import list_keys, revoke_key
from service.roles import Role
from tests.service.conftest import bearer, is_problem

RANKINGS = "/api/v1/rankings"
AUDIT = "/api/v1/audit"


def test_no_key_is_401_with_a_challenge(client: TestClient):
    body = is_problem(client.get(RANKINGS), 401)
    assert "calle keys create" in body["detail"]
    assert client.get(RANKINGS).headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer calle_not-a-key"},
        {"Authorization": "Bearer something-else"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"X-API-Key": "calle_not-a-key"},
    ],
)
def test_a_bad_key_is_401(client: TestClient, keys, headers):
    response = client.get(RANKINGS, headers=headers)
    is_problem(response, 401)
    assert "error=" in response.headers["www-authenticate"]


def test_a_revoked_key_is_401(client: TestClient, engine, keys, snapshot):
    key = keys[Role.planner]
    assert client.get(RANKINGS, headers=bearer(key)).status_code == 200
    key_id = next(k.key_id for k in list_keys(engine) if k.role is Role.planner)
    revoke_key(engine, key_id)
    body = is_problem(client.get(RANKINGS, headers=bearer(key)), 401)
    assert "revoked" in body["detail"]


def test_the_key_may_come_as_x_api_key(client: TestClient, keys, snapshot):
    assert client.get(RANKINGS, headers={"X-API-Key": keys[Role.planner]}).status_code == 200


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (RANKINGS, {Role.planner, Role.admin}),
        (AUDIT, {Role.admin}),
    ],
)
def test_each_role_reaches_exactly_its_endpoints(client: TestClient, keys, snapshot, path, allowed):
    for role in Role:
        response = client.get(path, headers=bearer(keys[role]))
        if role in allowed:
            assert response.status_code == 200, (role, response.text)
        else:
            body = is_problem(response, 403)
            assert role.value in body["detail"]


def test_authentication_comes_before_validation(client: TestClient):
    """A caller without a key learns nothing about the parameters."""
    is_problem(client.get(RANKINGS, params={"limit": 0}), 401)
