"""The population's peer rates each snapshot was scored with, for reasons explained on read.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("score_snapshots") as batch:
        batch.add_column(sa.Column("peer_rates", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("score_snapshots") as batch:
        batch.drop_column("peer_rates")
