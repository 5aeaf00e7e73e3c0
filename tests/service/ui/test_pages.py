"""The dashboard over HTTP (no browser): sign-in, roles, CSRF, audit, language, exports.

The browser tests (test_browser.py) drive the same pages in Chromium; these pin the rules
that a browser would not show: status codes, cookies, audit rows, refusals.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from calle.store import schema
from service.app import create_app
from service.keys import create_key, revoke_key
from service.roles import Role
from service.ui.texts import TEXTS
from tests.service.conftest import audit_rows

OFFICES_TOML = """
[offices."OF-01"]
states = ["01"]
capacity = 3

[offices."OF-11"]
states = ["11"]
capacity = 2
"""


@pytest.fixture
def ui(settings, engine, snapshot, tmp_path):
    offices = tmp_path / "offices.toml"
    offices.write_text(OFFICES_TOML, encoding="utf-8")
    app = create_app(settings.model_copy(update={"offices_file": offices}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def sign_in(client: TestClient, key: str, next_url: str = "/ui/") -> object:
    form = client.get("/ui/sign-in", params={"next": next_url})
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text).group(1)
    return client.post("/ui/sign-in", data={"key": key, "nonce": nonce, "next": next_url})


def csrf(page_html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_html).group(1)


def test_pages_need_a_session_and_come_back_after_sign_in(ui, keys):
    response = ui.get("/ui/rankings?state=11", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/sign-in?next=%2Fui%2Frankings")
    signed = sign_in(ui, keys[Role.planner], "/ui/rankings?state=11")
    assert signed.status_code == 200 and signed.url.path == "/ui/rankings"
    cookie = next(c for c in ui.cookies.jar if c.name == "calle_session")
    assert cookie.path == "/ui" and cookie.has_nonstandard_attr("HttpOnly")
    assert 'data-employer="' in signed.text
    assert signed.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in signed.headers["content-security-policy"]


def test_bad_keys_machine_keys_and_foreign_sign_ins_are_refused(ui, keys, engine):
    assert sign_in(ui, "not-a-key").status_code == 401
    assert sign_in(ui, keys[Role.ecms]).status_code == 403
    # a form posted from elsewhere has no sign-in cookie: refused even with a good key
    fresh = TestClient(ui.app)
    forged = fresh.post("/ui/sign-in", data={"key": keys[Role.planner], "nonce": "x"})
    assert forged.status_code == 400
    with engine.connect() as connection:
        sessions = sa.select(sa.func.count()).select_from(schema.ui_sessions)
        assert connection.execute(sessions).scalar() == 0


def test_a_redirect_after_sign_in_never_leaves_the_dashboard(ui, keys):
    response = sign_in(ui, keys[Role.planner], "https://evil.example/")
    assert response.url.path.startswith("/ui/")
    assert str(response.url).startswith("http://testserver/ui/")


def test_roles_see_only_their_pages(ui, keys):
    sign_in(ui, keys[Role.data_scientist])
    assert ui.get("/ui/rankings").status_code == 403
    assert ui.get("/ui/models").status_code in (200, 503)  # 503: no registry configured here
    planner = TestClient(ui.app)
    sign_in(planner, keys[Role.planner])
    assert planner.get("/ui/models").status_code == 403
    assert planner.get("/ui/").url.path == "/ui/rankings"


def test_every_list_view_is_audited_like_the_api(ui, keys, engine):
    sign_in(ui, keys[Role.planner])
    before = len(audit_rows(engine))
    assert ui.get("/ui/rankings", params={"state": "11", "category": "any"}).status_code == 200
    assert ui.get("/ui/employers/E001").status_code == 200
    assert ui.get("/ui/employers/NOPE").status_code == 404
    rows = audit_rows(engine)[before:]
    assert [(r.endpoint, r.status) for r in rows] == [
        ("/ui/rankings", 200),
        ("/ui/employers/{employer_id}", 200),
        ("/ui/employers/{employer_id}", 404),
    ]
    assert rows[0].role == "planner" and '"state": "11"' in rows[0].filters
    assert rows[0].rows > 0


def test_invalid_filters_are_explained_not_crashed(ui, keys):
    sign_in(ui, keys[Role.planner])
    response = ui.get("/ui/rankings", params={"state": "99"})
    assert response.status_code == 422 and 'id="error"' in response.text
    assert "99" in response.text
    assert ui.get("/ui/rankings", params={"category": "nonsense"}).status_code == 422


def test_a_revoked_key_ends_its_sessions(ui, keys, engine):
    record, key = create_key(engine, Role.planner, "soon revoked")
    sign_in(ui, key)
    assert ui.get("/ui/rankings").status_code == 200
    revoke_key(engine, record.key_id)
    assert ui.get("/ui/rankings", follow_redirects=False).status_code == 303


def test_sign_out_needs_the_csrf_token_and_ends_the_session(ui, keys):
    page = sign_in(ui, keys[Role.planner])
    assert ui.post("/ui/sign-out", data={"csrf_token": "forged"}).status_code == 403
    assert ui.get("/ui/rankings").status_code == 200  # still signed in
    out = ui.post("/ui/sign-out", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert ui.get("/ui/rankings", follow_redirects=False).status_code == 303


def test_spanish_by_default_english_on_request(ui, keys):
    page = sign_in(ui, keys[Role.planner], "/ui/rankings")
    assert "Lista priorizada" in page.text and 'lang="es"' in page.text
    assert "violaciones" in page.text and "violations in the last" not in page.text
    english = ui.get("/ui/language/en", params={"next": "/ui/rankings"})
    assert english.url.path == "/ui/rankings"
    assert "Ranked list" in english.text and 'lang="en"' in english.text
    assert "violations in the last 3 years" in english.text  # the reasons follow
    assert "violaciones" not in english.text


def test_the_employer_page_shows_complaints_only_as_counts(ui, keys, engine):
    with engine.begin() as connection:
        connection.execute(
            schema.complaints.insert(),
            [
                {
                    "complaint_id": f"C-SECRET-{i}",
                    "employer_id": "E001",
                    "date": datetime(2025, 3, 1 + i, tzinfo=UTC).replace(tzinfo=None),
                    "category": "safety_health",
                    "channel": "phone",
                }
                for i in range(3)
            ],
        )
    sign_in(ui, keys[Role.planner])
    page = ui.get("/ui/employers/E001")
    assert page.status_code == 200
    assert "C-SECRET" not in page.text and "2025-03-0" not in page.text
    assert re.search(r"<td>2025</td><td class=\"num\">3</td>", page.text)


def test_a_plan_is_built_from_the_form_and_exported(ui, keys, engine):
    page = sign_in(ui, keys[Role.planner], "/ui/plans")
    token = csrf(page.text)
    assert 'name="capacity:OF-01"' in page.text
    refused = ui.post("/ui/plans", data={"csrf_token": "forged", "capacity:OF-01": "3"})
    assert refused.status_code == 403
    built = ui.post(
        "/ui/plans",
        data={
            "csrf_token": token,
            "category": "any",
            "capacity:OF-01": "3",
            "capacity:OF-11": "2",
            "exploration_share": "0",
            "exclude_inspected_within_days": "0",
        },
    )
    assert built.status_code == 200 and built.url.path.startswith("/ui/plans/P")
    plan_id = built.url.path.rsplit("/", 1)[1]
    assert built.text.count('data-selection="model"') == 5
    exported = ui.get(f"/ui/plans/{plan_id}/export.csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 5 and {r["office"] for r in rows} == {"OF-01", "OF-11"}
    book = load_workbook(io.BytesIO(ui.get(f"/ui/plans/{plan_id}/export.xlsx").content))
    assert book.sheetnames == ["OF-01", "OF-11"]
    assert book["OF-01"].max_row == 2 + 3 and book["OF-11"]["B3"].value in {
        r["employer_id"] for r in rows if r["office"] == "OF-11"
    }
    assert ui.get(f"/ui/plans/{plan_id}/print").status_code == 200
    endpoints = [r.endpoint for r in audit_rows(engine)]
    assert "/ui/plans" in endpoints and endpoints.count("/ui/plans/{plan_id}") >= 4
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(schema.plans.c.created_by).where(schema.plans.c.plan_id == plan_id)
        ).scalar_one()
    assert stored != "cli"


def test_a_bad_plan_form_is_shown_again_with_the_reason(ui, keys):
    page = sign_in(ui, keys[Role.planner], "/ui/plans")
    response = ui.post(
        "/ui/plans",
        data={"csrf_token": csrf(page.text), "capacity:OF-01": "-4", "exploration_share": "10"},
    )
    assert response.status_code == 422 and 'id="error"' in response.text
    assert 'value="-4"' in response.text  # what the planner typed is kept
    empty = ui.post("/ui/plans", data={"csrf_token": csrf(page.text)})
    assert empty.status_code == 422 and "offices" in empty.text


def test_every_text_has_both_languages():
    assert TEXTS["es"].keys() == TEXTS["en"].keys()
    assert all(TEXTS["es"][k] != TEXTS["en"][k] for k in ("rankings", "plans", "sign_in"))


#: Pages reachable without a session: signing in, and choosing a language for that page.
OPEN_PAGES = {"/ui/sign-in", "/ui/language/{lang}"}


def test_every_page_but_sign_in_needs_a_session(ui):
    from service.ui.pages import router

    pages = [(method, route.path) for route in router.routes for method in route.methods - {"HEAD"}]
    assert len(pages) >= 10
    for method, path in pages:
        if path in OPEN_PAGES:
            continue
        url = path.replace("{employer_id}", "E001").replace("{plan_id}", "P0")
        response = ui.request(method, url, follow_redirects=False)
        assert response.status_code == 303, (method, path)
        assert response.headers["location"].startswith("/ui/sign-in")
