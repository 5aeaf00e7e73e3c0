"""``GET /api/v1/models`` and ``/models/{version}``: the registered risk models and their evidence.

A data scientist deciding whether to trust (or roll back) the serving model wants, per
version: when it was made, from which run, what the promotion gate said (its ``gate.*``
tags) and its mean-over-folds metrics beside the baselines' on the same folds. All of it is
read from the MLflow registry at ``settings.tracking_uri``, never copied into the store, so
the registry stays the one source of truth (training/registry.py writes it).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from pydantic import BaseModel, ConfigDict, Field

from calle.settings import Settings
from service.auth import require
from service.dependencies import EngineDep, FollowerDep, SettingsDep
from service.keys import ApiKey
from service.model_follower import CHAMPION
from service.problems import Problem, problem_responses
from service.roles import Role
from service.snapshots import SERVED_MODEL
from training.monitoring import latest_report, realised_hit_rates

#: The name `calle train` registers under (training.config.TrainConfig.registered_model).
MODEL_NAME = SERVED_MODEL
#: The overall target, whose metrics are the headline ones.
OVERALL = "any"
GATE_PREFIX = "gate."
MEAN_PREFIX = "mean/"

_EXAMPLE_VERSION = {
    "version": "2",
    "created_at": "2026-11-20T09:12:44.512000Z",
    "run_id": "5b1f0c9a8e3d4f2a9c7b6e5d4c3b2a10",
    "status": "READY",
    "champion": True,
    "aliases": ["champion"],
    "gate": {
        "result": "promoted",
        "reason": "mean/model/any/precision_at_5pct 0.6120 beats champion version 1's 0.5930",
        "metric": "mean/model/any/precision_at_5pct",
        "candidate_value": "0.612000",
        "champion_version": "1",
        "champion_value": "0.593000",
        "checked_at": "2026-11-20T09:13:02+00:00",
    },
    "metrics": {
        "model": {"precision_at_5pct": 0.612, "roc_auc": 0.781},
        "business_as_usual": {"precision_at_5pct": 0.402, "roc_auc": 0.655},
        "random": {"precision_at_5pct": 0.231, "roc_auc": 0.5},
    },
}


class RegisteredVersion(BaseModel):
    version: str
    created_at: datetime
    run_id: str | None = Field(description="The MLflow run that trained it.")
    status: str = Field(description="MLflow's status of the version, e.g. `READY`.")
    champion: bool = Field(description="Whether the `champion` alias (the served model) is on it.")
    aliases: list[str]
    gate: dict[str, str] = Field(
        description="The promotion gate's verdict (its `gate.*` tags, without the prefix); "
        "empty if the gate never ran on it."
    )
    metrics: dict[str, dict[str, float]] = Field(
        description="Mean over the evaluation folds, overall target, per scorer: `model` and "
        "the baselines (`random`, `business_as_usual`, `cell_rate`, `logistic`, `oracle` when "
        "truth was given) evaluated on the same folds."
    )


class RegisteredVersionDetail(RegisteredVersion):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE_VERSION,
                    "model_name": MODEL_NAME,
                    "by_category": {
                        "safety_health": {"precision_at_5pct": 0.301, "roc_auc": 0.744}
                    },
                }
            ]
        }
    )

    model_name: str
    by_category: dict[str, dict[str, float]] = Field(
        description="The model's own mean-over-folds metrics per finding category."
    )


class ModelCatalogue(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"model_name": MODEL_NAME, "champion": "2", "versions": [_EXAMPLE_VERSION]}
            ]
        }
    )

    model_name: str
    champion: str | None = Field(description="The version being served; null before promotion.")
    versions: list[RegisteredVersion] = Field(description="Every version, newest first.")


router = APIRouter(tags=["models"])


def _client(settings: Settings) -> MlflowClient:
    return MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)


def _unavailable(error: MlflowException) -> Problem:
    return Problem(503, "registry-unavailable", f"The model registry did not answer: {error}")


def _run_metrics(client: MlflowClient, run_id: str | None) -> dict[str, dict[str, float]]:
    """The run's ``mean/<scorer>/<target>/<metric>`` metrics as {(scorer, target): {metric}}."""
    if not run_id:
        return {}
    out: dict[str, dict[str, float]] = {}
    for key, value in client.get_run(run_id).data.metrics.items():
        if not key.startswith(MEAN_PREFIX):
            continue
        parts = key[len(MEAN_PREFIX) :].split("/")
        if len(parts) == 3:
            scorer, target, metric = parts
            out.setdefault(f"{scorer}/{target}", {})[metric] = float(value)
    return out


