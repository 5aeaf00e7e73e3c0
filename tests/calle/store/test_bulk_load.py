"""A first load makes its tables' foreign keys and indexes after the rows: the store ends as
migrated, a row that breaks a key still fails the whole load, and tables holding rows keep
their keys checked row by row (both engines; the deferral itself is PostgreSQL's)."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from calle.settings import Settings
from calle.store import open_store, schema
from calle.store.bulk_load import keys_made_after
from features.contract_import import import_folder

EMPLOYER = {"employer_id": "E1", "name": "Uno", "state": "09", "sector": "336390"}
INSPECTION = {
    "inspection_id": "I1",
    "employer_id": "E1",
    "date": date(2024, 3, 1),
    "origin": "planned",
    "violation_found": 0,
}
ORPHAN = {**INSPECTION, "inspection_id": "I2", "employer_id": "E-unknown"}


@pytest.fixture
def engine(settings: Settings):
    engine = open_store(settings)
    yield engine
    engine.dispose()


def keys_and_indexes(engine: sa.Engine) -> dict[str, tuple]:
    """Each contract table's foreign keys and indexes as the database reports them."""
    inspector = sa.inspect(engine)
    return {
        table.name: (
            sorted(str(fk) for fk in inspector.get_foreign_keys(table.name)),
            sorted(str(ix) for ix in inspector.get_indexes(table.name)),
        )
        for table in [*schema.CONTRACT_TABLES.values(), schema.employer_attributes]
    }


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_a_first_load_remakes_the_keys_and_indexes_as_migrated(
    engine: sa.Engine, settings: Settings, small_world: Path, caplog
) -> None:
    before = keys_and_indexes(engine)
    with caplog.at_level(logging.INFO, logger="calle.store.bulk_load"):
        report = import_folder(small_world, settings)
    deferred = "indexes built and" in caplog.text
    assert deferred == (engine.dialect.name == "postgresql")
    assert keys_and_indexes(engine) == before
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), schema.metadata) == []
    for table in report.tables:
        assert count(engine, schema.CONTRACT_TABLES[table.table]) == table.inserted > 0

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="calle.store.bulk_load"):
        import_folder(small_world, settings)  # the same folder again: every table holds rows
    assert "indexes built and" not in caplog.text
    assert keys_and_indexes(engine) == before


def test_a_row_breaking_a_key_fails_the_whole_first_load(engine: sa.Engine) -> None:
    tables = list(schema.CONTRACT_TABLES.values())
    written = []
    with (
        pytest.raises(sa.exc.IntegrityError),
        engine.begin() as connection,
        keys_made_after(connection, tables),
    ):
        connection.execute(schema.employers.insert(), EMPLOYER)
        connection.execute(schema.inspections.insert(), ORPHAN)
        written.append(ORPHAN)
    # PostgreSQL finds it when the key is made again; SQLite (nothing deferred) at once
    assert written == ([ORPHAN] if engine.dialect.name == "postgresql" else [])
    assert count(engine, schema.employers) == 0
    assert keys_and_indexes(engine)["inspections"][0]  # its foreign key is back


def test_a_table_holding_rows_keeps_checking_each_row(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(schema.employers.insert(), EMPLOYER)
        connection.execute(schema.inspections.insert(), INSPECTION)
    tables = list(schema.CONTRACT_TABLES.values())
    with (
        engine.begin() as connection,
        keys_made_after(connection, tables),
        pytest.raises(sa.exc.IntegrityError),
        connection.begin_nested(),
    ):
        connection.execute(schema.inspections.insert(), ORPHAN)  # fails at once
