"""The store's tables as SQLAlchemy Core metadata, for queries and bulk writes.

The contract tables take their columns from :mod:`features.contract` (one definition of
names, types and required-ness); this module adds what only a database needs: keys,
foreign keys, indexes. The migrations under ``migrations/versions`` are frozen snapshots
of this metadata; a test checks that upgrading to head yields exactly these tables.
"""

from __future__ import annotations

import sqlalchemy as sa

from features.contract import (
    COMPLAINTS,
    EMPLOYERS,
    FINDINGS,
    INSPECTIONS,
    ColumnType,
)
from features.contract import Table as ContractTable

#: How each contract type is stored.
SQL_TYPES: dict[ColumnType, type[sa.types.TypeEngine]] = {
    ColumnType.TEXT: sa.Text,
    ColumnType.INTEGER: sa.Integer,
    ColumnType.NUMBER: sa.Float,
    ColumnType.DATE: sa.Date,
    ColumnType.FLAG: sa.SmallInteger,
}

#: Attribute kinds: numbers become numeric features, text categorical ones.
ATTRIBUTE_KINDS: tuple[str, ...] = ("numeric", "categorical")

metadata = sa.MetaData()


def _contract_columns(table: ContractTable, *, skip: tuple[str, ...] = ()) -> list[sa.Column]:
    """One SQL column per contract column; the contract's key columns form the primary key."""
    columns = []
    for column in table.columns:
        if column.name in skip:
            continue
        in_key = column.name in table.key
        columns.append(
            sa.Column(
                column.name,
                SQL_TYPES[column.type](),
                primary_key=in_key,
                nullable=not (in_key or column.required),
            )
        )
    return columns


employers = sa.Table("employers", metadata, *_contract_columns(EMPLOYERS))

attributes = sa.Table(
    "attributes",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.CheckConstraint("kind IN ('numeric', 'categorical')", name="ck_attributes_kind"),
)

employer_attributes = sa.Table(
    "employer_attributes",
    metadata,
    sa.Column(
        "employer_id",
        sa.Text,
        sa.ForeignKey("employers.employer_id", name="fk_employer_attributes_employer"),
        primary_key=True,
    ),
    sa.Column(
        "name",
        sa.Text,
        sa.ForeignKey("attributes.name", name="fk_employer_attributes_attribute"),
        primary_key=True,
    ),
    sa.Column("value", sa.Text, nullable=False),
)

inspections = sa.Table(
    "inspections",
    metadata,
    *_contract_columns(INSPECTIONS),
    sa.ForeignKeyConstraint(
        ["employer_id"], ["employers.employer_id"], name="fk_inspections_employer"
    ),
    sa.Index("ix_inspections_employer_id", "employer_id"),
    sa.Index("ix_inspections_date", "date"),
)

findings = sa.Table(
    "findings",
    metadata,
    *_contract_columns(FINDINGS),
    sa.ForeignKeyConstraint(
        ["inspection_id"], ["inspections.inspection_id"], name="fk_findings_inspection"
    ),
)

complaints = sa.Table(
    "complaints",
    metadata,
    *_contract_columns(COMPLAINTS),
    sa.ForeignKeyConstraint(
        ["employer_id"], ["employers.employer_id"], name="fk_complaints_employer"
    ),
    sa.Index("ix_complaints_employer_id", "employer_id"),
    sa.Index("ix_complaints_date", "date"),
)

#: The contract gives remediations no id and ``source`` may be missing, which a composite
#: primary key cannot hold; ``remediation_key`` is a surrogate derived from
#: (employer_id, opened_on, source) by :func:`remediation_key`, unique on both engines.
remediations = sa.Table(
    "remediations",
    metadata,
    sa.Column("remediation_key", sa.Text, primary_key=True),
    sa.Column("employer_id", sa.Text, nullable=False),
    sa.Column("opened_on", sa.Date, nullable=False),
    sa.Column("closed_on", sa.Date, nullable=True),
    sa.Column("source", sa.Text, nullable=True),
    sa.ForeignKeyConstraint(
        ["employer_id"], ["employers.employer_id"], name="fk_remediations_employer"
    ),
    sa.Index("ix_remediations_employer_id", "employer_id"),
)

