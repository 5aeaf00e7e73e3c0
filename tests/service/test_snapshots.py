"""Snapshots of other registered models (`calle score --model NAME`: a campaign's, a data
scientist's own) are stored beside the served model's, and never replace what planners see:
rankings, employer risk, the dashboard, readiness and plans answer from the newest snapshot of
the model the service follows; `calle plan --model NAME` plans from the other one on purpose."""

from __future__ import annotations

from typer.testing import CliRunner

from calle.cli import app as cli
from service.roles import Role
from service.snapshots import SERVED_MODEL
from tests.service.conftest import bearer, is_problem, later, store_snapshot
from tests.service.ui.test_pages import sign_in

OWN_MODEL = "employer-risk-mine"


def test_a_newer_snapshot_of_another_model_is_not_served(client, engine, keys, snapshot):
    store_snapshot(engine, "20260301-cccc0003", created_at=later(60), model_name=OWN_MODEL)
    headers = bearer(keys[Role.planner])
    ranking = client.get("/api/v1/rankings", headers=headers).json()
    assert (ranking["snapshot_id"], ranking["model_name"]) == (snapshot.snapshot_id, SERVED_MODEL)
    risk = client.get("/api/v1/employers/E001/risk", headers=headers).json()
    assert risk["snapshot_id"] == snapshot.snapshot_id
    sign_in(client, keys[Role.planner], "/ui/rankings")
    page = client.get("/ui/rankings")
    assert page.status_code == 200
    assert snapshot.snapshot_id in page.text and "20260301-cccc0003" not in page.text


def test_only_another_model_s_snapshot_is_like_none(client, engine, keys, employers):
    store_snapshot(engine, "20260301-cccc0003", model_name=OWN_MODEL)
    body = is_problem(client.get("/api/v1/rankings", headers=bearer(keys[Role.planner])), 409)
    assert "calle score" in body["detail"]
    ready = is_problem(client.get("/ready"), 503)
    assert SERVED_MODEL in ready["detail"]


def test_calle_plan_plans_from_the_model_it_is_given(
    settings, engine, snapshot, tmp_path, monkeypatch
):
    store_snapshot(engine, "20260301-cccc0003", created_at=later(60), model_name=OWN_MODEL)
    offices = tmp_path / "offices.toml"
    offices.write_text('[offices."OF-11"]\nstates = ["11"]\ncapacity = 3\n', encoding="utf-8")
    monkeypatch.setenv("CALLE_HOME", str(settings.home))
    monkeypatch.setenv("CALLE_DATABASE_URL", settings.store_url)
    monkeypatch.setenv("CALLE_OFFICES_FILE", str(offices))
    served = CliRunner().invoke(cli, ["plan", "--as-of", "2026-06-30"])
    assert served.exit_code == 0, served.output
    assert f"{snapshot.snapshot_id} ({SERVED_MODEL} version 3)" in served.output
    own = CliRunner().invoke(cli, ["plan", "--as-of", "2026-06-30", "--model", OWN_MODEL])
    assert own.exit_code == 0, own.output
    assert f"20260301-cccc0003 ({OWN_MODEL} version 3)" in own.output
    missing = CliRunner().invoke(cli, ["plan", "--model", "nobody"])
    assert missing.exit_code == 2 and "nobody" in missing.output
