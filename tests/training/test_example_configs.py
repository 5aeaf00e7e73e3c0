"""The example configurations in configs/examples run as their comments say, on the small
world, through the `calle` command (real store and MLflow)."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from typer.testing import CliRunner

from calle.cli import app
from training.config import load_config

EXAMPLES = Path(__file__).resolve().parents[2] / "configs" / "examples"
runner = CliRunner()

pytestmark = pytest.mark.slow


def test_every_example_is_a_valid_configuration():
    examples = sorted(EXAMPLES.glob("*.toml"))
    assert [e.name for e in examples] == [
        "campaign_subcontracting.toml",
        "horizon_180_days.toml",
        "recent_as_of_dates.toml",
    ]
    for example in examples:
        load_config(example)  # refuses an unknown key or a bad value, naming it


@pytest.fixture
def home(small_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALLE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CALLE_DATABASE_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert runner.invoke(app, ["import", str(small_world)]).exit_code == 0
    return tmp_path / "home"


def _train(config: str, *extra: str) -> dict:
    result = runner.invoke(app, ["train", "--config", str(EXAMPLES / config), *extra, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def _run_params(home: Path, run_id: str) -> dict[str, str]:
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{home / 'mlflow.db'}")
    return client.get_run(run_id).data.params


def test_the_campaign_trains_its_own_model_and_scores_with_it(home: Path):
    summary = _train("campaign_subcontracting.toml", "--promote")
    assert summary["model"] == "employer-risk-subcontracting"
    scored = runner.invoke(app, ["score", "--model", "employer-risk-subcontracting"])
    assert scored.exit_code == 0, scored.output
    assert "employer-risk-subcontracting version 1" in scored.output
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{home / 'mlflow.db'}")
    assert client.get_model_version_by_alias("employer-risk-subcontracting", "champion")
    assert not client.search_registered_models(filter_string="name = 'employer-risk'")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("horizon_180_days.toml", {"horizon_days": "180", "update_every": "6m", "folds": "4"}),
        ("recent_as_of_dates.toml", {"update_every": "3m", "max_training_history": "2y"}),
    ],
)
def test_the_temporal_examples_train_with_their_own_dates(home: Path, config, expected):
    params = _run_params(home, _train(config)["run_id"])
    temporal = {k.split(".", 1)[-1]: v for k, v in params.items() if "temporal" in k}
    assert expected.items() <= temporal.items(), temporal
