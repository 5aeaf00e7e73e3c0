"""Fairness audit of a ranking at capacity: who gets selected, and how often wrongly.

For every group of an attribute (state, size band, 2-digit sector, any configured one) it
counts, on one fold, the workplaces selected at capacity and, on the labelled ones, the
errors; :func:`fairness_table` pools the folds and turns the counts into rates and into
disparity ratios against a reference group (the largest), the approach of Aequitas
(Saleiro et al., 2018). Aequitas itself (1.1.0, the latest) requires pandas < 3 and cannot
be installed beside pandas 3, so the few sums and ratios are written here as pure functions.

Precision and the error rates use the lottery inspections of a group where it has enough
of them (far less selected than the rest, though the lottery favours some sizes and
sectors), and all its inspections otherwise; the column ``basis`` says which.
Selection-rate disparities are expected of any targeting (risk is not spread evenly);
the error-rate disparities are the ones a promotion gate watches.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.metrics import ranking_order

#: Fewest lottery inspections in a group for its rates to be read from them alone.
MIN_RANDOM_LABELLED = 30
COUNTS = (
    "workplaces",
    "selected",
    "labelled",
    "labelled_selected",
    "labelled_selected_positive",
    "labelled_positive",
    "labelled_positive_selected",
)
RATES = ("selection_rate", "precision", "false_discovery_rate", "false_negative_rate")


def _group_counts(
    groups: pd.Series,
    selected: np.ndarray,
    labelled: np.ndarray,
    positive: np.ndarray,
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "group": groups.to_numpy(),
            "workplaces": 1,
            "selected": selected,
            "labelled": labelled,
            "labelled_selected": labelled & selected,
            "labelled_selected_positive": labelled & selected & positive,
            "labelled_positive": labelled & positive,
            "labelled_positive_selected": labelled & positive & selected,
        }
    )
    return frame.groupby("group", dropna=False).sum().astype(np.int64)


def fold_group_counts(
    population: pd.DataFrame,
    scores: np.ndarray,
    labels: pd.Series,
    random_origin: pd.Series,
    k: int,
    attributes: list[str],
) -> pd.DataFrame:
    """Counts per (attribute, group, basis) for one ranking of ``population`` at capacity k.

    ``labels`` (0/1, indexed by employer id) holds the labelled workplaces;
    ``random_origin`` (same index) marks those drawn by lottery. Missing attribute
    values form their own group, ``(missing)``.
    """
    ids = population.index.to_numpy().astype(str)
    selected = np.zeros(len(ids), bool)
    selected[ranking_order(scores, ids)[:k]] = True
    y = labels.reindex(population.index)
    is_labelled = y.notna().to_numpy()
    positive = (y.fillna(0).to_numpy() > 0) & is_labelled
    lottery = random_origin.reindex(population.index).fillna(False).to_numpy(bool) & is_labelled
    parts = []
    for attribute in attributes:
        groups = population[attribute].astype("string").fillna("(missing)")
        for basis, mask in (("all", is_labelled), ("random", lottery)):
            counts = _group_counts(groups, selected, mask, positive)
            counts.insert(0, "basis", basis)
            counts.insert(0, "attribute", attribute)
            parts.append(counts.reset_index())
    return pd.concat(parts, ignore_index=True)


def _rates(counts: pd.DataFrame) -> pd.DataFrame:
    def ratio(a: str, b: str) -> pd.Series:
        return counts[a] / counts[b].where(counts[b] > 0)

    out = counts.copy()
    out["selection_rate"] = ratio("selected", "workplaces")
    out["precision"] = ratio("labelled_selected_positive", "labelled_selected")
    out["false_discovery_rate"] = 1 - out["precision"]
    out["false_negative_rate"] = 1 - ratio("labelled_positive_selected", "labelled_positive")
    return out


def fairness_table(fold_counts: list[pd.DataFrame]) -> pd.DataFrame:
    """Folds pooled: one row per (attribute, group), rates and disparities vs the reference.

    A group's rates come from lottery inspections when it and the reference each have at
    least ``MIN_RANDOM_LABELLED`` of them, else from all inspections (``basis``). The
    reference group of an attribute is its largest; a disparity is the group's rate over
    the reference's on the same basis (NaN where either is undefined).
    """
    pooled = (
        pd.concat(fold_counts, ignore_index=True)
        .drop(columns="test_as_of", errors="ignore")
        .groupby(["attribute", "group", "basis"], sort=True)[list(COUNTS)]
        .sum()
        .reset_index()
    )
    rates = _rates(pooled).set_index(["attribute", "group", "basis"])
    rows = []
    for attribute, block in rates.groupby(level="attribute", sort=True):
        block = block.droplevel("attribute")
        random_rows = block.xs("random", level="basis")
        all_rows = block.xs("all", level="basis")
        reference = str(all_rows["workplaces"].idxmax())
        enough = random_rows["labelled"] >= MIN_RANDOM_LABELLED
        for group in all_rows.index:
            basis = "random" if enough[group] and enough[reference] else "all"
            source = random_rows if basis == "random" else all_rows
            row: dict[str, object] = {
                "attribute": attribute,
                "group": str(group),
                "reference": reference,
                "basis": basis,
                "workplaces": int(all_rows.at[group, "workplaces"]),
                "selected": int(all_rows.at[group, "selected"]),
                "labelled": int(source.at[group, "labelled"]),
                "labelled_selected": int(source.at[group, "labelled_selected"]),
                "labelled_positive": int(source.at[group, "labelled_positive"]),
                "selection_rate": float(all_rows.at[group, "selection_rate"]),
            }
            for rate in RATES[1:]:
                row[rate] = float(source.at[group, rate])
            for rate in RATES:
                base = all_rows if rate == "selection_rate" else source
                reference_value = float(base.at[reference, rate])
                value = float(row[rate])  # type: ignore[arg-type]
                row[f"{rate}_disparity"] = (
                    value / reference_value
                    if reference_value > 0 and not np.isnan(value)
                    else float("nan")
                )
            rows.append(row)
    return pd.DataFrame(rows)


#: The count each rate is a share of: a rate over a handful is noise, not a disparity.
DENOMINATOR = {
    "selection_rate": "workplaces",
    "precision": "labelled_selected",
    "false_discovery_rate": "labelled_selected",
    "false_negative_rate": "labelled_positive",
}


def out_of_band(
    table: pd.DataFrame, metrics: list[str], band: tuple[float, float], min_labelled: int
) -> pd.DataFrame:
    """Rows (attribute, group, metric, disparity) whose disparity leaves ``band``.

    A rate over fewer than ``min_labelled`` workplaces (in the group or in its reference)
    is too noisy to judge and is left out, as is every reference group (its ratio is 1 by
    construction).
    """
    low, high = band
    rows = []
    for metric in metrics:
        count = table[DENOMINATOR[metric]]
        reference_count = table.set_index(["attribute", "group"])[DENOMINATOR[metric]]
        of_reference = pd.Series(
            list(zip(table["attribute"], table["reference"], strict=True)), index=table.index
        ).map(reference_count)
        judged = table[
            (count >= min_labelled)
            & (of_reference >= min_labelled)
            & (table["group"] != table["reference"])
        ]
        disparity = judged[f"{metric}_disparity"]
        outside = judged[(disparity < low) | (disparity > high)]
        for r in outside.itertuples():
            rows.append(
                {
                    "attribute": r.attribute,
                    "group": r.group,
                    "metric": metric,
                    "disparity": float(getattr(r, f"{metric}_disparity")),
                }
            )
    return pd.DataFrame(rows, columns=["attribute", "group", "metric", "disparity"])
