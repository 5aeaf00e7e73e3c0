"""Population stability: how far a feature's or a score's distribution has moved.

At training, each column of the reference population is summarised as a profile (the
shares of its values in a few bins, fixed then); later populations are binned the same
way and compared with the population stability index, PSI = Σ (a − e) · ln(a / e) over
the bins. The usual reading: below 0.1 stable, 0.1–0.25 moving, above 0.25 shifted.
Pure functions of frames and JSON-able profiles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Quantile bins of a numeric column (fewer where values repeat).
NUMERIC_BINS = 10
#: Levels of a categorical column kept by name; the rest share one bin.
TOP_LEVELS = 20
MISSING = "(missing)"
OTHER = "(other)"
#: Shares are floored at this before the logarithm: an empty bin is "very rare", not -inf.
SHARE_FLOOR = 1e-4
#: PSI readings.
STABLE, SHIFTED = 0.1, 0.25


def numeric_profile(values: pd.Series) -> dict[str, object]:
    """Bin edges at the reference's quantiles, and the share of each bin and of missing."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    present = x[~np.isnan(x)]
    edges: list[float] = []
    if len(present):
        quantiles = np.quantile(present, np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1])
        edges = sorted({float(q) for q in quantiles})
    profile: dict[str, object] = {"kind": "numeric", "edges": edges}
    profile["shares"] = _numeric_shares(x, edges)
    return profile


def _numeric_shares(x: np.ndarray, edges: list[float]) -> list[float]:
    """Shares of the bins (-inf, e0], (e0, e1], ..., (e_last, inf), then missing."""
    n = len(x)
    if n == 0:
        return [0.0] * (len(edges) + 2)
    missing = np.isnan(x)
    bins = np.searchsorted(np.asarray(edges), x[~missing], side="left")
    counts = np.bincount(bins, minlength=len(edges) + 1).astype(np.float64)
    return [*(counts / n).tolist(), float(missing.sum() / n)]


def categorical_profile(values: pd.Series) -> dict[str, object]:
    text = values.astype("string")
    counts = text.value_counts(dropna=True)
    levels = sorted(counts.sort_values(ascending=False, kind="stable").index[:TOP_LEVELS])
    profile: dict[str, object] = {"kind": "categorical", "levels": [str(v) for v in levels]}
    profile["shares"] = _categorical_shares(text, profile["levels"])  # type: ignore[arg-type]
    return profile


def _categorical_shares(text: pd.Series, levels: list[str]) -> list[float]:
    n = len(text)
    if n == 0:
        return [0.0] * (len(levels) + 2)
    counts = text.value_counts(dropna=False)
    named = [float(counts.get(level, 0)) for level in levels]
    missing = float(text.isna().sum())
    other = n - sum(named) - missing
    return [c / n for c in (*named, other, missing)]


def profile_frame(frame: pd.DataFrame, categorical: list[str]) -> dict[str, dict[str, object]]:
    """A profile of every column; those named in ``categorical`` by level, the rest by bin."""
    return {
        column: categorical_profile(frame[column])
        if column in categorical
        else numeric_profile(frame[column])
        for column in frame.columns
    }


def shares_like(profile: dict[str, object], values: pd.Series) -> list[float]:
    """The shares of ``values`` in the bins of a reference ``profile``."""
    if profile["kind"] == "categorical":
        return _categorical_shares(values.astype("string"), list(profile["levels"]))  # type: ignore[arg-type]
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return _numeric_shares(x, list(profile["edges"]))  # type: ignore[arg-type]


def population_stability_index(expected: list[float], actual: list[float]) -> float:
    e = np.maximum(np.asarray(expected, dtype=np.float64), SHARE_FLOOR)
    a = np.maximum(np.asarray(actual, dtype=np.float64), SHARE_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def stability(reference: dict[str, dict[str, object]], frame: pd.DataFrame) -> dict[str, float]:
    """PSI of every profiled column that ``frame`` has, against the reference."""
    return {
        column: population_stability_index(
            list(profile["shares"]),  # type: ignore[arg-type]
            shares_like(profile, frame[column]),
        )
        for column, profile in reference.items()
        if column in frame.columns
    }
