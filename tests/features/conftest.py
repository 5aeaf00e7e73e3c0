"""Fixtures for the contract import tests: small contract folders and store snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from calle.settings import Settings
from calle.store import open_store, schema

#: A clean folder: every row is valid, findings agree with violation_found.
CLEAN_TABLES: dict[str, str] = {
    "employers": (
        "employer_id,name,state,municipality,sector,employees,size_band,registered_on,"
        "latitude,longitude,attr_union,attr_score\n"
        "E1,Acme,09,001,311,12,small,2019-02-28,19.4326,-99.1332,yes,1.5\n"
        "E2,Beta,14,039,46,,micro,,,,no,2\n"
        "E3,Gamma,01,001,236220,250,large,2001-01-01,21.88,-102.29,,7\n"
    ),
    "inspections": (
        "inspection_id,employer_id,date,origin,office,inspector_id,violation_found\n"
        "I1,E1,2020-01-15,random,CDMX,X1,1\n"
        "I2,E2,2021-06-01,planned,JAL,X2,0\n"
        "I3,E3,2022-03-10,complaint,AGS,X3,0\n"
    ),
    "findings": (
        "inspection_id,category,violation,sanction_amount\n"
        "I1,safety_health,1,1500.5\n"
        "I1,subcontracting,0,\n"
        "I2,working_conditions,0,\n"
    ),
    "complaints": (
        "complaint_id,employer_id,date,category,channel\n"
        "C1,E1,2019-12-01,safety_health,web\n"
        "C2,E3,2022-01-05,,phone\n"
    ),
    "remediations": (
        "employer_id,opened_on,closed_on,source\n"
        "E1,2020-02-01,2020-08-01,sanction\n"
        "E1,2020-02-01,,\n"
    ),
}


@pytest.fixture
def contract_folder(tmp_path: Path) -> Callable[..., Path]:
    """Write a contract folder: the clean tables, with rows appended or tables replaced.

    ``append={"employers": "E9,...\\n"}`` adds rows; ``replace={"findings": None}`` leaves
    a table out, ``replace={"findings": "header\\nrows"}`` swaps its content.
    """
    made = 0

    def write(
        append: dict[str, str] | None = None, replace: dict[str, str | None] | None = None
    ) -> Path:
        nonlocal made
        made += 1
        folder = tmp_path / f"folder-{made}"
        folder.mkdir()
        tables: dict[str, str | None] = dict(CLEAN_TABLES)
        tables.update(replace or {})
        for name, rows in (append or {}).items():
            tables[name] = (tables[name] or "") + rows
        for name, text in tables.items():
            if text is not None:
                (folder / f"{name}.csv").write_text(text, encoding="utf-8")
        return folder

    return write


@pytest.fixture
def store_rows(settings: Settings) -> Callable[[], dict[str, list[tuple]]]:
    """Every row of every store table, sorted: compare before and after to prove nothing moved."""

    def snapshot() -> dict[str, list[tuple]]:
        engine = open_store(settings)
        try:
            with engine.connect() as connection:
                return {
                    name: sorted(connection.execute(sa.select(table)).all(), key=repr)
                    for name, table in schema.metadata.tables.items()
                }
        finally:
            engine.dispose()

    return snapshot
