"""The model registry's promotion gate: the ``champion`` alias moves only to a better model.

The gate compares the candidate's mean-over-folds metric (as logged by its training run)
with the current champion's, and records its verdict on the candidate version as tags
(``gate.result``, ``gate.reason``, ...), so anyone can later see why a version serves or not.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from training.config import PromotionSection
from training.experiment import metric_key

log = logging.getLogger(__name__)

CHAMPION = "champion"


class RegistryError(ValueError):
    """A version or model that the registry does not hold."""


@dataclass(frozen=True)
class GateResult:
    promoted: bool
    reason: str
    model_name: str
    version: str
    metric: str
    candidate_value: float
    champion_version: str | None
    champion_value: float | None

    def as_tags(self) -> dict[str, str]:
        return {
            "gate.result": "promoted" if self.promoted else "refused",
            "gate.reason": self.reason,
            "gate.metric": self.metric,
            "gate.candidate_value": f"{self.candidate_value:.6f}",
            "gate.champion_version": self.champion_version or "",
            "gate.champion_value": ""
            if self.champion_value is None
            else f"{self.champion_value:.6f}",
            "gate.checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }


def _run_metric(client: MlflowClient, run_id: str, key: str) -> float:
    value = client.get_run(run_id).data.metrics.get(key)
    return float("nan") if value is None else float(value)


def current_champion(client: MlflowClient, model_name: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(model_name, CHAMPION).version)
    except MlflowException:
        return None


def latest_version(client: MlflowClient, model_name: str) -> str:
    versions = client.search_model_versions(f"name = '{model_name}'")
    if not versions:
        raise RegistryError(f"no registered model {model_name!r}: train one first")
    return str(max(int(v.version) for v in versions))


def promote(
    client: MlflowClient, model_name: str, version: str | None, rule: PromotionSection
) -> GateResult:
    """Move ``champion`` to ``version`` (default: the newest) if it beats the champion."""
    version = version or latest_version(client, model_name)
    try:
        candidate = client.get_model_version(model_name, version)
    except MlflowException:
        raise RegistryError(f"{model_name} has no version {version}") from None
    key = f"mean/{metric_key('model', rule.target, rule.metric)}"
    candidate_value = _run_metric(client, candidate.run_id, key)
    champion = current_champion(client, model_name)
    champion_value = None
    if math.isnan(candidate_value):
        promoted, reason = False, f"version {version}'s run has no metric {key}"
    elif champion is None:
        promoted, reason = True, f"no champion yet; {key} = {candidate_value:.4f}"
    elif champion == version:
        promoted, reason = False, f"version {version} is already the champion"
    else:
        champion_run = client.get_model_version(model_name, champion).run_id
        champion_value = _run_metric(client, champion_run, key)
        if math.isnan(champion_value) or candidate_value > champion_value:
            promoted = True
            reason = (
                f"{key} {candidate_value:.4f} beats champion version {champion}'s "
                f"{champion_value:.4f}"
            )
        else:
            promoted = False
            reason = (
                f"{key} {candidate_value:.4f} does not beat champion version "
                f"{champion}'s {champion_value:.4f}"
            )
    result = GateResult(
        promoted, reason, model_name, version, key, candidate_value, champion, champion_value
    )
    for tag, value in result.as_tags().items():
        client.set_model_version_tag(model_name, version, tag, value)
    if promoted:
        client.set_registered_model_alias(model_name, CHAMPION, version)
    log.info("gate for %s version %s: %s", model_name, version, reason)
    return result
