import hashlib

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from calle.cli import app
from calle.store import schema
from service.keys import KEY_PREFIX, create_key, find_key, list_keys, revoke_key
from service.roles import Role

runner = CliRunner()


@pytest.fixture
def cli_env(settings, monkeypatch: pytest.MonkeyPatch):
    """The `calle` command pointed at the test's store."""
    monkeypatch.setenv("CALLE_HOME", str(settings.home))
    monkeypatch.setenv("CALLE_DATABASE_URL", settings.store_url)
    return settings


def stored_hashes(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(schema.api_keys.c.key_hash)).scalars())


def test_only_a_hash_of_a_key_is_stored_and_it_finds_the_key(engine):
    record, key = create_key(engine, Role.planner, "Ana")
    assert key.startswith(KEY_PREFIX) and len(key) > 40
    assert stored_hashes(engine) == [hashlib.sha256(key.encode()).hexdigest()]
    with engine.connect() as connection:
        assert find_key(connection, key) == record
        assert find_key(connection, key + "x") is None


def test_keys_differ_and_revoking_is_idempotent(engine):
    first, key1 = create_key(engine, "admin", "a")
    second, key2 = create_key(engine, "admin", "b")
    assert key1 != key2 and first.key_id != second.key_id
    revoked = revoke_key(engine, first.key_id)
    assert revoked.revoked
    assert revoke_key(engine, first.key_id).revoked_at == revoked.revoked_at
    assert [k.revoked for k in list_keys(engine)] == [True, False]


def test_bad_roles_names_and_ids_are_refused(engine):
    with pytest.raises(ValueError):
        create_key(engine, "superuser", "x")
    with pytest.raises(ValueError, match="name"):
        create_key(engine, Role.admin, "  ")
    with pytest.raises(ValueError, match="calle keys list"):
        revoke_key(engine, "missing")


def test_calle_keys_create_list_revoke(cli_env, engine):
    created = runner.invoke(app, ["keys", "create", "--role", "planner", "--name", "Ana López"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith(KEY_PREFIX) and " " not in key
    assert key not in stored_hashes(engine)
    with engine.connect() as connection:
        record = find_key(connection, key)
    assert record is not None and record.role is Role.planner

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0, listed.output
    assert record.key_id in listed.output and "Ana López" in listed.output
    assert "planner" in listed.output
    assert key not in listed.output and key[len(KEY_PREFIX) :] not in listed.output

    revoked = runner.invoke(app, ["keys", "revoke", record.key_id])
    assert revoked.exit_code == 0, revoked.output
    line = runner.invoke(app, ["keys", "list"]).output.strip().splitlines()[-1]
    assert line.startswith(record.key_id) and line.split()[-1] != "-"


def test_calle_keys_mistakes_end_in_one_line_and_exit_2(cli_env):
    bad_role = runner.invoke(app, ["keys", "create", "--role", "root", "--name", "x"])
    assert bad_role.exit_code == 2 and "--role" in bad_role.output
    unknown = runner.invoke(app, ["keys", "revoke", "nope"])
    assert unknown.exit_code == 2
    assert "nope" in unknown.output and "Traceback" not in unknown.output
    empty = runner.invoke(app, ["keys", "list"])
    assert empty.exit_code == 0 and "calle keys create" in empty.output
