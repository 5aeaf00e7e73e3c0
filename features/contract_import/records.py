"""One contract record checked exactly as ``calle import`` checks one row of a file.

The HTTP event intake (:mod:`service.events`) receives inspections, findings and
complaints one at a time. Instead of a second validator, a record becomes a one-row
:class:`SourceTable` and goes through the import's own steps in the import's order, so it
gets the import's reason codes: the cell checks (:func:`check_cells`), the references
(:data:`REFERENCES`: ``unknown_employer``, ``unknown_inspection``), the comparison with
the stored row of its key (:func:`compare_with_store`: ``present``, ``insert`` or
``duplicate_conflict``). Only the few stored rows the record needs are read, by key.

Where a record is not a file, and why:

- JSON values become the text a file would carry: null or absent is missing, booleans
  are 0/1 and numbers are written as a Parquet file delivers them (``12.0`` → ``12``),
  strings are trimmed. An object or an array can be no cell at all: ``bad_type``.
- One unparsable value is that record's ``bad_type`` (a file with no parsable value in a
  column stops the import as a wrong column; one record says nothing about a column).
- Fields outside the contract are refused (:func:`unknown_fields`), not dropped: the
  sender learns at once that something it sent was not kept.
- Findings arrive one by one, after their inspection, so "``violation_found`` equals any
  finding's violation" cannot be judged until the last one has come. What can be judged
  is refused: a finding with ``violation = 1`` under an inspection stored with
  ``violation_found = 0`` (``violation_found_mismatch``, the import's code). A finding
  with ``violation = 0`` under ``violation_found = 1`` is accepted: the violating finding
  may still come. An inspection cannot arrive after its findings (they reference it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from calle.settings import Settings
from calle.store import schema
from features.contract import FINDINGS, TABLES_BY_NAME, ColumnType, Table
from features.contract_import.cells import CheckedTable, check_cells
from features.contract_import.loading import stored_rows_with
from features.contract_import.reading import SourceTable
from features.contract_import.reconcile import (
    compare_with_store,
    content_columns,
    content_hash,
    reject_conflicts_in_file,
    reject_unknown_references,
)
from features.contract_import.run import REFERENCES, vocabularies

#: Reasons that say the record contradicts what is stored (not that it is malformed).
CONFLICTS: frozenset[str] = frozenset({"duplicate_conflict", "violation_found_mismatch"})


@dataclass(frozen=True)
class RecordCheck:
    """The verdict on one record: its import reason (None = accepted) and what to store."""

    table: Table
    reason: str | None
    #: ``insert`` (new to the store) or ``present`` (stored with the same content).
    status: str | None = None
    #: The record as stored (``present``) or as it will be stored (``insert``), JSON-ready.
    values: dict[str, Any] = field(default_factory=dict)
    #: For ``duplicate_conflict``: the fields whose stored value differs.
    differing: tuple[str, ...] = ()

    @property
    def field(self) -> str:
        """The field the reason names (``bad_type:date`` → ``date``)."""
        assert self.reason is not None
        name = self.reason.partition(":")[2]
        if name:
            return name
        for column, _target, reason in REFERENCES.values():
            if reason == self.reason:
                return column
        return ", ".join(self.table.key)


def unknown_fields(table: Table, names: Iterable[str]) -> list[str]:
    """The names outside ``table``'s contract columns, in the order given."""
    return [name for name in names if name not in table.column_names]


