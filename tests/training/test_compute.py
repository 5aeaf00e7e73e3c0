"""`calle train` and `calle score` on a Dask cluster (CALLE_DASK_SCHEDULER), end to end on the
small world: the cluster trains the very model trained without it and its snapshot ranks every
workplace exactly as the single process does, and a cluster that cannot be reached or a bad
setting is one clear line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from calle.cli import app
from calle.settings import Settings
from calle.store import open_store
from features.matrix import feature_matrix
from features.store_frames import load_frames
from models.packaging import load_version
from training import compute

runner = CliRunner()


@pytest.fixture
def home(small_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALLE_HOME", str(tmp_path / "home"))
    for name in ("CALLE_DATABASE_URL", "MLFLOW_TRACKING_URI", "CALLE_DASK_SCHEDULER"):
        monkeypatch.delenv(name, raising=False)
    assert runner.invoke(app, ["import", str(small_world)]).exit_code == 0
    return tmp_path / "home"


def _summary(output: str) -> dict[str, object]:
    """The JSON line `calle train --json` ends with."""
    return json.loads(next(line for line in reversed(output.splitlines()) if line[:1] == "{"))


def test_trained_and_scored_on_the_cluster_ranks_as_here(
    home: Path, dask_cluster, monkeypatch: pytest.MonkeyPatch
):
    """Features, boosters and scores on the cluster; each booster grown on one worker (the
    default), so the model is the very one `calle train` grows without a cluster."""
    monkeypatch.setenv("CALLE_DASK_SCHEDULER", dask_cluster.scheduler_address)
    trained = runner.invoke(app, ["train", "--promote", "--json"])
    assert trained.exit_code == 0, trained.output
    assert "promoted to champion" in trained.output
    assert "each booster grown on 1" in trained.output
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

    trained_here = runner.invoke(app, ["train", "--json"])
    assert trained_here.exit_code == 0, trained_here.output
    there, here_ = _summary(trained.output), _summary(trained_here.output)
    assert (there["version"], here_["version"]) == ("1", "2")
    assert there["precision_at_5pct"] == here_["precision_at_5pct"]
    settings = Settings()
    engine = open_store(settings)
    try:
        frames = load_frames(engine)
    finally:
        engine.dispose()
    models = [load_version(settings.tracking_uri, "employer-risk", v) for v in ("1", "2")]
    population = feature_matrix(
        frames, date(2026, 1, 1), models[0].categories, models[0].attribute_kinds
    )
    pd.testing.assert_frame_equal(
        models[0].predict(population), models[1].predict(population), check_exact=True
    )


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