def _aliases(client: MlflowClient) -> dict[str, list[str]]:
    """Each version's aliases; {} while nothing is registered.

    Read from the registered model because version searches leave aliases out.
    """
    try:
        model = client.get_registered_model(MODEL_NAME)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            return {}
        raise
    out: dict[str, list[str]] = {}
    for alias, version in sorted((model.aliases or {}).items()):
        out.setdefault(str(version), []).append(alias)
    return out


def _registered(client: MlflowClient, version: str) -> ModelVersion:
    """The registered version, or a 404 naming it (503 if the registry does not answer)."""
    try:
        return client.get_model_version(MODEL_NAME, version)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise _unavailable(error) from error
        raise Problem(
            404, "unknown-model-version", f"{MODEL_NAME} has no version {version}."
        ) from None


#: Run artifacts the dashboard may show: the plots every training run logs.
PLOTS = (
    "precision_at_k.png",
    "precision_bars.png",
    "calibration.png",
    "fairness.png",
    "feature_importance.png",
)


def run_plots(settings: Settings, version: str) -> list[str]:
    """Which of :data:`PLOTS` the version's training run logged (some need the truth)."""
    client = _client(settings)
    try:
        run_id = _registered(client, version).run_id
        logged = {artifact.path for artifact in client.list_artifacts(run_id)}
    except MlflowException as error:
        raise _unavailable(error) from error
    return [name for name in PLOTS if name in logged]


def run_plot(settings: Settings, version: str, name: str) -> bytes:
    """A plot logged by the version's training run; 404 if it has none of that name."""
    if name not in PLOTS:
        raise Problem(404, "not-found", f"No plot {name!r}; plots: {', '.join(PLOTS)}.")
    client = _client(settings)
    run_id = _registered(client, version).run_id
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run_id, name, tmp)
        except (MlflowException, OSError):
            raise Problem(404, "not-found", f"Version {version}'s run logged no {name}.") from None
        return FilePath(path).read_bytes()


def _version(
    version: ModelVersion, aliases: list[str], means: dict[str, dict[str, float]]
) -> dict[str, object]:
    return {
        "version": str(version.version),
        "created_at": datetime.fromtimestamp(version.creation_timestamp / 1000, UTC),
        "run_id": version.run_id or None,
        "status": str(version.status),
        "champion": CHAMPION in aliases,
        "aliases": aliases,
        "gate": {
            tag[len(GATE_PREFIX) :]: value
            for tag, value in sorted((version.tags or {}).items())
            if tag.startswith(GATE_PREFIX)
        },
        "metrics": {
            key.split("/")[0]: metrics
            for key, metrics in sorted(means.items())
            if key.endswith(f"/{OVERALL}")
        },
    }


@router.get(
    "/models",
    response_model=ModelCatalogue,
    summary="The registered risk model's versions, the champion, gate verdicts and metrics",
    description="Read from the MLflow registry. Before the first `calle train` the list is "
    "empty and `champion` null. 503 if the registry cannot be read.",
    responses=problem_responses(401, 403, 503),
)
def list_models(
    settings: SettingsDep,
    _key: Annotated[ApiKey, Depends(require(Role.data_scientist))],
) -> ModelCatalogue:
    return model_catalogue(settings)


