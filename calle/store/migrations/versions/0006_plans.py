"""Inspection plans: the request that made each, and its planned visits.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("plan_id", sa.Text, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("snapshot_id", sa.Text, nullable=False),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("model_version", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("offices", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["score_snapshots.snapshot_id"], name="fk_plans_snapshot"
        ),
        sa.Index("ix_plans_created_at", "created_at"),
    )
    op.create_table(
        "plan_visits",
        sa.Column("plan_id", sa.Text, primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("office", sa.Text, nullable=False),
        sa.Column("employer_id", sa.Text, nullable=False),
        sa.Column("rank", sa.Integer, nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("selection", sa.Text, nullable=False),
        sa.Column("selection_probability", sa.Float, nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.plan_id"], name="fk_plan_visits_plan"),
        sa.UniqueConstraint("plan_id", "employer_id", name="uq_plan_visits_employer"),
        sa.CheckConstraint(
            "selection IN ('mandatory', 'model', 'exploration')", name="ck_plan_visits_selection"
        ),
    )


def downgrade() -> None:
    op.drop_table("plan_visits")
    op.drop_table("plans")
