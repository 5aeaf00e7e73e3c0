"""Read the contract history out of the store as :class:`ContractFrames`.

Whole tables are read columnar (``COPY ... TO STDOUT`` on PostgreSQL), so a national-size
history loads in seconds; the point-in-time cut is applied later, per as-of date. A few
workplaces' records (for ``POST /score`` by id) are read by indexed lookups instead.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

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
            frames["attributes"] = pd.DataFrame(columns=["employer_id", "name", "value", "kind"])
    return ContractFrames(**frames).normalised()


def load_frames_for(engine: sa.Engine, employer_ids: Sequence[str]) -> ContractFrames:
    """Every record of the workplaces ``employer_ids`` (those the store knows), and nothing
    of anyone else."""
    ids = sorted(set(employer_ids))
    chunks = [ids[i : i + LOOKUP_CHUNK] for i in range(0, len(ids), LOOKUP_CHUNK)]
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in [*CONTRACT_TABLES, "attributes"]}
    with engine.connect() as connection:
        for chunk in chunks:
            for name, table in CONTRACT_TABLES.items():
                columns = [table.c[c] for c in _columns(name)]
                if name == "findings":
                    inspections = CONTRACT_TABLES["inspections"]
                    query = (
                        sa.select(*columns)
                        .join(inspections, inspections.c.inspection_id == table.c.inspection_id)
                        .where(inspections.c.employer_id.in_(chunk))
                    )
                else:
                    query = sa.select(*columns).where(table.c.employer_id.in_(chunk))
                parts[name].append(_frame(connection.execute(query), _columns(name)))
            query = (
                sa.select(
                    employer_attributes.c.employer_id,
                    employer_attributes.c.name,
                    employer_attributes.c.value,
                    attributes.c.kind,
                )
                .join(attributes, attributes.c.name == employer_attributes.c.name, isouter=True)
                .where(employer_attributes.c.employer_id.in_(chunk))
            )
            parts["attributes"].append(
                _frame(connection.execute(query), ["employer_id", "name", "value", "kind"])
            )
    frames = {
        name: pd.concat(found, ignore_index=True) if found else _empty(name)
        for name, found in parts.items()
        if name != "attributes"
    }
    frames["attributes"] = (
        pd.concat(parts["attributes"], ignore_index=True)
        if parts["attributes"]
        else pd.DataFrame(columns=["employer_id", "name", "value", "kind"])
    )
    return ContractFrames(**frames).normalised()


def _frame(result: sa.CursorResult, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(result.fetchall(), columns=columns)