def model_catalogue(settings: Settings) -> ModelCatalogue:
    """Every version, newest first, and the champion; 503 if the registry does not answer."""
    client = _client(settings)
    try:
        aliases = _aliases(client)
        versions = client.search_model_versions(f"name = '{MODEL_NAME}'")
        items = [
            RegisteredVersion(
                **_version(v, aliases.get(str(v.version), []), _run_metrics(client, v.run_id))
            )
            for v in versions
        ]
    except MlflowException as error:
        raise _unavailable(error) from error
    items.sort(key=lambda v: int(v.version), reverse=True)
    champion = next((v.version for v in items if v.champion), None)
    return ModelCatalogue(model_name=MODEL_NAME, champion=champion, versions=items)


@router.get(
    "/models/{version}",
    response_model=RegisteredVersionDetail,
    summary="One registered version: gate verdict and metrics, overall and per category",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def model_version(
    settings: SettingsDep,
    _key: Annotated[ApiKey, Depends(require(Role.data_scientist))],
    version: Annotated[
        str, Path(pattern=r"^[0-9]{1,9}$", description="The version number, e.g. `3`.")
    ],
) -> RegisteredVersionDetail:
    client = _client(settings)
    found = _registered(client, version)
    try:
        means = _run_metrics(client, found.run_id)
        aliases = _aliases(client).get(str(found.version), [])
    except MlflowException as error:
        raise _unavailable(error) from error
    by_category = {
        key.split("/")[1]: metrics
        for key, metrics in sorted(means.items())
        if key.startswith("model/") and not key.endswith(f"/{OVERALL}")
    }
    return RegisteredVersionDetail(
        **_version(found, aliases, means), model_name=MODEL_NAME, by_category=by_category
    )


DriftStatus = Literal["stable", "moving", "shifted"]


class FeatureDrift(BaseModel):
    feature: str
    psi: float = Field(description="Population stability index, training population → latest.")
    status: DriftStatus = Field(
        description="`stable` below 0.1, `shifted` from `CALLE_DRIFT_WARNING_PSI` on."
    )


class ScoreDrift(BaseModel):
    target: str
    psi: float
    status: DriftStatus
    reference_mean: float | None = Field(description="Mean probability at training.")
    mean: float | None = Field(description="Mean probability in the latest snapshot.")


class HitRate(BaseModel):
    target: str
    inspections: int = Field(description="Inspections since the version's first snapshot.")
    observed_rate: float | None = Field(description="Share that found a violation.")
    predicted_rate: float | None = Field(
        description="Mean probability the version gave those workplaces before the visit."
    )
    z: float | None = Field(description="(found − expected) in standard errors.")
    status: Literal["no inspections yet", "too few", "as predicted", "off"]


class Monitoring(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_name": MODEL_NAME,
                    "version": "2",
                    "snapshot_id": "20261202-1a2b3c4d",
                    "as_of": "2026-12-02",
                    "reference_as_of": "2025-12-31",
                    "warn_at_psi": 0.25,
                    "features": [{"feature": "complaints_365d", "psi": 0.041, "status": "stable"}],
                    "scores": [
                        {
                            "target": "any",
                            "psi": 0.012,
                            "status": "stable",
                            "reference_mean": 0.081,
                            "mean": 0.079,
                        }
                    ],
                    "hit_rate": [
                        {
                            "target": "any",
                            "inspections": 412,
                            "observed_rate": 0.47,
                            "predicted_rate": 0.45,
                            "z": 0.84,
                            "status": "as predicted",
                        }
                    ],
                    "warnings": [],
                }
            ]
        }
    )

    model_name: str
    version: str
    snapshot_id: str | None = Field(description="The latest snapshot scored by this version.")
    as_of: date | None = Field(description="That snapshot's as-of date.")
    reference_as_of: date | None = Field(description="The population the version was shipped for.")
    warn_at_psi: float
    features: list[FeatureDrift] = Field(description="Every model feature, most shifted first.")
    scores: list[ScoreDrift]
    hit_rate: list[HitRate]
    warnings: list[str] = Field(description="What a data scientist should look at, in words.")


