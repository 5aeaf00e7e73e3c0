"""Rolling-origin evaluation of the risk model against the baselines, on the same folds.

For every fold the model and each baseline rank the whole population as of the test
date. Precision at a capacity is measured on the labelled workplaces (those inspected
in the horizon) that fall within the top ``k`` of that ranking; on a synthetic world the
truth also judges the ranking over everyone (oracle efficiency), inspected or not.

Because the inspected were chosen, precision on them is biased; every fold therefore also
estimates it from lottery inspections alone and, where the chance of inspection was
modelled, by weighting each labelled workplace by its inverse (``weighted_precision_at_*``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from features.inspector_strictness import NEUTRAL
from features.inspector_strictness import SPEC as STRICTNESS_SPEC
from models.baselines import LogisticDesign, LogisticRegressionOnDesign, rule_baselines
from models.inspection_propensity import inverse_propensity_weights
from models.risk_model import OVERALL, LightGBMParams, RiskModel, fit_risk_model
from training.config import FairnessSection, InspectorSection, SelectionSection
from training.examples import ExampleBuilder
from training.fairness import fold_group_counts
from training.labels import label_column
from training.metrics import (
    average_precision,
    brier_score,
    capacity_k,
    expected_calibration_error,
    id_ranks,
    oracle_efficiency_of_orders,
    ranking_order,
    roc_auc,
)
from training.temporal_split import Fold
from training.truth import TruthFiles

log = logging.getLogger(__name__)

MODEL = "model"
#: The risk model trained the other way than the shipped one, on the same folds.
WEIGHTED = "model_weighted"
UNWEIGHTED = "model_unweighted"
ADJUSTED = "model_inspector_adjusted"
UNADJUSTED = "model_unadjusted"
ORACLE = "oracle"
#: Scorers whose scores are probabilities, so Brier and calibration mean something.
PROBABILISTIC = (MODEL, WEIGHTED, UNWEIGHTED, ADJUSTED, UNADJUSTED, "logistic")
PROPENSITY = "inspection_propensity"


def capacity_name(capacity: float | int) -> str:
    if isinstance(capacity, float) and 0 < capacity < 1:
        return f"{round(capacity * 100, 2):g}pct".replace(".", "_")
    return f"k{int(capacity)}"


@dataclass
class FoldResult:
    fold: Fold
    model: RiskModel
    metrics: pd.DataFrame  # columns: test_as_of, scorer, target, metric, value
    #: Per scorer and target, the precision at every k = 1..n on the population (for curves).
    curves: dict[tuple[str, str], np.ndarray]
    #: The shipped model's overall ranking, counted by group (:mod:`training.fairness`).
    fairness_counts: pd.DataFrame | None = None


@dataclass(frozen=True)
class Variant:
    """How a fold's risk model is trained: example weights, inspector adjustment."""

    weighted: bool = False
    inspector_adjusted: bool = False


def fit_fold_model(
    builder: ExampleBuilder,
    train_as_of: tuple[date, ...],
    params: LightGBMParams,
    max_weight: float | None = None,
    inspector_adjusted: bool = False,
) -> RiskModel:
    """Train on all but the latest training date; stop early and calibrate on the latest.

    With ``max_weight``, each training example weighs the inverse of its modelled chance
    of inspection (capped): the inspected stand for the population they were drawn from.
    With ``inspector_adjusted``, the visiting inspector's strictness is learnt from and
    then fixed to the office average for every prediction.
    """
    if len(train_as_of) < 2:
        raise ValueError(
            "a fold needs at least two training as-of dates: the latest one is the "
            "out-of-time validation set for early stopping and calibration"
        )
    x_train, l_train = builder.stacked(train_as_of[:-1])
    x_valid, l_valid = builder.examples(train_as_of[-1])
    weights = None
    if max_weight is not None:
        if PROPENSITY not in l_train or l_train[PROPENSITY].isna().any():
            raise ValueError(
                "weighted training needs the builder to model propensity on every training date"
            )
        weights = inverse_propensity_weights(l_train[PROPENSITY].to_numpy(), max_weight)
    specs, neutral = builder.specs, None
    if inspector_adjusted:
        if STRICTNESS_SPEC.name not in x_train:
            raise ValueError("inspector adjustment needs the builder's inspector_prior")
        specs, neutral = [*specs, STRICTNESS_SPEC], {STRICTNESS_SPEC.name: NEUTRAL}
    return fit_risk_model(
        x_train,
        l_train,
        x_valid,
        l_valid,
        specs,
        builder.categories,
        params,
        train_weights=weights,
        neutral=neutral,
        fit_booster=builder.compute.fit_booster,
    )


