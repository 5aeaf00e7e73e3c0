"""The model registry's promotion gate: the ``champion`` alias moves only to a better model.

The gate compares the candidate's mean-over-folds metric (as logged by its training run)
with the current champion's, then its fairness audit: a candidate whose disparity for some
group leaves the configured band where the champion's did not is refused, whatever its
precision. The verdict is recorded on the candidate version as tags (``gate.result``,
``gate.reason``, ...), so anyone can later see why a version serves or not.
"""

from __future__ import annotations

import logging
import math
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from training.config import FairnessSection, PromotionSection
from training.experiment import FAIRNESS_TABLE, metric_key
from training.fairness import out_of_band

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


def fairness_audit(client: MlflowClient, run_id: str) -> pd.DataFrame | None:
    """The run's pooled fairness table, or None if it logged none."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run_id, FAIRNESS_TABLE, tmp)
        except (MlflowException, OSError):
            return None
        return pd.read_csv(path, dtype={"group": str, "reference": str})


def _describe(rows: pd.DataFrame, limit: int = 5) -> str:
    shown = [
        f"{r.metric} disparity of {r.attribute}={r.group} is {r.disparity:.2f}"
        for r in rows.head(limit).itertuples()
    ]
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return "; ".join(shown) + more


def fairness_verdict(
    client: MlflowClient,
    candidate_run: str,
    champion: tuple[str, str] | None,
    rule: FairnessSection,
) -> tuple[bool, str]:
    """(refuse, why): refuse where the candidate leaves the band and the champion did not.

    ``champion`` is (version, run id). Without a champion, or one whose run predates the
    audit, there is nothing to compare: the candidate passes and its groups outside the
    band are named.
    """
    band = f"{rule.band[0]:.2f}-{rule.band[1]:.2f}"
    candidate = fairness_audit(client, candidate_run)
    if candidate is None:
        return True, "its run has no fairness audit to check"
    outside = out_of_band(candidate, list(rule.gated_metrics), rule.band, rule.min_labelled)
    if champion is None or (reference := fairness_audit(client, champion[1])) is None:
        whom = "no champion" if champion is None else f"champion version {champion[0]} has none"
        if outside.empty:
            return False, f"fairness: every disparity within {band} ({whom} to compare)"
        return False, f"fairness not compared ({whom}); outside {band}: {_describe(outside)}"
    before = out_of_band(reference, list(rule.gated_metrics), rule.band, rule.min_labelled)
    known = set(zip(before["attribute"], before["group"], before["metric"], strict=True))
    keys = zip(outside["attribute"], outside["group"], outside["metric"], strict=True)
    new = outside[[key not in known for key in keys]]
    if new.empty:
        kept = f"champion version {champion[0]}'s kept"
        return False, f"fairness: no disparity leaves {band} that {kept}"
    return True, (
        f"fairness: {_describe(new)}, outside {band} where champion version {champion[0]}'s was not"
    )


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
    client: MlflowClient,
    model_name: str,
    version: str | None,
    rule: PromotionSection,
    fairness: FairnessSection | None = None,
) -> GateResult:
    """Move ``champion`` to ``version`` (default: the newest) if it beats the champion
    and, with a ``fairness`` rule, opens no new disparity outside the band."""
    version = version or latest_version(client, model_name)
    try:
        candidate = client.get_model_version(model_name, version)
    except MlflowException:
        raise RegistryError(f"{model_name} has no version {version}") from None
    key = f"mean/{metric_key('model', rule.target, rule.metric)}"
    candidate_value = _run_metric(client, candidate.run_id, key)
    champion = current_champion(client, model_name)
    champion_value = None
    champion_run: str | None = None
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
    if promoted and fairness is not None:
        against = None if champion is None or champion_run is None else (champion, champion_run)
        refuse, why = fairness_verdict(client, candidate.run_id, against, fairness)
        promoted = not refuse
        reason = f"{reason}; {why}" if not refuse else f"{why} (although {reason})"
    result = GateResult(
        promoted, reason, model_name, version, key, candidate_value, champion, champion_value
    )
    for tag, value in result.as_tags().items():
        client.set_model_version_tag(model_name, version, tag, value)
    if promoted:
        client.set_registered_model_alias(model_name, CHAMPION, version)
    log.info("gate for %s version %s: %s", model_name, version, reason)
    return result
