"""The stages of `calle bench` that are not `calle` commands, one per process.

    python -m calle.bench.stage_worker features|score|rankings --work DIR [...]

The store and registry come from the environment (``CALLE_DATABASE_URL``,
``CALLE_MLFLOW_TRACKING_URI``) as for any `calle` command. Each stage writes what it measured
to ``DIR/<stage>.json``: rows, and seconds per step, timed inside the process so that
loading Python and the model is not counted as the step's work.

- ``features``: the store read into frames, then the feature matrix of every workplace as
  of the day after the last event (saved to ``DIR/features.parquet`` for the next stages).
- ``score``: the model's probabilities for every row of that matrix (encoding, every
  target's booster, compiled as `calle score` compiles it, and calibration), beside the
  limit measured in the same process: the raw LightGBM prediction of the same boosters on
  the same encoded matrix; the reasons (TreeSHAP) of a sample of rows, which times
  explaining one score (what the service pays for a score first read without them); the
  reasons `calle score` stores, those of the rankings read first (training.read_first); and
  the snapshot written to the store. ``--rows`` larger
  than the matrix repeats it under new employer ids (scoring cost does not depend on
  history, only on rows), which is how 5M workplaces are scored from a 1M-workplace world.
- ``rankings``: filtered top-100 rankings read from the snapshot through the service's own
  query (no HTTP, no cache), by every state, auto parts in every state, and each category.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calle.settings import Settings
from calle.store import open_store
from features.matrix import feature_matrix
from features.store_frames import load_frames
from models.compiled_forest import compiled_if_possible
from models.packaging import load_version
from training.read_first import office_areas, rows_read_first
from training.scoring import Snapshot, explain, rank_scores, store_snapshot

MODEL_NAME = "employer-risk"
DIRECTORY_COLUMNS = ["employer_id", "state", "municipality", "sector", "size_band"]


def features_stage(settings: Settings, work: Path) -> dict[str, Any]:
    engine = open_store(settings)
    try:
        started = time.perf_counter()
        frames = load_frames(engine)
        loaded = time.perf_counter()
        as_of = frames.last_event_day() + timedelta(days=1)
        matrix = feature_matrix(frames, as_of, settings.categories)
        built = time.perf_counter()
    finally:
        engine.dispose()
    matrix.to_parquet(work / "features.parquet")
    frames.employers[DIRECTORY_COLUMNS].to_parquet(work / "directory.parquet")
    return {
        "rows": len(matrix),
        "as_of": str(as_of),
        "columns": matrix.shape[1],
        "seconds": {"load": loaded - started, "features": built - loaded},
    }


def _repeated(frame: pd.DataFrame, rows: int, index: bool) -> pd.DataFrame:
    """``frame`` repeated to ``rows`` rows, the copies' employer ids suffixed ``~k``."""
    copies = -(-rows // len(frame))
    parts = []
    for k in range(copies):
        part = frame.copy()
        if k:
            if index:
                part.index = part.index.astype(str) + f"~{k}"
            else:
                part["employer_id"] = part["employer_id"].astype(str) + f"~{k}"
        parts.append(part)
    return pd.concat(parts).iloc[:rows]


def score_stage(
    settings: Settings, work: Path, version: str, rows: int | None, reasons_sample: int
) -> dict[str, Any]:
    model = load_version(settings.tracking_uri, MODEL_NAME, version)
    seconds: dict[str, float] = {}
    if settings.compiled_trees:  # as `calle score` scores: the boosters compiled (or cached)
        started = time.perf_counter()
        model = compiled_if_possible(model, settings.compiled_trees_dir)
        seconds["compile"] = time.perf_counter() - started
    features = pd.read_parquet(work / "features.parquet")
    directory = pd.read_parquet(work / "directory.parquet")
    if rows is not None and rows != len(features):
        features = _repeated(features, rows, index=True)
        directory = _repeated(directory, rows, index=False)

    started = time.perf_counter()
    probabilities = model.predict(features)
    seconds["predict"] = time.perf_counter() - started

    encoded = model.encoded(features)
    started = time.perf_counter()
    for target in model.targets.values():
        if target.booster is not None:
            target.booster.predict(encoded, num_iteration=target.best_iteration, raw_score=True)
    seconds["raw_lightgbm"] = time.perf_counter() - started
    del encoded

    sample = features.sample(min(reasons_sample, len(features)), random_state=0)
    started = time.perf_counter()
    explain(model, sample)
    seconds["reasons_sample"] = time.perf_counter() - started

    scores = rank_scores(probabilities)
    # what `calle score` explains before it writes: the rankings planners read first
    chosen = rows_read_first(
        scores,
        directory.set_index("employer_id").loc[scores.index.astype(str)],
        office_areas(settings),
        settings.snapshot_reasons_top,
    )
    started = time.perf_counter()
    reasons = explain(model, features, chosen)
    seconds["reasons_read_first"] = time.perf_counter() - started
    snapshot = Snapshot(
        snapshot_id=f"bench-{uuid.uuid4().hex[:8]}",
        model_name=MODEL_NAME,
        model_version=version,
        as_of=pd.Timestamp.today().date(),
        scores=scores,
        reasons=reasons,
    )
    engine = open_store(settings)
    try:
        started = time.perf_counter()
        store_snapshot(engine, snapshot, directory)
        seconds["snapshot_write"] = time.perf_counter() - started
    finally:
        engine.dispose()
    return {
        "rows": len(features),
        "targets": len(model.targets),
        "reasons_rows": len(sample),
        "read_first_rows": sum(len(rows) for rows in chosen.values()),
        "snapshot_rows": len(scores),
        "seconds": seconds,
    }


def rankings_stage(settings: Settings) -> dict[str, Any]:
    # imported here: the other stages need none of the service
    from service.rankings import ranking_page
    from service.read_cache import ServiceCaches
    from service.reasons_on_read import stored_reasons_only
    from service.snapshots import SERVED_MODEL, latest_snapshot

    fresh = settings.model_copy(update={"read_cache_seconds": 0, "key_cache_seconds": 0})
    caches = ServiceCaches.from_settings(fresh)
    engine = open_store(settings)
    try:
        with engine.connect() as connection:
            snapshot = latest_snapshot(connection, SERVED_MODEL)
        if snapshot is None:
            raise SystemExit("no snapshot to rank from: run the score stage first")
        queries = [{"state": s} for s in settings.region_codes]
        queries += [{"state": s, "sector": "3363"} for s in settings.region_codes]
        queries += [{"category": c} for c in snapshot.targets]
        started = time.perf_counter()  # once per worker and snapshot, before the first page
        caches.ranked.get(engine, snapshot.snapshot_id, snapshot.targets)
        load_seconds = time.perf_counter() - started
        timings = []
        for query in queries:
            filters = {
                "state": None,
                "municipality": None,
                "sector": None,
                "size_band": None,
                "office": None,
                "category": "any",
                **query,
            }
            started = time.perf_counter()
            ranking_page(
                engine,
                caches,
                stored_reasons_only,
                settings.region_codes,
                filters,
                None,
                100,
                None,
                {},
            )
            timings.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return {
        "rows": len(timings),
        "seconds": {"queries": sum(timings), "load": load_seconds},
        "p50_ms": statistics.median(timings) * 1000,
        "p99_ms": float(np.quantile(timings, 0.99)) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=["features", "score", "rankings"])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--version", help="score: the registered version to score with")
    parser.add_argument("--rows", type=int, help="score: rows to score (default: the matrix's)")
    parser.add_argument("--reasons-sample", type=int, default=20_000)
    args = parser.parse_args()
    settings = Settings()
    if args.stage == "features":
        result = features_stage(settings, args.work)
    elif args.stage == "score":
        if not args.version:
            parser.error("score needs --version")
        result = score_stage(settings, args.work, args.version, args.rows, args.reasons_sample)
    else:
        result = rankings_stage(settings)
    (args.work / f"{args.stage}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
