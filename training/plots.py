"""The figures logged with every training run, drawn to PNG files.

Matplotlib's object API (``Figure``) needs no display and keeps no global state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from training.metrics import calibration_table

COLOURS = {
    "model": "#1b5e20",
    "oracle": "#000000",
    "logistic": "#1565c0",
    "cell_rate": "#ef6c00",
    "business_as_usual": "#8e24aa",
    "random": "#9e9e9e",
    "model_weighted": "#66bb6a",
    "model_unweighted": "#66bb6a",
    "model_inspector_adjusted": "#00897b",
    "model_unadjusted": "#00897b",
}
#: For a scorer without a colour of its own.
OTHER_COLOUR = "#607d8b"


def precision_curves(curves: dict[str, np.ndarray], title: str, path: Path) -> Path:
    """Expected precision of the top k (true risk) against the share of workplaces inspected."""
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for name, curve in curves.items():
        n = len(curve)
        upto = max(1, n // 5)  # up to 20% of the population: any real capacity
        share = np.arange(1, upto + 1) / n * 100
        ax.plot(
            share,
            curve[:upto],
            label=name,
            color=COLOURS.get(name, OTHER_COLOUR),
            linestyle="--" if name == "oracle" else "-",
        )
    ax.set_xlabel("workplaces inspected (% of population, ranked by each scorer)")
    ax.set_ylabel("expected precision (mean true risk of those inspected)")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def precision_bars(summary: pd.DataFrame, capacities: list[str], path: Path) -> Path:
    """Precision at each capacity, on the inspected workplaces, per scorer (no truth needed)."""
    overall = summary.xs("any", level="target")
    columns = [f"precision_at_{c}" for c in capacities if f"precision_at_{c}" in overall]
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    overall[columns].T.plot.bar(ax=ax, color=[COLOURS.get(s, OTHER_COLOUR) for s in overall.index])
    ax.set_ylabel("share of inspections finding a violation")
    ax.set_title("Precision at capacity (mean over folds, inspected workplaces)")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def calibration_plot(y: np.ndarray, p: np.ndarray, title: str, path: Path) -> Path:
    table = calibration_table(y, p, bins=10)
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="#9e9e9e", linestyle="--", label="perfect")
    ax.plot(
        [r["predicted"] for r in table],
        [r["observed"] for r in table],
        "o-",
        color=COLOURS["model"],
        label="model",
    )
    ax.set_xlabel("predicted probability (decile mean)")
    ax.set_ylabel("observed rate")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def importance_plot(importance: pd.Series, path: Path, top: int = 25) -> Path:
    shown = importance.head(top)[::-1]
    fig = Figure(figsize=(7, 0.28 * len(shown) + 1.2))
    ax = fig.subplots()
    ax.barh(shown.index, shown.to_numpy(), color=COLOURS["model"])
    ax.set_xlabel("total gain")
    ax.set_title("Feature importance (overall risk)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def fairness_plot(
    table: pd.DataFrame, metrics: list[str], band: tuple[float, float], path: Path
) -> Path:
    """Disparity of each group (rows) against its attribute's reference, one panel per metric,
    with the allowed band shaded: what the promotion gate reads, as a picture."""
    rows = table.sort_values(["attribute", "group"])
    labels = [f"{a}={g}" for a, g in zip(rows["attribute"], rows["group"], strict=True)]
    height = max(3.0, 0.18 * len(rows) + 1.2)
    fig = Figure(figsize=(4.0 * len(metrics), height))
    axes = np.atleast_1d(fig.subplots(1, len(metrics), sharey=True))
    positions = np.arange(len(rows))
    for ax, metric in zip(axes, metrics, strict=True):
        values = rows[f"{metric}_disparity"].to_numpy(dtype=np.float64)
        outside = (values < band[0]) | (values > band[1])
        ax.axvspan(band[0], band[1], color="#c8e6c9", zorder=0)
        ax.axvline(1.0, color="#555555", linewidth=0.8)
        ax.barh(positions, values - 1.0, left=1.0, color=np.where(outside, "#c62828", "#1b5e20"))
        ax.set_title(metric.replace("_", " "), fontsize=9)
        ax.set_xlabel("disparity vs reference")
    axes[0].set_yticks(positions, labels, fontsize=6)
    axes[0].invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path
