"""Ranking indexes carry the filter columns after rank, so filters are checked in the index.

A filtered top-100 walks an index in rank order until 100 rows pass the filters. With only
the leading columns in the index, every entry walked cost a table lookup to test the sector
or size band: thousands of lookups for "auto parts in one state" on a national snapshot.
With sector and size band (and, on the overall index, state and municipality) stored in the
index after rank, entries that fail are skipped without touching the table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: index name -> (leading columns, columns checked in the index after rank)
INDEXES: dict[str, tuple[list[str], list[str]]] = {
    "ix_snapshot_scores_rank": (
        ["snapshot_id", "target"],
        ["state", "municipality", "sector", "size_band"],
    ),
    "ix_snapshot_scores_state_rank": (["snapshot_id", "target", "state"], ["sector", "size_band"]),
    "ix_snapshot_scores_municipality_rank": (
        ["snapshot_id", "target", "municipality"],
        ["sector", "size_band"],
    ),
}


def upgrade() -> None:
    for name, (leading, checked) in INDEXES.items():
        op.drop_index(name, table_name="snapshot_scores")
        op.create_index(name, "snapshot_scores", [*leading, "rank", *checked])


def downgrade() -> None:
    for name, (leading, _) in INDEXES.items():
        op.drop_index(name, table_name="snapshot_scores")
        op.create_index(name, "snapshot_scores", [*leading, "rank"])