@router.get(
    "/models/{version}/monitoring",
    response_model=Monitoring,
    summary="Drift of a version's features and scores since training, and its realised hit rate",
    description="Drift is measured by `calle score` on each snapshot against the population "
    "the version was trained for (PSI); the hit rate is computed now, from the inspections "
    "recorded since the version's first snapshot, each judged by the latest snapshot made "
    "before it.",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def model_monitoring(
    settings: SettingsDep,
    engine: EngineDep,
    _key: Annotated[ApiKey, Depends(require(Role.data_scientist))],
    version: Annotated[
        str, Path(pattern=r"^[0-9]{1,9}$", description="The version number, e.g. `3`.")
    ],
) -> Monitoring:
    _registered(_client(settings), version)
    stored = latest_report(engine, MODEL_NAME, version)
    rates = realised_hit_rates(engine, MODEL_NAME, version, settings.hit_rate_warning_z)
    warnings: list[str] = []
    report: dict = {}
    snapshot_id = None
    if stored is None:
        warnings.append(
            f"no snapshot scored by version {version} carries a drift report: run `calle score` "
            "with it as champion"
        )
    else:
        snapshot_id, report = stored
        warnings += report["warnings"]
    warnings += [
        f"hit rate of {r.target}: {r.observed_rate:.3f} found vs {r.predicted_rate:.3f} "
        f"predicted over {r.inspections} inspections (z = {r.z})"
        for r in rates
        if r.status == "off"
    ]
    return Monitoring(
        model_name=MODEL_NAME,
        version=version,
        snapshot_id=snapshot_id,
        as_of=report.get("as_of"),
        reference_as_of=report.get("reference_as_of"),
        warn_at_psi=report.get("warn_at_psi", settings.drift_warning_psi),
        features=report.get("features", []),
        scores=report.get("scores", []),
        hit_rate=[asdict(r) for r in rates],
        warnings=warnings,
    )


class Reload(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_name": MODEL_NAME,
                    "champion": "3",
                    "serving_version": "3",
                    "previous_version": "2",
                    "changed": True,
                    "checked_at": "2026-11-23T10:02:11Z",
                }
            ]
        }
    )

    model_name: str
    champion: str = Field(description="The version the `champion` alias names now.")
    serving_version: str = Field(description="The version `POST /score` now scores with.")
    previous_version: str | None = Field(description="The version served before this check.")
    changed: bool = Field(description="Whether this check swapped the model.")
    checked_at: datetime


@router.post(
    "/models/reload",
    response_model=Reload,
    summary="Check the registry's champion now and swap to it if it moved (admin)",
    description="The service also checks on its own every `CALLE_MODEL_POLL_SECONDS`. The new "
    "version is loaded before the swap, so requests in flight are answered by the old or the "
    "new model, never by neither. If the registry does not answer or the champion fails to "
    "load: 503, and the service keeps serving the version it had.",
    responses=problem_responses(401, 403, 503),
)
def reload_model(
    follower: FollowerDep,
    _key: Annotated[ApiKey, Depends(require(Role.admin))],
) -> Reload:
    before = follower.served
    state = follower.check()
    if state.error is not None or state.served is None or state.champion is None:
        still = "nothing" if state.served is None else f"version {state.served.version}"
        raise Problem(503, "model-not-reloaded", f"{state.error}; still serving {still}.")
    previous = None if before is None else before.version
    return Reload(
        model_name=MODEL_NAME,
        champion=state.champion,
        serving_version=state.served.version,
        previous_version=previous,
        changed=previous != state.served.version,
        checked_at=state.checked_at or datetime.now(UTC),
    )
