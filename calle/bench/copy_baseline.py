"""The import's baseline: the same CSV files loaded by a plain PostgreSQL COPY.

Unconstrained text tables, no validation, no keys, no indexes: the floor any import into
PostgreSQL can reach, measured in the same run as the import it is compared with.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from features.contract import TABLES


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(admin_url: str, prefix: str) -> str:
    """A fresh, empty database beside ``admin_url``'s, named after this process (so a leftover
    says whose it was); its SQLAlchemy URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def contract_rows(world: Path) -> int:
    """Data rows in a contract folder's CSV files."""
    total = 0
    for table in TABLES:
        path = world / f"{table.name}.csv"
        if path.exists():
            with path.open("rb") as handle:
                total += sum(1 for _ in handle) - 1
    return total


def plain_copy_seconds(world: Path, admin_url: str) -> float:
    """Seconds to COPY the folder's CSV files as text into a fresh database, nothing else."""
    url = create_database(admin_url, "calle_bench_copy")
    try:
        with psycopg.connect(libpq_url(url)) as connection:
            started = time.perf_counter()
            for table in TABLES:
                path = world / f"{table.name}.csv"
                if not path.exists():
                    continue
                header = path.open().readline().strip().split(",")
                columns = ", ".join(f'"{c}" text' for c in header)
                connection.execute(f'CREATE TABLE "{table.name}" ({columns})')
                copy_sql = f'COPY "{table.name}" FROM STDIN (FORMAT csv, HEADER true)'
                with connection.cursor().copy(copy_sql) as copy, path.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
            connection.commit()
            return time.perf_counter() - started
    finally:
        drop_database(admin_url, url)
