"""Messy mode: damage.json counts exactly what an importer following the contract rejects."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from calle.settings import MEXICO_STATE_CODES
from features.world import WorldConfig, generate_world


def _is_iso_date(value: object) -> bool:
    if not isinstance(value, str):
        return True  # missing is allowed where the column is optional
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def messy_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("messy-world")
    generate_world(WorldConfig(employers=4000, years=3, seed=5, messy=0.04), out, "csv")
    return out


@pytest.fixture(scope="module")
def damage(messy_world: Path) -> dict[str, dict[str, int]]:
    return json.loads((messy_world / "damage.json").read_text())


def _conflicting_copies(frame: pd.DataFrame, key: str) -> int:
    """Rows whose id already appeared with other content (first occurrence wins)."""
    repeated = frame[frame.duplicated(key, keep="first")]
    assert not frame.duplicated(keep=False).any(), "duplicates must differ in content"
    return len(repeated)


def test_damage_is_about_the_requested_share(
    messy_world: Path, damage: dict[str, dict[str, int]]
) -> None:
    employers = _read(messy_world, "employers")
    damaged = sum(damage["employers"].values())
    assert damaged == round(0.04 * (len(employers) - damage["employers"]["duplicate_conflict"]))
    assert all(count > 0 for table in ("employers", "inspections", "complaints")
               for count in damage[table].values())  # fmt: skip


def test_employer_damage_matches_the_file(
    messy_world: Path, damage: dict[str, dict[str, int]]
) -> None:
    employers = _read(messy_world, "employers")
    counts = damage["employers"]
    assert (~employers["state"].isin(MEXICO_STATE_CODES)).sum() == counts["misspelled_state"]
    assert (~employers["registered_on"].map(_is_iso_date)).sum() == counts["bad_date"]
    assert (pd.to_numeric(employers["employees"]) < 0).sum() == counts["negative_employees"]
    assert _conflicting_copies(employers, "employer_id") == counts["duplicate_conflict"]


@pytest.mark.parametrize(
    ("table", "key"), [("inspections", "inspection_id"), ("complaints", "complaint_id")]
)
def test_event_damage_matches_the_file(
    messy_world: Path, damage: dict[str, dict[str, int]], table: str, key: str
) -> None:
    employers = _read(messy_world, "employers")["employer_id"]
    frame = _read(messy_world, table)
    counts = damage[table]
    assert (~frame["date"].map(_is_iso_date)).sum() == counts["bad_date"]
    assert (~frame["employer_id"].isin(employers)).sum() == counts["unknown_employer"]
    assert _conflicting_copies(frame, key) == counts["duplicate_conflict"]


def test_damaged_employers_drag_no_events_along(
    messy_world: Path, damage: dict[str, dict[str, int]]
) -> None:
    employers = _read(messy_world, "employers")
    bad = employers[
        ~employers["state"].isin(MEXICO_STATE_CODES)
        | ~employers["registered_on"].map(_is_iso_date)
        | (pd.to_numeric(employers["employees"]) < 0)
        | employers.duplicated("employer_id", keep=False)
    ]["employer_id"]
    for table in ("inspections", "complaints", "remediations"):
        assert not _read(messy_world, table)["employer_id"].isin(bad).any(), table


def test_findings_of_damaged_inspections_are_counted(
    messy_world: Path, damage: dict[str, dict[str, int]]
) -> None:
    employers = _read(messy_world, "employers")["employer_id"]
    inspections = _read(messy_world, "inspections")
    damaged = inspections[
        ~inspections["date"].map(_is_iso_date) | ~inspections["employer_id"].isin(employers)
    ]["inspection_id"]
    findings = _read(messy_world, "findings")
    counts = damage["findings"]
    assert findings["inspection_id"].isin(damaged).sum() == counts["parent_inspection_damaged"]
    duplicated = inspections.loc[inspections.duplicated("inspection_id"), "inspection_id"]
    assert (
        findings["inspection_id"].isin(duplicated).sum() == (counts["parent_inspection_duplicated"])
    )
    assert not set(damaged) & set(duplicated), "a row carries one kind of damage"


def test_messy_parquet_keeps_the_damage_readable(tmp_path: Path) -> None:
    summary = generate_world(
        WorldConfig(employers=1500, years=2, seed=5, messy=0.05), tmp_path, "parquet"
    )
    employers = pd.read_parquet(tmp_path / "employers.parquet")
    assert (~employers["state"].isin(MEXICO_STATE_CODES)).sum() == (
        summary.damage["employers"]["misspelled_state"]
    )
    inspections = pd.read_parquet(tmp_path / "inspections.parquet")
    assert (~inspections["date"].map(_is_iso_date)).sum() == summary.damage["inspections"][
        "bad_date"
    ]
