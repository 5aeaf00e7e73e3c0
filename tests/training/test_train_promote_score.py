"""`calle train --promote`, the promotion gate and `calle score`, end to end on the small world.

Real MLflow (SQLite tracking store and registry under a temporary CALLE_HOME) and a real
store; nothing mocked.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from calle.cli import _compile_champion, app
from calle.settings import Settings
from calle.store import open_store
from tests.snapshot_scores import stored_scores

runner = CliRunner()
MODEL = "employer-risk"


@pytest.fixture(scope="module")
def trained(small_world: Path, tmp_path_factory: pytest.TempPathFactory):
    """A home with the small world imported, trained twice: version 1 promoted, then version 2."""
    home = tmp_path_factory.mktemp("trained-home")
    env = {"CALLE_HOME": str(home), "CALLE_DATABASE_URL": "", "MLFLOW_TRACKING_URI": ""}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value) if value else patch.delenv(key, raising=False)
        assert runner.invoke(app, ["import", str(small_world)]).exit_code == 0
        first = runner.invoke(
            app, ["train", "--truth", str(small_world / "truth"), "--promote", "--json"]
        )
        compiled = {p.name: p.stat().st_mtime_ns for p in (home / "compiled-trees").glob("*.o")}
        second = runner.invoke(app, ["train", "--truth", str(small_world / "truth")])
        refused = runner.invoke(app, ["promote"])
        scored = runner.invoke(
            app, ["score", "--as-of", "2026-01-01", "--out", str(home / "scores.csv")]
        )
        again = runner.invoke(app, ["score", "--as-of", "2026-01-01"])
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        settings = Settings(home=home)
    return {
        "home": home,
        "settings": settings,
        "first": first,
        "compiled_at_promotion": compiled,
        "second": second,
        "refused": refused,
        "scored": scored,
        "again": again,
    }


@pytest.fixture(scope="module")
def client(trained) -> mlflow.MlflowClient:
    mlflow.set_tracking_uri(trained["settings"].tracking_uri)
    return mlflow.MlflowClient()


def test_training_registers_a_version_and_reports_baselines(trained):
    result = trained["first"]
    assert result.exit_code == 0, result.output
    assert "Registered employer-risk version 1" in result.output
    for scorer in ("business_as_usual", "cell_rate", "logistic", "model", "oracle", "random"):
        assert scorer in result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["version"] == "1"
    assert summary["precision_at_5pct"]["model"] > summary["precision_at_5pct"]["random"]


def test_the_run_holds_params_metrics_artifacts_and_a_signed_model(trained, client):
    version = client.get_model_version(MODEL, "1")
    run = client.get_run(version.run_id)
    assert run.data.params["temporal.horizon_days"] == "365"
    assert len(run.data.tags["dataset_fingerprint"]) == 16
    assert run.data.tags["test_as_of"]
    for key in (
        "mean/model/any/precision_at_5pct",
        "mean/random/any/precision_at_5pct",
        "mean/model/any/oracle_efficiency_at_5pct",
        "mean/model/subcontracting/roc_auc",
        "mean/model/any/weighted_precision_at_5pct",
        "model/any/brier",
        "fairness/groups_out_of_band",
    ):
        assert key in run.data.metrics, key
    home = trained["home"].resolve().as_uri()
    assert run.info.artifact_uri.startswith(f"{home}/mlartifacts/"), run.info.artifact_uri
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {
        "feature_catalogue.md",
        "fold_metrics.csv",
        "summary.csv",
        "precision_at_k.png",
        "calibration.png",
        "feature_importance.png",
        "config.json",
        "fairness.csv",
        "fairness.png",
        "monitoring_reference.json",
    } <= artifacts
    fairness = pd.read_csv(client.download_artifacts(run.info.run_id, "fairness.csv"))
    assert set(fairness["attribute"]) == {"state", "size_band", "sector2"}
    assert (fairness.groupby("attribute")["workplaces"].sum().nunique()) == 1  # everyone, once
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/1")
    assert model.metadata.signature is not None
    inputs = model.metadata.get_input_schema().input_names()
    assert "violations_ever" in inputs and "state" in inputs and "name" not in inputs


def test_the_gate_promotes_the_first_and_refuses_an_equal_model(trained, client):
    assert "promoted to champion" in trained["first"].output
    assert trained["second"].exit_code == 0
    assert "Registered employer-risk version 2" in trained["second"].output
    refused = trained["refused"]
    assert refused.exit_code == 0, refused.output
    assert "version 2: not promoted" in refused.output and "does not beat" in refused.output
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"
    tags = client.get_model_version(MODEL, "2").tags
    assert tags["gate.result"] == "refused" and tags["gate.champion_version"] == "1"
    assert client.get_model_version(MODEL, "1").tags["gate.result"] == "promoted"


def test_promotion_compiles_the_champion_once_for_every_later_scoring(trained):
    compiled = trained["compiled_at_promotion"]
    assert "compiled its boosters for scoring" in trained["first"].output
    assert len(compiled) >= 2  # one per target with a booster
    assert "compiled its boosters" not in trained["refused"].output
    assert trained["scored"].exit_code == 0, trained["scored"].output
    # `calle score` found them cached: none compiled again, none added
    after = {p.name: p.stat().st_mtime_ns for p in (trained["home"] / "compiled-trees").glob("*.o")}
    assert after == compiled


@pytest.mark.parametrize("broken", ["cache", "version"])
def test_compiling_ahead_that_fails_says_so_and_leaves_the_promotion_standing(
    trained, tmp_path, capsys, broken
):
    """Compiling at promotion is a head start only: a cache that cannot be written, or a
    version that cannot be loaded, is reported and does not raise."""
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    settings = trained["settings"].model_copy(update={"compiled_trees_cache": not_a_folder})
    _compile_champion(settings, MODEL, "1" if broken == "cache" else "99")
    printed = capsys.readouterr().out
    assert "not compiled ahead" in printed and "compiled its boosters for" not in printed


def test_scoring_stores_a_deterministic_snapshot_and_writes_the_file(trained):
    assert trained["scored"].exit_code == 0, trained["scored"].output
    engine = open_store(trained["settings"])
    with engine.connect() as connection:
        snapshots = connection.execute(
            sa.text(
                "SELECT snapshot_id, model_version, as_of, employers FROM score_snapshots "
                "ORDER BY created_at"
            )
        ).all()
        assert len(snapshots) == 2 and {s.model_version for s in snapshots} == {"1"}
        employers = connection.execute(sa.text("SELECT count(*) FROM employers")).scalar()
    scores = stored_scores(engine)
    engine.dispose()
    columns = ["employer_id", "target", "rank", "probability"]
    ranks = [
        scores[scores["snapshot_id"] == s.snapshot_id].sort_values(
            ["target", "rank"], ignore_index=True
        )[columns]
        for s in snapshots
    ]
    first, second = ranks
    pd.testing.assert_frame_equal(first, second)
    overall = first[first.target == "any"]
    assert len(overall) == snapshots[0].employers <= employers
    assert list(overall["rank"]) == list(range(1, len(overall) + 1))
    assert overall["probability"].is_monotonic_decreasing
    assert set(first.target) == {
        "any",
        "safety_health",
        "working_conditions",
        "subcontracting",
        "freedom_of_association",
        "gender_discrimination",
    }
    written = pd.read_csv(trained["home"] / "scores.csv", dtype={"employer_id": str})
    assert list(written.columns[:3]) == ["employer_id", "rank", "score"]
    assert "score_subcontracting" in written.columns
    assert list(written["employer_id"]) == list(overall["employer_id"])


def test_each_stored_score_carries_its_workplace_s_directory_entry(trained):
    """Rankings filter on these columns; they must be the workplace's own."""
    engine = open_store(trained["settings"])
    scores = stored_scores(engine)
    with engine.connect() as connection:
        directory = pd.read_sql(
            sa.text("SELECT employer_id, state, municipality, sector, size_band FROM employers"),
            connection,
        )
    engine.dispose()
    columns = ["employer_id", "state", "municipality", "sector", "size_band"]
    stored = scores[columns].drop_duplicates().fillna("-").sort_values("employer_id")
    own = directory[directory["employer_id"].isin(stored["employer_id"])].fillna("-")
    assert len(stored) > 0 and stored["state"].ne("-").all()
    pd.testing.assert_frame_equal(
        stored.reset_index(drop=True), own.sort_values("employer_id").reset_index(drop=True)
    )


