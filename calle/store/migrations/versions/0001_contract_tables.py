"""Contract tables, employer attributes and the import log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "employers",
        sa.Column("employer_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("municipality", sa.Text, nullable=True),
        sa.Column("sector", sa.Text, nullable=False),
        sa.Column("employees", sa.Integer, nullable=True),
        sa.Column("size_band", sa.Text, nullable=True),
        sa.Column("registered_on", sa.Date, nullable=True),
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
    )
    op.create_table(
        "attributes",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('numeric', 'categorical')", name="ck_attributes_kind"),
    )
    op.create_table(
        "employer_attributes",
        sa.Column("employer_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_id"], ["employers.employer_id"], name="fk_employer_attributes_employer"
        ),
        sa.ForeignKeyConstraint(
            ["name"], ["attributes.name"], name="fk_employer_attributes_attribute"
        ),
    )
    op.create_table(
        "inspections",
        sa.Column("inspection_id", sa.Text, primary_key=True),
        sa.Column("employer_id", sa.Text, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("office", sa.Text, nullable=True),
        sa.Column("inspector_id", sa.Text, nullable=True),
        sa.Column("violation_found", sa.SmallInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_id"], ["employers.employer_id"], name="fk_inspections_employer"
        ),
    )
    op.create_index("ix_inspections_employer_id", "inspections", ["employer_id"])
    op.create_index("ix_inspections_date", "inspections", ["date"])
    op.create_table(
        "findings",
        sa.Column("inspection_id", sa.Text, primary_key=True),
        sa.Column("category", sa.Text, primary_key=True),
        sa.Column("violation", sa.SmallInteger, nullable=False),
        sa.Column("sanction_amount", sa.Float, nullable=True),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.inspection_id"], name="fk_findings_inspection"
        ),
    )
    op.create_table(
        "complaints",
        sa.Column("complaint_id", sa.Text, primary_key=True),
        sa.Column("employer_id", sa.Text, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("category", sa.Text, nullable=True),
        sa.Column("channel", sa.Text, nullable=True),
        sa.ForeignKeyConstraint(
            ["employer_id"], ["employers.employer_id"], name="fk_complaints_employer"
        ),
    )
    op.create_index("ix_complaints_employer_id", "complaints", ["employer_id"])
    op.create_index("ix_complaints_date", "complaints", ["date"])
    op.create_table(
        "remediations",
        sa.Column("remediation_key", sa.Text, primary_key=True),
        sa.Column("employer_id", sa.Text, nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column("source", sa.Text, nullable=True),
        sa.ForeignKeyConstraint(
            ["employer_id"], ["employers.employer_id"], name="fk_remediations_employer"
        ),
    )
    op.create_index("ix_remediations_employer_id", "remediations", ["employer_id"])
    op.create_table(
        "imports",
        sa.Column("import_id", sa.Text, primary_key=True),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for index, table in (
        ("ix_remediations_employer_id", "remediations"),
        ("ix_complaints_date", "complaints"),
        ("ix_complaints_employer_id", "complaints"),
        ("ix_inspections_date", "inspections"),
        ("ix_inspections_employer_id", "inspections"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "imports",
        "remediations",
        "complaints",
        "findings",
        "inspections",
        "employer_attributes",
        "attributes",
        "employers",
    ):
        op.drop_table(table)
