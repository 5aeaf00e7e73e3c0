"""A snapshot's feature rows round-trip through the store's chunks on both engines, are
found by employer id across chunk boundaries, join the caller's transaction, and only each
model's newest snapshot keeps them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from calle.settings import Settings
from calle.store import open_store, schema, snapshot_features
from calle.store.snapshot_features import (
    ScoredFeatures,
    chunk_starts,
    drop_older_features,
    read_rows,
    write_features,
)

NUMERIC = ["violations_3y", "fines_total", "peer_rate"]
CATEGORICAL = ["sector2", "size_band"]


def snapshot_row(snapshot_id: str, model_name: str = "employer-risk") -> dict:
    return {
        "snapshot_id": snapshot_id,
        "model_name": model_name,
        "model_version": "1",
        "as_of": date(2026, 1, 1),
        "created_at": datetime.now(UTC),
        "employers": 0,
        "targets": json.dumps(["any"]),
    }


def scored_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """Feature rows as a feature matrix holds them: in no particular order, integer counts
    with missing values, floats with NaN, text with missing values and accents."""
    rng = np.random.default_rng(seed)
    ids = [f"E{i:07d}" for i in rng.permutation(n)]
    violations = pd.array(rng.integers(0, 9, n), dtype="Int64")
    violations[rng.random(n) < 0.2] = pd.NA
    fines = rng.normal(1e6, 3e5, n)
    fines[rng.random(n) < 0.3] = np.nan
    sector = pd.array(rng.choice(["33", "31", "Autopartes ñ"], n), dtype="string")
    sector[rng.random(n) < 0.1] = pd.NA
    return pd.DataFrame(
        {
            "violations_3y": violations,
            "fines_total": fines,
            "peer_rate": rng.random(n) * 1e-12,  # tiny values keep every bit
            "sector2": sector,
            "size_band": pd.array(rng.choice(["1-10", "251+"], n), dtype="string"),
            "unused": rng.random(n),
        },
        index=pd.Index(ids, name="employer_id"),
    )


def test_rows_round_trip_across_chunks_in_the_order_asked(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot_features, "CHUNK_ROWS", 7)
    monkeypatch.setattr(snapshot_features, "BLOCK_CHUNKS", 3)  # 21 rows per slice
    frame = scored_rows(50)
    engine = open_store(settings)
    try:
        with engine.begin() as connection:
            connection.execute(schema.score_snapshots.insert(), snapshot_row("S1"))
            written = write_features(connection, "S1", ScoredFeatures(frame, NUMERIC, CATEGORICAL))
        assert written == 8
        asked = ["E0000049", "E0000000", "E0000007", "E0000006", "A-unknown", "E9999999"]
        with engine.connect() as connection:
            starts = chunk_starts(connection, "S1")
            rows = read_rows(connection, "S1", starts, asked)
        assert starts == sorted(frame.index)[::7]
        assert rows.employer_ids == asked[:4]
        expected = frame.loc[asked[:4]]
        for name in NUMERIC:
            np.testing.assert_array_equal(
                rows.numeric[name], expected[name].to_numpy(np.float64, na_value=np.nan)
            )
        for name in CATEGORICAL:
            assert rows.categorical[name].tolist() == [
                None if pd.isna(v) else v for v in expected[name]
            ]
        assert set(rows.columns()) == set(NUMERIC + CATEGORICAL)  # "unused" is not kept
    finally:
        engine.dispose()


def test_a_snapshot_without_rows_finds_none(settings: Settings) -> None:
    engine = open_store(settings)
    try:
        with engine.connect() as connection:
            starts = chunk_starts(connection, "S1")
            rows = read_rows(connection, "S1", starts, ["E0000001"])
        assert starts == [] and rows.employer_ids == [] and rows.columns() == {}
    finally:
        engine.dispose()


def test_a_write_rolls_back_with_the_transaction(settings: Settings) -> None:
    engine = open_store(settings)
    try:
        with pytest.raises(RuntimeError), engine.begin() as connection:
            connection.execute(schema.score_snapshots.insert(), snapshot_row("S1"))
            write_features(connection, "S1", ScoredFeatures(scored_rows(20), NUMERIC, []))
            raise RuntimeError("interrupted")
        with engine.connect() as connection:
            chunks = schema.snapshot_feature_chunks
            assert connection.execute(sa.select(sa.func.count()).select_from(chunks)).scalar() == 0
    finally:
        engine.dispose()


def test_only_each_model_s_newest_snapshot_keeps_its_rows(settings: Settings) -> None:
    engine = open_store(settings)
    rows = ScoredFeatures(scored_rows(10), NUMERIC, CATEGORICAL)
    try:
        with engine.begin() as connection:
            for snapshot_id, model in (
                ("S1", "employer-risk"),
                ("S2", "employer-risk"),
                ("T1", "other"),
            ):
                connection.execute(
                    schema.score_snapshots.insert(), snapshot_row(snapshot_id, model)
                )
                write_features(connection, snapshot_id, rows)
            drop_older_features(connection, "employer-risk", "S2")
        with engine.connect() as connection:
            kept = {s: chunk_starts(connection, s) for s in ("S1", "S2", "T1")}
        assert kept["S1"] == [] and kept["S2"] and kept["T1"]
    finally:
        engine.dispose()
