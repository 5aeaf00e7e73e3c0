"""Snapshots stored one row per workplace as compressed Arrow chunks, reasons on their own.

A row per workplace and target under four ranking indexes took 318 s to write for 1M
workplaces (6M rows) and could not reach national scale (30M rows) within the two minutes
rescoring may take. The scores now go into ``snapshot_score_chunks`` (Arrow IPC, zstd,
500k workplaces per row), ranked in memory by the service; the reasons explained so far
into ``snapshot_reasons``. Existing snapshots are converted, then ``snapshot_scores`` goes.

Self-contained on purpose: a migration is a frozen step, so it does not import the
package's current modules.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import json

import pyarrow as pa
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CHUNK_ROWS = 500_000
DIRECTORY_COLUMNS = ("state", "municipality", "sector", "size_band")
#: The ranking indexes of ``snapshot_scores`` as migration 0005 left them.
OLD_INDEX_COLUMNS = {
    "ix_snapshot_scores_rank": (
        *("snapshot_id", "target", "rank", "state", "municipality", "sector", "size_band"),
        "employer_id",
    ),
    "ix_snapshot_scores_state_rank": (
        *("snapshot_id", "target", "state", "rank", "sector", "size_band", "employer_id"),
    ),
    "ix_snapshot_scores_municipality_rank": (
        *("snapshot_id", "target", "municipality", "rank", "sector", "size_band", "employer_id"),
    ),
    "ix_snapshot_scores_sector_rank": (
        *("snapshot_id", "target", "sector", "state", "rank", "size_band", "employer_id"),
    ),
}


def upgrade() -> None:
    op.create_table(
        "snapshot_score_chunks",
        sa.Column("snapshot_id", sa.Text, primary_key=True),
        sa.Column("chunk", sa.Integer, primary_key=True),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("arrow", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["score_snapshots.snapshot_id"],
            name="fk_snapshot_score_chunks_snapshot",
        ),
    )
    op.create_table(
        "snapshot_reasons",
        sa.Column("snapshot_id", sa.Text, primary_key=True),
        sa.Column("target", sa.Text, primary_key=True),
        sa.Column("employer_id", sa.Text, primary_key=True),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["score_snapshots.snapshot_id"], name="fk_snapshot_reasons_snapshot"
        ),
    )
    connection = op.get_bind()
    snapshots = connection.execute(
        sa.text("SELECT snapshot_id, targets FROM score_snapshots ORDER BY snapshot_id")
    ).all()
    for snapshot_id, targets in snapshots:
        _convert(connection, snapshot_id, json.loads(targets))
    for name in OLD_INDEX_COLUMNS:
        op.drop_index(name, table_name="snapshot_scores")
    op.drop_table("snapshot_scores")


def _convert(connection: sa.Connection, snapshot_id: str, targets: list[str]) -> None:
    rows = connection.execute(
        sa.text(
            "SELECT target, employer_id, probability, rank, reasons, state, municipality, "
            "sector, size_band FROM snapshot_scores WHERE snapshot_id = :s "
            "ORDER BY employer_id, target"
        ),
        {"s": snapshot_id},
    ).all()
    directory: dict[str, tuple] = {}
    scores: dict[str, dict[str, tuple[float, int]]] = {t: {} for t in targets}
    reasons = []
    for row in rows:
        directory.setdefault(row.employer_id, tuple(getattr(row, c) for c in DIRECTORY_COLUMNS))
        scores.setdefault(row.target, {})[row.employer_id] = (row.probability, row.rank)
        if row.reasons is not None:
            reasons.append(
                {
                    "snapshot_id": snapshot_id,
                    "target": row.target,
                    "employer_id": row.employer_id,
                    "reasons": row.reasons,
                }
            )
    # a workplace is kept where every target scored it (as every snapshot was written)
    ids = [e for e in directory if all(e in scores[t] for t in targets)]
    columns: dict[str, pa.Array] = {"employer_id": pa.array(ids, pa.string())}
    for i, column in enumerate(DIRECTORY_COLUMNS):
        columns[column] = pa.array([directory[e][i] for e in ids], pa.string())
    for target in targets:
        columns[f"p_{target}"] = pa.array([scores[target][e][0] for e in ids], pa.float64())
        columns[f"rank_{target}"] = pa.array([scores[target][e][1] for e in ids], pa.int32())
    fields = [pa.field("employer_id", pa.string(), nullable=False)]
    fields += [pa.field(column, pa.string()) for column in DIRECTORY_COLUMNS]
    for target in targets:
        fields.append(pa.field(f"p_{target}", pa.float64(), nullable=False))
        fields.append(pa.field(f"rank_{target}", pa.int32(), nullable=False))
    table = pa.table(columns, schema=pa.schema(fields))
    chunks = sa.table(
        "snapshot_score_chunks",
        sa.column("snapshot_id"),
        sa.column("chunk"),
        sa.column("rows"),
        sa.column("arrow", sa.LargeBinary),
    )
    slices = [table.slice(s, CHUNK_ROWS) for s in range(0, max(table.num_rows, 1), CHUNK_ROWS)]
    for number, batch in enumerate(slices):
        sink = pa.BufferOutputStream()
        options = pa.ipc.IpcWriteOptions(compression="zstd")
        with pa.ipc.new_stream(sink, batch.schema, options=options) as writer:
            writer.write_table(batch)
        connection.execute(
            chunks.insert().values(
                snapshot_id=snapshot_id,
                chunk=number,
                rows=batch.num_rows,
                arrow=sink.getvalue().to_pybytes(),
            )
        )
    if reasons:
        kept = sa.table(
            "snapshot_reasons",
            sa.column("snapshot_id"),
            sa.column("target"),
            sa.column("employer_id"),
            sa.column("reasons"),
        )
        connection.execute(kept.insert(), reasons)


def downgrade() -> None:
    """Back to a row per workplace and target (slow at national scale, but nothing is lost)."""
    op.create_table(
        "snapshot_scores",
        sa.Column("snapshot_id", sa.Text, primary_key=True),
        sa.Column("target", sa.Text, primary_key=True),
        sa.Column("employer_id", sa.Text, primary_key=True),
        sa.Column("probability", sa.Float, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("percentile", sa.Float, nullable=False),
        sa.Column("reasons", sa.Text, nullable=True),
        *(sa.Column(column, sa.Text, nullable=True) for column in DIRECTORY_COLUMNS),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["score_snapshots.snapshot_id"], name="fk_snapshot_scores_snapshot"
        ),
    )
    connection = op.get_bind()
    long = sa.table(
        "snapshot_scores",
        *(
            sa.column(c)
            for c in (
                "snapshot_id",
                "target",
                "employer_id",
                "probability",
                "rank",
                "percentile",
                "reasons",
                *DIRECTORY_COLUMNS,
            )
        ),
    )
    snapshots = connection.execute(
        sa.text("SELECT snapshot_id, targets FROM score_snapshots")
    ).all()
    for snapshot_id, targets in snapshots:
        blobs = connection.execute(
            sa.text(
                "SELECT arrow FROM snapshot_score_chunks WHERE snapshot_id = :s ORDER BY chunk"
            ),
            {"s": snapshot_id},
        ).scalars()
        rows = [
            r
            for blob in blobs
            for r in pa.ipc.open_stream(pa.py_buffer(blob)).read_all().to_pylist()
        ]
        reasons = dict(
            ((target, employer_id), text)
            for target, employer_id, text in connection.execute(
                sa.text(
                    "SELECT target, employer_id, reasons FROM snapshot_reasons "
                    "WHERE snapshot_id = :s"
                ),
                {"s": snapshot_id},
            )
        )
        n = len(rows)
        values = [
            {
                "snapshot_id": snapshot_id,
                "target": target,
                "employer_id": row["employer_id"],
                "probability": row[f"p_{target}"],
                "rank": row[f"rank_{target}"],
                "percentile": 100.0 * (n - row[f"rank_{target}"]) / n,
                "reasons": reasons.get((target, row["employer_id"])),
                **{c: row[c] for c in DIRECTORY_COLUMNS},
            }
            for target in json.loads(targets)
            for row in rows
        ]
        if values:
            connection.execute(long.insert(), values)
    for name, columns in OLD_INDEX_COLUMNS.items():
        op.create_index(name, "snapshot_scores", list(columns))
    op.drop_table("snapshot_reasons")
    op.drop_table("snapshot_score_chunks")
