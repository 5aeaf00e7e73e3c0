"""Each stored score carries its workplace's state, municipality, sector and size band.

Rankings filter by them; kept beside the score, with indexes led by (snapshot, target) and
ending in rank, a filtered top-100 reads the index in rank order instead of walking the
whole ranking and looking each workplace up (seconds on a national snapshot). Existing
snapshots are filled in from the directory.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("state", "municipality", "sector", "size_band")


def upgrade() -> None:
    with op.batch_alter_table("snapshot_scores") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Text, nullable=True))
    for name in COLUMNS:
        op.execute(
            f"UPDATE snapshot_scores SET {name} = (SELECT employers.{name} FROM employers "
            "WHERE employers.employer_id = snapshot_scores.employer_id)"
        )
    op.create_index(
        "ix_snapshot_scores_state_rank",
        "snapshot_scores",
        ["snapshot_id", "target", "state", "rank"],
    )
    op.create_index(
        "ix_snapshot_scores_municipality_rank",
        "snapshot_scores",
        ["snapshot_id", "target", "municipality", "rank"],
    )


def downgrade() -> None:
    op.drop_index("ix_snapshot_scores_municipality_rank", table_name="snapshot_scores")
    op.drop_index("ix_snapshot_scores_state_rank", table_name="snapshot_scores")
    with op.batch_alter_table("snapshot_scores") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
