"""A newcomer's mistakes end in one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from calle.cli import app

runner = CliRunner()


def _fails_cleanly(result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for needle in needles:
        assert needle in result.output, result.output
    return result.output


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CALLE_DATABASE_URL", raising=False)


def test_an_unknown_log_level_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("CALLE_LOG_LEVEL", "LOUD")
    _fails_cleanly(runner.invoke(app, ["import", str(tmp_path)]), "invalid setting", "log_level")


def test_a_malformed_store_url_is_named(monkeypatch: pytest.MonkeyPatch, small_world: Path):
    monkeypatch.setenv("CALLE_DATABASE_URL", "garbage")
    result = runner.invoke(app, ["import", str(small_world), "--json"])
    _fails_cleanly(result, "cannot open the store")
    assert json.loads(result.output.strip().splitlines()[-1])["ok"] is False


def test_an_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch, small_world: Path):
    monkeypatch.setenv(
        "CALLE_DATABASE_URL", "postgresql+psycopg://postgres:secret@127.0.0.1:5999/x"
    )
    output = _fails_cleanly(runner.invoke(app, ["import", str(small_world)]), "cannot open")
    assert "secret" not in output
    assert len(output.strip().splitlines()) <= 2


def test_world_out_must_be_a_folder(tmp_path: Path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    _fails_cleanly(
        runner.invoke(app, ["world", "--out", str(a_file), "--employers", "100"]), "world stopped"
    )


def test_world_end_in_the_future_is_refused(tmp_path: Path):
    result = runner.invoke(app, ["world", "--out", str(tmp_path / "w"), "--end", "2999-01-01"])
    _fails_cleanly(result, "after today")


def test_score_without_a_champion_says_what_to_do(tmp_path: Path):
    _fails_cleanly(runner.invoke(app, ["score"]), "calle train --promote")


def test_train_with_an_empty_store_says_what_to_do():
    _fails_cleanly(runner.invoke(app, ["train"]), "import data before training")


def test_a_bad_training_config_names_the_field(tmp_path: Path):
    config = tmp_path / "bad.toml"
    config.write_text("[temporal]\nhorizon_days = -3\nfolds = 2\n")
    _fails_cleanly(runner.invoke(app, ["train", "--config", str(config)]), "temporal.horizon_days")


def test_serve_with_a_bad_office_file_names_the_field(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    path = tmp_path / "offices.toml"
    path.write_text('[offices."OF-1"]\nstates = "01"\n', encoding="utf-8")
    monkeypatch.setenv("CALLE_OFFICES_FILE", str(path))
    _fails_cleanly(runner.invoke(app, ["serve", "--port", "1"]), "offices.OF-1.states")