def shipped_variant(selection: SelectionSection, inspectors: InspectorSection) -> Variant:
    return Variant(selection.weighting == "inverse_propensity", inspectors.adjust)


def fold_models(
    builder: ExampleBuilder,
    train_as_of: tuple[date, ...],
    params: LightGBMParams,
    selection: SelectionSection,
    inspectors: InspectorSection | None = None,
) -> dict[str, RiskModel]:
    """The shipped model (``model``) and each compared alternative, on the same examples."""
    inspectors = inspectors or InspectorSection()
    shipped = shipped_variant(selection, inspectors)
    variants = {MODEL: shipped}
    if selection.compare_weighting:
        name = UNWEIGHTED if shipped.weighted else WEIGHTED
        variants[name] = Variant(not shipped.weighted, shipped.inspector_adjusted)
    if inspectors.compare_adjustment:
        name = UNADJUSTED if shipped.inspector_adjusted else ADJUSTED
        variants[name] = Variant(shipped.weighted, not shipped.inspector_adjusted)
    return {
        name: fit_fold_model(
            builder,
            train_as_of,
            params,
            selection.max_weight if variant.weighted else None,
            variant.inspector_adjusted,
        )
        for name, variant in variants.items()
    }


def _target_metrics(
    scores: np.ndarray,
    ids: np.ndarray,
    labelled: pd.Series,
    capacities: tuple[float | int, ...],
    truth: np.ndarray | None,
    probabilistic: bool,
    random_origin: np.ndarray | None = None,
    propensity: np.ndarray | None = None,
    labelled_at: np.ndarray | None = None,
    order: np.ndarray | None = None,
    oracle_order: np.ndarray | None = None,
) -> dict[str, float]:
    """Metrics of one ranking of the population, judged on the labelled workplaces.

    ``random_origin`` marks the labelled workplaces whose inspection was drawn by lottery,
    a far less selected sample than the planned and complaint-driven rest (a model is
    judged on the workplaces earlier rankings chose: selective labels); precision at
    capacity is also estimated from them alone (``random_precision_at_*``). ``propensity``,
    each labelled workplace's modelled chance of inspection, gives the inverse-weighted
    (Hájek) estimate ``weighted_precision_at_*``. ``labelled_at``: the labelled workplaces'
    positions in ``ids``, when the caller has them (looking them up is most of the cost of
    these metrics at a million workplaces); likewise ``order``, the ranking of ``scores``, and
    ``oracle_order``, the truth's.
    """
    if labelled_at is None:
        labelled_at = pd.Series(np.arange(len(ids)), index=ids).loc[labelled.index].to_numpy()
    if order is None:
        order = ranking_order(scores, ids)
    if truth is not None and oracle_order is None:
        oracle_order = ranking_order(truth, ids)
    rank = np.empty(len(ids), np.int64)
    rank[order] = np.arange(len(ids))
    labelled_rank = rank[labelled_at]
    y = labelled.to_numpy(np.float64)
    base_rate = float(y.mean()) if len(y) else float("nan")
    out: dict[str, float] = {"base_rate": base_rate, "labelled": float(len(y))}
    for capacity in capacities:
        name = capacity_name(capacity)
        k = capacity_k(len(ids), capacity)
        in_top = labelled_rank < k
        precision = float(y[in_top].mean()) if in_top.any() else float("nan")
        out[f"precision_at_{name}"] = precision
        out[f"recall_at_{name}"] = float(y[in_top].sum() / y.sum()) if y.sum() else float("nan")
        out[f"lift_at_{name}"] = precision / base_rate if base_rate > 0 else float("nan")
        out[f"labelled_in_top_{name}"] = float(in_top.sum())
        if random_origin is not None:
            random_in_top = in_top & random_origin
            out[f"random_precision_at_{name}"] = (
                float(y[random_in_top].mean()) if random_in_top.any() else float("nan")
            )
            out[f"random_labelled_in_top_{name}"] = float(random_in_top.sum())
        if propensity is not None:
            weight = 1.0 / np.clip(propensity[in_top], 1e-6, 1.0)
            out[f"weighted_precision_at_{name}"] = (
                float((weight * y[in_top]).sum() / weight.sum()) if in_top.any() else float("nan")
            )
        if truth is not None:
            assert oracle_order is not None
            out[f"oracle_efficiency_at_{name}"] = oracle_efficiency_of_orders(
                truth, order, oracle_order, k
            )
            out[f"true_precision_at_{name}"] = float(truth[order[:k]].mean())
    labelled_scores = scores[labelled_at]
    out["roc_auc"] = roc_auc(y, labelled_scores)
    out["average_precision"] = average_precision(y, labelled_scores)
    if probabilistic:
        out["brier"] = brier_score(y, labelled_scores)
        out["calibration_error"] = expected_calibration_error(y, labelled_scores)
    return out


