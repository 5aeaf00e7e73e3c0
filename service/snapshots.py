"""Which score snapshot the service answers from: the newest one of the model it serves.

`calle score --model NAME` stores snapshots of other registered models too (a campaign's, a
data scientist's own); they never replace the ranking planners see, which comes from the
newest snapshot of the model the service follows (``service.registry.MODEL_NAME``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from calle.store import schema, statement_connection
from service.read_cache import ReadCache

#: The registered model whose champion the service scores with and whose snapshots it serves.
SERVED_MODEL = "employer-risk"


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot_id: str
    model_name: str
    model_version: str
    as_of: date
    employers: int
    targets: tuple[str, ...]


_COLUMNS = (
    schema.score_snapshots.c.snapshot_id,
    schema.score_snapshots.c.model_name,
    schema.score_snapshots.c.model_version,
    schema.score_snapshots.c.as_of,
    schema.score_snapshots.c.employers,
    schema.score_snapshots.c.targets,
)


def _info(row: sa.Row) -> SnapshotInfo:
    return SnapshotInfo(
        snapshot_id=row.snapshot_id,
        model_name=row.model_name,
        model_version=row.model_version,
        as_of=row.as_of,
        employers=row.employers,
        targets=tuple(json.loads(row.targets)),
    )


def latest_snapshot(connection: sa.Connection, model_name: str) -> SnapshotInfo | None:
    """The most recently created snapshot of ``model_name`` (ties: the larger id), or None
    before `calle score` has scored with it."""
    table = schema.score_snapshots
    row = connection.execute(
        sa.select(*_COLUMNS)
        .where(table.c.model_name == model_name)
        .order_by(table.c.created_at.desc(), table.c.snapshot_id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else _info(row)


def snapshot_by_id(connection: sa.Connection, snapshot_id: str) -> SnapshotInfo | None:
    row = connection.execute(
        sa.select(*_COLUMNS).where(schema.score_snapshots.c.snapshot_id == snapshot_id)
    ).one_or_none()
    return None if row is None else _info(row)


def current_snapshot(
    engine: sa.Engine, cache: ReadCache[SnapshotInfo], model_name: str = SERVED_MODEL
) -> SnapshotInfo | None:
    """The latest snapshot of ``model_name`` as this worker last read it (within
    ``CALLE_READ_CACHE_SECONDS``)."""

    def read() -> SnapshotInfo | None:
        with statement_connection(engine) as connection:
            return latest_snapshot(connection, model_name)

    return cache.get(("latest", model_name), read)


def stored_snapshot(
    engine: sa.Engine, cache: ReadCache[SnapshotInfo], snapshot_id: str
) -> SnapshotInfo | None:
    """The snapshot ``snapshot_id`` (stored snapshots never change, so keeping it is safe)."""

    def read() -> SnapshotInfo | None:
        with statement_connection(engine) as connection:
            return snapshot_by_id(connection, snapshot_id)

    return cache.get(("id", snapshot_id), read)
