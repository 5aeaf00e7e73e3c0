"""The store: one relational database (SQLite by default, PostgreSQL in production).

Open it with :func:`open_store`; the schema lives in :mod:`calle.store.schema` and evolves
only through the Alembic migrations in ``migrations/versions``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from calle.settings import Settings
from calle.store.migrate import upgrade_to_head


def open_store(settings: Settings) -> sa.Engine:
    """An engine on the store, its schema upgraded to head (idempotent).

    For SQLite the home folder is created and foreign keys are switched on for every
    connection (SQLite leaves them off by default).
    """
    url = make_url(settings.store_url)
    if url.get_backend_name() == "sqlite":
        settings.home.mkdir(parents=True, exist_ok=True)
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args=_POSTGRES_OPTIONS if _is_postgres(url) else {})
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    upgrade_to_head(engine)
    return engine


@contextmanager
def statement_connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection on which every statement is its own transaction (the driver's autocommit).

    For the service's hot paths: reads of committed data, and writes of one statement (an
    audit row, a batch of reasons as one INSERT), atomic on their own. It spares the BEGIN
    and the ROLLBACK or COMMIT round trips of a transaction: 0.35 ms against 0.19 ms per
    use on PostgreSQL on this machine, up to a fifth of a read's time in a profile of the
    service. PostgreSQL's READ COMMITTED gives each statement its own view even inside a
    transaction, so reads see nothing different there. Not for several writes that must
    land together: use ``engine.begin()``.
    """
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


#: Every statement is planned for its own values (psycopg prepares a statement after five
#: runs, and PostgreSQL then may settle on one generic plan for every value: a ranking by
#: a rare sector walked a whole state instead of that sector's index, 50 ms instead of 5),
#: and without JIT compilation, which spent seconds on a ranking query estimated costly.
_POSTGRES_OPTIONS = {"options": "-c plan_cache_mode=force_custom_plan -c jit=off"}


def _is_postgres(url: sa.URL) -> bool:
    return url.get_backend_name() == "postgresql"


def _enable_sqlite_foreign_keys(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()
