"""Bulk writes and reads round-trip every column type, inside the caller's transaction."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest
import sqlalchemy as sa

from calle.settings import Settings
from calle.store import bulk, open_store, schema

EMPLOYERS = pa.table(
    {
        "employer_id": ["E1", "E2", 'E,3 "quoted"'],
        "name": ["Acme", None, "Ñandú S.A."],
        "state": ["09", "14", "01"],
        "municipality": [None, "039", "001"],
        "sector": ["311", "46", "236220"],
        "employees": pa.array([12, None, 0], pa.int64()),
        "size_band": ["small", None, "micro"],
        "registered_on": pa.array([date(2019, 2, 28), None, date(2001, 1, 1)], pa.date32()),
        "latitude": [19.4326077, None, 0.1],
        "longitude": [-99.133208, None, 1e-7],
    }
)


def test_insert_then_read_round_trips(settings: Settings) -> None:
    engine = open_store(settings)
    try:
        seen: list[int] = []
        with engine.begin() as connection:
            assert bulk.insert_rows(connection, schema.employers, EMPLOYERS, seen.append) == 3
        assert sum(seen) == 3
        with engine.connect() as connection:
            back = bulk.read_rows(connection, schema.employers, EMPLOYERS.column_names)
        assert back.sort_by("employer_id").equals(EMPLOYERS.sort_by("employer_id"))
    finally:
        engine.dispose()


def test_read_of_an_empty_table_has_the_schema(settings: Settings) -> None:
    engine = open_store(settings)
    try:
        with engine.connect() as connection:
            empty = bulk.read_rows(connection, schema.findings)
        assert empty.num_rows == 0
        assert empty.schema.field("sanction_amount").type == pa.float64()
    finally:
        engine.dispose()


def test_bulk_writes_roll_back_with_the_transaction(settings: Settings) -> None:
    engine = open_store(settings)
    try:
        with pytest.raises(RuntimeError), engine.begin() as connection:
            bulk.insert_rows(connection, schema.employers, EMPLOYERS)
            raise RuntimeError("interrupted")
        with engine.connect() as connection:
            count = connection.execute(sa.select(sa.func.count()).select_from(schema.employers))
            assert count.scalar_one() == 0
    finally:
        engine.dispose()
