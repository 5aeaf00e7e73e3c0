"""Monitoring reports: the champion's drift measured at each scoring run.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_reports",
        sa.Column("snapshot_id", sa.Text, primary_key=True),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("model_version", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["score_snapshots.snapshot_id"], name="fk_monitoring_reports_snapshot"
        ),
        sa.Index("ix_monitoring_reports_version", "model_name", "model_version", "created_at"),
    )


def downgrade() -> None:
    op.drop_table("monitoring_reports")
