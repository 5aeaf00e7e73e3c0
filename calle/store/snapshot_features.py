"""The feature rows a snapshot scored, kept so the service explains any score on first read.

A score `calle score` did not explain is explained when first read, from the workplace's
features as of the snapshot's date. Recomputing them from its records took 24 of a first
read's 32 ms of work at 1M workplaces (the population's feature code run over one
workplace), so `calle score` keeps the rows it scored: sorted by employer id, ``CHUNK_ROWS``
workplaces per store row, as zstd-compressed Arrow with the numeric features as one
fixed-size list per workplace (one buffer to decompress, not ninety) and the categorical
ones as text. Measured on the 1M world: 76 bytes per workplace, 4.5 s to write a million,
half a millisecond to read one workplace's row.

Only each model's newest snapshot keeps its rows (the service explains only the latest
snapshot; a snapshot without rows is explained from the store's records, as before), so
the store holds one set, not one per day scored.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from calle.store import schema
from calle.store.snapshot_tables import ipc_bytes

#: Workplaces per stored chunk: reading one workplace decompresses its chunk (0.5 ms at
#: 512; 256 cost 9% more space, 1,024 twice the time).
CHUNK_ROWS = 512

#: Chunks built from one slice of the frame at a time (32,768 workplaces at 512).
BLOCK_CHUNKS = 64

_NUMERIC = "numeric"
_NAMES_KEY = b"calle.numeric_names"


@dataclass(frozen=True)
class ScoredFeatures:
    """The feature rows a snapshot scored (``frame``, indexed by employer id) and the model
    inputs among its columns."""

    frame: pd.DataFrame
    numeric: list[str]
    categorical: list[str]


@dataclass(frozen=True)
class FeatureRows:
    """Some workplaces' stored feature rows: numeric features as floats (NaN: missing),
    categorical ones as text (None: missing)."""

    employer_ids: list[str]
    numeric: dict[str, np.ndarray]
    categorical: dict[str, np.ndarray]

    def columns(self) -> dict[str, np.ndarray]:
        return {**self.numeric, **self.categorical}


def feature_columns(
    frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
) -> dict[str, np.ndarray]:
    """``frame``'s features as they are stored and read back: numeric ones as floats (NaN:
    missing), categorical ones as text (None: missing)."""
    return {
        **{name: frame[name].to_numpy(dtype=np.float64, na_value=np.nan) for name in numeric},
        **{
            name: frame[name].astype("string").to_numpy(dtype=object, na_value=None)
            for name in categorical
        },
    }


def write_features(connection: sa.Connection, snapshot_id: str, scored: ScoredFeatures) -> int:
    """Store the rows as the snapshot's feature chunks; returns the number of chunks. Joins
    the caller's transaction."""
    frame = scored.frame
    ids = frame.index.astype(str).to_numpy(dtype=object)
    order = np.argsort(ids, kind="stable")  # Python's order of strings, as bisect's
    metadata = {_NAMES_KEY: json.dumps(scored.numeric).encode()}
    block_rows = CHUNK_ROWS * BLOCK_CHUNKS
    chunk = 0
    for block_start in range(0, len(frame), block_rows):
        # a block of chunks at a time: a national population's float matrix whole would be
        # gigabytes on top of the frame
        rows = order[block_start : block_start + block_rows]
        columns = feature_columns(frame.iloc[rows], scored.numeric, scored.categorical)
        numeric = (
            np.column_stack([columns[name] for name in scored.numeric])
            if scored.numeric
            else np.empty((len(rows), 0))
        )
        block_ids = ids[rows]
        for start in range(0, len(rows), CHUNK_ROWS):
            end = min(start + CHUNK_ROWS, len(rows))
            table = pa.table(
                {
                    "employer_id": pa.array(block_ids[start:end], pa.string()),
                    _NUMERIC: pa.FixedSizeListArray.from_arrays(
                        pa.array(numeric[start:end].ravel(), pa.float64()), len(scored.numeric)
                    ),
                    **{
                        name: pa.array(columns[name][start:end], pa.string())
                        for name in scored.categorical
                    },
                }
            ).replace_schema_metadata(metadata)
            connection.execute(
                schema.snapshot_feature_chunks.insert(),
                {
                    "snapshot_id": snapshot_id,
                    "chunk": chunk,
                    "first_employer_id": block_ids[start],
                    "rows": end - start,
                    "arrow": ipc_bytes(table),
                },
            )
            chunk += 1
    return chunk


