"""Browser sessions of the dashboard: signed in once with an API key, then a cookie.

The cookie holds 256 random bits; the store keeps only their SHA-256 hash, the key it stands
for, its expiry and a CSRF token that every form must echo. A session ends at sign-out, at
expiry, or when its key is revoked (checked on every request), so a revoked key locks its
browsers out as it locks out the API. Sessions live in the store, not in a worker's memory,
so every worker of ``calle serve --workers N`` knows them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from calle.store import schema
from service.keys import ApiKey
from service.roles import Role
from service.timestamps import as_utc

COOKIE = "calle_session"


@dataclass(frozen=True)
class UiSession:
    key: ApiKey
    csrf_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(engine: sa.Engine, key: ApiKey, hours: float) -> tuple[str, UiSession]:
    """A new session for ``key``: (the cookie's value, shown to the browser only)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            schema.ui_sessions.insert().values(
                session_hash=_hash(token),
                key_id=key.key_id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    return token, UiSession(key, csrf)


def find_session(engine: sa.Engine, token: str | None) -> UiSession | None:
    """The live session the cookie names, or None (unknown, ended, expired, key revoked)."""
    if not token:
        return None
    sessions, keys = schema.ui_sessions, schema.api_keys
    query = (
        sa.select(
            sessions.c.csrf_token,
            sessions.c.expires_at,
            sessions.c.ended_at,
            keys.c.key_id,
            keys.c.name,
            keys.c.role,
            keys.c.created_at,
            keys.c.revoked_at,
        )
        .join(keys, keys.c.key_id == sessions.c.key_id)
        .where(sessions.c.session_hash == _hash(token))
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None or row.ended_at is not None or row.revoked_at is not None:
        return None
    if as_utc(row.expires_at) <= datetime.now(UTC):
        return None
    key = ApiKey(
        key_id=row.key_id,
        name=row.name,
        role=Role(row.role),
        created_at=as_utc(row.created_at),
        revoked_at=None,
    )
    return UiSession(key, row.csrf_token)


def end_session(engine: sa.Engine, token: str | None) -> None:
    if not token:
        return
    table = schema.ui_sessions
    with engine.begin() as connection:
        connection.execute(
            table.update()
            .where(table.c.session_hash == _hash(token), table.c.ended_at.is_(None))
            .values(ended_at=datetime.now(UTC))
        )
