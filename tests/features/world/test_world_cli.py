"""`calle world` through the real command-line app."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from calle.cli import app
from features.contract import TABLES

runner = CliRunner()


def test_help_describes_the_options() -> None:
    result = runner.invoke(app, ["world", "--help"])
    assert result.exit_code == 0
    for option in ("--employers", "--years", "--seed", "--format", "--messy", "--end"):
        assert option in result.output


def test_world_command_writes_parquet_and_prints_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "w"
    result = runner.invoke(
        app,
        ["world", "--employers", "800", "--years", "2", "--seed", "4", "--format", "parquet",
         "--end", "2024-12-31", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "inspections by origin" in result.output
    for table in TABLES:
        frame = pd.read_parquet(out / f"{table.name}.parquet")
        assert list(frame.columns[: len(table.column_names)]) == list(table.column_names)
    assert sorted(p.name for p in (out / "truth").iterdir()) == [
        "risk_2023-01-01.parquet",
        "risk_2024-01-01.parquet",
        "risk_2024-12-31.parquet",
    ]
    assert json.loads((out / "world.json").read_text())["config"]["end"] == "2024-12-31"


def test_a_bad_end_date_fails_with_a_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["world", "--out", str(tmp_path), "--end", "2024-13-01"])
    assert result.exit_code != 0
    assert "YYYY-MM-DD" in str(result.exception) + result.output
