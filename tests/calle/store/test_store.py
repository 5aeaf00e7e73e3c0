"""The store opens, migrates idempotently and enforces its keys, on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from calle.settings import Settings
from calle.store import open_store, schema
from calle.store.migrate import current_revision, head_revision
from features.contract_import import import_folder
from tests.conftest import _fresh_postgres_database


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


@pytest.fixture
def postgres_settings(postgres_server: str, tmp_path) -> Iterator[Settings]:
    """A fresh PostgreSQL store only: what is tested here is PostgreSQL's planner."""
    for url in _fresh_postgres_database(postgres_server):
        yield Settings(home=tmp_path / "home", database_url=url)


@pytest.mark.postgres
def test_after_an_import_postgresql_has_fresh_planner_statistics(postgres_settings, small_world):
    """Without ANALYZE, a freshly loaded national store is planned from no statistics."""
    import_folder(small_world, postgres_settings)
    engine = open_store(postgres_settings)
    try:
        with engine.connect() as connection:
            estimated = dict(
                connection.execute(
                    sa.text(
                        "SELECT relname, reltuples FROM pg_class WHERE relname IN "
                        "('employers', 'inspections', 'findings', 'complaints')"
                    )
                ).all()
            )
    finally:
        engine.dispose()
    assert len(estimated) == 4 and min(estimated.values()) > 0, estimated
