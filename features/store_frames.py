"""Read the whole contract history out of the store as :class:`ContractFrames`.

Reads are columnar (``COPY ... TO STDOUT`` on PostgreSQL), so a national-size history
loads in seconds; the point-in-time cut is applied later, per as-of date.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from calle.store.bulk import read_rows
from calle.store.schema import CONTRACT_TABLES, attributes, employer_attributes
from features.contract import TABLES_BY_NAME
from features.frames import ContractFrames


def load_frames(engine: sa.Engine) -> ContractFrames:
    """Every contract table, dates as ``datetime64``; attributes long with their kind."""
    frames: dict[str, pd.DataFrame] = {}
    with engine.connect() as connection:
        for name, table in CONTRACT_TABLES.items():
            columns = list(TABLES_BY_NAME[name].column_names)
            frames[name] = read_rows(connection, table, columns).to_pandas(date_as_object=False)
        values = read_rows(connection, employer_attributes).to_pandas()
        kinds = read_rows(connection, attributes).to_pandas()
    frames["attributes"] = values.merge(kinds, on="name", how="left")
    return ContractFrames(**frames).normalised()