def chunk_starts(connection: sa.Connection, snapshot_id: str) -> list[str]:
    """The first employer id of each of the snapshot's feature chunks, in chunk order; empty
    when it keeps none."""
    chunks = schema.snapshot_feature_chunks
    return list(
        connection.execute(
            sa.select(chunks.c.first_employer_id)
            .where(chunks.c.snapshot_id == snapshot_id)
            .order_by(chunks.c.chunk)
        ).scalars()
    )


def chunks_holding(starts: Sequence[str], employer_ids: Iterable[str]) -> dict[int, list[str]]:
    """Which chunk (by :func:`chunk_starts`) would hold each id: {chunk: ids}."""
    out: dict[int, list[str]] = {}
    for employer_id in employer_ids:
        chunk = bisect.bisect_right(starts, employer_id) - 1
        if chunk >= 0:
            out.setdefault(chunk, []).append(employer_id)
    return out


def read_rows(
    connection: sa.Connection, snapshot_id: str, starts: Sequence[str], employer_ids: list[str]
) -> FeatureRows:
    """The stored rows of those of ``employer_ids`` the snapshot kept, in the order asked;
    ``starts`` is :func:`chunk_starts` of the snapshot."""
    wanted = chunks_holding(starts, employer_ids)
    chunks = schema.snapshot_feature_chunks
    found: dict[str, tuple[pa.Table, int]] = {}
    if wanted:
        blobs = connection.execute(
            sa.select(chunks.c.chunk, chunks.c.arrow).where(
                chunks.c.snapshot_id == snapshot_id, chunks.c.chunk.in_(sorted(wanted))
            )
        )
        for chunk, blob in blobs:
            table = pa.ipc.open_stream(pa.py_buffer(blob)).read_all()
            asked = wanted[chunk]
            rows = pc.index_in(pa.array(asked, pa.string()), value_set=table.column("employer_id"))
            for employer_id, row in zip(asked, rows.to_pylist(), strict=True):
                if row is not None:
                    found[employer_id] = (table, row)
    kept = [e for e in employer_ids if e in found]
    return _rows(kept, [found[e] for e in kept])


def drop_older_features(connection: sa.Connection, model_name: str, snapshot_id: str) -> None:
    """Remove the feature rows of ``model_name``'s snapshots other than ``snapshot_id``."""
    snapshots, chunks = schema.score_snapshots, schema.snapshot_feature_chunks
    older = sa.select(snapshots.c.snapshot_id).where(
        snapshots.c.model_name == model_name, snapshots.c.snapshot_id != snapshot_id
    )
    connection.execute(chunks.delete().where(chunks.c.snapshot_id.in_(older)))


def _rows(employer_ids: list[str], located: list[tuple[pa.Table, int]]) -> FeatureRows:
    if not located:
        return FeatureRows([], {}, {})
    first = located[0][0]
    names = json.loads(first.schema.metadata[_NAMES_KEY])
    categorical_names = [n for n in first.column_names if n not in ("employer_id", _NUMERIC)]
    numeric = np.empty((len(located), len(names)), dtype=np.float64)
    categorical = {name: np.empty(len(located), dtype=object) for name in categorical_names}
    flat: dict[int, np.ndarray] = {}  # each chunk's numeric block, decoded once
    for i, (table, row) in enumerate(located):
        if id(table) not in flat:
            block = table.column(_NUMERIC).combine_chunks().flatten()
            flat[id(table)] = block.to_numpy(zero_copy_only=False).reshape(-1, len(names))
        numeric[i] = flat[id(table)][row]
        for name in categorical_names:
            categorical[name][i] = table.column(name)[row].as_py()
    return FeatureRows(
        employer_ids,
        {name: numeric[:, j] for j, name in enumerate(names)},
        categorical,
    )
