"""Every endpoint's role boundary, from one table that must list every route of the app.

A new endpoint without a row here fails the first test, so none can ship unguarded. Each
route is called with no key (401), with a key of every role it refuses (403), and with a key
of every role it admits (anything but 401/403: the request itself may still be invalid).
"""

from __future__ import annotations

import pytest

from service.roles import Role
from tests.service.conftest import bearer, is_problem

P, E, D, A = Role.planner, Role.ecms, Role.data_scientist, Role.admin

#: (method, path template): the roles admitted. Admin is admitted everywhere.
ROLE_MATRIX: dict[tuple[str, str], set[Role]] = {
    ("GET", "/api/v1/rankings"): {P, A},
    ("GET", "/api/v1/employers/{employer_id}/risk"): {P, A},
    ("POST", "/api/v1/score"): {E, A},
    ("POST", "/api/v1/inspections"): {E, A},
    ("POST", "/api/v1/findings"): {E, A},
    ("POST", "/api/v1/complaints"): {E, A},
    ("GET", "/api/v1/models"): {D, A},
    ("GET", "/api/v1/models/{version}"): {D, A},
    ("GET", "/api/v1/models/{version}/monitoring"): {D, A},
    ("POST", "/api/v1/models/reload"): {A},
    ("GET", "/api/v1/metrics"): {D, A},
    ("GET", "/api/v1/audit"): {A},
    ("POST", "/api/v1/plans"): {P, A},
    ("GET", "/api/v1/plans"): {P, E, A},
    ("GET", "/api/v1/plans/{plan_id}"): {P, E, A},
}
#: Open by design: orchestrators probe them, and they return no employer data.
OPEN = {("GET", "/health"), ("GET", "/ready")}
EXAMPLE_PATH = {"{employer_id}": "E001", "{version}": "1", "{plan_id}": "P0"}


def _concrete(path: str) -> str:
    for template, value in EXAMPLE_PATH.items():
        path = path.replace(template, value)
    return path


def test_the_matrix_lists_every_route_of_the_app(client):
    document = client.get("/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert routes == set(ROLE_MATRIX) | OPEN


@pytest.mark.parametrize(("method", "path"), sorted(ROLE_MATRIX))
def test_each_route_admits_only_its_roles(client, keys, snapshot, method, path):
    url = _concrete(path)
    is_problem(client.request(method, url), 401)
    for role in Role:
        response = client.request(method, url, headers=bearer(keys[role]), json={})
        if role in ROLE_MATRIX[(method, path)]:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            assert role.value in is_problem(response, 403)["detail"]
