"""`calle import` through the CLI: the JSON last line and the exit code of a stopped import."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from calle.cli import app
from calle.settings import Settings


@pytest.fixture
def environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CALLE_HOME", str(settings.home))
    monkeypatch.setenv("CALLE_DATABASE_URL", settings.store_url)
    return settings


def test_import_prints_the_report_and_json_last(
    environment: Settings, contract_folder: Callable[..., Path]
) -> None:
    folder = contract_folder(append={"complaints": "C9,E404,2020-01-01,,web\n"})
    result = CliRunner().invoke(app, ["import", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    assert "employers" in result.output and "unknown_employer" in result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["ok"] is True
    assert report["tables"]["employers"]["inserted"] == 3
    assert report["tables"]["complaints"]["rejected_by_reason"] == {"unknown_employer": 1}
    assert Path(report["rejects_dir"], "complaints.csv").is_file()


def test_a_contract_error_exits_2_with_a_message(
    environment: Settings, contract_folder: Callable[..., Path]
) -> None:
    folder = contract_folder(replace={"employers": None})
    result = CliRunner().invoke(app, ["import", str(folder), "--json"])
    assert result.exit_code == 2
    assert "import stopped, nothing was written" in result.output
    assert "employers" in result.output
    assert json.loads(result.output.strip().splitlines()[-1])["ok"] is False
