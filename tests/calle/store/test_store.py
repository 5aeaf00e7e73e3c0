"""The store opens, migrates idempotently and enforces its keys, on both engines."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from calle.settings import Settings
from calle.store import open_store, schema
from calle.store.migrate import current_revision, head_revision


def test_open_store_creates_every_table_at_head(settings: Settings) -> None:
    engine = open_store(settings)
    try:
        names = set(sa.inspect(engine).get_table_names())
        assert set(schema.metadata.tables) <= names
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
    finally:
        engine.dispose()


def test_open_store_twice_is_a_no_op(settings: Settings) -> None:
    open_store(settings).dispose()
    engine = open_store(settings)
    try:
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
    finally:
        engine.dispose()


def test_migrations_match_the_schema_module(settings: Settings) -> None:
    engine = open_store(settings)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, schema.metadata) == []
    finally:
        engine.dispose()


def test_sqlite_default_lives_under_home(tmp_path) -> None:
    settings = Settings(home=tmp_path / "new-home", database_url=None)
    engine = open_store(settings)
    engine.dispose()
    assert (tmp_path / "new-home" / "calle.db").is_file()


def test_foreign_keys_are_enforced(settings: Settings) -> None:
    engine = open_store(settings)
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(
                schema.inspections.insert().values(
                    inspection_id="I1",
                    employer_id="nobody",
                    date=date(2020, 1, 1),
                    origin="random",
                    violation_found=0,
                )
            )
    finally:
        engine.dispose()
