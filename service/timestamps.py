"""Timestamps read from the store, as aware UTC datetimes on both engines.

The service writes every timestamp in UTC; SQLite hands them back naive and PostgreSQL in
the session's time zone, so reads go through :func:`as_utc` before they are compared or sent.
"""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
