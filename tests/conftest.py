"""Shared fixtures: real stores on both engines, and one small world per session.

PostgreSQL is never mocked or skipped: when the server is unreachable the
PostgreSQL-parametrised tests fail with a message saying how to start it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from calle.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get(
    "CALLE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True, scope="session")
def _no_outside_mlflow_server() -> Iterator[None]:
    """Tests never use the tracking server of the shell that runs them."""
    outside = os.environ.pop("MLFLOW_TRACKING_URI", None)
    yield
    if outside is not None:
        os.environ["MLFLOW_TRACKING_URI"] = outside


@pytest.fixture(autouse=True)
def _mlflow_environment_per_test() -> Iterator[None]:
    """MLflow's ``set_tracking_uri`` also exports MLFLOW_TRACKING_URI, which CALLE's settings
    respect: without this, one test's tracking store would leak into the next test or into a
    module fixture built after it. (``monkeypatch.delenv`` would not do: it restores nothing
    for a variable that was absent when it was called.)"""
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    yield
    os.environ.pop("MLFLOW_TRACKING_URI", None)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of the test PostgreSQL server, checked to answer."""
    engine = sa.create_engine(POSTGRES_ADMIN_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({error.orig}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "or point CALLE_TEST_POSTGRES_URL at a server.",
            pytrace=False,
        )
    finally:
        engine.dispose()
    return POSTGRES_ADMIN_URL


def _fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """Create an empty database for one test, drop it afterwards."""
    name = f"calle_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store's URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from _fresh_postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture(scope="session")
def compiled_trees_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of compiled boosters for the session: the same champion is served by many
    tests, and compiling it for each would only repeat the same work."""
    return tmp_path_factory.mktemp("compiled-trees")


@pytest.fixture
def settings(store_url: str, tmp_path: Path, compiled_trees_cache: Path) -> Settings:
    """Settings pointing at a fresh store and a private CALLE_HOME. The service reads the store
    on every request here, as tests change it between requests; the caches that spare a
    running service those reads are tested on their own (tests/service/test_read_cache.py)."""
    return Settings(
        home=tmp_path / "calle-home",
        database_url=store_url,
        key_cache_seconds=0,
        read_cache_seconds=0,
        compiled_trees_cache=compiled_trees_cache,
    )


SMALL_WORLD = {"employers": 3000, "years": 5, "seed": 7}


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small clean synthetic world (CSV), made once per test session."""
    from features.world import WorldConfig, generate_world

    out = tmp_path_factory.mktemp("small-world")
    generate_world(WorldConfig.from_cli(**SMALL_WORLD, messy=0.0, end=None), out, "csv")
    return out


@pytest.fixture(scope="session")
def small_world_frames(small_world: Path, tmp_path_factory: pytest.TempPathFactory):
    """The small world imported into a SQLite store and read back as frames (the real path)."""
    from calle.store import open_store
    from features.contract_import import import_folder
    from features.store_frames import load_frames

    home = tmp_path_factory.mktemp("small-world-store")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'store.db'}")
    import_folder(small_world, settings)
    engine = open_store(settings)
    try:
        return load_frames(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[object]:
    """A Dask cluster of two worker processes on this machine, as `CALLE_DASK_SCHEDULER=local:2`
    starts one: the distributed path runs on real workers in the tests, never simulated."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


@pytest.fixture
def dask_client(dask_cluster) -> Iterator[object]:
    from distributed import Client

    with Client(dask_cluster) as client:
        yield client
