"""A world big enough for stable figures looks like the real inspectorate (world.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.world import WorldConfig, WorldSummary, generate_world
from features.world.sectors import AUTO_PARTS_STATES


@pytest.fixture(scope="module")
def realistic_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WorldSummary]:
    out = tmp_path_factory.mktemp("realistic-world")
    config = WorldConfig.from_cli(employers=20_000, years=3, seed=3, messy=0.0, end=None)
    return out, generate_world(config, out, "csv")


def test_inspection_volume_and_origin_mix(realistic_world: tuple[Path, WorldSummary]) -> None:
    summary = realistic_world[1]
    assert 0.08 <= summary.inspections_per_employer_year <= 0.12
    assert 0.40 <= summary.origin_share["random"] <= 0.50
    for origin in ("planned", "complaint", "follow_up", "other"):
        assert 0.02 <= summary.origin_share[origin] <= 0.30, origin
    assert sum(summary.origin_share.values()) == pytest.approx(1.0, abs=1e-3)


def test_random_inspections_find_less_than_targeted_ones(
    realistic_world: tuple[Path, WorldSummary],
) -> None:
    summary = realistic_world[1]
    assert 0.42 <= summary.violation_rate <= 0.58
    assert 0.33 <= summary.violation_rate_random <= 0.47
    assert summary.violation_rate_targeted >= summary.violation_rate_random + 0.10


def test_category_rates_follow_the_design(realistic_world: tuple[Path, WorldSummary]) -> None:
    rates = realistic_world[1].category_violation_rate
    common = min(rates["safety_health"], rates["working_conditions"])
    rare = max(rates["freedom_of_association"], rates["gender_discrimination"])
    assert common > 0.15
    assert common > 3 * rare
    assert rates["subcontracting"] > 0.02


def test_directory_missingness(realistic_world: tuple[Path, WorldSummary]) -> None:
    summary = realistic_world[1]
    assert 0.75 <= summary.employees_missing <= 0.85
    assert 0.05 <= summary.size_band_missing <= 0.15


def test_geography_and_sector_mix(realistic_world: tuple[Path, WorldSummary]) -> None:
    employers = pd.read_csv(realistic_world[0] / "employers.csv", dtype=str)
    biggest = employers["state"].value_counts().index[:3]
    assert set(biggest) == {"15", "09", "14"}
    division = employers["sector"].str[:2]
    manufacturing = division.isin(["31", "32", "33"]).mean()
    assert 0.07 <= manufacturing <= 0.14
    assert division.isin(["43", "46"]).mean() > 0.35
    assert division.eq("21").any() and employers["sector"].str.startswith("315").any()
    auto_parts = employers[employers["sector"].str.startswith("3363")]
    assert auto_parts["state"].isin(AUTO_PARTS_STATES).mean() > 0.8
    micro = employers["size_band"].eq("micro").sum() / employers["size_band"].notna().sum()
    assert micro > 0.7


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    ranks = pd.Series(score).rank().to_numpy()
    positives = label.sum()
    negatives = len(label) - positives
    return float(
        (ranks[label == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    )


def test_the_truth_ranks_random_inspections(realistic_world: tuple[Path, WorldSummary]) -> None:
    folder = realistic_world[0]
    inspections = pd.read_csv(folder / "inspections.csv", parse_dates=["date"])
    lottery = inspections[inspections["origin"] == "random"]
    scored = []
    for year, visits in lottery.groupby(lottery["date"].dt.year):
        truth = pd.read_csv(folder / "truth" / f"risk_{year}-01-01.csv")
        scored.append(visits.merge(truth, on="employer_id", how="inner"))
    joined = pd.concat(scored)
    assert len(joined) > 0.95 * len(lottery)
    auc = _auc(joined["p_any"].to_numpy(), joined["violation_found"].to_numpy())
    assert 0.62 <= auc <= 0.9, auc  # informative, yet far from perfect: risk drifts and hides
    top = joined["p_any"] >= joined["p_any"].quantile(0.8)
    bottom = joined["p_any"] <= joined["p_any"].quantile(0.2)
    assert (
        joined.loc[top, "violation_found"].mean() > 2 * joined.loc[bottom, "violation_found"].mean()
    )
    # the truth is calibrated for random visits: expected and observed rates agree roughly
    assert joined["p_any"].mean() == pytest.approx(joined["violation_found"].mean(), abs=0.08)


def test_summary_renders_every_figure(realistic_world: tuple[Path, WorldSummary]) -> None:
    text = realistic_world[1].render()
    for needle in (
        "employers",
        "random",
        "follow_up",
        "safety_health",
        "missing",
        "per employer-year",
    ):
        assert needle in text
    assert realistic_world[1].to_dict()["rows"]["employers"] == 20_000


def test_hidden_traits_show_through_their_partial_attributes(
    realistic_world: tuple[Path, WorldSummary],
) -> None:
    folder = realistic_world[0]
    employers = pd.read_csv(folder / "employers.csv", dtype={"sector": str, "state": str})
    inspections = pd.read_csv(folder / "inspections.csv", usecols=["inspection_id", "employer_id"])
    findings = (
        pd.read_csv(folder / "findings.csv").merge(inspections).merge(employers, on="employer_id")
    )

    def rate(category: str, mask: pd.Series) -> float:
        return findings.loc[(findings["category"] == category) & mask, "violation"].mean()

    assert rate("subcontracting", findings["attr_repse_registered"] == 1) > 2 * rate(
        "subcontracting", findings["attr_repse_registered"] == 0
    )
    assert rate("freedom_of_association", findings["attr_collective_agreement"] == 1) > 3 * rate(
        "freedom_of_association", findings["attr_collective_agreement"] == 0
    )
    assembly = findings["sector"].str[:3].isin(["315", "336"])
    assert rate("gender_discrimination", assembly) > 1.5 * rate("gender_discrimination", ~assembly)
    remediations = pd.read_csv(folder / "remediations.csv")
    assert set(remediations["source"]) >= {"sanction", "agreement"}
