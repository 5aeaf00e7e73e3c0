"""Cell checks: each value against its column's type, range and vocabulary, vectorised.

A row gets the reason of its first failing check (in column order), so every rejected
row carries exactly one stable code: ``missing_value:<col>``, ``bad_type:<col>``,
``out_of_range:<col>``, ``not_allowed:<col>``, ``future_date:<col>``,
``closed_before_opened``. A column where *no* non-empty value parses is not a row
problem but a wrong column, and stops the import — except for a single record (the HTTP
event intake, :mod:`features.contract_import.records`), where one bad value says nothing
about a column and is that record's ``bad_type:<col>``.

Typed values: text as ``str`` (missing = NA), integers and flags as ``Int64``, numbers as
``Float64``, dates as validated ISO text (ISO text sorts like dates, and compares to the
import day without parsing twice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from features.contract import Column, ColumnType
from features.contract_import.errors import ContractError
from features.contract_import.reading import SourceTable

_PATTERNS: dict[ColumnType, str] = {
    ColumnType.INTEGER: r"[+-]?\d+(?:\.0+)?",
    ColumnType.NUMBER: r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?",
    ColumnType.FLAG: r"[01](?:\.0+)?",
    ColumnType.DATE: r"\d{4}-\d{2}-\d{2}",
}

#: The store's INTEGER is 32-bit on PostgreSQL.
_STORE_INTEGER_LIMIT = 2**31


@dataclass
class CheckedTable:
    """The source rows, their typed values and, per row, the reason it is rejected (or NA)."""

    source: SourceTable
    typed: pd.DataFrame
    reason: pd.Series
    #: For accepted rows: "insert" (new to the store) or "present" (already stored as is);
    #: "" for rejected rows.
    status: pd.Series | None = None
    #: Rows repeating an earlier row of the file exactly (same key, same content).
    repeat: pd.Series | None = None

    @property
    def name(self) -> str:
        return self.source.table.name

    def reject(self, mask: pd.Series | np.ndarray, code: str) -> None:
        """Give ``code`` to the rows in ``mask`` that have no reason yet."""
        self.reason = self.reason.mask(np.asarray(mask) & self.reason.isna().to_numpy(), code)

    @property
    def open(self) -> pd.Series:
        """Rows not rejected so far."""
        return self.reason.isna()


def check_cells(
    source: SourceTable,
    vocabularies: Mapping[str, Sequence[str]],
    today: date,
    *,
    whole_columns: bool = True,
) -> CheckedTable:
    """Type every column of ``source`` and find each row's first cell problem.

    ``vocabularies`` maps column names to their allowed values beyond the contract's own
    (the installation's region codes and categories); an empty list allows any value.
    ``whole_columns=False`` never judges a column as a whole (no :class:`ContractError`):
    every unparsable value is its row's ``bad_type``.
    """
    rows = source.rows
    typed = pd.DataFrame(index=rows.index)
    reason = pd.Series(pd.NA, index=rows.index, dtype=object)
    checked = CheckedTable(source, typed, reason)
    today_iso = today.isoformat()
    for column in source.table.columns:
        if column.name not in rows:
            typed[column.name] = pd.Series(pd.NA, index=rows.index, dtype=_dtype(column.type))
            continue
        _check_column(checked, column, rows[column.name], vocabularies, today_iso, whole_columns)
    for name in rows.columns:
        if name not in source.table.column_names:  # extra attributes (attr_*) stay text
            typed[name] = rows[name].where(rows[name] != "")
    if {"opened_on", "closed_on"} <= set(typed.columns):
        closed, opened = typed["closed_on"], typed["opened_on"]
        checked.reject((closed < opened).fillna(False), "closed_before_opened")
    return checked


def _dtype(kind: ColumnType) -> str:
    return {
        ColumnType.INTEGER: "Int64",
        ColumnType.FLAG: "Int64",
        ColumnType.NUMBER: "Float64",
    }.get(kind, "str")


def _check_column(
    checked: CheckedTable,
    column: Column,
    values: pd.Series,
    vocabularies: Mapping[str, Sequence[str]],
    today_iso: str,
    whole_columns: bool,
) -> None:
    name = column.name
    present = values != ""
    if column.required:
        checked.reject(~present, f"missing_value:{name}")
    if column.type == ColumnType.TEXT:
        typed = values.where(present)
        parsed = present
    else:
        typed, parsed = _parse(values, column.type, present)
        unparsed = present & ~parsed
        if whole_columns and present.any() and not parsed.any():
            example = values[present].iloc[0]
            raise ContractError(
                f"{checked.source.path.name}: column {name!r} is not of type "
                f"{column.type.value} (no value parses, e.g. {example!r})"
            )
        checked.reject(unparsed, f"bad_type:{name}")
    if column.minimum is not None:
        checked.reject(parsed & (typed < column.minimum).fillna(False), f"out_of_range:{name}")
    if column.maximum is not None:
        checked.reject(parsed & (typed > column.maximum).fillna(False), f"out_of_range:{name}")
    allowed = list(column.allowed or ()) or list(vocabularies.get(name, ()))
    if allowed:
        checked.reject(parsed & ~values.isin(allowed), f"not_allowed:{name}")
    if column.type == ColumnType.DATE:
        checked.reject(parsed & (typed > today_iso).fillna(False), f"future_date:{name}")
    checked.typed[name] = typed


def _parse(values: pd.Series, kind: ColumnType, present: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Typed values (NA where unparsed) and the mask of values that parsed."""
    shaped = present & values.str.fullmatch(_PATTERNS[kind]).fillna(False).astype(bool)
    if kind == ColumnType.DATE:
        # the pattern admits 2019-02-30; a real calendar date survives the round trip
        days = pd.to_datetime(values.where(shaped), format="%Y-%m-%d", errors="coerce")
        parsed = shaped & days.notna()
        return values.where(parsed), parsed
    numbers = pd.to_numeric(values.where(shaped), errors="coerce")
    parsed = shaped & np.isfinite(numbers.astype("float64").fillna(np.nan))
    if kind == ColumnType.NUMBER:
        return numbers.where(parsed).astype("Float64"), parsed
    parsed &= numbers.abs() < _STORE_INTEGER_LIMIT  # beyond it the store cannot hold it
    return numbers.where(parsed).astype("float64").round().astype("Int64"), parsed
