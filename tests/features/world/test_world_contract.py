"""The small world's files: the contract's shape, valid references, a coherent timeline."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from calle.offices import load_office_areas
from calle.settings import MEXICO_CATEGORIES, MEXICO_STATE_CODES
from features.contract import INSPECTION_ORIGINS, SIZE_BANDS, TABLES
from features.world import truth_columns

END = dt.date(2025, 12, 31)


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def world(small_world: Path) -> dict[str, pd.DataFrame]:
    return {table.name: _read(small_world, table.name) for table in TABLES}


def test_every_table_has_the_contract_columns_in_order(world: dict[str, pd.DataFrame]) -> None:
    for table in TABLES:
        columns = list(world[table.name].columns)
        assert columns[: len(table.column_names)] == list(table.column_names)
        extra = columns[len(table.column_names) :]
        if table.extra_prefix:
            assert extra and all(c.startswith(table.extra_prefix) for c in extra)
        else:
            assert extra == []


def test_required_cells_are_filled_and_vocabularies_respected(
    world: dict[str, pd.DataFrame],
) -> None:
    for table in TABLES:
        frame = world[table.name]
        assert len(frame) > 0, table.name
        for column in table.required_columns:
            assert frame[column].notna().all(), f"{table.name}.{column}"
    assert set(world["employers"]["state"]) <= set(MEXICO_STATE_CODES)
    assert set(world["employers"]["size_band"].dropna()) <= set(SIZE_BANDS)
    assert world["employers"]["sector"].str.fullmatch(r"\d{6}").all()
    assert world["employers"]["municipality"].str[:2].equals(world["employers"]["state"])
    assert set(world["inspections"]["origin"]) == set(INSPECTION_ORIGINS)
    assert set(world["findings"]["category"]) == set(MEXICO_CATEGORIES)
    assert set(world["complaints"]["category"].dropna()) <= set(MEXICO_CATEGORIES)
    assert set(world["inspections"]["violation_found"]) == {"0", "1"}
    assert (pd.to_numeric(world["employers"]["employees"].dropna()) >= 0).all()


def test_ids_are_unique_and_references_exist(world: dict[str, pd.DataFrame]) -> None:
    employers = world["employers"]["employer_id"]
    assert employers.is_unique
    assert employers.str.fullmatch(r"E\d{7}").all()
    assert world["inspections"]["inspection_id"].is_unique
    assert world["complaints"]["complaint_id"].is_unique
    for table in TABLES:  # every contract key, remediations' (employer, opened_on, source) too
        assert not world[table.name].duplicated(list(table.key)).any(), table.name
    for name in ("inspections", "complaints", "remediations"):
        assert world[name]["employer_id"].isin(employers).all(), name
    assert world["findings"]["inspection_id"].isin(world["inspections"]["inspection_id"]).all()


def test_no_event_before_registration_or_after_the_end(world: dict[str, pd.DataFrame]) -> None:
    registered = (
        world["employers"].set_index("employer_id")["registered_on"].map(dt.date.fromisoformat)
    )
    for name, column in [
        ("inspections", "date"),
        ("complaints", "date"),
        ("remediations", "opened_on"),
        ("remediations", "closed_on"),
    ]:
        frame = world[name].dropna(subset=[column])
        day = frame[column].map(dt.date.fromisoformat)
        assert (day <= END).all(), f"{name}.{column} after the end"
        assert (day >= frame["employer_id"].map(registered)).all(), f"{name}.{column} too early"
    plans = world["remediations"].dropna(subset=["closed_on"])
    assert (plans["closed_on"] > plans["opened_on"]).all()


def test_violation_found_is_any_finding_violation(world: dict[str, pd.DataFrame]) -> None:
    findings = world["findings"].assign(violation=lambda f: f["violation"].astype(int))
    any_violation = findings.groupby("inspection_id")["violation"].max()
    found = world["inspections"].set_index("inspection_id")["violation_found"].astype(int)
    assert found.equals(any_violation.reindex(found.index))
    sanctioned = findings["sanction_amount"].notna()
    assert (sanctioned == (findings["violation"] == 1)).all()
    assert (pd.to_numeric(findings["sanction_amount"].dropna()) > 0).all()


def test_complaint_visits_cover_several_categories(world: dict[str, pd.DataFrame]) -> None:
    per_inspection = world["findings"].groupby("inspection_id").size()
    assert 3.5 <= per_inspection.mean() <= 4.5
    assert per_inspection.min() >= 1


def test_truth_files_exist_for_each_january_first_and_the_last_day(small_world: Path) -> None:
    expected = [f"risk_{year}-01-01.csv" for year in range(2021, 2026)] + ["risk_2025-12-31.csv"]
    assert sorted(p.name for p in (small_world / "truth").iterdir()) == sorted(expected)
    employers = _read(small_world, "employers")
    for name in expected:
        truth = pd.read_csv(small_world / "truth" / name)
        assert tuple(truth.columns) == truth_columns()
        probabilities = truth.drop(columns="employer_id")
        assert ((probabilities >= 0) & (probabilities <= 1)).all().all()
        as_of = name.removeprefix("risk_").removesuffix(".csv")
        assert set(truth["employer_id"]) == set(
            employers.loc[employers["registered_on"] <= as_of, "employer_id"]
        )


def test_world_json_records_the_config_and_figures(small_world: Path) -> None:
    record = json.loads((small_world / "world.json").read_text())
    assert record["config"]["employers"] == 3000
    assert record["config"]["seed"] == 7
    assert record["summary"]["rows"]["employers"] == 3000
    assert not (small_world / "damage.json").exists()


def test_office_areas_cover_every_workplace_once_and_match_who_inspected(
    small_world: Path, world: dict[str, pd.DataFrame]
) -> None:
    areas = load_office_areas(small_world / "offices.toml")
    assert areas is not None
    office_of = {
        municipality: office
        for office, area in areas.offices.items()
        for municipality in area.municipalities
    }
    covering = sum(len(a.municipalities) for a in areas.offices.values())
    assert covering == len(office_of)  # no municipality is in two areas
    employers = world["employers"]
    assert employers["municipality"].isin(list(office_of)).all()
    inspections = world["inspections"].merge(employers, on="employer_id")
    expected = inspections["municipality"].map(office_of)
    assert (inspections["office"] == expected).mean() == 1.0
