"""Deterministic file writing: same table, same bytes, in CSV or Parquet.

CSV is written by Arrow without quoting (the generator never produces a comma, quote
or newline inside a value, which is checked), with a plain header line, ISO dates and
empty cells for missing values. Parquet is written without timestamps in its metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS: tuple[str, ...] = ("csv", "parquet")
_CSV_SPECIALS = r'[,"\n\r]'


def _check_csv_safe(table: pa.Table) -> None:
    for name in table.column_names:
        column = table.column(name)
        if (
            pa.types.is_string(column.type)
            and pc.any(pc.match_substring_regex(column, _CSV_SPECIALS)).as_py()
        ):
            raise ValueError(f"column {name!r} holds a comma, quote or newline; unsafe for CSV")


def write_table(table: pa.Table, folder: Path, stem: str, file_format: str) -> Path:
    """Write ``table`` as ``folder/stem.csv`` or ``folder/stem.parquet``; return the path."""
    if file_format not in FORMATS:
        raise ValueError(f"file format must be one of {FORMATS}, got {file_format!r}")
    path = folder / f"{stem}.{file_format}"
    if file_format == "csv":
        _check_csv_safe(table)
        with path.open("wb") as sink:
            sink.write((",".join(table.column_names) + "\n").encode("utf-8"))
            pacsv.write_csv(
                table,
                sink,
                pacsv.WriteOptions(include_header=False, quoting_style="none"),
            )
    else:
        pq.write_table(table, path, compression="zstd")
    return path


def write_json(values: dict[str, object], path: Path) -> None:
    """Sorted keys and a final newline, so that the same figures give the same bytes."""
    path.write_text(json.dumps(values, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
