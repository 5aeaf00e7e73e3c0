"""Bulk reads and writes of whole columns, the fast path of each engine.

PostgreSQL: ``COPY ... FROM STDIN`` / ``COPY (SELECT ...) TO STDOUT`` in CSV on the raw
psycopg connection; SQLite: ``executemany`` on the raw sqlite3 connection. Both run on
the caller's SQLAlchemy connection, so they join its transaction: a rollback undoes them.
Rows are never built as ORM objects; data moves as Arrow tables.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa

#: Rows per COPY chunk or executemany batch; also the progress granularity.
BATCH_ROWS = 200_000


def arrow_type(column: sa.Column) -> pa.DataType:
    """The Arrow type a store column is read into and written from."""
    column_type = column.type
    if isinstance(column_type, sa.Date):
        return pa.date32()
    if isinstance(column_type, sa.DateTime):
        return pa.string()
    if isinstance(column_type, sa.Integer):  # SmallInteger is an Integer
        return pa.int64()
    if isinstance(column_type, sa.Float):
        return pa.float64()
    return pa.string()


def arrow_schema(table: sa.Table, columns: Sequence[str]) -> pa.Schema:
    return pa.schema([(name, arrow_type(table.c[name])) for name in columns])


def insert_rows(
    connection: sa.Connection,
    table: sa.Table,
    rows: pa.Table,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Append ``rows`` (columns named as in ``table``) to ``table``; returns the row count."""
    columns = list(rows.column_names)
    rows = rows.cast(arrow_schema(table, columns))
    write = _copy_in if connection.dialect.name == "postgresql" else _executemany
    for start in range(0, rows.num_rows, BATCH_ROWS):
        batch = rows.slice(start, BATCH_ROWS)
        write(connection, table.name, columns, batch)
        if progress is not None:
            progress(batch.num_rows)
    return rows.num_rows


def read_rows(
    connection: sa.Connection, table: sa.Table, columns: Sequence[str] | None = None
) -> pa.Table:
    """All rows of ``table`` (selected ``columns``), typed by :func:`arrow_type`."""
    columns = list(columns or table.c.keys())
    schema = arrow_schema(table, columns)
    if connection.dialect.name == "postgresql":
        return _copy_out(connection, table.name, schema)
    return _fetch_all(connection, table.name, schema)


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _copy_in(connection: sa.Connection, table: str, columns: list[str], rows: pa.Table) -> None:
    buffer = io.BytesIO()
    pa_csv.write_csv(rows, buffer, pa_csv.WriteOptions(include_header=False))
    raw = connection.connection.dbapi_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f'COPY "{table}" ({_quoted(columns)}) FROM STDIN (FORMAT csv)') as copy,
    ):
        copy.write(buffer.getbuffer())


def _copy_out(connection: sa.Connection, table: str, schema: pa.Schema) -> pa.Table:
    buffer = io.BytesIO()
    raw = connection.connection.dbapi_connection
    sql = f'COPY (SELECT {_quoted(schema.names)} FROM "{table}") TO STDOUT (FORMAT csv)'
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for block in copy:
            buffer.write(block)
    if buffer.tell() == 0:
        return schema.empty_table()
    buffer.seek(0)
    return pa_csv.read_csv(
        buffer,
        read_options=pa_csv.ReadOptions(column_names=schema.names),
        convert_options=pa_csv.ConvertOptions(
            column_types=schema,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


def _executemany(connection: sa.Connection, table: str, columns: list[str], rows: pa.Table) -> None:
    # sqlite3 stores dates as ISO text, as SQLAlchemy's Date type does on SQLite.
    values = [
        (column.cast(pa.string()) if pa.types.is_date(column.type) else column).to_pylist()
        for column in rows.columns
    ]
    placeholders = ", ".join("?" for _ in columns)
    raw = connection.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.executemany(
            f'INSERT INTO "{table}" ({_quoted(columns)}) VALUES ({placeholders})',
            zip(*values, strict=True),
        )
    finally:
        cursor.close()


def _fetch_all(connection: sa.Connection, table: str, schema: pa.Schema) -> pa.Table:
    raw = connection.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.execute(f'SELECT {_quoted(schema.names)} FROM "{table}"')
        rows = cursor.fetchall()
    finally:
        cursor.close()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema.names]
    arrays = []
    for values, field in zip(columns, schema, strict=True):
        source_type = pa.string() if pa.types.is_date(field.type) else field.type
        arrays.append(pa.array(values, type=source_type).cast(field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def refresh_statistics(engine: sa.Engine, tables: Sequence[sa.Table]) -> None:
    """Have PostgreSQL's planner learn the new contents after a bulk load, and mark the new
    pages all-visible (``VACUUM (ANALYZE)``).

    Without it, freshly loaded tables have no statistics until autovacuum comes round, and
    the planner may pick seq scans where an index would answer in a millisecond; and until
    pages are marked visible, an index that holds every column a query needs (the ranking
    walks) still reads the table row by row. SQLite plans from its indexes alone; nothing
    to do there.
    """
    if engine.dialect.name != "postgresql":
        return
    # VACUUM cannot run inside a transaction block
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            connection.execute(sa.text(f'VACUUM (ANALYZE) "{table.name}"'))
