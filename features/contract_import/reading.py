"""Reading one contract table from CSV or Parquet into canonical strings.

Every value is read as text first (``""`` = missing), whatever the file format, so the
same vectorised checks serve both formats and the rejects show values as they were
delivered. The frame's index is the row's line (CSV: header = line 1, first data row =
line 2; Parquet: 1-based row number). Columns outside the contract are never loaded:
that is how a complainant's name or phone stays out of memory, the store and the logs.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from features.contract import Table
from features.contract_import.errors import ContractError

log = logging.getLogger(__name__)

FORMATS: tuple[str, ...] = ("csv", "parquet")


@dataclass
class SourceTable:
    """One table as delivered: canonical strings indexed by line, plus what was left out."""

    table: Table
    path: Path
    rows: pd.DataFrame
    dropped_columns: list[str] = field(default_factory=list)
    #: Lines the CSV parser could not split into the header's columns.
    malformed_lines: list[int] = field(default_factory=list)

    @property
    def read(self) -> int:
        return len(self.rows) + len(self.malformed_lines)


def find_file(folder: Path, table: Table) -> Path | None:
    """The table's file in ``folder``; both formats at once is ambiguous and stops the import."""
    present = [folder / f"{table.name}.{fmt}" for fmt in FORMATS]
    present = [path for path in present if path.exists()]
    if len(present) > 1:
        names = " and ".join(path.name for path in present)
        raise ContractError(f"{table.name}: both {names} exist; ambiguous, keep one")
    if not present:
        if table.required:
            raise ContractError(f"{table.name}: required file {table.name}.csv/.parquet missing")
        return None
    return present[0]


def read_table(path: Path, table: Table) -> SourceTable:
    """Read ``path`` as ``table``, stopping on an unreadable file or a missing column."""
    header = _csv_header(path) if path.suffix == ".csv" else _parquet_header(path)
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise ContractError(f"{path.name}: column {duplicated[0]!r} appears more than once")
    kept = [name for name in header if _in_contract(table, name)]
    dropped = [name for name in header if not _in_contract(table, name)]
    for name in table.required_columns:
        if name not in kept:
            raise ContractError(f"{path.name}: required column {name!r} is missing")
    if path.suffix == ".csv":
        data, malformed = _read_csv(path, kept)
        lines = _csv_lines(data.num_rows, malformed)
    else:
        data, malformed = _read_parquet(path, kept), []
        lines = np.arange(1, data.num_rows + 1, dtype=np.int64)
    trimmed = pa.table({name: pc.utf8_trim_whitespace(data[name]) for name in kept})
    rows = trimmed.to_pandas()
    rows.index = pd.Index(lines, name="line")
    if dropped:
        log.info("%s: dropped columns outside the contract: %s", path.name, ", ".join(dropped))
    return SourceTable(table, path, rows, dropped, malformed)


def _in_contract(table: Table, name: str) -> bool:
    if name in table.column_names:
        return True
    return table.extra_prefix is not None and name.startswith(table.extra_prefix)


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ContractError(f"{path.name}: unreadable ({error})") from None
    if not header:
        raise ContractError(f"{path.name}: unreadable (no header row)")
    return [name.strip() for name in header]


def _parquet_header(path: Path) -> list[str]:
    try:
        return list(pq.read_schema(path).names)
    except (OSError, pa.ArrowException) as error:
        raise ContractError(f"{path.name}: unreadable ({error})") from None


def _read_csv(path: Path, columns: list[str]) -> tuple[pa.Table, list[int]]:
    """Parse with threads; if some rows have the wrong number of fields, parse again on one
    thread, the only way Arrow reports their line numbers (messy files pay, clean ones don't)."""
    malformed: list[int | None] = []

    def skip(row: pa_csv.InvalidRow) -> str:
        malformed.append(row.number)
        return "skip"

    def parse(use_threads: bool) -> pa.Table:
        return pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(use_threads=use_threads, block_size=1 << 24),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=skip),
            convert_options=pa_csv.ConvertOptions(
                include_columns=columns,
                column_types={name: pa.string() for name in columns},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        data = parse(use_threads=True)
        if malformed:
            malformed.clear()
            data = parse(use_threads=False)
    except (OSError, pa.ArrowException) as error:
        raise ContractError(f"{path.name}: unreadable ({error})") from None
    return data, sorted(int(line) for line in malformed if line is not None)


def _csv_lines(row_count: int, malformed: list[int]) -> np.ndarray:
    """File line of each parsed row: data starts at line 2 and skips the malformed lines."""
    lines = np.arange(2, row_count + 2, dtype=np.int64)
    if malformed:
        # kept rows before the j-th malformed line; every row at or after it moves down one
        kept_before = np.asarray(malformed, dtype=np.int64) - 2 - np.arange(len(malformed))
        lines += np.searchsorted(kept_before, np.arange(row_count), side="right")
    return lines


def _read_parquet(path: Path, columns: list[str]) -> pa.Table:
    try:
        data = pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as error:
        raise ContractError(f"{path.name}: unreadable ({error})") from None
    return pa.table({name: _as_text(data[name]) for name in columns})


def _as_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Typed Parquet values as the text a CSV would carry: ISO dates, 0/1 flags, '12' for 12.0."""
    kind = values.type
    if pa.types.is_dictionary(kind):
        values = values.cast(kind.value_type)
        kind = kind.value_type
    if pa.types.is_boolean(kind):
        values = values.cast(pa.int8())
    elif pa.types.is_timestamp(kind):
        values = pc.cast(values, pa.date32(), safe=False)
    return values.cast(pa.string()).fill_null("")