def check_record(
    connection: sa.Connection,
    table: Table,
    record: Mapping[str, Any],
    settings: Settings,
    today: date,
) -> RecordCheck:
    """Check ``record`` (contract fields only) as ``calle import`` checks a row of ``table``."""
    for column in table.columns:
        if isinstance(record.get(column.name), dict | list):
            return RecordCheck(table, f"bad_type:{column.name}")
    source = SourceTable(table, Path(f"{table.name} record"), _one_row(table, record))
    checked = check_cells(source, vocabularies(table, settings), today, whole_columns=False)
    reject_conflicts_in_file(checked)
    referenced = pd.DataFrame()
    if table.name in REFERENCES:
        column, target, reason = REFERENCES[table.name]
        value = checked.typed[column].iloc[0]
        if pd.notna(value):
            referenced = stored_rows_with(connection, TABLES_BY_NAME[target], {column: value})
        known = pd.Index(referenced[column]) if len(referenced) else pd.Index([], dtype=object)
        reject_unknown_references(checked, column, known, reason)
    stored = pd.DataFrame()
    if checked.open.iloc[0]:
        key = {name: checked.typed[name].iloc[0] for name in table.key}
        stored = stored_rows_with(connection, table, key)
    compare_with_store(checked, stored)
    if table.name == FINDINGS.name:
        _reject_unsupported_violation(checked, referenced)
    reason = checked.reason.iloc[0]
    if pd.notna(reason):
        differing = _differing(checked, stored) if reason == "duplicate_conflict" else ()
        return RecordCheck(table, str(reason), differing=differing)
    assert checked.status is not None
    status = str(checked.status.iloc[0])
    values = _json_values(stored if status == "present" else checked.typed, table)
    return RecordCheck(table, None, status, values)


def insert_record(connection: sa.Connection, check: RecordCheck) -> None:
    """Store an accepted new record in its contract table (the table the import fills).

    A plain INSERT, not the import's bulk path: a concurrent insert of the same key then
    fails as SQLAlchemy's ``IntegrityError`` on both engines, which the caller can retry.
    """
    assert check.reason is None and check.status == "insert"
    row = {
        column.name: (
            date.fromisoformat(value)
            if column.type == ColumnType.DATE and value is not None
            else value
        )
        for column in check.table.columns
        for value in [check.values[column.name]]
    }
    connection.execute(schema.CONTRACT_TABLES[check.table.name].insert().values(**row))


def hold_off_imports(connection: sa.Connection) -> None:
    """Wait for a running import and keep imports out until this transaction ends.

    An import reads the stored rows once, then writes; a record stored in between would
    make its insert fail. The import takes ``imports`` in EXCLUSIVE mode; SHARE conflicts
    with it but not with itself, so events still run side by side. SQLite serialises
    writers on its own.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("LOCK TABLE imports IN SHARE MODE"))


def _one_row(table: Table, record: Mapping[str, Any]) -> pd.DataFrame:
    """The record as the canonical text the import reads from a file, every contract
    column present (``""`` = missing), indexed as line 1."""
    texts = [_as_text(record.get(name)) for name in table.column_names]
    trimmed = pc.utf8_trim_whitespace(pa.array(texts, type=pa.string())).to_pylist()
    return pd.DataFrame(
        [trimmed], columns=list(table.column_names), index=pd.Index([1], name="line")
    )


def _as_text(value: Any) -> str:
    """A JSON scalar as a Parquet file's cell reads (reading._as_text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return pa.array([value], type=pa.float64()).cast(pa.string())[0].as_py()
    return str(value)


def _reject_unsupported_violation(checked: CheckedTable, inspection: pd.DataFrame) -> None:
    """A new violating finding under an inspection stored as finding none (see above)."""
    assert checked.status is not None
    if not (checked.open.iloc[0] and checked.status.iloc[0] == "insert") or inspection.empty:
        return
    violation = checked.typed["violation"].iloc[0]
    found = inspection["violation_found"].iloc[0]
    if violation == 1 and found == 0:
        checked.reject(checked.open, "violation_found_mismatch")


def _differing(checked: CheckedTable, stored: pd.DataFrame) -> tuple[str, ...]:
    """The content columns whose canonical text differs between the record and the store."""
    if stored.empty:
        return ()
    record = checked.typed.reset_index(drop=True)
    return tuple(
        name
        for name in content_columns(checked)
        if content_hash(record, [name])[0] != content_hash(stored.iloc[:1], [name])[0]
    )


def _json_values(frame: pd.DataFrame, table: Table) -> dict[str, Any]:
    """The first row's contract columns as JSON values (missing = None)."""
    row = frame.iloc[0]
    values: dict[str, Any] = {}
    for column in table.columns:
        value = row[column.name]
        if pd.isna(value):
            values[column.name] = None
        elif column.type in (ColumnType.INTEGER, ColumnType.FLAG):
            values[column.name] = int(value)
        elif column.type == ColumnType.NUMBER:
            values[column.name] = float(value)
        else:
            values[column.name] = str(value)
    return values
