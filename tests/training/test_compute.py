"""`calle train` and `calle score` on a Dask cluster (CALLE_DASK_SCHEDULER), end to end on the
small world: the cluster's snapshot ranks every workplace exactly as the single process does
with the same model, and a cluster that cannot be reached or a bad setting is one clear line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from calle.cli import app
from training import compute

runner = CliRunner()


@pytest.fixture
def home(small_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALLE_HOME", str(tmp_path / "home"))
    for name in ("CALLE_DATABASE_URL", "MLFLOW_TRACKING_URI", "CALLE_DASK_SCHEDULER"):
        monkeypatch.delenv(name, raising=False)
    assert runner.invoke(app, ["import", str(small_world)]).exit_code == 0
    return tmp_path / "home"


def test_trained_and_scored_on_the_cluster_ranks_as_here(
    home: Path, dask_cluster, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CALLE_DASK_SCHEDULER", dask_cluster.scheduler_address)
    trained = runner.invoke(app, ["train", "--promote"])
    assert trained.exit_code == 0, trained.output
    assert "promoted to champion" in trained.output
    on_cluster = runner.invoke(
        app, ["score", "--as-of", "2026-01-01", "--out", str(home / "cluster.csv")]
    )
    assert on_cluster.exit_code == 0, on_cluster.output

    monkeypatch.delenv("CALLE_DASK_SCHEDULER")
    here = runner.invoke(app, ["score", "--as-of", "2026-01-01", "--out", str(home / "here.csv")])
    assert here.exit_code == 0, here.output
    from_cluster, from_here = pd.read_csv(home / "cluster.csv"), pd.read_csv(home / "here.csv")
    assert len(from_here) > 2000
    pd.testing.assert_frame_equal(from_cluster, from_here)


def test_an_unreachable_scheduler_stops_the_command_with_its_address(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(compute, "CONNECT_SECONDS", 2)
    monkeypatch.setenv("CALLE_DASK_SCHEDULER", "tcp://127.0.0.1:9")
    result = runner.invoke(app, ["score"])
    assert result.exit_code == 2
    assert "CALLE_DASK_SCHEDULER tcp://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output


def test_a_malformed_scheduler_setting_is_named(home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CALLE_DASK_SCHEDULER", "my-cluster")
    result = runner.invoke(app, ["train"])
    assert result.exit_code == 2
    assert "dask_scheduler" in result.output and "tcp://HOST:8786" in result.output
