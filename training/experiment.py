"""One training run: evaluate on rolling folds, fit the model to ship, record it all in MLflow.

The run holds the configuration, the dataset fingerprint and as-of dates, every metric per
fold (step = fold number) and its mean over folds, the feature catalogue, the plots and the
model itself (signature and input example), registered under the configured name.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import mlflow
import pandas as pd
import sqlalchemy as sa
from mlflow.models import infer_signature
from tqdm import tqdm

from calle.config_files import ConfigError
from calle.settings import Settings
from calle.store import open_store
from features.catalogue import Kind, render_markdown
from features.frames import ContractFrames
from features.matrix import attribute_kinds_of, feature_specs
from features.store_frames import load_frames
from models.packaging import RiskModelPyfunc, as_records, pip_requirements
from models.risk_model import RiskModel
from training import plots
from training.compute import IN_PROCESS, Compute
from training.config import TrainConfig
from training.evaluation import (
    FoldResult,
    capacity_name,
    evaluate_fold,
    fit_fold_model,
    shipped_variant,
    summarise,
)
from training.examples import ExampleBuilder
from training.fairness import fairness_table, out_of_band
from training.monitoring import REFERENCE_ARTIFACT, reference_profile
from training.temporal_split import Fold, TemporalConfig, temporal_folds
from training.truth import TruthFiles

log = logging.getLogger(__name__)

#: The run artifact holding the fairness audit, which the promotion gate reads.
FAIRNESS_TABLE = "fairness.csv"


@dataclass
class TrainingResult:
    run_id: str
    model_name: str
    model_version: str
    summary: pd.DataFrame  # mean over folds: rows (scorer, target), columns metrics
    folds: list[Fold]
    model: RiskModel

    def headline(self, metric: str, target: str = "any") -> dict[str, float]:
        """One metric for every scorer, e.g. ``precision_at_5pct``."""
        column = self.summary[metric] if metric in self.summary else pd.Series(dtype=float)
        return {scorer: float(v) for (scorer, t), v in column.items() if t == target}


def temporal_config(config: TrainConfig, frames: ContractFrames) -> TemporalConfig:
    """The configured folds, defaults filled in from the data on record."""
    dates = frames.inspections["date"]
    if dates.empty:
        raise ConfigError("the store holds no inspections: import data before training")
    section = config.temporal
    last_day = section.last_day or frames.last_event_day()
    first_as_of = section.first_as_of or dates.min().date() + timedelta(days=365)
    return TemporalConfig(
        first_as_of=first_as_of,
        last_day=last_day,
        horizon_days=section.horizon_days,
        update_every=section.update_every,
        train_every=section.train_every,
        max_training_history=section.max_training_history,
        folds=section.folds,
    )


def metric_key(scorer: str, target: str, metric: str) -> str:
    return f"{scorer}/{target}/{metric}"


def _flat_params(config: TrainConfig, temporal: TemporalConfig) -> dict[str, object]:
    params: dict[str, object] = {}
    for section in ("temporal", "model", "promotion", "selection", "inspectors"):
        for key, value in getattr(config, section).model_dump().items():
            params[f"{section}.{key}"] = value
    params.update(
        {
            "temporal.first_as_of": temporal.first_as_of,
            "temporal.last_day": temporal.last_day,
            "capacities": config.capacities,
            "seed": config.seed,
        }
    )
    return params


def _log_metrics(results: list[FoldResult], summary: pd.DataFrame) -> None:
    for step, result in enumerate(results):
        values = {
            metric_key(r.scorer, r.target, r.metric): float(r.value)
            for r in result.metrics.itertuples()
            if pd.notna(r.value)
        }
        mlflow.log_metrics(values, step=step)
    means = {
        f"mean/{metric_key(scorer, target, metric)}": float(value)
        for (scorer, target), row in summary.iterrows()
        for metric, value in row.items()
        if pd.notna(value)
    }
    mlflow.log_metrics(means)


def _log_artifacts(
    builder: ExampleBuilder,
    results: list[FoldResult],
    summary: pd.DataFrame,
    final: RiskModel,
    config: TrainConfig,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        (out / "feature_catalogue.md").write_text(render_markdown(builder.specs) + "\n")
        pd.concat([r.metrics for r in results]).to_csv(out / "fold_metrics.csv", index=False)
        summary.to_csv(out / "summary.csv")
        (out / "config.json").write_text(config.model_dump_json(indent=2))
        last = results[-1]
        if ("model", "any") in last.curves:
            curves = {s: c for (s, t), c in last.curves.items() if t == "any"}
            plots.precision_curves(
                curves, f"Precision at k, fold {last.fold.test_as_of}", out / "precision_at_k.png"
            )
        plots.precision_bars(
            summary, [capacity_name(c) for c in config.capacities], out / "precision_bars.png"
        )
        x_test, l_test = builder.examples(last.fold.test_as_of)
        plots.calibration_plot(
            l_test["label"].to_numpy(),
            last.model.predict(x_test)["p_any"].to_numpy(),
            f"Calibration, fold {last.fold.test_as_of}",
            out / "calibration.png",
        )
        plots.importance_plot(final.feature_importance(), out / "feature_importance.png")
        mlflow.log_artifacts(str(out))


def _check_fairness_attributes(
    config: TrainConfig, frames: ContractFrames, categories: list[str]
) -> None:
    kinds = {s.name: s.kind for s in feature_specs(categories, attribute_kinds_of(frames))}
    grouping = sorted(name for name, kind in kinds.items() if kind == Kind.CATEGORICAL)
    unknown = [a for a in config.fairness.attributes if a not in kinds]
    if unknown:
        raise ConfigError(
            f"fairness.attributes: {', '.join(unknown)} is not a feature of this data "
            f"(categorical features: {', '.join(grouping)})"
        )
    numeric = [a for a in config.fairness.attributes if kinds[a] != Kind.CATEGORICAL]
    if numeric:
        raise ConfigError(
            f"fairness.attributes: {', '.join(numeric)} is numeric; groups come from "
            f"categorical features: {', '.join(grouping)}"
        )


def _log_fairness(results: list[FoldResult], config: TrainConfig) -> pd.DataFrame:
    """The pooled audit as a table and a plot, and how many groups leave the band."""
    fairness = config.fairness
    table = fairness_table([r.fairness_counts for r in results if r.fairness_counts is not None])
    outside = out_of_band(table, fairness.gated_metrics, fairness.band, fairness.min_labelled)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        table.to_csv(out / FAIRNESS_TABLE, index=False)
        metrics = list(fairness.gated_metrics)
        plots.fairness_plot(table, metrics, fairness.band, out / "fairness.png")
        mlflow.log_artifacts(str(out))
    mlflow.log_metric("fairness/groups_out_of_band", len(outside))
    for row in outside.itertuples():
        log.warning(
            "fairness: %s=%s has a %s disparity of %.2f (band %.2f-%.2f)",
            row.attribute,
            row.group,
            row.metric,
            row.disparity,
            *fairness.band,
        )
    return table


def use_experiment(settings: Settings, name: str) -> None:
    """Select (creating if needed) the experiment whose runs hold this training.

    With the embedded tracking store, artifacts go under ``CALLE_HOME/mlartifacts``: MLflow's
    own default is ``./mlruns`` in whatever folder the command runs from. A tracking
    server (``MLFLOW_TRACKING_URI``) keeps its own artifact store.
    """
    client = mlflow.MlflowClient()
    if client.get_experiment_by_name(name) is None:
        location = None
        if not settings.mlflow_tracking_uri:
            location = (settings.home / "mlartifacts").resolve().as_uri()
        client.create_experiment(name, artifact_location=location)
    mlflow.set_experiment(name)


def train(
    settings: Settings,
    config: TrainConfig,
    truth_folder: Path | None = None,
    engine: sa.Engine | None = None,
    compute: Compute = IN_PROCESS,
) -> TrainingResult:
    """Evaluate on the configured folds, fit the model to ship, log and register it;
    features and boosters where ``compute`` says (:func:`training.compute.open_compute`)."""
    own_engine = engine is None
    engine = engine or open_store(settings)
    try:
        frames = load_frames(engine)
    finally:
        if own_engine:
            engine.dispose()
    categories = config.categories or list(settings.categories)
    temporal = temporal_config(config, frames)
    _check_fairness_attributes(config, frames, categories)
    folds = temporal_folds(temporal)
    if not folds:
        raise ConfigError(
            f"not enough history for one fold between {temporal.first_as_of} and "
            f"{temporal.last_day} with horizon_days={temporal.horizon_days}: a fold needs "
            "two training dates and a test date, each with a full label window"
        )
    truth = TruthFiles(truth_folder) if truth_folder else None
    selection, inspectors = config.selection, config.inspectors
    wants_inspectors = inspectors.adjust or inspectors.compare_adjustment
    weighted = selection.weighting != "none" or selection.compare_weighting
    builder = ExampleBuilder(
        frames,
        categories,
        temporal.horizon_days,
        selection.propensity,
        config.seed,
        inspectors.prior_inspections if wants_inspectors else None,
        compute,
        # unweighted training reads the chance of inspection only where a fold is tested
        propensity_dates=None if weighted else [fold.test_as_of for fold in folds],
    )
    params = config.model.params(config.seed)
    if compute.booster_workers > 1 and params.drawn_per_worker:
        log.warning(
            "growing each booster on %d Dask workers with %s: each worker draws or bins on "
            "its own, so the model is further from the one grown in one process",
            compute.booster_workers,
            ", ".join(params.drawn_per_worker),
        )
    capacities = tuple(config.capacities)
    results = [
        evaluate_fold(
            builder,
            fold,
            params,
            capacities,
            truth,
            config.seed,
            selection,
            config.fairness,
            inspectors,
        )
        for fold in tqdm(folds, desc="folds", unit="fold", disable=None)
    ]
    summary = summarise(results)
    last = folds[-1]
    shipped = shipped_variant(selection, inspectors)
    final = fit_fold_model(
        builder,
        (*last.train_as_of, last.test_as_of),
        params,
        selection.max_weight if shipped.weighted else None,
        shipped.inspector_adjusted,
    )
    ship_as_of: date = last.test_label_end
    shipped_population = builder.population(ship_as_of)
    reference = reference_profile(final, shipped_population, ship_as_of, config.seed)
    sample = shipped_population.head(5)
    del shipped_population
    example = as_records(sample)

    mlflow.set_tracking_uri(settings.tracking_uri)
    use_experiment(settings, config.experiment)
    with mlflow.start_run() as run:
        mlflow.log_params(_flat_params(config, temporal))
        mlflow.set_tags(
            {
                "dataset_fingerprint": frames.fingerprint(),
                "test_as_of": ",".join(str(f.test_as_of) for f in folds),
                "train_as_of": ",".join(str(d) for d in (*last.train_as_of, last.test_as_of)),
                "categories": ",".join(categories),
                "truth": str(truth_folder) if truth_folder else "",
            }
        )
        _log_metrics(results, summary)
        _log_artifacts(builder, results, summary, final, config)
        _log_fairness(results, config)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=RiskModelPyfunc(final),
            signature=infer_signature(
                example,
                final.predict(sample).reset_index(drop=True),
            ),
            input_example=example,
            pip_requirements=pip_requirements(),
            registered_model_name=config.registered_model,
        )
        mlflow.log_dict(final.describe(), "model_description.json")
        mlflow.log_dict(reference, REFERENCE_ARTIFACT)
    version = str(info.registered_model_version)
    log.info("run %s registered %s version %s", run.info.run_id, config.registered_model, version)
    return TrainingResult(run.info.run_id, config.registered_model, version, summary, folds, final)


def describe_result(result: TrainingResult, capacities: list[float | int]) -> str:
    """The figures a data scientist wants on the terminal after training."""
    lines = [
        f"Registered {result.model_name} version {result.model_version} (run {result.run_id})",
        f"Folds tested at: {', '.join(str(f.test_as_of) for f in result.folds)}",
        "Mean over folds, overall risk (precision on inspected workplaces in the top k):",
    ]
    names = [capacity_name(c) for c in capacities]
    header = f"  {'scorer':<18}" + "".join(f"{'P@' + n:>11}" for n in names) + f"{'AUC':>8}"
    lines.append(header)
    overall = result.summary.xs("any", level="target")
    for scorer, row in overall.iterrows():
        cells = "".join(f"{row.get(f'precision_at_{n}', float('nan')):>11.3f}" for n in names)
        lines.append(f"  {scorer:<18}{cells}{row.get('roc_auc', float('nan')):>8.3f}")
    if "oracle_efficiency_at_5pct" in overall:
        eff = overall["oracle_efficiency_at_5pct"].dropna()
        lines.append(
            "Oracle efficiency at 5% (truth over all workplaces): "
            + ", ".join(f"{s} {v:.3f}" for s, v in eff.items())
        )
    return "\n".join(lines)


def result_json(result: TrainingResult) -> str:
    return json.dumps(
        {
            "run_id": result.run_id,
            "model": result.model_name,
            "version": result.model_version,
            "precision_at_5pct": result.headline("precision_at_5pct"),
        },
        sort_keys=True,
    )
