"""Ranking indexes carry the filter columns and the employer id after rank: a walk is
answered from the index alone.

A filtered top-100 walks an index in rank order until 100 rows pass the filters. With only
the leading columns in the index, every entry walked cost a table lookup to test the sector
or size band: thousands of lookups for "auto parts in one state" on a national snapshot.
With sector and size band (and, on the overall index, state and municipality) stored in the
index after rank, and the employer id last, entries that fail are skipped and those that
pass are read without touching the table (an index-only scan on PostgreSQL, once VACUUM has
marked the pages visible: see ``calle.store.bulk.refresh_statistics``).

A sector that is rare within a state (auto parts in Mexico City) would still walk the whole
state; a new index led by sector then state reads just that sector's entries, sorted by
rank afterwards (a few thousand at most).

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
        ["state", "municipality", "sector", "size_band", "employer_id"],
    ),
    "ix_snapshot_scores_state_rank": (
        ["snapshot_id", "target", "state"],
        ["sector", "size_band", "employer_id"],
    ),
    "ix_snapshot_scores_municipality_rank": (
        ["snapshot_id", "target", "municipality"],
        ["sector", "size_band", "employer_id"],
    ),
}


SECTOR_INDEX = "ix_snapshot_scores_sector_rank"
SECTOR_COLUMNS = ["snapshot_id", "target", "sector", "state", "rank", "size_band", "employer_id"]


def upgrade() -> None:
    for name, (leading, checked) in INDEXES.items():
        op.drop_index(name, table_name="snapshot_scores")
        op.create_index(name, "snapshot_scores", [*leading, "rank", *checked])
    op.create_index(SECTOR_INDEX, "snapshot_scores", SECTOR_COLUMNS)


def downgrade() -> None:
    op.drop_index(SECTOR_INDEX, table_name="snapshot_scores")
    for name, (leading, _) in INDEXES.items():
        op.drop_index(name, table_name="snapshot_scores")
        op.create_index(name, "snapshot_scores", [*leading, "rank"])
