"""A snapshot's scores in the store: one row per workplace, kept as compressed Arrow chunks.

Why not a SQL row per workplace and target: at national scale (5M workplaces, 6 targets)
that is 30M rows under ranking indexes, minutes to write on two cores, while the product's
target is two minutes for rescoring and writing everything. A snapshot never changes once
written and is read whole (the service ranks it in memory, :mod:`service.ranked_snapshot`;
plans and hit rates read a few of its columns), so it is stored as what it is read into:
Arrow record batches, zstd-compressed, ``CHUNK_ROWS`` workplaces per store row. Reasons,
explained for a few scores and added when read, live in ``snapshot_reasons``.

Columns: ``employer_id``, the directory's ``state``, ``municipality``, ``sector`` and
``size_band`` when scored (for filtered rankings), and per target ``p_<target>`` (the
probability) and ``rank_<target>`` (1 = riskiest; ties go to the smaller employer id).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import sqlalchemy as sa

from calle.store import schema

#: Workplaces per stored chunk: about 20 MB compressed, so no single value nears a
#: database's limit on one field (1 GB in both engines) however large the country.
CHUNK_ROWS = 500_000

#: The directory columns stored beside the scores, for filtered rankings.
DIRECTORY_COLUMNS = ("state", "municipality", "sector", "size_band")

_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")


def score_schema(targets: Sequence[str]) -> pa.Schema:
    fields = [pa.field("employer_id", pa.string(), nullable=False)]
    fields += [pa.field(column, pa.string()) for column in DIRECTORY_COLUMNS]
    for target in targets:
        fields.append(pa.field(f"p_{target}", pa.float64(), nullable=False))
        fields.append(pa.field(f"rank_{target}", pa.int32(), nullable=False))
    return pa.schema(fields)


def write_scores(connection: sa.Connection, snapshot_id: str, scores: pa.Table) -> int:
    """Store ``scores`` (columns as :func:`score_schema`) as the snapshot's chunks; returns
    the number of chunks. Joins the caller's transaction."""
    chunks = [
        {
            "snapshot_id": snapshot_id,
            "chunk": number,
            "rows": batch.num_rows,
            "arrow": ipc_bytes(batch),
        }
        for number, batch in enumerate(_slices(scores))
    ]
    for chunk in chunks:  # one at a time: a driver need not hold every chunk's parameters
        connection.execute(schema.snapshot_score_chunks.insert(), chunk)
    return len(chunks)


def read_scores(
    connection: sa.Connection, snapshot_id: str, columns: Sequence[str] | None = None
) -> pa.Table:
    """The snapshot's scores in the order written (the ``columns`` asked, or all); an empty
    table with no columns for a snapshot that has none."""
    chunks = schema.snapshot_score_chunks
    result = connection.execute(
        sa.select(chunks.c.arrow)
        .where(chunks.c.snapshot_id == snapshot_id)
        .order_by(chunks.c.chunk)
    )
    tables = []
    for (data,) in result:
        table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
        tables.append(table if columns is None else table.select(list(columns)))
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables)


def _slices(scores: pa.Table) -> list[pa.Table]:
    if scores.num_rows == 0:
        return [scores]
    return [scores.slice(start, CHUNK_ROWS) for start in range(0, scores.num_rows, CHUNK_ROWS)]


def ipc_bytes(table: pa.Table) -> bytes:
    """``table`` as one zstd-compressed Arrow IPC stream, as the store keeps it."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_IPC_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()
