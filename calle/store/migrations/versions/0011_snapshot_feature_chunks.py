"""The feature rows each snapshot scored, so the service explains a score on first read
without recomputing the workplace's features from its records.

Existing snapshots get none: the service recomputes their rows from the store, as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshot_feature_chunks",
        sa.Column("snapshot_id", sa.Text, primary_key=True),
        sa.Column("chunk", sa.Integer, primary_key=True),
        sa.Column("first_employer_id", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("arrow", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["score_snapshots.snapshot_id"],
            name="fk_snapshot_feature_chunks_snapshot",
        ),
    )


def downgrade() -> None:
    op.drop_table("snapshot_feature_chunks")