imports = sa.Table(
    "imports",
    metadata,
    sa.Column("import_id", sa.Text, primary_key=True),
    sa.Column("folder", sa.Text, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("report", sa.Text, nullable=False),
)

#: One row per scoring run: which model scored the population, as of when.
score_snapshots = sa.Table(
    "score_snapshots",
    metadata,
    sa.Column("snapshot_id", sa.Text, primary_key=True),
    sa.Column("model_name", sa.Text, nullable=False),
    sa.Column("model_version", sa.Text, nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("employers", sa.Integer, nullable=False),
    sa.Column("targets", sa.Text, nullable=False),  # JSON list: "any" and the categories
    #: JSON of the population's peer-rate tables the scores used (migration 0009), so the
    #: service explains a score on read without reading every inspection again
    sa.Column("peer_rates", sa.Text, nullable=True),
)

#: Each snapshot's scores, one row per workplace, as zstd-compressed Arrow chunks
#: (:mod:`calle.store.snapshot_tables`; migration 0010): written in seconds at national scale
#: and ranked in memory by the service.
snapshot_score_chunks = sa.Table(
    "snapshot_score_chunks",
    metadata,
    sa.Column("snapshot_id", sa.Text, primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("arrow", sa.LargeBinary, nullable=False),
    sa.ForeignKeyConstraint(
        ["snapshot_id"], ["score_snapshots.snapshot_id"], name="fk_snapshot_score_chunks_snapshot"
    ),
)

#: The feature rows each snapshot scored, as zstd-compressed Arrow chunks sorted by employer
#: id (:mod:`calle.store.snapshot_features`; migration 0011): the service explains a score on
#: first read from them. Kept for each model's newest snapshot only.
snapshot_feature_chunks = sa.Table(
    "snapshot_feature_chunks",
    metadata,
    sa.Column("snapshot_id", sa.Text, primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    #: the smallest employer id in the chunk (ids compared as Python compares strings)
    sa.Column("first_employer_id", sa.Text, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("arrow", sa.LargeBinary, nullable=False),
    sa.ForeignKeyConstraint(
        ["snapshot_id"],
        ["score_snapshots.snapshot_id"],
        name="fk_snapshot_feature_chunks_snapshot",
    ),
)

#: The reasons of the scores explained so far: those planners read first, written by
#: `calle score`, and any other when first read (migration 0010).
snapshot_reasons = sa.Table(
    "snapshot_reasons",
    metadata,
    sa.Column("snapshot_id", sa.Text, primary_key=True),
    sa.Column("target", sa.Text, primary_key=True),
    sa.Column("employer_id", sa.Text, primary_key=True),
    #: JSON list of the top reasons raising this score: {"feature", "contribution", "value"}.
    sa.Column("reasons", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(
        ["snapshot_id"], ["score_snapshots.snapshot_id"], name="fk_snapshot_reasons_snapshot"
    ),
)

#: Inspection plans (issue 5): the resolved request that made each, per office its counts.
plans = sa.Table(
    "plans",
    metadata,
    sa.Column("plan_id", sa.Text, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),  # an API key id, or "cli"
    sa.Column("snapshot_id", sa.Text, nullable=False),
    sa.Column("model_name", sa.Text, nullable=False),
    sa.Column("model_version", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("request", sa.Text, nullable=False),  # JSON: the request, defaults filled in
    sa.Column("offices", sa.Text, nullable=False),  # JSON: per office, capacity and counts
    sa.ForeignKeyConstraint(
        ["snapshot_id"], ["score_snapshots.snapshot_id"], name="fk_plans_snapshot"
    ),
    sa.Index("ix_plans_created_at", "created_at"),
)

plan_visits = sa.Table(
    "plan_visits",
    metadata,
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

#: The champion's drift at each scoring run (issue 5): PSI of features and scores (JSON).
monitoring_reports = sa.Table(
    "monitoring_reports",
    metadata,
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

#: Browser sessions of the dashboard (issue 6): only a hash of the cookie is stored; a
#: session lives no longer than its key (revoking the key ends it) or its expiry.
ui_sessions = sa.Table(
    "ui_sessions",
    metadata,
    sa.Column("session_hash", sa.Text, primary_key=True),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("csrf_token", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["key_id"], ["api_keys.key_id"], name="fk_ui_sessions_key"),
)

#: API credentials: only a hash of the key is stored; the key is shown once, at creation.
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("key_hash", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(
        "role IN ('planner', 'ecms', 'data_scientist', 'admin')", name="ck_api_keys_role"
    ),
)

#: Every request that returns employer risk: who, role, when, what, with which filters.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("endpoint", sa.Text, nullable=False),
    sa.Column("filters", sa.Text, nullable=False),  # JSON object
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Index("ix_audit_log_at", "at"),
)

#: The store table holding each contract table's rows.
CONTRACT_TABLES: dict[str, sa.Table] = {
    "employers": employers,
    "inspections": inspections,
    "findings": findings,
    "complaints": complaints,
    "remediations": remediations,
}

#: Separates the parts of a remediation key; a control character no contract text holds.
_KEY_SEPARATOR = "\x1f"


def remediation_key(employer_id: str, opened_on: str, source: str | None) -> str:
    """The surrogate key of a remediation; ``opened_on`` as ISO text, missing source as ''."""
    return _KEY_SEPARATOR.join((employer_id, opened_on, source or ""))
