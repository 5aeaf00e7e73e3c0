"""API keys: create (shown once), list, revoke, and look up the key a request presents.

Only a SHA-256 hash of each key is stored. The keys are 256 random bits, so a plain
(unsalted, fast) hash is safe: there is nothing to guess, and the hash lets a request's key
be found by an index lookup. The short public ``key_id`` names a key in listings, in the
audit log and when revoking it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from calle.store import schema
from service.roles import Role
from service.timestamps import as_utc

#: Every key starts with this, so a leaked one is recognisable (e.g. by secret scanners).
KEY_PREFIX = "calle_"


@dataclass(frozen=True)
class ApiKey:
    """A key's public record: never the key itself."""

    key_id: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class UnknownKeyError(ValueError):
    """No key has that id."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(engine: sa.Engine, role: Role | str, name: str) -> tuple[ApiKey, str]:
    """Store a new key for ``role`` and return its record and the key (the only time it exists
    in clear)."""
    role = Role(role)
    name = name.strip()
    if not name:
        raise ValueError("a key needs a non-empty name (who or what uses it)")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        key_id=secrets.token_hex(6),
        name=name,
        role=role,
        created_at=datetime.now(UTC),
        revoked_at=None,
    )
    with engine.begin() as connection:
        connection.execute(
            schema.api_keys.insert().values(
                key_id=record.key_id,
                name=record.name,
                role=record.role.value,
                key_hash=hash_key(key),
                created_at=record.created_at,
            )
        )
    return record, key


def _record(row: sa.Row) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,
        name=row.name,
        role=Role(row.role),
        created_at=as_utc(row.created_at),
        revoked_at=None if row.revoked_at is None else as_utc(row.revoked_at),
    )


_PUBLIC_COLUMNS = (
    schema.api_keys.c.key_id,
    schema.api_keys.c.name,
    schema.api_keys.c.role,
    schema.api_keys.c.created_at,
    schema.api_keys.c.revoked_at,
)


def list_keys(engine: sa.Engine) -> list[ApiKey]:
    """Every key ever created, oldest first, revoked ones included (they explain the audit)."""
    query = sa.select(*_PUBLIC_COLUMNS).order_by(
        schema.api_keys.c.created_at, schema.api_keys.c.key_id
    )
    with engine.connect() as connection:
        return [_record(row) for row in connection.execute(query)]


def revoke_key(engine: sa.Engine, key_id: str) -> ApiKey:
    """Revoke a key from now on; revoking a revoked key changes nothing."""
    table = schema.api_keys
    with engine.begin() as connection:
        connection.execute(
            table.update()
            .where(table.c.key_id == key_id, table.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        row = connection.execute(
            sa.select(*_PUBLIC_COLUMNS).where(table.c.key_id == key_id)
        ).one_or_none()
    if row is None:
        raise UnknownKeyError(f"no key has the id {key_id!r} (see `calle keys list`)")
    return _record(row)


def find_key(connection: sa.Connection, key: str) -> ApiKey | None:
    """The record of the key a request presented, or None if no key matches."""
    if not key.startswith(KEY_PREFIX):
        return None
    row = connection.execute(
        sa.select(*_PUBLIC_COLUMNS).where(schema.api_keys.c.key_hash == hash_key(key))
    ).one_or_none()
    return None if row is None else _record(row)
