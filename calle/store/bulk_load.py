"""A first load of a national history into empty PostgreSQL tables, with its foreign keys and
secondary indexes made once, after the rows, instead of row by row.

COPY into tables that check every row's foreign keys (a trigger per row, a lookup each) and
maintain their indexes row by row took 43 s of the 1M-workplace import (7.8M rows); the
same COPY into the tables with only their primary keys, then the indexes built and the keys
checked in one pass each, took 14 s. Primary keys stay (other tables' keys may reference
them). Everything runs in the caller's transaction: a row that breaks a key fails the whole
import when the key is made again, as it would have failed its COPY, and the tables are
never seen without their keys. Only empty tables are treated so: remaking an index over rows
already stored would cost more than it saves on a small import, and the locks it takes would
hold the service's reads of a store in use for the whole import.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa

log = logging.getLogger(__name__)


@contextmanager
def keys_made_after(connection: sa.Connection, tables: Sequence[sa.Table]) -> Iterator[None]:
    """Write rows inside this block; on PostgreSQL, those of ``tables`` that are empty now
    get their foreign keys and secondary indexes back only when it ends."""
    if connection.dialect.name != "postgresql":
        yield
        return
    empty = [table for table in tables if _is_empty(connection, table)]
    foreign_keys = [fk for table in empty for fk in table.foreign_key_constraints]
    indexes = [index for table in empty for index in table.indexes]
    for foreign_key in foreign_keys:
        connection.execute(sa.schema.DropConstraint(foreign_key))
    for index in indexes:
        connection.execute(sa.schema.DropIndex(index))
    yield
    started = time.perf_counter()
    for index in indexes:
        connection.execute(sa.schema.CreateIndex(index))
    for foreign_key in foreign_keys:
        connection.execute(sa.schema.AddConstraint(foreign_key))
    if indexes or foreign_keys:
        log.info(
            "first load of %s: %d indexes built and %d foreign keys checked in %.1f s",
            ", ".join(table.name for table in empty),
            len(indexes),
            len(foreign_keys),
            time.perf_counter() - started,
        )


def _is_empty(connection: sa.Connection, table: sa.Table) -> bool:
    return not connection.execute(sa.select(sa.exists().select_from(table))).scalar_one()
