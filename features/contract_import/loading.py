"""Rows between the import's typed frames and the store: read what is stored, write what
is new. All through :mod:`calle.store.bulk`, on the import's one connection/transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from calle.store import bulk, schema
from features.contract import Table
from features.contract_import.reconcile import key_of

_NULLABLE_TYPES = {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype()}


def stored_rows(connection: sa.Connection, table: Table) -> pd.DataFrame:
    """The stored rows of a contract table, typed as the import types a file's rows."""
    columns = list(table.column_names)
    data = bulk.read_rows(connection, schema.CONTRACT_TABLES[table.name], columns)
    return _typed_frame(data)


def stored_rows_with(
    connection: sa.Connection, table: Table, values: Mapping[str, str]
) -> pd.DataFrame:
    """The stored rows of a contract table whose columns equal ``values``, typed as
    :func:`stored_rows` types them: one record (the HTTP intake) reads its few rows by
    index instead of the whole table."""
    store_table = schema.CONTRACT_TABLES[table.name]
    columns = list(table.column_names)
    query = sa.select(*(store_table.c[name] for name in columns)).where(
        *(store_table.c[name] == value for name, value in values.items())
    )
    rows = [dict(row) for row in connection.execute(query).mappings()]
    return _typed_frame(pa.Table.from_pylist(rows, schema=bulk.arrow_schema(store_table, columns)))


def stored_employers(connection: sa.Connection, attribute_names: list[str]) -> pd.DataFrame:
    """Stored employers, with one column per attribute in ``attribute_names``."""
    from features.contract import EMPLOYERS

    employers = stored_rows(connection, EMPLOYERS)
    if not attribute_names or employers.empty:
        for name in attribute_names:
            employers[name] = pd.Series(pd.NA, index=employers.index, dtype="str")
        return employers
    values = _typed_frame(bulk.read_rows(connection, schema.employer_attributes))
    values = values[values["name"].isin(attribute_names)]
    wide = values.pivot(index="employer_id", columns="name", values="value")
    wide = wide.reindex(columns=attribute_names)
    joined = employers.join(wide, on="employer_id")
    for name in attribute_names:
        joined[name] = joined[name].astype("str")
    return joined


def stored_attribute_kinds(connection: sa.Connection) -> dict[str, str]:
    rows = connection.execute(sa.select(schema.attributes.c.name, schema.attributes.c.kind))
    return {name: kind for name, kind in rows}


def _typed_frame(data: pa.Table) -> pd.DataFrame:
    dates = [i for i, f in enumerate(data.schema) if pa.types.is_date(f.type)]
    for i in dates:  # dates as ISO text, like the validated file values
        data = data.set_column(i, data.field(i).name, data.column(i).cast(pa.string()))
    return data.to_pandas(types_mapper=_NULLABLE_TYPES.get)


def write_rows(
    connection: sa.Connection,
    table_name: str,
    rows: pd.DataFrame,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert ``rows`` (new to the store, once per key) into the store's ``table_name``."""
    store_table = schema.CONTRACT_TABLES[table_name]
    columns = [name for name in rows.columns if name in store_table.c]
    frame = rows[columns]
    if table_name == "remediations":
        frame = frame.assign(remediation_key=key_of(frame, ("employer_id", "opened_on", "source")))
    data = pa.Table.from_pandas(frame, preserve_index=False)
    return bulk.insert_rows(connection, store_table, data, progress)


def attribute_kinds(new_values: pd.DataFrame, known: dict[str, str]) -> dict[str, str]:
    """Kind of each attribute column: numeric while every value so far is a number.

    A numeric attribute that receives text turns categorical (never back): a feature
    built on it must accept every stored value.
    """
    kinds: dict[str, str] = {}
    for name in new_values.columns:
        values = new_values[name].dropna()
        numeric = bool(pd.to_numeric(values, errors="coerce").notna().all())
        kind = "numeric" if numeric else "categorical"
        if known.get(name) == "categorical":
            kind = "categorical"
        if name in known or len(values):
            kinds[name] = kind
    return kinds


def write_attributes(
    connection: sa.Connection,
    new_employers: pd.DataFrame,
    attribute_names: list[str],
    kinds: dict[str, str],
    known: dict[str, str],
) -> int:
    """Register new attributes (or their change to categorical), then store the values."""
    for name, kind in kinds.items():
        if name not in known:
            connection.execute(schema.attributes.insert().values(name=name, kind=kind))
        elif known[name] != kind:
            connection.execute(
                schema.attributes.update().where(schema.attributes.c.name == name).values(kind=kind)
            )
    if not attribute_names or new_employers.empty:
        return 0
    long = new_employers.melt(
        id_vars="employer_id", value_vars=attribute_names, var_name="name", value_name="value"
    ).dropna(subset=["value"])
    data = pa.Table.from_pandas(long, preserve_index=False)
    return bulk.insert_rows(connection, schema.employer_attributes, data)
