"""Read the contract history out of the store as :class:`ContractFrames`.

Whole tables are read columnar (``COPY ... TO STDOUT`` on PostgreSQL), so a national-size
history loads in seconds; the point-in-time cut is applied later, per as-of date. A few
workplaces' records (for ``POST /score`` by id) are read by indexed lookups instead.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import pandas as pd
import sqlalchemy as sa

from calle.store.bulk import read_rows
from calle.store.schema import CONTRACT_TABLES, attributes, employer_attributes
from features.contract import TABLES_BY_NAME
from features.frames import ContractFrames

#: Ids per ``IN (...)`` lookup: well under SQLite's limit on bound parameters.
LOOKUP_CHUNK = 500
#: What the population's peer rates need (features.matrix.population_peer_rates).
PEER_RATE_TABLES = ("employers", "inspections", "findings")
#: The long attributes frame: one row per workplace and ``attr_*`` name, with its kind.
ATTRIBUTE_COLUMNS = ("employer_id", "name", "value", "kind")


def _columns(name: str) -> list[str]:
    return list(TABLES_BY_NAME[name].column_names)


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in _columns(name)})


def load_frames(engine: sa.Engine, tables: Collection[str] | None = None) -> ContractFrames:
    """Every contract table (or only ``tables``; the others empty), dates as ``datetime64``;
    attributes long with their kind."""
    wanted = set(CONTRACT_TABLES) if tables is None else set(tables)
    frames: dict[str, pd.DataFrame] = {}
    with engine.connect() as connection:
        for name, table in CONTRACT_TABLES.items():
            if name not in wanted:
                frames[name] = _empty(name)
                continue
            frames[name] = read_rows(connection, table, _columns(name)).to_pandas(
                date_as_object=False
            )
        if tables is None:
            values = read_rows(connection, employer_attributes).to_pandas()
            kinds = read_rows(connection, attributes).to_pandas()
            frames["attributes"] = values.merge(kinds, on="name", how="left")
        else:
            frames["attributes"] = pd.DataFrame(columns=list(ATTRIBUTE_COLUMNS))
    return ContractFrames(**frames).normalised()


def load_frames_for(engine: sa.Engine, employer_ids: Sequence[str]) -> ContractFrames:
    """Every record of the workplaces ``employer_ids`` (those the store knows), and nothing
    of anyone else."""
    ids = sorted(set(employer_ids))
    chunks = [ids[i : i + LOOKUP_CHUNK] for i in range(0, len(ids), LOOKUP_CHUNK)]
    with engine.connect() as connection:
        parts = [_records_of(connection, lambda column, c=c: column.in_(c)) for c in chunks]
    return _concatenated(parts)


def load_frames_between(engine: sa.Engine, low: str | None, high: str | None) -> ContractFrames:
    """Every record of the workplaces whose id is in ``[low, high)`` (None: unbounded).

    One slice of the population, for a worker that computes features of its slice: the
    store hands each worker only its workplaces, so no machine holds the whole history."""

    def within(column: sa.ColumnElement) -> sa.ColumnElement[bool]:
        bounds = []
        if low is not None:
            bounds.append(column >= low)
        if high is not None:
            bounds.append(column < high)
        return sa.and_(sa.true(), *bounds)

    with engine.connect() as connection:
        return _concatenated([_records_of(connection, within)])


def empty_frames() -> ContractFrames:
    """The contract tables with their columns and no rows."""
    return _concatenated([])


def _records_of(
    connection: sa.Connection, chosen: Callable[[sa.ColumnElement], sa.ColumnElement[bool]]
) -> dict[str, pd.DataFrame]:
    """Every contract table's rows (and the attributes) of the workplaces whose employer id
    satisfies ``chosen``; findings through their inspection's workplace."""
    found: dict[str, pd.DataFrame] = {}
    for name, table in CONTRACT_TABLES.items():
        columns = [table.c[c] for c in _columns(name)]
        if name == "findings":
            inspections = CONTRACT_TABLES["inspections"]
            query = (
                sa.select(*columns)
                .join(inspections, inspections.c.inspection_id == table.c.inspection_id)
                .where(chosen(inspections.c.employer_id))
            )
        else:
            query = sa.select(*columns).where(chosen(table.c.employer_id))
        found[name] = _frame(connection.execute(query), _columns(name))
    query = (
        sa.select(
            employer_attributes.c.employer_id,
            employer_attributes.c.name,
            employer_attributes.c.value,
            attributes.c.kind,
        )
        .join(attributes, attributes.c.name == employer_attributes.c.name, isouter=True)
        .where(chosen(employer_attributes.c.employer_id))
    )
    found["attributes"] = _frame(connection.execute(query), list(ATTRIBUTE_COLUMNS))
    return found


def _concatenated(parts: list[dict[str, pd.DataFrame]]) -> ContractFrames:
    frames = {
        name: pd.concat([part[name] for part in parts], ignore_index=True)
        if parts
        else _empty(name)
        for name in CONTRACT_TABLES
    }
    frames["attributes"] = (
        pd.concat([part["attributes"] for part in parts], ignore_index=True)
        if parts
        else pd.DataFrame(columns=list(ATTRIBUTE_COLUMNS))
    )
    return ContractFrames(**frames).normalised()


def _frame(result: sa.CursorResult, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(result.fetchall(), columns=columns)
