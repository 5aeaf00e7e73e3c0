"""The promotion gate's fairness check, on a real MLflow registry with crafted audits."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from training.config import FairnessSection, PromotionSection
from training.registry import CHAMPION, promote

NAME = "employer-risk"
KEY = "mean/model/any/precision_at_5pct"


def _audit(fnr_b: float, fnr_c: float = 1.0) -> pd.DataFrame:
    """State A is the reference; B and C are judged (enough labels), D is too small."""
    return pd.DataFrame(
        {
            "attribute": ["state"] * 4,
            "group": ["A", "B", "C", "D"],
            "reference": ["A"] * 4,
            "basis": ["random"] * 4,
            "labelled": [900, 300, 300, 10],
            "labelled_selected": [400, 200, 200, 5],
            "labelled_positive": [500, 150, 150, 5],
            "false_negative_rate_disparity": [1.0, fnr_b, fnr_c, 4.0],
            "false_discovery_rate_disparity": [1.0, 1.0, 1.0, 4.0],
        }
    )


@pytest.fixture
def client(tmp_path: Path) -> mlflow.MlflowClient:
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    experiment = client.create_experiment("gate", artifact_location=(tmp_path / "a").as_uri())
    mlflow.set_experiment(experiment_id=experiment)
    client.create_registered_model(NAME)
    return client


def _version(client: mlflow.MlflowClient, precision: float, audit: pd.DataFrame | None) -> str:
    with mlflow.start_run() as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_metric(KEY, precision)
        if audit is not None:
            audit.to_csv(Path(tmp) / "fairness.csv", index=False)
            mlflow.log_artifact(str(Path(tmp) / "fairness.csv"))
    version = client.create_model_version(NAME, f"{run.info.artifact_uri}/model", run.info.run_id)
    return str(version.version)


def _champion(client: mlflow.MlflowClient) -> str:
    return str(client.get_model_version_by_alias(NAME, CHAMPION).version)


def test_a_better_model_that_opens_a_new_disparity_is_refused_and_named(client):
    rule, fairness = PromotionSection(), FairnessSection()
    first = _version(client, 0.50, _audit(fnr_b=1.10))
    assert promote(client, NAME, first, rule, fairness).promoted
    candidate = _version(client, 0.60, _audit(fnr_b=1.40))
    gate = promote(client, NAME, candidate, rule, fairness)
    assert not gate.promoted and _champion(client) == first
    assert "false_negative_rate disparity of state=B is 1.40" in gate.reason
    assert "state=D" not in gate.reason  # too few labels to judge
    tags = client.get_model_version(NAME, candidate).tags
    assert tags["gate.result"] == "refused" and "state=B" in tags["gate.reason"]


def test_a_disparity_the_champion_already_had_does_not_block(client):
    rule, fairness = PromotionSection(), FairnessSection()
    first = _version(client, 0.50, _audit(fnr_b=1.40))
    promote(client, NAME, first, rule, fairness)
    better = _version(client, 0.60, _audit(fnr_b=1.50))
    gate = promote(client, NAME, better, rule, fairness)
    assert gate.promoted and _champion(client) == better, gate.reason


def test_the_band_is_configurable(client):
    rule = PromotionSection()
    first = _version(client, 0.50, _audit(fnr_b=1.10))
    promote(client, NAME, first, rule, FairnessSection())
    candidate = _version(client, 0.60, _audit(fnr_b=1.20))
    narrow = FairnessSection(band=(0.9, 1.15))
    assert not promote(client, NAME, candidate, rule, narrow).promoted
    assert promote(client, NAME, candidate, rule, FairnessSection()).promoted


def test_a_candidate_without_an_audit_is_refused(client):
    first = _version(client, 0.50, _audit(fnr_b=1.0))
    promote(client, NAME, first, PromotionSection(), FairnessSection())
    bare = _version(client, 0.90, None)
    gate = promote(client, NAME, bare, PromotionSection(), FairnessSection())
    assert not gate.promoted and "no fairness audit" in gate.reason


def test_the_first_champion_passes_and_names_its_groups_outside_the_band(client):
    first = _version(client, 0.50, _audit(fnr_b=0.5))
    gate = promote(client, NAME, first, PromotionSection(), FairnessSection())
    assert gate.promoted and "state=B" in gate.reason and "no champion" in gate.reason