def test_a_run_comparing_weighting_and_inspector_adjustment_ships_the_configured_model(
    small_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Weighted and inspector-adjusted shipped model, the other choices compared on the same
    folds, with the truth (so every plot draws every scorer)."""
    for key, value in {"CALLE_HOME": str(tmp_path), "CALLE_DATABASE_URL": ""}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = tmp_path / "train.toml"
    config.write_text(
        "[temporal]\nfolds = 1\n"
        '[selection]\nweighting = "inverse_propensity"\ncompare_weighting = true\n'
        "[inspectors]\nadjust = true\ncompare_adjustment = true\n"
    )
    assert runner.invoke(app, ["import", str(small_world)]).exit_code == 0
    trained = runner.invoke(
        app, ["train", "--config", str(config), "--truth", str(small_world / "truth"), "--json"]
    )
    assert trained.exit_code == 0, trained.output
    for scorer in ("model_unweighted", "model_unadjusted"):
        assert scorer in trained.output  # in the terminal table beside the baselines
    run_id = json.loads(trained.output.strip().splitlines()[-1])["run_id"]
    mlflow.set_tracking_uri(Settings(home=tmp_path).tracking_uri)
    client = mlflow.MlflowClient()
    summary = pd.read_csv(client.download_artifacts(run_id, "summary.csv", str(tmp_path)))
    assert {"model", "model_unweighted", "model_unadjusted"} <= set(summary["scorer"])
    params = client.get_run(run_id).data.params
    assert params["selection.weighting"] == "inverse_propensity"
    assert params["inspectors.adjust"] == "True"
    shipped = mlflow.pyfunc.load_model(f"models:/{MODEL}/1").unwrap_python_model()
    assert shipped.risk_model.neutral == {"inspector_strictness": 1.0}


@pytest.mark.parametrize(
    ("attribute", "says"), [("shoe_size", "is not a feature"), ("violations_ever", "is numeric")]
)
def test_fairness_groups_must_be_categorical_features(
    trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attribute: str, says: str
):
    monkeypatch.setenv("CALLE_HOME", str(trained["home"]))
    monkeypatch.setenv("CALLE_DATABASE_URL", "")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = tmp_path / "train.toml"
    config.write_text(f'[fairness]\nattributes = ["state", "{attribute}"]\n')
    result = runner.invoke(app, ["train", "--config", str(config)])
    assert result.exit_code != 0
    assert f"fairness.attributes: {attribute} {says}" in result.output
    assert "size_band" in result.output  # the categorical features are listed