def _precision_curve(order: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Expected precision (mean true probability) of the top k of a ranking, for every k."""
    ranked = truth[order]
    return np.cumsum(ranked) / np.arange(1, len(ranked) + 1)


def evaluate_fold(
    builder: ExampleBuilder,
    fold: Fold,
    params: LightGBMParams,
    capacities: tuple[float | int, ...],
    truth_files: TruthFiles | None = None,
    seed: int = 0,
    selection: SelectionSection | None = None,
    fairness: FairnessSection | None = None,
    inspectors: InspectorSection | None = None,
) -> FoldResult:
    selection = selection or SelectionSection(propensity=builder.propensity)
    models = fold_models(builder, fold.train_as_of, params, selection, inspectors)
    x_train, l_train = builder.stacked(fold.train_as_of)
    population, test_labels = builder.population_and_labels(fold.test_as_of)
    ids = population.index.to_numpy().astype(str)
    id_index = pd.Index(ids)
    tie_break = id_ranks(ids)  # sorts as the ids do, many times faster
    predicted = {name: m.predict(population) for name, m in models.items()}
    truth = truth_files.for_fold(fold.test_as_of) if truth_files else None
    design = LogisticDesign(builder.specs)
    train_design, population_design = design.fit_transform(x_train), design.transform(population)
    rows: list[dict[str, object]] = []
    curves: dict[tuple[str, str], np.ndarray] = {}
    for target in [OVERALL, *builder.categories]:
        column = label_column(None if target == OVERALL else target)
        labelled = test_labels[column].dropna()
        labelled_at = id_index.get_indexer(labelled.index.astype(str))
        if (labelled_at < 0).any():
            raise ValueError(f"fold {fold.test_as_of}: labelled workplaces outside the population")
        random_origin = (test_labels.loc[labelled.index, "origin"] == "random").to_numpy()
        propensity = (
            test_labels.loc[labelled.index, PROPENSITY].to_numpy()
            if PROPENSITY in test_labels
            else None
        )
        known_train = l_train[column].notna().to_numpy()
        target_truth = None
        if truth is not None:
            target_truth = truth[f"p_{target}"].reindex(population.index).fillna(0).to_numpy()
        scorers = {name: p[f"p_{target}"].to_numpy() for name, p in predicted.items()}
        for baseline in rule_baselines(target, seed):
            scorers[baseline.name] = baseline.score(population)
        y_train = l_train.loc[known_train, column].to_numpy()
        if y_train.min() < y_train.max():  # one class only: a logistic fit is meaningless
            logistic = LogisticRegressionOnDesign(seed).fit(train_design[known_train], y_train)
            scorers[logistic.name] = logistic.score(population_design)
        if target_truth is not None:
            scorers[ORACLE] = target_truth
        oracle_order = None if target_truth is None else ranking_order(target_truth, tie_break)
        for name, scores in scorers.items():
            order = ranking_order(scores, tie_break)
            metrics = _target_metrics(
                scores,
                ids,
                labelled,
                capacities,
                target_truth,
                name in PROBABILISTIC,
                random_origin,
                propensity,
                labelled_at,
                order,
                oracle_order,
            )
            rows += [
                {
                    "test_as_of": fold.test_as_of,
                    "scorer": name,
                    "target": target,
                    "metric": metric,
                    "value": value,
                }
                for metric, value in metrics.items()
            ]
            if target_truth is not None:
                curves[(name, target)] = _precision_curve(order, target_truth)
    fairness_counts = None
    if fairness is not None:
        labelled = test_labels[label_column(None)].dropna()
        fairness_counts = fold_group_counts(
            population,
            predicted[MODEL][f"p_{OVERALL}"].to_numpy(),
            labelled,
            test_labels.loc[labelled.index, "origin"] == "random",
            capacity_k(len(ids), fairness.capacity),
            fairness.attributes,
        )
        fairness_counts.insert(0, "test_as_of", fold.test_as_of)
    log.info("fold %s evaluated: %d labelled test examples", fold.test_as_of, len(test_labels))
    return FoldResult(fold, models[MODEL], pd.DataFrame(rows), curves, fairness_counts)


def summarise(results: list[FoldResult]) -> pd.DataFrame:
    """Mean over folds of every metric: rows (scorer, target), one column per metric."""
    metrics = pd.concat([r.metrics for r in results], ignore_index=True)
    return metrics.pivot_table(
        index=["scorer", "target"], columns="metric", values="value", aggfunc="mean"
    )
