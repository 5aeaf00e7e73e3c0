"""Score snapshots: which model scored the population as of when, and every score.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "score_snapshots",
        sa.Column("snapshot_id", sa.Text, primary_key=True),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("model_version", sa.Text, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("employers", sa.Integer, nullable=False),
        sa.Column("targets", sa.Text, nullable=False),
    )
    op.create_table(
        "snapshot_scores",
        sa.Column("snapshot_id", sa.Text, primary_key=True),
        sa.Column("target", sa.Text, primary_key=True),
        sa.Column("employer_id", sa.Text, primary_key=True),
        sa.Column("probability", sa.Float, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("percentile", sa.Float, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["score_snapshots.snapshot_id"], name="fk_snapshot_scores_snapshot"
        ),
    )
    op.create_index("ix_snapshot_scores_rank", "snapshot_scores", ["snapshot_id", "target", "rank"])


def downgrade() -> None:
    op.drop_index("ix_snapshot_scores_rank", table_name="snapshot_scores")
    op.drop_table("snapshot_scores")
    op.drop_table("score_snapshots")
