"""Alembic environment: always online, on the connection handed over by ``migrate.py``."""

from __future__ import annotations

from alembic import context

from calle.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded by calle.store.migrate
    raise RuntimeError("run migrations through calle.store.migrate, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
