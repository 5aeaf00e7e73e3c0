"""The data contract v1 (shared/contract.md) as code: tables, columns, types, keys.

This is the single definition the importer validates against, the synthetic world
writes, and the HTTP event intake will reuse. Change the contract here, nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ColumnType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"  # whole number >= 0
    NUMBER = "number"  # float
    DATE = "date"  # ISO YYYY-MM-DD
    FLAG = "flag"  # 0/1


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[str, ...] | None = None  # closed vocabulary, when the contract fixes one


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    #: Column-name prefix whose columns are kept as extra attributes (employers' ``attr_*``).
    extra_prefix: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


INSPECTION_ORIGINS: tuple[str, ...] = ("random", "planned", "complaint", "follow_up", "other")

T = ColumnType

EMPLOYERS = Table(
    name="employers",
    required=True,
    key=("employer_id",),
    columns=(
        Column("employer_id", T.TEXT, required=True),
        Column("name", T.TEXT),
        Column("state", T.TEXT, required=True),
        Column("municipality", T.TEXT),
        Column("sector", T.TEXT, required=True),
        Column("employees", T.INTEGER, minimum=0),
        Column("size_band", T.TEXT),
        Column("registered_on", T.DATE),
        Column("latitude", T.NUMBER, minimum=-90, maximum=90),
        Column("longitude", T.NUMBER, minimum=-180, maximum=180),
    ),
    extra_prefix="attr_",
)

INSPECTIONS = Table(
    name="inspections",
    required=True,
    key=("inspection_id",),
    columns=(
        Column("inspection_id", T.TEXT, required=True),
        Column("employer_id", T.TEXT, required=True),
        Column("date", T.DATE, required=True),
        Column("origin", T.TEXT, required=True, allowed=INSPECTION_ORIGINS),
        Column("office", T.TEXT),
        Column("inspector_id", T.TEXT),
        Column("violation_found", T.FLAG, required=True),
    ),
)

FINDINGS = Table(
    name="findings",
    required=False,
    key=("inspection_id", "category"),
    columns=(
        Column("inspection_id", T.TEXT, required=True),
        Column("category", T.TEXT, required=True),
        Column("violation", T.FLAG, required=True),
        Column("sanction_amount", T.NUMBER, minimum=0),
    ),
)

COMPLAINTS = Table(
    name="complaints",
    required=False,
    key=("complaint_id",),
    columns=(
        Column("complaint_id", T.TEXT, required=True),
        Column("employer_id", T.TEXT, required=True),
        Column("date", T.DATE, required=True),
        Column("category", T.TEXT),
        Column("channel", T.TEXT),
    ),
)

REMEDIATIONS = Table(
    name="remediations",
    required=False,
    # The contract gives remediations no id: a plan is identified by who, when and why.
    key=("employer_id", "opened_on", "source"),
    columns=(
        Column("employer_id", T.TEXT, required=True),
        Column("opened_on", T.DATE, required=True),
        Column("closed_on", T.DATE),
        Column("source", T.TEXT),
    ),
)

#: In dependency order: a table only references tables before it.
TABLES: tuple[Table, ...] = (EMPLOYERS, INSPECTIONS, FINDINGS, COMPLAINTS, REMEDIATIONS)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

#: Size bands of the Mexican directory (DENUE-like); other inspectorates may use their own.
SIZE_BANDS: tuple[str, ...] = ("micro", "small", "medium", "large")
