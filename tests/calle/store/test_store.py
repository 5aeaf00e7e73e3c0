"""The store opens, migrates idempotently and enforces its keys, on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from calle.settings import Settings
from calle.store import open_store, schema, statement_connection
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


def test_a_statement_connection_commits_each_statement_and_leaves_the_pool_transactional(
    settings: Settings,
) -> None:
    """Each statement lands on its own; the pooled connection it used goes back to
    transactions, so a later ``engine.connect()`` that does not commit still writes nothing."""
    engine = open_store(settings)
    probe = sa.table("probe", sa.column("n", sa.Integer))
    count = sa.select(sa.func.count()).select_from(probe)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE probe (n INTEGER)"))
        with statement_connection(engine) as connection:
            connection.execute(probe.insert().values(n=1))
            with engine.connect() as other:  # seen before the first connection is back
                assert other.execute(count).scalar_one() == 1
        for _ in range(3):  # each pooled connection, the one used above among them
            with engine.connect() as connection:
                connection.execute(probe.insert().values(n=2))  # never committed
        with engine.connect() as connection:
            assert connection.execute(sa.select(probe.c.n)).scalars().all() == [1]
    finally:
        engine.dispose()
