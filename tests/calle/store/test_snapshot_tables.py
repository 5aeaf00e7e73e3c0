"""A snapshot's scores round-trip through the store's chunks, on both engines, in the
caller's transaction; migration 0010 converts snapshots stored a row per score."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from calle.settings import Settings
from calle.store import open_store, schema, snapshot_tables
from calle.store.migrate import alembic_config
from calle.store.snapshot_tables import read_scores, score_schema, write_scores
from tests.snapshot_scores import TARGETS, scores_of


def snapshot_row(snapshot_id: str, n: int) -> dict:
    return {
        "snapshot_id": snapshot_id,
        "model_name": "employer-risk",
        "model_version": "1",
        "as_of": date(2026, 1, 1),
        "created_at": datetime.now(UTC),
        "employers": n,
        "targets": json.dumps(TARGETS),
    }


def test_scores_round_trip_in_chunks_and_by_column(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot_tables, "CHUNK_ROWS", 400)
    scores = scores_of(1_000)
    engine = open_store(settings)
    try:
        with engine.begin() as connection:
            connection.execute(schema.score_snapshots.insert(), snapshot_row("S1", 1_000))
            assert write_scores(connection, "S1", scores) == 3
        with engine.connect() as connection:
            assert read_scores(connection, "S1").equals(scores)
            picked = read_scores(connection, "S1", ["employer_id", "p_any"])
            assert picked.equals(scores.select(["employer_id", "p_any"]))
            assert read_scores(connection, "unknown").num_rows == 0
    finally:
        engine.dispose()


def test_a_snapshot_of_no_workplaces_keeps_its_columns(settings: Settings) -> None:
    engine = open_store(settings)
    try:
        with engine.begin() as connection:
            connection.execute(schema.score_snapshots.insert(), snapshot_row("S0", 0))
            write_scores(connection, "S0", score_schema(TARGETS).empty_table())
        with engine.connect() as connection:
            back = read_scores(connection, "S0")
        assert back.num_rows == 0 and back.schema.equals(score_schema(TARGETS))
    finally:
        engine.dispose()


def test_a_write_rolls_back_with_the_transaction(settings: Settings) -> None:
    engine = open_store(settings)
    try:
        with pytest.raises(RuntimeError), engine.begin() as connection:
            connection.execute(schema.score_snapshots.insert(), snapshot_row("S1", 10))
            write_scores(connection, "S1", scores_of(10))
            raise RuntimeError("interrupted")
        with engine.connect() as connection:
            chunks = schema.snapshot_score_chunks
            assert connection.execute(sa.select(sa.func.count()).select_from(chunks)).scalar() == 0
    finally:
        engine.dispose()


def test_migration_0010_converts_snapshots_stored_a_row_per_score(settings: Settings) -> None:
    """A store at 0009 with long rows: after the upgrade, the same scores, directory entries
    and reasons, read through the new tables."""
    engine = sa.create_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0009")
        scores = scores_of(30)
        long_rows = []
        for target in TARGETS:
            for row in scores.to_pylist():
                long_rows.append(
                    {
                        "snapshot_id": "OLD",
                        "target": target,
                        "employer_id": row["employer_id"],
                        "probability": row[f"p_{target}"],
                        "rank": row[f"rank_{target}"],
                        "percentile": 0.0,
                        "reasons": '[{"feature": "x"}]' if row[f"rank_{target}"] <= 3 else None,
                        **{c: row[c] for c in snapshot_tables.DIRECTORY_COLUMNS},
                    }
                )
        old = sa.table("snapshot_scores", *(sa.column(c) for c in long_rows[0]))
        with engine.begin() as connection:
            connection.execute(schema.score_snapshots.insert(), snapshot_row("OLD", 30))
            connection.execute(old.insert(), long_rows)
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
        with engine.connect() as connection:
            back = read_scores(connection, "OLD")
            reasons = connection.execute(
                sa.select(schema.snapshot_reasons.c.target, schema.snapshot_reasons.c.employer_id)
            ).all()
            tables = set(sa.inspect(connection).get_table_names())
        assert back.sort_by("employer_id").equals(scores.sort_by("employer_id"))
        top = {
            (t, r["employer_id"])
            for t in TARGETS
            for r in scores.to_pylist()
            if r[f"rank_{t}"] <= 3
        }
        assert set(reasons) == top and len(reasons) == 6
        assert "snapshot_scores" not in tables

        with engine.begin() as connection:  # and back: the same long rows, reasons included
            command.downgrade(alembic_config(connection), "0009")
        with engine.connect() as connection:
            again = [
                dict(r._mapping)
                for r in connection.execute(
                    sa.select(old).order_by(sa.column("target"), sa.column("employer_id"))
                )
            ]
        expected = sorted(long_rows, key=lambda r: (r["target"], r["employer_id"]))
        for row in expected:
            row["percentile"] = 100.0 * (30 - row["rank"]) / 30
        assert again == expected
    finally:
        engine.dispose()
