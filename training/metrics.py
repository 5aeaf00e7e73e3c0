"""Ranking and probability metrics, as pure functions of arrays.

Targeting is a ranking problem under capacity: an inspectorate visits the top ``k``
workplaces, so the headline figures are precision and recall at ``k``. Rankings break
ties by employer id (:func:`ranking_order`), so every figure is deterministic.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def ranking_order(scores: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Positions sorted by score descending, ties by id ascending.

    ``ids`` are employer ids, or (faster, for many rankings of one population) their
    :func:`id_ranks`.
    """
    ids = np.asarray(ids)
    keys = ids if np.issubdtype(ids.dtype, np.integer) else ids.astype(str)
    return np.lexsort((keys, -np.asarray(scores, dtype=np.float64)))


def id_ranks(ids: np.ndarray) -> np.ndarray:
    """Each id's position in id order: ranks break ties as the ids do, as integers."""
    ranks = np.empty(len(ids), np.int64)
    ranks[np.argsort(np.asarray(ids).astype(str), kind="stable")] = np.arange(len(ids))
    return ranks


def capacity_k(n: int, capacity: float | int) -> int:
    """A capacity as a share of the population (0 < c < 1) or an absolute number of visits."""
    if isinstance(capacity, float) and 0 < capacity < 1:
        return max(1, round(n * capacity))
    k = int(capacity)
    if k < 1:
        raise ValueError(f"capacity {capacity!r} must be a share in (0, 1) or a count >= 1")
    return min(k, n)


def precision_at_k(y_true: np.ndarray, scores: np.ndarray, ids: np.ndarray, k: int) -> float:
    """Share of the ``k`` top-ranked examples that are positive."""
    top = ranking_order(scores, ids)[:k]
    return float(np.asarray(y_true, dtype=np.float64)[top].mean()) if k else float("nan")


def recall_at_k(y_true: np.ndarray, scores: np.ndarray, ids: np.ndarray, k: int) -> float:
    """Share of all positives found among the ``k`` top-ranked examples."""
    y = np.asarray(y_true, dtype=np.float64)
    positives = y.sum()
    if positives == 0:
        return float("nan")
    return float(y[ranking_order(scores, ids)[:k]].sum() / positives)


def lift_at_k(y_true: np.ndarray, scores: np.ndarray, ids: np.ndarray, k: int) -> float:
    """Precision at ``k`` over the base rate: how much better than picking at random."""
    base = float(np.mean(y_true))
    return precision_at_k(y_true, scores, ids, k) / base if base > 0 else float("nan")


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    y = np.asarray(y_true)
    return float(roc_auc_score(y, scores)) if 0 < y.sum() < len(y) else float("nan")


def average_precision(y_true: np.ndarray, scores: np.ndarray) -> float:
    y = np.asarray(y_true)
    return float(average_precision_score(y, scores)) if y.sum() > 0 else float("nan")


def brier_score(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    y = np.asarray(y_true, dtype=np.float64)
    return float(np.mean((np.asarray(probabilities, dtype=np.float64) - y) ** 2))


def calibration_table(
    y_true: np.ndarray, probabilities: np.ndarray, bins: int = 10
) -> list[dict[str, float]]:
    """Mean predicted vs observed rate in equal-count bins of the predictions."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(y_true, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    table = []
    for chunk in np.array_split(order, min(bins, len(p))):
        if len(chunk):
            table.append(
                {
                    "predicted": float(p[chunk].mean()),
                    "observed": float(y[chunk].mean()),
                    "count": float(len(chunk)),
                }
            )
    return table


def expected_calibration_error(y_true: np.ndarray, probabilities: np.ndarray, bins: int = 10):
    """Count-weighted mean gap between predicted and observed rates over the bins."""
    table = calibration_table(y_true, probabilities, bins)
    total = sum(row["count"] for row in table)
    return float(sum(abs(r["predicted"] - r["observed"]) * r["count"] for r in table) / total)


def oracle_efficiency(
    truth_probability: np.ndarray, scores: np.ndarray, ids: np.ndarray, k: int
) -> float:
    """Expected precision@k of a ranking over the oracle's, both judged by the true risk.

    Both rankings are taken over the whole population (not only the inspected), and
    the expected precision of a selection is the mean true probability within it.
    """
    p = np.asarray(truth_probability, dtype=np.float64)
    return oracle_efficiency_of_orders(p, ranking_order(scores, ids), ranking_order(p, ids), k)


def oracle_efficiency_of_orders(
    truth_probability: np.ndarray, order: np.ndarray, oracle_order: np.ndarray, k: int
) -> float:
    """:func:`oracle_efficiency` from both rankings already made (they cost the most)."""
    p = np.asarray(truth_probability, dtype=np.float64)
    chosen, best = p[order[:k]].mean(), p[oracle_order[:k]].mean()
    return float(chosen / best) if best > 0 else float("nan")
